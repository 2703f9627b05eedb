//! Properties of the parsers that take attacker-controlled text: they never panic, refuse what
//! they must, and are stable on what they accept.

use latch_core::password::imported::{self, HashConfigs};
use latch_core::password::GivenPassword;
use latch_core::token::jwt;
use latch_core::validate;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn email_normalisation_is_total_and_idempotent(raw in "\\PC{0,80}") {
        if let Ok(email) = validate::normalize_email(&raw) {
            prop_assert_eq!(validate::normalize_email(&email).unwrap(), email.clone());
            prop_assert_eq!(email.trim(), email.as_str());
            prop_assert_eq!(email.to_lowercase(), email.clone());
            prop_assert!(email.contains('@'));
        }
    }

    #[test]
    fn arbitrary_emails_with_controls_are_refused(local in "[a-z]{1,10}", ctl in "[\\x00-\\x1f\\x7f]") {
        let bad = format!("{local}{ctl}@acme.test");
        prop_assert!(validate::normalize_email(&bad).is_err());
    }

    #[test]
    fn display_text_accepts_nothing_with_a_control(text in "\\PC{0,40}", ctl in "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}]") {
        let with_control = format!("{text}{ctl}");
        prop_assert!(validate::display_text("name", &with_control).is_err());
        if validate::display_text("name", &text).is_ok() {
            prop_assert!(!text.chars().any(char::is_control));
        }
    }

    #[test]
    fn jwt_parsing_never_panics_and_wants_three_segments(token in "[A-Za-z0-9_.=+/-]{0,300}") {
        let parsed = jwt::parse(&token);
        if parsed.is_ok() {
            prop_assert_eq!(token.split('.').count(), 3);
        }
    }

    #[test]
    fn imported_hash_parsing_never_panics(
        kind in prop::sample::select(vec!["bcrypt", "md_5", "sha_1", "sha_512", "argon_2i", "argon_2id", "scrypt", "pbkdf_2", "phpass", "unknown"]),
        hash in "\\PC{0,120}",
    ) {
        let _ = imported::parse(kind, &hash, &HashConfigs::default());
    }

    #[test]
    fn passwords_are_bounded_by_characters(len in 0usize..600, wide in any::<bool>()) {
        let unit = if wide { "é" } else { "a" };
        let accepted = GivenPassword::new(unit.repeat(len)).is_ok();
        prop_assert_eq!(accepted, len <= 256);
    }
}
