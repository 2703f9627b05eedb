//! Routes, one module per API family, mirroring Stytch's paths.

pub mod auth_reply;
pub mod browser;
pub mod discovery;
pub mod events;
pub mod health;
pub mod magic_links;
pub mod management;
pub mod members;
pub mod oauth;
pub mod organizations;
pub mod otps;
pub mod outbox;
pub mod passwords;
pub mod rbac;
pub mod scim;
pub mod sessions;
pub mod sso;
pub mod totps;

use crate::error::ApiError;
use latch_core::error::catalogue;

pub async fn route_not_found() -> ApiError {
    ApiError::http(catalogue::ROUTE_NOT_FOUND)
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::http(catalogue::METHOD_NOT_ALLOWED)
}

/// Endpoints of the reference that this version cannot serve yet say so plainly.
pub async fn not_supported(uri: axum::http::Uri) -> ApiError {
    ApiError::http_detail(catalogue::ENDPOINT_NOT_SUPPORTED, uri.path())
}
