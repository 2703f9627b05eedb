//! Session bounds and custom claims: how long a session may be asked to last, and how a claims
//! update merges into the stored claims.

use crate::error::{CoreError, CoreResult};
use serde_json::{Map, Value};

pub const JWT_LIFETIME_SECS: i64 = 300;

pub const DEFAULT_DURATION_MINUTES: i64 = 60;

const MIN_DURATION_MINUTES: i64 = 5;

const MAX_DURATION_MINUTES: i64 = 527_040;

const RESERVED_CLAIMS: &[&str] = &["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

pub const STYTCH_SESSION_CLAIM: &str = "https://stytch.com/session";

pub const STYTCH_ORG_CLAIM: &str = "https://stytch.com/organization";

const MAX_CLAIMS_BYTES: usize = 4096;

pub fn check_duration(minutes: Option<i64>) -> CoreResult<Option<i64>> {
    match minutes {
        Some(m) if !(MIN_DURATION_MINUTES..=MAX_DURATION_MINUTES).contains(&m) => {
            Err(crate::error::catalogue::INVALID_SESSION_DURATION_MINUTES.err())
        }
        other => Ok(other),
    }
}

/// Merges `update` into `claims`: a null value deletes a key, reserved JWT claims are ignored,
/// Stytch's namespaces are refused, and the result must stay within 4 KB.
pub fn merge_claims(claims: &mut Map<String, Value>, update: Option<&Value>) -> CoreResult<()> {
    let Some(update) = update.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let Value::Object(update) = update else {
        return Err(CoreError::argument("session_custom_claims", "must be a JSON object"));
    };
    let mut merged = claims.clone();
    for (k, v) in update {
        if RESERVED_CLAIMS.contains(&k.as_str()) {
            continue;
        }
        if k.starts_with("https://stytch.com/") {
            return Err(crate::error::catalogue::STYTCH_CLAIMS_IN_CUSTOM_CLAIMS.detail(k));
        }
        if v.is_null() {
            merged.remove(k);
        } else {
            merged.insert(k.clone(), v.clone());
        }
    }
    if Value::Object(merged.clone()).to_string().len() > MAX_CLAIMS_BYTES {
        return Err(crate::error::catalogue::CUSTOM_CLAIMS_TOO_LARGE.err());
    }
    *claims = merged;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert!(check_duration(Some(4)).is_err());
        assert!(check_duration(Some(527_041)).is_err());
        assert_eq!(check_duration(Some(5)).unwrap(), Some(5));
        assert_eq!(check_duration(None).unwrap(), None);
    }

    #[test]
    fn claims_merge_rules() {
        let mut c = Map::new();
        merge_claims(&mut c, Some(&json!({"a": 1, "b": 2, "sub": "evil", "exp": 0}))).unwrap();
        assert_eq!(Value::Object(c.clone()), json!({"a": 1, "b": 2}));
        merge_claims(&mut c, Some(&json!({"a": null, "c": [1]}))).unwrap();
        assert_eq!(Value::Object(c.clone()), json!({"b": 2, "c": [1]}));
        assert!(merge_claims(&mut c, Some(&json!({"https://stytch.com/session": {}}))).is_err());
        assert!(merge_claims(&mut c, Some(&json!({"big": "x".repeat(5000)}))).is_err());
        assert!(merge_claims(&mut c, Some(&json!([1]))).is_err());
        // A refused update changes nothing.
        assert_eq!(Value::Object(c), json!({"b": 2, "c": [1]}));
    }
}
