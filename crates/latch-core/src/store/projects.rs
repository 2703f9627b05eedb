//! Projects (environments) with their secrets, public tokens and settings, and the workspace
//! around them: workspace projects, workspace keys and email templates.

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::ProjectId;
use crate::model::project::{Project, ProjectSecret, PublicToken, WorkspaceKey, WorkspaceProject};

#[async_trait::async_trait]
pub trait ProjectStore: Send + Sync {
    /// Inserts the project row and its secrets (`project.secret_hashes` are not read: pass the
    /// secrets' records).
    async fn insert_project(&self, project: &Project, secrets: &[ProjectSecret]) -> StoreResult<()>;
    async fn get_project(&self, project_id: &ProjectId) -> StoreResult<Option<Project>>;
    /// The environments of a workspace project, oldest first.
    async fn projects_of(&self, project_slug: &str) -> StoreResult<Vec<Project>>;
    async fn rename_project(&self, project_id: &ProjectId, name: &str) -> StoreResult<bool>;
    /// Deletes the project and everything it owns.
    async fn delete_project(&self, project_id: &ProjectId) -> StoreResult<bool>;
    async fn count_projects(&self) -> StoreResult<i64>;
    /// Active organizations and members of the project.
    async fn project_metrics(&self, project_id: &ProjectId) -> StoreResult<(i64, i64)>;
    /// Every project id, for start-up chores.
    async fn project_ids(&self) -> StoreResult<Vec<ProjectId>>;

    /// Replaces every secret of the project with `secret` (bootstrap and `rotate-secret`).
    async fn replace_project_secrets(&self, secret: &ProjectSecret) -> StoreResult<()>;
    async fn insert_project_secret(&self, secret: &ProjectSecret) -> StoreResult<()>;
    async fn project_secrets(&self, project_id: &ProjectId) -> StoreResult<Vec<ProjectSecret>>;
    async fn delete_project_secret(&self, project_id: &ProjectId, secret_id: &str) -> StoreResult<bool>;

    async fn public_token_records(&self, project_id: &ProjectId) -> StoreResult<Vec<PublicToken>>;
    async fn delete_public_token(&self, project_id: &ProjectId, public_token: &str) -> StoreResult<bool>;

    /// The project's settings document (JSON), if it has one.
    async fn project_settings(&self, project_id: &ProjectId) -> StoreResult<Option<String>>;
    async fn save_project_settings(&self, project_id: &ProjectId, settings: &str, at: Timestamp) -> StoreResult<()>;
    /// Saves `settings` only where the project has none yet; whether it did.
    async fn init_project_settings(&self, project_id: &ProjectId, settings: &str, at: Timestamp) -> StoreResult<bool>;
}

#[async_trait::async_trait]
pub trait WorkspaceStore: Send + Sync {
    async fn insert_workspace_project(&self, project: &WorkspaceProject) -> StoreResult<()>;
    async fn workspace_project(&self, project_slug: &str) -> StoreResult<Option<WorkspaceProject>>;
    async fn workspace_projects(&self) -> StoreResult<Vec<WorkspaceProject>>;
    async fn rename_workspace_project(&self, project_slug: &str, name: &str) -> StoreResult<bool>;
    /// Deletes the workspace project with its environments and everything they own.
    async fn delete_workspace_project(&self, project_slug: &str) -> StoreResult<bool>;

    async fn insert_workspace_key(&self, key: &WorkspaceKey) -> StoreResult<()>;
    async fn workspace_key(&self, key_id: &str) -> StoreResult<Option<WorkspaceKey>>;
    async fn workspace_keys(&self) -> StoreResult<Vec<WorkspaceKey>>;
    async fn delete_workspace_key(&self, key_id: &str) -> StoreResult<bool>;

    /// Email templates as JSON documents, by (workspace project, template id).
    async fn insert_email_template(
        &self,
        project_slug: &str,
        template_id: &str,
        template: &str,
        at: Timestamp,
    ) -> StoreResult<()>;
    async fn update_email_template(&self, project_slug: &str, template_id: &str, template: &str) -> StoreResult<bool>;
    async fn email_template(&self, project_slug: &str, template_id: &str) -> StoreResult<Option<String>>;
    async fn email_templates(&self, project_slug: &str) -> StoreResult<Vec<String>>;
    async fn delete_email_template(&self, project_slug: &str, template_id: &str) -> StoreResult<bool>;
    async fn set_default_email_template(
        &self,
        project_slug: &str,
        template_type: &str,
        template_id: &str,
    ) -> StoreResult<()>;
    async fn default_email_template(&self, project_slug: &str, template_type: &str) -> StoreResult<Option<String>>;
    async fn unset_default_email_template(&self, project_slug: &str, template_type: &str) -> StoreResult<bool>;
    /// The types a template is the default of.
    async fn default_types_of(&self, project_slug: &str, template_id: &str) -> StoreResult<Vec<String>>;
}
