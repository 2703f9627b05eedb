//! Request extractors whose failures are Stytch-shaped: JSON bodies (field named on a bad value,
//! unknown fields ignored, an empty body read as `{}`), query strings, Basic credentials of the
//! project, and the member-session authorization headers.

use crate::error::ApiError;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use latch_core::engine::actor::{self, Caller};
use latch_core::engine::audit;
use latch_core::engine::projects;
use latch_core::error::catalogue;
use latch_core::ids::ProjectId;
use latch_core::model::audit::AuditActor;
use latch_core::model::project::Project;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// A JSON body deserialized into `T`.
pub struct ApiJson<T>(pub T);

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::http_detail(catalogue::BAD_REQUEST, inner);
    }
    // serde's message already says "missing field `x`"; otherwise name the field from the path.
    let msg = inner.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    // A flattened field names itself in front of serde's message (`rules::args`): keep it the field.
    let named = msg
        .split_once(": ")
        .filter(|(f, _)| !f.is_empty() && f.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.'));
    ApiError::Core(match named {
        Some((field, problem)) if path == "." => catalogue::INVALID_ARGUMENT.field_detail(field, problem),
        _ if path == "." || msg.contains('`') && msg.starts_with("missing field") => {
            catalogue::INVALID_ARGUMENT.detail(msg)
        }
        _ => catalogue::INVALID_ARGUMENT.field_detail(&path, msg),
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    // Node callers may send an explicit top-level null; treat it like an empty object.
    let bytes: &[u8] = if bytes.trim_ascii() == b"null" { b"{}" } else { bytes };
    if let Some(field) = crate::nul::json_field(bytes) {
        return Err(crate::nul::refused(&field));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(|e| ApiError::http_detail(catalogue::BAD_REQUEST, e))?;
    Ok(value)
}

/// The whole body, within the configured limit (`DefaultBodyLimit`).
async fn read_body(req: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, &()).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::http(catalogue::REQUEST_TOO_LARGE)
        } else {
            ApiError::http_detail(catalogue::BAD_REQUEST, rejection.body_text())
        }
    })
}

/// Reads the whole request body before routing. A request answered before its body was read
/// (bad credentials or session headers are checked first) would otherwise make hyper close the
/// connection once the body arrives late, and an SDK reusing that pooled connection for its next
/// call fails with a dropped connection instead of an answer.
pub async fn read_body_first(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    // The extensions carry the body limit.
    let mut whole = Request::new(body);
    *whole.extensions_mut() = parts.extensions.clone();
    match read_body(whole).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(e) => e.into_response(),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        parse_json(&read_body(req).await?).map(ApiJson)
    }
}

/// An HTML form post (`application/x-www-form-urlencoded`) deserialized into `T`: what a SAML
/// IdP's auto-submitting form sends the ACS URL.
pub struct ApiForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        if !form {
            return Err(ApiError::Core(
                catalogue::INVALID_ARGUMENT.detail("the body must be an application/x-www-form-urlencoded form"),
            ));
        }
        let bytes = read_body(req).await?;
        if let Some(field) = crate::nul::form_field(&bytes) {
            return Err(crate::nul::refused(&field));
        }
        parse_urlencoded(&bytes).map(ApiForm)
    }
}

/// URL-encoded pairs (a query string or a form) deserialized into `T`; a bad field is a 400
/// `invalid_argument` naming it.
fn parse_urlencoded<T: DeserializeOwned>(pairs: &[u8]) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(pairs));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Core(catalogue::INVALID_ARGUMENT.field_detail(&path, e.into_inner()))
    })
}

/// Query parameters deserialized into `T`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_urlencoded(parts.uri.query().unwrap_or("").as_bytes()).map(ApiQuery)
    }
}

/// Booleans in query strings: Python's SDK sends `True`/`False`, Node's `true`/`false`.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(None),
        Some("true") | Some("1") => Ok(Some(true)),
        Some("false") | Some("0") => Ok(Some(false)),
        Some(other) => Err(serde::de::Error::custom(format!("expected a boolean, got '{other}'"))),
    }
}

/// The project whose Basic credentials came with the request.
pub struct AuthProject(pub Project);

impl AuthProject {
    pub fn id(&self) -> &ProjectId {
        &self.0.project_id
    }
}

pub(crate) fn basic_credentials(parts: &Parts) -> Option<(String, String)> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    // No id or secret holds a NUL, and PostgreSQL cannot even look one up (a 500): not credentials.
    if decoded.contains('\0') {
        return None;
    }
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

impl FromRequestParts<AppState> for AuthProject {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some((id, secret)) = basic_credentials(parts) else {
            return Err(ApiError::Core(projects::bad_credentials()));
        };
        let project = projects::authenticate(&state.ctx, &ProjectId::from(id), &secret).await?;
        audit::project(&project.project_id);
        audit::actor(AuditActor::project(&project.project_id));
        parts.extensions.insert(project.clone());
        Ok(AuthProject(project))
    }
}

/// `X-Stytch-Member-Session` / `X-Stytch-Member-SessionJWT`: when present, the call runs with that
/// member's permissions (checked by the use case) instead of the project's. Must come after
/// `AuthProject` in a handler's arguments: it reads the project that extractor authenticated.
pub struct MemberAuthorization(pub Caller);

impl MemberAuthorization {
    /// Who makes the call: the project, or the member behind the session headers.
    pub fn caller(&self) -> &Caller {
        &self.0
    }
}

/// A member-session header as sent: `None` only when absent. A value that is not visible ASCII
/// (no session credential is) stays present as "", which fails to authenticate: a malformed
/// header must never be read as no header, or the call would run with the project's authority.
fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).map(|v| v.to_str().unwrap_or(""))
}

impl FromRequestParts<AppState> for MemberAuthorization {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = header(parts, "x-stytch-member-session");
        let jwt = header(parts, "x-stytch-member-sessionjwt");
        if token.is_none() && jwt.is_none() {
            return Ok(MemberAuthorization(Caller::Project));
        }
        let project = parts
            .extensions
            .get::<Project>()
            .ok_or_else(|| ApiError::Core(projects::bad_credentials()))?;
        let caller = match actor::actor(&state.ctx, &project.project_id, token, jwt).await? {
            Some(a) => {
                audit::actor(AuditActor::member(&a.member.member_id));
                Caller::Member(Box::new(a))
            }
            None => Caller::Project,
        };
        Ok(MemberAuthorization(caller))
    }
}
