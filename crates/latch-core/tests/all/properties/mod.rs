//! Properties of the parsers that take attacker-controlled input: they never panic, refuse what
//! they must, and are stable on what they accept. One module per input family:
//! session JWTs (`jwt`), imported password hashes (`passwords`), search queries and cursors
//! (`search`), SCIM filters and PATCH bodies (`scim`), emails, phones and display text (`contact`), and the SSO/OAuth-side inputs that
//! have pure parsers: PKCE and custom session claims (`sso`).
//!
//! Case counts are small so that `cargo test --workspace` stays fast in debug builds (the whole
//! set runs in a few seconds). For a longer local run set `PROPTEST_CASES`, e.g.
//! `PROPTEST_CASES=20000 cargo test -p latch-core --test all properties`: cheap properties run
//! that many cases, the ones that hash or sign (`heavy`) a tenth of it. A failure prints the
//! shrunk input and proptest saves its seed under `proptest-regressions/` beside the test; commit
//! that file so the case is replayed on every run.

mod contact;
mod jwt;
mod passwords;
mod scim;
mod search;
mod sso;

use proptest::prelude::*;
use serde_json::Value;

fn env_cases() -> Option<u32> {
    std::env::var("PROPTEST_CASES").ok()?.parse().ok()
}

/// `cases` cases, or `PROPTEST_CASES` when it is set.
pub fn cheap(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: env_cases().unwrap_or(cases),
        ..ProptestConfig::default()
    }
}

/// For properties that hash or sign on every case: `cases`, or a tenth of `PROPTEST_CASES`.
pub fn heavy(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: env_cases().map_or(cases, |n| (n / 10).max(1)),
        ..ProptestConfig::default()
    }
}

/// Any JSON value, a few levels deep, with keys drawn partly from `keys` so that objects reach
/// past the first "is this field there" check of the parser under test.
pub fn json_with_keys(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(keys).prop_map(|k| Value::String(k.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        let key = prop_oneof!["\\PC{0,8}", prop::sample::select(keys).prop_map(str::to_string)];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
