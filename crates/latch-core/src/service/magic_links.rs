//! Email magic links (magic_links.md): login or signup, invitations, discovery, and the one
//! authenticate endpoint that also completes `start_email_update` links.
//!
//! Everything a request names (redirect URLs, templates, lifetimes, locale) is checked before a
//! member is created or a link stored, so a refused request sends and writes nothing.

use crate::delivery::templates::{self, Kind};
use crate::engine::actor::Caller;
use crate::engine::address_guard::{self, ClientIp};
use crate::engine::auth_flow::{Outcome, PrimaryAuth};
use crate::engine::discovery::{magic_link_factor, with_factors, DiscoveryResult};
use crate::engine::links::{self, LinkEmail};
use crate::engine::members::{MemberInput, MemberView};
use crate::engine::{auth_flow, email_updates, members, organizations, redirects, session, Ctx};
use crate::error::CoreResult;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::links::{LinkPurpose, MagicLinkRecord};
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::session::AuthFactor;
use crate::rules::args::SessionArgs;
use crate::rules::requirements::{invite_allowed, jit_allowed};
use crate::rules::session::check_duration;
use crate::settings::RedirectType;
use crate::store::retry::modify_member;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = magic_links::LoginOrSignupInput))]
pub struct LoginOrSignupInput {
    pub organization_id: OrganizationId,
    pub email_address: String,
    pub login_redirect_url: Option<String>,
    pub signup_redirect_url: Option<String>,
    pub pkce_code_challenge: Option<String>,
    pub login_template_id: Option<String>,
    pub signup_template_id: Option<String>,
    pub locale: Option<String>,
    pub login_expiration_minutes: Option<i64>,
    pub signup_expiration_minutes: Option<i64>,
}

/// A login link for an active member, a signup link for a new, pending or invited one. A new
/// member (status `pending`) is created only when the organization allows JIT provisioning for
/// the email's domain.
pub async fn login_or_signup(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: LoginOrSignupInput,
    client: Option<&ClientIp>,
) -> CoreResult<(MemberView, bool)> {
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let locale = templates::locale(input.locale.as_deref())?;
    let challenge = crate::rules::pkce::bounded_challenge(input.pkce_code_challenge.as_deref())?;
    let login_minutes = links::minutes(
        "login_expiration_minutes",
        input.login_expiration_minutes,
        links::DEFAULT_MINUTES,
    )?;
    let signup_minutes = links::minutes(
        "signup_expiration_minutes",
        input.signup_expiration_minutes,
        links::DEFAULT_MINUTES,
    )?;
    // Both URLs are checked, whichever link goes out: a URL is never accepted unchecked.
    let login_url = input.login_redirect_url.as_deref();
    let signup_url = input.signup_redirect_url.as_deref();
    redirects::resolve(ctx, project_id, RedirectType::Login, login_url, false).await?;
    redirects::resolve(ctx, project_id, RedirectType::Signup, signup_url, false).await?;
    let login_template = input.login_template_id.as_deref();
    let signup_template = input.signup_template_id.as_deref();
    links::check_template(ctx, project_id, login_template, Kind::LoginMagicLink)?;
    links::check_template(ctx, project_id, signup_template, Kind::SignupMagicLink)?;

    address_guard::send(ctx, client).await?;
    let counted = links::count(ctx, project_id, &email).await?;
    let existing = ctx
        .store
        .member_by_email(project_id, &org.organization_id, &email)
        .await?;
    if existing.is_none() && !jit_allowed(&org, &email) {
        return Err(crate::error::catalogue::EMAIL_JIT_PROVISIONING_NOT_ALLOWED.err());
    }
    let login = existing.as_ref().is_some_and(|m| m.status == MemberStatus::Active);
    let (purpose, kind, minutes, template_id, redirect) = if login {
        let url = redirects::required(ctx, project_id, RedirectType::Login, login_url).await?;
        (
            LinkPurpose::Login,
            Kind::LoginMagicLink,
            login_minutes,
            login_template,
            url,
        )
    } else {
        let url = redirects::required(ctx, project_id, RedirectType::Signup, signup_url).await?;
        (
            LinkPurpose::Signup,
            Kind::SignupMagicLink,
            signup_minutes,
            signup_template,
            url,
        )
    };
    let (view, created) = match existing {
        Some(m) => (MemberView::load(ctx, m, org.clone()).await?, false),
        None => {
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
    };
    links::send(
        ctx,
        project_id,
        counted,
        LinkEmail {
            purpose,
            kind,
            org: Some(&org),
            member_id: Some(&view.member.member_id),
            email: &email,
            redirect: &redirect,
            minutes,
            challenge,
            locale,
            template_id,
        },
    )
    .await?;
    Ok((view, created))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = magic_links::InviteInput))]
pub struct InviteInput {
    pub organization_id: OrganizationId,
    pub email_address: String,
    pub invite_redirect_url: Option<String>,
    pub invited_by_member_id: Option<MemberId>,
    pub name: Option<String>,
    pub trusted_metadata: Option<Value>,
    pub untrusted_metadata: Option<Value>,
    pub invite_template_id: Option<String>,
    pub locale: Option<String>,
    pub roles: Option<Vec<String>>,
    pub invite_expiration_minutes: Option<i64>,
}

/// Invites an address into the organization: the member is created (or set) `invited` with the
/// invite's name, roles and metadata, and becomes active when it authenticates the link.
pub async fn invite(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: InviteInput,
    caller: &Caller,
    client: Option<&ClientIp>,
) -> CoreResult<MemberView> {
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let locale = templates::locale(input.locale.as_deref())?;
    let minutes = links::minutes(
        "invite_expiration_minutes",
        input.invite_expiration_minutes,
        links::INVITE_DEFAULT_MINUTES,
    )?;
    let redirect = redirects::required(
        ctx,
        project_id,
        RedirectType::Invite,
        input.invite_redirect_url.as_deref(),
    )
    .await?;
    let template_id = input.invite_template_id.as_deref();
    links::check_template(ctx, project_id, template_id, Kind::InviteMagicLink)?;
    invite_allowed(&org, &email)?;
    if let Some(by) = input.invited_by_member_id.as_deref().filter(|s| !s.is_empty()) {
        members::get(ctx, project_id, &org.organization_id, Some(by), None).await?;
    }
    address_guard::send(ctx, client).await?;
    let counted = links::count(ctx, project_id, &email).await?;
    let fields = MemberInput {
        email_address: Some(email.clone()),
        name: input.name,
        trusted_metadata: input.trusted_metadata,
        untrusted_metadata: input.untrusted_metadata,
        roles: input.roles,
        ..Default::default()
    };
    let view = members::invite(ctx, &org, fields, caller).await?;
    links::send(
        ctx,
        project_id,
        counted,
        LinkEmail {
            purpose: LinkPurpose::Invite,
            kind: Kind::InviteMagicLink,
            org: Some(&org),
            member_id: Some(&view.member.member_id),
            email: &email,
            redirect: &redirect,
            minutes,
            challenge: None,
            locale,
            template_id,
        },
    )
    .await?;
    Ok(view)
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = magic_links::AuthenticateInput))]
pub struct AuthenticateInput {
    pub magic_links_token: String,
    pub pkce_code_verifier: Option<String>,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

/// Authenticates an organization link: the member's email is verified and a pending or invited
/// member becomes active; then a session, or an intermediate session when MFA (or another
/// primary factor) is still due. An email-update link first moves the member to the new address.
pub async fn authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: AuthenticateInput,
) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let session = session::resolve(
        ctx,
        project_id,
        input.session.session_token.as_deref(),
        input.session.session_jwt.as_deref(),
    )
    .await?;
    let link = links::claim(
        ctx,
        project_id,
        &input.magic_links_token,
        input.pkce_code_verifier.as_deref(),
        false,
    )
    .await?;
    let redeemed = redeem(ctx, project_id, &link, session, &input).await;
    if redeemed.is_err() {
        links::release(ctx, &link).await;
    }
    redeemed
}

async fn redeem(
    ctx: &Ctx,
    project_id: &ProjectId,
    link: &MagicLinkRecord,
    mut session: Option<(crate::model::session::SessionRecord, session::Presented)>,
    input: &AuthenticateInput,
) -> CoreResult<(MemberView, Outcome)> {
    let (Some(org_id), Some(member_id)) = (&link.organization_id, &link.member_id) else {
        return Err(links::not_found());
    };
    let org = organizations::get(ctx, project_id, org_id).await?;
    let member = live_member(ctx, project_id, member_id, org_id).await?;
    let member = if link.purpose == LinkPurpose::EmailUpdate {
        // The member's sessions end with its old address; none carries over.
        session = None;
        email_updates::complete(ctx, member, &link.email).await?
    } else {
        if member.email != link.email {
            // Mailed to an address the member no longer has: it proves nothing about it.
            return Err(links::unusable());
        }
        let mut member = member;
        if !member.email_verified {
            modify_member(ctx.store.as_ref(), &mut member, |m| m.email_verified = true).await?;
        }
        member
    };
    let factor = AuthFactor::magic_link(&member.email_id(), &member.email, ctx.now());
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

async fn live_member(
    ctx: &Ctx,
    project_id: &ProjectId,
    member_id: &MemberId,
    org_id: &OrganizationId,
) -> CoreResult<MemberRecord> {
    ctx.store
        .member_by_id(project_id, member_id)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted && m.organization_id == org_id)
        .ok_or_else(links::not_found)
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = magic_links::DiscoverySendInput))]
pub struct DiscoverySendInput {
    pub email_address: String,
    pub discovery_redirect_url: Option<String>,
    pub pkce_code_challenge: Option<String>,
    pub login_template_id: Option<String>,
    pub locale: Option<String>,
    pub discovery_expiration_minutes: Option<i64>,
}

/// A discovery link: proves the address before any organization is chosen.
pub async fn discovery_send(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: DiscoverySendInput,
    client: Option<&ClientIp>,
) -> CoreResult<()> {
    let email = validate::normalize_email(&input.email_address)?;
    let locale = templates::locale(input.locale.as_deref())?;
    let challenge = crate::rules::pkce::bounded_challenge(input.pkce_code_challenge.as_deref())?;
    let minutes = links::minutes(
        "discovery_expiration_minutes",
        input.discovery_expiration_minutes,
        links::DEFAULT_MINUTES,
    )?;
    let redirect = redirects::required(
        ctx,
        project_id,
        RedirectType::Discovery,
        input.discovery_redirect_url.as_deref(),
    )
    .await?;
    let template_id = input.login_template_id.as_deref();
    links::check_template(ctx, project_id, template_id, Kind::DiscoveryMagicLink)?;
    address_guard::send(ctx, client).await?;
    let counted = links::count(ctx, project_id, &email).await?;
    links::send(
        ctx,
        project_id,
        counted,
        LinkEmail {
            purpose: LinkPurpose::Discovery,
            kind: Kind::DiscoveryMagicLink,
            org: None,
            member_id: None,
            email: &email,
            redirect: &redirect,
            minutes,
            challenge,
            locale,
            template_id,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = magic_links::DiscoveryAuthenticateInput))]
pub struct DiscoveryAuthenticateInput {
    pub discovery_magic_links_token: String,
    pub pkce_code_verifier: Option<String>,
}

/// Authenticates a discovery link: an intermediate session that proved the address, and the
/// organizations it can enter.
pub async fn discovery_authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: DiscoveryAuthenticateInput,
) -> CoreResult<DiscoveryResult> {
    let link = links::claim(
        ctx,
        project_id,
        &input.discovery_magic_links_token,
        input.pkce_code_verifier.as_deref(),
        true,
    )
    .await?;
    let factors = vec![magic_link_factor(&link.email, ctx.now())];
    let result = with_factors(ctx, project_id, &link.email, factors).await;
    if result.is_err() {
        links::release(ctx, &link).await;
    }
    result
}
