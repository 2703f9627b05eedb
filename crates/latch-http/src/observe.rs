//! Request ids and the access log: one line per request with method, path, status, latency,
//! request_id and client address. Never the query string or a body: they can carry secrets.

use crate::client_addr::ClientAddr;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::time::Instant;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled (every response body carries it).
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| latch_core::ids::request_id())
}

pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    #[allow(clippy::disallowed_methods)] // measures the request's latency for the log line, decides nothing
    let started = Instant::now();
    let request_id = latch_core::ids::request_id();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client = ClientAddr::resolve(peer, req.headers(), &state.http.trusted_proxies);
    let forwarded =
        peer.is_some_and(|p| state.http.trusted_proxies.iter().any(|n| n.contains(&p))) && Some(client.0) != peer;
    req.extensions_mut().insert(crate::client_addr::ResolvedClient {
        addr: client,
        forwarded,
    });
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut response = REQUEST_ID.scope(request_id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    tracing::info!(
        target: "latch::access",
        %method,
        %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        %request_id,
        client = %client.0,
    );
    response
}
