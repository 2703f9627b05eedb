//! `CounterStore`: fixed-window failure counters, one upsert per count on both engines.

use crate::exec::args;
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::store::{CounterStore, StoreResult};

#[async_trait::async_trait]
impl CounterStore for SqlStore {
    async fn bump_attempts(&self, scope: &str, key: &str, window_start: Timestamp, now: Timestamp) -> StoreResult<i64> {
        // One statement on both engines: a stale window restarts at one, a live one counts up.
        self.count(
            "INSERT INTO attempt_counters (scope, counter_key, window_start, attempts) VALUES ($1, $2, $4, 1) \
             ON CONFLICT (scope, counter_key) DO UPDATE SET \
               attempts = CASE WHEN attempt_counters.window_start < $3 THEN 1 ELSE attempt_counters.attempts + 1 END, \
               window_start = CASE WHEN attempt_counters.window_start < $3 THEN $4 ELSE attempt_counters.window_start END \
             RETURNING attempts",
            args![scope, key, window_start.millis(), now.millis()],
        )
        .await
    }

    async fn attempts(&self, scope: &str, key: &str, window_start: Timestamp) -> StoreResult<i64> {
        self.count(
            "SELECT COALESCE(MAX(attempts), 0) FROM attempt_counters WHERE scope = $1 AND counter_key = $2 AND window_start >= $3",
            args![scope, key, window_start.millis()],
        )
        .await
    }

    async fn clear_attempts(&self, scope: &str, key: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM attempt_counters WHERE scope = $1 AND counter_key = $2",
            args![scope, key],
        )
        .await
        .map(|_| ())
    }

    async fn refund_attempt(&self, scope: &str, key: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE attempt_counters SET attempts = attempts - 1 WHERE scope = $1 AND counter_key = $2 AND attempts > 0",
            args![scope, key],
        )
        .await
        .map(|_| ())
    }

    async fn counter_window(&self, scope: &str, key: &str) -> StoreResult<Option<Timestamp>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            window_start: i64,
        }
        let row: Option<Row> = self
            .opt(
                "SELECT window_start FROM attempt_counters WHERE scope = $1 AND counter_key = $2",
                args![scope, key],
            )
            .await?;
        Ok(row.map(|r| Timestamp(r.window_start)))
    }
}
