//! `/v1/b2b/rbac…`: rbac.md. The SDKs fetch both policies on their own for local checks.

use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthProject};
use crate::reply::Reply;
use crate::AppState;
use axum::extract::{Path, State};
use latch_core::engine::actor::Caller;
use latch_core::rbac::{Policy, PolicyRole};
use latch_core::service::organizations;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct PolicyBody {
    policy: Policy,
}

#[utoipa::path(
    get,
    path = "/v1/b2b/rbac/policy",
    operation_id = "rbac_policy",
    tag = "rbac",
    responses(
        (status = 200, description = "Success", body = PolicyBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn policy(State(s): State<AppState>, p: AuthProject) -> ApiResult<Reply<PolicyBody>> {
    Ok(Reply(PolicyBody {
        policy: s.ctx.project_config(p.id()).await?.policy.clone(),
    }))
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrgPolicy {
    roles: Vec<PolicyRole>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgPolicyBody {
    org_policy: OrgPolicy,
}

#[utoipa::path(
    get,
    path = "/v1/b2b/rbac/organizations/{organization_id}",
    operation_id = "rbac_org_policy",
    tag = "rbac",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
    ),
    responses(
        (status = 200, description = "Success", body = OrgPolicyBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn org_policy(
    State(s): State<AppState>,
    p: AuthProject,
    Path(org): Path<String>,
) -> ApiResult<Reply<OrgPolicyBody>> {
    let roles = organizations::rbac_roles(&s.ctx, p.id(), &org).await?;
    Ok(Reply(OrgPolicyBody {
        org_policy: OrgPolicy { roles },
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = rbac::SetOrgPolicy)]
pub struct SetOrgPolicy {
    org_policy: OrgPolicy,
}

#[utoipa::path(
    put,
    path = "/v1/b2b/rbac/organizations/{organization_id}",
    operation_id = "rbac_set_org_policy",
    tag = "rbac",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
    ),
    request_body = SetOrgPolicy,
    responses(
        (status = 200, description = "Success", body = OrgPolicyBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn set_org_policy(
    State(s): State<AppState>,
    p: AuthProject,
    Path(org): Path<String>,
    ApiJson(input): ApiJson<SetOrgPolicy>,
) -> ApiResult<Reply<OrgPolicyBody>> {
    // The organization RBAC endpoints take the project's secret only (no member-session headers).
    organizations::set_rbac_roles(&s.ctx, p.id(), &org, &input.org_policy.roles, &Caller::Project).await?;
    Ok(Reply(OrgPolicyBody {
        org_policy: input.org_policy,
    }))
}
