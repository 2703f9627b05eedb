//! Session JWTs: `jwt::parse` then `verify` never panics on any text, accepts only RS256 with a
//! `kid`, and verifies exactly the tokens the key signed: a signed token round-trips its claims,
//! and any one-byte change, insertion or deletion anywhere in it is refused.

use super::{cheap, heavy, json_with_keys};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use latch_core::token::jwt::{self, JwtError};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::LazyLock;

/// Generating an RSA key takes a while in a debug build: one per test binary.
static KEY: LazyLock<(KeyPair, ParsedPublicKey)> = LazyLock::new(|| {
    let key = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let public = jwt::verifier(key.public_key().as_ref()).unwrap();
    (key, public)
});

const CLAIM_KEYS: &[&str] = &["sub", "iss", "aud", "exp", "https://stytch.com/session", "alg", "kid"];

fn claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-z_]{1,8}", json_with_keys(CLAIM_KEYS), 0..6).prop_map(|m| m.into_iter().collect())
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// Parses and verifies with the test key: `Ok` only for a token that key signed.
fn check(token: &str) -> Result<Value, JwtError> {
    jwt::parse(token)?.verify(&KEY.1)
}

/// A one-byte edit of an ASCII token: replace, insert or delete at `at`.
#[derive(Debug, Clone)]
enum Edit {
    Replace(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Printable ASCII plus a few controls: the token stays valid UTF-8.
    let byte = prop_oneof![0x20u8..0x7f, Just(b'.'), Just(b'='), Just(0u8), Just(b'\n')];
    prop_oneof![
        (any::<prop::sample::Index>(), byte.clone()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<prop::sample::Index>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Edit::Delete),
    ]
}

/// The edited token, or `None` when the edit changes nothing (replacing a byte by itself).
fn apply(token: &str, e: &Edit) -> Option<String> {
    let mut bytes = token.as_bytes().to_vec();
    match e {
        Edit::Replace(i, b) => {
            let i = i.index(bytes.len());
            if bytes[i] == *b {
                return None;
            }
            bytes[i] = *b;
        }
        Edit::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), *b),
        Edit::Delete(i) => {
            bytes.remove(i.index(bytes.len()));
        }
    }
    Some(String::from_utf8(bytes).expect("ASCII edits of an ASCII token"))
}

proptest! {
    #![proptest_config(cheap(512))]

    #[test]
    fn parsing_arbitrary_text_never_panics(token in "\\PC{0,300}") {
        let _ = check(&token);
    }

    #[test]
    fn parsing_jwt_shaped_text_never_panics_and_wants_three_segments(token in "[A-Za-z0-9_.=+/-]{0,300}") {
        let parsed = jwt::parse(&token);
        if parsed.is_ok() {
            prop_assert_eq!(token.split('.').count(), 3);
        }
        prop_assert!(check(&token).is_err());
    }

    /// Well-formed base64url JSON segments with any header and payload, and any signature bytes:
    /// nothing verifies, whatever the header says.
    #[test]
    fn unsigned_tokens_never_verify(
        header in json_with_keys(&["alg", "kid", "typ", "RS256", "none", "HS256", "jku", "jwk"]),
        payload in json_with_keys(CLAIM_KEYS),
        sig in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let token = format!(
            "{}.{}.{}",
            b64(&header.to_string()),
            b64(&payload.to_string()),
            URL_SAFE_NO_PAD.encode(&sig)
        );
        prop_assert!(check(&token).is_err());
    }

    /// Headers that name RS256 and a kid, with garbage signatures of the right length.
    #[test]
    fn rs256_headers_with_forged_signatures_never_verify(
        kid in "\\PC{0,20}",
        claims in claims(),
        sig in prop::collection::vec(any::<u8>(), 256),
    ) {
        let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
        let token = format!("{}.{}.{}", b64(&header.to_string()), b64(&Value::Object(claims).to_string()), URL_SAFE_NO_PAD.encode(&sig));
        let parsed = jwt::parse(&token).unwrap();
        prop_assert_eq!(&parsed.kid, &kid);
        prop_assert_eq!(parsed.verify(&KEY.1).unwrap_err(), JwtError::BadSignature);
    }

    /// Deeply nested or very long segments are errors, not stack overflows or panics.
    #[test]
    fn huge_and_deep_inputs_are_refused(depth in 1usize..5000, len in 0usize..100_000) {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let nested_header = format!("{}.{}.{}", b64(&deep), b64("{}"), b64("x"));
        prop_assert!(check(&nested_header).is_err());
        let nested_payload = format!("{}.{}.{}", b64(r#"{"alg":"RS256","kid":"k"}"#), b64(&deep), b64("x"));
        prop_assert!(check(&nested_payload).is_err());
        let long = "A".repeat(len);
        let token = format!("{long}.{long}.{long}");
        prop_assert!(check(&token).is_err());
    }
}

proptest! {
    #![proptest_config(heavy(64))]

    /// A header that is not exactly `alg: RS256` is refused before the signature is looked at,
    /// even when the key really signed it (`none`, HS256 with the public key as secret, …).
    #[test]
    fn only_rs256_is_accepted(
        alg in prop_oneof![
            prop::sample::select(vec!["none", "None", "HS256", "RS384", "RS512", "ES256", "PS256", "rs256", "RS256 ", " RS256", ""])
                .prop_map(Value::from),
            json_with_keys(&["RS256"]).prop_filter("not the string RS256", |v| v != "RS256"),
        ],
        claims in claims(),
    ) {
        let header = json!({"alg": alg, "kid": "kid-1", "typ": "JWT"});
        let input = format!("{}.{}", b64(&header.to_string()), b64(&Value::Object(claims).to_string()));
        let token = jwt::sign_input(&KEY.0, input);
        prop_assert_eq!(jwt::parse(&token).err(), Some(JwtError::UnknownKey));
    }

    /// What the key signs verifies, with its claims intact; every one-byte edit is refused.
    #[test]
    fn signed_tokens_verify_and_every_one_byte_edit_is_refused(
        kid in "[A-Za-z0-9_-]{1,24}",
        claims in claims(),
        edits in prop::collection::vec(edit(), 8),
    ) {
        let claims = Value::Object(claims);
        let token = jwt::sign(&KEY.0, &kid, &claims);
        let parsed = jwt::parse(&token).unwrap();
        prop_assert_eq!(&parsed.kid, &kid);
        // The claims as their JSON text reads (serde_json may round a float's last digit).
        let read: Value = serde_json::from_str(&claims.to_string()).unwrap();
        prop_assert_eq!(parsed.verify(&KEY.1).unwrap(), read);
        for e in &edits {
            if let Some(forged) = apply(&token, e) {
                prop_assert!(check(&forged).is_err(), "{:?} made {} verify", e, forged);
            }
        }
    }

    /// Another key's signature over the same header and claims is refused.
    #[test]
    fn another_keys_signature_is_refused(claims in claims()) {
        static OTHER: LazyLock<KeyPair> = LazyLock::new(|| KeyPair::generate(KeySize::Rsa2048).unwrap());
        let token = jwt::sign(&OTHER, "kid-1", &Value::Object(claims));
        prop_assert_eq!(check(&token).unwrap_err(), JwtError::BadSignature);
    }
}
