//! Magic links and pending email updates.

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::links::{EmailUpdateRecord, MagicLinkRecord};

#[async_trait::async_trait]
pub trait LinkStore: Send + Sync {
    /// Stores a link. With `supersede`, the member's unused links of the same purpose stop
    /// working in the same transaction (one live email-update link per member).
    async fn insert_magic_link(&self, link: &MagicLinkRecord, supersede: bool) -> StoreResult<()>;
    async fn magic_link(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<Option<MagicLinkRecord>>;
    /// Marks the link used if it is unused and unexpired at `now`; false when another request
    /// used it first (or it just expired). The single-use guarantee lives in this one statement.
    async fn use_magic_link(&self, project_id: &ProjectId, token_hash: &str, now: Timestamp) -> StoreResult<bool>;
    /// Gives a used link back (its redemption failed after the claim, e.g. on a write conflict).
    async fn unuse_magic_link(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<()>;
    /// Every link sent for the member (a deleted member's invites, an address it no longer has).
    async fn delete_member_magic_links(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<()>;
    /// Deletes one link (it could not be delivered).
    async fn delete_magic_link(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<()>;

    /// Replaces the member's pending email update.
    async fn save_email_update(&self, update: &EmailUpdateRecord) -> StoreResult<()>;
    async fn email_update_of(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
    ) -> StoreResult<Option<EmailUpdateRecord>>;
    /// A pending update of another member of the organization to `email`, live at `now`.
    async fn email_update_to(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        email: &str,
        now: Timestamp,
    ) -> StoreResult<Option<EmailUpdateRecord>>;
    async fn delete_email_update(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<()>;
}
