//! Members and the emails they retired.

use super::{Found, StoreResult};
use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::member::{MemberRecord, RetiredEmail};
use crate::model::search::{MemberFilter, Page, Query};

#[async_trait::async_trait]
pub trait MemberStore: Send + Sync {
    async fn insert_member(&self, member: &MemberRecord) -> StoreResult<()>;
    /// Writes the member if the stored one is still at `member.version`, bumping the version (in
    /// the record too), and in the same transaction retires its previous email if given.
    /// `StoreError::Conflict` if another write came first.
    async fn update_member(&self, member: &mut MemberRecord, retire: Option<&RetiredEmail>) -> StoreResult<()>;
    /// `update_member` for a member whose email changed: in the same transaction, deletes its
    /// sessions, reset tokens, unused magic links, pending email update and password, which proved
    /// or were sent to the previous address.
    async fn change_member_email(&self, member: &mut MemberRecord, retire: Option<&RetiredEmail>) -> StoreResult<()>;
    /// Sets only the member's lock (and bumps its version, so a whole-record write read before
    /// the lock cannot undo it); false when there is no such member.
    async fn lock_member(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
        locked_at: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool>;
    /// By id or external id, within one organization; deleted members included.
    async fn find_member(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        locator: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn member_by_id(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<Option<MemberRecord>>;
    /// The non-deleted member with this email in the organization.
    async fn member_by_email(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        email: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn member_by_phone(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        phone: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn member_by_external_id(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        external_id: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn member_by_password_id(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        password_id: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    /// Live members with this email in any organization of the project.
    async fn members_with_email(&self, project_id: &ProjectId, email: &str) -> StoreResult<Vec<MemberRecord>>;
    async fn count_members(&self, project_id: &ProjectId, organization_id: &OrganizationId) -> StoreResult<i64>;
    async fn search_members(
        &self,
        project_id: &ProjectId,
        organization_ids: &[OrganizationId],
        query: &Query<MemberFilter>,
        page: &Page,
    ) -> StoreResult<Found<MemberRecord>>;

    // Retired emails
    async fn retired_emails(&self, project_id: &ProjectId, member_ids: &[MemberId]) -> StoreResult<Vec<RetiredEmail>>;
    async fn retired_email_owner(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        email: &str,
    ) -> StoreResult<Option<RetiredEmail>>;
    async fn delete_retired_email(&self, project_id: &ProjectId, email_id: &str) -> StoreResult<()>;
}
