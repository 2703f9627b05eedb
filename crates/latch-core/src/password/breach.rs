//! The seam for a remote breached-password lookup (the binary plugs in Have I Been Pwned's
//! range API). Core only asks the question; how it is answered, and what happens when the
//! service is down (fail open or closed), is the adapter's business.

use crate::error::CoreResult;

#[async_trait::async_trait]
pub trait BreachCheck: Send + Sync + 'static {
    /// True when the password is known to have leaked. An `Err` refuses the request (fail
    /// closed); an adapter that fails open answers `Ok(false)` instead.
    async fn is_pwned(&self, password: &str) -> CoreResult<bool>;
}
