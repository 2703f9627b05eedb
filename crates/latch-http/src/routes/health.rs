//! `GET /healthz`: 200 while the database answers, 503 otherwise (readiness, for load
//! balancers). `GET /livez`: 200 while the process serves HTTP at all (liveness: a database
//! outage must not make an orchestrator restart every node).
//!
//! Readiness answers within `READY_TIMEOUT` whatever the database does: during a network
//! partition a query waits for the pool's acquire timeout (10 s) or for TCP to give up, longer
//! than a probe waits, and a probe that times out says less than a 503.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use std::time::Duration;

/// How long readiness waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(1);

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health_healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = crate::openapi::Health),
        (status = 503, description = "The database does not answer within a second", body = crate::openapi::Health)
    ),
)]
pub async fn healthz(State(s): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let error = match tokio::time::timeout(READY_TIMEOUT, s.ctx.store.ping()).await {
        Ok(Ok(())) => return (StatusCode::OK, Json(json!({"status": "ok"}))),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {READY_TIMEOUT:?}"),
    };
    tracing::warn!(%error, "health check: database unreachable");
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable"})))
}

#[utoipa::path(
    get,
    path = "/livez",
    operation_id = "health_livez",
    tag = "operations",
    responses((status = 200, description = "The process serves HTTP", body = crate::openapi::Health)),
)]
pub async fn livez() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}
