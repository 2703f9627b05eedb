//! Member sessions: issued by authentication endpoints, checked by `authenticate` (opaque token or
//! JWT), listed, extended and revoked.
//!
//! A session token is 256 random bits shown once; only its SHA-256 is stored, so a session
//! reached through its JWT cannot give its token back (`session_token` is then "").
//! A session JWT lives five minutes and is verified with keys held in memory; `authenticate`
//! then always reads the session, so a revoked or expired session is refused at once. Only the
//! SDKs' local verification trusts a JWT by itself, as Stytch documents.

use crate::clock::Timestamp;
use crate::crypto::{random_token, sha256_hex};
use crate::error::{CoreError, CoreResult};
use crate::model::member::{MemberRecord, STATUS_DELETED};
use crate::model::organization::OrgRecord;
use crate::model::session::{AuthFactor, MemberSession, SessionKey, SessionRecord, SessionWithMember};
use crate::rbac::granting_roles;
use crate::service::{auth_flow, authz, members, organizations, Ctx};
use crate::token::jwt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub const JWT_LIFETIME_SECS: i64 = 300;
pub const DEFAULT_DURATION_MINUTES: i64 = 60;
const MIN_DURATION_MINUTES: i64 = 5;
const MAX_DURATION_MINUTES: i64 = 527_040;
const RESERVED_CLAIMS: &[&str] = &["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];
const STYTCH_SESSION_CLAIM: &str = "https://stytch.com/session";
const STYTCH_ORG_CLAIM: &str = "https://stytch.com/organization";
const MAX_CLAIMS_BYTES: usize = 4096;

pub fn check_duration(minutes: Option<i64>) -> CoreResult<Option<i64>> {
    match minutes {
        Some(m) if !(MIN_DURATION_MINUTES..=MAX_DURATION_MINUTES).contains(&m) => Err(CoreError::invalid(
            "invalid_session_duration_minutes",
            "session_duration_minutes must be between 5 and 527040.",
        )),
        other => Ok(other),
    }
}

/// Merges `update` into `claims`: a null value deletes a key, reserved JWT claims are ignored,
/// Stytch's namespaces are refused, and the result must stay within 4 KB.
pub fn merge_claims(claims: &mut Map<String, Value>, update: Option<&Value>) -> CoreResult<()> {
    let Some(update) = update.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let Value::Object(update) = update else {
        return Err(CoreError::argument("session_custom_claims", "must be a JSON object"));
    };
    let mut merged = claims.clone();
    for (k, v) in update {
        if RESERVED_CLAIMS.contains(&k.as_str()) {
            continue;
        }
        if k.starts_with("https://stytch.com/") {
            return Err(CoreError::invalid(
                "stytch_claims_in_custom_claims",
                format!("session_custom_claims may not set Stytch's claim '{k}'."),
            ));
        }
        if v.is_null() {
            merged.remove(k);
        } else {
            merged.insert(k.clone(), v.clone());
        }
    }
    if Value::Object(merged.clone()).to_string().len() > MAX_CLAIMS_BYTES {
        return Err(CoreError::invalid(
            "custom_claims_too_large",
            "session_custom_claims may not exceed 4 KB.",
        ));
    }
    *claims = merged;
    Ok(())
}

fn session_not_found() -> CoreError {
    CoreError::not_found("session_not_found", "Session not found, expired or revoked.")
}

fn bad_jwt() -> CoreError {
    CoreError::unauthorized(
        "invalid_session_jwt",
        "The session_jwt is not a valid JWT of this project.",
    )
}

/// Checks a session JWT's signature, issuer and audience (not its expiry: an expired JWT may be
/// exchanged for a fresh one while its session lives) and returns the claims.
pub async fn verify_jwt(ctx: &Ctx, project_id: &str, token: &str) -> CoreResult<Value> {
    // Stamp 0: whether a signature verifies does not depend on what was written since. Keyed by
    // the JWT's digest, like the session cache, so no bearer credential sits in the map.
    let key = (project_id.to_owned(), sha256_hex(token));
    ctx.verified_jwts
        .get_or_load(key, 0, || async {
            verify_jwt_signature(ctx, project_id, token).await.map(Some)
        })
        .await?
        .ok_or_else(bad_jwt)
}

async fn verify_jwt_signature(ctx: &Ctx, project_id: &str, token: &str) -> CoreResult<Value> {
    let parsed = jwt::parse(token).map_err(|e| match e {
        jwt::JwtError::Malformed => {
            CoreError::invalid("unable_to_parse_session_jwt", "The session_jwt could not be parsed.")
        }
        _ => bad_jwt(),
    })?;
    let Some(der) = ctx.keyring.public_key(project_id, &parsed.kid).await? else {
        return Err(bad_jwt());
    };
    // Verifying is a public-key operation (tens of microseconds): no need for the CPU pool.
    let claims = parsed.verify(&der).map_err(|_| bad_jwt())?;
    let iss_ok = claims.get("iss").and_then(Value::as_str) == Some(&format!("stytch.com/{project_id}"));
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == project_id,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(project_id)),
        _ => false,
    };
    if !iss_ok || !aud_ok {
        return Err(bad_jwt());
    }
    Ok(claims)
}

/// How the caller presented a session: the opaque token can be echoed back, a JWT cannot.
#[derive(Debug, Clone)]
pub enum Presented {
    Token(String),
    Jwt,
}

/// The live session named by a token or a JWT (at most one of them). An expired JWT is accepted
/// while its session lives (sessions.authenticate trades it for a fresh one).
pub async fn resolve(
    ctx: &Ctx,
    project_id: &str,
    token: Option<&str>,
    session_jwt: Option<&str>,
) -> CoreResult<Option<(SessionRecord, Presented)>> {
    resolve_with(ctx, project_id, token, session_jwt, false).await
}

/// Like `resolve`, but a JWT must also be unexpired: for member-session authorization headers,
/// where a JWT acts as a credential rather than as something to refresh.
pub async fn resolve_fresh(
    ctx: &Ctx,
    project_id: &str,
    token: Option<&str>,
    session_jwt: Option<&str>,
) -> CoreResult<Option<(SessionRecord, Presented)>> {
    resolve_with(ctx, project_id, token, session_jwt, true).await
}

/// The session a caller named, before it is read.
struct Named {
    key: SessionKey,
    presented: Presented,
    /// The member a presented JWT was issued to.
    jwt_sub: Option<String>,
}

/// Checks the arguments (at most one of token and JWT; a JWT must verify) and names the session.
async fn name(
    ctx: &Ctx,
    project_id: &str,
    token: Option<&str>,
    session_jwt: Option<&str>,
    fresh_jwt: bool,
) -> CoreResult<Option<Named>> {
    let token = token.filter(|t| !t.is_empty());
    let session_jwt = session_jwt.filter(|t| !t.is_empty());
    match (token, session_jwt) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(CoreError::invalid(
            "too_many_session_arguments",
            "Pass either session_token or session_jwt, not both.",
        )),
        (Some(t), None) => Ok(Some(Named {
            key: SessionKey::TokenHash(sha256_hex(t)),
            presented: Presented::Token(t.to_string()),
            jwt_sub: None,
        })),
        (None, Some(j)) => {
            let claims = verify_jwt(ctx, project_id, j).await?;
            if fresh_jwt
                && claims
                    .get("exp")
                    .and_then(Value::as_i64)
                    .is_none_or(|exp| exp <= Timestamp::now().unix_seconds())
            {
                return Err(bad_jwt());
            }
            let id = claims
                .get(STYTCH_SESSION_CLAIM)
                .and_then(|s| s.get("id"))
                .and_then(Value::as_str)
                .ok_or_else(bad_jwt)?;
            let sub = claims.get("sub").and_then(Value::as_str).ok_or_else(bad_jwt)?;
            Ok(Some(Named {
                key: SessionKey::Id(id.to_owned()),
                presented: Presented::Jwt,
                jwt_sub: Some(sub.to_owned()),
            }))
        }
    }
}

/// A named session is usable if it exists, lives, and belongs to the JWT's subject.
fn accept(named: &Named, found: Option<&SessionRecord>) -> CoreResult<()> {
    match found {
        Some(s) if named.jwt_sub.as_ref().is_some_and(|sub| *sub != s.member_id) => Err(bad_jwt()),
        Some(s) if s.is_live(Timestamp::now()) => Ok(()),
        _ => Err(session_not_found()),
    }
}

async fn resolve_with(
    ctx: &Ctx,
    project_id: &str,
    token: Option<&str>,
    session_jwt: Option<&str>,
    fresh_jwt: bool,
) -> CoreResult<Option<(SessionRecord, Presented)>> {
    let Some(named) = name(ctx, project_id, token, session_jwt, fresh_jwt).await? else {
        return Ok(None);
    };
    let found = match &named.key {
        SessionKey::TokenHash(h) => ctx.store.session_by_token_hash(project_id, h).await?,
        SessionKey::Id(id) => ctx.store.session_by_id(project_id, id).await?,
    };
    accept(&named, found.as_ref())?;
    Ok(found.map(|s| (s, named.presented)))
}

/// Like `resolve`, with the session's member read in the same query.
async fn resolve_with_member(
    ctx: &Ctx,
    project_id: &str,
    token: Option<&str>,
    session_jwt: Option<&str>,
) -> CoreResult<Option<(SessionWithMember, Presented)>> {
    let Some(named) = name(ctx, project_id, token, session_jwt, false).await? else {
        return Ok(None);
    };
    let found = ctx
        .sessions
        .get_or_load(
            (project_id.to_owned(), named.key.clone()),
            ctx.store.writes_seen(),
            || ctx.store.session_with_member(project_id, &named.key),
        )
        .await?;
    accept(&named, found.as_ref().map(|f| &f.session))?;
    Ok(found.map(|f| (f, named.presented)))
}

/// A session as the API returns it.
pub struct Issued {
    pub session: SessionRecord,
    pub session_token: String,
    pub session_jwt: String,
    pub roles: Vec<String>,
    pub organization_slug: String,
}

impl Issued {
    pub fn member_session(&self) -> MemberSession<'_> {
        view(&self.session, self.roles.clone(), &self.organization_slug)
    }
}

pub fn view<'a>(s: &'a SessionRecord, roles: Vec<String>, organization_slug: &'a str) -> MemberSession<'a> {
    MemberSession {
        member_session_id: &s.member_session_id,
        member_id: &s.member_id,
        started_at: s.started_at,
        last_accessed_at: s.last_accessed_at,
        expires_at: s.expires_at,
        authentication_factors: &s.factors,
        organization_id: &s.organization_id,
        roles,
        organization_slug,
        custom_claims: &s.custom_claims,
    }
}

/// The claims of a session JWT, laid out as jwt.md describes.
fn claims(s: &SessionRecord, roles: &[String], org_slug: &str, now: Timestamp) -> Value {
    let iat = now.unix_seconds();
    let mut c = json!({
        "iss": format!("stytch.com/{}", s.project_id),
        "aud": [s.project_id],
        "sub": s.member_id,
        "iat": iat,
        "nbf": iat,
        "exp": iat + JWT_LIFETIME_SECS,
        STYTCH_SESSION_CLAIM: {
            "id": s.member_session_id,
            "started_at": s.started_at,
            "last_accessed_at": s.last_accessed_at,
            "expires_at": s.expires_at,
            "attributes": {"ip_address": "", "user_agent": ""},
            "authentication_factors": s.factors,
            "roles": roles,
        },
        STYTCH_ORG_CLAIM: {"organization_id": s.organization_id, "slug": org_slug},
    });
    let obj = c.as_object_mut().expect("object literal");
    for (k, v) in &s.custom_claims {
        obj.entry(k.clone()).or_insert_with(|| v.clone());
    }
    c
}

async fn finish(
    ctx: &Ctx,
    session: SessionRecord,
    token: String,
    member: &MemberRecord,
    org: &OrgRecord,
) -> CoreResult<Issued> {
    let roles = member.role_ids(org);
    let jwt = ctx
        .keyring
        .sign(
            &session.project_id,
            claims(&session, &roles, &org.slug, Timestamp::now()),
        )
        .await?;
    Ok(Issued {
        session,
        session_token: token,
        session_jwt: jwt,
        roles,
        organization_slug: org.slug.clone(),
    })
}

/// How old a stored `last_accessed_at` may get before a plain session check rewrites it. Storing
/// it on every check made each check a write, and with many distinct sessions those writes
/// queue on SQLite's single writer (latch-bench at 2,000,000 sessions: 0.19 of the empty-database
/// rate). Within the interval the stored time lags what the last check reported.
pub const TOUCH_INTERVAL_SECS: i64 = 60;

/// Starts a session for `member` with the factors just proven, or adds them to the session the
/// caller presented (when it is the same member's; another member's session is ignored).
pub async fn issue(
    ctx: &Ctx,
    member: &MemberRecord,
    org: &OrgRecord,
    factors: Vec<AuthFactor>,
    existing: Option<(SessionRecord, Presented)>,
    duration_minutes: Option<i64>,
    custom_claims: Option<&Value>,
) -> CoreResult<Issued> {
    let duration = check_duration(duration_minutes)?;
    let now = Timestamp::now();
    if let Some((mut s, presented)) = existing.filter(|(s, _)| s.member_id == member.member_id) {
        // A check that changes nothing but the access time stores it only when the stored one
        // is TOUCH_INTERVAL_SECS old; the answer shows the current time either way.
        let touch_only = factors.is_empty() && custom_claims.is_none() && duration.is_none();
        let write = !touch_only || now.unix_seconds() - s.last_accessed_at.unix_seconds() >= TOUCH_INTERVAL_SECS;
        for f in factors {
            AuthFactor::merge_into(f, &mut s.factors);
        }
        merge_claims(&mut s.custom_claims, custom_claims)?;
        if let Some(d) = duration {
            s.expires_at = now.plus_minutes(d);
        }
        s.last_accessed_at = now;
        if touch_only && write {
            // Only the access time: a whole-row write here could undo a concurrent MFA step.
            ctx.store
                .touch_session(&s.project_id, &s.member_session_id, now)
                .await?;
        } else if write {
            ctx.store.update_session(&s).await?;
        }
        let token = match presented {
            Presented::Token(t) => t,
            Presented::Jwt => String::new(),
        };
        return finish(ctx, s, token, member, org).await;
    }
    let mut custom = Map::new();
    merge_claims(&mut custom, custom_claims)?;
    let token = random_token(32);
    let s = SessionRecord {
        project_id: member.project_id.clone(),
        member_session_id: format!("member-session-test-{}", uuid::Uuid::new_v4()),
        organization_id: org.organization_id.clone(),
        member_id: member.member_id.clone(),
        token_hash: sha256_hex(&token),
        started_at: now,
        last_accessed_at: now,
        expires_at: now.plus_minutes(duration.unwrap_or(DEFAULT_DURATION_MINUTES)),
        factors,
        custom_claims: custom,
    };
    ctx.store.insert_session(&s).await?;
    finish(ctx, s, token, member, org).await
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizationCheck {
    pub organization_id: String,
    pub resource_id: String,
    pub action: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub authorized: bool,
    pub granting_roles: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
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

/// The session's member and organization; a deleted member's sessions are dead.
async fn owner(ctx: &Ctx, s: &SessionRecord) -> CoreResult<(MemberRecord, OrgRecord)> {
    let member = ctx
        .store
        .member_by_id(&s.project_id, &s.member_id)
        .await?
        .filter(|m| m.status != STATUS_DELETED);
    let Some(member) = member else {
        return Err(session_not_found());
    };
    let org = organizations::get_cached(ctx, &s.project_id, &s.organization_id).await?;
    Ok((member, org))
}

pub async fn authenticate(ctx: &Ctx, project_id: &str, input: AuthenticateInput) -> CoreResult<Authenticated> {
    check_duration(input.session_duration_minutes)?;
    let Some((found, presented)) = resolve_with_member(
        ctx,
        project_id,
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?
    else {
        return Err(CoreError::invalid(
            "no_session_arguments",
            "Pass session_token or session_jwt.",
        ));
    };
    let SessionWithMember {
        session,
        member,
        member_has_retired_emails,
    } = found;
    // A deleted member's sessions are dead.
    if member.status == STATUS_DELETED {
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
        return Err(CoreError::forbidden(
            "session_authorization_tenancy_error",
            format!(
                "Subject organization ID {} does not match request organization ID {}.",
                session.organization_id, check.organization_id
            ),
        ));
    }
    let roles = authz::policy_roles(ctx, &org.project_id, &org.organization_id).await?;
    let granting = granting_roles(&roles, &member.role_ids(org), &check.resource_id, &check.action);
    if granting.is_empty() {
        return Err(CoreError::forbidden(
            "session_authorization_error",
            format!(
                "Permission denied for organization_id={} resource_id={} action={}.",
                check.organization_id, check.resource_id, check.action
            ),
        ));
    }
    Ok(Verdict {
        authorized: true,
        granting_roles: granting,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ExchangeInput {
    pub organization_id: String,
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
    project_id: &str,
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
        return Err(CoreError::invalid(
            "no_session_arguments",
            "Pass session_token or session_jwt.",
        ));
    };
    let (current, _) = owner(ctx, &session).await?;
    let target_org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let target = ctx
        .store
        .member_by_email(project_id, &target_org.organization_id, &current.email)
        .await?
        .ok_or_else(|| {
            CoreError::not_found(
                "member_not_found",
                "The session's email has no member in that organization.",
            )
        })?;
    let same = target.member_id == current.member_id;
    let factors = if same {
        vec![]
    } else {
        session
            .factors
            .iter()
            .filter(|f| auth_flow::proves_email(f, &target.email))
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

pub async fn list(ctx: &Ctx, project_id: &str, org_locator: &str, member_locator: &str) -> CoreResult<MemberSessions> {
    let v = members::get(ctx, project_id, org_locator, Some(member_locator), None).await?;
    let sessions = ctx
        .store
        .live_sessions(project_id, &v.member.member_id, Timestamp::now())
        .await?;
    Ok(MemberSessions {
        sessions,
        roles: v.member.role_ids(&v.organization),
        organization_slug: v.organization.slug,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct RevokeInput {
    pub member_session_id: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub member_id: Option<String>,
}

/// Revokes one session, or every session of a member. With member-session headers the actor needs
/// `revoke-sessions` on stytch.member, or on stytch.self for its own sessions.
pub async fn revoke(ctx: &Ctx, project_id: &str, input: RevokeInput, actor: Option<&authz::Actor>) -> CoreResult<()> {
    let given = [
        &input.member_session_id,
        &input.session_token,
        &input.session_jwt,
        &input.member_id,
    ]
    .iter()
    .filter(|v| v.as_deref().is_some_and(|s| !s.is_empty()))
    .count();
    if given == 0 {
        return Err(CoreError::invalid(
            "no_session_revoke_arguments",
            "Pass one of member_session_id, session_token, session_jwt or member_id.",
        ));
    }
    if given > 1 {
        return Err(CoreError::invalid(
            "too_many_session_revoke_arguments",
            "Pass only one of member_session_id, session_token, session_jwt or member_id.",
        ));
    }
    if let Some(member_id) = input.member_id.as_deref().filter(|s| !s.is_empty()) {
        let target = ctx
            .store
            .member_by_id(project_id, member_id)
            .await?
            .ok_or_else(CoreError::member_not_found)?;
        if let Some(a) = actor {
            a.require_on_member(&target, "revoke-sessions")?;
        }
        ctx.store.delete_member_sessions(project_id, &target.member_id).await?;
        return Ok(());
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
    if let Some(a) = actor {
        let target = ctx
            .store
            .member_by_id(project_id, &session.member_id)
            .await?
            .ok_or_else(session_not_found)?;
        a.require_on_member(&target, "revoke-sessions")?;
    }
    ctx.store.delete_session(project_id, &session.member_session_id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert!(check_duration(Some(4)).is_err());
        assert!(check_duration(Some(527_041)).is_err());
        assert_eq!(check_duration(Some(5)).unwrap(), Some(5));
        assert_eq!(check_duration(None).unwrap(), None);
    }

    #[test]
    fn claims_merge_rules() {
        let mut c = Map::new();
        merge_claims(&mut c, Some(&json!({"a": 1, "b": 2, "sub": "evil", "exp": 0}))).unwrap();
        assert_eq!(Value::Object(c.clone()), json!({"a": 1, "b": 2}));
        merge_claims(&mut c, Some(&json!({"a": null, "c": [1]}))).unwrap();
        assert_eq!(Value::Object(c.clone()), json!({"b": 2, "c": [1]}));
        assert!(merge_claims(&mut c, Some(&json!({"https://stytch.com/session": {}}))).is_err());
        assert!(merge_claims(&mut c, Some(&json!({"big": "x".repeat(5000)}))).is_err());
        assert!(merge_claims(&mut c, Some(&json!([1]))).is_err());
        // A refused update changes nothing.
        assert_eq!(Value::Object(c), json!({"b": 2, "c": [1]}));
    }
}
