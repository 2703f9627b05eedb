//! Verifying a SAMLResponse for one connection.
//!
//! The envelope is read first (unverified, so it can only refuse): a SAML Response, a success
//! status, this connection's destination and IdP, the request it must answer. Then the signature:
//! xmlsec (through samael) verifies it with the connection's certificates only and reduces the
//! document to what the signature covers, which is what defeats signature wrapping; nothing is
//! read from unsigned content. A plain assertion goes through samael's service provider checks
//! (issuer, recipient, InResponseTo, validity with bounded skew); an encrypted one is decrypted
//! here (`decrypt`) and its assertion checked the same way. The audience, with Latch's alternative
//! audience, is checked last for both.

use super::decrypt::{self, child, is};
use super::{
    key_descriptor, parse_certificate, refuse_markup, rsa_key, ALGORITHMS, CLOCK_SKEW_SECS, MAX_ISSUE_DELAY_SECS,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Utc;
use latch_core::saml::{Refusal, ServiceProvider, VerifiedAssertion};
use openssl::pkey::{PKey, Private};
use samael::crypto::{CertificateDer, Crypto, CryptoProvider, ReduceMode};
use samael::metadata::{EntityDescriptor, IdpSsoDescriptor};
use samael::schema::Assertion;
use samael::service_provider::{Error as SpError, ServiceProviderBuilder};
use serde_json::{Map, Value};

/// A SAMLResponse larger than this (base64) is refused before it is decoded.
pub(super) const MAX_RESPONSE_BYTES: usize = 256 * 1024;
const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// One answer for every failure between an encrypted assertion and its verified content, so the
/// refusals tell an attacker probing a captured ciphertext nothing (padding and format oracles).
const UNVERIFIED_ENCRYPTED: &str = "the encrypted assertion could not be decrypted and verified";

fn parse(xml: &str) -> Result<roxmltree::Document<'_>, Refusal> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 50_000,
    };
    roxmltree::Document::parse_with_options(xml, options).map_err(|e| Refusal::Invalid(format!("not XML: {e}")))
}

fn refusal(e: SpError) -> Refusal {
    let text = e.to_string();
    match e {
        SpError::FailedToValidateSignature => Refusal::InvalidSignature(text),
        SpError::AssertionExpired { .. }
        | SpError::ResponseExpired { .. }
        | SpError::AssertionConditionExpired { .. }
        | SpError::AssertionSubjectConfirmationExpired { .. } => Refusal::Expired(text),
        SpError::AssertionConditionExpiredBefore { .. } | SpError::AssertionSubjectConfirmationExpiredBefore { .. } => {
            Refusal::NotYetValid(text)
        }
        SpError::AssertionConditionAudienceRestrictionFailed { .. } => Refusal::Audience(text),
        SpError::ResponseInResponseToInvalid { .. } | SpError::AssertionInResponseToInvalid { .. } => {
            Refusal::Unsolicited(text)
        }
        _ => Refusal::Invalid(text),
    }
}

/// The IdP as samael needs it: its entity id and the certificates it signs with.
fn idp_descriptor(sp: &ServiceProvider<'_>, certs: &[CertificateDer]) -> EntityDescriptor {
    let keys = certs
        .iter()
        .map(|c| key_descriptor("signing", STANDARD.encode(c.der_data())))
        .collect();
    let descriptor = IdpSsoDescriptor {
        id: None,
        valid_until: None,
        cache_duration: None,
        protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".into()),
        error_url: None,
        signature: None,
        key_descriptors: keys,
        organization: None,
        contact_people: vec![],
        artifact_resolution_service: vec![],
        single_logout_services: vec![],
        manage_name_id_services: vec![],
        name_id_formats: vec![],
        want_authn_requests_signed: None,
        single_sign_on_services: vec![],
        name_id_mapping_services: vec![],
        assertion_id_request_services: vec![],
        attribute_profiles: vec![],
        attributes: vec![],
    };
    EntityDescriptor {
        entity_id: Some(sp.idp_entity_id.to_string()),
        idp_sso_descriptors: Some(vec![descriptor]),
        ..EntityDescriptor::default()
    }
}

/// The assertion's attributes by name (and by friendly name when it differs): one value as a
/// string, several as a list.
fn attributes(a: &Assertion) -> Map<String, Value> {
    let mut out = Map::new();
    for statement in a.attribute_statements.iter().flatten() {
        for attr in &statement.attributes {
            let values: Vec<Value> = attr
                .values
                .iter()
                .filter_map(|v| v.value.as_deref())
                .map(|v| Value::String(v.trim().to_string()))
                .collect();
            let value = match values.len() {
                0 => Value::Null,
                1 => values[0].clone(),
                _ => Value::Array(values),
            };
            for name in [attr.name.as_deref(), attr.friendly_name.as_deref()]
                .into_iter()
                .flatten()
            {
                if !name.is_empty() && !out.contains_key(name) {
                    out.insert(name.to_string(), value.clone());
                }
            }
        }
    }
    out
}

/// Every AudienceRestriction must name one of ours, and there must be one: an assertion meant for
/// anyone is meant for no one here.
fn check_audience(a: &Assertion, audiences: &[&str]) -> Result<(), Refusal> {
    let restrictions = a
        .conditions
        .as_ref()
        .and_then(|c| c.audience_restrictions.as_ref())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Refusal::Audience("the assertion has no audience restriction".into()))?;
    for r in restrictions {
        if !r.audience.iter().any(|a| audiences.contains(&a.trim())) {
            return Err(Refusal::Audience(format!(
                "the assertion is for {:?}, not this connection",
                r.audience
            )));
        }
    }
    Ok(())
}

fn read_assertion(a: Assertion, sp: &ServiceProvider<'_>) -> Result<VerifiedAssertion, Refusal> {
    check_audience(&a, &sp.audiences)?;
    let subject = a
        .subject
        .as_ref()
        .ok_or_else(|| Refusal::Invalid("the assertion has no subject".into()))?;
    let name_id = subject
        .name_id
        .as_ref()
        .map(|n| (n.value.trim().to_string(), n.format.clone()))
        .filter(|(v, _)| !v.is_empty())
        .ok_or_else(|| Refusal::Invalid("the assertion has no NameID".into()))?;
    let bearer: Vec<_> = subject
        .subject_confirmations
        .iter()
        .flatten()
        .filter(|c| c.method.as_deref() == Some(BEARER))
        .filter_map(|c| c.subject_confirmation_data.as_ref())
        .collect();
    let in_response_to = bearer.iter().find_map(|d| d.in_response_to.clone());
    if sp.request_id.is_none() && in_response_to.is_some() {
        return Err(Refusal::Unsolicited(
            "the assertion answers a request this sign-in did not send".into(),
        ));
    }
    let until = bearer
        .iter()
        .filter_map(|d| d.not_on_or_after)
        .chain(a.conditions.as_ref().and_then(|c| c.not_on_or_after))
        .max()
        .map(|t| t.timestamp() + CLOCK_SKEW_SECS);
    Ok(VerifiedAssertion {
        attributes: attributes(&a),
        assertion_id: a.id,
        in_response_to,
        name_id: name_id.0,
        name_id_format: name_id.1,
        valid_until_secs: until,
    })
}

/// What the envelope says, unverified: each check can only refuse.
fn check_envelope(root: roxmltree::Node<'_, '_>, sp: &ServiceProvider<'_>) -> Result<(), Refusal> {
    if !is(root, PROTOCOL, "Response") {
        return Err(Refusal::Invalid("not a SAML Response".into()));
    }
    let status = child(root, PROTOCOL, "Status")
        .and_then(|s| child(s, PROTOCOL, "StatusCode"))
        .and_then(|c| c.attribute("Value"));
    if status != Some(SUCCESS) {
        return Err(Refusal::Invalid(format!(
            "the identity provider answered {}",
            status.unwrap_or("no status")
        )));
    }
    if let Some(destination) = root.attribute("Destination") {
        if !sp.acs_urls.contains(&destination) {
            return Err(Refusal::Invalid(format!("the response is for {destination}")));
        }
    }
    if let Some(issuer) = child(root, ASSERTION, "Issuer").and_then(|i| i.text()) {
        if issuer.trim() != sp.idp_entity_id {
            return Err(Refusal::Invalid(format!("the response is from {}", issuer.trim())));
        }
    }
    if let Some(answers) = root.attribute("InResponseTo") {
        if sp.request_id != Some(answers) {
            return Err(Refusal::Unsolicited(format!(
                "the response answers {answers}, a request this sign-in did not send"
            )));
        }
    }
    Ok(())
}

/// The connection's certificates, read once per response.
fn certificates(sp: &ServiceProvider<'_>) -> Result<Vec<CertificateDer>, Refusal> {
    let certs = sp
        .verification_certificates
        .iter()
        .map(|pem| {
            parse_certificate(pem)
                .and_then(|c| c.to_der().map_err(|e| e.to_string()))
                .map(CertificateDer::from)
                .map_err(|e| Refusal::Invalid(format!("a verification certificate does not read: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Without a certificate samael would read the document unverified.
    if certs.is_empty() {
        return Err(Refusal::InvalidSignature(
            "the connection has no verification certificate".into(),
        ));
    }
    Ok(certs)
}

/// What samael checks of an assertion it verified, for one that Latch decrypted: the issuer,
/// the validity window and a bearer confirmation for this ACS URL and request.
fn check_assertion(a: &Assertion, sp: &ServiceProvider<'_>) -> Result<(), Refusal> {
    let now = Utc::now();
    let skew = chrono::Duration::seconds(CLOCK_SKEW_SECS);
    if a.issue_instant + chrono::Duration::seconds(MAX_ISSUE_DELAY_SECS) < now {
        return Err(Refusal::Expired("the assertion was issued too long ago".into()));
    }
    if a.issue_instant - skew > now {
        return Err(Refusal::NotYetValid("the assertion is issued in the future".into()));
    }
    if a.issuer.value.as_deref().map(str::trim) != Some(sp.idp_entity_id) {
        return Err(Refusal::Invalid("the assertion is from another issuer".into()));
    }
    if let Some(c) = &a.conditions {
        if c.not_before.is_some_and(|t| now < t - skew) {
            return Err(Refusal::NotYetValid(
                "the assertion's conditions are not valid yet".into(),
            ));
        }
        if c.not_on_or_after.is_some_and(|t| t + skew < now) {
            return Err(Refusal::Expired("the assertion's conditions have expired".into()));
        }
    }
    let confirmations: Vec<_> = a
        .subject
        .iter()
        .flat_map(|s| s.subject_confirmations.iter().flatten())
        .filter(|c| c.method.as_deref() == Some(BEARER))
        .collect();
    let mut first = Refusal::Invalid("the assertion has no bearer subject confirmation".into());
    for c in confirmations {
        let Some(d) = &c.subject_confirmation_data else {
            continue;
        };
        let refusal = if d.not_before.is_some_and(|t| now < t - skew) {
            Some(Refusal::NotYetValid("the subject confirmation is not valid yet".into()))
        } else if d.not_on_or_after.is_none_or(|t| t + skew < now) {
            Some(Refusal::Expired("the subject confirmation has expired".into()))
        } else if !d.recipient.as_deref().is_some_and(|r| sp.acs_urls.contains(&r)) {
            Some(Refusal::Invalid(
                "the subject confirmation is for another recipient".into(),
            ))
        } else if sp.request_id.is_some() && d.in_response_to.as_deref() != sp.request_id {
            Some(Refusal::Unsolicited("the assertion answers another request".into()))
        } else {
            None
        };
        match refusal {
            None => return Ok(()),
            Some(r) if matches!(first, Refusal::Invalid(_)) => first = r,
            Some(_) => {}
        }
    }
    Err(first)
}

/// A plain assertion: samael verifies and checks the whole response, for each ACS URL the
/// connection answers at.
fn verify_plain(xml: &str, sp: &ServiceProvider<'_>, certs: &[CertificateDer]) -> Result<Assertion, Refusal> {
    let idp = idp_descriptor(sp, certs);
    let request_ids: Vec<&str> = sp.request_id.into_iter().collect();
    let mut last = Refusal::Invalid("the connection has no ACS URL".into());
    for acs in &sp.acs_urls {
        let provider = ServiceProviderBuilder::default()
            .entity_id(None::<String>)
            .metadata_url(None::<String>)
            .acs_url(Some(acs.to_string()))
            .slo_url(None::<String>)
            .idp_metadata(idp.clone())
            .allow_idp_initiated(sp.request_id.is_none())
            .max_clock_skew(chrono::Duration::seconds(CLOCK_SKEW_SECS))
            .max_issue_delay(chrono::Duration::seconds(MAX_ISSUE_DELAY_SECS))
            .allowed_signature_algorithms(Some(ALGORITHMS.to_vec()))
            .build()
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        match provider.parse_xml_response(xml, Some(request_ids.as_slice())) {
            Ok(assertion) => return Ok(assertion),
            // The recipient may name the alternative ACS URL: try it before refusing.
            Err(e @ (SpError::DestinationValidationError { .. } | SpError::AssertionRecipientMismatch { .. })) => {
                last = refusal(e)
            }
            Err(e) => return Err(refusal(e)),
        }
    }
    Err(last)
}

/// An encrypted assertion. In a signed response, the signature is verified before anything is
/// decrypted, and the assertion is taken from the signed content; otherwise the decrypted
/// assertion must carry a signature of its own.
fn verify_encrypted(
    xml: &str,
    encrypted_in_original: roxmltree::Node<'_, '_>,
    response_signed: bool,
    sp: &ServiceProvider<'_>,
    certs: &[CertificateDer],
) -> Result<Assertion, Refusal> {
    let keys: Vec<PKey<Private>> = sp
        .decryption_keys
        .iter()
        .map(|pem| rsa_key(pem).map_err(|e| Refusal::Invalid(format!("a decryption key: {e}"))))
        .collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err(Refusal::Invalid(
            "the assertion is encrypted and the connection has no encryption key".into(),
        ));
    }
    let reduce = |text: &str| {
        Crypto::reduce_xml_to_signed_with_allowed_algorithms(
            text,
            certs,
            ReduceMode::ValidateAndMarkNoAncestors,
            Some(&ALGORITHMS),
        )
    };
    let assertion_xml = if response_signed {
        let signed =
            reduce(xml).map_err(|_| Refusal::InvalidSignature("the response's signature does not verify".into()))?;
        let doc = parse(&signed)?;
        let root = doc.root_element();
        let encrypted = Some(root)
            .filter(|r| is(*r, PROTOCOL, "Response"))
            .and_then(|r| child(r, ASSERTION, "EncryptedAssertion"))
            .ok_or_else(|| Refusal::Invalid("the signed response holds no encrypted assertion".into()))?;
        decrypt::decrypt(encrypted, &keys)
            .map_err(|e| Refusal::Invalid(format!("the assertion does not decrypt: {e}")))?
    } else {
        let unverified = || Refusal::InvalidSignature(UNVERIFIED_ENCRYPTED.into());
        let plain = decrypt::decrypt(encrypted_in_original, &keys).map_err(|_| unverified())?;
        refuse_markup(&plain).map_err(|_| unverified())?;
        reduce(&plain).map_err(|_| unverified())?
    };
    let assertion: Assertion = assertion_xml
        .parse()
        .map_err(|_| Refusal::Invalid("the decrypted assertion is not a SAML Assertion".into()))?;
    check_assertion(&assertion, sp)?;
    Ok(assertion)
}

pub(super) fn verify(sp: &ServiceProvider<'_>, saml_response: &str) -> Result<VerifiedAssertion, Refusal> {
    if saml_response.len() > MAX_RESPONSE_BYTES {
        return Err(Refusal::Invalid("the SAMLResponse is too large".into()));
    }
    let compact: String = saml_response.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| Refusal::Invalid("the SAMLResponse is not base64".into()))?;
    let xml = String::from_utf8(bytes).map_err(|_| Refusal::Invalid("the SAMLResponse is not UTF-8".into()))?;
    refuse_markup(&xml).map_err(Refusal::Invalid)?;
    let doc = parse(&xml)?;
    let root = doc.root_element();
    check_envelope(root, sp)?;
    let certs = certificates(sp)?;
    let assertion = match child(root, ASSERTION, "EncryptedAssertion") {
        Some(encrypted) => {
            let response_signed = child(root, DSIG, "Signature").is_some();
            verify_encrypted(&xml, encrypted, response_signed, sp, &certs)?
        }
        None => {
            if !root.descendants().any(|n| is(n, DSIG, "Signature")) {
                return Err(Refusal::MissingSignature);
            }
            verify_plain(&xml, sp, &certs)?
        }
    };
    read_assertion(assertion, sp)
}
