//! A member's long-lived credentials: password, reset tokens, TOTP registration, recovery codes.

use super::StoreResult;
use crate::ids::{MemberId, ProjectId};
use crate::model::credentials::{PasswordRecord, RecoveryCodeRecord, ResetTokenRecord, TotpRecord};
use crate::model::member::MemberRecord;

#[async_trait::async_trait]
pub trait CredentialStore: Send + Sync {
    /// Stores the member's password and sets the member's `member_password_id` and
    /// `email_verified` atomically, if the member is still at `member.version` (bumped, in the
    /// record too); `StoreError::Conflict` otherwise, and nothing is written.
    async fn save_password(&self, member: &mut MemberRecord, password: &PasswordRecord) -> StoreResult<()>;
    async fn password_of(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<Option<PasswordRecord>>;
    async fn delete_password(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<()>;
    /// Marks the member's password as one that must be reset before it is accepted again.
    async fn require_password_reset(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<bool>;

    /// Stores a reset token; earlier tokens of the member stop working.
    async fn insert_reset_token(&self, token: &ResetTokenRecord) -> StoreResult<()>;
    async fn reset_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<Option<ResetTokenRecord>>;
    /// Deletes it; false when another request used it first.
    async fn take_reset_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<bool>;

    /// Replaces the member's registration and recovery codes in one transaction.
    async fn save_totp(&self, totp: &TotpRecord, codes: &[RecoveryCodeRecord]) -> StoreResult<()>;
    async fn totp_of(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<Option<TotpRecord>>;
    /// Activates the registration and records the accepted step, only if the step is newer.
    async fn use_totp_step(&self, project_id: &ProjectId, totp_id: &str, step: i64) -> StoreResult<bool>;
    async fn delete_totp(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<()>;
    async fn recovery_codes(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
    ) -> StoreResult<Vec<RecoveryCodeRecord>>;
    /// Marks the code used; false when it was already used.
    async fn use_recovery_code(&self, project_id: &ProjectId, code_id: &str) -> StoreResult<bool>;
    async fn replace_recovery_codes(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
        codes: &[RecoveryCodeRecord],
    ) -> StoreResult<()>;
}
