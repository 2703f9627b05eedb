//! Removing what has expired: member and intermediate sessions, one-time codes, reset tokens.
//! None of them is valid past its expiry, so without this they would only grow the database.
//! Development-outbox messages go after a retention time: they hold codes and links (sealed at rest, but live).
//! Audit events go after theirs (`audit_retention_days`).

use super::Ctx;
use crate::clock::Timestamp;
use crate::error::CoreResult;
use crate::store::Expiring;
use std::time::Duration;

/// Rows per delete: small enough that each batch holds SQLite's single writer only briefly, so
/// requests' writes interleave with a sweep of millions.
pub const PURGE_BATCH: u32 = 1_000;

/// How long records kept by age (not by an expiry of their own) are kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub outbox: Duration,
    pub audit: Duration,
}

fn cutoff(now: Timestamp, keep: Duration) -> Timestamp {
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    Timestamp(now.millis().saturating_sub(keep_ms))
}

/// Deletes every record that expired at or before `now`, and outbox messages and audit events
/// older than their retention, a batch at a time; how many of each kind.
pub async fn purge_expired(ctx: &Ctx, now: Timestamp, retention: Retention) -> CoreResult<Vec<(Expiring, u64)>> {
    let mut purged = Vec::with_capacity(Expiring::ALL.len());
    for kind in Expiring::ALL {
        let cutoff = match kind {
            Expiring::OutboxMessages => cutoff(now, retention.outbox),
            Expiring::AuditEvents => cutoff(now, retention.audit),
            _ => now,
        };
        let mut total = 0;
        loop {
            let n = ctx.store.purge_expired(kind, cutoff, PURGE_BATCH).await?;
            total += n;
            if n < u64::from(PURGE_BATCH) {
                break;
            }
        }
        purged.push((kind, total));
    }
    Ok(purged)
}
