//! `HousekeepingStore`: health and bulk expiry.

use crate::exec::args;
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::store::{Expiring, HousekeepingStore, StoreResult};

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
            Expiring::SamlAssertions => ("assertion_key", "expires_at"),
            Expiring::OutboxMessages => ("seq", "created_at"),
            Expiring::AuditEvents => ("event_id", "time"),
        };
        // The inner SELECT walks the expiry index; LIMIT in a subquery works on both engines.
        let sql = format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {at} <= $1 LIMIT $2)");
        self.exec(&sql, args![now.millis(), i64::from(batch)]).await
    }
}
