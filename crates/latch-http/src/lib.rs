//! Latch's HTTP front end: Stytch's B2B paths mapped onto latch-core use cases. Handlers only
//! extract, call one service function and map the result.

#![forbid(unsafe_code)]

pub mod audit;
pub mod client_addr;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod observe;
pub mod reply;
pub mod routes;

use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post, put};
use axum::Router;
use ipnet::IpNet;
use latch_core::service::Ctx;
use std::sync::Arc;
use std::time::Duration;

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

pub fn router(state: AppState) -> Router {
    use routes::{members as m, organizations as o};
    let orgs = "/v1/b2b/organizations";
    let member = "/v1/b2b/organizations/{organization_id}/members/{member_id}";
    let api = Router::new()
        .route(orgs, post(o::create))
        .route("/v1/b2b/organizations/search", post(o::search))
        .route(
            "/v1/b2b/organizations/{organization_id}",
            get(o::get).put(o::update).delete(o::delete),
        )
        .route("/v1/b2b/organizations/{organization_id}/metrics", get(o::metrics))
        .route(
            "/v1/b2b/organizations/{organization_id}/external_id",
            delete(o::delete_external_id),
        )
        .route(
            "/v1/b2b/organizations/{organization_id}/connected_apps",
            get(o::connected_apps),
        )
        .route(
            "/v1/b2b/organizations/{organization_id}/connected_apps/{connected_app_id}",
            get(o::connected_app),
        )
        .route("/v1/b2b/organizations/{organization_id}/members", post(m::create))
        .route("/v1/b2b/organizations/{organization_id}/member", get(m::get))
        .route(
            "/v1/b2b/organizations/members/dangerously_get/{member_id}",
            get(m::dangerously_get),
        )
        .route("/v1/b2b/organizations/members/search", post(m::search))
        .route(member, put(m::update).delete(m::delete))
        .route(&format!("{member}/reactivate"), put(m::reactivate))
        .route(&format!("{member}/totp"), delete(m::delete_totp))
        .route(&format!("{member}/external_id"), delete(m::delete_external_id))
        .route(&format!("{member}/unlink_retired_email"), post(m::unlink_retired_email))
        .route(&format!("{member}/start_email_update"), post(m::start_email_update))
        .route(&format!("{member}/oidc_providers"), get(m::oidc_providers))
        .route(&format!("{member}/connected_apps"), get(m::connected_apps))
        .route(
            &format!("{member}/connected_apps/{{connected_app_id}}/revoke"),
            post(m::revoke_connected_app),
        )
        .route(
            &format!("{member}/oauth_providers/{{provider}}"),
            get(routes::oauth::provider_tokens),
        )
        .route(
            "/v1/b2b/organizations/{organization_id}/members/passwords/{member_password_id}",
            delete(m::delete_password),
        )
        .route(
            "/v1/b2b/organizations/{organization_id}/members/mfa_phone_numbers/{member_id}",
            delete(m::delete_mfa_phone_number),
        )
        .route(
            "/v1/b2b/passwords/strength_check",
            post(routes::passwords::strength_check),
        )
        .route(
            "/v1/b2b/scim/{organization_id}/connection",
            post(routes::scim::create).get(routes::scim::get),
        )
        .route(
            "/v1/b2b/scim/{organization_id}/connection/{connection_id}",
            get(routes::scim::get_groups)
                .put(routes::scim::update)
                .delete(routes::scim::delete),
        )
        .route(
            "/v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/start",
            post(routes::scim::rotate_start),
        )
        .route(
            "/v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/complete",
            post(routes::scim::rotate_complete),
        )
        .route(
            "/v1/b2b/scim/{organization_id}/connection/{connection_id}/rotate/cancel",
            post(routes::scim::rotate_cancel),
        )
        // The SCIM 2.0 service at a connection's base URL (the segment is the connection id).
        .route("/v1/b2b/scim/{organization_id}/{*rest}", any(routes::scim::service))
        .route("/v1/b2b/sso/authenticate", post(routes::sso::authenticate))
        .route("/v1/b2b/sso/{organization_id}", get(routes::sso::get_connections))
        .route(
            "/v1/b2b/sso/{organization_id}/connections/{connection_id}",
            delete(routes::sso::delete_connection),
        )
        .route("/v1/b2b/sso/oidc/{organization_id}", post(routes::sso::create_oidc))
        .route(
            "/v1/b2b/sso/oidc/{organization_id}/connections/{connection_id}",
            put(routes::sso::update_oidc),
        )
        .route("/v1/b2b/sso/callback/{connection_id}", get(routes::sso::callback))
        .route("/v1/public/sso/start", get(routes::sso::start))
        .route("/v1/b2b/oauth/authenticate", post(routes::oauth::authenticate))
        .route(
            "/v1/b2b/oauth/discovery/authenticate",
            post(routes::oauth::discovery_authenticate),
        )
        .route("/v1/b2b/public/oauth/{provider}/start", get(routes::oauth::start))
        .route(
            "/v1/b2b/public/oauth/{provider}/discovery/start",
            get(routes::oauth::discovery_start),
        )
        .route("/v1/b2b/public/oauth/{provider}/callback", get(routes::oauth::callback))
        .route(
            "/v1/b2b/magic_links/email/login_or_signup",
            post(routes::magic_links::login_or_signup),
        )
        .route("/v1/b2b/magic_links/email/invite", post(routes::magic_links::invite))
        .route(
            "/v1/b2b/magic_links/authenticate",
            post(routes::magic_links::authenticate),
        )
        .route(
            "/v1/b2b/magic_links/email/discovery/send",
            post(routes::magic_links::discovery_send),
        )
        .route(
            "/v1/b2b/magic_links/discovery/authenticate",
            post(routes::magic_links::discovery_authenticate),
        )
        .route("/v1/b2b/passwords/migrate", post(routes::passwords::migrate))
        .route("/v1/b2b/passwords/authenticate", post(routes::passwords::authenticate))
        .route(
            "/v1/b2b/passwords/email/reset/start",
            post(routes::passwords::reset_start),
        )
        .route("/v1/b2b/passwords/email/reset", post(routes::passwords::reset))
        .route(
            "/v1/b2b/passwords/email/require_reset",
            post(routes::passwords::require_reset),
        )
        .route(
            "/v1/b2b/passwords/email/delete",
            post(routes::passwords::delete_by_email),
        )
        .route(
            "/v1/b2b/passwords/session/reset",
            post(routes::passwords::session_reset),
        )
        .route(
            "/v1/b2b/passwords/existing_password/reset",
            post(routes::passwords::existing_password_reset),
        )
        .route(
            "/v1/b2b/passwords/discovery/authenticate",
            post(routes::passwords::discovery_authenticate),
        )
        .route(
            "/v1/b2b/passwords/discovery/email/reset/start",
            post(routes::passwords::discovery_reset_start),
        )
        .route(
            "/v1/b2b/passwords/discovery/email/reset",
            post(routes::passwords::discovery_reset),
        )
        .route(
            "/v1/b2b/otps/email/login_or_signup",
            post(routes::otps::email_login_or_signup),
        )
        .route(
            "/v1/b2b/otps/email/authenticate",
            post(routes::otps::email_authenticate),
        )
        .route("/v1/b2b/otps/sms/send", post(routes::otps::sms_send))
        .route("/v1/b2b/otps/sms/authenticate", post(routes::otps::sms_authenticate))
        .route("/v1/b2b/otps/email/discovery/send", post(routes::discovery::otp_send))
        .route(
            "/v1/b2b/otps/email/discovery/authenticate",
            post(routes::discovery::otp_authenticate),
        )
        .route("/v1/b2b/discovery/organizations", post(routes::discovery::list))
        .route(
            "/v1/b2b/discovery/organizations/create",
            post(routes::discovery::create),
        )
        .route(
            "/v1/b2b/discovery/intermediate_sessions/exchange",
            post(routes::discovery::exchange),
        )
        .route("/v1/b2b/totp", post(routes::totps::create))
        .route("/v1/b2b/totp/authenticate", post(routes::totps::authenticate))
        .route("/v1/b2b/totp/migrate", post(routes::totps::migrate))
        .route("/v1/b2b/recovery_codes/recover", post(routes::totps::recover))
        .route("/v1/b2b/recovery_codes/rotate", post(routes::totps::rotate))
        .route(
            "/v1/b2b/recovery_codes/{organization_id}/{member_id}",
            get(routes::totps::get_codes),
        )
        .route("/v1/b2b/sessions", get(routes::sessions::get))
        .route("/v1/b2b/sessions/authenticate", post(routes::sessions::authenticate))
        .route("/v1/b2b/sessions/revoke", post(routes::sessions::revoke))
        .route("/v1/b2b/sessions/jwks/{project_id}", get(routes::sessions::jwks))
        .route("/v1/b2b/sessions/exchange", post(routes::sessions::exchange))
        // Connected Apps, trusted auth tokens and external-session migration are not built yet.
        .route("/v1/b2b/sessions/exchange_access_token", post(routes::not_supported))
        .route("/v1/b2b/sessions/attest", post(routes::not_supported))
        .route("/v1/b2b/sessions/migrate", post(routes::not_supported))
        .route("/v1/b2b/rbac/policy", get(routes::rbac::policy))
        .route(
            "/v1/b2b/rbac/organizations/{organization_id}",
            get(routes::rbac::org_policy).put(routes::rbac::set_org_policy),
        )
        .route("/latch/v1/outbox", get(routes::outbox::list))
        .route("/latch/v1/events", get(routes::events::list))
        .route("/healthz", get(routes::health::healthz))
        .route("/livez", get(routes::health::livez))
        .route("/metrics", get(metrics::scrape))
        .merge(routes::management::routes())
        .route_layer(axum::middleware::from_fn(metrics::track))
        .route_layer(axum::middleware::from_fn(audit::note_route))
        .fallback(routes::route_not_found)
        .method_not_allowed_fallback(routes::method_not_allowed);
    api.layer(axum::middleware::from_fn(extract::read_body_first))
        .layer(DefaultBodyLimit::max(state.http.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), time_limit))
        // Outside the time limit, so a call answered 503 for taking too long is recorded too.
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
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
