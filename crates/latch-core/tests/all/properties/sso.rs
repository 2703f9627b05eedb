//! SSO- and OAuth-side inputs with pure parsers: PKCE challenges and verifiers (emailed links and
//! OAuth starts), and the custom claims a caller merges into a session's JWT. Never a panic;
//! a verifier matches only its own challenge; a claims update can never set Stytch's namespaced
//! or the registered JWT claims.

use super::{cheap, json_with_keys};
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
