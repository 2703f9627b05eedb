//! Domain errors. Each variant names an outcome; the `error_type` string is Stytch's name for
//! the specific case, so the HTTP layer can map the variant to a status without knowing domains.

use std::borrow::Cow;

pub mod catalogue;

/// Stytch's machine-readable `error_type` plus a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub error_type: &'static str,
    pub message: Cow<'static, str>,
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Bad input: nothing was written.
    #[error("{}: {}", .0.error_type, .0.message)]
    Invalid(Fault),
    #[error("{}: {}", .0.error_type, .0.message)]
    NotFound(Fault),
    /// Missing or wrong credentials (project secret or member session).
    #[error("{}: {}", .0.error_type, .0.message)]
    Unauthorized(Fault),
    #[error("{}: {}", .0.error_type, .0.message)]
    Forbidden(Fault),
    #[error("{}: {}", fault.error_type, fault.message)]
    RateLimited { fault: Fault, retry_after_secs: u64 },
    /// The record changed between this request's read and its write, more often than a retry
    /// could absorb: nothing was written, and the same request may be sent again.
    #[error("{}: {}", .0.error_type, .0.message)]
    Conflict(Fault),
    /// A dependency Latch needs for this request (e.g. a breach-check service) is down.
    #[error("{}: {}", .0.error_type, .0.message)]
    Unavailable(Fault),
    /// The database cannot be reached (refused, reset, timed out): nothing this request meant to
    /// write was acknowledged, and the same request may be sent again. The detail is logged,
    /// never sent.
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// Anything the caller cannot fix; the message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

/// Errors are built from `catalogue` (`catalogue::NAME.err()`, `.field(…)`, `.detail(…)`), so
/// each `error_type` has one status and one message; these name the common ones.
impl CoreError {
    /// A bad value in a named request field (`invalid_argument`).
    pub fn argument(field: &str, problem: &str) -> Self {
        catalogue::INVALID_ARGUMENT.field_detail(field, problem)
    }
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::Internal(message.to_string())
    }
    /// A concurrent change won the race for the same record (409 `conflict`).
    pub fn conflict() -> Self {
        catalogue::CONFLICT.err()
    }
    pub fn organization_not_found() -> Self {
        catalogue::ORGANIZATION_NOT_FOUND.err()
    }
    pub fn member_not_found() -> Self {
        catalogue::MEMBER_NOT_FOUND.err()
    }
}

/// Errors a store reports; services turn them into `CoreError` with the right Stytch name.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique index refused the write. SQLite names no constraint, so callers decide which.
    #[error("unique constraint violated")]
    UniqueViolation,
    #[error("not found")]
    NotFound,
    /// An optimistic write matched no row: the record changed (or went) since it was read.
    #[error("record changed since it was read")]
    Conflict,
    /// The database did not answer: no connection could be made or kept, or none was free in
    /// time. Transient, unlike `Backend`.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("storage backend: {0}")]
    Backend(String),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => CoreError::internal("row unexpectedly missing"),
            StoreError::Conflict => CoreError::conflict(),
            StoreError::Unavailable(detail) => CoreError::DatabaseUnavailable(detail),
            other => CoreError::Internal(other.to_string()),
        }
    }
}
