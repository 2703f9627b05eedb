//! `ProjectStore` and `WorkspaceStore`: projects (environments) with their secrets, public tokens
//! and settings documents; workspace projects, workspace keys and email templates.

use crate::exec::args;
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::ids::ProjectId;
use latch_core::model::project::{
    EnvironmentType, Project, ProjectSecret, PublicToken, WorkspaceKey, WorkspaceProject,
};
use latch_core::store::{ProjectStore, StoreResult, WorkspaceStore};
use latch_core::StoreError;

const PROJECT_COLUMNS: &str = "project_id, name, project_slug, environment_slug, environment_type, created_at";

#[derive(sqlx::FromRow)]
struct ProjectRow {
    project_id: String,
    name: String,
    project_slug: String,
    environment_slug: String,
    environment_type: String,
    created_at: i64,
}

impl ProjectRow {
    fn into_project(self, secret_hashes: Vec<String>) -> Result<Project, StoreError> {
        Ok(Project {
            project_id: self.project_id.into(),
            name: self.name,
            project_slug: self.project_slug,
            environment_slug: self.environment_slug,
            environment_type: EnvironmentType::parse(&self.environment_type)
                .ok_or_else(|| StoreError::Backend(format!("unknown environment type {}", self.environment_type)))?,
            secret_hashes,
            created_at: Timestamp(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct SecretRow {
    secret_id: String,
    project_id: String,
    secret_hash: String,
    last_four: String,
    created_at: i64,
}

impl From<SecretRow> for ProjectSecret {
    fn from(r: SecretRow) -> Self {
        ProjectSecret {
            secret_id: r.secret_id,
            project_id: r.project_id.into(),
            secret_hash: r.secret_hash,
            last_four: r.last_four,
            created_at: Timestamp(r.created_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct WorkspaceProjectRow {
    project_slug: String,
    name: String,
    vertical: String,
    created_at: i64,
}

impl From<WorkspaceProjectRow> for WorkspaceProject {
    fn from(r: WorkspaceProjectRow) -> Self {
        WorkspaceProject {
            project_slug: r.project_slug,
            name: r.name,
            vertical: r.vertical,
            created_at: Timestamp(r.created_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    key_id: String,
    secret_hash: String,
    name: String,
    last_four: String,
    created_at: i64,
}

impl From<KeyRow> for WorkspaceKey {
    fn from(r: KeyRow) -> Self {
        WorkspaceKey {
            key_id: r.key_id,
            secret_hash: r.secret_hash,
            name: r.name,
            last_four: r.last_four,
            created_at: Timestamp(r.created_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct TextRow {
    value: String,
}

const INSERT_SECRET: &str =
    "INSERT INTO project_secrets (secret_id, project_id, secret_hash, last_four, created_at) VALUES ($1, $2, $3, $4, $5)";

fn secret_args(s: &ProjectSecret) -> Vec<crate::exec::Arg> {
    args![
        &s.secret_id,
        &s.project_id,
        &s.secret_hash,
        &s.last_four,
        s.created_at.millis()
    ]
}

impl SqlStore {
    async fn secret_hashes(&self, project_id: &ProjectId) -> StoreResult<Vec<String>> {
        let rows: Vec<TextRow> = self
            .all(
                "SELECT secret_hash AS value FROM project_secrets WHERE project_id = $1 ORDER BY created_at, secret_id",
                args![project_id],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.value).collect())
    }
}

#[async_trait::async_trait]
impl ProjectStore for SqlStore {
    async fn insert_project(&self, p: &Project, secrets: &[ProjectSecret]) -> StoreResult<()> {
        let sql = format!("INSERT INTO projects ({PROJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        let mut stmts = vec![(
            sql.as_str(),
            args![
                &p.project_id,
                &p.name,
                &p.project_slug,
                &p.environment_slug,
                p.environment_type.as_str(),
                p.created_at.millis()
            ],
        )];
        stmts.extend(secrets.iter().map(|s| (INSERT_SECRET, secret_args(s))));
        self.tx(stmts).await
    }

    async fn get_project(&self, project_id: &ProjectId) -> StoreResult<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE project_id = $1");
        let Some(row) = self.opt::<ProjectRow>(&sql, args![project_id]).await? else {
            return Ok(None);
        };
        let hashes = self.secret_hashes(project_id).await?;
        row.into_project(hashes).map(Some)
    }

    async fn projects_of(&self, project_slug: &str) -> StoreResult<Vec<Project>> {
        let sql =
            format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE project_slug = $1 ORDER BY created_at, project_id");
        let rows: Vec<ProjectRow> = self.all(&sql, args![project_slug]).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let hashes = self.secret_hashes(&ProjectId::from(r.project_id.as_str())).await?;
            out.push(r.into_project(hashes)?);
        }
        Ok(out)
    }

    async fn rename_project(&self, project_id: &ProjectId, name: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE projects SET name = $2 WHERE project_id = $1",
                args![project_id, name],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_project(&self, project_id: &ProjectId) -> StoreResult<bool> {
        let n = self
            .exec("DELETE FROM projects WHERE project_id = $1", args![project_id])
            .await?;
        Ok(n > 0)
    }

    async fn count_projects(&self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM projects", vec![]).await
    }

    async fn project_ids(&self) -> StoreResult<Vec<ProjectId>> {
        let rows: Vec<TextRow> = self
            .all(
                "SELECT project_id AS value FROM projects ORDER BY created_at, project_id",
                vec![],
            )
            .await?;
        Ok(rows.into_iter().map(|r| ProjectId::from(r.value)).collect())
    }

    async fn project_metrics(&self, project_id: &ProjectId) -> StoreResult<(i64, i64)> {
        let orgs = self
            .count(
                "SELECT COUNT(*) FROM organizations WHERE project_id = $1",
                args![project_id],
            )
            .await?;
        let members = self
            .count(
                "SELECT COUNT(*) FROM members WHERE project_id = $1 AND status <> 'deleted'",
                args![project_id],
            )
            .await?;
        Ok((orgs, members))
    }

    async fn replace_project_secrets(&self, s: &ProjectSecret) -> StoreResult<()> {
        self.tx(vec![
            (
                "DELETE FROM project_secrets WHERE project_id = $1",
                args![&s.project_id],
            ),
            (INSERT_SECRET, secret_args(s)),
        ])
        .await
    }

    async fn insert_project_secret(&self, s: &ProjectSecret) -> StoreResult<()> {
        self.exec(INSERT_SECRET, secret_args(s)).await.map(|_| ())
    }

    async fn project_secrets(&self, project_id: &ProjectId) -> StoreResult<Vec<ProjectSecret>> {
        let rows: Vec<SecretRow> = self
            .all(
                "SELECT secret_id, project_id, secret_hash, last_four, created_at FROM project_secrets \
                 WHERE project_id = $1 ORDER BY created_at, secret_id",
                args![project_id],
            )
            .await?;
        Ok(rows.into_iter().map(ProjectSecret::from).collect())
    }

    async fn delete_project_secret(&self, project_id: &ProjectId, secret_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM project_secrets WHERE project_id = $1 AND secret_id = $2",
                args![project_id, secret_id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn public_token_records(&self, project_id: &ProjectId) -> StoreResult<Vec<PublicToken>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            public_token: String,
            created_at: i64,
        }
        let rows: Vec<Row> = self
            .all(
                "SELECT public_token, created_at FROM public_tokens WHERE project_id = $1 ORDER BY created_at, public_token",
                args![project_id],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| PublicToken {
                public_token: r.public_token,
                created_at: Timestamp(r.created_at),
            })
            .collect())
    }

    async fn delete_public_token(&self, project_id: &ProjectId, public_token: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM public_tokens WHERE project_id = $1 AND public_token = $2",
                args![project_id, public_token],
            )
            .await?;
        Ok(n > 0)
    }

    async fn project_settings(&self, project_id: &ProjectId) -> StoreResult<Option<String>> {
        let row: Option<TextRow> = self
            .opt(
                "SELECT settings AS value FROM project_settings WHERE project_id = $1",
                args![project_id],
            )
            .await?;
        Ok(row.map(|r| r.value))
    }

    async fn save_project_settings(&self, project_id: &ProjectId, settings: &str, at: Timestamp) -> StoreResult<()> {
        self.exec(
            "INSERT INTO project_settings (project_id, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            args![project_id, settings, at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn init_project_settings(&self, project_id: &ProjectId, settings: &str, at: Timestamp) -> StoreResult<bool> {
        let n = self
            .exec(
                "INSERT INTO project_settings (project_id, settings, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (project_id) DO NOTHING",
                args![project_id, settings, at.millis()],
            )
            .await?;
        Ok(n > 0)
    }
}

#[async_trait::async_trait]
impl WorkspaceStore for SqlStore {
    async fn insert_workspace_project(&self, p: &WorkspaceProject) -> StoreResult<()> {
        self.exec(
            "INSERT INTO workspace_projects (project_slug, name, vertical, created_at) VALUES ($1, $2, $3, $4)",
            args![&p.project_slug, &p.name, &p.vertical, p.created_at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn workspace_project(&self, project_slug: &str) -> StoreResult<Option<WorkspaceProject>> {
        let row: Option<WorkspaceProjectRow> = self
            .opt(
                "SELECT project_slug, name, vertical, created_at FROM workspace_projects WHERE project_slug = $1",
                args![project_slug],
            )
            .await?;
        Ok(row.map(WorkspaceProject::from))
    }

    async fn workspace_projects(&self) -> StoreResult<Vec<WorkspaceProject>> {
        let rows: Vec<WorkspaceProjectRow> = self
            .all(
                "SELECT project_slug, name, vertical, created_at FROM workspace_projects ORDER BY created_at, project_slug",
                vec![],
            )
            .await?;
        Ok(rows.into_iter().map(WorkspaceProject::from).collect())
    }

    async fn rename_workspace_project(&self, project_slug: &str, name: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE workspace_projects SET name = $2 WHERE project_slug = $1",
                args![project_slug, name],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_workspace_project(&self, project_slug: &str) -> StoreResult<bool> {
        if self.workspace_project(project_slug).await?.is_none() {
            return Ok(false);
        }
        self.tx(vec![
            ("DELETE FROM projects WHERE project_slug = $1", args![project_slug]),
            (
                "DELETE FROM workspace_projects WHERE project_slug = $1",
                args![project_slug],
            ),
        ])
        .await?;
        Ok(true)
    }

    async fn insert_workspace_key(&self, k: &WorkspaceKey) -> StoreResult<()> {
        self.exec(
            "INSERT INTO workspace_keys (key_id, secret_hash, name, last_four, created_at) VALUES ($1, $2, $3, $4, $5)",
            args![&k.key_id, &k.secret_hash, &k.name, &k.last_four, k.created_at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn workspace_key(&self, key_id: &str) -> StoreResult<Option<WorkspaceKey>> {
        let row: Option<KeyRow> = self
            .opt(
                "SELECT key_id, secret_hash, name, last_four, created_at FROM workspace_keys WHERE key_id = $1",
                args![key_id],
            )
            .await?;
        Ok(row.map(WorkspaceKey::from))
    }

    async fn workspace_keys(&self) -> StoreResult<Vec<WorkspaceKey>> {
        let rows: Vec<KeyRow> = self
            .all(
                "SELECT key_id, secret_hash, name, last_four, created_at FROM workspace_keys ORDER BY created_at, key_id",
                vec![],
            )
            .await?;
        Ok(rows.into_iter().map(WorkspaceKey::from).collect())
    }

    async fn delete_workspace_key(&self, key_id: &str) -> StoreResult<bool> {
        let n = self
            .exec("DELETE FROM workspace_keys WHERE key_id = $1", args![key_id])
            .await?;
        Ok(n > 0)
    }

    async fn insert_email_template(
        &self,
        project_slug: &str,
        template_id: &str,
        template: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO email_templates (project_slug, template_id, template, created_at) VALUES ($1, $2, $3, $4)",
            args![project_slug, template_id, template, at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn update_email_template(&self, project_slug: &str, template_id: &str, template: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE email_templates SET template = $3 WHERE project_slug = $1 AND template_id = $2",
                args![project_slug, template_id, template],
            )
            .await?;
        Ok(n > 0)
    }

    async fn email_template(&self, project_slug: &str, template_id: &str) -> StoreResult<Option<String>> {
        let row: Option<TextRow> = self
            .opt(
                "SELECT template AS value FROM email_templates WHERE project_slug = $1 AND template_id = $2",
                args![project_slug, template_id],
            )
            .await?;
        Ok(row.map(|r| r.value))
    }

    async fn email_templates(&self, project_slug: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<TextRow> = self
            .all(
                "SELECT template AS value FROM email_templates WHERE project_slug = $1 ORDER BY created_at, template_id",
                args![project_slug],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.value).collect())
    }

    async fn delete_email_template(&self, project_slug: &str, template_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM email_templates WHERE project_slug = $1 AND template_id = $2",
                args![project_slug, template_id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn set_default_email_template(
        &self,
        project_slug: &str,
        template_type: &str,
        template_id: &str,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO default_email_templates (project_slug, template_type, template_id) VALUES ($1, $2, $3) \
             ON CONFLICT (project_slug, template_type) DO UPDATE SET template_id = excluded.template_id",
            args![project_slug, template_type, template_id],
        )
        .await
        .map(|_| ())
    }

    async fn default_email_template(&self, project_slug: &str, template_type: &str) -> StoreResult<Option<String>> {
        let row: Option<TextRow> = self
            .opt(
                "SELECT template_id AS value FROM default_email_templates WHERE project_slug = $1 AND template_type = $2",
                args![project_slug, template_type],
            )
            .await?;
        Ok(row.map(|r| r.value))
    }

    async fn unset_default_email_template(&self, project_slug: &str, template_type: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM default_email_templates WHERE project_slug = $1 AND template_type = $2",
                args![project_slug, template_type],
            )
            .await?;
        Ok(n > 0)
    }

    async fn default_types_of(&self, project_slug: &str, template_id: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<TextRow> = self
            .all(
                "SELECT template_type AS value FROM default_email_templates WHERE project_slug = $1 AND template_id = $2 \
                 ORDER BY template_type",
                args![project_slug, template_id],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.value).collect())
    }
}
