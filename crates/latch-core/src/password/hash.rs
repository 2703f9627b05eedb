//! Stored password hashes. Latch's own are argon2id PHC strings with the configured parameters;
//! imported ones keep their original scheme until the member's next successful login, when
//! `needs_upgrade` tells the caller to rehash with argon2id.

use crate::password::imported::Imported;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};

/// argon2id cost. Defaults are OWASP's (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    /// The cheapest parameters argon2 accepts: for tests only, never for real passwords.
    pub fn minimum_for_tests() -> Self {
        Self {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn hasher(&self) -> Result<Argon2<'static>, String> {
        let params =
            Params::new(self.memory_kib, self.iterations, self.parallelism, None).map_err(|e| e.to_string())?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    pub fn validate(&self) -> Result<(), String> {
        self.hasher().map(|_| ())
    }

    /// A fresh argon2id hash of `password`. CPU-heavy: call on the CPU pool.
    pub fn hash(&self, password: &str) -> Result<PasswordHash, String> {
        let salt = SaltString::generate(&mut OsRng);
        let phc = self
            .hasher()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| e.to_string())?;
        Ok(PasswordHash::Argon2 { phc: phc.to_string() })
    }
}

/// A hash as stored (JSON in the database).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum PasswordHash {
    /// argon2id or argon2i, PHC-encoded.
    Argon2 { phc: String },
    /// Any other imported scheme.
    Imported(Imported),
}

impl PasswordHash {
    /// Checks `password` in the hash's own scheme. CPU-heavy: call on the CPU pool.
    pub fn verify(&self, password: &str) -> bool {
        match self {
            PasswordHash::Argon2 { phc } => match argon2::PasswordHash::new(phc) {
                Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
                Err(_) => false,
            },
            PasswordHash::Imported(i) => i.verify(password),
        }
    }

    /// Whether a successful login should rehash: imported schemes, argon2i, or other costs.
    pub fn needs_upgrade(&self, params: &Argon2Params) -> bool {
        let PasswordHash::Argon2 { phc } = self else {
            return true;
        };
        let Ok(parsed) = argon2::PasswordHash::new(phc) else {
            return true;
        };
        if parsed.algorithm.as_str() != "argon2id" {
            return true;
        }
        let p = |name: &str| parsed.params.get_decimal(name);
        p("m") != Some(params.memory_kib) || p("t") != Some(params.iterations) || p("p") != Some(params.parallelism)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("hash serializes")
    }

    pub fn from_json(s: &str) -> Option<Self> {
        serde_json::from_str(s).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip_and_upgrade_rule() {
        let p = Argon2Params::minimum_for_tests();
        let h = p.hash("correct horse").unwrap();
        assert!(h.verify("correct horse"));
        assert!(!h.verify("correct hors"));
        assert!(!h.needs_upgrade(&p));
        assert!(h.needs_upgrade(&Argon2Params { iterations: 3, ..p }));
        let back = PasswordHash::from_json(&h.to_json()).unwrap();
        assert_eq!(back, h);
    }
}
