//! Member use cases: create, read, update, delete and reactivate, search, and the helpers that
//! remove one credential (password, MFA phone, TOTP, retired email, external id).

use crate::delivery::templates::{self, Kind};
use crate::delivery::Channel;
use crate::engine::actor::Caller;
use crate::engine::links::{self, LinkEmail};
use crate::engine::members as records;
use crate::engine::members::{live_member, save, view, Write};
use crate::engine::{codes, email_updates, organizations, redirects, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::links::LinkPurpose;
use crate::model::member::*;
use crate::model::organization::OrgRecord;
use crate::model::search::{parse_member_query, Page};
use crate::rbac::MEMBER;
use crate::settings::RedirectType;
use crate::store::{retry, Found};
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

/// Create, get and update are the engine's member writes: other families provision members too.
pub use crate::engine::members::{create, get, update, MemberInput, MemberView};

pub async fn dangerously_get(
    ctx: &Ctx,
    project_id: &ProjectId,
    member_id: &MemberId,
    include_deleted: bool,
) -> CoreResult<MemberView> {
    let m = ctx.store.member_by_id(project_id, member_id).await?;
    let m = match m {
        Some(m) if include_deleted || m.status != MemberStatus::Deleted => m,
        _ => return Err(CoreError::member_not_found()),
    };
    let org = organizations::get(ctx, project_id, &m.organization_id).await?;
    view(ctx, m, org).await
}

/// Soft delete: the member keeps its id for `reactivate`; its retired emails are released.
pub async fn delete(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    caller: &Caller,
) -> CoreResult<MemberId> {
    // A write that lost a race to another reads again and re-applies the request (Stytch would succeed).
    retry::on_conflict(|| async {
        let (mut m, _org) = live_member(ctx, project_id, org_locator, member_locator).await?;
        let grant = caller.require_on_member(&m, "delete")?;
        records::soft_delete(ctx, &grant, &mut m).await?;
        Ok(m.member_id)
    })
    .await
}

pub async fn reactivate(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_id: &MemberId,
    caller: &Caller,
) -> CoreResult<MemberView> {
    // A write that lost a race to another reads again and re-applies the request (Stytch would succeed).
    retry::on_conflict(|| async {
        let org = organizations::get(ctx, project_id, org_locator).await?;
        let grant = caller.require(&org.organization_id, MEMBER, "reactivate")?;
        // Only the member id is accepted here, not an external id.
        let m = ctx.store.member_by_id(project_id, member_id).await?;
        let mut m = match m {
            Some(m) if m.organization_id == org.organization_id => m,
            _ => return Err(CoreError::member_not_found()),
        };
        if m.status != MemberStatus::Deleted {
            return Err(crate::error::catalogue::NO_DELETED_MEMBER_FOUND_FOR_REACTIVATION.err());
        }
        if !m.email_verified {
            return Err(crate::error::catalogue::EMAIL_UNVERIFIED_FOR_REACTIVATION.err());
        }
        if ctx
            .store
            .member_by_email(project_id, &org.organization_id, &m.email)
            .await?
            .is_some()
        {
            return Err(crate::error::catalogue::REACTIVATION_EMAIL_BELONGS_TO_ANOTHER_MEMBER.err());
        }
        m.status = MemberStatus::Active;
        save(ctx, &grant, &mut m, Write::Plain).await?;
        view(ctx, m, org).await
    })
    .await
}

pub async fn delete_password(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    password_id: &str,
    caller: &Caller,
) -> CoreResult<MemberView> {
    // A write that lost a race to another reads again and re-applies the request (Stytch would succeed).
    retry::on_conflict(|| async {
        let org = organizations::get(ctx, project_id, org_locator).await?;
        let not_found = || crate::error::catalogue::MEMBER_PASSWORD_NOT_FOUND.err();
        if password_id.is_empty() {
            return Err(not_found());
        }
        let mut m = ctx
            .store
            .member_by_password_id(project_id, &org.organization_id, password_id)
            .await?
            .filter(|m| m.status != MemberStatus::Deleted)
            .ok_or_else(not_found)?;
        let grant = caller.require_on_member(&m, "update.info.delete.password")?;
        m.member_password_id = String::new();
        save(ctx, &grant, &mut m, Write::Plain).await?;
        records::remove_password(ctx, &grant, &m).await?;
        view(ctx, m, org).await
    })
    .await
}

pub async fn delete_mfa_phone_number(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    caller: &Caller,
) -> CoreResult<MemberView> {
    // A write that lost a race to another reads again and re-applies the request (Stytch would succeed).
    retry::on_conflict(|| async {
        let (mut m, org) = live_member(ctx, project_id, org_locator, member_locator).await?;
        let grant = caller.require_on_member(&m, "update.info.delete.mfa-phone")?;
        if m.mfa_phone_number.is_empty() {
            return Err(crate::error::catalogue::MEMBER_PHONE_NUMBER_NOT_FOUND.err());
        }
        m.mfa_phone_number = String::new();
        m.mfa_phone_verified = false;
        if m.default_mfa_method == "sms_otp" {
            m.default_mfa_method = String::new();
        }
        save(ctx, &grant, &mut m, Write::Plain).await?;
        view(ctx, m, org).await
    })
    .await
}

pub async fn delete_totp(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    caller: &Caller,
) -> CoreResult<MemberView> {
    // A write that lost a race to another reads again and re-applies the request (Stytch would succeed).
    retry::on_conflict(|| async {
        let (mut m, org) = live_member(ctx, project_id, org_locator, member_locator).await?;
        let grant = caller.require_on_member(&m, "update.info.delete.totp")?;
        if m.totp_registration_id.is_empty() {
            return Err(crate::error::catalogue::TOTP_NOT_FOUND.err());
        }
        records::remove_totp(ctx, &grant, &m).await?;
        m.totp_registration_id = String::new();
        if m.default_mfa_method == "totp" {
            m.default_mfa_method = String::new();
        }
        save(ctx, &grant, &mut m, Write::Plain).await?;
        view(ctx, m, org).await
    })
    .await
}

pub async fn delete_external_id(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    caller: &Caller,
) -> CoreResult<MemberView> {
    // A write that lost a race to another reads again and re-applies the request (Stytch would succeed).
    retry::on_conflict(|| async {
        let (mut m, org) = live_member(ctx, project_id, org_locator, member_locator).await?;
        let grant = caller.require(&m.organization_id, MEMBER, "update.info.external-id")?;
        m.external_id = None;
        save(ctx, &grant, &mut m, Write::Plain).await?;
        view(ctx, m, org).await
    })
    .await
}

pub async fn unlink_retired_email(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    email_id: Option<&str>,
    email_address: Option<&str>,
    caller: &Caller,
) -> CoreResult<MemberView> {
    let (m, org) = live_member(ctx, project_id, org_locator, member_locator).await?;
    let grant = caller.require(&m.organization_id, MEMBER, "update.info.email")?;
    let retired = ctx
        .store
        .retired_emails(project_id, std::slice::from_ref(&m.member_id))
        .await?;
    let email_address = email_address.map(|e| e.trim().to_lowercase());
    let found = match (email_id, email_address.as_deref()) {
        (None, None) => return Err(CoreError::argument("email_id", "email_id or email_address is required")),
        (Some(id), addr) => {
            let r = retired.iter().find(|r| r.email_id == id);
            if let (Some(r), Some(addr)) = (r, addr) {
                if r.email_address != addr {
                    return Err(CoreError::argument(
                        "email_address",
                        "does not match the retired email with this email_id",
                    ));
                }
            }
            r
        }
        (None, Some(addr)) => retired.iter().find(|r| r.email_address == addr),
    };
    let Some(found) = found else {
        return Err(crate::error::catalogue::RETIRED_EMAIL_NOT_FOUND.err());
    };
    records::release_retired_email(ctx, &grant, project_id, &found.email_id).await?;
    view(ctx, m, org).await
}

pub struct MemberSearch {
    pub found: Found<MemberRecord>,
    pub organizations: Vec<OrgRecord>,
    pub retired: Vec<RetiredEmail>,
    pub sso: Vec<crate::model::sso::SsoRegistration>,
    pub oauth: Vec<crate::model::oauth::OAuthRegistrationRecord>,
    /// `scim_registration` of the members a SCIM connection provisioned.
    pub scim: Vec<(MemberId, Value)>,
}

pub async fn search(
    ctx: &Ctx,
    project_id: &ProjectId,
    organization_ids: &[String],
    query: Option<&Value>,
    cursor: Option<&str>,
    limit: Option<i64>,
    caller: &Caller,
) -> CoreResult<MemberSearch> {
    crate::model::search::check_search_organization_ids(organization_ids)?; // finding 14 (h-tenant)
    let query = parse_member_query(query)?;
    let page = Page::parse(cursor, limit)?;
    let mut orgs: Vec<OrgRecord> = Vec::with_capacity(organization_ids.len());
    for locator in organization_ids {
        let org = organizations::get(ctx, project_id, locator).await?;
        caller.require(&org.organization_id, MEMBER, "search")?;
        if !orgs.iter().any(|o| o.organization_id == org.organization_id) {
            orgs.push(org);
        }
    }
    let org_ids: Vec<OrganizationId> = orgs.iter().map(|o| o.organization_id.clone()).collect();
    let found = ctx.store.search_members(project_id, &org_ids, &query, &page).await?;
    let member_ids: Vec<MemberId> = found.items.iter().map(|m| m.member_id.clone()).collect();
    let (retired, sso, oauth, scim) = if member_ids.is_empty() {
        (vec![], vec![], vec![], vec![])
    } else {
        (
            ctx.store.retired_emails(project_id, &member_ids).await?,
            ctx.store.sso_registrations(project_id, &member_ids).await?,
            ctx.store.oauth_registrations(project_id, &member_ids).await?,
            records::scim_registrations(ctx, project_id, &member_ids).await?,
        )
    };
    orgs.retain(|o| found.items.iter().any(|m| m.organization_id == o.organization_id));
    Ok(MemberSearch {
        found,
        organizations: orgs,
        retired,
        sso,
        oauth,
        scim,
    })
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = members::StartEmailUpdateInput))]
pub struct StartEmailUpdateInput {
    pub email_address: String,
    pub login_redirect_url: Option<String>,
    pub locale: Option<String>,
    pub login_template_id: Option<String>,
    pub delivery_method: Option<String>,
}

/// Self-serve email update: holds the new address for the member for five minutes and sends a
/// magic link (default) or a login code to it; magic_links.authenticate or otps.email.authenticate
/// with the new address completes it. With a member session the caller needs `update.info.email`
/// on the member (`stytch.self` grants it on the caller's own record when the policy says so).
pub async fn start_email_update(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    input: StartEmailUpdateInput,
    caller: &Caller,
) -> CoreResult<MemberView> {
    let by_link = match input.delivery_method.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("") | Some("EMAIL_MAGIC_LINK") => true,
        Some("EMAIL_OTP") => false,
        Some(_) => {
            return Err(CoreError::argument(
                "delivery_method",
                "must be EMAIL_MAGIC_LINK or EMAIL_OTP",
            ))
        }
    };
    let (member, org) = live_member(ctx, project_id, org_locator, member_locator).await?;
    let grant = caller.require_on_member(&member, "update.info.email")?;
    let email = validate::normalize_email(&input.email_address)?;
    let locale = templates::locale(input.locale.as_deref())?;
    let template_id = input.login_template_id.as_deref();
    let redirect = if by_link {
        links::check_template(ctx, project_id, template_id, Kind::EmailUpdateMagicLink)?;
        Some(
            redirects::required(
                ctx,
                project_id,
                RedirectType::Login,
                input.login_redirect_url.as_deref(),
            )
            .await?,
        )
    } else {
        links::check_template(ctx, project_id, template_id, Kind::LoginOtp)?;
        None
    };
    email_updates::check(ctx, &member, &email).await?;
    let minutes = email_updates::MINUTES;
    match &redirect {
        Some(redirect) => {
            let counted = links::count(ctx, project_id, &email).await?;
            links::send(
                ctx,
                project_id,
                counted,
                LinkEmail {
                    purpose: LinkPurpose::EmailUpdate,
                    kind: Kind::EmailUpdateMagicLink,
                    org: Some(&org),
                    member_id: Some(&member.member_id),
                    email: &email,
                    redirect,
                    minutes,
                    challenge: None,
                    locale,
                    template_id,
                },
            )
            .await?
        }
        None => {
            let minutes_text = minutes.to_string();
            let template = ctx.template(project_id, template_id, Kind::LoginOtp).await?;
            codes::send_code(
                ctx,
                project_id,
                &org.organization_id,
                Channel::Email,
                &email,
                Some(&member.member_id),
                minutes,
                |code| {
                    let vars = [
                        ("org", org.name.as_str()),
                        ("code", code),
                        ("minutes", minutes_text.as_str()),
                        ("email", email.as_str()),
                    ];
                    Ok((
                        Kind::LoginOtp,
                        locale,
                        template.render(Kind::LoginOtp, locale, &vars, None),
                    ))
                },
            )
            .await?
        }
    }
    // Held only once the message went out: a refused send replaces no earlier pending update.
    email_updates::hold(ctx, &grant, &member, &email).await?;
    view(ctx, member, org).await
}
