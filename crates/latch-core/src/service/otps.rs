//! One-time passcodes by email (a primary factor) and SMS (MFA and step-up only).
//!
//! Rules: six digits from the OS CSPRNG; one live code per (organization, channel, recipient) —
//! sending replaces it; single use; five wrong guesses kill it; stored as a salted SHA-256 and
//! compared in constant time; sends limited per recipient. If delivery fails the code is deleted:
//! no code stays live that its owner never received.

use crate::delivery::templates::{self, Kind};
use crate::delivery::Channel;
use crate::engine::address_guard::ClientIp;
use crate::engine::auth_flow::{Outcome, PrimaryAuth};
use crate::engine::codes::{code_not_found, email_minutes, send_code, send_mfa_sms, sms_country_allowed, verify_code};
use crate::engine::members::{MemberInput, MemberView};
use crate::engine::mfa::presented_factors;
use crate::engine::session::Issued;
use crate::engine::{address_guard, auth_flow, email_updates, members, organizations, session, Ctx};
use crate::error::CoreResult;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::organization::OrgRecord;
use crate::model::session::AuthFactor;
use crate::rules::args::SessionArgs;
use crate::rules::factors::mfa_method;
use crate::rules::requirements::{jit_allowed, mfa_method_allowed};
use crate::rules::session::check_duration;
use crate::store::retry::modify_member;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

fn org_vars<'a>(org: &'a OrgRecord, code: &'a str, minutes: &'a str) -> [(&'static str, &'a str); 3] {
    [("org", org.name.as_str()), ("code", code), ("minutes", minutes)]
}

#[derive(Debug, Deserialize)]
pub struct LoginOrSignupInput {
    pub organization_id: OrganizationId,
    pub email_address: String,
    pub login_template_id: Option<String>,
    pub signup_template_id: Option<String>,
    pub locale: Option<String>,
    pub login_expiration_minutes: Option<i64>,
    pub signup_expiration_minutes: Option<i64>,
}

/// A login code for an active member, a signup code for a new, pending or invited one. A new
/// member (status `pending`) is created only when the organization allows JIT provisioning for
/// the email's domain.
pub async fn email_login_or_signup(
    ctx: &Ctx,
    project_id: &ProjectId,
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
            let input = MemberInput {
                email_address: Some(email.clone()),
                create_member_as_pending: Some(true),
                ..Default::default()
            };
            (
                members::provision(ctx, project_id, &org.organization_id, input).await?,
                true,
            )
        }
        None => return Err(crate::error::catalogue::EMAIL_JIT_PROVISIONING_NOT_ALLOWED.err()),
    };
    let login = view.member.status == MemberStatus::Active;
    let (kind, minutes, template_id) = if login {
        (Kind::LoginOtp, login_minutes, input.login_template_id.as_deref())
    } else {
        (Kind::SignupOtp, signup_minutes, input.signup_template_id.as_deref())
    };
    let minutes_text = minutes.to_string();
    let template = ctx.template(project_id, template_id, kind).await?;
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
            Ok((kind, locale, template.render(kind, locale, &vars, None)))
        },
    )
    .await?;
    Ok((view, created))
}

#[derive(Debug, Deserialize)]
pub struct EmailAuthenticateInput {
    pub organization_id: OrganizationId,
    pub email_address: String,
    pub code: String,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

/// The email OTP as a primary factor: verifies the email, activates a pending or invited member.
pub async fn email_authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: EmailAuthenticateInput,
) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let session = session::resolve(
        ctx,
        project_id,
        input.session.session_token.as_deref(),
        input.session.session_jwt.as_deref(),
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
    let found = ctx
        .store
        .member_by_email(project_id, &org.organization_id, &email)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted && otp.member_id.as_deref().is_none_or(|id| id == m.member_id));
    let (mut member, session) = match found {
        Some(m) => (m, session),
        // The code completes a start_email_update to this address; the member's sessions end
        // with its previous address, so none carries over.
        None => (
            email_update_member(ctx, project_id, &org, &email, otp.member_id.as_deref()).await?,
            None,
        ),
    };
    if !member.email_verified {
        modify_member(ctx.store.as_ref(), &mut member, |m| m.email_verified = true).await?;
    }
    let factor = AuthFactor::email_otp(&member.email_id(), &email, ctx.now());
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org: &org,
            factors: vec![factor],
            session,
            intermediate_session_token: input.session.intermediate_session_token.as_deref(),
            session_duration_minutes: input.session_duration_minutes,
            session_custom_claims: input.session_custom_claims.as_ref(),
            locale: input.locale.as_deref(),
        },
    )
    .await?;
    Ok((MemberView::load(ctx, member, org).await?, outcome))
}

/// The member whose pending email update to `email` the code was sent for, moved to it.
async fn email_update_member(
    ctx: &Ctx,
    project_id: &ProjectId,
    org: &OrgRecord,
    email: &str,
    code_member_id: Option<&str>,
) -> CoreResult<MemberRecord> {
    let Some(member_id) = code_member_id else {
        return Err(code_not_found());
    };
    let update = email_updates::pending_to(ctx, project_id, &org.organization_id, email)
        .await?
        .filter(|u| u.member_id == member_id)
        .ok_or_else(code_not_found)?;
    let member = ctx
        .store
        .member_by_id(project_id, &update.member_id)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted)
        .ok_or_else(code_not_found)?;
    email_updates::complete(ctx, member, email).await
}

#[derive(Debug, Deserialize)]
pub struct SmsSendInput {
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub mfa_phone_number: Option<String>,
    pub locale: Option<String>,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub enable_autofill: Option<bool>,
}

pub async fn sms_send(
    ctx: &Ctx,
    project_id: &ProjectId,
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
    let presented = presented_factors(ctx, project_id, &org, &member, &input.session).await?;
    if let Some(phone) = input.mfa_phone_number.as_deref().filter(|p| !p.is_empty()) {
        let phone = validate::phone_number(phone)?;
        sms_country_allowed(ctx, project_id, &phone).await?;
        if member.mfa_phone_number.is_empty() {
            // Linking a new number to a member who already has another MFA factor must be done by
            // someone who proved that factor; otherwise a stolen password would be enough.
            let has_other_factor = !member.totp_registration_id.is_empty();
            let proved_mfa = presented
                .as_ref()
                .is_some_and(|f| f.iter().any(|f| mfa_method(f).is_some()));
            if has_other_factor && !proved_mfa {
                return Err(crate::error::catalogue::INSUFFICIENT_FACTORS.err());
            }
            if ctx
                .store
                .member_by_phone(project_id, &org.organization_id, &phone)
                .await?
                .is_some()
            {
                return Err(crate::error::catalogue::DUPLICATE_MEMBER_PHONE_NUMBER.err());
            }
            member.mfa_phone_number = phone;
            member.mfa_phone_verified = false;
            member.updated_at = ctx.now();
            ctx.store.update_member(&mut member, None).await?;
        } else if member.mfa_phone_number != phone {
            return Err(crate::error::catalogue::INVALID_PHONE_NUMBER.err());
        }
    }
    if member.mfa_phone_number.is_empty() {
        return Err(crate::error::catalogue::MEMBER_PHONE_NUMBER_NOT_FOUND.err());
    }
    send_mfa_sms(ctx, &member, &org, input.locale.as_deref()).await?;
    MemberView::load(ctx, member, org).await
}

#[derive(Debug, Deserialize)]
pub struct SmsAuthenticateInput {
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

/// Completes MFA (with an intermediate session) or steps up a session with the SMS code.
pub async fn sms_authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: SmsAuthenticateInput,
) -> CoreResult<(MemberView, Issued)> {
    check_duration(input.session_duration_minutes)?;
    let enrollment = crate::rules::requirements::parse_enrollment(input.set_mfa_enrollment.as_deref())?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let mut member = members::get(ctx, project_id, &org.organization_id, Some(&input.member_id), None)
        .await?
        .member;
    let session = crate::engine::mfa::mfa_tokens(ctx, &org, &member, &input.session).await?;
    if member.mfa_phone_number.is_empty() {
        return Err(crate::error::catalogue::MEMBER_PHONE_NUMBER_NOT_FOUND.err());
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
    let factor = AuthFactor::sms_otp(&member.phone_id(), &member.mfa_phone_number, ctx.now());
    crate::engine::mfa::finish_mfa(
        ctx,
        &org,
        member,
        factor,
        "sms_otp",
        session,
        input.session.intermediate_session_token.as_deref(),
        input.session_duration_minutes,
        input.session_custom_claims.as_ref(),
        enrollment,
        input.set_default_mfa,
    )
    .await
}
