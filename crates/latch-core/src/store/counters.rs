//! Failed-attempt counters in fixed windows, and the blocks kept in them. Keyed by (scope, key):
//! callers put the project into the key, so the counters are shared by every node.

use super::StoreResult;
use crate::clock::Timestamp;

#[async_trait::async_trait]
pub trait CounterStore: Send + Sync {
    /// Counts one failure and returns the failures in the current window; a window older than
    /// `window_start` restarts at one.
    async fn bump_attempts(&self, scope: &str, key: &str, window_start: Timestamp, now: Timestamp) -> StoreResult<i64>;
    async fn attempts(&self, scope: &str, key: &str, window_start: Timestamp) -> StoreResult<i64>;
    async fn clear_attempts(&self, scope: &str, key: &str) -> StoreResult<()>;
    /// Takes one attempt back (a reserved attempt that succeeded); never below zero.
    async fn refund_attempt(&self, scope: &str, key: &str) -> StoreResult<()>;
    /// The window start stored for (scope, key), if any (blocks store their end time there).
    async fn counter_window(&self, scope: &str, key: &str) -> StoreResult<Option<Timestamp>>;
}
