//! Prometheus metrics: requests by route, method and status with latency histograms, and every
//! error answered by its `error_type` (which names the reason of each refused sign-in, lockouts
//! included). The scrape endpoint is off unless a token is configured, and then needs it as a
//! bearer token: the counts describe the server's traffic.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latch_core::crypto::{constant_time_eq, sha256_hex};
use std::sync::Arc;

/// The scrape endpoint: who may read it and how the exposition is rendered.
pub struct MetricsEndpoint {
    /// SHA-256 of the bearer token.
    pub token_hash: String,
    pub render: Arc<dyn Fn() -> String + Send + Sync>,
}

impl std::fmt::Debug for MetricsEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsEndpoint { .. }")
    }
}

/// Counts and times each request under its route template (never the path itself: ids would
/// make every request its own series).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    #[allow(clippy::disallowed_methods)] // measures latency for a histogram, decides nothing
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("latch_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("latch_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics_scrape",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String),
        (status = 401, description = "No or a wrong bearer token", body = crate::openapi::StytchError),
        (status = 404, description = "No metrics token is configured: the endpoint is off", body = crate::openapi::StytchError)
    ),
    security(("metrics_token" = [])),
)]
pub async fn scrape(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(endpoint) = &s.http.metrics else {
        return crate::routes::route_not_found().await.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(&sha256_hex(presented), &endpoint.token_hash) {
        return ApiError::http(latch_core::error::catalogue::UNAUTHORIZED_CREDENTIALS).into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        (endpoint.render)(),
    )
        .into_response()
}
