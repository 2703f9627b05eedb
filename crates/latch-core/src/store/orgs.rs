//! Organizations, their locators and domains, and their organization-scoped RBAC roles.

use super::{Found, StoreResult};
use crate::ids::{OrganizationId, ProjectId};
use crate::model::organization::OrgRecord;
use crate::model::search::{OrgFilter, Page, Query};
use crate::rbac::PolicyRole;

#[async_trait::async_trait]
pub trait OrgStore: Send + Sync {
    async fn insert_org(&self, org: &OrgRecord) -> StoreResult<()>;
    /// Writes the whole record if the stored one is still at `org.version`, and bumps the
    /// version (in the record too); `StoreError::Conflict` if another write came first.
    async fn update_org(&self, org: &mut OrgRecord) -> StoreResult<()>;
    async fn delete_org(&self, project_id: &ProjectId, organization_id: &OrganizationId) -> StoreResult<()>;
    /// By id, slug or external id.
    async fn find_org(&self, project_id: &ProjectId, locator: &str) -> StoreResult<Option<OrgRecord>>;
    /// Every organization whose id, slug or external id is `locator` (oldest first).
    async fn orgs_by_locator(&self, project_id: &ProjectId, locator: &str) -> StoreResult<Vec<OrgRecord>>;
    async fn org_by_slug(&self, project_id: &ProjectId, slug: &str) -> StoreResult<Option<OrgRecord>>;
    async fn org_by_external_id(&self, project_id: &ProjectId, external_id: &str) -> StoreResult<Option<OrgRecord>>;
    async fn orgs_by_ids(&self, project_id: &ProjectId, ids: &[OrganizationId]) -> StoreResult<Vec<OrgRecord>>;
    async fn search_orgs(
        &self,
        project_id: &ProjectId,
        query: &Query<OrgFilter>,
        page: &Page,
    ) -> StoreResult<Found<OrgRecord>>;

    /// The organization's own RBAC roles; none when the organization is not in the project.
    async fn org_roles(&self, project_id: &ProjectId, organization_id: &OrganizationId)
        -> StoreResult<Vec<PolicyRole>>;
    /// Replaces them; writes nothing when the organization is not in the project.
    async fn set_org_roles(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        roles: &[PolicyRole],
    ) -> StoreResult<()>;
}
