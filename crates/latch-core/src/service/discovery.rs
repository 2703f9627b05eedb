//! Discovery: authenticate an email first, then choose an organization. An email OTP (or, later,
//! other email-verifying factors) yields an intermediate session not bound to any organization;
//! it lists the organizations the person can enter, exchanges into one (JIT-provisioning a member
//! when the organization's email-domain rule allows), or creates a new organization.
//!
//! Discovered organizations (discovery.md): memberships (active, pending, invited); and, for an
//! intermediate session, organizations eligible by email domain: JIT restricted to the domain
//! and already one member with a verified email of that domain (a guard against phishing).

use crate::delivery::templates::{self, Kind};
use crate::delivery::Channel;
use crate::engine::auth_flow::{Outcome, PrimaryAuth};
use crate::engine::discovery::{discover, email_factor, with_factors, SCOPE};
use crate::engine::members::{MemberInput, MemberView};
use crate::engine::organizations::OrgInput;
use crate::engine::{auth_flow, codes, intermediate, members, organizations, session, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{OrganizationId, ProjectId};
use crate::model::credentials::IntermediateRecord;
use crate::model::member::{MemberRecord, MemberStatus, ROLE_ADMIN};
use crate::model::organization::OrgRecord;
use crate::model::session::AuthFactor;
use crate::rules::args::{Credential, SessionArgs};
use crate::rules::factors::proves_email;
use crate::rules::requirements;
use crate::rules::session::check_duration;
use crate::store::retry::modify_member;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

pub use crate::engine::discovery::DiscoveryResult;

#[derive(Debug, Deserialize)]
pub struct SendInput {
    pub email_address: String,
    pub discovery_expiration_minutes: Option<i64>,
    pub login_template_id: Option<String>,
    pub locale: Option<String>,
}

pub async fn otp_send(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: SendInput,
    client: Option<&crate::engine::address_guard::ClientIp>,
) -> CoreResult<()> {
    let email = validate::normalize_email(&input.email_address)?;
    let minutes = codes::email_minutes(input.discovery_expiration_minutes)?;
    let locale = templates::locale(input.locale.as_deref())?;

    crate::engine::address_guard::send(ctx, client).await?;
    let minutes_text = minutes.to_string();
    let template = ctx
        .template(project_id, input.login_template_id.as_deref(), Kind::DiscoveryOtp)
        .await?;
    codes::send_code(ctx, project_id, SCOPE, Channel::Email, &email, None, minutes, |code| {
        let vars = [
            ("code", code),
            ("minutes", minutes_text.as_str()),
            ("email", email.as_str()),
        ];
        Ok((
            Kind::DiscoveryOtp,
            locale,
            template.render(Kind::DiscoveryOtp, locale, &vars, None),
        ))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct OtpAuthenticateInput {
    pub email_address: String,
    pub code: String,
}

pub async fn otp_authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: OtpAuthenticateInput,
) -> CoreResult<DiscoveryResult> {
    let email = validate::normalize_email(&input.email_address)?;
    codes::verify_code(ctx, project_id, SCOPE, Channel::Email, &email, &input.code).await?;
    with_factors(ctx, project_id, &email, vec![email_factor(&email, ctx.now())]).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ListInput {
    #[serde(flatten)]
    pub session: SessionArgs,
}

/// Lists what an intermediate session or a member session can enter; consumes nothing.
pub async fn list(ctx: &Ctx, project_id: &ProjectId, input: ListInput) -> CoreResult<DiscoveryResult> {
    let (token, jwt) = match input.session.exactly_one()? {
        Credential::Intermediate(t) => {
            let ist = intermediate::load(ctx, project_id, t).await?;
            let discovered = discover(ctx, project_id, &ist.email, &ist.factors, true).await?;
            return Ok(DiscoveryResult {
                intermediate_session_token: String::new(),
                email: ist.email,
                discovered,
                organization_id_hint: ist.organization_id,
            });
        }
        Credential::SessionToken(t) => (Some(t), None),
        Credential::SessionJwt(j) => (None, Some(j)),
    };
    let (session, _) = session::resolve(ctx, project_id, token, jwt)
        .await?
        .ok_or_else(|| crate::error::catalogue::NO_SESSION_ARGUMENTS.err())?;
    let member = ctx
        .store
        .member_by_id(project_id, &session.member_id)
        .await?
        .ok_or_else(CoreError::member_not_found)?;
    let carried: Vec<AuthFactor> = session
        .factors
        .iter()
        .filter(|f| proves_email(f, &member.email))
        .cloned()
        .collect();
    let mut discovered = discover(ctx, project_id, &member.email, &carried, false).await?;
    // The session's own organization is entered with the session itself.
    for d in discovered
        .iter_mut()
        .filter(|d| d.organization.organization_id == session.organization_id)
    {
        d.primary_required = None;
        d.mfa_required = None;
    }
    Ok(DiscoveryResult {
        intermediate_session_token: String::new(),
        email: member.email,
        discovered,
        organization_id_hint: None,
    })
}

#[derive(Debug, Deserialize)]
pub struct ExchangeInput {
    pub intermediate_session_token: String,
    pub organization_id: OrganizationId,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

fn ist_usable_for_discovery(ist: &IntermediateRecord, org: &OrgRecord) -> CoreResult<()> {
    // An IST from an organization-scoped login (e.g. a password) only enters that organization.
    if ist.organization_id.as_deref().is_some_and(|o| o != org.organization_id) {
        return Err(requirements::wrong_organization());
    }
    Ok(())
}

/// Joins `org` with the IST's factors: an existing membership, or a JIT-provisioned one when the
/// organization's email-domain rule allows and the IST verified the email.
pub async fn exchange(ctx: &Ctx, project_id: &ProjectId, input: ExchangeInput) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let ist = intermediate::load(ctx, project_id, &input.intermediate_session_token).await?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    ist_usable_for_discovery(&ist, &org)?;
    let existing = ctx
        .store
        .member_by_email(project_id, &org.organization_id, &ist.email)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted);
    let verified = ist.factors.iter().any(|f| proves_email(f, &ist.email));
    let member = match existing {
        // The IST's email factor proved this address for the membership too.
        Some(m) if verified => verify_email(ctx, m).await?,
        Some(m) => m,
        None => {
            if !(verified && requirements::jit_allowed(&org, &ist.email)) {
                return Err(crate::error::catalogue::EMAIL_JIT_PROVISIONING_NOT_ALLOWED.err());
            }
            let v = members::provision(
                ctx,
                project_id,
                &org.organization_id,
                MemberInput {
                    email_address: Some(ist.email.clone()),
                    ..Default::default()
                },
            )
            .await?;
            verify_email(ctx, v.member).await?
        }
    };
    finish(
        ctx,
        member,
        &org,
        &input.intermediate_session_token,
        input.session_duration_minutes,
        input.session_custom_claims.as_ref(),
        input.locale.as_deref(),
    )
    .await
}

async fn verify_email(ctx: &Ctx, mut m: MemberRecord) -> CoreResult<MemberRecord> {
    if !m.email_verified {
        modify_member(ctx.store.as_ref(), &mut m, |m| m.email_verified = true).await?;
    }
    Ok(m)
}

async fn finish(
    ctx: &Ctx,
    member: MemberRecord,
    org: &OrgRecord,
    ist: &str,
    duration: Option<i64>,
    claims: Option<&Value>,
    locale: Option<&str>,
) -> CoreResult<(MemberView, Outcome)> {
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org,
            factors: vec![],
            session: None,
            intermediate_session_token: Some(ist),
            session_duration_minutes: duration,
            session_custom_claims: claims,
            locale,
        },
    )
    .await?;
    Ok((MemberView::load(ctx, member, org.clone()).await?, outcome))
}

#[derive(Debug, Deserialize)]
pub struct CreateInput {
    pub intermediate_session_token: String,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub telemetry_id: Option<String>,
    #[serde(flatten)]
    pub organization: OrgInput,
}

/// Name and slug for an organization created from `email`: the domain, or the local part for
/// consumer mail providers and `.edu` addresses.
fn default_name(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let consumer = validate::org_domain(domain).is_err() || domain.ends_with(".edu");
    if consumer {
        local.to_string()
    } else {
        domain.split('.').next().unwrap_or(domain).to_string()
    }
}

/// Creates an organization and its first member (stytch_admin) from a discovery IST. The email
/// must have been verified by the IST's factors.
pub async fn create_organization(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: CreateInput,
) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let ist = intermediate::load(ctx, project_id, &input.intermediate_session_token).await?;
    if ist.organization_id.is_some() {
        return Err(crate::error::catalogue::INVALID_INTERMEDIATE_SESSION_TOKEN_FOR_ORGANIZATION.err());
    }
    if !ist.factors.iter().any(|f| proves_email(f, &ist.email)) {
        return Err(crate::error::catalogue::INSUFFICIENT_FACTORS.err());
    }
    let mut org_input = input.organization;
    if org_input.organization_name.is_none() {
        org_input.organization_name = Some(default_name(&ist.email));
    }
    let org = organizations::create(ctx, project_id, org_input).await?;
    let admin = MemberInput {
        email_address: Some(ist.email.clone()),
        roles: Some(vec![ROLE_ADMIN.to_string()]),
        ..Default::default()
    };
    let v = members::provision(ctx, project_id, &org.organization_id, admin).await?;
    let member = verify_email(ctx, v.member).await?;
    finish(
        ctx,
        member,
        &org,
        &input.intermediate_session_token,
        input.session_duration_minutes,
        input.session_custom_claims.as_ref(),
        None,
    )
    .await
}
