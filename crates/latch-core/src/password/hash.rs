//! Stored password hashes. Latch's own are argon2id PHC strings with the configured parameters;
//! imported ones keep their original scheme until the member's next successful login, when
//! `needs_upgrade` tells the caller to rehash with argon2id.

use crate::password::imported::Imported;
use crate::password::memory;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

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

    fn params(&self) -> Result<Params, String> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None).map_err(|e| e.to_string())
    }

    pub fn validate(&self) -> Result<(), String> {
        self.params().map(|_| ())
    }

    /// A fresh argon2id hash of `password` as a PHC string (what `PasswordHasher::hash_password`
    /// makes, computed on the thread's reusable memory). CPU-heavy: call on the CPU pool.
    pub fn hash(&self, password: &str) -> Result<PasswordHash, String> {
        let params = self.params()?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(|e| e.to_string())?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        memory::hash_into(&argon, &params, password.as_bytes(), salt_bytes, &mut out).map_err(|e| e.to_string())?;
        let phc = argon2::PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
        };
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
            PasswordHash::Argon2 { phc } => verify_argon2(phc, password).unwrap_or(false),
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

/// What `PasswordVerifier::verify_password` does for argon2 PHC strings (argon2id, and argon2i
/// from imports), on the thread's reusable memory; `None` when the string does not parse.
fn verify_argon2(phc: &str, password: &str) -> Option<bool> {
    let parsed = argon2::PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed.version.map_or(Ok(Version::default()), Version::try_from).ok()?;
    let params = Params::try_from(&parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt_buf = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    memory::hash_into(&argon, &params, password.as_bytes(), salt, &mut out).ok()?;
    Some(expected.as_bytes().ct_eq(&out).into())
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

    /// Hashes made here verify with the argon2 crate's own verifier, and the other way round.
    #[test]
    fn agrees_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let p = Argon2Params {
            memory_kib: 64,
            iterations: 2,
            parallelism: 2,
        };
        let PasswordHash::Argon2 { phc } = p.hash("hunter42 hunter42").unwrap() else {
            panic!("argon2 expected")
        };
        let parsed = argon2::PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default().verify_password(b"hunter42 hunter42", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"hunter42", &parsed).is_err());

        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i] {
            let theirs = Argon2::new(algorithm, Version::V0x13, p.params().unwrap())
                .hash_password(b"s3cret", &SaltString::generate(&mut OsRng))
                .unwrap()
                .to_string();
            let h = PasswordHash::Argon2 { phc: theirs };
            assert!(h.verify("s3cret"));
            assert!(!h.verify("s3cre"));
        }
        // A bigger cost after a smaller one on the same thread reuses and grows the memory.
        let big = Argon2Params { memory_kib: 256, ..p };
        assert!(big.hash("x").unwrap().verify("x"));
        assert!(!PasswordHash::Argon2 {
            phc: "$argon2id$v=19$m=8,t=1,p=1$bad".into()
        }
        .verify("x"));
    }
}
