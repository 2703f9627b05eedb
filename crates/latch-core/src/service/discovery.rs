//! Discovery: authenticate an email first, then choose an organization. An email OTP (or, later,
//! other email-verifying factors) yields an intermediate session not bound to any organization;
//! it lists the organizations the person can enter, exchanges into one (JIT-provisioning a member
//! when the organization's email-domain rule allows), or creates a new organization.
//!
//! Discovered organizations (discovery.md): memberships (active, pending, invited); and, for an
//! intermediate session, organizations eligible by email domain: JIT restricted to the domain
//! and already one member with a verified email of that domain (a guard against phishing).

use crate::clock::Timestamp;
use crate::crypto::sha256_hex;
use crate::delivery::templates::{self, Kind};
use crate::delivery::Channel;
use crate::error::{CoreError, CoreResult};
use crate::model::credentials::IntermediateRecord;
use crate::model::member::{MemberRecord, ROLE_ADMIN, STATUS_ACTIVE, STATUS_DELETED, STATUS_INVITED, STATUS_PENDING};
use crate::model::organization::OrgRecord;
use crate::model::search::{MemberFilter, Operator, OrgFilter, Page, Query};
use crate::model::session::AuthFactor;
use crate::service::auth_flow::{self, proves_email, MfaRequired, Outcome, PrimaryAuth, PrimaryRequired};
use crate::service::members::{self, MemberInput, MemberView};
use crate::service::organizations::{self, OrgInput};
use crate::service::{intermediate, otps, sessions, Ctx};
use crate::store::retry::modify_member;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

pub const SCOPE: &str = "discovery";

/// An email id for a factor proven before any member exists.
fn email_id(email: &str) -> String {
    let d = sha256_hex(&format!("discovery|{email}"));
    format!(
        "email-test-{}-{}-{}-{}-{}",
        &d[0..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..32]
    )
}

pub struct Discovered {
    pub organization: OrgRecord,
    pub membership_type: &'static str,
    pub member: Option<MemberView>,
    pub primary_required: Option<PrimaryRequired>,
    pub mfa_required: Option<MfaRequired>,
}

impl Discovered {
    pub fn member_authenticated(&self) -> bool {
        self.member.is_some() && self.primary_required.is_none() && self.mfa_required.is_none()
    }
}

/// Organizations with a verified member of `domain` and a JIT rule for it.
async fn eligible_by_domain(ctx: &Ctx, project_id: &str, domain: &str, skip: &[String]) -> CoreResult<Vec<OrgRecord>> {
    let q = Query {
        operator: Operator::And,
        filters: vec![OrgFilter::AllowedDomains(vec![domain.to_string()])],
    };
    let orgs = ctx
        .store
        .search_orgs(
            project_id,
            &q,
            &Page {
                after: None,
                limit: 1000,
            },
        )
        .await?
        .items;
    let mut out = Vec::new();
    for org in orgs {
        if skip.contains(&org.organization_id) || org.settings.email_jit_provisioning != "RESTRICTED" {
            continue;
        }
        let suffix = format!("@{domain}");
        let mq = Query {
            operator: Operator::And,
            filters: vec![MemberFilter::EmailFuzzy(suffix.clone())],
        };
        let found = ctx
            .store
            .search_members(
                project_id,
                std::slice::from_ref(&org.organization_id),
                &mq,
                &Page {
                    after: None,
                    limit: 100,
                },
            )
            .await?;
        if found
            .items
            .iter()
            .any(|m| m.email_verified && m.email.ends_with(&suffix))
        {
            out.push(org);
        }
    }
    Ok(out)
}

/// What `email` can enter with `factors`. Eligible organizations are listed only for an
/// intermediate session (`include_eligible`).
pub async fn discover(
    ctx: &Ctx,
    project_id: &str,
    email: &str,
    factors: &[AuthFactor],
    include_eligible: bool,
) -> CoreResult<Vec<Discovered>> {
    let mut out = Vec::new();
    let members = ctx.store.members_with_email(project_id, email).await?;
    let mut seen = Vec::new();
    for m in members {
        let membership_type = match m.status.as_str() {
            STATUS_ACTIVE => "active_member",
            STATUS_PENDING => "pending_member",
            STATUS_INVITED => "invited_member",
            _ => continue,
        };
        let org = organizations::get(ctx, project_id, &m.organization_id).await?;
        seen.push(org.organization_id.clone());
        out.push(Discovered {
            primary_required: auth_flow::primary_missing(&org, &m, factors),
            mfa_required: auth_flow::mfa_missing(&org, &m, factors),
            member: Some(MemberView::load(ctx, m, org.clone()).await?),
            organization: org,
            membership_type,
        });
    }
    if include_eligible && factors.iter().any(|f| proves_email(f, email)) {
        for org in eligible_by_domain(ctx, project_id, validate::email_domain(email), &seen).await? {
            out.push(Discovered {
                organization: org,
                membership_type: "eligible_to_join_by_email_domain",
                member: None,
                primary_required: None,
                mfa_required: None,
            });
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
pub struct SendInput {
    pub email_address: String,
    pub discovery_expiration_minutes: Option<i64>,
    pub login_template_id: Option<String>,
    pub locale: Option<String>,
}

pub async fn otp_send(
    ctx: &Ctx,
    project_id: &str,
    input: SendInput,
    client: Option<&crate::service::address_guard::ClientIp>,
) -> CoreResult<()> {
    let email = validate::normalize_email(&input.email_address)?;
    let minutes = otps::email_minutes(input.discovery_expiration_minutes)?;
    let locale = templates::locale(input.locale.as_deref())?;

    crate::service::address_guard::send(ctx, client).await?;
    let minutes_text = minutes.to_string();
    otps::send_code(ctx, project_id, SCOPE, Channel::Email, &email, None, minutes, |code| {
        let vars = [
            ("code", code),
            ("minutes", minutes_text.as_str()),
            ("email", email.as_str()),
        ];
        let template = input.login_template_id.as_deref();
        Ok((
            Kind::DiscoveryOtp,
            locale,
            ctx.render(project_id, template, Kind::DiscoveryOtp, locale, &vars, None)?,
        ))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct OtpAuthenticateInput {
    pub email_address: String,
    pub code: String,
}

pub struct DiscoveryResult {
    pub intermediate_session_token: String,
    pub email: String,
    pub discovered: Vec<Discovered>,
    pub organization_id_hint: Option<String>,
}

pub async fn otp_authenticate(ctx: &Ctx, project_id: &str, input: OtpAuthenticateInput) -> CoreResult<DiscoveryResult> {
    let email = validate::normalize_email(&input.email_address)?;
    otps::verify_code(ctx, project_id, SCOPE, Channel::Email, &email, &input.code).await?;
    with_factors(ctx, project_id, &email, vec![email_factor(&email)]).await
}

/// An email factor proven before any member exists.
pub fn email_factor(email: &str) -> AuthFactor {
    AuthFactor::email_otp(&email_id(email), email, Timestamp::now())
}

/// A discovery intermediate session holding `factors` for `email`, and what it can enter.
pub async fn with_factors(
    ctx: &Ctx,
    project_id: &str,
    email: &str,
    factors: Vec<AuthFactor>,
) -> CoreResult<DiscoveryResult> {
    let discovered = discover(ctx, project_id, email, &factors, true).await?;
    let (_, token) = intermediate::create(ctx, project_id, None, None, email, factors).await?;
    Ok(DiscoveryResult {
        intermediate_session_token: token,
        email: email.to_string(),
        discovered,
        organization_id_hint: None,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ListInput {
    pub intermediate_session_token: Option<String>,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
}

/// Lists what an intermediate session or a member session can enter; consumes nothing.
pub async fn list(ctx: &Ctx, project_id: &str, input: ListInput) -> CoreResult<DiscoveryResult> {
    let given = [
        &input.intermediate_session_token,
        &input.session_token,
        &input.session_jwt,
    ]
    .iter()
    .filter(|t| t.as_deref().is_some_and(|s| !s.is_empty()))
    .count();
    if given != 1 {
        return Err(CoreError::invalid(
            if given == 0 {
                "no_session_arguments"
            } else {
                "too_many_session_arguments"
            },
            "Pass exactly one of intermediate_session_token, session_token or session_jwt.",
        ));
    }
    if let Some(t) = input.intermediate_session_token.as_deref().filter(|t| !t.is_empty()) {
        let ist = intermediate::load(ctx, project_id, t).await?;
        let discovered = discover(ctx, project_id, &ist.email, &ist.factors, true).await?;
        return Ok(DiscoveryResult {
            intermediate_session_token: String::new(),
            email: ist.email,
            discovered,
            organization_id_hint: ist.organization_id,
        });
    }
    let (session, _) = sessions::resolve(
        ctx,
        project_id,
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?
    .ok_or_else(|| CoreError::invalid("no_session_arguments", "Pass a session."))?;
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
    pub organization_id: String,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

fn ist_usable_for_discovery(ist: &IntermediateRecord, org: &OrgRecord) -> CoreResult<()> {
    // An IST from an organization-scoped login (e.g. a password) only enters that organization.
    if ist.organization_id.as_deref().is_some_and(|o| o != org.organization_id) {
        return Err(auth_flow::wrong_organization());
    }
    Ok(())
}

/// Joins `org` with the IST's factors: an existing membership, or a JIT-provisioned one when the
/// organization's email-domain rule allows and the IST verified the email.
pub async fn exchange(ctx: &Ctx, project_id: &str, input: ExchangeInput) -> CoreResult<(MemberView, Outcome)> {
    sessions::check_duration(input.session_duration_minutes)?;
    let ist = intermediate::load(ctx, project_id, &input.intermediate_session_token).await?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    ist_usable_for_discovery(&ist, &org)?;
    let existing = ctx
        .store
        .member_by_email(project_id, &org.organization_id, &ist.email)
        .await?
        .filter(|m| m.status != STATUS_DELETED);
    let verified = ist.factors.iter().any(|f| proves_email(f, &ist.email));
    let member = match existing {
        // The IST's email factor proved this address for the membership too.
        Some(m) if verified => verify_email(ctx, m).await?,
        Some(m) => m,
        None => {
            if !(verified && otps::jit_allowed(&org, &ist.email)) {
                return Err(CoreError::forbidden(
                    "email_jit_provisioning_not_allowed",
                    "This email has no member in the organization, and the organization does not allow it to join.",
                ));
            }
            let v = members::create(
                ctx,
                project_id,
                &org.organization_id,
                MemberInput {
                    email_address: Some(ist.email.clone()),
                    ..Default::default()
                },
                None,
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
pub async fn create_organization(ctx: &Ctx, project_id: &str, input: CreateInput) -> CoreResult<(MemberView, Outcome)> {
    sessions::check_duration(input.session_duration_minutes)?;
    let ist = intermediate::load(ctx, project_id, &input.intermediate_session_token).await?;
    if ist.organization_id.is_some() {
        return Err(CoreError::invalid(
            "invalid_intermediate_session_token_for_organization",
            "This intermediate session belongs to an organization login and cannot create organizations.",
        ));
    }
    if !ist.factors.iter().any(|f| proves_email(f, &ist.email)) {
        return Err(CoreError::invalid(
            "insufficient_factors",
            "Creating an organization needs a verified email (e.g. an email OTP).",
        ));
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
    let v = members::create(ctx, project_id, &org.organization_id, admin, None).await?;
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
