//! Input rules shared by every endpoint: names, slugs, external ids, emails, domains, phones, metadata.
//! Each check returns the Stytch `error_type` for its failure so callers only compose them.

use crate::error::{CoreError, CoreResult};
use serde_json::Value;

pub const MAX_NAME_CHARS: usize = 128;
pub const MAX_METADATA_BYTES: usize = 4096;

/// Consumer mail providers: an organization cannot claim them for JIT provisioning or invites.
const COMMON_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "ymail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "mail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "yandex.com",
    "yandex.ru",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "web.de",
    "mail.ru",
    "comcast.net",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
    "rocketmail.com",
];

pub fn organization_name(name: &str) -> CoreResult<()> {
    let n = name.trim().chars().count();
    if n == 0 || name.chars().count() > MAX_NAME_CHARS {
        return Err(crate::error::catalogue::INVALID_ORGANIZATION_NAME.err());
    }
    if has_line_breaking_or_control(name) {
        return Err(crate::error::catalogue::INVALID_ORGANIZATION_NAME.err());
    }
    Ok(())
}

/// A name shown to people (in emails, the console): no C0 or C1 control characters (CR, LF, tab,
/// NUL, ESC, DEL, U+0080–U+009F) and no Unicode line or paragraph separators, which would let
/// whoever sets the name shape the lines of a genuine email.
pub fn display_text(field: &str, value: &str) -> CoreResult<()> {
    if has_line_breaking_or_control(value) {
        return Err(CoreError::argument(
            field,
            "must not contain control characters or line breaks",
        ));
    }
    Ok(())
}

fn has_line_breaking_or_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

pub fn is_slug_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

pub fn organization_slug(slug: &str) -> CoreResult<()> {
    let len = slug.chars().count();
    if !(2..=MAX_NAME_CHARS).contains(&len) || !slug.chars().all(is_slug_char) {
        return Err(crate::error::catalogue::INVALID_ORGANIZATION_SLUG.err());
    }
    Ok(())
}

/// A slug derived from a name, for creates that omit one.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(100).collect();
    if out.len() < 2 {
        "org".to_string()
    } else {
        out
    }
}

fn external_id_ok(id: &str) -> bool {
    let len = id.chars().count();
    (1..=MAX_NAME_CHARS).contains(&len)
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '|'))
}

pub fn organization_external_id(id: &str) -> CoreResult<()> {
    if !external_id_ok(id) {
        return Err(crate::error::catalogue::INVALID_ORGANIZATION_EXTERNAL_ID.err());
    }
    Ok(())
}

pub fn member_external_id(id: &str) -> CoreResult<()> {
    if !external_id_ok(id) {
        return Err(crate::error::catalogue::INVALID_EXTERNAL_ID.err());
    }
    Ok(())
}

/// Emails are compared case-insensitively everywhere, so we keep them lower-cased.
pub fn normalize_email(email: &str) -> CoreResult<String> {
    let email = email.trim().to_lowercase();
    let parsed_ok = email.len() <= 254
        && email_address::EmailAddress::parse_with_options(
            &email,
            email_address::Options::default().without_display_text(),
        )
        .is_ok();
    // Require a dotted domain: `user@localhost` is valid RFC 5321 but never a member's address.
    let dotted = email.rsplit_once('@').is_some_and(|(_, d)| domain_ok(d));
    if !parsed_ok || !dotted {
        return Err(crate::error::catalogue::INVALID_EMAIL.err());
    }
    Ok(email)
}

pub fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

fn domain_ok(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()))
}

/// An organization's email domain: syntax, then not a consumer provider.
pub fn org_domain(domain: &str) -> CoreResult<String> {
    let d = domain.trim().to_lowercase();
    if !domain_ok(&d) {
        return Err(crate::error::catalogue::ORGANIZATION_SETTINGS_INVALID_DOMAIN.detail(domain));
    }
    if COMMON_DOMAINS.contains(&d.as_str()) {
        return Err(crate::error::catalogue::ORGANIZATION_SETTINGS_DOMAIN_TOO_COMMON.detail(d));
    }
    Ok(d)
}

pub fn org_domains(domains: &[String]) -> CoreResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(domains.len());
    for d in domains {
        let d = org_domain(d)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// A real number in E.164 form (`+` and country code), checked against libphonenumber's
/// metadata and returned normalised (`+1 (202) 555-0123` → `+12025550123`).
pub fn phone_number(phone: &str) -> CoreResult<String> {
    let bad = || crate::error::catalogue::INVALID_PHONE_NUMBER.err();
    let p = phone.trim();
    if !p.starts_with('+') {
        return Err(bad());
    }
    let parsed = phonenumber::parse(None, p).map_err(|_| bad())?;
    if !parsed.is_valid() {
        return Err(bad());
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

/// The ISO 3166 country of a number, e.g. `US`.
pub fn phone_country(phone: &str) -> Option<String> {
    let parsed = phonenumber::parse(None, phone).ok()?;
    parsed.country().id().map(|id| format!("{id:?}"))
}

/// Metadata must be a JSON object of bounded size.
pub fn metadata(field: &str, value: &Value) -> CoreResult<()> {
    if !value.is_object() {
        return Err(CoreError::argument(field, "must be a JSON object"));
    }
    if value.to_string().len() > MAX_METADATA_BYTES {
        return Err(crate::error::catalogue::METADATA_TOO_LARGE.field(field));
    }
    Ok(())
}

pub fn http_url(field: &str, url: &str) -> CoreResult<()> {
    let ok = url.len() <= 2048
        && (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(char::is_whitespace);
    if !ok {
        return Err(CoreError::argument(field, "must be an absolute http(s) URL"));
    }
    Ok(())
}

/// A URL a link in an email may point to: an absolute http(s) URL with a host, no user name or
/// password (`https://app.test@evil.test/` reads as app.test to a person and goes to evil.test)
/// and no fragment (the token is appended to the query, and would land in the fragment).
pub fn redirect_url(field: &str, url: &str) -> CoreResult<()> {
    http_url(field, url)?;
    let ok = url::Url::parse(url).is_ok_and(|u| {
        u.host_str().is_some_and(|h| !h.is_empty())
            && u.username().is_empty()
            && u.password().is_none()
            && u.fragment().is_none()
    });
    if !ok {
        return Err(CoreError::argument(
            field,
            "must be an absolute http(s) URL with a host, without credentials or a fragment",
        ));
    }
    Ok(())
}

/// A value from a closed set, or the given error naming the field, the value and the set.
pub fn one_of(field: &str, value: &str, allowed: &[&str], kind: crate::error::catalogue::ErrorKind) -> CoreResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(kind.field_detail(field, not_one_of(value, allowed)))
    }
}

/// The detail of a value refused from a closed set: what was given and what is allowed.
pub fn not_one_of(value: &str, allowed: &[&str]) -> String {
    format!("'{value}'; allowed: {}", allowed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_text_refuses_controls_and_line_breaks() {
        for bad in [
            "a\rb",
            "a\nb",
            "tab\there",
            "nul\0",
            "esc\u{1b}[31m",
            "del\u{7f}",
            "c1\u{85}",
            "ls\u{2028}",
        ] {
            assert!(display_text("name", bad).is_err(), "{bad:?}");
            assert!(organization_name(bad).is_err(), "{bad:?}");
        }
        for good in ["Acme, Inc.", "Zoë Ångström", "株式会社", "O'Brien & Sons — R&D", ""] {
            assert!(display_text("name", good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn slugs() {
        assert!(organization_slug("acme-co.2_~").is_ok());
        assert!(organization_slug("a").is_err());
        assert!(organization_slug("has space").is_err());
        assert!(organization_slug(&"x".repeat(129)).is_err());
        assert_eq!(slugify("  Acme, Inc.  "), "acme-inc");
        assert_eq!(slugify("!"), "org");
    }

    #[test]
    fn emails() {
        assert_eq!(normalize_email(" Alice@Example.COM ").unwrap(), "alice@example.com");
        for bad in [
            "",
            "alice",
            "alice@",
            "@x.com",
            "a b@x.com",
            "alice@localhost",
            "a@x..com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains() {
        assert_eq!(org_domain("Acme.Test").unwrap(), "acme.test");
        assert_eq!(
            org_domain("gmail.com").unwrap_err().to_string().split(':').next(),
            Some("organization_settings_domain_too_common")
        );
        assert!(org_domain("not a domain").is_err());
        assert!(org_domain("-x.com").is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(phone_number("+12025550123").unwrap(), "+12025550123");
        for bad in ["12345", "+1abc", "+0123456789", "+1", "+1234567890123456"] {
            assert!(phone_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_limits() {
        assert!(metadata("m", &serde_json::json!({"a": 1})).is_ok());
        assert!(metadata("m", &serde_json::json!([1])).is_err());
        let big = serde_json::json!({"a": "x".repeat(5000)});
        assert!(metadata("m", &big).is_err());
    }
}
