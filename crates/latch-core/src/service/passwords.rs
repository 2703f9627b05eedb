//! Password use cases: strength check, migrate (import a hash from another system), authenticate.
//!
//! Authentication costs the same whether or not the account exists (a dummy argon2id hash is
//! verified), failures are counted per email address in the database (so every node sees them),
//! and the member is locked once the limit is reached; a locked member is refused before the
//! password is even checked, so the lock cannot be used as an oracle.

use crate::clock::Timestamp;
use crate::error::{CoreError, CoreResult};
use crate::model::credentials::PasswordRecord;
use crate::model::member::{MemberRecord, STATUS_DELETED};
use crate::model::session::AuthFactor;
use crate::password::imported::{self, HashConfigs};
use crate::password::policy::{self, StrengthReport};
use crate::password::{GivenPassword, PasswordHash};
use crate::service::address_guard::{self, ClientIp};
use crate::service::attempts::Limit;
use crate::service::auth_flow::{self, Outcome, PrimaryAuth};
use crate::service::members::{self, MemberInput, MemberView};
use crate::service::{organizations, sessions, Ctx};
use crate::store::retry::modify_member;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

const FAILURE_SCOPE: &str = "password";

/// Refuses a new password that fails the strength policy (or is a known leaked one).
pub async fn check_new_password(ctx: &Ctx, password: &str, email: &str) -> CoreResult<()> {
    let report = evaluate(
        ctx,
        password,
        Some(email),
        ctx.settings.password.breach_detection_on_create,
    )
    .await?;
    if report.breached_password {
        return Err(CoreError::invalid(
            "breached_password",
            "This password appears in breach data; choose another one.",
        ));
    }
    if !report.valid_password {
        return Err(CoreError::invalid(
            "weak_password",
            "The password does not meet the strength policy; see passwords.strength_check.",
        ));
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
    if ctx.settings.cross_org_passwords {
        for mut other in ctx.store.members_with_email(&member.project_id, &member.email).await? {
            if other.member_id != member.member_id {
                // The same address: a proof of it (a reset link) verifies every membership.
                store_password(ctx, &mut other, &hash, verify_email).await?;
            }
        }
    }
    Ok(())
}

pub fn cross_org_enabled(ctx: &Ctx) -> CoreResult<()> {
    if !ctx.settings.cross_org_passwords {
        return Err(CoreError::invalid(
            "cross_org_passwords_not_enabled",
            "Cross-organization passwords are not enabled for this project (setting cross_org_passwords).",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct DiscoveryAuthenticateInput {
    pub email_address: String,
    pub password: GivenPassword,
}

/// Cross-org login: the shared password of `email`, then the organizations it can enter.
pub async fn discovery_authenticate(
    ctx: &Ctx,
    project_id: &str,
    input: DiscoveryAuthenticateInput,
    client: Option<&ClientIp>,
) -> CoreResult<crate::service::discovery::DiscoveryResult> {
    cross_org_enabled(ctx)?;
    let email = validate::normalize_email(&input.email_address)?;
    let members = ctx.store.members_with_email(project_id, &email).await?;
    // Every membership holds the same hash; any one with a password answers for all.
    let mut with_password = None;
    for m in &members {
        if ctx.store.password_of(project_id, &m.member_id).await?.is_some() {
            with_password = Some(m.organization_id.clone());
            break;
        }
    }
    let org_id = with_password.unwrap_or_else(|| "-".into());
    let verified = Throttle::new(project_id, &org_id, &email)
        .verify(ctx, &input.password, client)
        .await?;
    let Verified::Yes(v) = verified else {
        return Err(bad_credentials());
    };
    if v.stored.require_reset {
        return Err(reset_required());
    }
    let policy = &ctx.settings.password;
    if policy.breach_detection_on_authenticate
        && evaluate(ctx, &input.password, Some(&email), true)
            .await?
            .breached_password
    {
        return Err(reset_required());
    }
    crate::service::discovery::with_factors(ctx, project_id, &email, vec![AuthFactor::password(Timestamp::now())]).await
}

/// Verifies the member's current password with the same lockout rules as `authenticate`.
pub async fn verify_current(
    ctx: &Ctx,
    project_id: &str,
    org_id: &str,
    email: &str,
    password: &str,
    client: Option<&ClientIp>,
) -> CoreResult<MemberRecord> {
    match Throttle::new(project_id, org_id, email)
        .verify(ctx, password, client)
        .await?
    {
        Verified::Yes(v) => Ok(v.member),
        Verified::No => Err(bad_credentials()),
    }
}

enum Verified {
    Yes(Box<VerifiedMember>),
    No,
}

struct VerifiedMember {
    member: MemberRecord,
    stored: PasswordRecord,
    hash: PasswordHash,
}

/// Failed-attempt limiting for one email address: in one organization, or across the project
/// with cross-organization passwords (one shared password gets one allowance, not one per
/// membership). Every attempt is counted before the hash is checked (`service::attempts`), so a
/// concurrent burst gets no more guesses than a sequence; the one that reaches the limit blocks
/// the address, and locks its member, for `lockout_minutes`. Known and unknown addresses are
/// treated alike, and an unknown one still costs an argon2id verification, so neither timing nor
/// `Retry-After` tells them apart.
struct Throttle<'a> {
    project_id: &'a str,
    org_id: &'a str,
    email: &'a str,
}

const BLOCK_SCOPE: &str = "password_block";

impl<'a> Throttle<'a> {
    fn new(project_id: &'a str, org_id: &'a str, email: &'a str) -> Self {
        Self {
            project_id,
            org_id,
            email,
        }
    }

    fn key(&self, ctx: &Ctx) -> String {
        let scope = if ctx.settings.cross_org_passwords {
            "*"
        } else {
            self.org_id
        };
        format!("{}:{scope}:{}", self.project_id, self.email)
    }

    fn limit(ctx: &Ctx) -> Limit {
        Limit {
            scope: FAILURE_SCOPE,
            max: ctx.settings.limits.password_failures,
            window_minutes: ctx.settings.limits.failure_window_minutes,
        }
    }

    async fn verify(&self, ctx: &Ctx, password: &str, client: Option<&ClientIp>) -> CoreResult<Verified> {
        let now = Timestamp::now();
        let key = self.key(ctx);
        if let Some(until) = ctx.store.counter_window(BLOCK_SCOPE, &key).await?.filter(|t| *t > now) {
            return Err(too_many(((until.millis() - now.millis()) / 1000).max(1) as u64));
        }
        let from_address = address_guard::reserve(ctx, client, now).await?;
        let limit = Self::limit(ctx);
        let attempt = limit.reserve(ctx, key.clone(), now, too_many).await?;
        let member = ctx
            .store
            .member_by_email(self.project_id, self.org_id, self.email)
            .await?
            .filter(|m| m.status != STATUS_DELETED);
        if let Some(until) = member.as_ref().and_then(|m| m.lock_expires_at).filter(|t| *t > now) {
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
        match (member, stored, matched) {
            (Some(member), Some(stored), true) => {
                attempt.clear(ctx).await?;
                address_guard::succeeded(ctx, from_address).await?;
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
        let until = now.plus_minutes(ctx.settings.limits.lockout_minutes);
        // A block row keeps its end time as its window start: a fresh row for (scope, key).
        ctx.store.clear_attempts(BLOCK_SCOPE, key).await?;
        ctx.store.bump_attempts(BLOCK_SCOPE, key, until, until).await?;
        // The failure count is left to its window: cleared here, a request racing this one
        // could start counting from zero before the block row is visible.
        let members = if ctx.settings.cross_org_passwords {
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
    password: &str,
    email: Option<&str>,
    detect_breach: bool,
) -> CoreResult<StrengthReport> {
    let mut policy = ctx.settings.password;
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
    report.breach_detection_on_create = ctx.settings.password.breach_detection_on_create;
    Ok(report)
}

pub async fn strength_check(ctx: &Ctx, password: &str, email: Option<&str>) -> CoreResult<StrengthReport> {
    evaluate(ctx, password, email, ctx.settings.password.breach_detection_on_create).await
}

#[derive(Debug, Deserialize)]
pub struct MigrateInput {
    pub email_address: String,
    pub hash: String,
    pub hash_type: String,
    pub organization_id: String,
    #[serde(flatten)]
    pub configs: HashConfigs,
    pub name: Option<String>,
    pub trusted_metadata: Option<Value>,
    pub untrusted_metadata: Option<Value>,
    pub roles: Option<Vec<String>>,
    pub preserve_existing_sessions: Option<bool>,
    pub mfa_phone_number: Option<String>,
    pub set_phone_number_verified: Option<bool>,
    pub external_id: Option<String>,
}

fn new_password_record(member: &MemberRecord, hash: &PasswordHash) -> PasswordRecord {
    let now = Timestamp::now();
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
async fn store_password(
    ctx: &Ctx,
    member: &mut MemberRecord,
    hash: &PasswordHash,
    verify_email: bool,
) -> CoreResult<()> {
    let record = new_password_record(member, hash);
    member.member_password_id = record.member_password_id.clone();
    if verify_email {
        member.email_verified = true;
    }
    member.updated_at = Timestamp::now();
    ctx.store.save_password(member, &record).await?;
    Ok(())
}

pub async fn migrate(ctx: &Ctx, project_id: &str, input: MigrateInput) -> CoreResult<(MemberView, bool)> {
    // Everything that can be refused is checked before anything is written.
    let hash = imported::parse(&input.hash_type, input.hash.trim(), &input.configs)?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let existing = ctx
        .store
        .member_by_email(project_id, &org.organization_id, &email)
        .await?;
    let created = existing.is_none();
    let view = match existing {
        None => {
            let create = MemberInput {
                email_address: Some(email),
                name: input.name,
                trusted_metadata: input.trusted_metadata,
                untrusted_metadata: input.untrusted_metadata,
                mfa_phone_number: input.mfa_phone_number,
                roles: input.roles,
                external_id: input.external_id,
                ..Default::default()
            };
            members::create(ctx, project_id, &org.organization_id, create, None).await?
        }
        Some(m) => {
            let phone = input
                .mfa_phone_number
                .filter(|p| m.mfa_phone_number.is_empty() || *p != m.mfa_phone_number);
            let update = MemberInput {
                trusted_metadata: input.trusted_metadata,
                untrusted_metadata: input.untrusted_metadata,
                mfa_phone_number: phone,
                roles: input.roles,
                preserve_existing_sessions: input.preserve_existing_sessions,
                ..Default::default()
            };
            members::update(ctx, project_id, &org.organization_id, &m.member_id, update, None).await?
        }
    };
    let mut member = view.member;
    if input.set_phone_number_verified == Some(true) && !member.mfa_phone_number.is_empty() {
        modify_member(ctx.store.as_ref(), &mut member, |m| m.mfa_phone_verified = true).await?;
    }
    store_password(ctx, &mut member, &hash, true).await?;
    Ok((MemberView::load(ctx, member, view.organization).await?, created))
}

#[derive(Debug, Deserialize)]
pub struct AuthenticateInput {
    pub organization_id: String,
    pub email_address: String,
    pub password: GivenPassword,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub intermediate_session_token: Option<String>,
    pub telemetry_id: Option<String>,
}

fn bad_credentials() -> CoreError {
    CoreError::unauthorized(
        "unauthorized_credentials",
        "The email address or password is incorrect.",
    )
}

fn too_many(retry_after_secs: u64) -> CoreError {
    CoreError::RateLimited {
        fault: crate::error::Fault {
            error_type: "too_many_requests",
            message: "Too many failed attempts. Try again later or reset the password.".into(),
        },
        retry_after_secs,
    }
}

fn reset_required() -> CoreError {
    CoreError::invalid(
        "member_reset_password",
        "The member must reset the password before logging in with it again.",
    )
}

pub async fn authenticate(
    ctx: &Ctx,
    project_id: &str,
    input: AuthenticateInput,
    client: Option<&ClientIp>,
) -> CoreResult<(MemberView, Outcome)> {
    sessions::check_duration(input.session_duration_minutes)?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let throttle = Throttle::new(project_id, &org.organization_id, &email);
    let (member, stored, hash) = match throttle.verify(ctx, &input.password, client).await? {
        Verified::Yes(v) => (v.member, v.stored, v.hash),
        Verified::No => return Err(bad_credentials()),
    };
    let mut member = member;
    if stored.require_reset {
        return Err(reset_required());
    }
    let policy = &ctx.settings.password;
    if policy.breach_detection_on_authenticate || policy.validate_on_authenticate {
        let report = evaluate(
            ctx,
            &input.password,
            Some(&email),
            policy.breach_detection_on_authenticate,
        )
        .await?;
        let breached = policy.breach_detection_on_authenticate && report.breached_password;
        let weak = policy.validate_on_authenticate && !report.valid_password;
        if breached || weak {
            return Err(reset_required());
        }
    }
    if hash.needs_upgrade(&ctx.settings.argon2) {
        let params = ctx.settings.argon2;
        let password = input.password.clone();
        let upgraded = ctx
            .cpu
            .run(move || params.hash(&password))
            .await?
            .map_err(CoreError::internal)?;
        let mut record = stored.clone();
        record.hash = upgraded.to_json();
        record.updated_at = Timestamp::now();
        ctx.store.save_password(&mut member, &record).await?;
    }
    member.lock_created_at = None;
    member.lock_expires_at = None;
    let session = sessions::resolve(
        ctx,
        project_id,
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?;
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org: &org,
            factors: vec![AuthFactor::password(Timestamp::now())],
            session,
            intermediate_session_token: input.intermediate_session_token.as_deref(),
            session_duration_minutes: input.session_duration_minutes,
            session_custom_claims: input.session_custom_claims.as_ref(),
            locale: input.locale.as_deref(),
        },
    )
    .await?;
    Ok((MemberView::load(ctx, member, org).await?, outcome))
}

/// Locks the member for the configured time: only the lock fields are written, so a concurrent
/// member update is neither lost nor able to undo the lock.
async fn lock_member(ctx: &Ctx, m: MemberRecord, now: Timestamp, until: Timestamp) -> CoreResult<()> {
    ctx.store.lock_member(&m.project_id, &m.member_id, now, until).await?;
    tracing::warn!(member_id = %m.member_id, "member locked after repeated password failures");
    Ok(())
}
