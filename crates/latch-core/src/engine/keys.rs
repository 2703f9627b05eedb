//! Signing-key revocation as a node sees it: the keyring stops loading a revoked key, and the
//! remembered verifications of the project's JWTs (`Ctx::verified_jwts`) are dropped, since some
//! may have been made with that key.
//!
//! A revocation through this node takes effect at once. One made by another process (the
//! `latch keys revoke` command, another node) is found by `sync_revocations`, which the server
//! runs every `keyring::REVOCATION_POLL` (2 s): such a key is refused within that time, and any
//! verification that raced the first poll is dropped by the next one.

use super::Ctx;
use crate::error::CoreResult;
use crate::ids::ProjectId;
use crate::token::keyring::Revoked;

/// Revokes `kid`, or every key but a new one (see `Keyring::revoke`).
pub async fn revoke(ctx: &Ctx, project_id: &ProjectId, kid: Option<&str>) -> CoreResult<Revoked> {
    let revoked = ctx.keyring.revoke(project_id, kid).await?;
    forget_verifications(ctx, project_id);
    Ok(revoked)
}

/// Applies revocations made elsewhere; returns the projects affected.
pub async fn sync_revocations(ctx: &Ctx) -> CoreResult<Vec<ProjectId>> {
    let projects = ctx.keyring.sync_revocations().await?;
    for project_id in &projects {
        forget_verifications(ctx, project_id);
    }
    Ok(projects)
}

fn forget_verifications(ctx: &Ctx, project_id: &ProjectId) {
    ctx.verified_jwts.retain(|(p, _)| p != project_id);
}
