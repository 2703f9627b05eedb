//! SAML connections as stored and as they go on the wire (sso.md#samlconnection): Latch is the
//! service provider, the organization's IdP posts signed assertions to the connection's ACS URL.

use crate::clock::Timestamp;
use crate::ids::{OrganizationId, ProjectId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const DEFAULT_NAMEID_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// Stytch's limit of IdP certificates per connection.
pub const MAX_VERIFICATION_CERTIFICATES: usize = 5;

/// An X.509 certificate of a connection (sso.md#x509certificate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct X509Certificate {
    pub certificate_id: String,
    pub certificate: String,
    pub issuer: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A key that decrypts encrypted assertions; its private half lives in `SamlSecrets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncryptionKey {
    pub private_key_id: String,
    pub public_key_pem: String,
    /// The self-signed certificate published in the SP metadata for the IdP to encrypt to.
    pub certificate_pem: String,
    pub created_at: Timestamp,
}

/// `SAMLConnectionImplicitRoleAssignment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionRole {
    pub role_id: String,
}

/// `SAMLGroupImplicitRoleAssignment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRole {
    pub role_id: String,
    pub group: String,
}

/// Everything of a connection that is not secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamlConfig {
    pub display_name: String,
    pub identity_provider: String,
    pub idp_entity_id: String,
    pub idp_sso_url: String,
    pub attribute_mapping: Map<String, Value>,
    pub nameid_format: String,
    pub alternative_audience_uri: String,
    pub alternative_acs_url: String,
    pub idp_initiated_auth_disabled: bool,
    pub allow_gateway_callback: bool,
    pub connection_roles: Vec<ConnectionRole>,
    pub group_roles: Vec<GroupRole>,
    pub signing_certificate: X509Certificate,
    pub verification_certificates: Vec<X509Certificate>,
    pub encryption_keys: Vec<EncryptionKey>,
}

/// The private keys (sealed at rest).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SamlSecrets {
    /// PKCS#1 PEM of the key AuthnRequests are signed with.
    pub signing_private_key: String,
    /// PKCS#1 PEM by `private_key_id`.
    pub encryption_private_keys: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SamlConnectionRecord {
    pub connection_id: String,
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub config: SamlConfig,
    pub secrets: SamlSecrets,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SamlConnectionRecord {
    /// Active once the IdP's values are all set (sso.md: entity id, SSO URL, a certificate and
    /// an attribute mapping that names the email attribute).
    pub fn is_active(&self) -> bool {
        let c = &self.config;
        !c.idp_entity_id.is_empty()
            && !c.idp_sso_url.is_empty()
            && !c.verification_certificates.is_empty()
            && c.attribute_mapping
                .get("email")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
    }

    pub fn status(&self) -> &'static str {
        if self.is_active() {
            "active"
        } else {
            "pending"
        }
    }

    pub fn decryption_keys(&self) -> Vec<&str> {
        self.secrets
            .encryption_private_keys
            .values()
            .filter_map(Value::as_str)
            .collect()
    }
}

/// `EncryptionPrivateKey` on the wire: the key's public half, never the private key.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EncryptionPrivateKey<'a> {
    pub private_key_id: &'a str,
    pub private_key: &'a str,
    pub created_at: Timestamp,
}

/// The wire object (sso.md#samlconnection).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SamlConnection<'a> {
    pub organization_id: &'a str,
    pub connection_id: &'a str,
    pub status: &'static str,
    pub idp_entity_id: &'a str,
    pub display_name: &'a str,
    pub idp_sso_url: &'a str,
    pub acs_url: String,
    pub audience_uri: String,
    pub signing_certificates: Vec<&'a X509Certificate>,
    pub verification_certificates: &'a [X509Certificate],
    pub encryption_private_keys: Vec<EncryptionPrivateKey<'a>>,
    pub saml_connection_implicit_role_assignments: &'a [ConnectionRole],
    pub saml_group_implicit_role_assignments: &'a [GroupRole],
    pub alternative_audience_uri: &'a str,
    pub identity_provider: &'a str,
    pub nameid_format: &'a str,
    pub alternative_acs_url: &'a str,
    pub idp_initiated_auth_disabled: bool,
    pub allow_gateway_callback: bool,
    pub attribute_mapping: &'a Map<String, Value>,
}

/// A role a member holds through a SAML connection (`sso_connection`, or with its group
/// `sso_connection_group`), as of its last sign-in there. It counts for authorization only in a
/// session with a factor of that connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoRoleGrant {
    pub role_id: String,
    pub connection_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}
