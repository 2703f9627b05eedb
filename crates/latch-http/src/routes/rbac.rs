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

#[derive(Serialize)]
pub struct PolicyBody {
    policy: Policy,
}

pub async fn policy(State(s): State<AppState>, p: AuthProject) -> ApiResult<Reply<PolicyBody>> {
    Ok(Reply(PolicyBody {
        policy: s.ctx.project_config(p.id()).await?.policy.clone(),
    }))
}

#[derive(Serialize, Deserialize)]
pub struct OrgPolicy {
    roles: Vec<PolicyRole>,
}

#[derive(Serialize)]
pub struct OrgPolicyBody {
    org_policy: OrgPolicy,
}

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

#[derive(Deserialize)]
pub struct SetOrgPolicy {
    org_policy: OrgPolicy,
}

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
