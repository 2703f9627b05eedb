//! Organization records: the settings rules, uniqueness of locators, creation, and lookup by id,
//! slug or external id (with the node cache for session checks). Shared by the organizations API
//! and by discovery's organization create.

use crate::engine::audit;
use crate::engine::grant::Grant;
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult, StoreError};
use crate::ids::{OrganizationId, ProjectId};
use crate::model::organization::*;
use crate::validate;
use serde::Deserialize;
use serde_json::Value;

/// The writable fields of an organization; create and update share it (update is partial).
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = organizations::OrgInput))]
pub struct OrgInput {
    pub organization_name: Option<String>,
    pub organization_slug: Option<String>,
    pub organization_logo_url: Option<String>,
    pub trusted_metadata: Option<Value>,
    pub organization_external_id: Option<String>,
    pub sso_default_connection_id: Option<String>,
    pub sso_jit_provisioning: Option<String>,
    pub sso_jit_provisioning_allowed_connections: Option<Vec<String>>,
    pub email_allowed_domains: Option<Vec<String>>,
    pub email_jit_provisioning: Option<String>,
    pub email_invites: Option<String>,
    pub auth_methods: Option<String>,
    pub allowed_auth_methods: Option<Vec<String>>,
    pub mfa_policy: Option<String>,
    pub rbac_email_implicit_role_assignments: Option<Vec<ImplicitRoleAssignment>>,
    pub mfa_methods: Option<String>,
    pub allowed_mfa_methods: Option<Vec<String>>,
    pub oauth_tenant_jit_provisioning: Option<String>,
    pub allowed_oauth_tenants: Option<Value>,
    pub claimed_email_domains: Option<Vec<String>>,
    pub first_party_connected_apps_allowed_type: Option<String>,
    pub allowed_first_party_connected_apps: Option<Vec<String>>,
    pub third_party_connected_apps_allowed_type: Option<String>,
    pub allowed_third_party_connected_apps: Option<Vec<String>>,
}

impl OrgInput {
    /// The RBAC action each given field needs on stytch.organization (organizations.md).
    pub(crate) fn required_actions(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut need = |given: bool, action: &'static str| {
            if given && !out.contains(&action) {
                out.push(action);
            }
        };
        need(self.organization_name.is_some(), "update.info.name");
        need(self.organization_slug.is_some(), "update.info.slug");
        need(self.organization_logo_url.is_some(), "update.info.logo-url");
        need(self.organization_external_id.is_some(), "update.info.external-id");
        need(
            self.sso_default_connection_id.is_some(),
            "update.settings.default-sso-connection",
        );
        need(
            self.sso_jit_provisioning.is_some(),
            "update.settings.sso-jit-provisioning",
        );
        need(
            self.sso_jit_provisioning_allowed_connections.is_some(),
            "update.settings.sso-jit-provisioning",
        );
        need(self.email_allowed_domains.is_some(), "update.settings.allowed-domains");
        need(
            self.email_jit_provisioning.is_some(),
            "update.settings.email-jit-provisioning",
        );
        need(self.email_invites.is_some(), "update.settings.email-invites");
        need(self.auth_methods.is_some(), "update.settings.allowed-auth-methods");
        need(
            self.allowed_auth_methods.is_some(),
            "update.settings.allowed-auth-methods",
        );
        need(self.mfa_policy.is_some(), "update.settings.mfa-policy");
        need(
            self.rbac_email_implicit_role_assignments.is_some(),
            "update.settings.implicit-roles",
        );
        need(self.mfa_methods.is_some(), "update.settings.allowed-mfa-methods");
        need(
            self.allowed_mfa_methods.is_some(),
            "update.settings.allowed-mfa-methods",
        );
        need(
            self.oauth_tenant_jit_provisioning.is_some(),
            "update.settings.oauth-tenant-jit-provisioning",
        );
        need(
            self.allowed_oauth_tenants.is_some(),
            "update.settings.allowed-oauth-tenants",
        );
        // Settings without their own reserved action are admin matters.
        need(
            self.claimed_email_domains.is_some()
                || self.first_party_connected_apps_allowed_type.is_some()
                || self.allowed_first_party_connected_apps.is_some()
                || self.third_party_connected_apps_allowed_type.is_some()
                || self.allowed_third_party_connected_apps.is_some(),
            "*",
        );
        out
    }

    /// Whether any auth setting was given: decides the `email_invites` default on create.
    fn has_auth_setting(&self) -> bool {
        self.sso_jit_provisioning.is_some()
            || self.email_allowed_domains.is_some()
            || self.email_jit_provisioning.is_some()
            || self.email_invites.is_some()
            || self.auth_methods.is_some()
            || self.allowed_auth_methods.is_some()
            || self.mfa_policy.is_some()
            || self.mfa_methods.is_some()
            || self.allowed_mfa_methods.is_some()
            || self.oauth_tenant_jit_provisioning.is_some()
            || self.allowed_oauth_tenants.is_some()
    }
}

use crate::error::catalogue::ErrorKind;

const AUTH_SETTINGS_ERR: ErrorKind = crate::error::catalogue::INVALID_ORGANIZATION_AUTH_METHOD_SETTINGS;

fn each_of(field: &str, values: &[String], allowed: &[&str], kind: ErrorKind) -> CoreResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        validate::one_of(field, v, allowed, kind)?;
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(out)
}

fn ids_list(field: &str, values: Vec<String>) -> CoreResult<Vec<String>> {
    if values.iter().any(|v| v.is_empty() || v.len() > 128) {
        return Err(CoreError::argument(field, "entries must be 1 to 128 characters"));
    }
    Ok(values)
}

fn oauth_tenants(v: Value) -> CoreResult<Value> {
    let bad = || {
        CoreError::argument(
            "allowed_oauth_tenants",
            "must map slack, hubspot or github to a list of tenant ids",
        )
    };
    let Value::Object(map) = &v else {
        return Err(bad());
    };
    for (provider, tenants) in map {
        let ok = OAUTH_TENANT_PROVIDERS.contains(&provider.as_str())
            && tenants.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(bad());
        }
    }
    Ok(v)
}

/// Validates every given field and applies it to `rec`. Nothing is written here, so a refusal
/// leaves storage untouched.
pub(crate) fn apply(rec: &mut OrgRecord, input: OrgInput) -> CoreResult<()> {
    let s = &mut rec.settings;
    if let Some(name) = input.organization_name {
        validate::organization_name(&name)?;
        rec.name = name;
    }
    if let Some(slug) = input.organization_slug {
        validate::organization_slug(&slug)?;
        rec.slug = slug;
    }
    if let Some(url) = input.organization_logo_url {
        if !url.is_empty() {
            validate::http_url("organization_logo_url", &url)?;
        }
        rec.logo_url = url;
    }
    if let Some(md) = input.trusted_metadata {
        validate::metadata("trusted_metadata", &md)?;
        rec.trusted_metadata = md;
    }
    if let Some(ext) = input.organization_external_id {
        validate::organization_external_id(&ext)?;
        rec.external_id = Some(ext);
    }
    if let Some(id) = input.sso_default_connection_id {
        s.sso_default_connection_id = (!id.is_empty()).then_some(id);
    }
    if let Some(v) = input.sso_jit_provisioning {
        s.sso_jit_provisioning = Restriction::parse("sso_jit_provisioning", &v, ALLOW_TRI, AUTH_SETTINGS_ERR)?;
    }
    if let Some(v) = input.sso_jit_provisioning_allowed_connections {
        s.sso_jit_provisioning_allowed_connections = ids_list("sso_jit_provisioning_allowed_connections", v)?;
    }
    if let Some(v) = input.email_allowed_domains {
        s.email_allowed_domains = validate::org_domains(&v)?;
    }
    if let Some(v) = input.email_jit_provisioning {
        s.email_jit_provisioning = Restriction::parse("email_jit_provisioning", &v, JIT_DUO, AUTH_SETTINGS_ERR)?;
    }
    if let Some(v) = input.email_invites {
        s.email_invites = Restriction::parse("email_invites", &v, ALLOW_TRI, AUTH_SETTINGS_ERR)?;
    }
    if let Some(v) = input.auth_methods {
        s.auth_methods = Restriction::parse("auth_methods", &v, ALLOW_DUO, AUTH_SETTINGS_ERR)?;
    }
    if let Some(v) = input.allowed_auth_methods {
        s.allowed_auth_methods = each_of(
            "allowed_auth_methods",
            &v,
            AUTH_METHODS,
            crate::error::catalogue::INVALID_ORGANIZATION_ALLOWED_AUTH_METHODS,
        )?;
    }
    if let Some(v) = input.mfa_policy {
        s.mfa_policy = MfaPolicy::parse("mfa_policy", &v)?;
    }
    if let Some(v) = input.rbac_email_implicit_role_assignments {
        let mut out = Vec::with_capacity(v.len());
        for a in v {
            let domain = validate::org_domain(&a.domain)?;
            if a.role_id.trim().is_empty() || a.role_id.len() > 128 {
                return Err(crate::error::catalogue::INVALID_RBAC_ROLE_ID.err());
            }
            out.push(ImplicitRoleAssignment {
                domain,
                role_id: a.role_id,
            });
        }
        s.rbac_email_implicit_role_assignments = out;
    }
    if let Some(v) = input.mfa_methods {
        s.mfa_methods = Restriction::parse("mfa_methods", &v, ALLOW_DUO, AUTH_SETTINGS_ERR)?;
    }
    if let Some(v) = input.allowed_mfa_methods {
        s.allowed_mfa_methods = each_of(
            "allowed_mfa_methods",
            &v,
            MFA_METHODS,
            crate::error::catalogue::INVALID_ORGANIZATION_ALLOWED_MFA_METHODS,
        )?;
    }
    if let Some(v) = input.oauth_tenant_jit_provisioning {
        s.oauth_tenant_jit_provisioning =
            Restriction::parse("oauth_tenant_jit_provisioning", &v, JIT_DUO, AUTH_SETTINGS_ERR)?;
    }
    if let Some(v) = input.allowed_oauth_tenants {
        s.allowed_oauth_tenants = oauth_tenants(v)?;
    }
    if let Some(v) = input.claimed_email_domains {
        s.claimed_email_domains = validate::org_domains(&v)?;
    }
    if let Some(v) = input.first_party_connected_apps_allowed_type {
        s.first_party_connected_apps_allowed_type = Restriction::parse(
            "first_party_connected_apps_allowed_type",
            &v,
            ALLOW_TRI,
            crate::error::catalogue::INVALID_ARGUMENT,
        )?;
    }
    if let Some(v) = input.allowed_first_party_connected_apps {
        s.allowed_first_party_connected_apps = ids_list("allowed_first_party_connected_apps", v)?;
    }
    if let Some(v) = input.third_party_connected_apps_allowed_type {
        s.third_party_connected_apps_allowed_type = Restriction::parse(
            "third_party_connected_apps_allowed_type",
            &v,
            ALLOW_TRI,
            crate::error::catalogue::INVALID_ARGUMENT,
        )?;
    }
    if let Some(v) = input.allowed_third_party_connected_apps {
        s.allowed_third_party_connected_apps = ids_list("allowed_third_party_connected_apps", v)?;
    }
    Ok(())
}

/// Ids, slugs and external ids all address an organization (`find_org`), so none of them may
/// equal any locator of another organization in the project: otherwise an admin could set a slug
/// to another tenant's external id and take over the calls addressed to it (security review
/// finding 7). Also turns a unique-index refusal into the error for whichever locator is taken.
/// The store's `organization_locators` table enforces the same rule inside the write's
/// transaction, so two concurrent writes cannot both pass this check and both land.
pub(crate) async fn check_unique(ctx: &Ctx, rec: &OrgRecord) -> CoreResult<()> {
    if taken_by_another(ctx, rec, &rec.slug).await? {
        return Err(crate::error::catalogue::ORGANIZATION_SLUG_ALREADY_USED.err());
    }
    if let Some(ext) = &rec.external_id {
        if taken_by_another(ctx, rec, ext).await? {
            return Err(crate::error::catalogue::ORGANIZATION_EXTERNAL_ID_ALREADY_USED.err());
        }
    }
    Ok(())
}

async fn taken_by_another(ctx: &Ctx, rec: &OrgRecord, locator: &str) -> CoreResult<bool> {
    Ok(ctx
        .store
        .orgs_by_locator(&rec.project_id, locator)
        .await?
        .iter()
        .any(|o| o.organization_id != rec.organization_id))
}

pub(crate) async fn on_write_error(ctx: &Ctx, rec: &OrgRecord, e: StoreError) -> CoreError {
    match e {
        StoreError::UniqueViolation => match check_unique(ctx, rec).await {
            Err(specific) => specific,
            Ok(()) => crate::error::catalogue::DUPLICATE_ORGANIZATION.err(),
        },
        other => other.into(),
    }
}

pub async fn create(ctx: &Ctx, project_id: &ProjectId, input: OrgInput) -> CoreResult<OrgRecord> {
    let Some(name) = input.organization_name.as_deref() else {
        return Err(CoreError::argument("organization_name", "missing field"));
    };
    let now = ctx.now();
    let mut settings = OrgSettings::default();
    if input.has_auth_setting() {
        settings.email_invites = Restriction::NotAllowed;
    }
    let generated_slug = input.organization_slug.is_none();
    let mut rec = OrgRecord {
        version: 0,
        project_id: project_id.clone(),
        organization_id: OrganizationId::generate(),
        name: String::new(),
        slug: validate::slugify(name),
        logo_url: String::new(),
        external_id: None,
        trusted_metadata: Value::Object(Default::default()),
        settings,
        created_at: now,
        updated_at: now,
    };
    apply(&mut rec, input)?;
    if generated_slug && !ctx.store.orgs_by_locator(project_id, &rec.slug).await?.is_empty() {
        // A derived slug must not fail the create: make it unique instead.
        let suffix = &rec.organization_id[rec.organization_id.len() - 8..];
        rec.slug = format!("{}-{suffix}", rec.slug);
    }
    check_unique(ctx, &rec).await?;
    if let Err(e) = ctx.store.insert_org(&rec).await {
        return Err(on_write_error(ctx, &rec, e).await);
    }
    audit::organization(&rec.organization_id);
    Ok(rec)
}

pub async fn get(ctx: &Ctx, project_id: &ProjectId, locator: &str) -> CoreResult<OrgRecord> {
    let org = ctx
        .store
        .find_org(project_id, locator)
        .await?
        .ok_or_else(CoreError::organization_not_found)?;
    audit::organization(&org.organization_id);
    Ok(org)
}

/// Like `get` by organization id, through the node's short-lived cache: for session checks, which
/// read the organization on every call and never write it.
pub async fn get_cached(ctx: &Ctx, project_id: &ProjectId, organization_id: &OrganizationId) -> CoreResult<OrgRecord> {
    ctx.orgs
        .get_or_load(
            (project_id.to_owned(), organization_id.to_owned()),
            ctx.store.writes_seen(),
            ctx.now(),
            || ctx.store.find_org(project_id, organization_id),
        )
        .await?
        .ok_or_else(CoreError::organization_not_found)
}

/// Writes the organization back, its locators checked; the grant shows the caller was allowed to.
pub async fn save(ctx: &Ctx, _: &Grant, rec: &mut OrgRecord) -> CoreResult<()> {
    rec.updated_at = ctx.now();
    check_unique(ctx, rec).await?;
    if let Err(e) = ctx.store.update_org(rec).await {
        return Err(on_write_error(ctx, rec, e).await);
    }
    Ok(())
}

/// Deletes the organization and, with it, its members and their sessions.
pub async fn delete(ctx: &Ctx, _: &Grant, rec: &OrgRecord) -> CoreResult<()> {
    Ok(ctx.store.delete_org(&rec.project_id, &rec.organization_id).await?)
}

/// Replaces the organization's own RBAC roles.
pub async fn set_roles(ctx: &Ctx, _: &Grant, rec: &OrgRecord, roles: &[crate::rbac::PolicyRole]) -> CoreResult<()> {
    Ok(ctx
        .store
        .set_org_roles(&rec.project_id, &rec.organization_id, roles)
        .await?)
}
