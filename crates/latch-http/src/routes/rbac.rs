//! `/v1/b2b/rbac…`: rbac.md. The SDKs fetch both policies on their own for local checks.

use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthProject};
use crate::reply::Reply;
use crate::AppState;
use axum::extract::{Path, State};
use latch_core::rbac::{validate_org_roles, Policy, PolicyRole};
use latch_core::service::organizations;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct PolicyBody {
    policy: Policy,
}

pub async fn policy(State(s): State<AppState>, _p: AuthProject) -> Reply<PolicyBody> {
    Reply(PolicyBody {
        policy: (*s.ctx.policy).clone(),
    })
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
    let org = organizations::get(&s.ctx, p.id(), &org).await?;
    let roles = s.ctx.store.org_roles(p.id(), &org.organization_id).await?;
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
    let org = organizations::get(&s.ctx, p.id(), &org).await?;
    validate_org_roles(&s.ctx.policy, &input.org_policy.roles)?;
    s.ctx
        .store
        .set_org_roles(p.id(), &org.organization_id, &input.org_policy.roles)
        .await?;
    Ok(Reply(OrgPolicyBody {
        org_policy: input.org_policy,
    }))
}
