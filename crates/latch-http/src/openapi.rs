//! The OpenAPI 3.1 document of every route Latch serves, and `GET /openapi.json` that serves it.
//!
//! The router registers each handler through `utoipa_axum::routes!`, which reads the handler's
//! `#[utoipa::path]`: serving a route and documenting it are one act, so the document cannot
//! drift from the code. This module holds what the annotations share: the Basic-auth security
//! scheme, the tags (one per API family), Stytch's error body and the responses every call may
//! get, and the success envelope.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// The document's fixed parts; the paths come from the router (`crate::api_router`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Latch",
        description = "A self-hosted authentication server that speaks Stytch's B2B HTTP API. \
            Every API call authenticates with HTTP Basic `project_id:secret`; calls that act for a \
            member may add `X-Stytch-Member-Session` or `X-Stytch-Member-SessionJWT`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&BasicAuth),
    components(schemas(StytchError, Envelope)),
    tags(
        (name = "organizations", description = "Organizations (organizations.md)"),
        (name = "members", description = "Members of an organization (organizations.md)"),
        (name = "passwords", description = "Passwords (passwords.md)"),
        (name = "magic_links", description = "Email magic links (magic_links.md)"),
        (name = "otps", description = "Email and SMS one-time passcodes (otps.md)"),
        (name = "discovery", description = "Discovery: organizations an email may enter (discovery.md)"),
        (name = "sso", description = "OIDC single sign-on (sso.md)"),
        (name = "oauth", description = "Google and Microsoft OAuth (oauth.md)"),
        (name = "totps", description = "TOTP and recovery codes (totps.md, recovery_codes.md)"),
        (name = "sessions", description = "Member sessions and their JWTs (sessions.md)"),
        (name = "rbac", description = "Role-based access control policy (rbac.md)"),
        (name = "latch", description = "Latch's own endpoints: the development outbox and the audit log"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The security scheme every API call uses: `project_id:secret`, as the SDKs send it.
pub const BASIC: &str = "basic";
/// `GET /metrics`' bearer token.
pub const METRICS_TOKEN: &str = "metrics_token";

struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            METRICS_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The configured `metrics_token`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            BASIC,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("The project's id and secret"))
                    .build(),
            ),
        );
    }
}

/// Stytch's error body (`crate::error`), the same for every refusal.
#[derive(ToSchema)]
#[allow(dead_code)] // documents `crate::error::ErrorBody`; never built
pub struct StytchError {
    status_code: u16,
    request_id: String,
    /// Stytch's name of the error, e.g. `invalid_argument`.
    error_type: String,
    error_message: String,
    error_url: String,
    error_details: serde_json::Map<String, serde_json::Value>,
}

/// The fields every success body carries beside its payload (`crate::reply::Reply`).
#[derive(ToSchema)]
#[allow(dead_code)] // documents `crate::reply::Reply`'s envelope; never built
pub struct Envelope {
    request_id: String,
    status_code: u16,
}

/// A success that carries nothing beside the envelope (`Reply` of an empty map).
#[derive(ToSchema)]
pub struct Empty {}

/// The body of a browser redirect (`crate::routes::browser::redirect`).
#[derive(ToSchema)]
#[allow(dead_code)] // documents `crate::routes::browser::redirect`; never built
pub struct Redirect {
    status_code: u16,
    request_id: String,
    /// Where the browser goes next (also in `Location`).
    redirect_url: String,
}

/// `GET /healthz` and `GET /livez`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents `crate::routes::health`; never built
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    status: String,
}

/// The refusals any API call may answer: bad input, credentials, permissions, missing records,
/// write conflicts, rate limits, and an unavailable database or dependency.
#[derive(IntoResponses)]
#[allow(dead_code)] // a list of documented responses; never built
pub enum Errors {
    /// Invalid input (`invalid_argument` and the endpoint's own types); nothing was written.
    #[response(status = 400)]
    BadRequest(StytchError),
    /// Missing or wrong project credentials, or an invalid member session or token.
    #[response(status = 401)]
    Unauthorized(StytchError),
    /// The caller may not do this (RBAC, tenant, or a setting that forbids it).
    #[response(status = 403)]
    Forbidden(StytchError),
    /// A record named in the request does not exist in this project.
    #[response(status = 404)]
    NotFound(StytchError),
    /// A unique value is taken, or the record changed meanwhile.
    #[response(status = 409)]
    Conflict(StytchError),
    /// The body is over the configured limit.
    #[response(status = 413)]
    TooLarge(StytchError),
    /// Rate limited or locked out; `Retry-After` says when to retry.
    #[response(status = 429)]
    TooManyRequests(StytchError),
    /// An internal error; the body names only the request id.
    #[response(status = 500)]
    Internal(StytchError),
    /// The database or a dependency (email delivery, breach check) is unavailable; retryable.
    #[response(status = 503)]
    Unavailable(StytchError),
}

/// The document, built once from the router's registrations.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = crate::api_router().into_openapi();
        wrap_in_envelope(&mut doc);
        doc
    })
}

/// Every API call's success body is its payload plus `request_id` and `status_code`
/// (`crate::reply::Reply`): a handler documents the payload type, and here each 200 that names a
/// payload schema becomes `allOf: [Envelope, payload]`. The operational routes (`/healthz`,
/// `/livez`, `/metrics`, `/openapi.json`) answer without the envelope.
fn wrap_in_envelope(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AllOfBuilder, Ref, Schema};
    use utoipa::openapi::RefOr;
    for (path, item) in doc.paths.paths.iter_mut() {
        if !(path.starts_with("/v1/") || path.starts_with("/latch/")) {
            continue;
        }
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") else {
                continue;
            };
            for content in ok.content.values_mut() {
                let RefOr::T(content) = content else { continue };
                if let Some(RefOr::Ref(payload)) = &content.schema {
                    let wrapped: RefOr<Schema> = AllOfBuilder::new()
                        .item(Ref::from_schema_name("Envelope"))
                        .item(payload.clone())
                        .into();
                    content.schema = Some(wrapped);
                }
            }
        }
    }
}

/// `GET /openapi.json`: the document, without authentication (it describes the API, not data).
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_serve",
    tag = "operations",
    responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub async fn serve() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| document().to_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], json.as_str()).into_response()
}
