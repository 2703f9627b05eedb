//! PKCE for emailed links (RFC 7636, S256): a link started with a challenge can only be redeemed
//! with the verifier whose base64url SHA-256 it is, so a link opened on another device is useless.

use crate::crypto::constant_time_eq;
use crate::error::CoreResult;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The S256 challenge of a verifier: base64url (no padding) of its SHA-256.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A challenge as given in a request: empty is none; an S256 challenge is 43 characters, so
/// anything past 128 is refused before it is stored.
pub fn bounded_challenge(challenge: Option<&str>) -> CoreResult<Option<&str>> {
    match challenge.filter(|c| !c.is_empty()) {
        Some(c) if c.len() > 128 => Err(crate::error::catalogue::INVALID_ARGUMENT.field("pkce_code_challenge")),
        other => Ok(other),
    }
}

/// Checks `verifier` against the `challenge` the link was started with (either may be absent).
pub fn check(challenge: Option<&str>, verifier: Option<&str>) -> CoreResult<()> {
    match (challenge, verifier.filter(|v| !v.is_empty())) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(crate::error::catalogue::PKCE_EXPECTED_CODE_VERIFIER.err()),
        (None, Some(_)) => Err(crate::error::catalogue::PKCE_DID_NOT_EXPECT_CODE_VERIFIER.err()),
        (Some(c), Some(v)) => {
            if constant_time_eq(&challenge_of(v), c.trim_end_matches('=')) {
                Ok(())
            } else {
                Err(crate::error::catalogue::PKCE_MISMATCH.err())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies_and_every_mismatch_is_named() {
        assert!(check(Some(CHALLENGE), Some(VERIFIER)).is_ok());
        assert!(check(Some(&format!("{CHALLENGE}=")), Some(VERIFIER)).is_ok());
        assert!(check(None, None).is_ok());
        assert!(check(None, Some("")).is_ok(), "an empty verifier is no verifier");
        let kind = |r: CoreResult<()>| match r {
            Err(crate::CoreError::Invalid(f)) => f.error_type,
            other => panic!("expected a 400, got {other:?}"),
        };
        assert_eq!(kind(check(Some(CHALLENGE), None)), "pkce_expected_code_verifier");
        assert_eq!(kind(check(None, Some(VERIFIER))), "pkce_did_not_expect_code_verifier");
        assert_eq!(kind(check(Some(CHALLENGE), Some("wrong"))), "pkce_mismatch");
    }
}
