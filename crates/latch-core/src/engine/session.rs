//! Member sessions, the engine half: a session named by its token or JWT is resolved (JWTs
//! verified with keys held in memory, signatures memoised), and a session is issued or extended
//! with its factors and claims. A session token is 256 random bits shown once; only its SHA-256 is
//! stored, so a session reached through its JWT cannot give its token back (`session_token` is
//! then ""). A session JWT lives five minutes; resolving always reads the session, so a revoked or
//! expired session is refused at once.

use crate::clock::Timestamp;
use crate::crypto::{random_token, sha256_hex};
use crate::engine::audit;
use crate::engine::grant::Grant;
use crate::engine::organizations;
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::ids::ProjectId;
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::organization::OrgRecord;
use crate::model::session::{AuthFactor, MemberSession, SessionKey, SessionRecord, SessionWithMember};
use crate::rules::session::{
    check_duration, merge_claims, DEFAULT_DURATION_MINUTES, JWT_LIFETIME_SECS, STYTCH_ORG_CLAIM, STYTCH_SESSION_CLAIM,
};
use crate::token::jwt;
use serde_json::{json, Map, Value};

pub(crate) fn session_not_found() -> CoreError {
    crate::error::catalogue::SESSION_NOT_FOUND.err()
}

fn bad_jwt() -> CoreError {
    crate::error::catalogue::INVALID_SESSION_JWT.err()
}

/// Checks a session JWT's signature, issuer and audience (not its expiry: an expired JWT may be
/// exchanged for a fresh one while its session lives) and returns the claims.
pub async fn verify_jwt(ctx: &Ctx, project_id: &ProjectId, token: &str) -> CoreResult<Value> {
    // Stamp 0: whether a signature verifies does not depend on what was written since. Keyed by
    // the JWT's digest, like the session cache, so no bearer credential sits in the map.
    let key = (project_id.to_owned(), sha256_hex(token));
    ctx.verified_jwts
        .get_or_load(key, 0, ctx.now(), || async {
            verify_jwt_signature(ctx, project_id, token).await.map(Some)
        })
        .await?
        .ok_or_else(bad_jwt)
}

async fn verify_jwt_signature(ctx: &Ctx, project_id: &ProjectId, token: &str) -> CoreResult<Value> {
    let parsed = jwt::parse(token).map_err(|e| match e {
        jwt::JwtError::Malformed => crate::error::catalogue::UNABLE_TO_PARSE_SESSION_JWT.err(),
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
    project_id: &ProjectId,
    token: Option<&str>,
    session_jwt: Option<&str>,
) -> CoreResult<Option<(SessionRecord, Presented)>> {
    resolve_with(ctx, project_id, token, session_jwt, false).await
}

/// Like `resolve`, but a JWT must also be unexpired: for member-session authorization headers,
/// where a JWT acts as a credential rather than as something to refresh.
pub async fn resolve_fresh(
    ctx: &Ctx,
    project_id: &ProjectId,
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
    project_id: &ProjectId,
    token: Option<&str>,
    session_jwt: Option<&str>,
    fresh_jwt: bool,
) -> CoreResult<Option<Named>> {
    let token = token.filter(|t| !t.is_empty());
    let session_jwt = session_jwt.filter(|t| !t.is_empty());
    match (token, session_jwt) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(crate::error::catalogue::TOO_MANY_SESSION_ARGUMENTS.err()),
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
                    .is_none_or(|exp| exp <= ctx.now().unix_seconds())
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
fn accept(named: &Named, found: Option<&SessionRecord>, now: Timestamp) -> CoreResult<()> {
    match found {
        Some(s) if named.jwt_sub.as_ref().is_some_and(|sub| *sub != s.member_id) => Err(bad_jwt()),
        Some(s) if s.is_live(now) => Ok(()),
        _ => Err(session_not_found()),
    }
}

async fn resolve_with(
    ctx: &Ctx,
    project_id: &ProjectId,
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
    accept(&named, found.as_ref(), ctx.now())?;
    Ok(found.map(|s| (s, named.presented)))
}

/// Like `resolve`, with the session's member read in the same query.
pub(crate) async fn resolve_with_member(
    ctx: &Ctx,
    project_id: &ProjectId,
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
            ctx.now(),
            || ctx.store.session_with_member(project_id, &named.key),
        )
        .await?;
    accept(&named, found.as_ref().map(|f| &f.session), ctx.now())?;
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
    let roles = member.session_role_ids(org, &session.factors);
    let jwt = ctx
        .keyring
        .sign(&session.project_id, claims(&session, &roles, &org.slug, ctx.now()))
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
    let now = ctx.now();
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
        audit::session(&s);
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
    audit::session(&s);
    let methods: Vec<&str> = s.factors.iter().map(|f| f.delivery_method.as_str()).collect();
    audit::fact(
        "session.created",
        audit::Target::session(&s),
        &[
            ("expires_at", json!(s.expires_at)),
            ("authentication_methods", json!(methods)),
        ],
    );
    finish(ctx, s, token, member, org).await
}

/// The session's member and organization; a deleted member's sessions are dead.
pub(crate) async fn owner(ctx: &Ctx, s: &SessionRecord) -> CoreResult<(MemberRecord, OrgRecord)> {
    let member = ctx
        .store
        .member_by_id(&s.project_id, &s.member_id)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted);
    let Some(member) = member else {
        return Err(session_not_found());
    };
    let org = organizations::get_cached(ctx, &s.project_id, &s.organization_id).await?;
    Ok((member, org))
}

/// Ends one session.
pub async fn revoke(ctx: &Ctx, _: &Grant, s: &SessionRecord) -> CoreResult<()> {
    ctx.store.delete_session(&s.project_id, &s.member_session_id).await?;
    audit::session(s);
    audit::fact("session.revoked", audit::Target::session(s), &[]);
    Ok(())
}

/// Ends every session of the member.
pub async fn revoke_all(ctx: &Ctx, _: &Grant, m: &MemberRecord) -> CoreResult<()> {
    let ended = ctx.store.delete_member_sessions(&m.project_id, &m.member_id).await?;
    audit::member(m);
    audit::fact(
        "session.revoked",
        audit::Target::member(m),
        &[("all_of_member", json!(true)), ("count", json!(ended))],
    );
    Ok(())
}
