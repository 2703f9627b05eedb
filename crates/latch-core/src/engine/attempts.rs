//! Failed-attempt limits that hold under concurrency: an attempt is counted *before* the work it
//! guards (a password hash, a TOTP code), in one atomic upsert on either engine, and refused once
//! the count is past the limit. A success gives its reservation back.
//!
//! ```text
//!   reserve ──(count ≤ max)──▶ check the secret ──ok──▶ refund (the attempt was no failure)
//!      │                             └──wrong──▶ stays counted
//!      └──(count > max)──▶ 429, the secret is never checked
//! ```
//!
//! Checking first and counting after the failure let every request of a concurrent burst pass the
//! check before any failure was counted (15–39 password guesses per burst of 40 instead of 10).

use crate::clock::Timestamp;
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};

/// At most `max` attempts per key in a fixed window of `window_minutes`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub scope: &'static str,
    pub max: i64,
    pub window_minutes: i64,
}

/// One counted attempt.
#[must_use = "a successful attempt should be refunded"]
pub struct Reservation {
    scope: &'static str,
    key: String,
    /// This attempt's place in the window: 1 for the first.
    pub count: i64,
}

impl Limit {
    /// Counts one attempt for `key`; past the limit, answers `refused(retry_after_secs)` instead.
    pub async fn reserve(
        &self,
        ctx: &Ctx,
        key: String,
        now: Timestamp,
        refused: impl FnOnce(u64) -> CoreError,
    ) -> CoreResult<Reservation> {
        let count = ctx
            .store
            .bump_attempts(self.scope, &key, now.plus_minutes(-self.window_minutes), now)
            .await?;
        if count > self.max {
            return Err(refused(self.window_minutes.max(1) as u64 * 60));
        }
        Ok(Reservation {
            scope: self.scope,
            key,
            count,
        })
    }
}

impl Reservation {
    /// Whether this attempt used up the last one the window allows.
    pub fn is_last(&self, limit: &Limit) -> bool {
        self.count >= limit.max
    }

    /// The attempt succeeded: it is not counted against the key.
    pub async fn refund(self, ctx: &Ctx) -> CoreResult<()> {
        ctx.store.refund_attempt(self.scope, &self.key).await?;
        Ok(())
    }

    /// The attempt succeeded and earlier failures are forgiven too (a correct password).
    pub async fn clear(self, ctx: &Ctx) -> CoreResult<()> {
        ctx.store.clear_attempts(self.scope, &self.key).await?;
        Ok(())
    }
}
