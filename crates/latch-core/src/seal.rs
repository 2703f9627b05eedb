//! Secrets at rest: values the server must read back (signing keys, TOTP secrets, recovery codes,
//! IdP client secrets, provider tokens, undelivered messages) are sealed with AES-256-GCM under a
//! key-encryption key (KEK) that never enters the database.
//!
//! A sealed value is `s1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The record's identity
//! (table, column, primary key) is the associated data, so a ciphertext copied into another row
//! or column fails to open instead of lending its secret there. `kid` names the KEK (a digest of
//! it, so operators never number keys by hand); a `Sealer` holds the current KEK, which seals, and
//! any previous ones, which only open, so a KEK can be rotated without downtime: publish the new
//! key on every node as a previous key, make it current, run `latch keys rewrap`, then drop the
//! old one.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Marks a sealed value and its format version.
pub const PREFIX: &str = "s1.";
/// A KEK is 256 bits.
pub const KEY_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("value is sealed with key {0}, which this server does not have")]
    UnknownKey(String),
    #[error("sealed value is malformed or was altered")]
    Corrupt,
    #[error("key-encryption key: {0}")]
    BadKey(String),
}

struct Kek {
    id: String,
    key: LessSafeKey,
    /// Keys the digests of short codes (`code_digest_keys`), derived from the KEK.
    digest_key: [u8; 32],
}

impl Kek {
    fn new(bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.len() != KEY_LEN {
            return Err(SealError::BadKey(format!(
                "must be {KEY_LEN} bytes, got {}",
                bytes.len()
            )));
        }
        let key =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealError::BadKey("rejected by AES-256-GCM".into()))?;
        let digest_key = Sha256::new()
            .chain_update(b"latch code digest key\0")
            .chain_update(bytes)
            .finalize()
            .into();
        Ok(Self {
            id: key_id(bytes),
            key: LessSafeKey::new(key),
            digest_key,
        })
    }
}

/// The id of a KEK: the first 64 bits of a domain-separated SHA-256, in hex. It reveals nothing
/// usable about the key and is the same on every node that holds it.
pub fn key_id(key: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"latch kek id\0")
        .chain_update(key)
        .finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a KEK written as base64 (standard or URL-safe, padding optional; whitespace ignored).
pub fn parse_key(text: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let trimmed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let unpadded = trimmed.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(unpadded.replace('+', "-").replace('/', "_"))
        .map_err(|_| SealError::BadKey("not base64".into()))?;
    if bytes.len() != KEY_LEN {
        return Err(SealError::BadKey(format!(
            "must decode to {KEY_LEN} bytes, got {}",
            bytes.len()
        )));
    }
    Ok(Zeroizing::new(bytes))
}

/// A new random KEK, base64 (what `latch keys kek` prints and a development server writes).
pub fn generate_key() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .expect("the OS random generator failed");
    Zeroizing::new(STANDARD.encode(bytes.as_ref()))
}

/// The current KEK and the previous ones still accepted for opening.
pub struct Sealer {
    current: Kek,
    previous: Vec<Kek>,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("current", &self.current.id)
            .field("previous", &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>())
            .finish()
    }
}

impl Sealer {
    pub fn new(current: &[u8], previous: &[&[u8]]) -> Result<Self, SealError> {
        let current = Kek::new(current)?;
        let previous = previous
            .iter()
            .map(|k| Kek::new(k))
            .filter(|k| !matches!(k, Ok(k) if k.id == current.id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            current,
            previous,
            rng: SystemRandom::new(),
        })
    }

    /// A sealer with a fresh random key, for tests and tools that never reopen what they seal.
    pub fn ephemeral() -> Self {
        let key = parse_key(&generate_key()).expect("a generated key parses");
        Self::new(&key, &[]).expect("a generated key is valid")
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Keys for digests of low-entropy codes (six-digit OTPs): a salted SHA-256 of one of a
    /// million codes is undone by trying them all, a keyed one not without the KEK. The current
    /// key's first; the others still check codes minted before a rotation.
    pub fn code_digest_keys(&self) -> Vec<[u8; 32]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|k| k.digest_key)
            .collect()
    }

    /// Every key id this sealer can open.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.current.id.as_str()).chain(self.previous.iter().map(|k| k.id.as_str()))
    }

    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("the OS random generator failed");
        let mut buf = plaintext.to_vec();
        self.current
            .key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad.as_bytes()), &mut buf)
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        format!("{PREFIX}{}.{}", self.current.id, URL_SAFE_NO_PAD.encode(out))
    }

    pub fn seal_str(&self, aad: &str, plaintext: &str) -> String {
        self.seal(aad, plaintext.as_bytes())
    }

    pub fn open(&self, aad: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let rest = sealed.strip_prefix(PREFIX).ok_or(SealError::Corrupt)?;
        let (kid, body) = rest.split_once('.').ok_or(SealError::Corrupt)?;
        let kek = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == kid)
            .ok_or_else(|| SealError::UnknownKey(kid.to_string()))?;
        let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealError::Corrupt)?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::Corrupt);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Corrupt)?;
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let len = kek
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), buf.as_mut_slice())
            .map_err(|_| SealError::Corrupt)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    pub fn open_str(&self, aad: &str, sealed: &str) -> Result<String, SealError> {
        let bytes = self.open(aad, sealed)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| SealError::Corrupt)
    }

    /// Whether `value` is sealed under the current key (nothing for `latch keys rewrap` to do).
    pub fn is_current(&self, value: &str) -> bool {
        value
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(kid, _)| kid == self.current.id)
    }
}

/// Whether `value` has the sealed format (a value written before sealing existed does not).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The associated data naming one field of one record.
pub fn aad(table: &str, column: &str, id: &str) -> String {
    format!("{table}.{column}:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Vec<u8> {
        vec![b; KEY_LEN]
    }

    #[test]
    fn round_trips_and_binds_the_record() {
        let s = Sealer::new(&key(1), &[]).unwrap();
        let sealed = s.seal_str("totp.secret:a", "JBSWY3DPEHPK3PXP");
        assert!(sealed.starts_with(&format!("s1.{}.", s.current_id())));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(s.open_str("totp.secret:a", &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        // Moved to another record or column: refused.
        assert_eq!(s.open_str("totp.secret:b", &sealed), Err(SealError::Corrupt));
        // Two seals of one value differ (fresh nonce).
        assert_ne!(sealed, s.seal_str("totp.secret:a", "JBSWY3DPEHPK3PXP"));
    }

    #[test]
    fn tampering_and_plaintext_are_refused() {
        let s = Sealer::new(&key(1), &[]).unwrap();
        let sealed = s.seal_str("t.c:1", "value");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            s.open_str("t.c:1", &String::from_utf8(bytes).unwrap()),
            Err(SealError::Corrupt)
        );
        assert_eq!(s.open_str("t.c:1", "value"), Err(SealError::Corrupt));
        assert_eq!(s.open_str("t.c:1", "s1."), Err(SealError::Corrupt));
        assert_eq!(
            s.open_str("t.c:1", &format!("s1.{}.AAAA", s.current_id())),
            Err(SealError::Corrupt)
        );
    }

    #[test]
    fn previous_keys_open_and_unknown_keys_are_named() {
        let old = Sealer::new(&key(1), &[]).unwrap();
        let sealed = old.seal_str("t.c:1", "v");
        let rotated = Sealer::new(&key(2), &[&key(1)]).unwrap();
        assert_eq!(rotated.open_str("t.c:1", &sealed).unwrap(), "v");
        assert!(!rotated.is_current(&sealed));
        assert!(rotated.is_current(&rotated.seal_str("t.c:1", "v")));
        let other = Sealer::new(&key(3), &[]).unwrap();
        assert_eq!(
            other.open_str("t.c:1", &sealed),
            Err(SealError::UnknownKey(old.current_id().into()))
        );
    }

    #[test]
    fn code_digest_keys_follow_the_kek_current_first() {
        let one = Sealer::new(&key(1), &[]).unwrap().code_digest_keys();
        let rotated = Sealer::new(&key(2), &[&key(1)]).unwrap().code_digest_keys();
        assert_eq!(rotated.len(), 2);
        assert_eq!(rotated[1], one[0], "codes minted before a rotation still check");
        assert_ne!(rotated[0], one[0]);
        assert_ne!(one[0].to_vec(), key(1), "derived, not the KEK itself");
    }

    #[test]
    fn keys_parse_from_base64_of_the_right_length() {
        let text = generate_key();
        assert_eq!(parse_key(&text).unwrap().len(), KEY_LEN);
        assert_eq!(parse_key(&format!("  {}\n", text.as_str())).unwrap().len(), KEY_LEN);
        assert!(matches!(parse_key("c2hvcnQ="), Err(SealError::BadKey(_))));
        assert!(matches!(parse_key("not base64!"), Err(SealError::BadKey(_))));
        assert_eq!(key_id(&key(1)), key_id(&key(1)));
        assert_ne!(key_id(&key(1)), key_id(&key(2)));
    }
}
