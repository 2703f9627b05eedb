//! SSO- and OAuth-side inputs with pure parsers: PKCE challenges and verifiers (emailed links and
//! OAuth starts), the custom claims a caller merges into a session's JWT, Microsoft's
//! multi-tenant issuer check and the attribute mapping of SSO connections. Never a panic; a
//! verifier matches only its own challenge; a claims update can never set Stytch's namespaced or
//! the registered JWT claims; a tenant id cannot reshape the issuer it is checked against; a
//! mapping takes exactly the claims it names.

use super::{cheap, json_with_keys};
use latch_core::oidc;
use latch_core::rules::{pkce, session};
use proptest::prelude::*;
use serde_json::{Map, Value};

const RESERVED: &[&str] = &["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];
const CLAIM_KEYS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "https://stytch.com/session",
    "https://stytch.com/x",
    "role",
];

proptest! {
    #![proptest_config(cheap(512))]

    #[test]
    fn a_verifier_matches_only_its_own_challenge(verifier in "[A-Za-z0-9._~-]{1,128}", other in "\\PC{1,128}", pad in any::<bool>()) {
        let challenge = pkce::challenge_of(&verifier);
        prop_assert_eq!(challenge.len(), 43);
        let given = if pad { format!("{challenge}=") } else { challenge.clone() };
        prop_assert!(pkce::check(Some(&given), Some(&verifier)).is_ok());
        if other != verifier {
            prop_assert!(pkce::check(Some(&challenge), Some(&other)).is_err());
        }
    }

    #[test]
    fn pkce_inputs_never_panic(challenge in prop::option::of("\\PC{0,200}"), verifier in prop::option::of("\\PC{0,200}")) {
        let bounded = pkce::bounded_challenge(challenge.as_deref());
        if let Ok(Some(c)) = bounded {
            prop_assert!(!c.is_empty() && c.len() <= 128);
        }
        let _ = pkce::check(challenge.as_deref(), verifier.as_deref());
    }

    #[test]
    fn custom_claims_never_set_reserved_or_stytch_claims(
        start in prop::collection::btree_map("[a-z]{1,6}", json_with_keys(CLAIM_KEYS), 0..4),
        update in json_with_keys(CLAIM_KEYS),
    ) {
        let mut claims: Map<String, Value> = start.into_iter().collect();
        let before = claims.clone();
        match session::merge_claims(&mut claims, Some(&update)) {
            Ok(()) => {
                for k in claims.keys() {
                    prop_assert!(!k.starts_with("https://stytch.com/"), "{}", k);
                    prop_assert!(!RESERVED.contains(&k.as_str()) || before.contains_key(k), "{}", k);
                }
                prop_assert!(Value::Object(claims.clone()).to_string().len() <= 4096);
                prop_assert!(claims.values().all(|v| !v.is_null()) || before.values().any(Value::is_null));
            }
            Err(_) => prop_assert_eq!(claims, before),
        }
    }
}

/// Names used both as our attribute names and as claims, so mappings often hit.
const ATTRIBUTE_NAMES: &[&str] = &["department", "dept", "groups", "email", "sub", "tid", "x"];

/// Microsoft's multi-tenant issuer: a token is accepted only with the issuer of its own tenant.
const MULTI_TENANT: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

proptest! {
    #![proptest_config(cheap(512))]

    #[test]
    fn a_tenant_issuer_accepts_only_the_tokens_own_tenant(
        tid in "[A-Za-z0-9-]{1,40}",
        other in "[A-Za-z0-9-]{1,40}",
    ) {
        let own = MULTI_TENANT.replace("{tenantid}", &tid);
        prop_assert!(oidc::check_tenant_issuer(MULTI_TENANT, Some(&tid), &own).is_ok());
        let theirs = MULTI_TENANT.replace("{tenantid}", &other);
        prop_assert_eq!(oidc::check_tenant_issuer(MULTI_TENANT, Some(&tid), &theirs).is_ok(), tid == other);
    }

    #[test]
    fn a_tenant_id_cannot_reshape_the_issuer(tid in "\\PC{0,60}", iss in "\\PC{0,120}") {
        // Whatever the attacker-chosen `tid` and `iss`, an accepted pair has a plain tenant id
        // and is exactly the configured issuer with it.
        if oidc::check_tenant_issuer(MULTI_TENANT, Some(&tid), &iss).is_ok() {
            prop_assert!(!tid.is_empty() && tid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
            prop_assert_eq!(&iss, &MULTI_TENANT.replace("{tenantid}", &tid));
        }
        prop_assert!(oidc::check_tenant_issuer(MULTI_TENANT, None, &iss).is_err());
    }

    #[test]
    fn attribute_mapping_takes_only_named_claims_with_their_values(
        mapping in json_with_keys(ATTRIBUTE_NAMES),
        claims in json_with_keys(ATTRIBUTE_NAMES),
    ) {
        let (Value::Object(mapping), Value::Object(claims)) = (mapping, claims) else {
            return Ok(());
        };
        let out = oidc::mapped_attributes(&mapping, &claims);
        for (ours, value) in &out {
            let claim = mapping.get(ours).and_then(Value::as_str);
            prop_assert!(claim.is_some(), "{} is not a mapped name", ours);
            prop_assert_eq!(claims.get(claim.unwrap()), Some(value));
        }
        for (ours, theirs) in &mapping {
            if let Some(v) = theirs.as_str().and_then(|c| claims.get(c)) {
                prop_assert_eq!(out.get(ours), Some(v));
            }
        }
    }
}
