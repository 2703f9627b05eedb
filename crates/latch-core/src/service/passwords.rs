//! Password use cases: strength check, migrate (import a hash from another system), authenticate.
//!
//! Authentication costs the same whether or not the account exists (a dummy argon2id hash is
//! verified), failures are counted per email address in the database (so every node sees them),
//! and the member is locked once the limit is reached; a locked member is refused before the
//! password is even checked, so the lock cannot be used as an oracle.

use crate::engine::actor::Caller;
use crate::engine::address_guard::ClientIp;
use crate::engine::auth_flow::{Outcome, PrimaryAuth};
use crate::engine::members::MemberInput;
use crate::engine::passwords::{
    bad_credentials, cross_org_enabled, evaluate, reset_required, store_password, Verified,
};
use crate::engine::{auth_flow, members, organizations, passwords, session, Ctx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{OrganizationId, ProjectId};
use crate::model::session::AuthFactor;
use crate::password::imported::{self, HashConfigs};
use crate::password::policy::StrengthReport;
use crate::password::GivenPassword;
use crate::rules::args::SessionArgs;
use crate::rules::session::check_duration;
use crate::store::retry::modify_member;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

pub use crate::engine::members::MemberView;

#[derive(Debug, Deserialize)]
pub struct DiscoveryAuthenticateInput {
    pub email_address: String,
    pub password: GivenPassword,
}

/// Cross-org login: the shared password of `email`, then the organizations it can enter.
pub async fn discovery_authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: DiscoveryAuthenticateInput,
    client: Option<&ClientIp>,
) -> CoreResult<crate::engine::discovery::DiscoveryResult> {
    cross_org_enabled(ctx, project_id).await?;
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
    let verified = passwords::verify(ctx, project_id, &org_id, &email, &input.password, client).await?;
    let Verified::Yes(v) = verified else {
        return Err(bad_credentials());
    };
    if v.stored.require_reset {
        return Err(reset_required());
    }
    let policy = ctx.project_config(project_id).await?.settings.password;
    if policy.breach_detection_on_authenticate
        && evaluate(ctx, project_id, &input.password, Some(&email), true)
            .await?
            .breached_password
    {
        return Err(reset_required());
    }
    crate::engine::discovery::with_factors(ctx, project_id, &email, vec![AuthFactor::password(ctx.now())]).await
}

pub async fn strength_check(
    ctx: &Ctx,
    project_id: &ProjectId,
    password: &str,
    email: Option<&str>,
) -> CoreResult<StrengthReport> {
    let detect = ctx
        .project_config(project_id)
        .await?
        .settings
        .password
        .breach_detection_on_create;
    evaluate(ctx, project_id, password, email, detect).await
}

#[derive(Debug, Deserialize)]
pub struct MigrateInput {
    pub email_address: String,
    pub hash: String,
    pub hash_type: String,
    pub organization_id: OrganizationId,
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

pub async fn migrate(ctx: &Ctx, project_id: &ProjectId, input: MigrateInput) -> CoreResult<(MemberView, bool)> {
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
            members::create(ctx, project_id, &org.organization_id, create, &Caller::Project).await?
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
            members::update(
                ctx,
                project_id,
                &org.organization_id,
                &m.member_id,
                update,
                &Caller::Project,
            )
            .await?
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
    pub organization_id: OrganizationId,
    pub email_address: String,
    pub password: GivenPassword,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

pub async fn authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: AuthenticateInput,
    client: Option<&ClientIp>,
) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let org = organizations::get(ctx, project_id, &input.organization_id).await?;
    let email = validate::normalize_email(&input.email_address)?;
    let verified = passwords::verify(ctx, project_id, &org.organization_id, &email, &input.password, client).await?;
    let (member, stored, hash) = match verified {
        Verified::Yes(v) => (v.member, v.stored, v.hash),
        Verified::No => return Err(bad_credentials()),
    };
    let mut member = member;
    if stored.require_reset {
        crate::engine::audit::detail("cause", "reset_required");
        return Err(reset_required());
    }
    let policy = ctx.project_config(project_id).await?.settings.password;
    if policy.breach_detection_on_authenticate || policy.validate_on_authenticate {
        let report = evaluate(
            ctx,
            project_id,
            &input.password,
            Some(&email),
            policy.breach_detection_on_authenticate,
        )
        .await?;
        let breached = policy.breach_detection_on_authenticate && report.breached_password;
        let weak = policy.validate_on_authenticate && !report.valid_password;
        if breached || weak {
            let cause = if breached { "breached_password" } else { "weak_password" };
            crate::engine::audit::detail("cause", cause);
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
        record.updated_at = ctx.now();
        ctx.store.save_password(&mut member, &record).await?;
    }
    member.lock_created_at = None;
    member.lock_expires_at = None;
    let session = session::resolve(
        ctx,
        project_id,
        input.session.session_token.as_deref(),
        input.session.session_jwt.as_deref(),
    )
    .await?;
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org: &org,
            factors: vec![AuthFactor::password(ctx.now())],
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
