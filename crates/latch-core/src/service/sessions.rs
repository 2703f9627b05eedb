//! Member sessions: issued by authentication endpoints, checked by `authenticate` (opaque token or
//! JWT), listed, extended and revoked.
//!
//! A session token is 256 random bits shown once; only its SHA-256 is stored, so a session
//! reached through its JWT cannot give its token back (`session_token` is then "").
//! A session JWT lives five minutes and is verified with keys held in memory; `authenticate`
//! then always reads the session, so a revoked or expired session is refused at once. Only the
//! SDKs' local verification trusts a JWT by itself, as Stytch documents.

use crate::engine::session::{issue, owner, resolve, resolve_with_member, session_not_found};
use crate::engine::{actor, auth_flow, members, organizations, session, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::organization::OrgRecord;
use crate::model::session::{SessionRecord, SessionWithMember};
use crate::rbac::granting_roles;
use crate::rules::factors;
use crate::rules::session::check_duration;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::engine::session::{view, Issued};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizationCheck {
    pub organization_id: OrganizationId,
    pub resource_id: String,
    pub action: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verdict {
    pub authorized: bool,
    pub granting_roles: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sessions::AuthenticateInput))]
pub struct AuthenticateInput {
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub authorization_check: Option<AuthorizationCheck>,
}

pub struct Authenticated {
    pub issued: Issued,
    pub member: members::MemberView,
    pub verdict: Option<Verdict>,
}

pub async fn authenticate(ctx: &Ctx, project_id: &ProjectId, input: AuthenticateInput) -> CoreResult<Authenticated> {
    check_duration(input.session_duration_minutes)?;
    let Some((found, presented)) = resolve_with_member(
        ctx,
        project_id,
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?
    else {
        return Err(crate::error::catalogue::NO_SESSION_ARGUMENTS.err());
    };
    let SessionWithMember {
        session,
        member,
        member_has_retired_emails,
    } = found;
    // A deleted member's sessions are dead.
    if member.status == MemberStatus::Deleted {
        return Err(session_not_found());
    }
    let org = organizations::get_cached(ctx, &session.project_id, &session.organization_id).await?;
    let verdict = match &input.authorization_check {
        None => None,
        Some(check) => Some(authorize(ctx, &session, &member, &org, check).await?),
    };
    // Without session_duration_minutes the session is not extended, only touched.
    let issued = issue(
        ctx,
        &member,
        &org,
        vec![],
        Some((session, presented)),
        input.session_duration_minutes,
        input.session_custom_claims.as_ref(),
    )
    .await?;
    let member = members::MemberView::load_known(ctx, member, org, member_has_retired_emails).await?;
    Ok(Authenticated {
        issued,
        member,
        verdict,
    })
}

/// The server-side authorization check, decided exactly as the SDKs decide locally.
pub async fn authorize(
    ctx: &Ctx,
    session: &SessionRecord,
    member: &MemberRecord,
    org: &OrgRecord,
    check: &AuthorizationCheck,
) -> CoreResult<Verdict> {
    if check.organization_id != session.organization_id {
        return Err(
            crate::error::catalogue::SESSION_AUTHORIZATION_TENANCY_ERROR.detail(format!(
                "session organization_id={}, request organization_id={}",
                session.organization_id, check.organization_id
            )),
        );
    }
    let roles = actor::policy_roles(ctx, &org.project_id, &org.organization_id).await?;
    let granting = granting_roles(
        &roles,
        &member.session_role_ids(org, &session.factors),
        &check.resource_id,
        &check.action,
    );
    if granting.is_empty() {
        return Err(crate::error::catalogue::SESSION_AUTHORIZATION_ERROR.detail(format!(
            "action={} resource_id={} organization_id={}",
            check.action, check.resource_id, check.organization_id
        )));
    }
    Ok(Verdict {
        authorized: true,
        granting_roles: granting,
    })
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sessions::ExchangeInput))]
pub struct ExchangeInput {
    pub organization_id: OrganizationId,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

/// Trades a session in one organization for one in another organization where the same person
/// (same email) is a member. Only factors that verified that very email carry over; when they do not
/// satisfy the target organization the caller gets an intermediate session saying what is missing.
/// It never creates a member (JIT provisioning goes through discovery).
pub async fn exchange(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: ExchangeInput,
) -> CoreResult<(members::MemberView, auth_flow::Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let Some((session, presented)) = resolve(
        ctx,
        project_id,
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?
    else {
        return Err(crate::error::catalogue::NO_SESSION_ARGUMENTS.err());
    };
    let (current, _) = owner(ctx, &session).await?;
    let target_org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let target = ctx
        .store
        .member_by_email(project_id, &target_org.organization_id, &current.email)
        .await?
        .ok_or_else(|| crate::error::catalogue::MEMBER_NOT_FOUND.err())?;
    let same = target.member_id == current.member_id;
    let factors = if same {
        vec![]
    } else {
        session
            .factors
            .iter()
            .filter(|f| factors::proves_email(f, &target.email))
            .cloned()
            .collect()
    };
    let (member, outcome) = auth_flow::complete(
        ctx,
        auth_flow::PrimaryAuth {
            member: target,
            org: &target_org,
            factors,
            session: same.then_some((session, presented)),
            intermediate_session_token: None,
            session_duration_minutes: input.session_duration_minutes,
            session_custom_claims: input.session_custom_claims.as_ref(),
            locale: input.locale.as_deref(),
        },
    )
    .await?;
    Ok((members::MemberView::load(ctx, member, target_org).await?, outcome))
}

pub struct MemberSessions {
    pub sessions: Vec<SessionRecord>,
    pub roles: Vec<String>,
    pub organization_slug: String,
}

pub async fn list(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
) -> CoreResult<MemberSessions> {
    let v = members::get(ctx, project_id, org_locator, Some(member_locator), None).await?;
    let sessions = ctx
        .store
        .live_sessions(project_id, &v.member.member_id, ctx.now())
        .await?;
    Ok(MemberSessions {
        sessions,
        roles: v.member.role_ids(&v.organization),
        organization_slug: v.organization.slug,
    })
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sessions::RevokeInput))]
pub struct RevokeInput {
    pub member_session_id: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub member_id: Option<MemberId>,
}

/// Revokes one session, or every session of a member. With member-session headers the actor needs
/// `revoke-sessions` on stytch.member, or on stytch.self for its own sessions.
pub async fn revoke(ctx: &Ctx, project_id: &ProjectId, input: RevokeInput, caller: &actor::Caller) -> CoreResult<()> {
    let given = [
        input.member_session_id.as_deref(),
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
        input.member_id.as_deref(),
    ]
    .iter()
    .filter(|v| v.is_some_and(|s| !s.is_empty()))
    .count();
    if given == 0 {
        return Err(crate::error::catalogue::NO_SESSION_REVOKE_ARGUMENTS.err());
    }
    if given > 1 {
        return Err(crate::error::catalogue::TOO_MANY_SESSION_REVOKE_ARGUMENTS.err());
    }
    if let Some(member_id) = input.member_id.as_ref().filter(|s| !s.is_empty()) {
        let target = ctx
            .store
            .member_by_id(project_id, member_id)
            .await?
            .ok_or_else(CoreError::member_not_found)?;
        let grant = caller.require_on_member(&target, "revoke-sessions")?;
        return session::revoke_all(ctx, &grant, &target).await;
    }
    let session = match input.member_session_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => ctx
            .store
            .session_by_id(project_id, id)
            .await?
            .ok_or_else(session_not_found)?,
        None => {
            resolve(
                ctx,
                project_id,
                input.session_token.as_deref(),
                input.session_jwt.as_deref(),
            )
            .await?
            .ok_or_else(session_not_found)?
            .0
        }
    };
    let target = ctx
        .store
        .member_by_id(project_id, &session.member_id)
        .await?
        .ok_or_else(session_not_found)?;
    let grant = caller.require_on_member(&target, "revoke-sessions")?;
    session::revoke(ctx, &grant, &session).await
}
