//! Session-JWT signing keys: RSA 2048, one signing key per project at a time, generated on first
//! use and kept in the database so every node signs with and publishes the same keys.
//!
//! Rotation: `rotate` adds a key and retires the others `prepublish` from now, not at once. A node
//! rereads the keys at least every `CACHE_TTL_MS`, so with `prepublish` longer than that every node
//! publishes the new key in its JWKS before any node signs with it: an application that verifies
//! JWTs locally, behind a load balancer, never meets a `kid` the JWKS it fetched lacks. The
//! signing key at any moment is the unretired key that retires first (`signer`), so every node
//! switches at the same time without talking to the others. A retired key is still published for
//! `PUBLISH_RETIRED_MS` after it last signed (longer than a JWT lives plus a cache refresh), so
//! every JWT it signed keeps verifying; the server keeps it for `VERIFY_RETIRED_MS` to accept
//! expired-but-genuine JWTs in sessions.authenticate, then it is purged.
//!
//! Revocation (a leaked key): `revoke` marks keys revoked, wipes their private halves and, when
//! the newest key is among them, makes a new one that signs at once. A revoked key is never loaded
//! again, so it neither signs, verifies nor appears in the JWKS. Other processes learn of it
//! through `sync_revocations`, which the server calls every `REVOCATION_POLL`.
//!
//! Time comes from a `Clock` (a manual one in tests), including the cache's age.

use crate::clock::{Clock, Timestamp};
use crate::cpu::CpuPool;
use crate::error::{CoreError, CoreResult};
use crate::ids::ProjectId;
pub use crate::model::signing_key::SigningKeyRecord;
use crate::store::Store;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use zeroize::Zeroizing;

/// How long a node trusts its cached keys before rereading them (another node may have rotated).
pub const CACHE_TTL_MS: i64 = 30_000;
/// How long `latch keys rotate` publishes a new key before it signs: twice the cache lifetime, so
/// a node that reread its keys just before the rotation has reread them again well before.
pub const PREPUBLISH_MS: i64 = 2 * CACHE_TTL_MS;
/// How often a server asks the store for newly revoked keys (see `sync_revocations`).
pub const REVOCATION_POLL: Duration = Duration::from_secs(2);
/// A session JWT lives 5 minutes; a node may sign with a retired key for up to `CACHE_TTL_MS`
/// after its retirement (its cache still has it unretired). Ten minutes covers both.
pub const PUBLISH_RETIRED_MS: i64 = 10 * 60_000;
const _: () = assert!(PREPUBLISH_MS > CACHE_TTL_MS);
const _: () = assert!(PUBLISH_RETIRED_MS > crate::rules::session::JWT_LIFETIME_SECS * 1000 + CACHE_TTL_MS);
pub const VERIFY_RETIRED_MS: i64 = 30 * 24 * 3_600_000;

pub struct LoadedKey {
    pub kid: String,
    pub pair: KeyPair,
    pub verifier: Arc<ParsedPublicKey>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
    n: String,
    e: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub key_ops: [&'static str; 1],
    pub alg: &'static str,
    pub kid: String,
    pub x5c: [String; 0],
    #[serde(rename = "x5tS256")]
    pub x5t_s256: &'static str,
    pub n: String,
    pub e: String,
}

struct Cached {
    at: Timestamp,
    keys: Arc<Vec<LoadedKey>>,
}

pub struct Keyring {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cpu: CpuPool,
    cache: RwLock<HashMap<ProjectId, Cached>>,
    memo: Mutex<SignatureMemo>,
    revocations: Mutex<Revocations>,
}

/// Revoked keys this keyring has learnt of, by (project id, kid): never loaded again, even by a
/// reread that raced the revocation.
#[derive(Default)]
struct Revocations {
    known: HashSet<(ProjectId, String)>,
    /// Projects found with new revocations by the previous poll, reported once more by the next
    /// one: a verification that read the keys just before the first report may have remembered
    /// its result just after.
    recent: HashSet<ProjectId>,
}

/// What `revoke` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Revoked {
    /// The key made to replace a revoked active key.
    pub new_kid: Option<String>,
    pub revoked: Vec<String>,
}

/// What `rotate` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotated {
    pub kid: String,
    /// When the new key starts signing (the old ones stop): until then it is only published.
    pub signs_from: Timestamp,
}

/// JWTs signed during the current second, by signing input. RS256 (PKCS#1 v1.5) is deterministic,
/// so the same header and claims give the same JWT: a session checked several times within one
/// second (its claims carry second-resolution times) is signed once. Older entries can never match
/// again (`iat` has moved on), so the memo is emptied each second.
#[derive(Default)]
struct SignatureMemo {
    second: i64,
    jwts: HashMap<String, String>,
}

/// Bounds the memo's memory (about 1 KiB an entry) in a second with very many distinct sessions.
const MEMO_CAPACITY: usize = 4096;

impl SignatureMemo {
    fn get(&mut self, second: i64, input: &str) -> Option<String> {
        if self.second != second {
            self.second = second;
            self.jwts.clear();
        }
        self.jwts.get(input).cloned()
    }

    fn put(&mut self, second: i64, input: String, jwt: &str) {
        if self.second == second && self.jwts.len() < MEMO_CAPACITY {
            self.jwts.insert(input, jwt.to_owned());
        }
    }
}

fn load(r: &SigningKeyRecord) -> CoreResult<LoadedKey> {
    let der = Zeroizing::new(STANDARD.decode(&*r.private_pkcs8).map_err(CoreError::internal)?);
    let pair = KeyPair::from_pkcs8(&der).map_err(CoreError::internal)?;
    let public = pair.public_key();
    let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
    let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
    let verifier = super::jwt::verifier(public.as_ref()).map_err(CoreError::internal)?;
    Ok(LoadedKey {
        kid: r.kid.clone(),
        verifier: Arc::new(verifier),
        pair,
        created_at: r.created_at,
        retired_at: r.retired_at,
        n,
        e,
    })
}

/// The key that signs at `now`, of `keys` sorted newest first: among keys not retired by then,
/// the one retiring first (a rotation retires the old key in the future, when the new one has been
/// published everywhere), and among keys never retired, the newest.
fn signer(keys: &[LoadedKey], now: Timestamp) -> Option<usize> {
    keys.iter()
        .enumerate()
        .filter(|(_, k)| k.retired_at.is_none_or(|t| t > now))
        .min_by_key(|(i, k)| (k.retired_at.unwrap_or(Timestamp(i64::MAX)), *i))
        .map(|(i, _)| i)
}

impl LoadedKey {
    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "RSA",
            use_: "sig",
            key_ops: ["verify"],
            alg: "RS256",
            kid: self.kid.clone(),
            x5c: [],
            x5t_s256: "",
            n: self.n.clone(),
            e: self.e.clone(),
        }
    }
}

impl Keyring {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, cpu: CpuPool) -> Self {
        Self {
            store,
            clock,
            cpu,
            cache: RwLock::new(HashMap::new()),
            memo: Mutex::new(SignatureMemo::default()),
            revocations: Mutex::new(Revocations::default()),
        }
    }

    /// An empty keyring like this one that reads `clock` (tests move a `ManualClock`).
    pub fn on_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Self::new(self.store.clone(), clock, self.cpu.clone())
    }

    async fn generate(&self, project_id: &ProjectId) -> CoreResult<SigningKeyRecord> {
        let pkcs8 = self
            .cpu
            .run(|| -> CoreResult<Zeroizing<Vec<u8>>> {
                let pair = KeyPair::generate(KeySize::Rsa2048).map_err(CoreError::internal)?;
                Ok(Zeroizing::new(
                    pair.as_der().map_err(CoreError::internal)?.as_ref().to_vec(),
                ))
            })
            .await??;
        let record = SigningKeyRecord {
            kid: format!("jwk-test-{}", uuid::Uuid::new_v4()),
            project_id: project_id.clone(),
            private_pkcs8: Zeroizing::new(STANDARD.encode(&*pkcs8)),
            created_at: self.clock.now(),
            retired_at: None,
            revoked_at: None,
        };
        self.store.insert_signing_key(&record).await?;
        Ok(record)
    }

    /// Rereads the project's keys, creating the first one if there is none.
    async fn reload(&self, project_id: &ProjectId) -> CoreResult<Arc<Vec<LoadedKey>>> {
        let mut records = self.store.signing_keys(project_id).await?;
        {
            let revocations = self.revocations.lock().expect("revocations lock");
            records.retain(|r| {
                r.revoked_at.is_none() && !revocations.known.contains(&(project_id.clone(), r.kid.clone()))
            });
        }
        if !records.iter().any(|r| r.retired_at.is_none()) {
            records.push(self.generate(project_id).await?);
        }
        let now = self.clock.now();
        let horizon = now.millis() - VERIFY_RETIRED_MS;
        let mut keys: Vec<LoadedKey> = records
            .iter()
            .filter(|r| r.retired_at.is_none_or(|t| t.millis() > horizon))
            .map(load)
            .collect::<CoreResult<_>>()?;
        // Newest first: the first active key signs.
        keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.kid.cmp(&a.kid)));
        let keys = Arc::new(keys);
        let mut cache = self.cache.write().expect("keyring lock");
        cache.insert(
            project_id.clone(),
            Cached {
                at: now,
                keys: keys.clone(),
            },
        );
        Ok(keys)
    }

    async fn keys(&self, project_id: &ProjectId) -> CoreResult<Arc<Vec<LoadedKey>>> {
        {
            let cache = self.cache.read().expect("keyring lock");
            if let Some(c) = cache.get(project_id) {
                let age = self.clock.now().millis() - c.at.millis();
                if (0..CACHE_TTL_MS).contains(&age) {
                    return Ok(c.keys.clone());
                }
            }
        }
        self.reload(project_id).await
    }

    /// Signs `claims` with the project's current signing key (see `signer`), on the CPU pool (or
    /// from the memo).
    pub async fn sign(&self, project_id: &ProjectId, claims: serde_json::Value) -> CoreResult<String> {
        let keys = self.keys(project_id).await?;
        let now = self.clock.now();
        let active = signer(&keys, now).expect("reload guarantees a key that is never retired");
        let input = super::jwt::signing_input(&keys[active].kid, &claims);
        let second = now.unix_seconds();
        if let Some(jwt) = self.memo.lock().expect("memo lock").get(second, &input) {
            return Ok(jwt);
        }
        let key_input = input.clone();
        let jwt = self
            .cpu
            .run(move || super::jwt::sign_input(&keys[active].pair, key_input))
            .await?;
        self.memo.lock().expect("memo lock").put(second, input, &jwt);
        Ok(jwt)
    }

    /// The public key for `kid`, rereading once when it is unknown (rotated on another node).
    /// Every caller that presents a JWT has already proven the project secret, so a reread per
    /// unknown `kid` costs no more than any other authenticated request; a cooldown would instead
    /// let forged tokens delay the discovery of a genuinely new key.
    pub async fn public_key(&self, project_id: &ProjectId, kid: &str) -> CoreResult<Option<Arc<ParsedPublicKey>>> {
        let find = |keys: &[LoadedKey]| keys.iter().find(|k| k.kid == kid).map(|k| k.verifier.clone());
        if let Some(der) = find(&self.keys(project_id).await?) {
            return Ok(Some(der));
        }
        Ok(find(&self.reload(project_id).await?))
    }

    /// Keys to publish: those not yet signing, the signing one, and those retired within the
    /// publishing window.
    pub async fn jwks(&self, project_id: &ProjectId) -> CoreResult<Vec<Jwk>> {
        let now = self.clock.now().millis();
        let keys = self.keys(project_id).await?;
        Ok(keys
            .iter()
            .filter(|k| k.retired_at.is_none_or(|t| now - t.millis() < PUBLISH_RETIRED_MS))
            .map(LoadedKey::jwk)
            .collect())
    }

    /// A new key, published at once; it signs from `prepublish` on, when the previous ones retire
    /// (they stay published for `PUBLISH_RETIRED_MS` after that). Give `PREPUBLISH_MS`, or
    /// anything longer than `CACHE_TTL_MS`, when other nodes serve the project.
    pub async fn rotate(&self, project_id: &ProjectId, prepublish: Duration) -> CoreResult<Rotated> {
        let record = self.generate(project_id).await?;
        let signs_from = Timestamp(record.created_at.millis() + prepublish.as_millis() as i64);
        self.store
            .retire_signing_keys(project_id, &record.kid, signs_from)
            .await?;
        self.reload(project_id).await?;
        Ok(Rotated {
            kid: record.kid,
            signs_from,
        })
    }

    /// Revokes `kid`, or with `None` every key but a new one. Revoking the active key makes a
    /// new one first, so the project can always sign.
    pub async fn revoke(&self, project_id: &ProjectId, kid: Option<&str>) -> CoreResult<Revoked> {
        let records = self.store.signing_keys(project_id).await?;
        let live = |r: &&SigningKeyRecord| r.revoked_at.is_none();
        let now = self.clock.now();
        let done = match kid {
            Some(kid) => {
                let Some(target) = records.iter().filter(live).find(|r| r.kid == kid) else {
                    return Err(crate::error::catalogue::SIGNING_KEY_NOT_FOUND.err());
                };
                // A leaked key's successor signs at once: the revocation makes every node reread
                // the keys within `REVOCATION_POLL`, so it is published everywhere about as soon.
                let new_kid = match target.retired_at {
                    None => Some(self.rotate(project_id, Duration::ZERO).await?.kid),
                    Some(_) => None,
                };
                self.store.revoke_signing_key(project_id, kid, now).await?;
                Revoked {
                    new_kid,
                    revoked: vec![kid.to_string()],
                }
            }
            None => {
                let new_kid = self.rotate(project_id, Duration::ZERO).await?.kid;
                self.store.revoke_signing_keys_except(project_id, &new_kid, now).await?;
                let mut revoked: Vec<String> = records.iter().filter(live).map(|r| r.kid.clone()).collect();
                revoked.sort();
                Revoked {
                    new_kid: Some(new_kid),
                    revoked,
                }
            }
        };
        {
            let mut revocations = self.revocations.lock().expect("revocations lock");
            for kid in &done.revoked {
                revocations.known.insert((project_id.clone(), kid.clone()));
            }
        }
        self.reload(project_id).await?;
        Ok(done)
    }

    /// Learns of keys revoked by another process and forgets them; the projects whose cached
    /// verifications must go (those with new revocations, reported by two successive calls).
    pub async fn sync_revocations(&self) -> CoreResult<Vec<ProjectId>> {
        let all = self.store.revoked_signing_keys().await?;
        let affected: HashSet<ProjectId> = {
            let mut revocations = self.revocations.lock().expect("revocations lock");
            let mut fresh = HashSet::new();
            for key in all {
                if !revocations.known.contains(&key) {
                    fresh.insert(key.0.clone());
                    revocations.known.insert(key);
                }
            }
            let previous = std::mem::replace(&mut revocations.recent, fresh.clone());
            fresh.union(&previous).cloned().collect()
        };
        if !affected.is_empty() {
            let mut cache = self.cache.write().expect("keyring lock");
            for project_id in &affected {
                cache.remove(project_id);
            }
        }
        Ok(affected.into_iter().collect())
    }
}
