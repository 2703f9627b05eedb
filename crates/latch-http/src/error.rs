//! The one place where errors become HTTP: Stytch's body `{status_code, request_id, error_type,
//! error_message, error_url}`. Internal details are logged, never sent.

use crate::observe::current_request_id;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latch_core::error::catalogue::{self, ErrorKind};
use latch_core::{CoreError, Fault};
use serde::Serialize;

#[derive(Debug)]
pub enum ApiError {
    /// A domain outcome, mapped to its status below.
    Core(CoreError),
    /// A protocol-level failure (malformed JSON, unknown route, …) with its own status.
    Http { kind: ErrorKind, message: String },
}

impl<E: Into<CoreError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError::Core(e.into())
    }
}

impl ApiError {
    /// A protocol-level failure with the catalogue message.
    pub fn http(kind: ErrorKind) -> Self {
        ApiError::Http {
            kind,
            message: kind.message.into(),
        }
    }

    /// A protocol-level failure with a detail in its message.
    pub fn http_detail(kind: ErrorKind, detail: impl std::fmt::Display) -> Self {
        ApiError::Http {
            kind,
            message: kind.render(None, Some(&detail.to_string())),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    status_code: u16,
    request_id: String,
    error_type: &'a str,
    error_message: &'a str,
    error_url: String,
    error_details: serde_json::Value,
}

fn body(status: StatusCode, error_type: &str, message: &str) -> Response {
    metrics::counter!("latch_errors_total", "error_type" => error_type.to_owned()).increment(1);
    let b = ErrorBody {
        status_code: status.as_u16(),
        request_id: current_request_id(),
        error_type,
        error_message: message,
        error_url: format!("https://stytch.com/docs/api/errors/{}#{error_type}", status.as_u16()),
        error_details: serde_json::Value::Object(Default::default()),
    };
    let mut r = (status, axum::Json(b)).into_response();
    r.extensions_mut()
        .insert(crate::audit::ErrorType(error_type.to_owned()));
    r
}

fn fault_response(status: StatusCode, f: &Fault) -> Response {
    body(status, f.error_type, &f.message)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let core = match &self {
            ApiError::Http { kind, message } => {
                let status = StatusCode::from_u16(kind.status).unwrap_or(StatusCode::BAD_REQUEST);
                return body(status, kind.error_type, message);
            }
            ApiError::Core(core) => core,
        };
        match core {
            CoreError::Invalid(f) => fault_response(StatusCode::BAD_REQUEST, f),
            CoreError::NotFound(f) => fault_response(StatusCode::NOT_FOUND, f),
            CoreError::Unauthorized(f) => fault_response(StatusCode::UNAUTHORIZED, f),
            CoreError::Forbidden(f) => fault_response(StatusCode::FORBIDDEN, f),
            CoreError::Conflict(f) => fault_response(StatusCode::CONFLICT, f),
            CoreError::Unavailable(f) => fault_response(StatusCode::SERVICE_UNAVAILABLE, f),
            CoreError::RateLimited {
                fault,
                retry_after_secs,
            } => {
                let mut r = fault_response(StatusCode::TOO_MANY_REQUESTS, fault);
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            CoreError::DatabaseUnavailable(detail) => {
                tracing::error!(request_id = %current_request_id(), error = %detail, "database unavailable");
                // Stytch's name for a 503 its clients retry; Retry-After tells load balancers and
                // clients when.
                let kind = catalogue::SERVER_UNAVAILABLE;
                let mut r = body(StatusCode::SERVICE_UNAVAILABLE, kind.error_type, kind.message);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            CoreError::Internal(detail) => {
                tracing::error!(request_id = %current_request_id(), error = %detail, "internal error");
                let kind = catalogue::INTERNAL_SERVER_ERROR;
                body(StatusCode::INTERNAL_SERVER_ERROR, kind.error_type, kind.message)
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
