//! Member sessions.

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::{MemberId, ProjectId};
use crate::model::session::{SessionKey, SessionRecord, SessionWithMember};

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// Writes last access, expiry, factors and claims.
    async fn update_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// Moves only the last access time, and only forward: a plain session check must not write
    /// back factors or claims that a concurrent MFA step may just have changed.
    async fn touch_session(&self, project_id: &ProjectId, session_id: &str, at: Timestamp) -> StoreResult<()>;
    async fn session_by_token_hash(
        &self,
        project_id: &ProjectId,
        token_hash: &str,
    ) -> StoreResult<Option<SessionRecord>>;
    async fn session_by_id(&self, project_id: &ProjectId, session_id: &str) -> StoreResult<Option<SessionRecord>>;
    async fn session_with_member(
        &self,
        project_id: &ProjectId,
        key: &SessionKey,
    ) -> StoreResult<Option<SessionWithMember>>;
    /// Unexpired sessions of the member, oldest first.
    async fn live_sessions(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
        now: Timestamp,
    ) -> StoreResult<Vec<SessionRecord>>;
    async fn delete_session(&self, project_id: &ProjectId, session_id: &str) -> StoreResult<bool>;
    async fn delete_member_sessions(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<u64>;
    /// Of all projects: a node-wide gauge.
    async fn count_live_sessions(&self, now: Timestamp) -> StoreResult<i64>;
}
