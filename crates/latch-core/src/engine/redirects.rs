//! Where links in emails may point: a URL named in a request must be on the project's allow-list
//! for its type ([`Redirects`](crate::settings::Redirects), from the project's settings), and
//! a request that names none gets the type's default. A refused URL is refused before anything is
//! stored or sent, since the link carries a one-time token to whoever serves that URL.

use crate::engine::Ctx;
use crate::error::catalogue::{self, ErrorKind};
use crate::error::CoreResult;
use crate::ids::ProjectId;
use crate::settings::{is_loopback_host, RedirectType};
use crate::validate;

/// The name `serve` gives the project it creates on an empty database.
pub const DEVELOPMENT_PROJECT_NAME: &str = "development";

/// The URL a link of `kind` points to: `given` if the project allows it, else the type's default.
/// With neither, `Ok(None)` unless `required` (`no_<type>_redirect_url`).
pub async fn resolve(
    ctx: &Ctx,
    project_id: &ProjectId,
    kind: RedirectType,
    given: Option<&str>,
    required: bool,
) -> CoreResult<Option<String>> {
    let field = kind.field();
    let cfg = ctx.project_config(project_id).await?;
    let redirects = &cfg.redirects;
    if let Some(url) = given.filter(|u| !u.is_empty()) {
        validate::redirect_url(field, url)?;
        if redirects.allows(project_id, kind, url) || development_loopback(ctx, project_id, url).await? {
            return Ok(Some(url.to_string()));
        }
        return Err(not_allowed_error(kind).field(field));
    }
    match redirects.default_for(project_id, kind) {
        Some(url) => Ok(Some(url.to_string())),
        None if required => Err(missing_error(kind).field(field)),
        None => Ok(None),
    }
}

/// The URL of a link that must point somewhere: `given` if allowed, else the type's default, else
/// `no_<type>_redirect_url`.
pub async fn required(
    ctx: &Ctx,
    project_id: &ProjectId,
    kind: RedirectType,
    given: Option<&str>,
) -> CoreResult<String> {
    let url = resolve(ctx, project_id, kind, given, true).await?;
    Ok(url.expect("a required redirect URL resolves or fails"))
}

fn not_allowed_error(kind: RedirectType) -> ErrorKind {
    match kind {
        RedirectType::Login => catalogue::INVALID_LOGIN_REDIRECT_URL,
        RedirectType::Signup => catalogue::INVALID_SIGNUP_REDIRECT_URL,
        RedirectType::Invite => catalogue::INVALID_INVITE_REDIRECT_URL,
        RedirectType::ResetPassword => catalogue::INVALID_RESET_PASSWORD_REDIRECT_URL,
        RedirectType::Discovery => catalogue::INVALID_DISCOVERY_REDIRECT_URL,
    }
}

fn missing_error(kind: RedirectType) -> ErrorKind {
    match kind {
        RedirectType::Login => catalogue::NO_LOGIN_REDIRECT_URL,
        RedirectType::Signup => catalogue::NO_SIGNUP_REDIRECT_URL,
        RedirectType::Invite => catalogue::NO_INVITE_REDIRECT_URL,
        RedirectType::ResetPassword => catalogue::NO_RESET_PASSWORD_REDIRECT_URL,
        RedirectType::Discovery => catalogue::NO_DISCOVERY_REDIRECT_URL,
    }
}

/// The development project allows any URL on a loopback host, like Stytch's test environments
/// allow `localhost`: nothing but the developer's own machine can receive its links.
async fn development_loopback(ctx: &Ctx, project_id: &ProjectId, url: &str) -> CoreResult<bool> {
    let loopback = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(is_loopback_host))
        .unwrap_or(false);
    if !loopback {
        return Ok(false);
    }
    let project = ctx.store.get_project(project_id).await?;
    Ok(project.is_some_and(|p| p.name == DEVELOPMENT_PROJECT_NAME))
}
