//! Projects: the tenants every other record belongs to.

use super::StoreResult;
use crate::ids::ProjectId;
use crate::model::project::Project;

#[async_trait::async_trait]
pub trait ProjectStore: Send + Sync {
    async fn insert_project(&self, project: &Project) -> StoreResult<()>;
    async fn get_project(&self, project_id: &ProjectId) -> StoreResult<Option<Project>>;
    async fn set_project_secret(&self, project_id: &ProjectId, secret_hash: &str) -> StoreResult<()>;
    async fn count_projects(&self) -> StoreResult<i64>;
}
