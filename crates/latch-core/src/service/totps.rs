//! TOTP (RFC 6238: SHA-1, six digits, 30-second steps, one step of clock skew either way) and
//! recovery codes. A registration is pending until its first code is accepted; a code's time
//! step can be used once (a conditional update makes that hold across nodes). Recovery codes are
//! checked against digests and kept sealed beside them (the store seals them under the KEK), so
//! `get` lists the remaining ones whole, as Stytch does.

use crate::clock::Timestamp;
use crate::crypto::{constant_time_eq, keyed_digest_hex, sha256_hex};
use crate::engine::mfa::{finish_mfa, guard, mfa_tokens};
use crate::engine::{members, mfa, organizations, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::credentials::{RecoveryCodeRecord, TotpRecord};
use crate::model::member::MemberRecord;
use crate::model::session::AuthFactor;
use crate::rules::args::SessionArgs;
use crate::rules::factors::mfa_method;
use crate::rules::requirements;
use crate::rules::requirements::parse_enrollment;
use crate::rules::session::check_duration;
use crate::store::retry::modify_member;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::Deserialize;
use serde_json::Value;
use totp_rs::{Algorithm, Secret, TOTP};

pub use crate::engine::members::MemberView;
pub use crate::engine::session::Issued;

const STEP_SECS: i64 = 30;
const RECOVERY_CODES: usize = 10;
fn totp(secret: &[u8], issuer: &str, account: &str) -> TOTP {
    // Issuers may not contain ':' in otpauth URLs.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS as u64,
        secret.to_vec(),
        Some(issuer.replace(':', " ")),
        account.to_string(),
    )
}

fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    Secret::Encoded(secret.trim().replace(' ', "").to_uppercase())
        .to_bytes()
        .ok()
        .filter(|b| b.len() >= 10)
}

/// `xxxx-xxxx-xxxx` from a 32-letter alphabet: 60 bits.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12])
}

fn normalize_code(code: &str) -> String {
    code.trim().to_lowercase().replace(['-', ' '], "")
}

/// Marks a recovery-code digest keyed by the KEK-derived code key (`recovery_digest`); digests
/// without it are plain SHA-256 from before, still accepted for the codes they belong to.
const KEYED: &str = "k1:";

/// A recovery code's digest: keyed, and salted with its id, so a stolen table cannot be searched
/// for all its 60-bit codes at once.
fn recovery_digest(key: &[u8; 32], code_id: &str, normalized: &str) -> String {
    format!("{KEYED}{}", keyed_digest_hex(key, &format!("{code_id}:{normalized}")))
}

/// Whether `normalized` is the code stored as `c`.
fn is_recovery_code(ctx: &Ctx, c: &RecoveryCodeRecord, normalized: &str) -> bool {
    match c.code_hash.strip_prefix(KEYED) {
        Some(_) => ctx.code_keys.iter().fold(false, |found, key| {
            found | constant_time_eq(&recovery_digest(key, &c.code_id, normalized), &c.code_hash)
        }),
        None => constant_time_eq(&sha256_hex(normalized), &c.code_hash),
    }
}

fn recovery_records(ctx: &Ctx, member: &MemberRecord, codes: &[String], now: Timestamp) -> Vec<RecoveryCodeRecord> {
    // Ids sorted like the codes, so the store (which lists by id) gives them back in this order.
    let mut ids: Vec<String> = codes
        .iter()
        .map(|_| format!("totp-recovery-code-test-{}", uuid::Uuid::new_v4()))
        .collect();
    ids.sort();
    codes
        .iter()
        .zip(ids)
        .map(|(c, code_id)| {
            let n = normalize_code(c);
            RecoveryCodeRecord {
                code_hash: recovery_digest(&ctx.code_keys[0], &code_id, &n),
                code_id,
                project_id: member.project_id.clone(),
                member_id: member.member_id.clone(),
                code: Some(c.clone()),
                hint: n.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect(),
                used: false,
                created_at: now,
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = totps::CreateInput))]
pub struct CreateInput {
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub expiration_minutes: Option<i64>,
    #[serde(flatten)]
    pub session: SessionArgs,
}

pub struct Created {
    pub view: MemberView,
    pub totp_registration_id: String,
    pub secret: String,
    pub qr_code: String,
    /// The `otpauth://` URL the QR code encodes (Latch extra; SDKs ignore unknown fields).
    pub otpauth_url: String,
    pub recovery_codes: Vec<String>,
}

pub async fn create(ctx: &Ctx, project_id: &ProjectId, input: CreateInput) -> CoreResult<Created> {
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let member = members::get(ctx, project_id, &org.organization_id, Some(&input.member_id), None)
        .await?
        .member;
    let minutes = input.expiration_minutes.unwrap_or(60);
    if !(5..=1440).contains(&minutes) {
        return Err(CoreError::argument("expiration_minutes", "must be between 5 and 1440"));
    }
    requirements::mfa_method_allowed(&org, &member, "totp")?;
    if ctx
        .store
        .totp_of(project_id, &member.member_id)
        .await?
        .is_some_and(|t| t.active)
    {
        return Err(crate::error::catalogue::ACTIVE_TOTP_EXISTS.err());
    }
    let presented = mfa::presented_factors(ctx, project_id, &org, &member, &input.session).await?;
    // Adding a factor next to a proven one needs that proof; otherwise a password would suffice.
    if member.mfa_phone_verified && !presented.is_some_and(|f| f.iter().any(|f| mfa_method(f).is_some())) {
        return Err(crate::error::catalogue::INSUFFICIENT_FACTORS.err());
    }
    let mut raw = [0u8; 20];
    OsRng.fill_bytes(&mut raw);
    let t = totp(&raw, &org.name, &member.email);
    let secret = t.get_secret_base32();
    let qr = t.get_qr_base64().map_err(CoreError::internal)?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let now = ctx.now();
    let record = TotpRecord {
        totp_id: format!("member-totp-test-{}", uuid::Uuid::new_v4()),
        project_id: project_id.clone(),
        member_id: member.member_id.clone(),
        secret: secret.clone(),
        active: false,
        last_used_step: 0,
        created_at: now,
        expires_at: now.plus_minutes(minutes),
    };
    ctx.store
        .save_totp(&record, &recovery_records(ctx, &member, &codes, ctx.now()))
        .await?;
    Ok(Created {
        view: MemberView::load(ctx, member, org).await?,
        totp_registration_id: record.totp_id,
        secret,
        qr_code: format!("data:image/png;base64,{qr}"),
        otpauth_url: t.get_url(),
        recovery_codes: codes,
    })
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = totps::AuthenticateInput))]
pub struct AuthenticateInput {
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub code: String,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub set_mfa_enrollment: Option<String>,
    pub set_default_mfa: Option<bool>,
    pub telemetry_id: Option<String>,
}

fn totp_not_found() -> CoreError {
    crate::error::catalogue::TOTP_NOT_FOUND.err()
}

/// The step (±1 around now) whose code matches, compared in constant time.
fn matching_step(t: &TOTP, code: &str, now_secs: i64) -> Option<i64> {
    let current = now_secs / STEP_SECS;
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        if constant_time_eq(&t.generate((step * STEP_SECS) as u64), code.trim()) {
            found = Some(step);
        }
    }
    found
}

pub async fn authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: AuthenticateInput,
) -> CoreResult<(MemberView, Issued)> {
    check_duration(input.session_duration_minutes)?;
    let enrollment = parse_enrollment(input.set_mfa_enrollment.as_deref())?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let mut member = members::get(ctx, project_id, &org.organization_id, Some(&input.member_id), None)
        .await?
        .member;
    let session = mfa_tokens(ctx, &org, &member, &input.session).await?;
    let attempt = guard(ctx, &member).await?;
    let reg = ctx
        .store
        .totp_of(project_id, &member.member_id)
        .await?
        .ok_or_else(totp_not_found)?;
    if !reg.active && reg.expires_at <= ctx.now() {
        return Err(totp_not_found());
    }
    let secret = decode_secret(&reg.secret).ok_or_else(|| CoreError::internal("stored TOTP secret unreadable"))?;
    let t = totp(&secret, &org.name, &member.email);
    let step = matching_step(&t, &input.code, ctx.now().unix_seconds());
    // A code is good for its step once: a replay inside the window is refused like a wrong code.
    let accepted = match step {
        Some(s) => ctx.store.use_totp_step(project_id, &reg.totp_id, s).await?,
        None => false,
    };
    if !accepted {
        return Err(crate::error::catalogue::INVALID_TOTP_CODE.err());
    }
    attempt.refund(ctx).await?;
    if member.totp_registration_id != reg.totp_id {
        // Its own write: finish_mfa re-reads the member on a conflict and would drop it.
        modify_member(ctx.store.as_ref(), &mut member, |m| {
            m.totp_registration_id = reg.totp_id.clone()
        })
        .await?;
    }
    let factor = AuthFactor::totp(&reg.totp_id, ctx.now());
    finish_mfa(
        ctx,
        &org,
        member,
        factor,
        "totp",
        session,
        input.session.intermediate_session_token.as_deref(),
        input.session_duration_minutes,
        input.session_custom_claims.as_ref(),
        enrollment,
        input.set_default_mfa,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = totps::MigrateInput))]
pub struct MigrateInput {
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

/// Imports a secret an authenticator app already holds, with its recovery codes (minted when none).
pub async fn migrate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: MigrateInput,
) -> CoreResult<(MemberView, String, Vec<String>)> {
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let mut member = members::get(ctx, project_id, &org.organization_id, Some(&input.member_id), None)
        .await?
        .member;
    let raw = decode_secret(&input.secret)
        .ok_or_else(|| CoreError::argument("secret", "must be a base32 TOTP secret of at least 80 bits"))?;
    let codes = if input.recovery_codes.is_empty() {
        (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect()
    } else {
        if input.recovery_codes.iter().any(|c| normalize_code(c).len() < 8) {
            return Err(CoreError::argument(
                "recovery_codes",
                "each code must have at least 8 characters",
            ));
        }
        input.recovery_codes
    };
    let now = ctx.now();
    let record = TotpRecord {
        totp_id: format!("member-totp-test-{}", uuid::Uuid::new_v4()),
        project_id: project_id.clone(),
        member_id: member.member_id.clone(),
        secret: Secret::Raw(raw).to_encoded().to_string(),
        active: true,
        last_used_step: 0,
        created_at: now,
        expires_at: now,
    };
    ctx.store
        .save_totp(&record, &recovery_records(ctx, &member, &codes, ctx.now()))
        .await?;
    member.totp_registration_id = record.totp_id.clone();
    member.updated_at = now;
    ctx.store.update_member(&mut member, None).await?;
    Ok((MemberView::load(ctx, member, org).await?, record.totp_id, codes))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = totps::RecoverInput))]
pub struct RecoverInput {
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub recovery_code: String,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub telemetry_id: Option<String>,
}

/// Completes MFA with one recovery code (used up); returns how many remain.
pub async fn recover(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: RecoverInput,
) -> CoreResult<(MemberView, Issued, usize)> {
    check_duration(input.session_duration_minutes)?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let member = members::get(ctx, project_id, &org.organization_id, Some(&input.member_id), None)
        .await?
        .member;
    let session = mfa_tokens(ctx, &org, &member, &input.session).await?;
    let attempt = guard(ctx, &member).await?;
    let codes = ctx.store.recovery_codes(project_id, &member.member_id).await?;
    let given = normalize_code(&input.recovery_code);
    let mut hit = None;
    for c in codes.iter().filter(|c| !c.used) {
        if is_recovery_code(ctx, c, &given) {
            hit = Some(c.code_id.clone());
        }
    }
    let used = match &hit {
        Some(id) => ctx.store.use_recovery_code(project_id, id).await?,
        None => false,
    };
    if !used {
        return Err(crate::error::catalogue::INVALID_RECOVERY_CODE.err());
    }
    attempt.refund(ctx).await?;
    let remaining = codes.iter().filter(|c| !c.used).count() - 1;
    let factor = AuthFactor::recovery_code(&hit.unwrap_or_default(), ctx.now());
    let (view, issued) = finish_mfa(
        ctx,
        &org,
        member,
        factor,
        "totp",
        session,
        input.session.intermediate_session_token.as_deref(),
        input.session_duration_minutes,
        input.session_custom_claims.as_ref(),
        None,
        Some(false),
    )
    .await?;
    Ok((view, issued, remaining))
}

/// The member's unused recovery codes, as Stytch shows them. Codes made before Latch kept them
/// (sealed) exist only as digests: those are shown by their last four characters.
pub async fn list_codes(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
) -> CoreResult<(MemberView, Vec<String>)> {
    let v = members::get(ctx, project_id, org_locator, Some(member_locator), None).await?;
    let codes = ctx.store.recovery_codes(project_id, &v.member.member_id).await?;
    if codes.is_empty() {
        return Err(crate::error::catalogue::RECOVERY_CODES_NOT_FOUND.err());
    }
    let hints = codes
        .iter()
        .filter(|c| !c.used)
        .map(|c| c.code.clone().unwrap_or_else(|| format!("••••-••••-{}", c.hint)))
        .collect();
    Ok((v, hints))
}

/// A fresh set of recovery codes; the old ones stop working.
pub async fn rotate(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
) -> CoreResult<(MemberView, Vec<String>)> {
    let v = members::get(ctx, project_id, org_locator, Some(member_locator), None).await?;
    if ctx.store.totp_of(project_id, &v.member.member_id).await?.is_none() {
        return Err(totp_not_found());
    }
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    ctx.store
        .replace_recovery_codes(
            project_id,
            &v.member.member_id,
            &recovery_records(ctx, &v.member, &codes, ctx.now()),
        )
        .await?;
    Ok((v, codes))
}
