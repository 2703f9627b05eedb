//! `HousekeepingStore` and `ProjectStore`: health, bulk expiry and the project rows.

use crate::exec::args;
use crate::rows::ProjectRow;
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::ids::ProjectId;
use latch_core::model::project::Project;
use latch_core::store::{Expiring, HousekeepingStore, ProjectStore, StoreResult};

#[async_trait::async_trait]
impl HousekeepingStore for SqlStore {
    fn writes_seen(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.count("SELECT CAST(1 AS BIGINT)", vec![]).await.map(|_| ())
    }

    async fn purge_expired(&self, kind: Expiring, now: Timestamp, batch: u32) -> StoreResult<u64> {
        let table = kind.name();
        let (key, at) = match kind {
            Expiring::MemberSessions => ("member_session_id", "expires_at"),
            Expiring::IntermediateSessions => ("ist_id", "expires_at"),
            Expiring::OtpCodes => ("otp_id", "expires_at"),
            Expiring::PasswordResetTokens => ("token_hash", "expires_at"),
            Expiring::MagicLinks => ("token_hash", "expires_at"),
            Expiring::EmailUpdates => ("member_id", "expires_at"),
            Expiring::SsoStates => ("state_hash", "expires_at"),
            Expiring::SsoTokens => ("token_hash", "expires_at"),
            Expiring::OAuthTokens => ("token_hash", "expires_at"),
            Expiring::OutboxMessages => ("seq", "created_at"),
            Expiring::AuditEvents => ("event_id", "time"),
        };
        // The inner SELECT walks the expiry index; LIMIT in a subquery works on both engines.
        let sql = format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {at} <= $1 LIMIT $2)");
        self.exec(&sql, args![now.millis(), i64::from(batch)]).await
    }
}

#[async_trait::async_trait]
impl ProjectStore for SqlStore {
    async fn insert_project(&self, p: &Project) -> StoreResult<()> {
        self.exec(
            "INSERT INTO projects (project_id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4)",
            args![&p.project_id, &p.name, &p.secret_hash, p.created_at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn get_project(&self, project_id: &ProjectId) -> StoreResult<Option<Project>> {
        let row: Option<ProjectRow> = self
            .opt(
                "SELECT project_id, name, secret_hash, created_at FROM projects WHERE project_id = $1",
                args![project_id],
            )
            .await?;
        Ok(row.map(Project::from))
    }

    async fn set_project_secret(&self, project_id: &ProjectId, secret_hash: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE projects SET secret_hash = $2 WHERE project_id = $1",
            args![project_id, secret_hash],
        )
        .await
        .map(|_| ())
    }

    async fn count_projects(&self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM projects", vec![]).await
    }
}
