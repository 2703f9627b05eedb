//! Latch's HTTP front end: Stytch's B2B paths mapped onto latch-core use cases. Handlers only
//! extract, call one service function and map the result.

#![forbid(unsafe_code)]

pub mod audit;
pub mod client_addr;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod nul;
pub mod observe;
pub mod openapi;
pub mod reply;
pub mod routes;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use ipnet::IpNet;
use latch_core::service::Ctx;
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub trusted_proxies: Vec<IpNet>,
    /// `GET /metrics`, when a token is configured.
    pub metrics: Option<Arc<metrics::MetricsEndpoint>>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            trusted_proxies: vec![],
            metrics: None,
        }
    }
}

/// Cloned for every request by axum's extractors: one shared allocation, so a clone is one
/// reference count (a clone of every field of `Ctx` was 5% of a session check's CPU).
#[derive(Clone)]
pub struct AppState {
    pub ctx: Arc<Ctx>,
    pub http: Arc<HttpConfig>,
}

/// Every route, each registered with its `#[utoipa::path]` documentation (`openapi`): the
/// routes and the OpenAPI document come from this one list.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(routes::organizations::create))
        .routes(routes!(routes::organizations::search))
        .routes(routes!(
            routes::organizations::get,
            routes::organizations::update,
            routes::organizations::delete
        ))
        .routes(routes!(routes::organizations::metrics))
        .routes(routes!(routes::organizations::delete_external_id))
        .routes(routes!(routes::organizations::connected_apps))
        .routes(routes!(routes::organizations::connected_app))
        .routes(routes!(routes::members::create))
        .routes(routes!(routes::members::get))
        .routes(routes!(routes::members::dangerously_get))
        .routes(routes!(routes::members::search))
        .routes(routes!(routes::members::update, routes::members::delete))
        .routes(routes!(routes::members::reactivate))
        .routes(routes!(routes::members::delete_totp))
        .routes(routes!(routes::members::delete_external_id))
        .routes(routes!(routes::members::unlink_retired_email))
        .routes(routes!(routes::members::start_email_update))
        .routes(routes!(routes::members::oidc_providers))
        .routes(routes!(routes::members::connected_apps))
        .routes(routes!(routes::members::revoke_connected_app))
        .routes(routes!(routes::oauth::provider_tokens))
        .routes(routes!(routes::members::delete_password))
        .routes(routes!(routes::members::delete_mfa_phone_number))
        .routes(routes!(routes::passwords::strength_check))
        .routes(routes!(routes::sso::authenticate))
        .routes(routes!(routes::sso::get_connections))
        .routes(routes!(routes::sso::delete_connection))
        .routes(routes!(routes::sso::create_oidc))
        .routes(routes!(routes::sso::update_oidc))
        .routes(routes!(routes::sso::callback, routes::sso::acs))
        .routes(routes!(routes::sso::create_saml))
        .routes(routes!(routes::sso::update_saml))
        .routes(routes!(routes::sso::update_saml_by_url))
        .routes(routes!(routes::sso::delete_verification_certificate))
        .routes(routes!(routes::sso::delete_encryption_private_key))
        .routes(routes!(routes::sso::saml_metadata))
        .routes(routes!(routes::sso::start))
        .routes(routes!(routes::oauth::authenticate))
        .routes(routes!(routes::oauth::discovery_authenticate))
        .routes(routes!(routes::oauth::start))
        .routes(routes!(routes::oauth::discovery_start))
        .routes(routes!(routes::oauth::callback))
        .routes(routes!(routes::magic_links::login_or_signup))
        .routes(routes!(routes::magic_links::invite))
        .routes(routes!(routes::magic_links::authenticate))
        .routes(routes!(routes::magic_links::discovery_send))
        .routes(routes!(routes::magic_links::discovery_authenticate))
        .routes(routes!(routes::passwords::migrate))
        .routes(routes!(routes::passwords::authenticate))
        .routes(routes!(routes::passwords::reset_start))
        .routes(routes!(routes::passwords::reset))
        .routes(routes!(routes::passwords::require_reset))
        .routes(routes!(routes::passwords::delete_by_email))
        .routes(routes!(routes::passwords::session_reset))
        .routes(routes!(routes::passwords::existing_password_reset))
        .routes(routes!(routes::passwords::discovery_authenticate))
        .routes(routes!(routes::passwords::discovery_reset_start))
        .routes(routes!(routes::passwords::discovery_reset))
        .routes(routes!(routes::otps::email_login_or_signup))
        .routes(routes!(routes::otps::email_authenticate))
        .routes(routes!(routes::otps::sms_send))
        .routes(routes!(routes::otps::sms_authenticate))
        .routes(routes!(routes::discovery::otp_send))
        .routes(routes!(routes::discovery::otp_authenticate))
        .routes(routes!(routes::discovery::list))
        .routes(routes!(routes::discovery::create))
        .routes(routes!(routes::discovery::exchange))
        .routes(routes!(routes::totps::create))
        .routes(routes!(routes::totps::authenticate))
        .routes(routes!(routes::totps::migrate))
        .routes(routes!(routes::totps::recover))
        .routes(routes!(routes::totps::rotate))
        .routes(routes!(routes::totps::get_codes))
        .routes(routes!(routes::sessions::get))
        .routes(routes!(routes::sessions::authenticate))
        .routes(routes!(routes::sessions::revoke))
        .routes(routes!(routes::sessions::jwks))
        .routes(routes!(routes::sessions::exchange))
        .routes(routes!(routes::sessions::exchange_access_token))
        .routes(routes!(routes::sessions::attest))
        .routes(routes!(routes::sessions::migrate))
        .routes(routes!(routes::rbac::policy))
        .routes(routes!(routes::rbac::org_policy, routes::rbac::set_org_policy))
        .routes(routes!(routes::outbox::list))
        .routes(routes!(routes::events::list))
        .routes(routes!(routes::health::healthz))
        .routes(routes!(routes::health::livez))
        .routes(routes!(crate::metrics::scrape))
        .routes(routes!(openapi::serve))
}

pub fn router(state: AppState) -> Router {
    let (api, _) = api_router().split_for_parts();
    let api = api
        // The Management API (`/pwa/v3`, routes/management) and SCIM are not in the OpenAPI
        // document yet: their routes join here, undocumented, and the router tests leave their
        // prefixes out.
        .merge(routes::management::routes())
        .merge(scim_routes())
        .route_layer(axum::middleware::from_fn(metrics::track))
        .route_layer(axum::middleware::from_fn(audit::note_route))
        .fallback(routes::route_not_found)
        .method_not_allowed_fallback(routes::method_not_allowed);
    // Inside read_body_first: a request is answered only once its body was read.
    api.layer(axum::middleware::from_fn(nul::refuse_in_uri))
        .layer(axum::middleware::from_fn(extract::read_body_first))
        .layer(DefaultBodyLimit::max(state.http.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), time_limit))
        // Outside the time limit, so a call answered 503 for taking too long is recorded too.
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}

/// SCIM connections (the SDK's `scim.connection`) and the SCIM 2.0 service at each connection's
/// base URL. Not in the OpenAPI document yet (the router tests leave the prefix out); the
/// service speaks `application/scim+json` with its own schemas (`/Schemas`, `/ResourceTypes`).
fn scim_routes() -> Router<AppState> {
    use axum::routing::{any, get, post};
    use routes::scim;
    let connection = "/v1/b2b/scim/{organization_id}/connection/{connection_id}";
    Router::new()
        .route(
            "/v1/b2b/scim/{organization_id}/connection",
            post(scim::create).get(scim::get),
        )
        .route(connection, get(scim::get_groups).put(scim::update).delete(scim::delete))
        .route(&format!("{connection}/rotate/start"), post(scim::rotate_start))
        .route(&format!("{connection}/rotate/complete"), post(scim::rotate_complete))
        .route(&format!("{connection}/rotate/cancel"), post(scim::rotate_cancel))
        // The SCIM 2.0 service at a connection's base URL (the segment is the connection id).
        .route("/v1/b2b/scim/{organization_id}/{*rest}", any(scim::service))
}

/// Answers a request still running after `request_timeout` with Stytch's retryable 503 (mostly a
/// database that stopped answering mid-query), and drops its work.
async fn time_limit(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(state.http.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => error::ApiError::http(latch_core::error::catalogue::SERVER_UNAVAILABLE).into_response(),
    }
}
