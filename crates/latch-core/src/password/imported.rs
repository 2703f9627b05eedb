//! Hashes imported with `passwords.migrate`, verified in their original scheme. Every digest
//! comparison is constant-time. Parsing happens once, at import, so a malformed hash is refused
//! with Stytch's error for its type and never stored.

use crate::error::CoreResult;
use crate::password::hash::PasswordHash;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::Hmac;
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Imported {
    Bcrypt {
        mcf: String,
    },
    /// `digest(prepend_salt + password + append_salt)`, hex.
    Salted {
        algorithm: Digester,
        prepend: String,
        append: String,
        digest: Vec<u8>,
    },
    Scrypt {
        salt: Vec<u8>,
        log_n: u8,
        r: u32,
        p: u32,
        hash: Vec<u8>,
    },
    Pbkdf2 {
        salt: Vec<u8>,
        iterations: u32,
        sha512: bool,
        hash: Vec<u8>,
    },
    /// WordPress/phpBB portable hashes (`$P$` / `$H$`).
    Phpass {
        hash: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Digester {
    Md5,
    Sha1,
    Sha512,
}

impl Digester {
    fn digest(self, input: &[u8]) -> Vec<u8> {
        match self {
            Digester::Md5 => Md5::digest(input).to_vec(),
            Digester::Sha1 => Sha1::digest(input).to_vec(),
            Digester::Sha512 => Sha512::digest(input).to_vec(),
        }
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

impl Imported {
    pub fn verify(&self, password: &str) -> bool {
        match self {
            Imported::Bcrypt { mcf } => bcrypt::verify(password, mcf).unwrap_or(false),
            Imported::Salted {
                algorithm,
                prepend,
                append,
                digest,
            } => {
                let input = format!("{prepend}{password}{append}");
                ct_eq(&algorithm.digest(input.as_bytes()), digest)
            }
            Imported::Scrypt {
                salt,
                log_n,
                r,
                p,
                hash,
            } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p, hash.len()) else {
                    return false;
                };
                let mut out = vec![0u8; hash.len()];
                scrypt::scrypt(password.as_bytes(), salt, &params, &mut out).is_ok() && ct_eq(&out, hash)
            }
            Imported::Pbkdf2 {
                salt,
                iterations,
                sha512,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                let ok = if *sha512 {
                    pbkdf2::pbkdf2::<Hmac<Sha512>>(password.as_bytes(), salt, *iterations, &mut out).is_ok()
                } else {
                    pbkdf2::pbkdf2::<Hmac<Sha256>>(password.as_bytes(), salt, *iterations, &mut out).is_ok()
                };
                ok && ct_eq(&out, hash)
            }
            Imported::Phpass { hash } => phpass_verify(password, hash),
        }
    }
}

const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn phpass_encode(input: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < input.len() {
        let mut value = input[i] as u32;
        i += 1;
        out.push(ITOA64[(value & 0x3f) as usize] as char);
        if i < input.len() {
            value |= (input[i] as u32) << 8;
        }
        out.push(ITOA64[((value >> 6) & 0x3f) as usize] as char);
        if i >= input.len() {
            break;
        }
        i += 1;
        if i < input.len() {
            value |= (input[i] as u32) << 16;
        }
        out.push(ITOA64[((value >> 12) & 0x3f) as usize] as char);
        if i >= input.len() {
            break;
        }
        i += 1;
        out.push(ITOA64[((value >> 18) & 0x3f) as usize] as char);
    }
    out
}

fn phpass_parts(hash: &str) -> Option<(u32, &str)> {
    let b = hash.as_bytes();
    // ASCII only: the salt and digest are sliced by byte offset, which must not split a character.
    if hash.len() != 34 || !hash.is_ascii() || !(hash.starts_with("$P$") || hash.starts_with("$H$")) {
        return None;
    }
    let log2 = ITOA64.iter().position(|&c| c == b[3])? as u32;
    if !(7..=MAX_PHPASS_LOG2).contains(&log2) {
        return None;
    }
    Some((log2, &hash[4..12]))
}

fn phpass_verify(password: &str, hash: &str) -> bool {
    let Some((log2, salt)) = phpass_parts(hash) else {
        return false;
    };
    let mut digest = Md5::digest([salt.as_bytes(), password.as_bytes()].concat()).to_vec();
    for _ in 0..(1u64 << log2) {
        digest = Md5::digest([digest.as_slice(), password.as_bytes()].concat()).to_vec();
    }
    let computed = format!("{}{}", &hash[..12], phpass_encode(&digest));
    ct_eq(computed.as_bytes(), hash.as_bytes())
}

/// The optional config objects of the migrate request (objects.md#password-hash-config-objects).
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaltConfig {
    pub prepend_salt: String,
    pub append_salt: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Argon2Config {
    pub salt: String,
    pub iteration_amount: u32,
    pub memory: u32,
    pub threads: u32,
    pub key_length: u32,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScryptConfig {
    pub salt: String,
    pub n_parameter: u64,
    pub r_parameter: u32,
    pub p_parameter: u32,
    pub key_length: u32,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pbkdf2Config {
    pub salt: String,
    pub iteration_amount: u32,
    pub key_length: u32,
    #[serde(default)]
    pub algorithm: String,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HashConfigs {
    pub md_5_config: Option<SaltConfig>,
    pub sha_1_config: Option<SaltConfig>,
    pub sha_512_config: Option<SaltConfig>,
    pub argon_2_config: Option<Argon2Config>,
    pub scrypt_config: Option<ScryptConfig>,
    pub pbkdf_2_config: Option<Pbkdf2Config>,
}

/// Upper bounds on imported hashes' costs. A hash is verified at login on the CPU pool; without
/// caps one migrated hash (bcrypt cost 31, argon2 with gigabytes, phpass 2^30 rounds) would let a
/// single login attempt occupy a core for hours or exhaust memory.
const MAX_BCRYPT_COST: u32 = 16;
const MAX_PHPASS_LOG2: u32 = 20;
const MAX_ARGON2_MEMORY_KIB: u32 = 262_144;
const MAX_ARGON2_ITERATIONS: u32 = 32;
const MAX_ARGON2_LANES: u32 = 16;
const MIN_ARGON2_SALT: usize = 8;
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;
const MIN_PBKDF2_KEY_LENGTH: usize = 10;

fn hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) || !s.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn b64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(s.trim_end_matches('=')))
        .ok()
}

fn salted(
    hash: &str,
    algorithm: Digester,
    len: usize,
    cfg: Option<&SaltConfig>,
    err: crate::error::catalogue::ErrorKind,
) -> CoreResult<PasswordHash> {
    let digest = hex(hash)
        .filter(|d| d.len() == len)
        .ok_or_else(|| err.detail(format!("expected a {}-character hex digest", len * 2)))?;
    let (prepend, append) = cfg
        .map(|c| (c.prepend_salt.clone(), c.append_salt.clone()))
        .unwrap_or_default();
    Ok(PasswordHash::Imported(Imported::Salted {
        algorithm,
        prepend,
        append,
        digest,
    }))
}

fn argon2(hash: &str, id: bool, cfg: Option<&Argon2Config>) -> CoreResult<PasswordHash> {
    let bad = |m: &str| crate::error::catalogue::INVALID_ARGON_2_HASH.detail(m);
    let want = if id { "argon2id" } else { "argon2i" };
    let phc = if hash.starts_with('$') {
        hash.to_string()
    } else {
        let cfg = cfg.ok_or_else(|| bad("argon_2_config is required for a hash that is not PHC-encoded."))?;
        let raw = hex(hash).ok_or_else(|| bad("The hash is neither PHC-encoded nor hex."))?;
        if raw.len() != cfg.key_length as usize {
            return Err(bad("The hash length does not match argon_2_config.key_length."));
        }
        format!(
            "${want}$v=19$m={},t={},p={}${}${}",
            cfg.memory,
            cfg.iteration_amount,
            cfg.threads,
            STANDARD_NO_PAD.encode(cfg.salt.as_bytes()),
            STANDARD_NO_PAD.encode(raw)
        )
    };
    let parsed = argon2::PasswordHash::new(&phc).map_err(|_| bad("The argon2 hash could not be parsed."))?;
    if parsed.algorithm.as_str() != want {
        return Err(bad(&format!("The hash is not {want}.")));
    }
    let too_costly = || bad("The argon2 cost exceeds what Latch accepts (256 MiB, 32 passes, 16 lanes).");
    // Checked before argon2 sees it: its `Params::new` computes `8 * p` in u32, which overflows
    // (a panic in a debug build) for p of 2^29 or more.
    if parsed.params.get_decimal("p").is_some_and(|p| p > MAX_ARGON2_LANES) {
        return Err(too_costly());
    }
    let params = argon2::Params::try_from(&parsed).map_err(|_| bad("The argon2 parameters are out of range."))?;
    if params.m_cost() > MAX_ARGON2_MEMORY_KIB
        || params.t_cost() > MAX_ARGON2_ITERATIONS
        || params.p_cost() > MAX_ARGON2_LANES
    {
        return Err(too_costly());
    }
    let mut salt_buf = [0u8; 64];
    let salt_len = parsed
        .salt
        .and_then(|s| s.decode_b64(&mut salt_buf).ok().map(|b| b.len()))
        .unwrap_or(0);
    if salt_len < MIN_ARGON2_SALT {
        return Err(bad("The argon2 salt must be at least 8 bytes."));
    }
    if parsed.hash.is_none_or(|h| h.len() < 4) {
        return Err(bad("The argon2 hash has no hash value."));
    }
    Ok(PasswordHash::Argon2 { phc })
}

fn scrypt_hash(hash: &str, cfg: Option<&ScryptConfig>) -> CoreResult<PasswordHash> {
    let bad = |m: &str| crate::error::catalogue::INVALID_SCRYPT_PARAMETERS.detail(m);
    if hash.starts_with("$scrypt$") {
        let parsed =
            argon2::password_hash::PasswordHash::new(hash).map_err(|_| bad("The scrypt hash could not be parsed."))?;
        let get = |k: &str| parsed.params.get_decimal(k);
        let (Some(ln), Some(r), Some(p)) = (get("ln"), get("r"), get("p")) else {
            return Err(bad("ln, r and p are required."));
        };
        let salt = parsed.salt.ok_or_else(|| bad("salt is required"))?;
        let mut salt_buf = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_buf).map_err(|_| bad("bad salt"))?.to_vec();
        let out = parsed.hash.ok_or_else(|| bad("hash is required"))?.as_bytes().to_vec();
        scrypt_limits(1u64.checked_shl(ln).unwrap_or(u64::MAX), r, p)?;
        scrypt::Params::new(ln as u8, r, p, out.len()).map_err(|_| bad("scrypt parameters out of range"))?;
        return Ok(PasswordHash::Imported(Imported::Scrypt {
            salt,
            log_n: ln as u8,
            r,
            p,
            hash: out,
        }));
    }
    let cfg = cfg.ok_or_else(|| bad("scrypt_config is required for a hash that is not PHC-encoded."))?;
    scrypt_limits(cfg.n_parameter, cfg.r_parameter, cfg.p_parameter)?;
    let n = cfg.n_parameter;
    let out = b64(hash).ok_or_else(|| bad("The scrypt hash must be base64."))?;
    if out.len() != cfg.key_length as usize {
        return Err(bad("The hash length does not match scrypt_config.key_length."));
    }
    let salt = b64(&cfg.salt).ok_or_else(|| bad("scrypt_config.salt must be base64."))?;
    let log_n = n.trailing_zeros() as u8;
    scrypt::Params::new(log_n, cfg.r_parameter, cfg.p_parameter, out.len())
        .map_err(|_| bad("scrypt parameters out of range"))?;
    Ok(PasswordHash::Imported(Imported::Scrypt {
        salt,
        log_n,
        r: cfg.r_parameter,
        p: cfg.p_parameter,
        hash: out,
    }))
}

/// N a power of two with 1 < N < 262145 (the API's rule), and bounded memory and parallelism.
fn scrypt_limits(n: u64, r: u32, p: u32) -> CoreResult<()> {
    let bad = |m: &str| crate::error::catalogue::INVALID_SCRYPT_PARAMETERS.detail(m);
    if !(n > 1 && n < 262_145 && n.is_power_of_two()) {
        return Err(bad(
            "n_parameter must be a power of two, greater than 1 and less than 262145.",
        ));
    }
    if r == 0 || p == 0 || p > 16 || 128 * n * r as u64 > MAX_SCRYPT_MEMORY {
        return Err(bad(
            "The scrypt cost exceeds what Latch accepts (256 MiB of memory, p <= 16).",
        ));
    }
    Ok(())
}

fn pbkdf2_hash(hash: &str, cfg: Option<&Pbkdf2Config>) -> CoreResult<PasswordHash> {
    let bad = |m: &str| crate::error::catalogue::INVALID_PBKDF_2_HASH.detail(m);
    let cfg = cfg.ok_or_else(|| bad("pbkdf_2_config is required."))?;
    let sha512 = match cfg.algorithm.to_ascii_lowercase().as_str() {
        "" | "sha256" => false,
        "sha512" => true,
        _ => return Err(bad("pbkdf_2_config.algorithm must be sha256 or sha512.")),
    };
    let out = b64(hash).ok_or_else(|| bad("The pbkdf2 hash must be base64."))?;
    if out.len() != cfg.key_length as usize {
        return Err(bad("The hash length does not match pbkdf_2_config.key_length."));
    }
    // As scrypt and argon2 require: a 1-byte digest would let one password in 256 sign in.
    if out.len() < MIN_PBKDF2_KEY_LENGTH {
        return Err(bad("pbkdf_2_config.key_length must be at least 10 bytes."));
    }
    if cfg.iteration_amount == 0 || cfg.iteration_amount > MAX_PBKDF2_ITERATIONS {
        return Err(bad("pbkdf_2_config.iteration_amount is out of range."));
    }
    let salt = b64(&cfg.salt).ok_or_else(|| bad("pbkdf_2_config.salt must be base64."))?;
    Ok(PasswordHash::Imported(Imported::Pbkdf2 {
        salt,
        iterations: cfg.iteration_amount,
        sha512,
        hash: out,
    }))
}

/// Parses a migrate request's hash into something we can verify, or Stytch's error for its type.
pub fn parse(hash_type: &str, hash: &str, cfg: &HashConfigs) -> CoreResult<PasswordHash> {
    match hash_type {
        "bcrypt" => {
            let cost: Option<u32> = hash.get(4..6).and_then(|c| c.parse().ok());
            let ok = hash.len() == 60
                && ["$2a$", "$2b$", "$2y$", "$2x$"].iter().any(|p| hash.starts_with(p))
                && cost.is_some_and(|c| (4..=MAX_BCRYPT_COST).contains(&c))
                && bcrypt::verify("", hash).is_ok();
            if !ok {
                return Err(crate::error::catalogue::INVALID_BCRYPT_HASH.err());
            }
            Ok(PasswordHash::Imported(Imported::Bcrypt { mcf: hash.to_string() }))
        }
        "md_5" => salted(
            hash,
            Digester::Md5,
            16,
            cfg.md_5_config.as_ref(),
            crate::error::catalogue::INVALID_MD_5_HASH,
        ),
        "sha_1" => salted(
            hash,
            Digester::Sha1,
            20,
            cfg.sha_1_config.as_ref(),
            crate::error::catalogue::INVALID_SHA_1_HASH,
        ),
        "sha_512" => salted(
            hash,
            Digester::Sha512,
            64,
            cfg.sha_512_config.as_ref(),
            crate::error::catalogue::INVALID_SHA_512_HASH,
        ),
        "argon_2i" => argon2(hash, false, cfg.argon_2_config.as_ref()),
        "argon_2id" => argon2(hash, true, cfg.argon_2_config.as_ref()),
        "scrypt" => scrypt_hash(hash, cfg.scrypt_config.as_ref()),
        "pbkdf_2" => pbkdf2_hash(hash, cfg.pbkdf_2_config.as_ref()),
        "phpass" => match phpass_parts(hash) {
            Some(_) => Ok(PasswordHash::Imported(Imported::Phpass { hash: hash.to_string() })),
            None => Err(crate::error::catalogue::INVALID_PHPASS_HASH.err()),
        },
        other => Err(crate::error::catalogue::INVALID_HASH_TYPE.detail(format!("'{other}'"))),
    }
}
