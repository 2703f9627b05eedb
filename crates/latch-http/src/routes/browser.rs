//! What the browser-facing routes of SSO and OAuth share: a redirect with Stytch's body, and
//! the cookie that binds a trip to the identity provider to the browser that started it.

use crate::observe::current_request_id;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// How long a binding cookie lives: as long as the trip's state.
const TRIP_SECS: u32 = 600;

/// A redirect with Stytch's body (`{status_code: 302, request_id, redirect_url}`), never cached.
pub fn redirect(to: &str, cookie: Option<String>) -> Response {
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

/// The cookie set at the start, sent back only to the callback's path. `Secure` when the
/// server's public URL is https; `SameSite=Lax` so the provider's top-level redirect carries it.
pub fn binding_cookie(name: &str, path: &str, value: &str, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={TRIP_SECS}; HttpOnly; SameSite=Lax{secure}")
}

/// The binding cookie for a trip the provider ends with a cross-site POST (SAML): a browser
/// sends it there only as `SameSite=None`, which it accepts only with `Secure`. On plain HTTP it
/// stays `Lax` (and is not required at the ACS, see `trip::take_posted`).
pub fn posted_binding_cookie(name: &str, path: &str, value: &str, https: bool) -> String {
    if https {
        format!("{name}={value}; Path={path}; Max-Age={TRIP_SECS}; HttpOnly; SameSite=None; Secure")
    } else {
        binding_cookie(name, path, value, false)
    }
}

/// The trip is over: the binding cookie goes with it.
pub fn clearing_cookie(name: &str, path: &str) -> String {
    format!("{name}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax")
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
