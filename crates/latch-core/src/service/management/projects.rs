//! Workspace projects and their environments. Creating a project makes a test and a live
//! environment, each a B2B project with its own id, public token and settings (the server's
//! configured defaults); its secrets come from the secrets routes. Deleting an environment deletes
//! the B2B project and everything it owns.

use super::{check_name, check_slug, environment, workspace_project};
use crate::engine::Ctx;
use crate::error::{catalogue, CoreResult};
use crate::ids::ProjectId;
use crate::model::project::{EnvironmentType, Project, WorkspaceProject};
use crate::project_settings::ProjectSettings;

/// Stytch's `Vertical`s; Latch serves the B2B API only.
const VERTICALS: &[&str] = &["B2B"];

pub struct NewProject<'a> {
    pub name: &'a str,
    pub vertical: Option<&'a str>,
    pub project_slug: Option<&'a str>,
}

pub async fn create(ctx: &Ctx, input: NewProject<'_>) -> CoreResult<(WorkspaceProject, Vec<Project>)> {
    check_name(input.name)?;
    let vertical = input.vertical.filter(|v| !v.is_empty()).unwrap_or("B2B");
    crate::validate::one_of("vertical", vertical, VERTICALS, catalogue::INVALID_ARGUMENT)?;
    let slug = match input.project_slug.filter(|s| !s.is_empty()) {
        Some(s) => {
            check_slug("project_slug", s)?;
            s.to_string()
        }
        None => format!("project-{}", uuid::Uuid::new_v4().simple()),
    };
    if ctx.store.workspace_project(&slug).await?.is_some() {
        return Err(catalogue::DUPLICATE_PROJECT_SLUG.detail(&slug));
    }
    let project = WorkspaceProject {
        project_slug: slug,
        name: input.name.to_string(),
        vertical: vertical.to_string(),
        created_at: ctx.now(),
    };
    ctx.store.insert_workspace_project(&project).await?;
    let mut environments = Vec::new();
    for (env_slug, kind) in [("test", EnvironmentType::Test), ("live", EnvironmentType::Live)] {
        let env = NewEnvironment {
            name: env_slug,
            environment_type: kind,
            environment_slug: env_slug,
            options: EnvironmentOptions::default(),
        };
        environments.push(insert_environment(ctx, &project, env).await?);
    }
    Ok((project, environments))
}

pub async fn list(ctx: &Ctx) -> CoreResult<Vec<WorkspaceProject>> {
    Ok(ctx.store.workspace_projects().await?)
}

pub async fn rename(ctx: &Ctx, project_slug: &str, name: Option<&str>) -> CoreResult<WorkspaceProject> {
    let mut project = workspace_project(ctx, project_slug).await?;
    if let Some(name) = name {
        check_name(name)?;
        ctx.store.rename_workspace_project(project_slug, name).await?;
        project.name = name.to_string();
    }
    Ok(project)
}

pub async fn delete(ctx: &Ctx, project_slug: &str) -> CoreResult<()> {
    let environments = ctx.store.projects_of(project_slug).await?;
    if !ctx.store.delete_workspace_project(project_slug).await? {
        return Err(catalogue::PROJECT_NOT_FOUND.detail(project_slug));
    }
    for env in environments {
        ctx.forget_project(&env.project_id);
    }
    Ok(())
}

/// The environment settings of Stytch's that Latch acts on; the others are accepted only at
/// their "off" values, so a caller never believes a feature is on that is not.
#[derive(Default)]
pub struct EnvironmentOptions<'a> {
    pub cross_org_passwords_enabled: Option<bool>,
    pub user_lock_threshold: Option<i64>,
    pub user_lock_ttl: Option<i64>,
    pub unsupported: Vec<(&'static str, bool)>,
    pub name: Option<&'a str>,
}

pub struct NewEnvironment<'a> {
    pub name: &'a str,
    pub environment_type: EnvironmentType,
    pub environment_slug: &'a str,
    pub options: EnvironmentOptions<'a>,
}

pub async fn create_environment(ctx: &Ctx, project_slug: &str, input: NewEnvironment<'_>) -> CoreResult<Project> {
    let project = workspace_project(ctx, project_slug).await?;
    check_name(input.name)?;
    check_slug("environment_slug", input.environment_slug)?;
    if ctx
        .store
        .projects_of(project_slug)
        .await?
        .iter()
        .any(|e| e.environment_slug == input.environment_slug)
    {
        return Err(catalogue::DUPLICATE_ENVIRONMENT_SLUG.detail(input.environment_slug));
    }
    insert_environment(ctx, &project, input).await
}

async fn insert_environment(ctx: &Ctx, project: &WorkspaceProject, input: NewEnvironment<'_>) -> CoreResult<Project> {
    let prefix = match input.environment_type {
        EnvironmentType::Test => "project-test",
        EnvironmentType::Live => "project-live",
    };
    let env = Project {
        project_id: ProjectId::from(format!("{prefix}-{}", uuid::Uuid::new_v4())),
        name: input.name.to_string(),
        project_slug: project.project_slug.clone(),
        environment_slug: input.environment_slug.to_string(),
        environment_type: input.environment_type,
        secret_hashes: vec![],
        created_at: ctx.now(),
    };
    let mut settings = ctx.default_project_settings(&env.project_id);
    apply_options(&mut settings, &input.options)?;
    ctx.store.insert_project(&env, &[]).await?;
    ctx.store
        .init_project_settings(&env.project_id, &settings.to_json(), ctx.now())
        .await?;
    crate::engine::projects::public_token(ctx.store.as_ref(), &env.project_id).await?;
    Ok(env)
}

fn apply_options(settings: &mut ProjectSettings, o: &EnvironmentOptions<'_>) -> CoreResult<()> {
    for (field, on) in &o.unsupported {
        if *on {
            return Err(catalogue::INVALID_ARGUMENT.field_detail(field, "not supported by this server"));
        }
    }
    if let Some(on) = o.cross_org_passwords_enabled {
        settings.cross_org_passwords = on;
    }
    if let Some(n) = o.user_lock_threshold {
        if !(1..=1000).contains(&n) {
            return Err(catalogue::INVALID_USER_LOCK_THRESHOLD.detail("between 1 and 1000"));
        }
        settings.lockout.threshold = n;
    }
    if let Some(secs) = o.user_lock_ttl {
        // Stytch's range: a minute to a day.
        if !(60..=86_400).contains(&secs) {
            return Err(catalogue::INVALID_USER_LOCK_TTL.detail("between 60 and 86400 seconds"));
        }
        settings.lockout.ttl_secs = secs;
    }
    Ok(())
}

pub async fn environments(ctx: &Ctx, project_slug: &str) -> CoreResult<Vec<Project>> {
    workspace_project(ctx, project_slug).await?;
    Ok(ctx.store.projects_of(project_slug).await?)
}

/// An environment with the settings it reports.
pub async fn get_environment(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
) -> CoreResult<(Project, ProjectSettings)> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    let settings = ctx.project_config(&env.project_id).await?.settings.clone();
    Ok((env, settings))
}

pub async fn update_environment(
    ctx: &Ctx,
    project_slug: &str,
    environment_slug: &str,
    options: EnvironmentOptions<'_>,
) -> CoreResult<(Project, ProjectSettings)> {
    let mut env = environment(ctx, project_slug, environment_slug).await?;
    let mut settings = ctx.project_config(&env.project_id).await?.settings.clone();
    apply_options(&mut settings, &options)?;
    if let Some(name) = options.name {
        check_name(name)?;
        ctx.store.rename_project(&env.project_id, name).await?;
        env.name = name.to_string();
        ctx.forget_project(&env.project_id);
    }
    let config = ctx.save_project_settings(&env.project_id, settings).await?;
    Ok((env, config.settings.clone()))
}

pub async fn delete_environment(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<()> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    ctx.store.delete_project(&env.project_id).await?;
    ctx.forget_project(&env.project_id);
    Ok(())
}

/// Active organizations and members of an environment.
pub async fn metrics(ctx: &Ctx, project_slug: &str, environment_slug: &str) -> CoreResult<(i64, i64)> {
    let env = environment(ctx, project_slug, environment_slug).await?;
    Ok(ctx.store.project_metrics(&env.project_id).await?)
}
