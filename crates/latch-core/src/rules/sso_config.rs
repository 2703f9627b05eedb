//! What an SSO connection's settings may hold, for SAML and OIDC alike: the identity provider's
//! name, the display name, and the provider endpoints Latch will call or send browsers to.

use crate::error::catalogue::*;
use crate::error::CoreResult;
use crate::settings::is_loopback_host;

/// `identity_provider` values (sso.md#concepts).
const IDENTITY_PROVIDERS: &[&str] = &[
    "classlink",
    "cyberark",
    "duo",
    "generic",
    "google-workspace",
    "jumpcloud",
    "keycloak",
    "miniorange",
    "microsoft-entra",
    "okta",
    "onelogin",
    "pingfederate",
    "rippling",
    "salesforce",
    "shibboleth",
];

pub fn identity_provider(given: Option<String>) -> CoreResult<Option<String>> {
    match given.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(p) if IDENTITY_PROVIDERS.contains(&p.as_str()) => Ok(Some(p)),
        Some(p) => Err(INVALID_SSO_IDP.field_detail(
            "identity_provider",
            format!("one of {}; got '{p}'", IDENTITY_PROVIDERS.join(", ")),
        )),
    }
}

pub fn check_display_name(given: &str) -> CoreResult<()> {
    if given.chars().count() > 256 {
        return Err(INVALID_DISPLAY_NAME.err());
    }
    crate::validate::display_text("display_name", given)
}

/// An endpoint of the provider: `https`, or `http` on a loopback host (a provider on the
/// developer's machine). Empty clears it.
pub fn provider_url(error: ErrorKind, value: &str) -> CoreResult<()> {
    if value.is_empty() {
        return Ok(());
    }
    let ok = url::Url::parse(value).is_ok_and(|u| {
        let host = u.host_str().unwrap_or("");
        !host.is_empty()
            && u.username().is_empty()
            && u.password().is_none()
            && u.fragment().is_none()
            && (u.scheme() == "https" || (u.scheme() == "http" && is_loopback_host(host)))
            && value.len() <= 2048
    });
    if !ok {
        return Err(error.err());
    }
    Ok(())
}
