//! Password resets: by emailed one-time link (with optional PKCE), with a fresh session, or with
//! the current password; plus `require_reset` and delete-by-email. A reset by email or by the
//! current password revokes every session of the member; a reset with a session keeps only that
//! session.

use crate::crypto::{random_token, sha256_hex};
use crate::delivery::templates::{self, Kind};
use crate::delivery::{Channel, Message};
use crate::engine::actor::Caller;
use crate::engine::auth_flow::{Outcome, PrimaryAuth};
use crate::engine::grant::Grant;
use crate::engine::members as records;
use crate::engine::members::MemberView;
use crate::engine::passwords::{check_new_password, set_password, verify_current};
use crate::engine::{auth_flow, codes, organizations, redirects, session, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::credentials::ResetTokenRecord;
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::organization::OrgRecord;
use crate::model::session::AuthFactor;
use crate::password::GivenPassword;
use crate::rbac::MEMBER;
use crate::rules::args::SessionArgs;
use crate::rules::session::check_duration;
use crate::settings::RedirectType;
use crate::store::retry::modify_member;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

const DEFAULT_EXPIRY_MINUTES: i64 = 30;
const MAX_EXPIRY_MINUTES: i64 = 10_080;
const FRESH_FACTOR_MINUTES: i64 = 5;

#[derive(Debug, Deserialize)]
pub struct ResetStartInput {
    pub organization_id: OrganizationId,
    pub email_address: String,
    pub reset_password_redirect_url: Option<String>,
    pub reset_password_expiration_minutes: Option<i64>,
    pub code_challenge: Option<String>,
    pub login_redirect_url: Option<String>,
    pub locale: Option<String>,
    pub reset_password_template_id: Option<String>,
    pub verify_email_template_id: Option<String>,
}

/// `<redirect>?stytch_token_type=multi_tenant_passwords&token=<token>`, as Stytch builds it.
fn reset_link(redirect: &str, token: &str) -> String {
    let sep = if redirect.contains('?') { '&' } else { '?' };
    format!("{redirect}{sep}stytch_token_type=multi_tenant_passwords&token={token}")
}

/// Emails a one-time reset link to the member. The token lives only in the email; we keep its digest.
pub async fn reset_start(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: ResetStartInput,
    client: Option<&crate::engine::address_guard::ClientIp>,
) -> CoreResult<MemberView> {
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let minutes = expiry_minutes(input.reset_password_expiration_minutes)?;
    let locale = templates::locale(input.locale.as_deref())?;
    let redirect = reset_redirect(ctx, project_id, input.reset_password_redirect_url.as_deref()).await?;
    // Not used by Latch's reset email (it has no magic-link button), but never accepted unchecked.
    redirects::resolve(
        ctx,
        project_id,
        RedirectType::Login,
        input.login_redirect_url.as_deref(),
        false,
    )
    .await?;
    let template = input.reset_password_template_id.filter(|t| !t.is_empty());
    if let Some(t) = &template {
        // Checked before anything is stored or sent.
        ctx.templates.find(project_id, t, Kind::PasswordReset)?;
    }
    let challenge = input.code_challenge.filter(|c| !c.is_empty());
    let member = ctx
        .store
        .member_by_email(project_id, &org.organization_id, &email)
        .await?
        .ok_or_else(CoreError::member_not_found)?;
    crate::engine::address_guard::send(ctx, client).await?;
    let how = ResetEmail {
        redirect: &redirect,
        minutes,
        challenge,
        locale,
        template_id: template.as_deref(),
    };
    send_reset(ctx, &org, &member, how).await?;
    MemberView::load(ctx, member, org).await
}

/// Stores a one-time reset token for `member` and emails the link.
/// How a reset email is built: where its link points, how long it lives, its PKCE challenge,
/// language and template.
struct ResetEmail<'a> {
    redirect: &'a str,
    minutes: i64,
    challenge: Option<String>,
    locale: &'static str,
    template_id: Option<&'a str>,
}

async fn send_reset(ctx: &Ctx, org: &OrgRecord, member: &MemberRecord, how: ResetEmail<'_>) -> CoreResult<()> {
    let ResetEmail {
        redirect,
        minutes,
        challenge,
        locale,
        template_id,
    } = how;
    let project_id = &member.project_id;
    let email = member.email.clone();
    let template = ctx.template(project_id, template_id, Kind::PasswordReset).await?;
    // The same per-recipient budget as one-time codes (security review finding 9).
    codes::count_send_to(ctx, project_id, Channel::Email, &email).await?;
    let token = random_token(32);
    let now = ctx.now();
    ctx.store
        .insert_reset_token(&ResetTokenRecord {
            token_hash: sha256_hex(&token),
            project_id: project_id.clone(),
            organization_id: org.organization_id.clone(),
            member_id: member.member_id.clone(),
            email: email.clone(),
            code_challenge: challenge,
            created_at: now,
            expires_at: now.plus_minutes(minutes),
        })
        .await?;
    let url = reset_link(redirect, &token);
    let minutes_text = minutes.to_string();
    let vars = [
        ("org", org.name.as_str()),
        ("email", email.as_str()),
        ("minutes", minutes_text.as_str()),
    ];
    let rendered = template.render(Kind::PasswordReset, locale, &vars, Some(&url));
    let sent = ctx
        .delivery
        .send(Message {
            project_id: project_id.clone(),
            channel: Channel::Email,
            recipient: email,
            kind: Kind::PasswordReset.as_str().into(),
            locale: locale.into(),
            subject: Some(rendered.subject),
            text: rendered.text,
            html: Some(rendered.html),
            code: None,
            token: Some(token.clone()),
            url: Some(url),
        })
        .await;
    if let Err(e) = sent {
        // No live token the member never received.
        ctx.store.take_reset_token(project_id, &sha256_hex(&token)).await?;
        return Err(e);
    }
    Ok(())
}

/// The reset link's target: an allowed `reset_password_redirect_url`, else the project's default.
async fn reset_redirect(ctx: &Ctx, project_id: &ProjectId, given: Option<&str>) -> CoreResult<String> {
    redirects::required(ctx, project_id, RedirectType::ResetPassword, given).await
}

fn expiry_minutes(given: Option<i64>) -> CoreResult<i64> {
    let minutes = given.unwrap_or(DEFAULT_EXPIRY_MINUTES);
    if !(5..=MAX_EXPIRY_MINUTES).contains(&minutes) {
        return Err(crate::error::catalogue::INVALID_EXPIRATION.err());
    }
    Ok(minutes)
}

#[derive(Debug, Deserialize)]
pub struct DiscoveryResetStartInput {
    pub email_address: String,
    pub reset_password_redirect_url: Option<String>,
    pub discovery_redirect_url: Option<String>,
    pub reset_password_template_id: Option<String>,
    pub reset_password_expiration_minutes: Option<i64>,
    pub pkce_code_challenge: Option<String>,
    pub locale: Option<String>,
}

/// Cross-org reset: a link for the email, whatever organization it is used in.
pub async fn discovery_reset_start(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: DiscoveryResetStartInput,
    client: Option<&crate::engine::address_guard::ClientIp>,
) -> CoreResult<()> {
    crate::engine::passwords::cross_org_enabled(ctx, project_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let minutes = expiry_minutes(input.reset_password_expiration_minutes)?;
    let locale = templates::locale(input.locale.as_deref())?;
    let redirect = reset_redirect(ctx, project_id, input.reset_password_redirect_url.as_deref()).await?;
    // Not used by Latch's reset email (it has no discovery magic link), but never accepted unchecked.
    redirects::resolve(
        ctx,
        project_id,
        RedirectType::Discovery,
        input.discovery_redirect_url.as_deref(),
        false,
    )
    .await?;
    let template = input.reset_password_template_id.filter(|t| !t.is_empty());
    if let Some(t) = &template {
        // Checked before anything is stored or sent.
        ctx.templates.find(project_id, t, Kind::PasswordReset)?;
    }
    let member = ctx
        .store
        .members_with_email(project_id, &email)
        .await?
        .into_iter()
        .next()
        .ok_or_else(CoreError::member_not_found)?;
    let org = organizations::get(ctx, project_id, &member.organization_id).await?;
    let challenge = input.pkce_code_challenge.filter(|c| !c.is_empty());
    crate::engine::address_guard::send(ctx, client).await?;
    let how = ResetEmail {
        redirect: &redirect,
        minutes,
        challenge,
        locale,
        template_id: template.as_deref(),
    };
    send_reset(ctx, &org, &member, how).await
}

#[derive(Debug, Deserialize)]
pub struct DiscoveryResetInput {
    pub password_reset_token: String,
    pub password: GivenPassword,
    pub pkce_code_verifier: Option<String>,
}

/// Completes a cross-org reset: the new password for every membership of the email, all their
/// sessions revoked, and a discovery intermediate session (the link also proved the email).
pub async fn discovery_reset(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: DiscoveryResetInput,
) -> CoreResult<crate::engine::discovery::DiscoveryResult> {
    crate::engine::passwords::cross_org_enabled(ctx, project_id).await?;
    let (token_hash, mut member) = redeemable_token(
        ctx,
        project_id,
        &input.password_reset_token,
        input.pkce_code_verifier.as_deref(),
    )
    .await?;
    check_new_password(ctx, &member.project_id, &input.password, &member.email).await?;
    if !ctx.store.take_reset_token(project_id, &token_hash).await? {
        return Err(bad_token());
    }
    set_password(ctx, &mut member, &input.password, true).await?;
    for m in ctx.store.members_with_email(project_id, &member.email).await? {
        ctx.store.delete_member_sessions(project_id, &m.member_id).await?;
    }
    let factors = vec![
        AuthFactor::password(ctx.now()),
        crate::engine::discovery::email_factor(&member.email, ctx.now()),
    ];
    crate::engine::discovery::with_factors(ctx, project_id, &member.email, factors).await
}

#[derive(Debug, Deserialize)]
pub struct ResetInput {
    pub password_reset_token: String,
    pub password: GivenPassword,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub session_duration_minutes: Option<i64>,
    pub code_verifier: Option<String>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

fn bad_token() -> CoreError {
    crate::error::catalogue::UNABLE_TO_AUTH_PASSWORD_RESET_TOKEN.err()
}

/// Loads the live reset token behind `token` and the member it was issued to, checked for
/// expiry, PKCE, and that it still belongs to the member's current address: a link mailed to an
/// address the member no longer has proves nothing about the mailbox they have now. Both
/// redemption paths (org-scoped and discovery) go through here, so neither can skip a check.
/// Returns the token's digest (to take it once the new password is accepted) and the member.
async fn redeemable_token(
    ctx: &Ctx,
    project_id: &ProjectId,
    token: &str,
    code_verifier: Option<&str>,
) -> CoreResult<(String, MemberRecord)> {
    let token_hash = sha256_hex(token);
    let record = ctx
        .store
        .reset_token(project_id, &token_hash)
        .await?
        .ok_or_else(bad_token)?;
    if record.expires_at <= ctx.now() {
        ctx.store.take_reset_token(project_id, &token_hash).await?;
        return Err(bad_token());
    }
    crate::rules::pkce::check(record.code_challenge.as_deref(), code_verifier)?;
    let member = live_member(ctx, project_id, &record.member_id).await?;
    if member.email != record.email || member.organization_id != record.organization_id {
        // Stale for good: the address it was mailed to is no longer the member's.
        ctx.store.take_reset_token(project_id, &token_hash).await?;
        return Err(bad_token());
    }
    Ok((token_hash, member))
}

async fn live_member(ctx: &Ctx, project_id: &ProjectId, member_id: &MemberId) -> CoreResult<MemberRecord> {
    ctx.store
        .member_by_id(project_id, member_id)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted)
        .ok_or_else(CoreError::member_not_found)
}

/// Completes a reset link: single use, unexpired, PKCE-checked; sets the password (the link proved
/// the email), revokes every session, then signs in (or asks for MFA).
pub async fn reset_by_email(ctx: &Ctx, project_id: &ProjectId, input: ResetInput) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let (token_hash, mut member) = redeemable_token(
        ctx,
        project_id,
        &input.password_reset_token,
        input.code_verifier.as_deref(),
    )
    .await?;
    check_new_password(ctx, &member.project_id, &input.password, &member.email).await?;
    let session = session::resolve(
        ctx,
        project_id,
        input.session.session_token.as_deref(),
        input.session.session_jwt.as_deref(),
    )
    .await?;
    if !ctx.store.take_reset_token(project_id, &token_hash).await? {
        return Err(bad_token());
    }
    set_password(ctx, &mut member, &input.password, true).await?;
    ctx.store.delete_member_sessions(project_id, &member.member_id).await?;
    let org = organizations::get(ctx, project_id, &member.organization_id).await?;
    // Every earlier session was just revoked, so a presented one cannot be extended.
    let _ = session;
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org: &org,
            factors: vec![AuthFactor::password(ctx.now())],
            session: None,
            intermediate_session_token: input.session.intermediate_session_token.as_deref(),
            session_duration_minutes: input.session_duration_minutes,
            session_custom_claims: input.session_custom_claims.as_ref(),
            locale: input.locale.as_deref(),
        },
    )
    .await?;
    Ok((MemberView::load(ctx, member, org).await?, outcome))
}

#[derive(Debug, Deserialize)]
pub struct SessionResetInput {
    pub organization_id: OrganizationId,
    pub password: GivenPassword,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

/// Sets a new password with a session that proved a factor in the last five minutes; every other
/// session of the member is revoked.
pub async fn reset_by_session(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: SessionResetInput,
) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let Some((session, presented)) = session::resolve(
        ctx,
        project_id,
        input.session_token.as_deref(),
        input.session_jwt.as_deref(),
    )
    .await?
    else {
        return Err(crate::error::catalogue::NO_SESSION_ARGUMENTS.err());
    };
    if session.organization_id != org.organization_id {
        return Err(crate::error::catalogue::SESSION_ORGANIZATION_MISMATCH.err());
    }
    let fresh_since = ctx.now().plus_minutes(-FRESH_FACTOR_MINUTES);
    if !session.factors.iter().any(|f| f.last_authenticated_at >= fresh_since) {
        return Err(crate::error::catalogue::SESSION_TOO_OLD_TO_RESET_PASSWORD.err());
    }
    let mut member = live_member(ctx, project_id, &session.member_id).await?;
    check_new_password(ctx, &member.project_id, &input.password, &member.email).await?;
    set_password(ctx, &mut member, &input.password, false).await?;
    for other in ctx
        .store
        .live_sessions(project_id, &member.member_id, ctx.now())
        .await?
    {
        if other.member_session_id != session.member_session_id {
            ctx.store.delete_session(project_id, &other.member_session_id).await?;
        }
    }
    let issued = session::issue(
        ctx,
        &member,
        &org,
        vec![],
        Some((session, presented)),
        input.session_duration_minutes,
        input.session_custom_claims.as_ref(),
    )
    .await?;
    Ok((
        MemberView::load(ctx, member, org).await?,
        Outcome::Authenticated(Box::new(issued)),
    ))
}

#[derive(Debug, Deserialize)]
pub struct ExistingResetInput {
    pub email_address: String,
    pub existing_password: GivenPassword,
    pub new_password: GivenPassword,
    pub organization_id: OrganizationId,
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

/// Changes the password given the current one; every session of the member is revoked.
pub async fn reset_existing(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: ExistingResetInput,
    client: Option<&crate::engine::address_guard::ClientIp>,
) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let mut member = verify_current(
        ctx,
        project_id,
        &org.organization_id,
        &email,
        &input.existing_password,
        client,
    )
    .await?;
    check_new_password(ctx, project_id, &input.new_password, &email).await?;
    set_password(ctx, &mut member, &input.new_password, false).await?;
    ctx.store.delete_member_sessions(project_id, &member.member_id).await?;
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org: &org,
            factors: vec![AuthFactor::password(ctx.now())],
            session: None,
            intermediate_session_token: None,
            session_duration_minutes: input.session_duration_minutes,
            session_custom_claims: input.session_custom_claims.as_ref(),
            locale: input.locale.as_deref(),
        },
    )
    .await?;
    Ok((MemberView::load(ctx, member, org).await?, outcome))
}

#[derive(Debug, Deserialize)]
pub struct ByEmailInput {
    pub email_address: String,
    pub organization_id: Option<OrganizationId>,
    pub member_id: Option<MemberId>,
}

/// The members an email-addressed password operation applies to.
async fn targets(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: &ByEmailInput,
    caller: &Caller,
) -> CoreResult<(Grant, Vec<MemberRecord>)> {
    let email = validate::normalize_email(&input.email_address)?;
    let members = match (&input.organization_id, &input.member_id) {
        (Some(org), member_id) => {
            let org = organizations::get(ctx, project_id, org).await?;
            let m = match member_id {
                Some(id) => ctx
                    .store
                    .find_member(project_id, &org.organization_id, id)
                    .await?
                    .filter(|m| m.email == email),
                None => {
                    ctx.store
                        .member_by_email(project_id, &org.organization_id, &email)
                        .await?
                }
            };
            m.into_iter().filter(|m| m.status != MemberStatus::Deleted).collect()
        }
        (None, Some(id)) => ctx
            .store
            .member_by_id(project_id, id)
            .await?
            .filter(|m| m.email == email && m.status != MemberStatus::Deleted)
            .into_iter()
            .collect(),
        (None, None) => ctx.store.members_with_email(project_id, &email).await?,
    };
    if members.is_empty() {
        return Err(CoreError::member_not_found());
    }
    let grant = caller.require_all(|a| {
        for m in &members {
            a.require(&m.organization_id, MEMBER, "reset-password")?;
        }
        Ok(())
    })?;
    Ok((grant, members))
}

/// Keeps the password but refuses it until the member resets it (`member_reset_password`).
pub async fn require_reset(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: ByEmailInput,
    caller: &Caller,
) -> CoreResult<MemberView> {
    let (grant, members) = targets(ctx, project_id, &input, caller).await?;
    for m in &members {
        records::require_password_reset(ctx, &grant, m).await?;
    }
    let first = members.into_iter().next().expect("targets is never empty");
    let org = organizations::get(ctx, project_id, &first.organization_id).await?;
    MemberView::load(ctx, first, org).await
}

/// Deletes the password of the member(s) with this email (the seeds' `passwords.email.delete`).
pub async fn delete_by_email(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: ByEmailInput,
    caller: &Caller,
) -> CoreResult<MemberView> {
    let (grant, members) = targets(ctx, project_id, &input, caller).await?;
    let mut first = None;
    for mut m in members {
        if !m.member_password_id.is_empty() {
            records::remove_password(ctx, &grant, &m).await?;
            modify_member(ctx.store.as_ref(), &mut m, |m| m.member_password_id = String::new()).await?;
        }
        first.get_or_insert(m);
    }
    let first = first.expect("targets is never empty");
    let org = organizations::get(ctx, project_id, &first.organization_id).await?;
    MemberView::load(ctx, first, org).await
}
