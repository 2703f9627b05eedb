//! Imported password hashes (`passwords.migrate`): `imported::parse` never panics on any hash text
//! or config; a hash made here in each supported scheme parses, verifies its password and refuses
//! a different one, and survives the JSON it is stored as. Costs are the schemes' minimums so
//! that each case hashes in about a millisecond.

use super::{cheap, heavy};
use argon2::password_hash::{PasswordHasher, SaltString};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::Hmac;
use latch_core::password::imported::{self, Argon2Config, HashConfigs, Pbkdf2Config, SaltConfig, ScryptConfig};
use latch_core::password::{GivenPassword, PasswordHash};
use proptest::prelude::*;
use sha2::Digest;

const KINDS: &[&str] = &[
    "bcrypt",
    "md_5",
    "sha_1",
    "sha_512",
    "argon_2i",
    "argon_2id",
    "scrypt",
    "pbkdf_2",
    "phpass",
    "unknown",
    "",
];

fn hex(bytes: &[u8], upper: bool) -> String {
    let s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if upper {
        s.to_uppercase()
    } else {
        s
    }
}

/// Two different passwords. bcrypt reads only the first 72 bytes; these stay below that.
fn two_passwords() -> impl Strategy<Value = (String, String)> {
    ("\\PC{0,17}", "\\PC{0,17}").prop_filter("different", |(a, b)| a != b)
}

fn parses_and_verifies(
    kind: &str,
    hash: &str,
    cfg: &HashConfigs,
    right: &str,
    wrong: &str,
) -> Result<(), TestCaseError> {
    let parsed = imported::parse(kind, hash, cfg).map_err(|e| TestCaseError::fail(format!("{kind} {hash:?}: {e}")))?;
    prop_assert!(parsed.verify(right), "{} does not verify its password", kind);
    prop_assert!(!parsed.verify(wrong), "{} verifies another password", kind);
    prop_assert_eq!(PasswordHash::from_json(&parsed.to_json()), Some(parsed));
    Ok(())
}

/// The phpass portable hash, written from the algorithm's description (not from Latch's code).
fn phpass(password: &str, salt: &str, log2: u8) -> String {
    const ITOA: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut d = md5::Md5::digest([salt.as_bytes(), password.as_bytes()].concat()).to_vec();
    for _ in 0..(1u32 << log2) {
        d = md5::Md5::digest([d.as_slice(), password.as_bytes()].concat()).to_vec();
    }
    let mut out = format!("$P${}{salt}", ITOA[log2 as usize] as char);
    for chunk in d.chunks(3) {
        let v = chunk
            .iter()
            .enumerate()
            .fold(0u32, |v, (i, &b)| v | (b as u32) << (8 * i));
        for i in 0..=chunk.len() {
            out.push(ITOA[((v >> (6 * i)) & 0x3f) as usize] as char);
        }
    }
    out
}

/// Text shaped like a phpass hash (`$P$`, a cost character, 30 more bytes) whose tail mixes in
/// multi-byte characters: slicing it by byte offsets must not split one.
fn phpass_shaped() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["$P$", "$H$"]),
        prop::sample::select(b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".to_vec()),
        prop::collection::vec(prop::sample::select(vec!['a', '.', '/', '9', 'é', '€', '𝄞']), 0..30),
    )
        .prop_map(|(prefix, cost, tail)| {
            let mut s = format!("{prefix}{}", cost as char);
            for c in tail {
                if s.len() + c.len_utf8() <= 34 {
                    s.push(c);
                }
            }
            while s.len() < 34 {
                s.push('.');
            }
            s
        })
}

fn arbitrary_configs() -> impl Strategy<Value = HashConfigs> {
    let salt = || "\\PC{0,24}";
    (
        (salt(), salt()),
        (salt(), any::<u32>(), any::<u32>(), any::<u32>(), 0u32..80),
        (salt(), any::<u64>(), any::<u32>(), any::<u32>(), 0u32..80),
        (
            salt(),
            any::<u32>(),
            0u32..80,
            prop::sample::select(vec!["", "sha256", "SHA512", "md5"]),
        ),
    )
        .prop_map(|((pre, app), a, s, p)| HashConfigs {
            md_5_config: Some(SaltConfig {
                prepend_salt: pre.clone(),
                append_salt: app.clone(),
            }),
            sha_1_config: None,
            sha_512_config: Some(SaltConfig {
                prepend_salt: pre,
                append_salt: app,
            }),
            // Bounded below the caps' edge only by the parser: parse never hashes.
            argon_2_config: Some(Argon2Config {
                salt: a.0,
                iteration_amount: a.1,
                memory: a.2,
                threads: a.3,
                key_length: a.4,
            }),
            scrypt_config: Some(ScryptConfig {
                salt: s.0,
                n_parameter: s.1,
                r_parameter: s.2,
                p_parameter: s.3,
                key_length: s.4,
            }),
            pbkdf_2_config: Some(Pbkdf2Config {
                salt: p.0,
                iteration_amount: p.1,
                key_length: p.2,
                algorithm: p.3.into(),
            }),
        })
}

/// Hash text near each format: PHC strings with odd parameters, hex and base64 of odd lengths.
fn hash_shaped() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,120}",
        "\\$2[abxyz]\\$[0-9]{2}\\$[./A-Za-z0-9é]{50,55}",
        "\\$argon2(i|id|d)\\$(v=(16|19)\\$)?m=[0-9]{1,7},t=[0-9]{1,3},p=[0-9]{1,3}\\$[A-Za-z0-9+/]{0,30}\\$[A-Za-z0-9+/]{0,90}",
        "\\$scrypt\\$ln=[0-9]{1,3},r=[0-9]{1,4},p=[0-9]{1,3}\\$[A-Za-z0-9+/]{0,30}\\$[A-Za-z0-9+/]{0,90}",
        "[0-9a-fA-F]{0,130}",
        "[A-Za-z0-9+/]{0,90}={0,3}",
        phpass_shaped(),
    ]
}

proptest! {
    #![proptest_config(cheap(512))]

    #[test]
    fn parsing_never_panics(kind in prop::sample::select(KINDS), hash in hash_shaped(), cfg in arbitrary_configs()) {
        let _ = imported::parse(kind, &hash, &cfg);
        let _ = imported::parse(kind, &hash, &HashConfigs::default());
    }

    /// Multi-byte characters at the byte offsets the phpass parser slices at.
    #[test]
    fn phpass_shaped_text_never_panics(hash in phpass_shaped(), password in "\\PC{0,8}") {
        if let Ok(parsed) = imported::parse("phpass", &hash, &HashConfigs::default()) {
            prop_assert!(hash.is_ascii());
            let _ = parsed.verify(&password);
        }
    }

    #[test]
    fn stored_hashes_from_any_json_never_panic(text in "\\PC{0,120}") {
        let _ = PasswordHash::from_json(&text);
    }

    #[test]
    fn passwords_are_bounded_by_characters(len in 0usize..600, wide in any::<bool>()) {
        let unit = if wide { "é" } else { "a" };
        let accepted = GivenPassword::new(unit.repeat(len)).is_ok();
        prop_assert_eq!(accepted, len <= 256);
    }

    #[test]
    fn salted_digests_round_trip(
        (right, wrong) in two_passwords(),
        prepend in "\\PC{0,8}",
        append in "\\PC{0,8}",
        which in 0usize..3,
        upper in any::<bool>(),
    ) {
        let input = format!("{prepend}{right}{append}");
        let (kind, digest) = match which {
            0 => ("md_5", md5::Md5::digest(&input).to_vec()),
            1 => ("sha_1", sha1::Sha1::digest(&input).to_vec()),
            _ => ("sha_512", sha2::Sha512::digest(&input).to_vec()),
        };
        let salt = SaltConfig { prepend_salt: prepend, append_salt: append };
        let cfg = match which {
            0 => HashConfigs { md_5_config: Some(salt), ..Default::default() },
            1 => HashConfigs { sha_1_config: Some(salt), ..Default::default() },
            _ => HashConfigs { sha_512_config: Some(salt), ..Default::default() },
        };
        parses_and_verifies(kind, &format!(" {} ", hex(&digest, upper)), &cfg, &right, &wrong)?;
    }
}

proptest! {
    #![proptest_config(heavy(24))]

    #[test]
    fn bcrypt_round_trips((right, wrong) in two_passwords(), prefix in prop::sample::select(vec!["$2a$", "$2b$", "$2y$"])) {
        let hash = bcrypt::hash(&right, 4).unwrap().replacen("$2b$", prefix, 1);
        parses_and_verifies("bcrypt", &hash, &HashConfigs::default(), &right, &wrong)?;
    }

    #[test]
    fn argon2_phc_round_trips(
        (right, wrong) in two_passwords(),
        id in any::<bool>(),
        m in 8u32..64,
        t in 1u32..3,
        p in 1u32..3,
        salt in prop::collection::vec(any::<u8>(), 8..32),
        out_len in 10usize..48,
    ) {
        let algorithm = if id { argon2::Algorithm::Argon2id } else { argon2::Algorithm::Argon2i };
        let params = argon2::Params::new(m.max(8 * p), t, p, Some(out_len)).unwrap();
        let argon = argon2::Argon2::new(algorithm, argon2::Version::V0x13, params);
        let phc = argon
            .hash_password(right.as_bytes(), &SaltString::encode_b64(&salt).unwrap())
            .unwrap()
            .to_string();
        let kind = if id { "argon_2id" } else { "argon_2i" };
        parses_and_verifies(kind, &phc, &HashConfigs::default(), &right, &wrong)?;
        // The other variant's name is refused.
        let other = if id { "argon_2i" } else { "argon_2id" };
        prop_assert!(imported::parse(other, &phc, &HashConfigs::default()).is_err());
    }

    #[test]
    fn argon2_hex_with_config_round_trips(
        (right, wrong) in two_passwords(),
        id in any::<bool>(),
        m in 8u32..64,
        t in 1u32..3,
        salt in "[A-Za-z0-9]{8,24}",
        out_len in 10u32..48,
    ) {
        let algorithm = if id { argon2::Algorithm::Argon2id } else { argon2::Algorithm::Argon2i };
        let params = argon2::Params::new(m, t, 1, Some(out_len as usize)).unwrap();
        let mut out = vec![0u8; out_len as usize];
        argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
            .hash_password_into(right.as_bytes(), salt.as_bytes(), &mut out)
            .unwrap();
        let cfg = HashConfigs {
            argon_2_config: Some(Argon2Config { salt, iteration_amount: t, memory: m, threads: 1, key_length: out_len }),
            ..Default::default()
        };
        let kind = if id { "argon_2id" } else { "argon_2i" };
        parses_and_verifies(kind, &hex(&out, false), &cfg, &right, &wrong)?;
    }

    #[test]
    fn scrypt_round_trips(
        (right, wrong) in two_passwords(),
        log_n in 1u8..5,
        r in 1u32..5,
        p in 1u32..3,
        salt in prop::collection::vec(any::<u8>(), 8..32),
        out_len in 10usize..64,
        phc in any::<bool>(),
    ) {
        let mut out = vec![0u8; out_len];
        let params = scrypt::Params::new(log_n, r, p, out_len).unwrap();
        scrypt::scrypt(right.as_bytes(), &salt, &params, &mut out).unwrap();
        if phc {
            let hash = format!(
                "$scrypt$ln={log_n},r={r},p={p}${}${}",
                STANDARD_NO_PAD.encode(&salt),
                STANDARD_NO_PAD.encode(&out)
            );
            parses_and_verifies("scrypt", &hash, &HashConfigs::default(), &right, &wrong)?;
        } else {
            let cfg = HashConfigs {
                scrypt_config: Some(ScryptConfig {
                    salt: STANDARD.encode(&salt),
                    n_parameter: 1 << log_n,
                    r_parameter: r,
                    p_parameter: p,
                    key_length: out_len as u32,
                }),
                ..Default::default()
            };
            parses_and_verifies("scrypt", &STANDARD.encode(&out), &cfg, &right, &wrong)?;
        }
    }

    #[test]
    fn pbkdf2_round_trips(
        (right, wrong) in two_passwords(),
        sha512 in any::<bool>(),
        iterations in 1u32..64,
        salt in prop::collection::vec(any::<u8>(), 0..32),
        out_len in 1usize..80,
    ) {
        // Shorter digests are refused (below): one password in 2^(8·len) would match.
        let out_len = out_len.max(10);
        let mut out = vec![0u8; out_len];
        if sha512 {
            pbkdf2::pbkdf2::<Hmac<sha2::Sha512>>(right.as_bytes(), &salt, iterations, &mut out).unwrap();
        } else {
            pbkdf2::pbkdf2::<Hmac<sha2::Sha256>>(right.as_bytes(), &salt, iterations, &mut out).unwrap();
        }
        let cfg = HashConfigs {
            pbkdf_2_config: Some(Pbkdf2Config {
                salt: STANDARD.encode(&salt),
                iteration_amount: iterations,
                key_length: out_len as u32,
                algorithm: if sha512 { "sha512".into() } else { String::new() },
            }),
            ..Default::default()
        };
        parses_and_verifies("pbkdf_2", &STANDARD.encode(&out), &cfg, &right, &wrong)?;
    }

    #[test]
    fn phpass_round_trips((right, wrong) in two_passwords(), salt in "[./0-9A-Za-z]{8}") {
        let hash = phpass(&right, &salt, 7);
        parses_and_verifies("phpass", &hash, &HashConfigs::default(), &right, &wrong)?;
        parses_and_verifies("phpass", &hash.replacen("$P$", "$H$", 1), &HashConfigs::default(), &right, &wrong)?;
    }
}

/// Found by `parsing_never_panics`: a 34-byte `$H$` string with a multi-byte character across
/// byte 12 panicked the phpass parser (`&hash[4..12]`) and so the migrate request.
#[test]
fn phpass_with_a_character_across_the_salt_boundary_is_refused() {
    let hash = "$H$B.€€€𝄞9...............";
    assert_eq!(hash.len(), 34);
    assert!(imported::parse("phpass", hash, &HashConfigs::default()).is_err());
    assert!(imported::parse("phpass", "$P$5é............................", &HashConfigs::default()).is_err());
}

/// Found by `parsing_never_panics` (PROPTEST_CASES=20000): argon2's `Params::new` computes
/// `8 * p` in u32, so `threads: 536870912` (2^29) overflowed, a panic in debug builds.
#[test]
fn argon2_lanes_that_overflow_argon2s_arithmetic_are_refused() {
    let cfg = HashConfigs {
        argon_2_config: Some(Argon2Config {
            salt: "saltsalt".into(),
            iteration_amount: 1,
            memory: 8,
            threads: 1 << 29,
            key_length: 16,
        }),
        ..Default::default()
    };
    assert!(imported::parse("argon_2i", &"00".repeat(16), &cfg).is_err());
    let phc = "$argon2id$v=19$m=8,t=1,p=536870912$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA";
    assert!(imported::parse("argon_2id", phc, &HashConfigs::default()).is_err());
}

/// Found by `pbkdf2_round_trips` (PROPTEST_CASES=20000): a 1-byte PBKDF2 digest was accepted, so
/// one wrong password in 256 verified. Digests shorter than 10 bytes are refused, as for scrypt
/// and argon2.
#[test]
fn short_pbkdf2_digests_are_refused() {
    let cfg = |key_length| HashConfigs {
        pbkdf_2_config: Some(Pbkdf2Config {
            salt: STANDARD.encode("salt"),
            iteration_amount: 1,
            key_length,
            algorithm: String::new(),
        }),
        ..Default::default()
    };
    assert!(imported::parse("pbkdf_2", &STANDARD.encode([7u8]), &cfg(1)).is_err());
    assert!(imported::parse("pbkdf_2", &STANDARD.encode([7u8; 9]), &cfg(9)).is_err());
    assert!(imported::parse("pbkdf_2", &STANDARD.encode([7u8; 10]), &cfg(10)).is_ok());
}
