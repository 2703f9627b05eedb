//! Emails, phone numbers, organization domains and display text: the validators never panic on
//! any text, and what they accept is already normal (validating it again gives it back).

use super::cheap;
use latch_core::validate;
use proptest::prelude::*;

/// Addresses that are valid by construction, in any case and with surrounding blanks.
fn valid_email() -> impl Strategy<Value = (String, String)> {
    let label = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?";
    (
        "[a-zA-Z0-9_+]{1,12}(\\.[a-zA-Z0-9_+-]{1,8}){0,2}",
        prop::collection::vec(label, 1..4),
        "[a-zA-Z]{2,8}",
        "[ \t]{0,2}",
    )
        .prop_map(|(local, labels, tld, pad)| {
            let email = format!("{local}@{}.{tld}", labels.join("."));
            (format!("{pad}{email}{pad}"), email.to_lowercase())
        })
}

/// Phone-ish text: a plus, digits and the separators people type.
fn phone_shaped() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,30}",
        "[ ]?\\+[0-9 ()./-]{0,25}",
        "\\+[0-9]{1,3}[ -]?[0-9]{1,15}( ?(ext|x|#)[0-9]{0,6})?",
        "\\+[0-9０-９٠-٩]{1,20}",
    ]
}

proptest! {
    #![proptest_config(cheap(512))]

    #[test]
    fn email_normalisation_is_total_and_idempotent(raw in "\\PC{0,80}") {
        if let Ok(email) = validate::normalize_email(&raw) {
            prop_assert_eq!(validate::normalize_email(&email).unwrap(), email.clone());
            prop_assert_eq!(email.trim(), email.as_str());
            prop_assert_eq!(email.to_lowercase(), email.clone());
            prop_assert!(email.contains('@'));
            prop_assert!(email.len() <= 254);
            prop_assert!(validate::email_domain(&email).contains('.'));
        }
    }

    #[test]
    fn valid_emails_are_accepted_lower_cased((raw, want) in valid_email()) {
        prop_assert_eq!(validate::normalize_email(&raw).unwrap(), want);
    }

    #[test]
    fn emails_with_controls_are_refused(local in "[a-z]{1,10}", ctl in "[\\x00-\\x08\\x0e-\\x1f\\x7f]", at_end in any::<bool>()) {
        let bad = if at_end { format!("{local}@acme.test{ctl}x") } else { format!("{local}{ctl}@acme.test") };
        prop_assert!(validate::normalize_email(&bad).is_err());
    }

    #[test]
    fn phone_validation_is_total_and_idempotent(raw in phone_shaped()) {
        let _ = validate::phone_country(&raw);
        if let Ok(phone) = validate::phone_number(&raw) {
            prop_assert!(phone.starts_with('+'));
            prop_assert!(phone[1..].chars().all(|c| c.is_ascii_digit()), "{}", phone);
            // Not E.164's 15 digits: libphonenumber (as Stytch) knows longer valid numbers,
            // e.g. +4921000000000000 in Germany; its own bound is a 3-digit code and 17 more.
            prop_assert!(phone.len() <= 21, "{}", phone);
            prop_assert_eq!(validate::phone_number(&phone).unwrap(), phone.clone());
            // Non-geographic numbers (+881 satellite, +800 freephone) have no country: SMS
            // refuses them unless a country list names "" (codes::sms_country_allowed).
            let _ = validate::phone_country(&phone);
        }
    }

    #[test]
    fn org_domains_are_total_and_idempotent(raw in prop_oneof!["\\PC{0,40}", "[ ]?[a-zA-Z0-9.-]{0,30}[ ]?"]) {
        if let Ok(d) = validate::org_domain(&raw) {
            prop_assert_eq!(validate::org_domain(&d).unwrap(), d.clone());
            prop_assert!(d.is_ascii() && !d.starts_with('.') && !d.ends_with('.'));
            // A domain accepted for an organization makes a valid address.
            let email = format!("x@{d}");
            prop_assert!(validate::normalize_email(&email).is_ok());
        }
    }

    #[test]
    fn display_text_accepts_nothing_with_a_control(text in "\\PC{0,40}", ctl in "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{2028}\\u{2029}]") {
        let with_control = format!("{text}{ctl}");
        prop_assert!(validate::display_text("name", &with_control).is_err());
        prop_assert!(validate::organization_name(&with_control).is_err());
        if validate::display_text("name", &text).is_ok() {
            prop_assert!(!text.chars().any(char::is_control));
        }
    }

    #[test]
    fn slugs_made_from_names_are_valid_slugs(name in "\\PC{0,200}") {
        let slug = validate::slugify(&name);
        prop_assert!(validate::organization_slug(&slug).is_ok(), "{:?} -> {:?}", name, slug);
    }

    #[test]
    fn redirect_urls_never_carry_credentials(url in prop_oneof!["\\PC{0,60}", "https?://[a-z@:.%/?#=]{0,40}"]) {
        if validate::redirect_url("u", &url).is_ok() {
            let parsed = url::Url::parse(&url).unwrap();
            prop_assert!(parsed.username().is_empty() && parsed.password().is_none());
            prop_assert!(parsed.fragment().is_none());
        }
    }
}
