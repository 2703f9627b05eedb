//! What this machine can do at most: argon2id hashes and RS256 signatures per second on all cores,
//! measured with plain threads and Latch's own code.

use aws_lc_rs::rsa::{KeyPair, KeySize};
use latch_core::password::Argon2Params;
use serde_json::json;
use std::time::{Duration, Instant};

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Runs `work` on every core for about `secs`; total calls per second.
fn on_all_cores<W>(secs: f64, work: W) -> Result<f64, String>
where
    W: Fn(u64) -> Result<(), String> + Sync,
{
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let counts: Vec<Result<u64, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..cores())
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < budget {
                        work(n)?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a worker thread panicked".to_owned())))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut total = 0u64;
    for c in counts {
        total += c?;
    }
    Ok(total as f64 / elapsed)
}

/// argon2id hashes per second with the server's parameters.
pub fn argon2_hash_rate(params: Argon2Params, secs: f64) -> Result<f64, String> {
    params.validate()?;
    on_all_cores(secs, |_| params.hash("benchmark-password-123").map(|_| ()))
}

/// RS256 signatures per second of a session-sized claim set with an RSA-2048 key.
pub fn rs256_sign_rate(secs: f64) -> Result<f64, String> {
    let key = KeyPair::generate(KeySize::Rsa2048).map_err(|e| format!("RSA key generation: {e}"))?;
    let claims = json!({
        "sub": "member-test-00000000-0000-0000-0000-000000000000",
        "iss": "stytch.com/project-test-00000000-0000-0000-0000-000000000000",
        "aud": ["project-test-00000000-0000-0000-0000-000000000000"],
        "iat": 1_700_000_000, "nbf": 1_700_000_000, "exp": 1_700_000_300,
        "https://stytch.com/session": {"id": "member-session-test-00000000", "roles": ["stytch_member"]},
        "https://stytch.com/organization": {"organization_id": "organization-test-0000", "slug": "bench"},
    });
    on_all_cores(secs, |_| {
        let jwt = latch_core::token::jwt::sign(&key, "jwk-test-bench", &claims);
        if jwt.is_empty() {
            Err("empty JWT".to_owned())
        } else {
            Ok(())
        }
    })
}
