//! Member records: validation, uniqueness, creation and update (with the per-field permissions a
//! member session needs), and the member view every answer carries. Shared by the members API and
//! by every flow that provisions or updates a member (JIT, discovery, migrate).

use crate::engine::actor::{no_trusted_metadata, Actor, Caller};
use crate::engine::audit;
use crate::engine::grant::Grant;
use crate::engine::organizations;
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult, StoreError};
use crate::ids;
use crate::ids::{MemberId, ProjectId};
pub use crate::model::member::MemberView;
use crate::model::member::*;
use crate::model::organization::{OrgRecord, MFA_METHODS};
use crate::rbac::MEMBER;
use crate::store::retry;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

/// Writable member fields; create and update share it (update is partial).
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = members::MemberInput))]
pub struct MemberInput {
    pub email_address: Option<String>,
    pub name: Option<String>,
    pub trusted_metadata: Option<Value>,
    pub untrusted_metadata: Option<Value>,
    pub create_member_as_pending: Option<bool>,
    pub is_breakglass: Option<bool>,
    pub mfa_phone_number: Option<String>,
    pub mfa_enrolled: Option<bool>,
    pub roles: Option<Vec<String>>,
    pub external_id: Option<String>,
    pub default_mfa_method: Option<String>,
    pub unlink_email: Option<bool>,
    /// Only matters for SSO-granted roles, which Latch does not have yet; accepted for the API.
    pub preserve_existing_sessions: Option<bool>,
}

impl MemberView {
    pub async fn load(ctx: &Ctx, member: MemberRecord, organization: OrgRecord) -> CoreResult<Self> {
        view(ctx, member, organization).await
    }

    /// Like `load` when the caller already knows whether the member has retired emails.
    pub async fn load_known(
        ctx: &Ctx,
        member: MemberRecord,
        organization: OrgRecord,
        has_retired_emails: bool,
    ) -> CoreResult<Self> {
        // Session checks skip the reads a member without retired emails, SSO or OAuth cannot need
        // (OAuth registrations exist only where the project signs in with a provider).
        let oauth = !ctx.settings.oauth.is_empty();
        if has_retired_emails
            || oauth
            || !organization.settings.sso_active_connections.is_empty()
            || organization.settings.scim_active_connection.is_some()
        {
            return view(ctx, member, organization).await;
        }
        Ok(MemberView {
            member,
            organization,
            retired: Vec::new(),
            sso: Vec::new(),
            oauth: Vec::new(),
            scim: None,
        })
    }

    pub fn member_json(&self) -> crate::model::member::Member<'_> {
        let mut m = self
            .member
            .view(&self.organization, &self.retired, &self.sso, &self.oauth);
        m.scim_registration = self.scim.clone();
        m
    }
}

pub(crate) async fn view(ctx: &Ctx, member: MemberRecord, organization: OrgRecord) -> CoreResult<MemberView> {
    let ids = std::slice::from_ref(&member.member_id);
    let retired = ctx.store.retired_emails(&member.project_id, ids).await?;
    let sso = ctx.store.sso_registrations(&member.project_id, ids).await?;
    let oauth = ctx.store.oauth_registrations(&member.project_id, ids).await?;
    let scim = scim_registration(ctx, &member).await?;
    Ok(MemberView {
        member,
        organization,
        retired,
        sso,
        oauth,
        scim,
    })
}

/// The member's `scim_registration`, if a SCIM connection provisioned it.
pub async fn scim_registration(ctx: &Ctx, member: &MemberRecord) -> CoreResult<Option<Value>> {
    let ids = std::slice::from_ref(&member.member_id);
    Ok(scim_registrations(ctx, &member.project_id, ids)
        .await?
        .into_iter()
        .next()
        .map(|(_, v)| v))
}

/// The `scim_registration` of each of these members that a SCIM connection provisioned.
pub async fn scim_registrations(
    ctx: &Ctx,
    project_id: &ProjectId,
    member_ids: &[MemberId],
) -> CoreResult<Vec<(MemberId, Value)>> {
    let users = ctx.store.scim_users_of_members(project_id, member_ids).await?;
    let mut groups: Vec<crate::model::scim::ScimGroupRecord> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for u in &users {
        if !seen.contains(&u.connection_id.as_str()) {
            seen.push(&u.connection_id);
            groups.extend(ctx.store.scim_groups(project_id, &u.connection_id).await?);
        }
    }
    Ok(users
        .iter()
        .map(|u| (u.member_id.clone(), u.registration(&groups)))
        .collect())
}

fn validate_roles(roles: Vec<String>) -> CoreResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(roles.len());
    for r in roles {
        if r.trim().is_empty() || r.len() > 128 {
            return Err(crate::error::catalogue::INVALID_RBAC_ROLE_ID.err());
        }
        if r == ROLE_MEMBER {
            return Err(crate::error::catalogue::INVALID_RBAC_ROLE_ASSIGNMENT.err());
        }
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

fn validate_metadata(input: &MemberInput) -> CoreResult<()> {
    if let Some(md) = &input.trusted_metadata {
        validate::metadata("trusted_metadata", md)?;
    }
    if let Some(md) = &input.untrusted_metadata {
        validate::metadata("untrusted_metadata", md)?;
    }
    Ok(())
}

/// The identifiers a member holds must be free in its organization: email (also among other
/// members' retired emails), external id and MFA phone number.
async fn check_unique(ctx: &Ctx, m: &MemberRecord) -> CoreResult<()> {
    let (p, o) = (&m.project_id, &m.organization_id);
    if let Some(other) = ctx.store.member_by_email(p, o, &m.email).await? {
        if other.member_id != m.member_id {
            return Err(crate::error::catalogue::DUPLICATE_MEMBER_EMAIL.err());
        }
    }
    if let Some(owner) = ctx.store.retired_email_owner(p, o, &m.email).await? {
        if owner.member_id != m.member_id {
            return Err(crate::error::catalogue::RETIRED_MEMBER_EMAIL.err());
        }
    }
    if let Some(ext) = &m.external_id {
        if let Some(other) = ctx.store.member_by_external_id(p, o, ext).await? {
            if other.member_id != m.member_id {
                return Err(crate::error::catalogue::DUPLICATE_MEMBER_EXTERNAL_ID.err());
            }
        }
    }
    if !m.mfa_phone_number.is_empty() {
        if let Some(other) = ctx.store.member_by_phone(p, o, &m.mfa_phone_number).await? {
            if other.member_id != m.member_id {
                return Err(crate::error::catalogue::DUPLICATE_MEMBER_PHONE_NUMBER.err());
            }
        }
    }
    Ok(())
}

async fn on_write_error(ctx: &Ctx, m: &MemberRecord, e: StoreError) -> CoreError {
    match e {
        StoreError::UniqueViolation => match check_unique(ctx, m).await {
            Err(specific) => specific,
            Ok(()) => crate::error::catalogue::DUPLICATE_MEMBER_EMAIL.err(),
        },
        other => other.into(),
    }
}

/// How a member is written back: as is, or with a new email address.
pub enum Write<'a> {
    Plain,
    /// Sessions whose factors proved the old address, and reset links sent to it, end with it:
    /// otherwise they would act for the new address (and carry into its other organizations).
    EmailChange {
        retire: Option<&'a RetiredEmail>,
    },
}

/// Writes the member back; the grant shows the caller was allowed to.
pub async fn save(ctx: &Ctx, _: &Grant, m: &mut MemberRecord, write: Write<'_>) -> CoreResult<()> {
    m.updated_at = ctx.now();
    check_unique(ctx, m).await?;
    let written = match write {
        Write::Plain => ctx.store.update_member(m, None).await,
        Write::EmailChange { retire } => ctx.store.change_member_email(m, retire).await,
    };
    if let Err(e) = written {
        return Err(on_write_error(ctx, m, e).await);
    }
    audit::member(m);
    Ok(())
}

fn default_mfa_method(v: &str) -> CoreResult<()> {
    validate::one_of(
        "default_mfa_method",
        v,
        MFA_METHODS,
        crate::error::catalogue::INVALID_MFA_DEFAULT_METHOD,
    )
}

/// members.create for a caller: with a member session, `create` and each given field's action.
pub async fn create(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    input: MemberInput,
    caller: &Caller,
) -> CoreResult<MemberView> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require_all(|a| authorize_create(a, &org, &input))?;
    let status = requested_status(&input);
    create_in(ctx, &grant, org, input, status).await
}

/// A member the engine adds on its own account: JIT provisioning by email domain, the first
/// admin of an organization created through discovery.
pub async fn provision(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    input: MemberInput,
) -> CoreResult<MemberView> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let status = requested_status(&input);
    create_in(ctx, &Grant::engine(), org, input, status).await
}

fn requested_status(input: &MemberInput) -> MemberStatus {
    if input.create_member_as_pending == Some(true) {
        MemberStatus::Pending
    } else {
        MemberStatus::Active
    }
}

/// magic_links.email.invite's member: a new member is created `invited`; a `pending` or
/// `invited` one becomes `invited` with the invite's name, roles and metadata; an active member
/// cannot be invited. With a member session the caller needs what creating the member would.
pub async fn invite(ctx: &Ctx, org: &OrgRecord, input: MemberInput, caller: &Caller) -> CoreResult<MemberView> {
    let grant = caller.require_all(|a| authorize_create(a, org, &input))?;
    retry::on_conflict(|| invite_once(ctx, &grant, org, input.clone())).await
}

async fn invite_once(ctx: &Ctx, grant: &Grant, org: &OrgRecord, input: MemberInput) -> CoreResult<MemberView> {
    let Some(email) = input.email_address.as_deref() else {
        return Err(CoreError::argument("email_address", "missing field"));
    };
    let email = validate::normalize_email(email)?;
    let existing = ctx
        .store
        .member_by_email(&org.project_id, &org.organization_id, &email)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted);
    let Some(mut m) = existing else {
        return create_in(ctx, grant, org.clone(), input, MemberStatus::Invited).await;
    };
    if m.status == MemberStatus::Active {
        return Err(crate::error::catalogue::DUPLICATE_MEMBER_EMAIL.err());
    }
    validate_metadata(&input)?;
    if let Some(name) = input.name {
        check_name(&name)?;
        m.name = name;
    }
    if let Some(md) = input.trusted_metadata {
        m.trusted_metadata = md;
    }
    if let Some(md) = input.untrusted_metadata {
        m.untrusted_metadata = md;
    }
    if let Some(roles) = input.roles {
        m.roles = validate_roles(roles)?;
    }
    m.status = MemberStatus::Invited;
    save(ctx, grant, &mut m, Write::Plain).await?;
    view(ctx, m, org.clone()).await
}

fn check_name(name: &str) -> CoreResult<()> {
    if name.chars().count() > 1024 {
        return Err(CoreError::argument("name", "must be at most 1024 characters"));
    }
    validate::display_text("name", name) // no control characters (h-tenant)
}

async fn create_in(
    ctx: &Ctx,
    grant: &Grant,
    org: OrgRecord,
    input: MemberInput,
    status: MemberStatus,
) -> CoreResult<MemberView> {
    let project_id = &org.project_id;
    let Some(email) = input.email_address.as_deref() else {
        return Err(CoreError::argument("email_address", "missing field"));
    };
    let email = validate::normalize_email(email)?;
    validate_metadata(&input)?;
    if let Some(ext) = &input.external_id {
        validate::member_external_id(ext)?;
    }
    let phone = input
        .mfa_phone_number
        .as_deref()
        .map(validate::phone_number)
        .transpose()?;
    if let Some(m) = input.default_mfa_method.as_deref() {
        default_mfa_method(m)?;
    }
    let roles = validate_roles(input.roles.unwrap_or_default())?;
    let name = input.name.unwrap_or_default();
    check_name(&name)?;
    let now = ctx.now();
    let m = MemberRecord {
        version: 0,
        project_id: project_id.clone(),
        organization_id: org.organization_id.clone(),
        member_id: MemberId::generate(),
        email,
        status,
        name,
        external_id: input.external_id,
        is_breakglass: input.is_breakglass.unwrap_or(false),
        email_verified: false,
        mfa_enrolled: input.mfa_enrolled.unwrap_or(false),
        mfa_phone_number: phone.unwrap_or_default(),
        mfa_phone_verified: false,
        default_mfa_method: input.default_mfa_method.unwrap_or_default(),
        member_password_id: String::new(),
        totp_registration_id: String::new(),
        roles,
        trusted_metadata: input
            .trusted_metadata
            .unwrap_or_else(|| Value::Object(Default::default())),
        untrusted_metadata: input
            .untrusted_metadata
            .unwrap_or_else(|| Value::Object(Default::default())),
        lock_created_at: None,
        lock_expires_at: None,
        created_at: now,
        updated_at: now,
        scim_roles: vec![],
        sso_roles: vec![],
    };
    check_unique(ctx, &m).await?;
    if let Err(e) = insert(ctx, grant, &m).await {
        return Err(on_write_error(ctx, &m, e).await);
    }
    audit::member(&m);
    audit::fact(
        "member.created",
        audit::Target::member(&m),
        &[("status", Value::from(m.status.as_str()))],
    );
    Ok(MemberView {
        member: m,
        organization: org,
        retired: vec![],
        sso: vec![],
        oauth: vec![],
        scim: None,
    })
}

/// A non-deleted member of the organization, by id or external id.
pub(crate) async fn live_member(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
) -> CoreResult<(MemberRecord, OrgRecord)> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    match ctx
        .store
        .find_member(project_id, &org.organization_id, member_locator)
        .await?
    {
        Some(m) if m.status != MemberStatus::Deleted => {
            audit::member(&m);
            Ok((m, org))
        }
        _ => Err(CoreError::member_not_found()),
    }
}

pub async fn get(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: Option<&str>,
    email: Option<&str>,
) -> CoreResult<MemberView> {
    let (m, org) = match (
        member_locator.filter(|s| !s.is_empty()),
        email.filter(|s| !s.is_empty()),
    ) {
        (Some(id), _) => live_member(ctx, project_id, org_locator, id).await?,
        (None, Some(email)) => {
            let org = organizations::get(ctx, project_id, org_locator).await?;
            let email = email.trim().to_lowercase();
            let m = ctx
                .store
                .member_by_email(project_id, &org.organization_id, &email)
                .await?;
            (m.ok_or_else(CoreError::member_not_found)?, org)
        }
        (None, None) => {
            return Err(CoreError::argument(
                "member_id",
                "member_id or email_address is required",
            ))
        }
    };
    view(ctx, m, org).await
}

/// members.update: a write that lost a race to another reads the member again and re-applies the
/// input (Stytch would succeed).
pub async fn update(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    input: MemberInput,
    caller: &Caller,
) -> CoreResult<MemberView> {
    retry::on_conflict(|| update_once(ctx, project_id, org_locator, member_locator, input.clone(), caller)).await
}

async fn update_once(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    input: MemberInput,
    caller: &Caller,
) -> CoreResult<MemberView> {
    let (mut m, org) = live_member(ctx, project_id, org_locator, member_locator).await?;
    let grant = caller.require_all(|a| authorize_update(a, &m, &input))?;
    validate_metadata(&input)?;
    if let Some(name) = input.name {
        check_name(&name)?;
        m.name = name;
    }
    if let Some(md) = input.trusted_metadata {
        m.trusted_metadata = md;
    }
    if let Some(md) = input.untrusted_metadata {
        m.untrusted_metadata = md;
    }
    if let Some(b) = input.is_breakglass {
        m.is_breakglass = b;
    }
    if let Some(b) = input.mfa_enrolled {
        m.mfa_enrolled = b;
    }
    let previous_roles = m.roles.clone();
    if let Some(roles) = input.roles {
        m.roles = validate_roles(roles)?;
    }
    if let Some(method) = input.default_mfa_method {
        default_mfa_method(&method)?;
        m.default_mfa_method = method;
    }
    if let Some(ext) = input.external_id {
        validate::member_external_id(&ext)?;
        m.external_id = Some(ext);
    }
    if let Some(phone) = input.mfa_phone_number {
        let phone = validate::phone_number(&phone)?;
        if !m.mfa_phone_number.is_empty() && m.mfa_phone_number != phone {
            return Err(crate::error::catalogue::MEMBER_PHONE_NUMBER_ALREADY_EXISTS.err());
        }
        if m.mfa_phone_number != phone {
            m.mfa_phone_verified = false;
        }
        m.mfa_phone_number = phone;
    }
    let mut retire = None;
    let mut email_changed = false;
    if let Some(email) = input.email_address {
        let email = validate::normalize_email(&email)?;
        if email != m.email {
            if input.unlink_email != Some(true) {
                retire = Some(RetiredEmail {
                    email_id: ids::email_id(),
                    email_address: m.email.clone(),
                    member_id: m.member_id.clone(),
                });
            }
            // A new address must be proven again; the password was tied to the old one.
            m.email = email;
            m.email_verified = false;
            m.member_password_id = String::new();
            email_changed = true;
        }
    }
    let write = if email_changed {
        Write::EmailChange {
            retire: retire.as_ref(),
        }
    } else {
        Write::Plain
    };
    save(ctx, &grant, &mut m, write).await?;
    if m.roles != previous_roles {
        audit::fact(
            "member.roles_changed",
            audit::Target::member(&m),
            &[
                ("roles", serde_json::json!(m.roles)),
                ("previous_roles", serde_json::json!(previous_roles)),
            ],
        );
    }
    if email_changed {
        audit::detail("email_changed", true);
    }
    view(ctx, m, org).await
}

/// Per-field permissions of member update (organizations.md): fields a member may change on its
/// own record accept stytch.self; the rest need stytch.member.
fn authorize_update(a: &Actor, target: &MemberRecord, input: &MemberInput) -> CoreResult<()> {
    no_trusted_metadata(Some(a), input.trusted_metadata.is_some())?;
    let fields = FieldActions::of(input, false);
    for action in fields.self_or_member {
        a.require_on_member(target, action)?;
    }
    if input.email_address.is_some() && a.member.member_id == target.member_id {
        return Err(crate::error::catalogue::MEMBER_CANNOT_UPDATE_THEIR_EMAIL_ADDRESS.err());
    }
    for action in fields.member_only {
        a.require_on_other_member(target, action)?;
    }
    if input.email_address.is_some() {
        a.require_on_other_member(target, "update.info.email")?;
    }
    Ok(())
}

/// Member create with a session: `create`, plus the action each given field would need in an
/// update, so creating a member is never a way around the per-field permissions (an MFA phone
/// of the creator's choosing, say).
fn authorize_create(a: &Actor, org: &OrgRecord, input: &MemberInput) -> CoreResult<()> {
    no_trusted_metadata(Some(a), input.trusted_metadata.is_some())?;
    a.require(&org.organization_id, MEMBER, "create")?;
    let fields = FieldActions::of(input, true);
    for action in fields.self_or_member.into_iter().chain(fields.member_only) {
        a.require(&org.organization_id, MEMBER, action)?;
    }
    Ok(())
}

/// The stytch.member actions the given fields of a member write need (organizations.md), split
/// by whether stytch.self also grants them on the actor's own record. The email address is left
/// to the caller: it is the identity of a created member, and a change for an updated one.
struct FieldActions {
    self_or_member: Vec<&'static str>,
    member_only: Vec<&'static str>,
}

impl FieldActions {
    fn of(input: &MemberInput, creating: bool) -> Self {
        // An empty role list assigns nothing to a new member, but removes roles from an existing one.
        let roles = input.roles.as_ref().is_some_and(|r| !creating || !r.is_empty());
        let pick =
            |fields: &[(bool, &'static str)]| fields.iter().filter(|(given, _)| *given).map(|(_, a)| *a).collect();
        Self {
            self_or_member: pick(&[
                (input.name.is_some(), "update.info.name"),
                (input.untrusted_metadata.is_some(), "update.info.untrusted-metadata"),
                (input.mfa_phone_number.is_some(), "update.info.mfa-phone"),
                (input.mfa_enrolled.is_some(), "update.settings.mfa-enrolled"),
                (input.default_mfa_method.is_some(), "update.settings.default-mfa-method"),
            ]),
            member_only: pick(&[
                (input.is_breakglass.is_some(), "update.settings.is-breakglass"),
                (roles, "update.settings.roles"),
                (input.external_id.is_some(), "update.info.external-id"),
            ]),
        }
    }
}

async fn insert(ctx: &Ctx, _: &Grant, m: &MemberRecord) -> Result<(), crate::error::StoreError> {
    ctx.store.insert_member(m).await
}

/// Soft delete: the member keeps its id for `reactivate`; its retired emails are released and
/// its sessions end.
pub async fn soft_delete(ctx: &Ctx, grant: &Grant, m: &mut MemberRecord) -> CoreResult<()> {
    for r in ctx
        .store
        .retired_emails(&m.project_id, std::slice::from_ref(&m.member_id))
        .await?
    {
        release_retired_email(ctx, grant, &m.project_id, &r.email_id).await?;
    }
    m.status = MemberStatus::Deleted;
    m.updated_at = ctx.now();
    ctx.store.update_member(m, None).await?;
    audit::member(m);
    let ended = ctx.store.delete_member_sessions(&m.project_id, &m.member_id).await?;
    if ended > 0 {
        audit::fact(
            "session.revoked",
            audit::Target::member(m),
            &[("all_of_member", Value::from(true)), ("count", Value::from(ended))],
        );
    }
    // Revokes its invites and any other link in flight.
    ctx.store.delete_member_magic_links(&m.project_id, &m.member_id).await?;
    ctx.store.delete_email_update(&m.project_id, &m.member_id).await?;
    Ok(())
}

pub async fn release_retired_email(ctx: &Ctx, _: &Grant, project_id: &ProjectId, email_id: &str) -> CoreResult<()> {
    Ok(ctx.store.delete_retired_email(project_id, email_id).await?)
}

pub async fn remove_password(ctx: &Ctx, _: &Grant, m: &MemberRecord) -> CoreResult<()> {
    audit::member(m);
    Ok(ctx.store.delete_password(&m.project_id, &m.member_id).await?)
}

pub async fn remove_totp(ctx: &Ctx, _: &Grant, m: &MemberRecord) -> CoreResult<()> {
    audit::member(m);
    Ok(ctx.store.delete_totp(&m.project_id, &m.member_id).await?)
}

/// Marks the member's password as one that must be reset before it is accepted again.
pub async fn require_password_reset(ctx: &Ctx, _: &Grant, m: &MemberRecord) -> CoreResult<bool> {
    audit::member(m);
    Ok(ctx.store.require_password_reset(&m.project_id, &m.member_id).await?)
}
