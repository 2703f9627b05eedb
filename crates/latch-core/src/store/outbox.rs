//! The development outbox: messages kept for a test harness to read instead of being sent.

use super::StoreResult;
use crate::delivery::StoredMessage;
use crate::ids::ProjectId;

#[async_trait::async_trait]
pub trait OutboxStore: Send + Sync {
    async fn insert_message(&self, message: &StoredMessage) -> StoreResult<()>;
    async fn list_messages(
        &self,
        project_id: &ProjectId,
        recipient: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StoredMessage>>;
}
