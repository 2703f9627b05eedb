//! `/v1/b2b/oauth…` (oauth.md) and the browser-facing OAuth routes: the public starts
//! (`/v1/b2b/public/oauth/{provider}/start`, `…/discovery/start`, as Stytch's browser SDK builds
//! them) and the provider's callback (`/v1/b2b/public/oauth/{provider}/callback`), plus the
//! member's provider-token reads.

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, AuthProject};
use crate::reply::Reply;
use crate::routes::auth_reply::auth_reply_with;
use crate::routes::browser;
use crate::routes::discovery::discovery_reply_with;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use latch_core::clock::Timestamp;
use latch_core::engine::trip::Started;
use latch_core::model::oauth::{OAuthProvider, OAuthRegistrationRecord};
use latch_core::service::oauth::{
    self, AuthenticateInput, CallbackInput, DiscoveryAuthenticateInput, DiscoveryStartInput, StartInput,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

const BROWSER_COOKIE: &str = "latch_oauth";

fn callback_path(provider: &str) -> String {
    format!("/v1/b2b/public/oauth/{provider}/callback")
}

fn to_provider(s: &AppState, provider: &str, started: Started) -> Response {
    let https = s.ctx.settings.public_url.starts_with("https://");
    let cookie = browser::binding_cookie(BROWSER_COOKIE, &callback_path(provider), &started.browser_secret, https);
    browser::redirect(&started.authorization_url, Some(cookie))
}

/// `GET /v1/b2b/public/oauth/{provider}/start`: no project secret; the public token names the
/// project.
#[utoipa::path(
    get,
    path = "/v1/b2b/public/oauth/{provider}/start",
    operation_id = "oauth_start",
    tag = "oauth",
    params(
        ("provider" = String, Path, description = "The OAuth provider (google, microsoft, …)"),
        StartInput,
    ),
    responses(
        (status = 302, description = "Redirects the browser (`Location`); the body is `{status_code: 302, request_id, redirect_url}`", body = crate::openapi::Redirect),
        crate::openapi::Errors
    ),
)]
pub async fn start(
    State(s): State<AppState>,
    Path(provider): Path<String>,
    ApiQuery(input): ApiQuery<StartInput>,
) -> ApiResult<Response> {
    let started = oauth::start(&s.ctx, &provider, input).await?;
    Ok(to_provider(&s, &provider, started))
}

/// `GET /v1/b2b/public/oauth/{provider}/discovery/start`.
#[utoipa::path(
    get,
    path = "/v1/b2b/public/oauth/{provider}/discovery/start",
    operation_id = "oauth_discovery_start",
    tag = "oauth",
    params(
        ("provider" = String, Path, description = "The OAuth provider (google, microsoft, …)"),
        DiscoveryStartInput,
    ),
    responses(
        (status = 302, description = "Redirects the browser (`Location`); the body is `{status_code: 302, request_id, redirect_url}`", body = crate::openapi::Redirect),
        crate::openapi::Errors
    ),
)]
pub async fn discovery_start(
    State(s): State<AppState>,
    Path(provider): Path<String>,
    ApiQuery(input): ApiQuery<DiscoveryStartInput>,
) -> ApiResult<Response> {
    let started = oauth::discovery_start(&s.ctx, &provider, input).await?;
    Ok(to_provider(&s, &provider, started))
}

/// `GET /v1/b2b/public/oauth/{provider}/callback`: the provider sends the browser back here.
#[utoipa::path(
    get,
    path = "/v1/b2b/public/oauth/{provider}/callback",
    operation_id = "oauth_callback",
    tag = "oauth",
    params(
        ("provider" = String, Path, description = "The OAuth provider (google, microsoft, …)"),
        CallbackInput,
    ),
    responses(
        (status = 302, description = "Redirects the browser (`Location`); the body is `{status_code: 302, request_id, redirect_url}`", body = crate::openapi::Redirect),
        crate::openapi::Errors
    ),
)]
pub async fn callback(
    State(s): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    ApiQuery(input): ApiQuery<CallbackInput>,
) -> ApiResult<Response> {
    let cookie = browser::cookie(&headers, BROWSER_COOKIE);
    let finished = oauth::callback(&s.ctx, &provider, input, cookie.as_deref()).await?;
    let clear = browser::clearing_cookie(BROWSER_COOKIE, &callback_path(&provider));
    Ok(browser::redirect(&finished.redirect_url, Some(clear)))
}

/// Seconds until the access token expires (0 once it has, or when the provider said nothing).
fn expires_in(r: &OAuthRegistrationRecord, now: Timestamp) -> i64 {
    r.tokens
        .expires_at
        .map_or(0, |at| ((at.millis() - now.millis()) / 1000).max(0))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/oauth/authenticate",
    operation_id = "oauth_authenticate",
    tag = "oauth",
    request_body = AuthenticateInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::auth_reply::Body),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<AuthenticateInput>,
) -> ApiResult<Response> {
    let done = oauth::authenticate(&s.ctx, p.id(), input).await?;
    let r = &done.registration;
    let t = &r.tokens;
    let mut values = Map::new();
    values.insert("scopes".into(), json!(t.scopes));
    values.insert("access_token".into(), json!(t.access_token));
    if let Some(rt) = &t.refresh_token {
        values.insert("refresh_token".into(), json!(rt));
    }
    if let Some(at) = t.expires_at {
        values.insert("expires_at".into(), json!(at));
    }
    if !t.id_token.is_empty() {
        values.insert("id_token".into(), json!(t.id_token));
    }
    let mut extra = Map::new();
    extra.insert("provider_subject".into(), json!(r.subject));
    extra.insert("provider_type".into(), json!(r.provider.display()));
    extra.insert("provider_values".into(), Value::Object(values));
    Ok(auth_reply_with(&done.view, &done.outcome, Some(&extra)))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/oauth/discovery/authenticate",
    operation_id = "oauth_discovery_authenticate",
    tag = "oauth",
    request_body = DiscoveryAuthenticateInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::discovery::DiscoveryBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn discovery_authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<DiscoveryAuthenticateInput>,
) -> ApiResult<Response> {
    let done = oauth::discovery_authenticate(&s.ctx, p.id(), input).await?;
    let mut extra = Map::new();
    extra.insert("provider_type".into(), json!(done.provider.display()));
    // Tenants are what Slack, HubSpot and GitHub report; Google and Microsoft report none.
    extra.insert("provider_tenant_id".into(), json!(""));
    extra.insert("provider_tenant_ids".into(), json!([]));
    extra.insert("full_name".into(), json!(done.full_name));
    Ok(discovery_reply_with(&done.result, Some(&extra)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// `true`/`false`, or Python's `True`/`False`.
    include_refresh_token: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OAuthProviderTokensBody)]
struct TokensBody<'a> {
    provider_type: &'static str,
    provider_subject: &'a str,
    access_token: &'a str,
    access_token_expires_in: i64,
    id_token: &'a str,
    scopes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

/// `GET …/members/{member_id}/oauth_providers/{provider}`: the provider's tokens from the
/// member's latest login there (Google and Microsoft; the other providers have no registrations).
#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/oauth_providers/{provider}",
    operation_id = "oauth_provider_tokens",
    tag = "oauth",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("provider" = String, Path, description = "The OAuth provider (google, microsoft, …)"),
        TokenQuery,
    ),
    responses(
        (status = 200, description = "Success", body = TokensBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn provider_tokens(
    State(s): State<AppState>,
    p: AuthProject,
    Path((org, member, provider)): Path<(String, String, String)>,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Response> {
    let include_refresh = match q.include_refresh_token.as_deref() {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err(latch_core::error::CoreError::argument("include_refresh_token", "must be true or false").into())
        }
    };
    let r = oauth::provider_tokens(&s.ctx, p.id(), &org, &member, &provider).await?;
    debug_assert!(matches!(r.provider, OAuthProvider::Google | OAuthProvider::Microsoft));
    Ok(Reply(TokensBody {
        provider_type: r.provider.display(),
        provider_subject: &r.subject,
        access_token: &r.tokens.access_token,
        access_token_expires_in: expires_in(&r, s.ctx.now()),
        id_token: &r.tokens.id_token,
        scopes: &r.tokens.scopes,
        refresh_token: r.tokens.refresh_token.as_deref().filter(|_| include_refresh),
    })
    .into_response())
}
