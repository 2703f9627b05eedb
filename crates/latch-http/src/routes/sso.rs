//! `/v1/b2b/sso…` (sso.md) and the browser-facing SSO routes: the public start
//! (`/v1/public/sso/start`) and the provider's callback (`/v1/b2b/sso/callback/{connection_id}`).

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, AuthProject, MemberAuthorization};
use crate::observe::current_request_id;
use crate::reply::Reply;
use crate::routes::auth_reply::auth_reply;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latch_core::engine::sso::view;
use latch_core::model::sso::OidcConnection;
use latch_core::service::sso::{self, AuthenticateInput, CallbackInput, CreateOidcInput, StartInput, UpdateOidcInput};
use serde::Serialize;

/// The cookie that binds a trip to the provider to the browser that started it.
const BROWSER_COOKIE: &str = "latch_sso";

pub async fn get_connections(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    let found = sso::get_connections(&s.ctx, p.id(), &org, who.caller()).await?;
    #[derive(Serialize)]
    struct Body<'a> {
        saml_connections: [(); 0],
        oidc_connections: Vec<OidcConnection<'a>>,
        external_connections: [(); 0],
    }
    Ok(Reply(Body {
        saml_connections: [],
        oidc_connections: found.oidc.iter().map(|c| view(&s.ctx, c)).collect(),
        external_connections: [],
    })
    .into_response())
}

pub async fn delete_connection(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    sso::delete_connection(&s.ctx, p.id(), &org, &connection_id, who.caller()).await?;
    #[derive(Serialize)]
    struct Body {
        connection_id: String,
    }
    Ok(Reply(Body { connection_id }).into_response())
}

#[derive(Serialize)]
struct ConnectionBody<'a> {
    connection: OidcConnection<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

pub async fn create_oidc(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
    ApiJson(input): ApiJson<CreateOidcInput>,
) -> ApiResult<Response> {
    let c = sso::create_oidc(&s.ctx, p.id(), &org, input, who.caller()).await?;
    Ok(Reply(ConnectionBody {
        connection: view(&s.ctx, &c),
        warning: None,
    })
    .into_response())
}

pub async fn update_oidc(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<UpdateOidcInput>,
) -> ApiResult<Response> {
    let (c, warning) = sso::update_oidc(&s.ctx, p.id(), &org, &connection_id, input, who.caller()).await?;
    Ok(Reply(ConnectionBody {
        connection: view(&s.ctx, &c),
        warning,
    })
    .into_response())
}

pub async fn authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<AuthenticateInput>,
) -> ApiResult<Response> {
    let (v, outcome) = sso::authenticate(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

/// A redirect with Stytch's body (`{status_code: 302, request_id, redirect_url}`).
fn redirect(to: &str, cookie: Option<String>) -> Response {
    let body = serde_json::json!({
        "status_code": 302,
        "request_id": current_request_id(),
        "redirect_url": to,
    });
    let mut resp = (StatusCode::FOUND, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /v1/public/sso/start`: no project secret; the public token names the project.
pub async fn start(State(s): State<AppState>, ApiQuery(input): ApiQuery<StartInput>) -> ApiResult<Response> {
    let started = sso::start(&s.ctx, input).await?;
    let secure = if s.ctx.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{BROWSER_COOKIE}={}; Path=/v1/b2b/sso/callback; Max-Age=600; HttpOnly; SameSite=Lax{secure}",
        started.browser_secret
    );
    Ok(redirect(&started.authorization_url, Some(cookie)))
}

fn browser_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == BROWSER_COOKIE)
        .map(|(_, v)| v.to_string())
}

/// `GET /v1/b2b/sso/callback/{connection_id}`: the provider sends the browser back here.
pub async fn callback(
    State(s): State<AppState>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    ApiQuery(input): ApiQuery<CallbackInput>,
) -> ApiResult<Response> {
    let cookie = browser_cookie(&headers);
    let finished = sso::callback(&s.ctx, &connection_id, input, cookie.as_deref()).await?;
    // The trip is over: the browser's binding cookie goes with it.
    let clear = format!("{BROWSER_COOKIE}=; Path=/v1/b2b/sso/callback; Max-Age=0; HttpOnly; SameSite=Lax");
    Ok(redirect(&finished.redirect_url, Some(clear)))
}
