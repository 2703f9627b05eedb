//! A password as a request gives it, bounded before anything else sees it.
//!
//! Verifying an imported phpass hash costs 2^log2 MD5 rounds over the whole password, so an
//! unbounded password (up to the 1 MiB body limit) made one login attempt cost seconds of CPU.
//! The bound is checked while the request is parsed: no hash, no zxcvbn, no store read happens
//! for a longer one.

use serde::{Deserialize, Deserializer};
use std::ops::Deref;

/// Longest password accepted anywhere, in characters (at most 1 KiB of UTF-8).
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Clone, PartialEq, Eq, Default)]
// A plain string on the wire (at most `MAX_PASSWORD_CHARS`), so in the OpenAPI document too.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct GivenPassword(String);

impl GivenPassword {
    pub fn new(s: String) -> Result<Self, String> {
        // Count no further than needed: a megabyte-long string is refused after 257 characters.
        if s.chars().nth(MAX_PASSWORD_CHARS).is_some() {
            return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        Ok(Self(s))
    }
}

impl Deref for GivenPassword {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Never printed: a derived `Debug` would put it in any log line that prints its request.
impl std::fmt::Debug for GivenPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GivenPassword(..)")
    }
}

impl<'de> Deserialize<'de> for GivenPassword {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        GivenPassword::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_in_characters_not_bytes() {
        assert!(GivenPassword::new("a".repeat(MAX_PASSWORD_CHARS)).is_ok());
        assert!(GivenPassword::new("é".repeat(MAX_PASSWORD_CHARS)).is_ok());
        assert!(GivenPassword::new("a".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        let parsed: Result<GivenPassword, _> = serde_json::from_str(&format!("\"{}\"", "x".repeat(1 << 20)));
        assert!(parsed.unwrap_err().to_string().contains("at most 256"));
    }

    #[test]
    fn never_printed() {
        let p = GivenPassword::new("hunter2".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
