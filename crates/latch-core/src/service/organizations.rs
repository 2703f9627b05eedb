//! Organization use cases: create, read (by id, slug or external id), update, delete, search.

use crate::clock::Timestamp;
use crate::engine::actor::{no_trusted_metadata, Actor};
use crate::engine::organizations::apply;
use crate::engine::organizations::{check_unique, on_write_error};
use crate::engine::Ctx;
use crate::error::CoreResult;
use crate::model::organization::*;
use crate::model::search::{parse_org_query, Page};
use crate::rbac::ORGANIZATION;
use crate::store::Found;
use serde_json::Value;

/// Create and get are the engine's: discovery creates organizations, every family finds them.
pub use crate::engine::organizations::{create, get, OrgInput};

pub async fn update(
    ctx: &Ctx,
    project_id: &str,
    locator: &str,
    input: OrgInput,
    actor: Option<&Actor>,
) -> CoreResult<OrgRecord> {
    let mut rec = get(ctx, project_id, locator).await?;
    if let Some(a) = actor {
        no_trusted_metadata(actor, input.trusted_metadata.is_some())?;
        a.require_tenant(&rec.organization_id)?;
        for action in input.required_actions() {
            a.require(&rec.organization_id, ORGANIZATION, action)?;
        }
    }
    apply(&mut rec, input)?;
    rec.updated_at = Timestamp::now();
    check_unique(ctx, &rec).await?;
    if let Err(e) = ctx.store.update_org(&rec).await {
        return Err(on_write_error(ctx, &rec, e).await);
    }
    Ok(rec)
}

pub async fn delete_external_id(
    ctx: &Ctx,
    project_id: &str,
    locator: &str,
    actor: Option<&Actor>,
) -> CoreResult<OrgRecord> {
    let mut rec = get(ctx, project_id, locator).await?;
    if let Some(a) = actor {
        a.require(&rec.organization_id, ORGANIZATION, "update.info.external-id")?;
    }
    rec.external_id = None;
    rec.updated_at = Timestamp::now();
    ctx.store.update_org(&rec).await?;
    Ok(rec)
}

/// Deletes the organization and, with it, all its members.
pub async fn delete(ctx: &Ctx, project_id: &str, locator: &str, actor: Option<&Actor>) -> CoreResult<String> {
    let rec = get(ctx, project_id, locator).await?;
    if let Some(a) = actor {
        a.require(&rec.organization_id, ORGANIZATION, "delete")?;
    }
    ctx.store.delete_org(project_id, &rec.organization_id).await?;
    Ok(rec.organization_id)
}

pub async fn search(
    ctx: &Ctx,
    project_id: &str,
    query: Option<&Value>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> CoreResult<Found<OrgRecord>> {
    let query = parse_org_query(query)?;
    let page = Page::parse(cursor, limit)?;
    Ok(ctx.store.search_orgs(project_id, &query, &page).await?)
}

pub async fn member_count(ctx: &Ctx, project_id: &str, locator: &str) -> CoreResult<i64> {
    let rec = get(ctx, project_id, locator).await?;
    Ok(ctx.store.count_members(project_id, &rec.organization_id).await?)
}
