//! Workspace projects, environments, secrets and public tokens.

use super::WorkspaceAuth;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::reply::Reply;
use crate::AppState;
use axum::extract::{Path, State};
use latch_core::clock::Timestamp;
use latch_core::engine::audit;
use latch_core::model::project::{EnvironmentType, Project, ProjectSecret, PublicToken, WorkspaceProject};
use latch_core::project_settings::ProjectSettings;
use latch_core::service::management::projects::{self as svc, EnvironmentOptions, NewEnvironment, NewProject};
use latch_core::service::management::secrets;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

type ProjectPath = Path<String>;
type EnvPath = Path<(String, String)>;

#[derive(Serialize)]
pub struct ProjectView {
    project_slug: String,
    name: String,
    vertical: String,
    created_at: Timestamp,
}

impl From<WorkspaceProject> for ProjectView {
    fn from(p: WorkspaceProject) -> Self {
        Self {
            project_slug: p.project_slug,
            name: p.name,
            vertical: p.vertical,
            created_at: p.created_at,
        }
    }
}

#[derive(Deserialize)]
pub struct CreateProject {
    name: Option<String>,
    vertical: Option<String>,
    project_slug: Option<String>,
}

pub async fn create(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    ApiJson(input): ApiJson<CreateProject>,
) -> ApiResult<Reply<Value>> {
    let (project, _) = svc::create(
        &s.ctx,
        NewProject {
            name: input.name.as_deref().unwrap_or_default(),
            vertical: input.vertical.as_deref(),
            project_slug: input.project_slug.as_deref(),
        },
    )
    .await?;
    Ok(Reply(json!({ "project": ProjectView::from(project) })))
}

pub async fn list(State(s): State<AppState>, _: WorkspaceAuth) -> ApiResult<Reply<Value>> {
    let projects: Vec<ProjectView> = svc::list(&s.ctx).await?.into_iter().map(ProjectView::from).collect();
    Ok(Reply(json!({ "projects": projects })))
}

pub async fn get(State(s): State<AppState>, _: WorkspaceAuth, Path(slug): ProjectPath) -> ApiResult<Reply<Value>> {
    let project = svc::rename(&s.ctx, &slug, None).await?;
    Ok(Reply(json!({ "project": ProjectView::from(project) })))
}

#[derive(Deserialize)]
pub struct UpdateProject {
    name: Option<String>,
}

pub async fn update(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path(slug): ProjectPath,
    ApiJson(input): ApiJson<UpdateProject>,
) -> ApiResult<Reply<Value>> {
    let project = svc::rename(&s.ctx, &slug, input.name.as_deref()).await?;
    Ok(Reply(json!({ "project": ProjectView::from(project) })))
}

pub async fn delete(State(s): State<AppState>, _: WorkspaceAuth, Path(slug): ProjectPath) -> ApiResult<Reply<Value>> {
    svc::delete(&s.ctx, &slug).await?;
    Ok(Reply(json!({})))
}

/// Stytch's `Environment`: the settings Latch acts on, and the others at their "off" values.
fn environment_view(env: &Project, settings: &ProjectSettings) -> Value {
    json!({
        "environment_slug": env.environment_slug,
        "project_slug": env.project_slug,
        "name": env.name,
        "project_id": env.project_id,
        "type": env.environment_type.as_str(),
        "created_at": env.created_at,
        // OAuth callbacks are per server (`/v1/b2b/public/oauth/{provider}/callback`); the
        // environment is told apart by its project id.
        "oauth_callback_id": env.project_id,
        "cross_org_passwords_enabled": settings.cross_org_passwords,
        "user_lock_threshold": settings.lockout.threshold,
        "user_lock_ttl": settings.lockout.ttl_secs,
        "user_impersonation_enabled": false,
        "zero_downtime_session_migration_url": "",
        "use_custom_domain_in_magic_link_emails": false,
        "user_lock_self_serve_enabled": false,
        "idp_authorization_url": "",
        "idp_dynamic_client_registration_enabled": false,
        "idp_dynamic_client_registration_access_token_template_content": "",
    })
}

#[derive(Deserialize)]
pub struct EnvironmentInput {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    environment_slug: Option<String>,
    cross_org_passwords_enabled: Option<bool>,
    user_lock_threshold: Option<i64>,
    user_lock_ttl: Option<i64>,
    user_impersonation_enabled: Option<bool>,
    zero_downtime_session_migration_url: Option<String>,
    user_lock_self_serve_enabled: Option<bool>,
    idp_authorization_url: Option<String>,
    idp_dynamic_client_registration_enabled: Option<bool>,
    idp_dynamic_client_registration_access_token_template_content: Option<String>,
    use_custom_domain_in_magic_link_emails: Option<bool>,
}

impl EnvironmentInput {
    fn options(&self) -> EnvironmentOptions<'_> {
        let set = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.is_empty());
        EnvironmentOptions {
            cross_org_passwords_enabled: self.cross_org_passwords_enabled,
            user_lock_threshold: self.user_lock_threshold,
            user_lock_ttl: self.user_lock_ttl,
            unsupported: vec![
                (
                    "user_impersonation_enabled",
                    self.user_impersonation_enabled == Some(true),
                ),
                (
                    "zero_downtime_session_migration_url",
                    set(&self.zero_downtime_session_migration_url),
                ),
                (
                    "user_lock_self_serve_enabled",
                    self.user_lock_self_serve_enabled == Some(true),
                ),
                ("idp_authorization_url", set(&self.idp_authorization_url)),
                (
                    "idp_dynamic_client_registration_enabled",
                    self.idp_dynamic_client_registration_enabled == Some(true),
                ),
                (
                    "idp_dynamic_client_registration_access_token_template_content",
                    set(&self.idp_dynamic_client_registration_access_token_template_content),
                ),
                (
                    "use_custom_domain_in_magic_link_emails",
                    self.use_custom_domain_in_magic_link_emails == Some(true),
                ),
            ],
            name: self.name.as_deref(),
        }
    }
}

pub async fn create_environment(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path(slug): ProjectPath,
    ApiJson(input): ApiJson<EnvironmentInput>,
) -> ApiResult<Reply<Value>> {
    let kind = match input.kind.as_deref().unwrap_or("TEST") {
        "" | "TEST" => EnvironmentType::Test,
        "LIVE" => EnvironmentType::Live,
        other => {
            return Err(latch_core::error::catalogue::INVALID_ARGUMENT
                .field_detail("type", format!("'{other}' is not one of TEST, LIVE"))
                .into())
        }
    };
    let name = input.name.as_deref().unwrap_or_default();
    let env_slug = input
        .environment_slug
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| kind.as_str().to_ascii_lowercase());
    let env = svc::create_environment(
        &s.ctx,
        &slug,
        NewEnvironment {
            name,
            environment_type: kind,
            environment_slug: &env_slug,
            options: input.options(),
        },
    )
    .await?;
    audit::project(&env.project_id);
    let settings = s.ctx.project_config(&env.project_id).await?.settings.clone();
    Ok(Reply(json!({ "environment": environment_view(&env, &settings) })))
}

pub async fn environments(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path(slug): ProjectPath,
) -> ApiResult<Reply<Value>> {
    let mut out = Vec::new();
    for env in svc::environments(&s.ctx, &slug).await? {
        let settings = s.ctx.project_config(&env.project_id).await?.settings.clone();
        out.push(environment_view(&env, &settings));
    }
    Ok(Reply(json!({ "environments": out })))
}

pub async fn environment(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let (env, settings) = svc::get_environment(&s.ctx, &slug, &env).await?;
    Ok(Reply(json!({ "environment": environment_view(&env, &settings) })))
}

pub async fn update_environment(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
    ApiJson(input): ApiJson<EnvironmentInput>,
) -> ApiResult<Reply<Value>> {
    if input.kind.is_some() || input.environment_slug.is_some() {
        return Err(latch_core::error::catalogue::INVALID_ARGUMENT
            .detail("type and environment_slug cannot be changed")
            .into());
    }
    let (env, settings) = svc::update_environment(&s.ctx, &slug, &env, input.options()).await?;
    audit::project(&env.project_id);
    Ok(Reply(json!({ "environment": environment_view(&env, &settings) })))
}

pub async fn delete_environment(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    svc::delete_environment(&s.ctx, &slug, &env).await?;
    Ok(Reply(json!({})))
}

pub async fn metrics(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let (organizations, members) = svc::metrics(&s.ctx, &slug, &env).await?;
    Ok(Reply(json!({ "metrics": {
        "user_count": 0,
        "organization_count": organizations,
        "member_count": members,
        "m2m_client_count": 0,
    }})))
}

fn masked(s: &ProjectSecret) -> Value {
    json!({ "secret_id": s.secret_id, "last_four": s.last_four, "created_at": s.created_at })
}

pub async fn create_secret(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let (record, secret) = secrets::create(&s.ctx, &slug, &env).await?;
    audit::project(&record.project_id);
    audit::detail("secret_id", record.secret_id.clone());
    Ok(Reply(json!({ "secret": {
        "secret_id": record.secret_id,
        "secret": secret,
        "created_at": record.created_at,
    }})))
}

pub async fn secrets(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let all: Vec<Value> = secrets::list(&s.ctx, &slug, &env).await?.iter().map(masked).collect();
    Ok(Reply(json!({ "secrets": all })))
}

pub async fn secret(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env, id)): Path<(String, String, String)>,
) -> ApiResult<Reply<Value>> {
    let record = secrets::get(&s.ctx, &slug, &env, &id).await?;
    Ok(Reply(json!({ "secret": masked(&record) })))
}

pub async fn delete_secret(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env, id)): Path<(String, String, String)>,
) -> ApiResult<Reply<Value>> {
    secrets::delete(&s.ctx, &slug, &env, &id).await?;
    audit::detail("secret_id", id);
    Ok(Reply(json!({})))
}

fn token_view(t: &PublicToken) -> Value {
    json!({ "public_token": t.public_token, "created_at": t.created_at })
}

pub async fn create_public_token(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let token = secrets::create_public_token(&s.ctx, &slug, &env).await?;
    Ok(Reply(json!({ "public_token": token_view(&token) })))
}

pub async fn public_tokens(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let all: Vec<Value> = secrets::public_tokens(&s.ctx, &slug, &env)
        .await?
        .iter()
        .map(token_view)
        .collect();
    Ok(Reply(json!({ "public_tokens": all })))
}

pub async fn public_token(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env, token)): Path<(String, String, String)>,
) -> ApiResult<Reply<Value>> {
    let t = secrets::public_token(&s.ctx, &slug, &env, &token).await?;
    Ok(Reply(json!({ "public_token": token_view(&t) })))
}

pub async fn delete_public_token(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env, token)): Path<(String, String, String)>,
) -> ApiResult<Reply<Value>> {
    secrets::delete_public_token(&s.ctx, &slug, &env, &token).await?;
    Ok(Reply(json!({})))
}
