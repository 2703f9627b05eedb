//! One-time passcodes by email (a primary factor) and SMS (MFA and step-up only).
//!
//! Rules: six digits from the OS CSPRNG; one live code per (organization, channel, recipient) —
//! sending replaces it; single use; five wrong guesses kill it; stored as a salted SHA-256 and
//! compared in constant time; sends limited per recipient. If delivery fails the code is deleted:
//! no code stays live that its owner never received.

use crate::clock::Timestamp;
use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::delivery::templates::{self, Kind};
use crate::delivery::{Channel, Message};
use crate::error::{CoreError, CoreResult, Fault};
use crate::model::credentials::OtpRecord;
use crate::model::member::{MemberRecord, STATUS_ACTIVE, STATUS_DELETED};
use crate::model::organization::OrgRecord;
use crate::model::session::AuthFactor;
use crate::service::address_guard::{self, ClientIp};
use crate::service::auth_flow::{self, mfa_method, Outcome, PrimaryAuth};
use crate::service::members::{self, MemberInput, MemberView};
use crate::service::sessions::{self, Issued};
use crate::service::{intermediate, organizations, Ctx};
use crate::store::retry::modify_member;
use crate::validate;
use rand::rngs::OsRng;
use rand::Rng;
use serde::Deserialize;
use serde_json::Value;

const MAX_ATTEMPTS: i64 = 5;
const SMS_MINUTES: i64 = 2;
const EMAIL_DEFAULT_MINUTES: i64 = 10;
const SEND_SCOPE: &str = "otp_send";
const SENDS_PER_RECIPIENT: i64 = 10;
const SEND_WINDOW_MINUTES: i64 = 10;

fn new_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

fn digest(salt: &str, code: &str) -> String {
    sha256_hex(&format!("{salt}:{code}"))
}

pub(crate) fn email_minutes(given: Option<i64>) -> CoreResult<i64> {
    let m = given.unwrap_or(EMAIL_DEFAULT_MINUTES);
    if !(2..=15).contains(&m) {
        return Err(CoreError::invalid(
            "invalid_expiration_otp",
            "OTP expiration must be between 2 and 15 minutes.",
        ));
    }
    Ok(m)
}

/// Counts one message (a code or a link) to `recipient` and refuses it past 10 per 10 minutes.
/// Every kind of message counts against the same budget: the limit protects a mailbox or phone
/// from being flooded, whichever endpoint is used to do it. Call it before anything is stored.
pub(crate) async fn count_send_to(ctx: &Ctx, project_id: &str, channel: Channel, recipient: &str) -> CoreResult<()> {
    let now = Timestamp::now();
    let key = format!("{project_id}:{}:{recipient}", channel.as_str());
    let sends = ctx
        .store
        .bump_attempts(SEND_SCOPE, &key, now.plus_minutes(-SEND_WINDOW_MINUTES), now)
        .await?;
    if sends > SENDS_PER_RECIPIENT {
        return Err(CoreError::RateLimited {
            fault: Fault {
                error_type: "too_many_requests",
                message: "Too many messages sent to this recipient; try again later.".into(),
            },
            retry_after_secs: SEND_WINDOW_MINUTES as u64 * 60,
        });
    }
    Ok(())
}

/// Stores a fresh code for the recipient (replacing any earlier one) and sends it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_code(
    ctx: &Ctx,
    project_id: &str,
    scope: &str,
    channel: Channel,
    recipient: &str,
    member_id: Option<&str>,
    minutes: i64,
    render: impl FnOnce(&str) -> CoreResult<(Kind, &'static str, templates::Rendered)>,
) -> CoreResult<()> {
    count_send_to(ctx, project_id, channel, recipient).await?;
    let now = Timestamp::now();
    let code = new_code();
    let salt = random_token(16);
    // Remember what this code replaces, so an old code is answered as superseded.
    let mut superseded = Vec::new();
    if let Some(prev) = ctx
        .store
        .otp_for(project_id, scope, channel.as_str(), recipient)
        .await?
    {
        superseded.push(format!("{}:{}", prev.salt, prev.code_hash));
        superseded.extend(prev.superseded.into_iter().take(4));
    }
    let record = OtpRecord {
        otp_id: format!("otp-test-{}", uuid::Uuid::new_v4()),
        project_id: project_id.to_string(),
        scope: scope.to_string(),
        channel: channel.as_str().to_string(),
        recipient: recipient.to_string(),
        member_id: member_id.map(str::to_string),
        code_hash: digest(&salt, &code),
        salt,
        attempts: 0,
        created_at: now,
        expires_at: now.plus_minutes(minutes),
        superseded,
    };
    ctx.store.replace_otp(&record).await?;
    let (kind, locale, rendered) = match render(&code) {
        Ok(r) => r,
        Err(e) => {
            ctx.store.delete_otp(&record.project_id, &record.otp_id).await?;
            return Err(e);
        }
    };
    let message = Message {
        project_id: project_id.to_string(),
        channel,
        recipient: recipient.to_string(),
        kind: kind.as_str().into(),
        locale: locale.into(),
        subject: (channel == Channel::Email).then_some(rendered.subject),
        text: rendered.text,
        html: (channel == Channel::Email).then_some(rendered.html),
        code: Some(code),
        token: None,
        url: None,
    };
    if let Err(e) = ctx.delivery.send(message).await {
        ctx.store.delete_otp(&record.project_id, &record.otp_id).await?;
        return Err(e);
    }
    Ok(())
}

fn code_not_found() -> CoreError {
    CoreError::not_found(
        "otp_code_not_found",
        "No valid code: it expired, was used, or a newer one was sent.",
    )
}

/// Checks `code` against the live code for the recipient and uses it up.
pub(crate) async fn verify_code(
    ctx: &Ctx,
    project_id: &str,
    scope: &str,
    channel: Channel,
    recipient: &str,
    code: &str,
) -> CoreResult<OtpRecord> {
    let Some(rec) = ctx
        .store
        .otp_for(project_id, scope, channel.as_str(), recipient)
        .await?
    else {
        return Err(code_not_found());
    };
    if rec.expires_at <= Timestamp::now() {
        return Err(code_not_found());
    }
    // The attempt is taken before the guess is compared, in one conditional update: a concurrent
    // burst gets no more than MAX_ATTEMPTS comparisons, however the requests interleave.
    let Some(attempts) = ctx
        .store
        .otp_attempt(&rec.project_id, &rec.otp_id, MAX_ATTEMPTS)
        .await?
    else {
        return Err(code_not_found());
    };
    if !constant_time_eq(&digest(&rec.salt, code.trim()), &rec.code_hash) {
        let replaced = rec.superseded.iter().any(|s| {
            s.split_once(':')
                .is_some_and(|(salt, hash)| constant_time_eq(&digest(salt, code.trim()), hash))
        });
        if replaced {
            // An earlier code: it was invalidated by a newer one, not guessed wrong.
            return Err(code_not_found());
        }
        if attempts >= MAX_ATTEMPTS {
            ctx.store.delete_otp(&rec.project_id, &rec.otp_id).await?;
        }
        return Err(CoreError::unauthorized(
            "unable_to_auth_otp_code",
            "The code is incorrect.",
        ));
    }
    if !ctx.store.delete_otp(&rec.project_id, &rec.otp_id).await? {
        return Err(code_not_found());
    }
    Ok(rec)
}

fn org_vars<'a>(org: &'a OrgRecord, code: &'a str, minutes: &'a str) -> [(&'static str, &'a str); 3] {
    [("org", org.name.as_str()), ("code", code), ("minutes", minutes)]
}

#[derive(Debug, Deserialize)]
pub struct LoginOrSignupInput {
    pub organization_id: String,
    pub email_address: String,
    pub login_template_id: Option<String>,
    pub signup_template_id: Option<String>,
    pub locale: Option<String>,
    pub login_expiration_minutes: Option<i64>,
    pub signup_expiration_minutes: Option<i64>,
}

pub(crate) fn jit_allowed(org: &OrgRecord, email: &str) -> bool {
    org.settings.email_jit_provisioning == "RESTRICTED"
        && org
            .settings
            .email_allowed_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(validate::email_domain(email)))
}

/// A login code for an active member, a signup code for a new, pending or invited one. A new
/// member (status `pending`) is created only when the organization allows JIT provisioning for
/// the email's domain.
pub async fn email_login_or_signup(
    ctx: &Ctx,
    project_id: &str,
    input: LoginOrSignupInput,
    client: Option<&ClientIp>,
) -> CoreResult<(MemberView, bool)> {
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let locale = templates::locale(input.locale.as_deref())?;
    let login_minutes = email_minutes(input.login_expiration_minutes)?;
    let signup_minutes = email_minutes(input.signup_expiration_minutes)?;

    address_guard::send(ctx, client).await?;
    let existing = ctx
        .store
        .member_by_email(project_id, &org.organization_id, &email)
        .await?;
    let (view, created) = match existing {
        Some(m) => (MemberView::load(ctx, m, org.clone()).await?, false),
        None if jit_allowed(&org, &email) => {
            let input = MemberInput { email_address: Some(email.clone()), create_member_as_pending: Some(true), ..Default::default() };
            (members::create(ctx, project_id, &org.organization_id, input, None).await?, true)
        }
        None => {
            return Err(CoreError::forbidden(
                "email_jit_provisioning_not_allowed",
                "This email has no member in the organization, and the organization does not allow JIT provisioning for it.",
            ))
        }
    };
    let login = view.member.status == STATUS_ACTIVE;
    let (kind, minutes, template_id) = if login {
        (Kind::LoginOtp, login_minutes, input.login_template_id.as_deref())
    } else {
        (Kind::SignupOtp, signup_minutes, input.signup_template_id.as_deref())
    };
    let minutes_text = minutes.to_string();
    send_code(
        ctx,
        project_id,
        &org.organization_id,
        Channel::Email,
        &email,
        Some(&view.member.member_id),
        minutes,
        |code| {
            let mut vars = org_vars(&org, code, &minutes_text).to_vec();
            vars.push(("email", email.as_str()));
            Ok((
                kind,
                locale,
                ctx.render(project_id, template_id, kind, locale, &vars, None)?,
            ))
        },
    )
    .await?;
    Ok((view, created))
}

#[derive(Debug, Deserialize)]
pub struct EmailAuthenticateInput {
    pub organization_id: String,
    pub email_address: String,
    pub code: String,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub intermediate_session_token: Option<String>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

/// The email OTP as a primary factor: verifies the email, activates a pending or invited member.
pub async fn email_authenticate(
    ctx: &Ctx,
    project_id: &str,
    input: EmailAuthenticateInput,
) -> CoreResult<(MemberView, Outcome)> {
    sessions::check_duration(input.session_duration_minutes)?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let session = sessions::resolve(
        ctx,
        project_id,
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?;
    let otp = verify_code(
        ctx,
        project_id,
        &org.organization_id,
        Channel::Email,
        &email,
        &input.code,
    )
    .await?;
    let mut member = ctx
        .store
        .member_by_email(project_id, &org.organization_id, &email)
        .await?
        .filter(|m| m.status != STATUS_DELETED && otp.member_id.as_deref().is_none_or(|id| id == m.member_id))
        .ok_or_else(code_not_found)?;
    if !member.email_verified {
        modify_member(ctx.store.as_ref(), &mut member, |m| m.email_verified = true).await?;
    }
    let factor = AuthFactor::email_otp(&member.email_id(), &email, Timestamp::now());
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org: &org,
            factors: vec![factor],
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

/// Sends an MFA code to the member's phone (used by `sms_send` and by the pre-emptive send after
/// a primary authentication).
/// An organization restricting MFA methods refuses to set up or use the others (break-glass exempt).
pub(crate) fn mfa_method_allowed(org: &OrgRecord, member: &MemberRecord, method: &str) -> CoreResult<()> {
    let restricted = org.settings.mfa_methods == "RESTRICTED" && !member.is_breakglass;
    if restricted && !org.settings.allowed_mfa_methods.iter().any(|m| m == method) {
        return Err(CoreError::invalid(
            "operation_restricted_by_organization_mfa_methods",
            format!("The organization does not allow {method} as an MFA method."),
        ));
    }
    Ok(())
}

/// Refuses numbers outside the project's SMS countries (US and Canada by default, as Stytch).
fn sms_country_allowed(ctx: &Ctx, phone: &str) -> CoreResult<()> {
    let country = validate::phone_country(phone).unwrap_or_default();
    if !ctx
        .settings
        .sms_allowed_countries
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&country))
    {
        return Err(CoreError::invalid(
            "invalid_phone_number_country_code",
            format!(
                "SMS to this country ({country}) is not enabled; allowed: {}.",
                ctx.settings.sms_allowed_countries.join(", ")
            ),
        ));
    }
    Ok(())
}

pub async fn send_mfa_sms(ctx: &Ctx, member: &MemberRecord, org: &OrgRecord, locale: Option<&str>) -> CoreResult<()> {
    let locale = templates::sms_locale(locale)?;
    sms_country_allowed(ctx, &member.mfa_phone_number)?;
    send_code(
        ctx,
        &member.project_id,
        &org.organization_id,
        Channel::Sms,
        &member.mfa_phone_number,
        Some(&member.member_id),
        SMS_MINUTES,
        |code| {
            let vars = [("org", org.name.as_str()), ("code", code)];
            Ok((
                Kind::SmsOtp,
                locale,
                templates::render(Kind::SmsOtp, locale, &vars, None),
            ))
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct SmsSendInput {
    pub organization_id: String,
    pub member_id: String,
    pub mfa_phone_number: Option<String>,
    pub locale: Option<String>,
    pub intermediate_session_token: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub enable_autofill: Option<bool>,
}

/// Factors the caller proved for this member through an IST or a session (if any was passed).
/// An IST must already hold a primary factor the organization accepts: these factors decide who
/// may enrol an MFA factor, and an IST with none (e.g. from `sessions.exchange` with a password
/// session) proves nothing about this membership yet.
pub(crate) async fn presented_factors(
    ctx: &Ctx,
    project_id: &str,
    org: &OrgRecord,
    member: &MemberRecord,
    ist: Option<&str>,
    token: Option<&str>,
    jwt: Option<&str>,
) -> CoreResult<Option<Vec<AuthFactor>>> {
    if let Some(t) = ist.filter(|t| !t.is_empty()) {
        let rec = intermediate::load(ctx, project_id, t).await?;
        let factors = auth_flow::ist_factors(&rec, org, member)?;
        if auth_flow::primary_missing(org, member, &factors).is_some() {
            return Err(CoreError::invalid(
                "insufficient_factors",
                "The intermediate session holds no primary factor this organization accepts yet.",
            ));
        }
        return Ok(Some(factors));
    }
    match sessions::resolve(ctx, project_id, token, jwt).await? {
        Some((s, _)) if s.member_id == member.member_id => Ok(Some(s.factors)),
        Some(_) => Err(auth_flow::wrong_organization()),
        None => Ok(None),
    }
}

pub async fn sms_send(
    ctx: &Ctx,
    project_id: &str,
    input: SmsSendInput,
    client: Option<&ClientIp>,
) -> CoreResult<MemberView> {
    // Validated before anything is written (e.g. linking the phone number).
    templates::sms_locale(input.locale.as_deref())?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let v = members::get(ctx, project_id, &org.organization_id, Some(&input.member_id), None).await?;
    let mut member = v.member;
    mfa_method_allowed(&org, &member, "sms_otp")?;
    address_guard::send(ctx, client).await?;
    let presented = presented_factors(
        ctx,
        project_id,
        &org,
        &member,
        input.intermediate_session_token.as_deref(),
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?;
    if let Some(phone) = input.mfa_phone_number.as_deref().filter(|p| !p.is_empty()) {
        let phone = validate::phone_number(phone)?;
        sms_country_allowed(ctx, &phone)?;
        if member.mfa_phone_number.is_empty() {
            // Linking a new number to a member who already has another MFA factor must be done by
            // someone who proved that factor; otherwise a stolen password would be enough.
            let has_other_factor = !member.totp_registration_id.is_empty();
            let proved_mfa = presented
                .as_ref()
                .is_some_and(|f| f.iter().any(|f| mfa_method(f).is_some()));
            if has_other_factor && !proved_mfa {
                return Err(CoreError::invalid(
                    "insufficient_factors",
                    "The member already has an MFA factor: pass a session or intermediate session that proved it.",
                ));
            }
            if ctx
                .store
                .member_by_phone(project_id, &org.organization_id, &phone)
                .await?
                .is_some()
            {
                return Err(CoreError::invalid(
                    "duplicate_member_phone_number",
                    "Another member uses this mfa_phone_number.",
                ));
            }
            member.mfa_phone_number = phone;
            member.mfa_phone_verified = false;
            member.updated_at = Timestamp::now();
            ctx.store.update_member(&mut member, None).await?;
        } else if member.mfa_phone_number != phone {
            return Err(CoreError::invalid(
                "invalid_phone_number",
                "mfa_phone_number differs from the member's phone number; delete that one first.",
            ));
        }
    }
    if member.mfa_phone_number.is_empty() {
        return Err(CoreError::not_found(
            "member_phone_number_not_found",
            "The member has no mfa_phone_number; pass one.",
        ));
    }
    send_mfa_sms(ctx, &member, &org, input.locale.as_deref()).await?;
    MemberView::load(ctx, member, org).await
}

#[derive(Debug, Deserialize)]
pub struct SmsAuthenticateInput {
    pub organization_id: String,
    pub member_id: String,
    pub code: String,
    pub intermediate_session_token: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub set_mfa_enrollment: Option<String>,
    pub set_default_mfa: Option<bool>,
    pub telemetry_id: Option<String>,
}

/// Completes MFA (with an intermediate session) or steps up a session with the SMS code.
pub async fn sms_authenticate(
    ctx: &Ctx,
    project_id: &str,
    input: SmsAuthenticateInput,
) -> CoreResult<(MemberView, Issued)> {
    sessions::check_duration(input.session_duration_minutes)?;
    let enrollment = crate::service::totps::parse_enrollment(input.set_mfa_enrollment.as_deref())?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let mut member = members::get(ctx, project_id, &org.organization_id, Some(&input.member_id), None)
        .await?
        .member;
    let session = crate::service::totps::mfa_tokens(
        ctx,
        &org,
        &member,
        input.intermediate_session_token.as_deref(),
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?;
    if member.mfa_phone_number.is_empty() {
        return Err(CoreError::not_found(
            "member_phone_number_not_found",
            "The member has no mfa_phone_number.",
        ));
    }
    verify_code(
        ctx,
        project_id,
        &org.organization_id,
        Channel::Sms,
        &member.mfa_phone_number,
        &input.code,
    )
    .await?;
    if !member.mfa_phone_verified {
        // Its own write: finish_mfa re-reads the member on a conflict and would drop it.
        modify_member(ctx.store.as_ref(), &mut member, |m| m.mfa_phone_verified = true).await?;
    }
    let factor = AuthFactor::sms_otp(&member.phone_id(), &member.mfa_phone_number, Timestamp::now());
    crate::service::totps::finish_mfa(
        ctx,
        &org,
        member,
        factor,
        "sms_otp",
        session,
        input.intermediate_session_token.as_deref(),
        input.session_duration_minutes,
        input.session_custom_claims.as_ref(),
        enrollment,
        input.set_default_mfa,
    )
    .await
}
