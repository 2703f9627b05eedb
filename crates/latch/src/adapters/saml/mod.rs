//! The SAML 2.0 service provider on `samael` with libxmlsec1: XML signatures are verified by
//! xmlsec against the connection's certificates only (never a key the response carries), and the
//! response is reduced to what the signature covers before anything is read from it, which is
//! what defeats signature wrapping. Keys and certificates are made with OpenSSL (which xmlsec
//! links already). What samael leaves to the caller is here: the audience (Latch accepts an
//! alternative one), the bounded size, and refusing documents with a DTD or comments (entity
//! expansion, and the comment-truncation trick on canonicalised text). `response` verifies a
//! SAMLResponse, `decrypt` opens an encrypted assertion; this module makes and reads keys,
//! certificates, metadata and AuthnRequests.

mod decrypt;
mod response;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use latch_core::error::{CoreError, CoreResult};
use latch_core::saml::{
    AuthnRequest, CertificateInfo, IdpMetadata, KeyWithCertificate, Refusal, SamlProvider, ServiceProvider, SpMetadata,
    VerifiedAssertion,
};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};
use samael::crypto::AllowedSignatureAlgorithm;
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{
    EntityDescriptor, IndexedEndpoint, KeyDescriptor, SpSsoDescriptor, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING,
};
use samael::schema::{Issuer, NameIdPolicy};
use samael::traits::ToXml;
use std::time::Duration;

/// IdP metadata larger than this is refused.
const MAX_METADATA_BYTES: usize = 1024 * 1024;
/// How far the IdP's clock may be from ours.
pub(super) const CLOCK_SKEW_SECS: i64 = 60;
/// A response or assertion issued longer ago than this is stale (it is posted right after
/// the IdP makes it).
pub(super) const MAX_ISSUE_DELAY_SECS: i64 = 180;
/// Certificates Latch makes for its own keys.
const CERTIFICATE_DAYS: u32 = 3650;
const KEY_BITS: u32 = 2048;
const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

/// SHA-1 is not among them: a collision-prone digest is refused outright.
pub(super) const ALGORITHMS: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

pub struct SamlAdapter {
    http: reqwest::Client,
}

impl SamlAdapter {
    pub fn new(timeout: Duration) -> CoreResult<Self> {
        Ok(Self {
            http: super::idp_http_client(timeout)?,
        })
    }
}

fn internal(e: impl std::fmt::Display) -> CoreError {
    CoreError::internal(format!("SAML: {e}"))
}

fn unix_secs(t: &openssl::asn1::Asn1TimeRef) -> Result<i64, String> {
    let epoch = Asn1Time::from_unix(0).map_err(|e| e.to_string())?;
    let d = epoch.diff(t).map_err(|e| e.to_string())?;
    Ok(i64::from(d.days) * 86_400 + i64::from(d.secs))
}

fn to_pem_string(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// A self-signed certificate for `key`, named after the connection.
fn certify(key: &PKey<Private>, common_name: &str) -> Result<KeyWithCertificate, String> {
    let e = |e: openssl::error::ErrorStack| e.to_string();
    let mut name = X509NameBuilder::new().map_err(e)?;
    name.append_entry_by_text("O", "Latch").map_err(e)?;
    let cn: String = common_name.chars().take(64).collect();
    name.append_entry_by_text("CN", &cn).map_err(e)?;
    let name = name.build();
    let mut serial = BigNum::new().map_err(e)?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false).map_err(e)?;
    let mut b = X509::builder().map_err(e)?;
    b.set_version(2).map_err(e)?;
    let serial = serial.to_asn1_integer().map_err(e)?;
    b.set_serial_number(&serial).map_err(e)?;
    b.set_subject_name(&name).map_err(e)?;
    b.set_issuer_name(&name).map_err(e)?;
    b.set_pubkey(key).map_err(e)?;
    let not_before = Asn1Time::days_from_now(0).map_err(e)?;
    let not_after = Asn1Time::days_from_now(CERTIFICATE_DAYS).map_err(e)?;
    b.set_not_before(&not_before).map_err(e)?;
    b.set_not_after(&not_after).map_err(e)?;
    b.sign(key, MessageDigest::sha256()).map_err(e)?;
    let cert = b.build();
    let rsa = key.rsa().map_err(e)?;
    Ok(KeyWithCertificate {
        private_key_pem: to_pem_string(rsa.private_key_to_pem().map_err(e)?)?,
        certificate_pem: to_pem_string(cert.to_pem().map_err(e)?)?,
        public_key_pem: to_pem_string(key.public_key_to_pem().map_err(e)?)?,
        not_after_secs: unix_secs(&not_after)?,
    })
}

/// A PKCS#1 RSA private key of at least 2048 bits that checks out.
pub(super) fn rsa_key(pem: &str) -> Result<PKey<Private>, String> {
    let rsa = Rsa::private_key_from_pem(pem.trim().as_bytes()).map_err(|_| "not an RSA private key".to_string())?;
    if rsa.size() * 8 < KEY_BITS {
        return Err(format!("the key must have at least {KEY_BITS} bits"));
    }
    if !rsa.check_key().unwrap_or(false) {
        return Err("the key is not consistent".into());
    }
    PKey::from_rsa(rsa).map_err(|e| e.to_string())
}

/// A certificate as PEM, or as the bare base64 DER that IdPs often hand out.
pub(super) fn parse_certificate(text: &str) -> Result<X509, String> {
    let text = text.trim();
    if text.contains("-----BEGIN CERTIFICATE-----") {
        return X509::from_pem(text.as_bytes()).map_err(|_| "not a PEM certificate".to_string());
    }
    let der = samael::crypto::decode_x509_cert(text).map_err(|_| "not a certificate".to_string())?;
    X509::from_der(der.der_data()).map_err(|_| "not a certificate".to_string())
}

pub(super) fn der_base64(pem: &str) -> Result<String, String> {
    let cert = parse_certificate(pem)?;
    Ok(STANDARD.encode(cert.to_der().map_err(|e| e.to_string())?))
}

/// A DTD can expand entities and a comment can truncate canonicalised text: neither belongs in a
/// SAML message, so either refuses the document before any parser sees it.
pub(super) fn refuse_markup(xml: &str) -> Result<(), String> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err("a document type declaration is not allowed".into());
    }
    if xml.contains("<!--") {
        return Err("comments are not allowed".into());
    }
    Ok(())
}

pub(super) fn key_descriptor(key_use: &str, der_b64: String) -> KeyDescriptor {
    KeyDescriptor {
        key_use: Some(key_use.to_string()),
        key_info: KeyInfo {
            id: None,
            x509_data: Some(X509Data {
                certificates: vec![der_b64],
            }),
        },
        encryption_methods: None,
    }
}

#[async_trait::async_trait]
impl SamlProvider for SamlAdapter {
    async fn fetch_metadata(&self, url: &str) -> Result<String, String> {
        let mut response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("the metadata URL answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_METADATA_BYTES {
                return Err("the metadata document is too large".into());
            }
        }
        String::from_utf8(body).map_err(|_| "the metadata document is not UTF-8".into())
    }

    fn generate_signing_key(&self, common_name: &str) -> CoreResult<KeyWithCertificate> {
        let rsa = Rsa::generate(KEY_BITS).map_err(internal)?;
        let key = PKey::from_rsa(rsa).map_err(internal)?;
        certify(&key, common_name).map_err(internal)
    }

    fn certify_key(&self, private_key_pem: &str, common_name: &str) -> Result<KeyWithCertificate, String> {
        certify(&rsa_key(private_key_pem)?, common_name)
    }

    fn read_certificate(&self, pem: &str) -> Result<CertificateInfo, String> {
        let cert = parse_certificate(pem)?;
        let issuer = cert
            .issuer_name()
            .entries()
            .map(|e| String::from_utf8_lossy(e.data().as_slice()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        Ok(CertificateInfo {
            pem: to_pem_string(cert.to_pem().map_err(|e| e.to_string())?)?,
            issuer,
            not_before_secs: unix_secs(cert.not_before())?,
            not_after_secs: unix_secs(cert.not_after())?,
        })
    }

    fn authn_request_url(&self, r: &AuthnRequest<'_>) -> CoreResult<String> {
        let key = rsa_key(r.signing_key_pem).map_err(internal)?;
        let request = samael::schema::AuthnRequest {
            id: r.id.to_string(),
            version: "2.0".into(),
            issue_instant: chrono::Utc::now(),
            destination: Some(r.idp_sso_url.to_string()),
            issuer: Some(Issuer {
                format: Some(NAMEID_ENTITY.into()),
                value: Some(r.issuer.to_string()),
                ..Issuer::default()
            }),
            name_id_policy: Some(NameIdPolicy {
                allow_create: Some(true),
                format: Some(r.nameid_format.to_string()),
                ..NameIdPolicy::default()
            }),
            assertion_consumer_service_url: Some(r.acs_url.to_string()),
            protocol_binding: Some(HTTP_POST_BINDING.into()),
            ..samael::schema::AuthnRequest::default()
        };
        let xml = request.to_string().map_err(internal)?;
        let mut deflated = Vec::new();
        {
            let mut encoder = flate2::write::DeflateEncoder::new(&mut deflated, flate2::Compression::default());
            std::io::Write::write_all(&mut encoder, xml.as_bytes()).map_err(internal)?;
            encoder.finish().map_err(internal)?;
        }
        // The signature covers exactly SAMLRequest, RelayState and SigAlg (bindings §3.4.4.1):
        // sign them on a URL without the IdP's own query parameters, which go back in front.
        let mut bare = url::Url::parse(r.idp_sso_url).map_err(internal)?;
        let idp_query = bare.query().filter(|q| !q.is_empty()).map(str::to_string);
        bare.set_query(None);
        bare.query_pairs_mut()
            .append_pair("SAMLRequest", &STANDARD.encode(&deflated))
            .append_pair("RelayState", r.relay_state);
        let mut signed = samael::crypto::sign_url(bare, &key).map_err(internal)?;
        let ours = signed.query().unwrap_or_default().to_string();
        if let Some(q) = idp_query {
            signed.set_query(Some(&format!("{q}&{ours}")));
        }
        Ok(signed.into())
    }

    fn sp_metadata(&self, m: &SpMetadata<'_>) -> CoreResult<String> {
        let mut keys = vec![key_descriptor(
            "signing",
            der_base64(m.signing_certificate_pem).map_err(internal)?,
        )];
        for pem in &m.encryption_certificates_pem {
            keys.push(key_descriptor("encryption", der_base64(pem).map_err(internal)?));
        }
        let descriptor = SpSsoDescriptor {
            protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".into()),
            key_descriptors: Some(keys),
            name_id_formats: Some(vec![m.nameid_format.to_string()]),
            authn_requests_signed: Some(true),
            want_assertions_signed: Some(true),
            assertion_consumer_services: vec![IndexedEndpoint {
                binding: HTTP_POST_BINDING.into(),
                location: m.acs_url.to_string(),
                response_location: None,
                index: 0,
                is_default: Some(true),
            }],
            ..SpSsoDescriptor::default()
        };
        let entity = EntityDescriptor {
            entity_id: Some(m.entity_id.to_string()),
            sp_sso_descriptors: Some(vec![descriptor]),
            ..EntityDescriptor::default()
        };
        entity.to_string().map_err(internal)
    }

    fn read_idp_metadata(&self, xml: &str) -> Result<IdpMetadata, String> {
        refuse_markup(xml)?;
        let entity: EntityDescriptor = xml
            .parse()
            .map_err(|_| "not a SAML metadata EntityDescriptor".to_string())?;
        let entity_id = entity
            .entity_id
            .clone()
            .filter(|e| !e.is_empty())
            .ok_or("the metadata names no entityID")?;
        let idp = entity
            .idp_sso_descriptors
            .as_ref()
            .and_then(|d| d.first())
            .ok_or("the metadata has no IDPSSODescriptor")?;
        let by_binding = |binding: &str| {
            idp.single_sign_on_services
                .iter()
                .find(|s| s.binding == binding)
                .map(|s| s.location.clone())
        };
        let sso_url = by_binding(HTTP_REDIRECT_BINDING)
            .or_else(|| by_binding(HTTP_POST_BINDING))
            .ok_or("the metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding")?;
        let signing: Vec<&KeyDescriptor> = idp
            .key_descriptors
            .iter()
            .filter(|k| matches!(k.key_use.as_deref(), None | Some("") | Some("signing")))
            .collect();
        let mut certificates = Vec::new();
        for k in signing {
            for b64 in k.key_info.x509_data.iter().flat_map(|d| d.certificates.iter()) {
                let cert = parse_certificate(b64)?;
                let pem = to_pem_string(cert.to_pem().map_err(|e| e.to_string())?)?;
                if !certificates.contains(&pem) {
                    certificates.push(pem);
                }
            }
        }
        if certificates.is_empty() {
            return Err("the metadata has no signing certificate".into());
        }
        Ok(IdpMetadata {
            entity_id,
            sso_url,
            certificates,
        })
    }

    fn verify_response(&self, sp: &ServiceProvider<'_>, saml_response: &str) -> Result<VerifiedAssertion, Refusal> {
        let verified = response::verify(sp, saml_response);
        if let Err(r) = &verified {
            tracing::info!(refusal = ?r, "SAML response refused");
        }
        verified
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn adapter() -> SamlAdapter {
        SamlAdapter::new(Duration::from_secs(5)).unwrap()
    }

    fn sp<'a>(cert: &'a str) -> ServiceProvider<'a> {
        ServiceProvider {
            audiences: vec!["https://latch.test/acs"],
            acs_urls: vec!["https://latch.test/acs"],
            idp_entity_id: "https://idp.test",
            verification_certificates: vec![cert],
            decryption_keys: vec![],
            request_id: None,
        }
    }

    #[test]
    fn a_generated_key_is_pkcs1_and_its_certificate_reads_back() {
        let a = adapter();
        let k = a.generate_signing_key("saml-connection-test-1").unwrap();
        assert!(k.private_key_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let info = a.read_certificate(&k.certificate_pem).unwrap();
        assert!(info.issuer.contains("Latch"), "{}", info.issuer);
        assert_eq!(info.not_after_secs, k.not_after_secs);
        // The same certificate as bare base64 DER (as IdPs often hand it out) reads the same.
        let bare: String = k.certificate_pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(a.read_certificate(&bare).unwrap().pem, info.pem);
        // An uploaded key gets its own certificate; anything else is refused.
        let again = a.certify_key(&k.private_key_pem, "c").unwrap();
        assert_eq!(again.public_key_pem, k.public_key_pem);
        assert!(a
            .certify_key(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
                "c"
            )
            .is_err());
        assert!(a.read_certificate("not a certificate").is_err());
    }

    #[test]
    fn the_authn_request_url_is_signed_with_the_connection_key() {
        let a = adapter();
        let k = a.generate_signing_key("c").unwrap();
        let url = a
            .authn_request_url(&AuthnRequest {
                id: "id-0123456789abcdef",
                idp_sso_url: "https://idp.test/sso?tenant=1",
                issuer: "https://latch.test/acs",
                acs_url: "https://latch.test/acs",
                nameid_format: latch_core::model::saml::DEFAULT_NAMEID_FORMAT,
                relay_state: "state-1",
                signing_key_pem: &k.private_key_pem,
            })
            .unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        let names: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
        assert_eq!(names, ["tenant", "SAMLRequest", "RelayState", "SigAlg", "Signature"]);
        let verifier = samael::crypto::UrlVerifier::from_x509_cert_pem(&k.certificate_pem).unwrap();
        assert!(verifier.verify_signed_request_url(&parsed).unwrap());
        let other = a.generate_signing_key("other").unwrap();
        let wrong = samael::crypto::UrlVerifier::from_x509_cert_pem(&other.certificate_pem).unwrap();
        assert!(!wrong.verify_signed_request_url(&parsed).unwrap_or(false));
    }

    #[test]
    fn malformed_unsigned_and_misaddressed_responses_are_refused_before_xmlsec() {
        let a = adapter();
        let k = a.generate_signing_key("c").unwrap();
        let b64 = |xml: &str| STANDARD.encode(xml);
        let unsigned = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:Response>"#;
        assert_eq!(
            a.verify_response(&sp(&k.certificate_pem), &b64(unsigned)),
            Err(Refusal::MissingSignature)
        );
        let doctype = format!("<!DOCTYPE r [<!ENTITY e \"x\">]>{unsigned}");
        assert!(matches!(
            a.verify_response(&sp(&k.certificate_pem), &b64(&doctype)),
            Err(Refusal::Invalid(_))
        ));
        let commented = unsigned.replace("</samlp:Response>", "<!-- x --></samlp:Response>");
        assert!(matches!(
            a.verify_response(&sp(&k.certificate_pem), &b64(&commented)),
            Err(Refusal::Invalid(_))
        ));
        let fake_signature = unsigned.replace(
            "</samlp:Response>",
            r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>x</ds:SignatureValue></ds:Signature></samlp:Response>"#,
        );
        // A failed status or a foreign destination refuses, signed or not.
        let failed = unsigned.replace(":status:Success", ":status:Requester");
        assert!(matches!(
            a.verify_response(&sp(&k.certificate_pem), &b64(&failed)),
            Err(Refusal::Invalid(_))
        ));
        let elsewhere = unsigned.replace(r#"ID="r1""#, r#"ID="r1" Destination="https://evil.test/acs""#);
        assert!(matches!(
            a.verify_response(&sp(&k.certificate_pem), &b64(&elsewhere)),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            a.verify_response(&sp(&k.certificate_pem), &b64("<Response>not SAML")),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            a.verify_response(&sp(&k.certificate_pem), &b64(&fake_signature)),
            Err(Refusal::InvalidSignature(_))
        ));
        let huge = "A".repeat(response::MAX_RESPONSE_BYTES + 1);
        assert!(matches!(
            a.verify_response(&sp(&k.certificate_pem), &huge),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn idp_metadata_gives_entity_id_redirect_sso_url_and_signing_certificates() {
        let a = adapter();
        let k = a.generate_signing_key("idp").unwrap();
        let der: String = k.certificate_pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let xml = format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.test/metadata">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.test/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/redirect"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
        );
        let found = a.read_idp_metadata(&xml).unwrap();
        assert_eq!(found.entity_id, "https://idp.test/metadata");
        assert_eq!(found.sso_url, "https://idp.test/redirect");
        assert_eq!(found.certificates.len(), 1, "one certificate, listed once");
        assert!(a.read_idp_metadata("<html>not metadata</html>").is_err());
        assert!(a.read_idp_metadata(&format!("<!DOCTYPE x>{xml}")).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever an attacker posts, the verifier answers with a refusal, never a panic.
        #[test]
        fn arbitrary_responses_are_refused(body in proptest::collection::vec(any::<u8>(), 0..512), as_xml in any::<bool>()) {
            static CERT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let a = adapter();
            let cert = CERT.get_or_init(|| adapter().generate_signing_key("c").unwrap().certificate_pem);
            let text = if as_xml {
                let inner = String::from_utf8_lossy(&body);
                STANDARD.encode(format!("<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignatureValue>{inner}</ds:SignatureValue></ds:Signature></samlp:Response>"))
            } else {
                String::from_utf8_lossy(&body).into_owned()
            };
            prop_assert!(a.verify_response(&sp(cert), &text).is_err());
        }
    }
}
