//! The audit log: events written in batches by the background writer (`crate::audit_log`),
//! listed per project with filters and a cursor, and purged after the retention time
//! (`Expiring::AuditEvents`).

use super::StoreResult;
use crate::ids::ProjectId;
use crate::model::audit::{AuditEvent, AuditQuery};

#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    /// Stores the events in one transaction: all of them or none. An event already stored (a
    /// batch retried after its commit went unacknowledged) is left as it is, not an error.
    async fn insert_audit_events(&self, events: &[AuditEvent]) -> StoreResult<()>;

    /// The project's events matching every filter of `q`, newest first (by time, then event id),
    /// after `q.after`; at most `q.limit + 1`, so the caller can tell whether there are more.
    async fn audit_events(&self, project_id: &ProjectId, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;
}
