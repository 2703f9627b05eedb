//! SCIM connections: their bearer tokens (issued, rotated, checked), the base URL an identity
//! provider is given, the organization's `scim_active_connection`, and the roles members hold
//! through the connection's groups.
//!
//! Token rotation:
//!
//! ```text
//!   create ──▶ token A
//!   rotate/start ──▶ A and B both accepted ──rotate/complete──▶ only B
//!                                         └──rotate/cancel────▶ only A
//! ```
//!
//! Tokens come from the OS CSPRNG (48 alphanumerics, about 285 bits, like Stytch's); only their
//! SHA-256 digests are stored, and a presented token is compared with both digests in constant
//! time.

use crate::clock::Timestamp;
use crate::crypto::{constant_time_eq, sha256_hex};
use crate::engine::grant::Grant;
use crate::engine::members::{self, Write};
use crate::engine::{audit, organizations, Ctx};
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult};
use crate::ids::{MemberId, ProjectId};
use crate::model::organization::OrgRecord;
use crate::model::scim::{
    ActiveScimConnection, AssignmentView, ScimConnection, ScimConnectionRecord, ScimGroupRecord, ScimRoleGrant,
};
use crate::scim::{ScimError, ScimResult};
use crate::store::retry;
use rand::distributions::{Alphanumeric, DistString};

const TOKEN_LENGTH: usize = 48;

/// Failed bearer tokens allowed per connection and client address in a window, before the
/// connection answers 429 to that address.
const FAILED_TOKENS: crate::engine::attempts::Limit = crate::engine::attempts::Limit {
    scope: "scim_bearer",
    max: 20,
    window_minutes: 15,
};

/// A new bearer token: 48 alphanumerics from the OS CSPRNG.
pub fn new_token() -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, TOKEN_LENGTH)
}

/// The URL given to the identity provider; Entra ID's gets the flag that makes it speak SCIM 2.0
/// as the RFCs define it (scim.md).
pub fn base_url(ctx: &Ctx, c: &ScimConnectionRecord) -> String {
    let url = service_url(ctx, &c.connection_id);
    if c.identity_provider == "microsoft-entra" {
        format!("{url}?aadOptscim062020")
    } else {
        url
    }
}

/// Where the connection's SCIM resources live (`…/Users`, `…/Groups`).
pub fn service_url(ctx: &Ctx, connection_id: &str) -> String {
    format!(
        "{}/v1/b2b/scim/{connection_id}",
        ctx.settings.public_url.trim_end_matches('/')
    )
}

pub fn view(ctx: &Ctx, c: &ScimConnectionRecord, groups: &[ScimGroupRecord]) -> ScimConnection {
    ScimConnection {
        organization_id: c.organization_id.to_string(),
        connection_id: c.connection_id.clone(),
        status: "active",
        display_name: c.display_name.clone(),
        identity_provider: c.identity_provider.clone(),
        base_url: base_url(ctx, c),
        bearer_token_last_four: c.token_last_four.clone(),
        bearer_token_expires_at: c.token_expires_at,
        next_bearer_token_last_four: c.next_token_last_four.clone(),
        next_bearer_token_expires_at: c.next_token_expires_at,
        scim_group_implicit_role_assignments: c
            .role_assignments
            .iter()
            .map(|a| AssignmentView {
                role_id: a.role_id.clone(),
                group_id: a.group_id.clone(),
                group_name: groups
                    .iter()
                    .find(|g| g.group_id == a.group_id)
                    .map(|g| g.display_name.clone())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

pub fn not_found() -> CoreError {
    NO_ACTIVE_SCIM_CONNECTION.err()
}

/// The organization's connection with this id (never another organization's).
pub async fn connection(ctx: &Ctx, org: &OrgRecord, connection_id: &str) -> CoreResult<ScimConnectionRecord> {
    ctx.store
        .scim_connection(&org.project_id, connection_id)
        .await?
        .filter(|c| c.organization_id == org.organization_id)
        .ok_or_else(not_found)
}

/// Brings `Organization.scim_active_connection` in step with the organization's connection.
pub async fn sync_organization(ctx: &Ctx, grant: &Grant, org: &OrgRecord) -> CoreResult<()> {
    retry::on_conflict(|| async {
        let mut org = organizations::get(ctx, &org.project_id, &org.organization_id).await?;
        let active = ctx
            .store
            .scim_connection_of_org(&org.project_id, &org.organization_id)
            .await?
            .map(|c| ActiveScimConnection {
                connection_id: c.connection_id,
                display_name: c.display_name,
                bearer_token_last_four: c.token_last_four,
                bearer_token_expires_at: c.token_expires_at,
            });
        if org.settings.scim_active_connection != active {
            org.settings.scim_active_connection = active;
            organizations::save(ctx, grant, &mut org).await?;
        }
        Ok(())
    })
    .await
}

/// Inserts a new connection (one per organization).
pub async fn insert(ctx: &Ctx, grant: &Grant, org: &OrgRecord, c: &ScimConnectionRecord) -> CoreResult<()> {
    match ctx.store.insert_scim_connection(c).await {
        Err(crate::error::StoreError::UniqueViolation) => return Err(ACTIVE_SCIM_CONNECTION_EXISTS.err()),
        other => other?,
    }
    audit::detail("connection_id", c.connection_id.as_str());
    sync_organization(ctx, grant, org).await
}

/// Writes the connection back (names, tokens, assignments; `sync_roles` brings members' roles in
/// step with new assignments).
pub async fn update(ctx: &Ctx, grant: &Grant, org: &OrgRecord, c: &mut ScimConnectionRecord) -> CoreResult<()> {
    c.updated_at = ctx.now();
    ctx.store.update_scim_connection(c).await?;
    audit::detail("connection_id", c.connection_id.as_str());
    sync_organization(ctx, grant, org).await
}

/// Deletes the connection with its users and groups; the members stay, without its roles.
pub async fn delete(ctx: &Ctx, grant: &Grant, org: &OrgRecord, connection_id: &str) -> CoreResult<()> {
    let c = connection(ctx, org, connection_id).await?;
    let holders: Vec<MemberId> = ctx
        .store
        .scim_users(&c.project_id, &c.connection_id)
        .await?
        .into_iter()
        .map(|u| u.member_id)
        .collect();
    ctx.store
        .delete_scim_connection(&c.project_id, &c.connection_id)
        .await?;
    audit::detail("connection_id", connection_id);
    let gone = ScimConnectionRecord {
        role_assignments: vec![],
        ..c
    };
    sync_roles(ctx, &gone, &holders).await?;
    sync_organization(ctx, grant, org).await
}

/// The connection a SCIM request is for, if `bearer` is one of its tokens. Failures are counted
/// per connection and client address; past the limit the address is refused without a check.
///
/// A token is 285 random bits, so the count guards the server's work rather than the token: it
/// is read before the check and bumped after a failure, not reserved first.
pub async fn authenticate(
    ctx: &Ctx,
    connection_id: &str,
    bearer: Option<&str>,
    client: &str,
) -> ScimResult<ScimConnectionRecord> {
    let now = ctx.now();
    let key = format!("{connection_id}|{client}");
    let window = now.plus_minutes(-FAILED_TOKENS.window_minutes);
    if ctx.store.attempts(FAILED_TOKENS.scope, &key, window).await? >= FAILED_TOKENS.max {
        return Err(ScimError {
            retry_after: Some(FAILED_TOKENS.window_minutes as u64 * 60),
            ..ScimError::new(429, None, "Too many failed bearer tokens; try again later.")
        });
    }
    let connection = if connection_id.len() <= 128 {
        ctx.store.scim_connection_by_id(connection_id).await?
    } else {
        None
    };
    let presented = sha256_hex(bearer.unwrap_or(""));
    let ok = connection.as_ref().is_some_and(|c| {
        let current = constant_time_eq(&presented, &c.token_hash) && token_live(c.token_expires_at, now);
        let next = c
            .next_token_hash
            .as_deref()
            .is_some_and(|h| constant_time_eq(&presented, h) && token_live(c.next_token_expires_at, now));
        bearer.is_some_and(|b| !b.is_empty()) && (current | next)
    });
    match connection {
        Some(c) if ok => Ok(c),
        _ => {
            ctx.store.bump_attempts(FAILED_TOKENS.scope, &key, window, now).await?;
            Err(ScimError::unauthorized())
        }
    }
}

fn token_live(expires_at: Option<Timestamp>, now: Timestamp) -> bool {
    expires_at.is_none_or(|t| t > now)
}

/// The roles `member_id` holds through the connection's groups.
fn grants(c: &ScimConnectionRecord, groups: &[ScimGroupRecord], member_id: &MemberId) -> Vec<ScimRoleGrant> {
    let mut out: Vec<ScimRoleGrant> = c
        .role_assignments
        .iter()
        .filter(|a| {
            groups
                .iter()
                .any(|g| g.group_id == a.group_id && g.members.iter().any(|m| m.value == member_id.as_str()))
        })
        .map(|a| ScimRoleGrant {
            role_id: a.role_id.clone(),
            connection_id: c.connection_id.clone(),
            group_id: a.group_id.clone(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Brings the SCIM roles of these members in step with the connection's groups and assignments
/// (the members' grants from the connection are replaced; a deleted connection grants none). A
/// deactivated member keeps its grants, so that reactivation restores its roles.
pub async fn sync_roles(ctx: &Ctx, c: &ScimConnectionRecord, member_ids: &[MemberId]) -> CoreResult<()> {
    if member_ids.is_empty() {
        return Ok(());
    }
    let groups = ctx.store.scim_groups(&c.project_id, &c.connection_id).await?;
    for member_id in member_ids {
        let want = grants(c, &groups, member_id);
        retry::on_conflict(|| async {
            let Some(mut m) = ctx.store.member_by_id(&c.project_id, member_id).await? else {
                return Ok(());
            };
            if m.organization_id != c.organization_id {
                return Ok(());
            }
            let mut next: Vec<ScimRoleGrant> = m
                .scim_roles
                .iter()
                .filter(|g| g.connection_id != c.connection_id)
                .cloned()
                .chain(want.iter().cloned())
                .collect();
            next.sort();
            if next == m.scim_roles {
                return Ok(());
            }
            let before: Vec<&str> = m.scim_roles.iter().map(|g| g.role_id.as_str()).collect();
            let before = serde_json::json!(before);
            m.scim_roles = next;
            members::save(ctx, &Grant::engine(), &mut m, Write::Plain).await?;
            let after: Vec<&str> = m.scim_roles.iter().map(|g| g.role_id.as_str()).collect();
            audit::fact(
                "member.scim_roles_changed",
                audit::Target::member(&m),
                &[
                    ("connection_id", serde_json::json!(c.connection_id)),
                    ("scim_roles", serde_json::json!(after)),
                    ("previous_scim_roles", before),
                ],
            );
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Every member the connection provisioned.
pub async fn provisioned_members(ctx: &Ctx, project_id: &ProjectId, connection_id: &str) -> CoreResult<Vec<MemberId>> {
    Ok(ctx
        .store
        .scim_users(project_id, connection_id)
        .await?
        .into_iter()
        .map(|u| u.member_id)
        .collect())
}
