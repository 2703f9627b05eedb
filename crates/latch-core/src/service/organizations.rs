//! Organization use cases: create, read (by id, slug or external id), update, delete, search.

use crate::engine::actor::Caller;
use crate::engine::organizations as records;
use crate::engine::organizations::apply;
use crate::engine::Ctx;
use crate::error::CoreResult;
use crate::ids::{OrganizationId, ProjectId};
use crate::model::organization::*;
use crate::model::search::{parse_org_query, Page};
use crate::rbac::ORGANIZATION;
use crate::store::{retry, Found};
use serde_json::Value;

/// Create and get are the engine's: discovery creates organizations, every family finds them.
pub use crate::engine::organizations::{create, get, OrgInput};

pub async fn update(
    ctx: &Ctx,
    project_id: &ProjectId,
    locator: &str,
    input: OrgInput,
    caller: &Caller,
) -> CoreResult<OrgRecord> {
    // A write that lost a race to another reads the organization again and re-applies the input.
    retry::on_conflict(|| update_once(ctx, project_id, locator, input.clone(), caller)).await
}

async fn update_once(
    ctx: &Ctx,
    project_id: &ProjectId,
    locator: &str,
    input: OrgInput,
    caller: &Caller,
) -> CoreResult<OrgRecord> {
    let mut rec = get(ctx, project_id, locator).await?;
    caller.no_trusted_metadata(input.trusted_metadata.is_some())?;
    let grant = caller.require_all(|a| {
        a.require_tenant(&rec.organization_id)?;
        for action in input.required_actions() {
            a.require(&rec.organization_id, ORGANIZATION, action)?;
        }
        Ok(())
    })?;
    // SSO settings may name only connections the organization has.
    let mut named: Vec<String> = input
        .sso_default_connection_id
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    named.extend(input.sso_jit_provisioning_allowed_connections.iter().flatten().cloned());
    crate::engine::sso::check_connection_ids(ctx, &rec, &named).await?;
    let before = serde_json::to_value(rec.view()).unwrap_or_default();
    apply(&mut rec, input)?;
    records::save(ctx, &grant, &mut rec).await?;
    // The names of the fields that changed (not their values: metadata may be large).
    let after = serde_json::to_value(rec.view()).unwrap_or_default();
    if let (Value::Object(b), Value::Object(a)) = (&before, &after) {
        let changed: Vec<&String> = a
            .iter()
            .filter(|(k, v)| k.as_str() != "updated_at" && b.get(*k) != Some(*v))
            .map(|(k, _)| k)
            .collect();
        crate::engine::audit::detail("changed_fields", serde_json::json!(changed));
    }
    Ok(rec)
}

pub async fn delete_external_id(
    ctx: &Ctx,
    project_id: &ProjectId,
    locator: &str,
    caller: &Caller,
) -> CoreResult<OrgRecord> {
    // A write that lost a race to another reads again and re-applies the request (Stytch would succeed).
    retry::on_conflict(|| async {
        let mut rec = get(ctx, project_id, locator).await?;
        let grant = caller.require(&rec.organization_id, ORGANIZATION, "update.info.external-id")?;
        rec.external_id = None;
        records::save(ctx, &grant, &mut rec).await?;
        Ok(rec)
    })
    .await
}

/// Deletes the organization and, with it, all its members.
pub async fn delete(ctx: &Ctx, project_id: &ProjectId, locator: &str, caller: &Caller) -> CoreResult<OrganizationId> {
    let rec = get(ctx, project_id, locator).await?;
    let grant = caller.require(&rec.organization_id, ORGANIZATION, "delete")?;
    records::delete(ctx, &grant, &rec).await?;
    Ok(rec.organization_id)
}

pub async fn search(
    ctx: &Ctx,
    project_id: &ProjectId,
    query: Option<&Value>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> CoreResult<Found<OrgRecord>> {
    let query = parse_org_query(query)?;
    let page = Page::parse(cursor, limit)?;
    Ok(ctx.store.search_orgs(project_id, &query, &page).await?)
}

pub async fn member_count(ctx: &Ctx, project_id: &ProjectId, locator: &str) -> CoreResult<i64> {
    let rec = get(ctx, project_id, locator).await?;
    Ok(ctx.store.count_members(project_id, &rec.organization_id).await?)
}

/// The organization's own RBAC roles (rbac.md `organizations.get_org_policy`).
pub async fn rbac_roles(ctx: &Ctx, project_id: &ProjectId, locator: &str) -> CoreResult<Vec<crate::rbac::PolicyRole>> {
    let rec = get(ctx, project_id, locator).await?;
    Ok(ctx.store.org_roles(&rec.project_id, &rec.organization_id).await?)
}

/// Replaces the organization's own RBAC roles, checked against the project policy.
pub async fn set_rbac_roles(
    ctx: &Ctx,
    project_id: &ProjectId,
    locator: &str,
    roles: &[crate::rbac::PolicyRole],
    caller: &Caller,
) -> CoreResult<()> {
    let rec = get(ctx, project_id, locator).await?;
    let grant = caller.require_project()?;
    crate::rbac::validate_org_roles(&ctx.project_config(project_id).await?.policy, roles)?;
    records::set_roles(ctx, &grant, &rec, roles).await
}
