//! Compact JWS with RS256, exactly as the SDKs verify session JWTs: header `{alg, kid, typ}`,
//! base64url JSON, PKCS#1 v1.5 SHA-256 signatures. Verification accepts only RS256 with a known
//! `kid`, so `alg: none`, HS256 and key confusion are refused before any signature math.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a JWT")]
    Malformed,
    #[error("the token's algorithm or key is not accepted")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    BadSignature,
}

pub fn sign(key: &KeyPair, kid: &str, claims: &Value) -> String {
    sign_input(key, signing_input(kid, claims))
}

/// `header.payload`, the part of the JWT that the signature covers.
pub fn signing_input(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
    let mut out = String::with_capacity(1024);
    out.push_str(&URL_SAFE_NO_PAD.encode(header.to_string()));
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    out
}

/// The JWT: `input` with its signature appended.
pub fn sign_input(key: &KeyPair, mut out: String) -> String {
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        out.as_bytes(),
        &mut sig,
    )
    .expect("RSA signing with a valid key cannot fail");
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(sig));
    out
}

/// An RS256 verifier for a PKCS#1 DER public key, parsed once: parsing the key on every
/// verification cost about as much as the signature check itself.
pub fn verifier(public_der: &[u8]) -> Result<ParsedPublicKey, JwtError> {
    ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_der).map_err(|_| JwtError::UnknownKey)
}

/// The parts of a JWT before its signature is checked.
pub struct Unverified<'a> {
    pub kid: String,
    signed: &'a str,
    signature: Vec<u8>,
    payload: Vec<u8>,
}

pub fn parse(token: &str) -> Result<Unverified<'_>, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).map_err(|_| JwtError::Malformed)?)
        .map_err(|_| JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(JwtError::UnknownKey);
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(JwtError::UnknownKey)?
        .to_string();
    Ok(Unverified {
        kid,
        signed: &token[..h.len() + 1 + p.len()],
        signature: URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?,
        payload: URL_SAFE_NO_PAD.decode(p).map_err(|_| JwtError::Malformed)?,
    })
}

impl Unverified<'_> {
    /// Checks the signature with the public key (see `verifier`) and returns the claims.
    pub fn verify(self, key: &ParsedPublicKey) -> Result<Value, JwtError> {
        key.verify_sig(self.signed.as_bytes(), &self.signature)
            .map_err(|_| JwtError::BadSignature)?;
        let claims: Value = serde_json::from_slice(&self.payload).map_err(|_| JwtError::Malformed)?;
        if !claims.is_object() {
            return Err(JwtError::Malformed);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::KeyPair as _;

    fn key() -> KeyPair {
        KeyPair::generate(KeySize::Rsa2048).unwrap()
    }

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn round_trip_and_tampering() {
        let k = key();
        let der = verifier(k.public_key().as_ref()).unwrap();
        let t = sign(&k, "kid-1", &json!({"sub": "m"}));
        let u = parse(&t).unwrap();
        assert_eq!(u.kid, "kid-1");
        assert_eq!(u.verify(&der).unwrap()["sub"], "m");
        // A changed payload with the old signature fails.
        let parts: Vec<&str> = t.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], b64(&json!({"sub": "admin"})), parts[2]);
        assert_eq!(
            parse(&forged).unwrap().verify(&der).unwrap_err(),
            JwtError::BadSignature
        );
        // Another key's signature fails.
        let other = sign(&key(), "kid-1", &json!({"sub": "m"}));
        assert_eq!(parse(&other).unwrap().verify(&der).unwrap_err(), JwtError::BadSignature);
    }

    #[test]
    fn refuses_other_algorithms() {
        for alg in ["none", "HS256", "RS512", "rs256"] {
            let t = format!(
                "{}.{}.",
                b64(&json!({"alg": alg, "kid": "kid-1"})),
                b64(&json!({"sub": "m"}))
            );
            assert_eq!(parse(&t).err(), Some(JwtError::UnknownKey), "{alg}");
        }
        let no_kid = format!("{}.{}.c2ln", b64(&json!({"alg": "RS256"})), b64(&json!({})));
        assert_eq!(parse(&no_kid).err(), Some(JwtError::UnknownKey));
        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert!(parse(junk).is_err(), "{junk}");
        }
    }
}
