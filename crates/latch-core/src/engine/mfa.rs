//! MFA, begin and finish: which session or intermediate session presents a member's factors, the
//! guard on wrong TOTP and recovery codes, and turning a proven MFA factor into a session.

use crate::engine::attempts::{Limit, Reservation};
use crate::engine::auth_flow::{Outcome, PrimaryAuth};
use crate::engine::members::MemberView;
use crate::engine::session::{Issued, Presented};
use crate::engine::Ctx;
use crate::engine::{auth_flow, intermediate, session};
use crate::error::CoreResult;
use crate::ids::ProjectId;
use crate::model::member::MemberRecord;
use crate::model::organization::{MfaPolicy, OrgRecord};
use crate::model::session::{AuthFactor, SessionRecord};
use crate::rules::args::{Credential, SessionArgs};
use crate::rules::requirements;
use crate::store::retry::modify_member;
use serde_json::Value;

/// Factors the caller proved for this member through an IST or a session (if any was passed).
/// An IST must already hold a primary factor the organization accepts: these factors decide who
/// may enrol an MFA factor, and an IST with none (e.g. from `sessions.exchange` with a password
/// session) proves nothing about this membership yet.
pub(crate) async fn presented_factors(
    ctx: &Ctx,
    project_id: &ProjectId,
    org: &OrgRecord,
    member: &MemberRecord,
    args: &SessionArgs,
) -> CoreResult<Option<Vec<AuthFactor>>> {
    if let Some(t) = args.intermediate() {
        let rec = intermediate::load(ctx, project_id, t).await?;
        let factors = requirements::ist_factors(&rec, org, member)?;
        if requirements::primary_missing(org, member, &factors).is_some() {
            return Err(crate::error::catalogue::INSUFFICIENT_FACTORS.err());
        }
        return Ok(Some(factors));
    }
    match session::resolve(
        ctx,
        project_id,
        args.session_token.as_deref(),
        args.session_jwt.as_deref(),
    )
    .await?
    {
        Some((s, _)) if s.member_id == member.member_id => Ok(Some(s.factors)),
        Some(_) => Err(requirements::wrong_organization()),
        None => Ok(None),
    }
}

const FAILURE_SCOPE: &str = "mfa_code";

const MAX_FAILURES: i64 = 10;

const FAILURE_WINDOW_MINUTES: i64 = 10;

/// Wrong TOTP or recovery codes per member: 10 per 10 minutes.
const GUARD: Limit = Limit {
    scope: FAILURE_SCOPE,
    max: MAX_FAILURES,
    window_minutes: FAILURE_WINDOW_MINUTES,
};

/// Counts this attempt before the code is checked, so a concurrent burst gets no more guesses.
pub(crate) async fn guard(ctx: &Ctx, member: &MemberRecord) -> CoreResult<Reservation> {
    GUARD
        .reserve(ctx, member.member_id.to_string(), ctx.now(), |retry_after_secs| {
            crate::error::catalogue::TOO_MANY_REQUESTS.retry_after("wrong codes", retry_after_secs)
        })
        .await
        .inspect_err(|_| crate::engine::audit::detail("cause", "too_many_wrong_codes"))
}

/// Exactly one of IST / session token / session JWT, belonging to the member; returns the session.
pub async fn mfa_tokens(
    ctx: &Ctx,
    org: &OrgRecord,
    member: &MemberRecord,
    args: &SessionArgs,
) -> CoreResult<Option<(SessionRecord, Presented)>> {
    match args.exactly_one()? {
        Credential::Intermediate(t) => {
            requirements::ist_factors(&intermediate::load(ctx, &member.project_id, t).await?, org, member)?;
            Ok(None)
        }
        Credential::SessionToken(t) => own_session(ctx, member, Some(t), None).await.map(Some),
        Credential::SessionJwt(j) => own_session(ctx, member, None, Some(j)).await.map(Some),
    }
}

/// The member's own live session named by a token or a JWT; another member's is refused.
async fn own_session(
    ctx: &Ctx,
    member: &MemberRecord,
    token: Option<&str>,
    jwt: Option<&str>,
) -> CoreResult<(SessionRecord, Presented)> {
    match session::resolve(ctx, &member.project_id, token, jwt).await? {
        Some(s) if s.0.member_id == member.member_id => Ok(s),
        _ => Err(requirements::wrong_organization()),
    }
}

/// Applies enrollment options, then turns the MFA factor into a session.
#[allow(clippy::too_many_arguments)]
pub async fn finish_mfa(
    ctx: &Ctx,
    org: &OrgRecord,
    mut member: MemberRecord,
    factor: AuthFactor,
    method: &str,
    session: Option<(SessionRecord, Presented)>,
    ist: Option<&str>,
    duration: Option<i64>,
    claims: Option<&Value>,
    enrollment: Option<bool>,
    set_default: Option<bool>,
) -> CoreResult<(MemberView, Issued)> {
    // Re-applied to a fresh read if another write to the member lands first.
    modify_member(ctx.store.as_ref(), &mut member, |member| {
        if let Some(e) = enrollment {
            member.mfa_enrolled = e;
        }
        if org.settings.mfa_policy == MfaPolicy::RequiredForAll {
            member.mfa_enrolled = true;
        }
        // The first MFA completion sets the default method.
        if set_default == Some(true) || member.default_mfa_method.is_empty() {
            member.default_mfa_method = method.to_string();
        }
    })
    .await?;
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org,
            factors: vec![factor],
            session,
            intermediate_session_token: ist,
            session_duration_minutes: duration,
            session_custom_claims: claims,
            locale: None,
        },
    )
    .await?;
    match outcome {
        Outcome::Authenticated(issued) => Ok((MemberView::load(ctx, member, org.clone()).await?, *issued)),
        Outcome::Pending { .. } => Err(crate::error::catalogue::INSUFFICIENT_FACTORS.err()),
    }
}
