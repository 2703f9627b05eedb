//! Intermediate session tokens (ISTs): 256 random bits, stored hashed, ten minutes by default.
//!
//! ```text
//!   primary factor ──> IST {factors} ──(more factors)──> requirements met? ──yes──> session (IST deleted)
//!                                                   └──no──> same IST returned
//! ```
//! An IST bound to an organization (password factors are) cannot be used in another one.

use crate::crypto::{random_token, sha256_hex};
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::credentials::IntermediateRecord;
use crate::model::session::AuthFactor;

pub const LIFETIME_MINUTES: i64 = 10;

pub fn not_found() -> CoreError {
    crate::error::catalogue::INTERMEDIATE_SESSION_NOT_FOUND.err()
}

pub async fn create(
    ctx: &Ctx,
    project_id: &ProjectId,
    organization_id: Option<&OrganizationId>,
    member_id: Option<&MemberId>,
    email: &str,
    factors: Vec<AuthFactor>,
) -> CoreResult<(IntermediateRecord, String)> {
    let token = random_token(32);
    let now = ctx.now();
    let rec = IntermediateRecord {
        ist_id: format!("intermediate-session-test-{}", uuid::Uuid::new_v4()),
        project_id: project_id.clone(),
        token_hash: sha256_hex(&token),
        organization_id: organization_id.cloned(),
        member_id: member_id.cloned(),
        email: email.to_string(),
        factors,
        created_at: now,
        expires_at: now.plus_minutes(LIFETIME_MINUTES),
    };
    ctx.store.insert_intermediate(&rec).await?;
    Ok((rec, token))
}

/// The live IST for `token`.
pub async fn load(ctx: &Ctx, project_id: &ProjectId, token: &str) -> CoreResult<IntermediateRecord> {
    match ctx
        .store
        .intermediate_by_token_hash(project_id, &sha256_hex(token))
        .await?
    {
        Some(r) if r.expires_at > ctx.now() => Ok(r),
        _ => Err(not_found()),
    }
}

pub async fn save(ctx: &Ctx, rec: &IntermediateRecord) -> CoreResult<()> {
    Ok(ctx.store.update_intermediate(rec).await?)
}

/// Uses the IST up. Of two concurrent requests only one gets `Ok`.
pub async fn consume(ctx: &Ctx, rec: &IntermediateRecord) -> CoreResult<()> {
    if ctx.store.delete_intermediate(&rec.project_id, &rec.ist_id).await? {
        Ok(())
    } else {
        Err(not_found())
    }
}
