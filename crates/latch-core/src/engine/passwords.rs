//! Password checks shared by every password flow: the strength policy and breach sources, storing
//! a new password (on every membership with cross-organization passwords), and verifying one
//! under the failed-attempt limits (counted before the hash is checked, per email address and per
//! end-user address). Authentication costs the same whether or not the account exists (a dummy
//! argon2id hash is verified).

use crate::clock::Timestamp;
use crate::engine::address_guard;
use crate::engine::address_guard::ClientIp;
use crate::engine::attempts::Limit;
use crate::engine::audit;
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::ids::{OrganizationId, ProjectId};
use crate::model::credentials::PasswordRecord;
use crate::model::member::{MemberRecord, MemberStatus};
use crate::password::policy::{self, StrengthReport};
use crate::password::PasswordHash;
use crate::project_settings::Lockout;

const FAILURE_SCOPE: &str = "password";

/// Refuses a new password that fails the strength policy (or is a known leaked one).
pub async fn check_new_password(ctx: &Ctx, project_id: &ProjectId, password: &str, email: &str) -> CoreResult<()> {
    let cfg = ctx.project_config(project_id).await?;
    let report = evaluate(
        ctx,
        project_id,
        password,
        Some(email),
        cfg.settings.password.breach_detection_on_create,
    )
    .await?;
    if report.breached_password {
        return Err(crate::error::catalogue::BREACHED_PASSWORD.err());
    }
    if !report.valid_password {
        return Err(crate::error::catalogue::WEAK_PASSWORD.err());
    }
    Ok(())
}

/// Hashes `password` with argon2id (on the CPU pool) and stores it as the member's password; with
/// cross-organization passwords, as the password of every membership of the same email.
pub async fn set_password(ctx: &Ctx, member: &mut MemberRecord, password: &str, verify_email: bool) -> CoreResult<()> {
    let params = ctx.settings.argon2;
    let password = password.to_string();
    let hash = ctx
        .cpu
        .run(move || params.hash(&password))
        .await?
        .map_err(CoreError::internal)?;
    store_password(ctx, member, &hash, verify_email).await?;
    if ctx
        .project_config(&member.project_id)
        .await?
        .settings
        .cross_org_passwords
    {
        for mut other in ctx.store.members_with_email(&member.project_id, &member.email).await? {
            if other.member_id != member.member_id {
                // The same address: a proof of it (a reset link) verifies every membership.
                store_password(ctx, &mut other, &hash, verify_email).await?;
            }
        }
    }
    Ok(())
}

pub async fn cross_org_enabled(ctx: &Ctx, project_id: &ProjectId) -> CoreResult<()> {
    if !ctx.project_config(project_id).await?.settings.cross_org_passwords {
        return Err(crate::error::catalogue::CROSS_ORG_PASSWORDS_NOT_ENABLED.err());
    }
    Ok(())
}

/// Verifies the member's current password with the same lockout rules as `authenticate`.
/// Checks `password` for the member behind `email` in the organization (`org_id`; with
/// cross-organization passwords any membership's hash answers for all), under the failed-attempt
/// limits of `Throttle`.
pub async fn verify(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_id: &OrganizationId,
    email: &str,
    password: &str,
    client: Option<&ClientIp>,
) -> CoreResult<Verified> {
    Throttle::new(ctx, project_id, org_id, email)
        .await?
        .verify(ctx, password, client)
        .await
}

pub async fn verify_current(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_id: &OrganizationId,
    email: &str,
    password: &str,
    client: Option<&ClientIp>,
) -> CoreResult<MemberRecord> {
    match verify(ctx, project_id, org_id, email, password, client).await? {
        Verified::Yes(v) => Ok(v.member),
        Verified::No => Err(bad_credentials()),
    }
}

pub enum Verified {
    Yes(Box<VerifiedMember>),
    No,
}

pub struct VerifiedMember {
    pub member: MemberRecord,
    pub stored: PasswordRecord,
    pub hash: PasswordHash,
}

/// Failed-attempt limiting for one email address: in one organization, or across the project
/// with cross-organization passwords (one shared password gets one allowance, not one per
/// membership). Every attempt is counted before the hash is checked (`service::attempts`), so a
/// concurrent burst gets no more guesses than a sequence; the one that reaches the limit blocks
/// the address, and locks its member, for `lockout_minutes`. Known and unknown addresses are
/// treated alike, and an unknown one still costs an argon2id verification, so neither timing nor
/// `Retry-After` tells them apart.
struct Throttle<'a> {
    project_id: &'a ProjectId,
    org_id: &'a OrganizationId,
    email: &'a str,
    /// The project's lockout and whether passwords are shared across organizations.
    lockout: Lockout,
    cross_org: bool,
}

const BLOCK_SCOPE: &str = "password_block";

impl<'a> Throttle<'a> {
    async fn new(ctx: &Ctx, project_id: &'a ProjectId, org_id: &'a OrganizationId, email: &'a str) -> CoreResult<Self> {
        let cfg = ctx.project_config(project_id).await?;
        Ok(Self {
            project_id,
            org_id,
            email,
            lockout: cfg.settings.lockout,
            cross_org: cfg.settings.cross_org_passwords,
        })
    }

    fn key(&self) -> String {
        let scope = if self.cross_org { "*" } else { self.org_id };
        format!("{}:{scope}:{}", self.project_id, self.email)
    }

    fn limit(&self) -> Limit {
        Limit {
            scope: FAILURE_SCOPE,
            max: self.lockout.threshold,
            window_minutes: self.lockout.window_minutes,
        }
    }

    async fn verify(&self, ctx: &Ctx, password: &str, client: Option<&ClientIp>) -> CoreResult<Verified> {
        let now = ctx.now();
        let key = self.key();
        if let Some(until) = ctx.store.counter_window(BLOCK_SCOPE, &key).await?.filter(|t| *t > now) {
            audit::detail("cause", "address_blocked");
            // Whose sign-in was refused: one indexed read, only on this refused path.
            if let Some(m) = ctx
                .store
                .member_by_email(self.project_id, self.org_id, self.email)
                .await?
            {
                audit::member(&m);
            }
            return Err(too_many(((until.millis() - now.millis()) / 1000).max(1) as u64));
        }
        let from_address = address_guard::reserve(ctx, client, now)
            .await
            .inspect_err(|_| audit::detail("cause", "client_address_limited"))?;
        let limit = self.limit();
        let attempt = limit
            .reserve(ctx, key.clone(), now, too_many)
            .await
            .inspect_err(|_| audit::detail("cause", "too_many_failures"))?;
        let member = ctx
            .store
            .member_by_email(self.project_id, self.org_id, self.email)
            .await?
            .filter(|m| m.status != MemberStatus::Deleted);
        if let Some(m) = &member {
            audit::member(m);
        }
        if let Some(until) = member.as_ref().and_then(|m| m.lock_expires_at).filter(|t| *t > now) {
            audit::detail("cause", "member_locked");
            return Err(too_many(((until.millis() - now.millis()) / 1000).max(1) as u64));
        }
        let stored = match &member {
            Some(m) => ctx.store.password_of(self.project_id, &m.member_id).await?,
            None => None,
        };
        let hash = match stored.as_ref().and_then(|p| PasswordHash::from_json(&p.hash)) {
            Some(h) => h,
            None => ctx.dummy_hash().await?,
        };
        let (candidate, check) = (password.to_string(), hash.clone());
        let matched = ctx.cpu.run(move || check.verify(&candidate)).await? && stored.is_some();
        match (&member, &stored, matched) {
            (None, _, _) => audit::detail("cause", "unknown_member"),
            (Some(_), None, _) => audit::detail("cause", "no_password"),
            (Some(_), Some(_), false) => audit::detail("cause", "wrong_password"),
            (Some(_), Some(_), true) => {}
        }
        match (member, stored, matched) {
            (Some(member), Some(stored), true) => {
                attempt.clear(ctx).await?;
                address_guard::succeeded(ctx, from_address).await?;
                let member = unlock_if_expired(ctx, member).await?;
                Ok(Verified::Yes(Box::new(VerifiedMember { member, stored, hash })))
            }
            _ => {
                if attempt.is_last(&limit) {
                    self.block(ctx, &key, now).await?;
                }
                address_guard::failed(ctx, client, now).await?;
                Ok(Verified::No)
            }
        }
    }

    /// The address used up its attempts: refuse it, and lock its member(s), for `lockout_minutes`.
    async fn block(&self, ctx: &Ctx, key: &str, now: Timestamp) -> CoreResult<()> {
        let until = Timestamp(now.millis() + self.lockout.ttl_secs * 1000);
        // A block row keeps its end time as its window start: a fresh row for (scope, key).
        ctx.store.clear_attempts(BLOCK_SCOPE, key).await?;
        ctx.store.bump_attempts(BLOCK_SCOPE, key, until, until).await?;
        // The failure count is left to its window: cleared here, a request racing this one
        // could start counting from zero before the block row is visible.
        let members = if self.cross_org {
            ctx.store.members_with_email(self.project_id, self.email).await?
        } else {
            ctx.store
                .member_by_email(self.project_id, self.org_id, self.email)
                .await?
                .into_iter()
                .collect()
        };
        for m in members {
            lock_member(ctx, m, now, until).await?;
        }
        Ok(())
    }
}

/// Measures a password under the policy and, when `detect_breach`, against every breach source.
/// zxcvbn and the corpus run on the CPU pool; the range API is awaited.
pub async fn evaluate(
    ctx: &Ctx,
    project_id: &ProjectId,
    password: &str,
    email: Option<&str>,
    detect_breach: bool,
) -> CoreResult<StrengthReport> {
    let configured = ctx.project_config(project_id).await?.settings.password;
    let mut policy = configured;
    policy.breach_detection_on_create = detect_breach;
    let (pw, em) = (password.to_string(), email.map(str::to_string));
    let corpus = ctx.breach.corpus.clone();
    let mut report = ctx
        .cpu
        .run(move || {
            let mut r = policy::check(&policy, &pw, em.as_deref());
            if detect_breach && !r.breached_password {
                if let Some(c) = corpus {
                    r.breached_password = c.contains_password(&pw).unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "breach corpus unreadable");
                        false
                    });
                }
            }
            r
        })
        .await?;
    if detect_breach && !report.breached_password {
        if let Some(api) = &ctx.breach.range_api {
            report.breached_password = api.is_pwned(password).await?;
        }
    }
    if report.breached_password {
        report.valid_password = false;
    }
    report.breach_detection_on_create = configured.breach_detection_on_create;
    Ok(report)
}

fn new_password_record(member: &MemberRecord, hash: &PasswordHash, now: Timestamp) -> PasswordRecord {
    PasswordRecord {
        member_password_id: format!("member-password-test-{}", uuid::Uuid::new_v4()),
        project_id: member.project_id.clone(),
        member_id: member.member_id.clone(),
        hash: hash.to_json(),
        require_reset: false,
        created_at: now,
        updated_at: now,
    }
}

/// Stores `hash` as the member's password; a password proves nothing about the email, but
/// migrate is documented to mark it verified (the caller attests it).
pub async fn store_password(
    ctx: &Ctx,
    member: &mut MemberRecord,
    hash: &PasswordHash,
    verify_email: bool,
) -> CoreResult<()> {
    let record = new_password_record(member, hash, ctx.now());
    member.member_password_id = record.member_password_id.clone();
    if verify_email {
        member.email_verified = true;
    }
    member.updated_at = ctx.now();
    ctx.store.save_password(member, &record).await?;
    Ok(())
}

pub fn bad_credentials() -> CoreError {
    crate::error::catalogue::UNAUTHORIZED_CREDENTIALS.err()
}

fn too_many(retry_after_secs: u64) -> CoreError {
    crate::error::catalogue::TOO_MANY_REQUESTS.retry_after("failed attempts; or reset the password", retry_after_secs)
}

pub fn reset_required() -> CoreError {
    crate::error::catalogue::MEMBER_RESET_PASSWORD.err()
}

/// Locks the member for the configured time: only the lock fields are written, so a concurrent
/// member update is neither lost nor able to undo the lock.
async fn lock_member(ctx: &Ctx, m: MemberRecord, now: Timestamp, until: Timestamp) -> CoreResult<()> {
    ctx.store.lock_member(&m.project_id, &m.member_id, now, until).await?;
    audit::fact(
        "member.locked",
        audit::Target::member(&m),
        &[
            ("cause", "password_failures".into()),
            ("lock_expires_at", serde_json::json!(until)),
        ],
    );
    tracing::warn!(member_id = %m.member_id, "member locked after repeated password failures");
    Ok(())
}

/// A member whose lock has run out proves its password: the lock is cleared (so `is_locked`
/// history ends here) and the unlock recorded, once.
async fn unlock_if_expired(ctx: &Ctx, mut m: MemberRecord) -> CoreResult<MemberRecord> {
    if m.lock_created_at.is_none() && m.lock_expires_at.is_none() {
        return Ok(m);
    }
    crate::store::retry::modify_member(ctx.store.as_ref(), &mut m, |r| {
        r.lock_created_at = None;
        r.lock_expires_at = None;
    })
    .await?;
    audit::fact(
        "member.unlocked",
        audit::Target::member(&m),
        &[("cause", "lock_expired_and_password_proven".into())],
    );
    Ok(m)
}
