//! The Management API's use cases (`/pwa/v3/…`, as `stytch-management` calls them): workspace
//! projects and their environments, secrets and public tokens, and each environment's settings.
//! A workspace key authenticates them; it never opens the B2B API, and a project's secret never
//! opens this one (the two are checked against different tables).
//!
//! An environment is what the B2B API calls a project; `environment` finds it by its slugs.

pub mod projects;
pub mod secrets;
pub mod settings;
pub mod templates;
pub mod workspace_keys;

use crate::engine::Ctx;
use crate::error::catalogue;
use crate::error::CoreResult;
use crate::model::project::{Project, WorkspaceProject};

/// The workspace project `project_slug`, or `project_not_found`.
pub async fn workspace_project(ctx: &Ctx, project_slug: &str) -> CoreResult<WorkspaceProject> {
    ctx.store
        .workspace_project(project_slug)
        .await?
        .ok_or_else(|| catalogue::PROJECT_NOT_FOUND.detail(project_slug))
}

/// The environment `environment_slug` of `project_slug`, or `project_not_found` /
/// `environment_not_found`.
pub async fn environment(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<Project> {
    workspace_project(ctx, project_slug).await?;
    let env = ctx
        .store
        .projects_of(project_slug)
        .await?
        .into_iter()
        .find(|p| p.environment_slug == environment_slug)
        .ok_or_else(|| catalogue::ENVIRONMENT_NOT_FOUND.detail(environment_slug))?;
    // The call's audit event belongs to the project it changes.
    crate::engine::audit::project(&env.project_id);
    Ok(env)
}

/// A slug given by the caller: it becomes a path segment of every route below it.
pub(crate) fn check_slug(field: &str, slug: &str) -> CoreResult<()> {
    let ok = (1..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !slug.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(catalogue::INVALID_ARGUMENT
            .field_detail(field, "1 to 64 characters: lowercase letters, digits, '-' and '_'"))
    }
}

/// A human-readable name: required, bounded.
pub(crate) fn check_name(name: &str) -> CoreResult<()> {
    if name.trim().is_empty() || name.chars().count() > 256 {
        return Err(catalogue::INVALID_PROJECT_NAME.detail("1 to 256 characters"));
    }
    Ok(())
}
