//! Routes, one module per API family, mirroring Stytch's paths.

pub mod auth_reply;
pub mod discovery;
pub mod health;
pub mod magic_links;
pub mod members;
pub mod organizations;
pub mod otps;
pub mod outbox;
pub mod passwords;
pub mod rbac;
pub mod sessions;
pub mod sso;
pub mod totps;

use crate::error::ApiError;
use axum::http::StatusCode;

pub async fn route_not_found() -> ApiError {
    ApiError::http(StatusCode::NOT_FOUND, "route_not_found", "No such route.")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::http(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This route does not accept this HTTP method.",
    )
}

/// Endpoints of the reference that this version cannot serve yet say so plainly.
pub async fn not_supported(uri: axum::http::Uri) -> ApiError {
    ApiError::http(
        StatusCode::NOT_IMPLEMENTED,
        "endpoint_not_supported",
        format!("{} is not supported by this version of Latch yet.", uri.path()),
    )
}
