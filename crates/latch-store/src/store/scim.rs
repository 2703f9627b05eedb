//! `ScimStore`: SCIM connections (token digests only), their users and groups.

use crate::exec::{args, Arg};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::error::StoreError;
use latch_core::ids::{MemberId, OrganizationId, ProjectId};
use latch_core::model::scim::{ScimConnectionRecord, ScimGroupRecord, ScimUserRecord};
use latch_core::store::{ScimStore, StoreResult};

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("corrupt {what}: {e}")))
}

const CONNECTION_COLUMNS: &str = "connection_id, project_id, organization_id, display_name, identity_provider, \
     token_hash, token_last_four, token_expires_at, next_token_hash, next_token_last_four, next_token_expires_at, \
     role_assignments, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    connection_id: String,
    project_id: String,
    organization_id: String,
    display_name: String,
    identity_provider: String,
    token_hash: String,
    token_last_four: String,
    token_expires_at: Option<i64>,
    next_token_hash: Option<String>,
    next_token_last_four: String,
    next_token_expires_at: Option<i64>,
    role_assignments: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ConnectionRow> for ScimConnectionRecord {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> Result<Self, StoreError> {
        Ok(ScimConnectionRecord {
            role_assignments: json(&r.role_assignments, "role_assignments")?,
            connection_id: r.connection_id,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            display_name: r.display_name,
            identity_provider: r.identity_provider,
            token_hash: r.token_hash,
            token_last_four: r.token_last_four,
            token_expires_at: r.token_expires_at.map(Timestamp),
            next_token_hash: r.next_token_hash,
            next_token_last_four: r.next_token_last_four,
            next_token_expires_at: r.next_token_expires_at.map(Timestamp),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

const USER_COLUMNS: &str = "member_id, project_id, organization_id, connection_id, registration_id, user_name, \
     external_id, active, resource, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    member_id: String,
    project_id: String,
    organization_id: String,
    connection_id: String,
    registration_id: String,
    user_name: String,
    external_id: Option<String>,
    active: bool,
    resource: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for ScimUserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(ScimUserRecord {
            resource: json(&r.resource, "scim user")?,
            member_id: r.member_id.into(),
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            connection_id: r.connection_id,
            registration_id: r.registration_id,
            user_name: r.user_name,
            external_id: r.external_id,
            active: r.active,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

const GROUP_COLUMNS: &str = "group_id, project_id, organization_id, connection_id, display_name, external_id, \
     members, resource, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct GroupRow {
    group_id: String,
    project_id: String,
    organization_id: String,
    connection_id: String,
    display_name: String,
    external_id: Option<String>,
    members: String,
    resource: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<GroupRow> for ScimGroupRecord {
    type Error = StoreError;
    fn try_from(r: GroupRow) -> Result<Self, StoreError> {
        Ok(ScimGroupRecord {
            members: json(&r.members, "scim group members")?,
            resource: json(&r.resource, "scim group")?,
            group_id: r.group_id,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            connection_id: r.connection_id,
            display_name: r.display_name,
            external_id: r.external_id,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

fn connection_args(c: &ScimConnectionRecord) -> Vec<Arg> {
    args![
        &c.connection_id,
        &c.project_id,
        &c.organization_id,
        &c.display_name,
        &c.identity_provider,
        &c.token_hash,
        &c.token_last_four,
        c.token_expires_at.map(Timestamp::millis),
        c.next_token_hash.clone(),
        &c.next_token_last_four,
        c.next_token_expires_at.map(Timestamp::millis),
        serde_json::to_string(&c.role_assignments).unwrap_or_else(|_| "[]".into()),
        c.created_at.millis(),
        c.updated_at.millis()
    ]
}

fn user_args(u: &ScimUserRecord) -> Vec<Arg> {
    args![
        &u.member_id,
        &u.project_id,
        &u.organization_id,
        &u.connection_id,
        &u.registration_id,
        &u.user_name,
        u.external_id.clone(),
        u.active,
        u.resource.to_string(),
        u.created_at.millis(),
        u.updated_at.millis()
    ]
}

fn group_args(g: &ScimGroupRecord) -> Vec<Arg> {
    args![
        &g.group_id,
        &g.project_id,
        &g.organization_id,
        &g.connection_id,
        &g.display_name,
        g.external_id.clone(),
        serde_json::to_string(&g.members).unwrap_or_else(|_| "[]".into()),
        g.resource.to_string(),
        g.created_at.millis(),
        g.updated_at.millis()
    ]
}

#[async_trait::async_trait]
impl ScimStore for SqlStore {
    async fn insert_scim_connection(&self, c: &ScimConnectionRecord) -> StoreResult<()> {
        self.exec(
            &format!(
                "INSERT INTO scim_connections ({CONNECTION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ),
            connection_args(c),
        )
        .await
        .map(|_| ())
    }

    async fn update_scim_connection(&self, c: &ScimConnectionRecord) -> StoreResult<()> {
        let n = self
            .exec(
                "UPDATE scim_connections SET display_name = $4, identity_provider = $5, token_hash = $6, \
                 token_last_four = $7, token_expires_at = $8, next_token_hash = $9, next_token_last_four = $10, \
                 next_token_expires_at = $11, role_assignments = $12, updated_at = $14 \
                 WHERE connection_id = $1 AND project_id = $2 AND organization_id = $3 AND created_at = $13",
                connection_args(c),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn scim_connection(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
    ) -> StoreResult<Option<ScimConnectionRecord>> {
        let row: Option<ConnectionRow> = self
            .opt(
                &format!(
                    "SELECT {CONNECTION_COLUMNS} FROM scim_connections WHERE connection_id = $1 AND project_id = $2"
                ),
                args![connection_id, project_id],
            )
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn scim_connection_by_id(&self, connection_id: &str) -> StoreResult<Option<ScimConnectionRecord>> {
        let row: Option<ConnectionRow> = self
            .opt(
                &format!("SELECT {CONNECTION_COLUMNS} FROM scim_connections WHERE connection_id = $1"),
                args![connection_id],
            )
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn scim_connection_of_org(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
    ) -> StoreResult<Option<ScimConnectionRecord>> {
        let row: Option<ConnectionRow> = self
            .opt(
                &format!(
                    "SELECT {CONNECTION_COLUMNS} FROM scim_connections WHERE project_id = $1 AND organization_id = $2"
                ),
                args![project_id, organization_id],
            )
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn delete_scim_connection(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<bool> {
        let existed = self.scim_connection(project_id, connection_id).await?.is_some();
        self.tx(vec![
            (
                "DELETE FROM scim_groups WHERE connection_id = $1 AND project_id = $2",
                args![connection_id, project_id],
            ),
            (
                "DELETE FROM scim_users WHERE connection_id = $1 AND project_id = $2",
                args![connection_id, project_id],
            ),
            (
                "DELETE FROM scim_connections WHERE connection_id = $1 AND project_id = $2",
                args![connection_id, project_id],
            ),
        ])
        .await?;
        Ok(existed)
    }

    async fn insert_scim_user(&self, u: &ScimUserRecord) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO scim_users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
            user_args(u),
        )
        .await
        .map(|_| ())
    }

    async fn update_scim_user(&self, u: &ScimUserRecord) -> StoreResult<()> {
        let n = self
            .exec(
                "UPDATE scim_users SET user_name = $6, external_id = $7, active = $8, resource = $9, updated_at = $11 \
                 WHERE member_id = $1 AND project_id = $2 AND organization_id = $3 AND connection_id = $4 \
                 AND registration_id = $5 AND created_at = $10",
                user_args(u),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn scim_user(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        member_id: &MemberId,
    ) -> StoreResult<Option<ScimUserRecord>> {
        let row: Option<UserRow> = self
            .opt(
                &format!(
                    "SELECT {USER_COLUMNS} FROM scim_users \
                     WHERE member_id = $1 AND connection_id = $2 AND project_id = $3"
                ),
                args![member_id, connection_id, project_id],
            )
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn scim_users(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<Vec<ScimUserRecord>> {
        let rows: Vec<UserRow> = self
            .all(
                &format!(
                    "SELECT {USER_COLUMNS} FROM scim_users WHERE project_id = $1 AND connection_id = $2 \
                     ORDER BY created_at, member_id"
                ),
                args![project_id, connection_id],
            )
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn scim_users_of_members(
        &self,
        project_id: &ProjectId,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<ScimUserRecord>> {
        if member_ids.is_empty() {
            return Ok(vec![]);
        }
        let placeholders: Vec<String> = (0..member_ids.len()).map(|i| format!("${}", i + 2)).collect();
        let mut values: Vec<Arg> = args![project_id];
        values.extend(member_ids.iter().map(|m| Arg::from(m.as_str())));
        let rows: Vec<UserRow> = self
            .all(
                &format!(
                    "SELECT {USER_COLUMNS} FROM scim_users WHERE project_id = $1 AND member_id IN ({}) \
                     ORDER BY created_at, member_id",
                    placeholders.join(", ")
                ),
                values,
            )
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn delete_scim_user(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        member_id: &MemberId,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM scim_users WHERE member_id = $1 AND connection_id = $2 AND project_id = $3",
                args![member_id, connection_id, project_id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn save_scim_group(&self, g: &ScimGroupRecord) -> StoreResult<()> {
        // Delete-and-insert in one transaction: one statement list for both dialects.
        self.tx(vec![
            (
                "DELETE FROM scim_groups WHERE group_id = $1 AND connection_id = $2 AND project_id = $3",
                args![&g.group_id, &g.connection_id, &g.project_id],
            ),
            (
                "INSERT INTO scim_groups (group_id, project_id, organization_id, connection_id, display_name, \
                 external_id, members, resource, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                group_args(g),
            ),
        ])
        .await
    }

    async fn scim_group(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        group_id: &str,
    ) -> StoreResult<Option<ScimGroupRecord>> {
        let row: Option<GroupRow> = self
            .opt(
                &format!(
                    "SELECT {GROUP_COLUMNS} FROM scim_groups \
                     WHERE group_id = $1 AND connection_id = $2 AND project_id = $3"
                ),
                args![group_id, connection_id, project_id],
            )
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn scim_groups(&self, project_id: &ProjectId, connection_id: &str) -> StoreResult<Vec<ScimGroupRecord>> {
        let rows: Vec<GroupRow> = self
            .all(
                &format!(
                    "SELECT {GROUP_COLUMNS} FROM scim_groups WHERE project_id = $1 AND connection_id = $2 \
                     ORDER BY created_at, group_id"
                ),
                args![project_id, connection_id],
            )
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn delete_scim_group(
        &self,
        project_id: &ProjectId,
        connection_id: &str,
        group_id: &str,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM scim_groups WHERE group_id = $1 AND connection_id = $2 AND project_id = $3",
                args![group_id, connection_id, project_id],
            )
            .await?;
        Ok(n > 0)
    }
}
