//! SCIM connections, and the users and groups their identity providers push.

use super::StoreResult;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::scim::{ScimConnectionRecord, ScimGroupRecord, ScimUserRecord};

#[async_trait::async_trait]
pub trait ScimStore: Send + Sync {
    /// `UniqueViolation` when the organization already has a connection.
    async fn insert_scim_connection(&self, c: &ScimConnectionRecord) -> StoreResult<()>;
    /// Writes back an existing connection (tokens, names, assignments).
    async fn update_scim_connection(&self, c: &ScimConnectionRecord) -> StoreResult<()>;
    async fn scim_connection(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
    ) -> StoreResult<Option<ScimConnectionRecord>>;
    /// The connection a SCIM request names in its path, before its bearer token says which
    /// project it is for.
    async fn scim_connection_by_id(&self, connection_id: &str) -> StoreResult<Option<ScimConnectionRecord>>;
    async fn scim_connection_of_org(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
    ) -> StoreResult<Option<ScimConnectionRecord>>;
    /// Deletes the connection with its users and groups (the members stay); false if none.
    async fn delete_scim_connection(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<bool>;

    /// `UniqueViolation` when the userName (folded) or the member is taken at the connection.
    async fn insert_scim_user(&self, u: &ScimUserRecord) -> StoreResult<()>;
    async fn update_scim_user(&self, u: &ScimUserRecord) -> StoreResult<()>;
    async fn scim_user(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        member_id: &MemberId,
    ) -> StoreResult<Option<ScimUserRecord>>;
    async fn scim_users(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<Vec<ScimUserRecord>>;
    /// The SCIM registrations of these members (any connection of the project).
    async fn scim_users_of_members(
        &self,
        project_id: &ProjectId,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<ScimUserRecord>>;
    async fn delete_scim_user(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        member_id: &MemberId,
    ) -> StoreResult<bool>;

    /// Inserts or replaces the group.
    async fn save_scim_group(&self, g: &ScimGroupRecord) -> StoreResult<()>;
    async fn scim_group(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        group_id: &str,
    ) -> StoreResult<Option<ScimGroupRecord>>;
    /// The connection's groups, oldest first.
    async fn scim_groups(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<Vec<ScimGroupRecord>>;
    async fn delete_scim_group(&self, project_id: &ProjectId, connection_id: &str, group_id: &str)
        -> StoreResult<bool>;
}
