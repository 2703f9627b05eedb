//! `GET /healthz`: 200 while the database answers, 503 otherwise (readiness, for load
//! balancers). `GET /livez`: 200 while the process serves HTTP at all (liveness: a database
//! outage must not make an orchestrator restart every node).

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;

pub async fn healthz(State(s): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match s.ctx.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable"})))
        }
    }
}

pub async fn livez() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}
