//! An environment's password strength config, redirect URLs, RBAC policy and country codes.

use super::WorkspaceAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{lenient_bool, ApiJson, ApiQuery};
use crate::reply::Reply;
use crate::AppState;
use axum::extract::{Path, State};
use latch_core::error::catalogue;
use latch_core::model::member::{ROLE_ADMIN, ROLE_MEMBER};
use latch_core::password::policy::{PasswordPolicy, Strength};
use latch_core::rbac::{Permission, Policy, PolicyResource, PolicyRole, PolicyScope};
use latch_core::service::management::settings::{self as svc, PolicyChange, StrengthConfig, UrlType};
use latch_core::settings::RedirectUrl;
use serde::Deserialize;
use serde_json::{json, Value};

type EnvPath = Path<(String, String)>;

fn strength_view(p: &PasswordPolicy) -> Value {
    let (policy, length, complexity) = match p.strength {
        Strength::Zxcvbn => ("ZXCVBN", None, None),
        Strength::Luds {
            min_length,
            min_complexity,
        } => ("LUDS", Some(min_length), Some(min_complexity)),
    };
    json!({
        "check_breach_on_creation": p.breach_detection_on_create,
        "check_breach_on_authentication": p.breach_detection_on_authenticate,
        "validate_on_authentication": p.validate_on_authenticate,
        "validation_policy": policy,
        "luds_min_password_length": length,
        "luds_min_password_complexity": complexity,
    })
}

pub async fn password_strength(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let settings = svc::settings(&s.ctx, &slug, &env).await?;
    Ok(Reply(
        json!({ "password_strength_config": strength_view(&settings.password) }),
    ))
}

#[derive(Deserialize)]
pub struct SetStrength {
    check_breach_on_creation: bool,
    check_breach_on_authentication: bool,
    validate_on_authentication: bool,
    validation_policy: Option<String>,
    luds_min_password_length: Option<i64>,
    luds_min_password_complexity: Option<i64>,
}

pub async fn set_password_strength(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
    ApiJson(input): ApiJson<SetStrength>,
) -> ApiResult<Reply<Value>> {
    let policy = svc::set_password_strength(
        &s.ctx,
        &slug,
        &env,
        StrengthConfig {
            check_breach_on_creation: input.check_breach_on_creation,
            check_breach_on_authentication: input.check_breach_on_authentication,
            validate_on_authentication: input.validate_on_authentication,
            validation_policy: input.validation_policy,
            luds_min_password_length: input.luds_min_password_length,
            luds_min_password_complexity: input.luds_min_password_complexity,
        },
    )
    .await?;
    Ok(Reply(json!({ "password_strength_config": strength_view(&policy) })))
}

fn url_view(u: &RedirectUrl) -> Value {
    let types: Vec<Value> = u
        .types
        .iter()
        .map(|t| json!({ "type": t.as_str().to_ascii_uppercase(), "is_default": u.default_types.contains(t) }))
        .collect();
    json!({ "url": u.url, "valid_types": types })
}

/// A `URLType` as sent: pydantic models arrive with every field, `null` included.
#[derive(Deserialize)]
pub struct UrlTypeInput {
    #[serde(rename = "type")]
    kind: Option<String>,
    is_default: Option<bool>,
}

fn url_types(input: Option<Vec<UrlTypeInput>>) -> Result<Vec<UrlType>, ApiError> {
    input
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let kind = t.kind.as_deref().unwrap_or_default();
            Ok(UrlType {
                kind: svc::parse_url_type(kind)?,
                is_default: t.is_default.unwrap_or(false),
            })
        })
        .collect()
}

#[derive(Deserialize)]
pub struct CreateUrl {
    url: Option<String>,
    valid_types: Option<Vec<UrlTypeInput>>,
    do_not_promote_defaults: Option<bool>,
}

pub async fn create_redirect_url(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
    ApiJson(input): ApiJson<CreateUrl>,
) -> ApiResult<Reply<Value>> {
    let url = input
        .url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::Core(catalogue::INVALID_ARGUMENT.field_detail("url", "is required")))?;
    let types = url_types(input.valid_types)?;
    let u = svc::create_redirect_url(
        &s.ctx,
        &slug,
        &env,
        &url,
        &types,
        input.do_not_promote_defaults.unwrap_or(false),
    )
    .await?;
    Ok(Reply(json!({ "redirect_url": url_view(&u) })))
}

pub async fn redirect_urls(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let settings = svc::settings(&s.ctx, &slug, &env).await?;
    let all: Vec<Value> = settings.redirect_urls.iter().map(url_view).collect();
    Ok(Reply(json!({ "redirect_urls": all })))
}

#[derive(Deserialize)]
pub struct UrlQuery {
    url: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    do_not_promote_defaults: Option<bool>,
}

impl UrlQuery {
    fn url(&self) -> Result<&str, ApiError> {
        self.url
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| ApiError::Core(catalogue::INVALID_ARGUMENT.field_detail("url", "is required")))
    }
}

pub async fn redirect_url(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
    ApiQuery(q): ApiQuery<UrlQuery>,
) -> ApiResult<Reply<Value>> {
    let u = svc::redirect_url(&s.ctx, &slug, &env, q.url()?).await?;
    Ok(Reply(json!({ "redirect_url": url_view(&u) })))
}

#[derive(Deserialize)]
pub struct UpdateUrl {
    valid_types: Option<Vec<UrlTypeInput>>,
    do_not_promote_defaults: Option<bool>,
}

pub async fn update_redirect_url(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
    ApiQuery(q): ApiQuery<UrlQuery>,
    ApiJson(input): ApiJson<UpdateUrl>,
) -> ApiResult<Reply<Value>> {
    let types = url_types(input.valid_types)?;
    let no_promote = input.do_not_promote_defaults.or(q.do_not_promote_defaults);
    let u = svc::update_redirect_url(&s.ctx, &slug, &env, q.url()?, &types, no_promote.unwrap_or(false)).await?;
    Ok(Reply(json!({ "redirect_url": url_view(&u) })))
}

pub async fn delete_redirect_url(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
    ApiQuery(q): ApiQuery<UrlQuery>,
) -> ApiResult<Reply<Value>> {
    svc::delete_redirect_url(
        &s.ctx,
        &slug,
        &env,
        q.url()?,
        q.do_not_promote_defaults.unwrap_or(false),
    )
    .await?;
    Ok(Reply(json!({})))
}

/// The management shape of an effective policy: Stytch's resources apart from the project's,
/// the default roles as permission lists.
fn policy_view(p: &Policy) -> Value {
    let defaults = latch_core::rbac::default_policy();
    let is_default_resource = |id: &str| defaults.resources.iter().any(|r| r.resource_id == id);
    let resource = |r: &PolicyResource| json!({ "resource_id": r.resource_id, "description": r.description, "available_actions": r.actions });
    let role_perms = |id: &str| -> Value {
        let perms: Vec<&Permission> = p
            .roles
            .iter()
            .filter(|r| r.role_id == id)
            .flat_map(|r| r.permissions.iter())
            .collect();
        json!({ "permissions": perms })
    };
    json!({
        "stytch_resources": p.resources.iter().filter(|r| is_default_resource(&r.resource_id)).map(resource).collect::<Vec<_>>(),
        "custom_resources": p.resources.iter().filter(|r| !is_default_resource(&r.resource_id)).map(resource).collect::<Vec<_>>(),
        "custom_roles": p.roles.iter().filter(|r| r.role_id != ROLE_MEMBER && r.role_id != ROLE_ADMIN).collect::<Vec<_>>(),
        "custom_scopes": p.scopes,
        "stytch_member": role_perms(ROLE_MEMBER),
        "stytch_admin": role_perms(ROLE_ADMIN),
    })
}

pub async fn rbac_policy(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let env = latch_core::service::management::environment(&s.ctx, &slug, &env).await?;
    let config = s.ctx.project_config(&env.project_id).await?;
    Ok(Reply(json!({ "policy": policy_view(&config.policy) })))
}

#[derive(Deserialize)]
pub struct DefaultRole {
    #[serde(default)]
    permissions: Vec<Permission>,
}

#[derive(Deserialize)]
pub struct ResourceInput {
    resource_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    available_actions: Vec<String>,
}

#[derive(Deserialize)]
pub struct SetPolicy {
    stytch_member: Option<DefaultRole>,
    stytch_admin: Option<DefaultRole>,
    stytch_user: Option<Value>,
    custom_roles: Option<Vec<PolicyRole>>,
    custom_resources: Option<Vec<ResourceInput>>,
    custom_scopes: Option<Vec<PolicyScope>>,
}

pub async fn set_rbac_policy(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
    ApiJson(input): ApiJson<SetPolicy>,
) -> ApiResult<Reply<Value>> {
    if input.stytch_user.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(catalogue::INVALID_ARGUMENT
            .field_detail(
                "stytch_user",
                "a consumer role; B2B projects have stytch_member and stytch_admin",
            )
            .into());
    }
    let change = PolicyChange {
        stytch_member: input.stytch_member.map(|r| r.permissions),
        stytch_admin: input.stytch_admin.map(|r| r.permissions),
        custom_roles: input.custom_roles,
        custom_resources: input.custom_resources.map(|rs| {
            rs.into_iter()
                .map(|r| PolicyResource {
                    resource_id: r.resource_id,
                    description: r.description,
                    actions: r.available_actions,
                })
                .collect()
        }),
        custom_scopes: input.custom_scopes,
    };
    let policy = svc::set_rbac_policy(&s.ctx, &slug, &env, change).await?;
    Ok(Reply(json!({ "policy": policy_view(&policy) })))
}

pub async fn sms_countries(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    let settings = svc::settings(&s.ctx, &slug, &env).await?;
    Ok(Reply(json!({ "country_codes": settings.sms_allowed_countries })))
}

#[derive(Deserialize)]
pub struct SetCountries {
    country_codes: Option<Vec<String>>,
}

pub async fn set_sms_countries(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
    ApiJson(input): ApiJson<SetCountries>,
) -> ApiResult<Reply<Value>> {
    let codes = input
        .country_codes
        .ok_or_else(|| ApiError::Core(catalogue::INVALID_ARGUMENT.field_detail("country_codes", "is required")))?;
    let codes = svc::set_sms_countries(&s.ctx, &slug, &env, &codes).await?;
    Ok(Reply(json!({ "country_codes": codes })))
}

/// WhatsApp codes do not exist in B2B: the list is empty and stays so.
pub async fn whatsapp_countries(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    svc::settings(&s.ctx, &slug, &env).await?;
    Ok(Reply(json!({ "country_codes": [] })))
}

pub async fn set_whatsapp_countries(
    State(s): State<AppState>,
    _: WorkspaceAuth,
    Path((slug, env)): EnvPath,
) -> ApiResult<Reply<Value>> {
    svc::settings(&s.ctx, &slug, &env).await?;
    Err(catalogue::COUNTRY_CODE_ALLOWLIST_B2B_WHATSAPP_NOT_SUPPORTED
        .err()
        .into())
}
