//! The SAML 2.0 service provider, as the core sees it: keys and certificates of a connection,
//! the AuthnRequest sent to the IdP, the SP metadata, the IdP's metadata read from a URL, and the
//! verification of a SAMLResponse. The implementation is an adapter in the binary on a maintained
//! XML-signature library (samael with libxmlsec1); the core never parses XML or signs anything.

use crate::error::{CoreError, CoreResult};
use serde_json::{Map, Value};

/// A generated or uploaded RSA key with the self-signed certificate Latch made for it.
#[derive(Debug, Clone)]
pub struct KeyWithCertificate {
    /// PKCS#1 PEM ("BEGIN RSA PRIVATE KEY").
    pub private_key_pem: String,
    pub certificate_pem: String,
    /// The key's public half (SubjectPublicKeyInfo PEM), safe to show.
    pub public_key_pem: String,
    pub not_after_secs: i64,
}

/// What an X.509 certificate says about itself.
#[derive(Debug, Clone)]
pub struct CertificateInfo {
    /// Re-encoded PEM (one canonical form, so the same certificate is recognised twice).
    pub pem: String,
    pub issuer: String,
    pub not_before_secs: i64,
    pub not_after_secs: i64,
}

/// The IdP values read from its metadata document.
#[derive(Debug, Clone, Default)]
pub struct IdpMetadata {
    pub entity_id: String,
    pub sso_url: String,
    /// Signing certificates (PEM).
    pub certificates: Vec<String>,
}

/// Latch as the service provider of one connection, with what it trusts of the IdP.
#[derive(Debug, Clone)]
pub struct ServiceProvider<'a> {
    /// Audiences accepted in an assertion: `audience_uri`, and `alternative_audience_uri` when set.
    pub audiences: Vec<&'a str>,
    /// Recipients/destinations accepted: `acs_url`, and `alternative_acs_url` when set.
    pub acs_urls: Vec<&'a str>,
    pub idp_entity_id: &'a str,
    /// PEM certificates the IdP signs with.
    pub verification_certificates: Vec<&'a str>,
    /// PKCS#1 PEM keys that decrypt encrypted assertions.
    pub decryption_keys: Vec<&'a str>,
    /// The AuthnRequest this response must answer (SP-initiated); `None` accepts only an
    /// unsolicited (IdP-initiated) response, one that answers no request.
    pub request_id: Option<&'a str>,
}

/// An AuthnRequest to send the browser with (HTTP-Redirect binding).
pub struct AuthnRequest<'a> {
    pub id: &'a str,
    pub idp_sso_url: &'a str,
    pub issuer: &'a str,
    pub acs_url: &'a str,
    pub nameid_format: &'a str,
    pub relay_state: &'a str,
    /// PKCS#1 PEM key the request is signed with.
    pub signing_key_pem: &'a str,
}

/// SP metadata: who Latch is for this connection and where the IdP answers.
pub struct SpMetadata<'a> {
    pub entity_id: &'a str,
    pub acs_url: &'a str,
    pub nameid_format: &'a str,
    pub signing_certificate_pem: &'a str,
    pub encryption_certificates_pem: Vec<&'a str>,
}

/// A verified assertion: what the IdP vouched for.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedAssertion {
    pub assertion_id: String,
    /// From the bearer SubjectConfirmationData; `None` for an IdP-initiated login.
    pub in_response_to: Option<String>,
    pub name_id: String,
    pub name_id_format: Option<String>,
    /// Attribute name → its values (several for a multi-valued attribute such as groups).
    pub attributes: Map<String, Value>,
    /// Until when the assertion (or its subject confirmation) is valid, in seconds; the replay
    /// cache keeps its id at least that long.
    pub valid_until_secs: Option<i64>,
}

/// Why a SAMLResponse was refused (each maps to one of Stytch's error types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Neither the response nor an assertion carries a signature.
    MissingSignature,
    /// No signature verified with a configured certificate and an allowed algorithm, or the
    /// signed content is not the content read (wrapping).
    InvalidSignature(String),
    Audience(String),
    Expired(String),
    NotYetValid(String),
    /// It answers a request other than the one expected (or any request, when none was sent).
    Unsolicited(String),
    /// Anything else: malformed, wrong issuer, recipient or destination, failed status.
    Invalid(String),
}

#[async_trait::async_trait]
pub trait SamlProvider: Send + Sync + 'static {
    /// Fetches the IdP's metadata document (bounded in size and time); `Err(reason)` when it
    /// cannot be read.
    async fn fetch_metadata(&self, url: &str) -> Result<String, String>;
    /// A new RSA key and a self-signed certificate for it, to sign AuthnRequests.
    fn generate_signing_key(&self, common_name: &str) -> CoreResult<KeyWithCertificate>;
    /// A self-signed certificate for an uploaded PKCS#1 RSA key; `Err(reason)` when the text is
    /// not such a key.
    fn certify_key(&self, private_key_pem: &str, common_name: &str) -> Result<KeyWithCertificate, String>;
    /// Reads a PEM certificate (the IdP's); `Err(reason)` when it is not one.
    fn read_certificate(&self, pem: &str) -> Result<CertificateInfo, String>;
    /// The IdP URL with the signed, deflated AuthnRequest and relay state.
    fn authn_request_url(&self, request: &AuthnRequest<'_>) -> CoreResult<String>;
    fn sp_metadata(&self, sp: &SpMetadata<'_>) -> CoreResult<String>;
    /// Parses IdP metadata; `Err(reason)` when it is not an IdP's metadata document.
    fn read_idp_metadata(&self, xml: &str) -> Result<IdpMetadata, String>;
    /// Verifies a base64 SAMLResponse (signature with a configured certificate, issuer,
    /// audience, recipient and destination, validity window) and decrypts an encrypted assertion.
    /// InResponseTo must be `sp.request_id` (or absent when that is `None`); replay is the
    /// caller's record.
    fn verify_response(&self, sp: &ServiceProvider<'_>, saml_response: &str) -> Result<VerifiedAssertion, Refusal>;
}

/// For a node without SAML support (unit tests, tools): every use is refused.
pub struct NoSaml;

fn no_saml() -> CoreError {
    CoreError::internal("this node has no SAML service provider")
}

#[async_trait::async_trait]
impl SamlProvider for NoSaml {
    async fn fetch_metadata(&self, _: &str) -> Result<String, String> {
        Err("this node has no SAML service provider".into())
    }
    fn generate_signing_key(&self, _: &str) -> CoreResult<KeyWithCertificate> {
        Err(no_saml())
    }
    fn certify_key(&self, _: &str, _: &str) -> Result<KeyWithCertificate, String> {
        Err("this node has no SAML service provider".into())
    }
    fn read_certificate(&self, _: &str) -> Result<CertificateInfo, String> {
        Err("this node has no SAML service provider".into())
    }
    fn authn_request_url(&self, _: &AuthnRequest<'_>) -> CoreResult<String> {
        Err(no_saml())
    }
    fn sp_metadata(&self, _: &SpMetadata<'_>) -> CoreResult<String> {
        Err(no_saml())
    }
    fn read_idp_metadata(&self, _: &str) -> Result<IdpMetadata, String> {
        Err("this node has no SAML service provider".into())
    }
    fn verify_response(&self, _: &ServiceProvider<'_>, _: &str) -> Result<VerifiedAssertion, Refusal> {
        Err(Refusal::Invalid("this node has no SAML service provider".into()))
    }
}
