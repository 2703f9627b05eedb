//! Short-lived proofs in flight: one-time passcodes and intermediate sessions.

use super::StoreResult;
use crate::ids::ProjectId;
use crate::model::credentials::{IntermediateRecord, OtpRecord};

#[async_trait::async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores the code, replacing any earlier one for the same (scope, channel, recipient).
    async fn replace_otp(&self, otp: &OtpRecord) -> StoreResult<()>;
    async fn otp_for(
        &self,
        project_id: &ProjectId,
        scope: &str,
        channel: &str,
        recipient: &str,
    ) -> StoreResult<Option<OtpRecord>>;
    /// Takes one attempt at the code, before it is compared, and returns the attempts so far;
    /// `None` once `max` were taken (or the code is gone).
    async fn otp_attempt(&self, project_id: &ProjectId, otp_id: &str, max: i64) -> StoreResult<Option<i64>>;
    /// Deletes it; false when another request used it first.
    async fn delete_otp(&self, project_id: &ProjectId, otp_id: &str) -> StoreResult<bool>;

    async fn insert_intermediate(&self, ist: &IntermediateRecord) -> StoreResult<()>;
    /// Writes the organization, member, email, factors and expiry.
    async fn update_intermediate(&self, ist: &IntermediateRecord) -> StoreResult<()>;
    async fn intermediate_by_token_hash(
        &self,
        project_id: &ProjectId,
        token_hash: &str,
    ) -> StoreResult<Option<IntermediateRecord>>;
    /// Deletes it; false when it was already gone (consumed by a concurrent request).
    async fn delete_intermediate(&self, project_id: &ProjectId, ist_id: &str) -> StoreResult<bool>;
}
