//! SAML connections (sso.md, `sso.saml.*`): create, update, update from the IdP's metadata URL,
//! delete a verification certificate or an encryption key. Each needs its action on `stytch.sso`
//! with a member session. Every input is checked before anything changes, so a refused update
//! leaves the connection as it was.

use crate::engine::actor::{self, Caller};
use crate::engine::saml;
use crate::engine::{organizations, Ctx};
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::ids::ProjectId;
use crate::model::organization::OrgRecord;
use crate::model::saml::{
    ConnectionRole, EncryptionKey, GroupRole, SamlConfig, SamlConnectionRecord, SamlSecrets, X509Certificate,
    DEFAULT_NAMEID_FORMAT, MAX_VERIFICATION_CERTIFICATES,
};
use crate::rules::sso_config::{check_display_name, identity_provider, provider_url};
use crate::saml::KeyWithCertificate;
use serde::Deserialize;
use serde_json::{Map, Value};

const SSO: &str = "stytch.sso";
const PKCS1_HEADER: &str = "-----BEGIN RSA PRIVATE KEY-----";
/// Bounds on what a request may hand the key and certificate parsers.
const MAX_PEM_BYTES: usize = 16 * 1024;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::CreateSamlInput))]
pub struct CreateSamlInput {
    pub display_name: Option<String>,
    pub identity_provider: Option<String>,
}

/// A pending connection with its own signing key; Latch assigns the id, ACS URL and audience.
pub async fn create(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    input: CreateSamlInput,
    caller: &Caller,
) -> CoreResult<SamlConnectionRecord> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SSO, "create")?;
    let name = input.display_name.unwrap_or_default();
    check_display_name(&name)?;
    let provider = identity_provider(input.identity_provider)?.unwrap_or_else(|| "generic".into());
    let connection_id = ids::saml_connection_id();
    let key = saml::new_signing_key(ctx, &connection_id).await?;
    let now = ctx.now();
    let c = SamlConnectionRecord {
        project_id: project_id.clone(),
        organization_id: org.organization_id.clone(),
        config: SamlConfig {
            display_name: name,
            identity_provider: provider,
            idp_entity_id: String::new(),
            idp_sso_url: String::new(),
            attribute_mapping: Map::new(),
            nameid_format: DEFAULT_NAMEID_FORMAT.into(),
            alternative_audience_uri: String::new(),
            alternative_acs_url: String::new(),
            idp_initiated_auth_disabled: false,
            allow_gateway_callback: false,
            connection_roles: vec![],
            group_roles: vec![],
            signing_certificate: saml::own_certificate(&key, now),
            verification_certificates: vec![],
            encryption_keys: vec![],
        },
        secrets: SamlSecrets {
            signing_private_key: key.private_key_pem,
            encryption_private_keys: Map::new(),
        },
        connection_id,
        created_at: now,
        updated_at: now,
    };
    saml::save_connection(ctx, &grant, &org, &c).await?;
    Ok(c)
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::SamlRoleInput))]
pub struct RoleInput {
    pub role_id: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::SamlGroupRoleInput))]
pub struct GroupRoleInput {
    pub role_id: String,
    pub group: String,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::UpdateSamlInput))]
pub struct UpdateSamlInput {
    pub idp_entity_id: Option<String>,
    pub display_name: Option<String>,
    pub attribute_mapping: Option<Value>,
    pub x509_certificate: Option<String>,
    pub idp_sso_url: Option<String>,
    pub saml_connection_implicit_role_assignments: Option<Vec<RoleInput>>,
    pub saml_group_implicit_role_assignments: Option<Vec<GroupRoleInput>>,
    pub alternative_audience_uri: Option<String>,
    pub identity_provider: Option<String>,
    pub signing_private_key: Option<String>,
    pub nameid_format: Option<String>,
    pub alternative_acs_url: Option<String>,
    pub idp_initiated_auth_disabled: Option<bool>,
    pub saml_encryption_private_key: Option<String>,
    pub allow_gateway_callback: Option<bool>,
}

fn entity_id(value: &str) -> CoreResult<()> {
    if value.chars().count() > 2048 || value.chars().any(char::is_control) {
        return Err(INVALID_IDP_ENTITY_ID.err());
    }
    Ok(())
}

/// An attribute mapping names an IdP attribute (a string) for each Latch name.
fn attribute_mapping(value: Value) -> CoreResult<Map<String, Value>> {
    let Value::Object(m) = value else {
        return Err(SAML_CONNECTION_NO_NESTED_KEYS_IN_ATTRIBUTE_MAPPING.err());
    };
    for (k, v) in &m {
        let ok = k.len() <= 256 && v.as_str().is_some_and(|s| s.len() <= 1024);
        if !ok {
            return Err(SAML_CONNECTION_NO_NESTED_KEYS_IN_ATTRIBUTE_MAPPING.detail(k));
        }
    }
    Ok(m)
}

/// An alternative URL (audience or ACS): empty clears it.
fn alternative_url(field: &str, value: &str) -> CoreResult<()> {
    if value.is_empty() {
        return Ok(());
    }
    let ok = value.len() <= 2048 && url::Url::parse(value).is_ok_and(|u| u.has_host());
    if !ok {
        return Err(CoreError::argument(field, "must be an absolute URL"));
    }
    Ok(())
}

/// A PKCS#1 RSA key, certified by Latch (on the CPU pool: key checks are not free).
async fn private_key(ctx: &Ctx, pem: &str, common_name: &str) -> CoreResult<KeyWithCertificate> {
    if pem.len() > MAX_PEM_BYTES || !pem.contains("-----BEGIN") {
        return Err(SAML_SIGNING_PRIVATE_KEY_INVALID.err());
    }
    if !pem.trim_start().starts_with(PKCS1_HEADER) {
        return Err(SAML_SIGNING_PRIVATE_KEY_FORMAT_NOT_SUPPORTED.err());
    }
    let saml = ctx.saml.clone();
    let (pem, name) = (pem.to_string(), common_name.to_string());
    ctx.cpu
        .run(move || saml.certify_key(&pem, &name))
        .await?
        .map_err(|why| SAML_SIGNING_PRIVATE_KEY_INVALID.detail(why))
}

/// An IdP certificate as the connection keeps it (one canonical PEM, so a repeat is noticed).
fn idp_certificate(ctx: &Ctx, pem: &str) -> CoreResult<X509Certificate> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(INVALID_X509_CERTIFICATE.err());
    }
    let info = ctx
        .saml
        .read_certificate(pem)
        .map_err(|why| INVALID_X509_CERTIFICATE.detail(why))?;
    let now = ctx.now();
    Ok(X509Certificate {
        certificate_id: ids::x509_certificate_id(),
        certificate: info.pem,
        issuer: info.issuer,
        created_at: now,
        expires_at: crate::clock::Timestamp(info.not_after_secs.saturating_mul(1000)),
        updated_at: now,
    })
}

/// Adds the certificates the connection does not hold yet, at most five in all.
fn add_certificates(c: &mut SamlConnectionRecord, certs: Vec<X509Certificate>) -> CoreResult<()> {
    let list = &mut c.config.verification_certificates;
    for cert in certs {
        if list.iter().any(|x| x.certificate == cert.certificate) {
            continue;
        }
        if list.len() >= MAX_VERIFICATION_CERTIFICATES {
            return Err(TOO_MANY_SSO_VERIFICATION_CERTIFICATES.err());
        }
        list.push(cert);
    }
    Ok(())
}

/// Every role id names a role of the project's policy or the organization's own.
async fn check_roles(ctx: &Ctx, org: &OrgRecord, role_ids: &[&str]) -> CoreResult<()> {
    if role_ids.is_empty() {
        return Ok(());
    }
    let roles = actor::policy_roles(ctx, &org.project_id, &org.organization_id).await?;
    for id in role_ids {
        if !roles.iter().any(|r| r.role_id == *id) {
            return Err(INVALID_RBAC_ROLE_ID.detail(format!("no role '{id}' in the RBAC policy")));
        }
    }
    Ok(())
}

pub async fn update(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    input: UpdateSamlInput,
    caller: &Caller,
) -> CoreResult<SamlConnectionRecord> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SSO, "update")?;
    let mut c = saml::connection(ctx, &org, connection_id).await?;
    // Checks first, on copies; the record changes only when all pass.
    if let Some(v) = &input.idp_entity_id {
        entity_id(v)?;
    }
    if let Some(v) = &input.display_name {
        check_display_name(v)?;
    }
    if let Some(v) = &input.idp_sso_url {
        provider_url(SAML_CONNECTION_IDP_SSO_URL_INVALID_FORMAT, v)?;
    }
    let provider = identity_provider(input.identity_provider)?;
    let mapping = input.attribute_mapping.map(attribute_mapping).transpose()?;
    for (field, v) in [
        ("alternative_audience_uri", &input.alternative_audience_uri),
        ("alternative_acs_url", &input.alternative_acs_url),
    ] {
        if let Some(v) = v {
            alternative_url(field, v)?;
        }
    }
    if let Some(f) = &input.nameid_format {
        if f.is_empty() || f.len() > 256 || !f.starts_with("urn:oasis:names:tc:SAML:") {
            return Err(CoreError::argument(
                "nameid_format",
                "must be a SAML NameID format URN (urn:oasis:names:tc:SAML:…)",
            ));
        }
    }
    let connection_roles = input.saml_connection_implicit_role_assignments.map(|list| {
        let mut out: Vec<ConnectionRole> = Vec::new();
        for r in list {
            if !out.iter().any(|o| o.role_id == r.role_id) {
                out.push(ConnectionRole { role_id: r.role_id });
            }
        }
        out
    });
    let group_roles = match input.saml_group_implicit_role_assignments {
        None => None,
        Some(list) => {
            let mut out: Vec<GroupRole> = Vec::new();
            for r in list {
                if r.group.is_empty() || r.group.len() > 1024 {
                    return Err(CoreError::argument(
                        "saml_group_implicit_role_assignments",
                        "each needs a group name (1 to 1024 characters)",
                    ));
                }
                let g = GroupRole {
                    role_id: r.role_id,
                    group: r.group,
                };
                if !out.contains(&g) {
                    out.push(g);
                }
            }
            Some(out)
        }
    };
    let mut role_ids: Vec<&str> = Vec::new();
    role_ids.extend(connection_roles.iter().flatten().map(|r| r.role_id.as_str()));
    role_ids.extend(group_roles.iter().flatten().map(|r| r.role_id.as_str()));
    check_roles(ctx, &org, &role_ids).await?;
    let effective_mapping = mapping.as_ref().unwrap_or(&c.config.attribute_mapping);
    let effective_groups = group_roles.as_ref().unwrap_or(&c.config.group_roles);
    if !effective_groups.is_empty() && !effective_mapping.contains_key("groups") {
        return Err(SAML_CONNECTION_ATTRIBUTE_MAPPING_MISSING_GROUPS_KEY.err());
    }
    let certificate = input
        .x509_certificate
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|pem| idp_certificate(ctx, pem))
        .transpose()?;
    let signing = match input.signing_private_key.as_deref().filter(|s| !s.is_empty()) {
        Some(pem) => Some(private_key(ctx, pem, &c.connection_id).await?),
        None => None,
    };
    let encryption = match input.saml_encryption_private_key.as_deref().filter(|s| !s.is_empty()) {
        Some(pem) => Some(private_key(ctx, pem, &c.connection_id).await?),
        None => None,
    };
    let now = ctx.now();
    if let Some(cert) = certificate {
        add_certificates(&mut c, vec![cert])?;
    }
    let cfg = &mut c.config;
    let set = |field: &mut String, v: Option<String>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut cfg.idp_entity_id, input.idp_entity_id);
    set(&mut cfg.display_name, input.display_name);
    set(&mut cfg.idp_sso_url, input.idp_sso_url);
    set(&mut cfg.identity_provider, provider);
    set(&mut cfg.alternative_audience_uri, input.alternative_audience_uri);
    set(&mut cfg.alternative_acs_url, input.alternative_acs_url);
    set(&mut cfg.nameid_format, input.nameid_format);
    if let Some(m) = mapping {
        cfg.attribute_mapping = m;
    }
    if let Some(r) = connection_roles {
        cfg.connection_roles = r;
    }
    if let Some(r) = group_roles {
        cfg.group_roles = r;
    }
    if let Some(v) = input.idp_initiated_auth_disabled {
        cfg.idp_initiated_auth_disabled = v;
    }
    if let Some(v) = input.allow_gateway_callback {
        cfg.allow_gateway_callback = v;
    }
    if let Some(k) = signing {
        cfg.signing_certificate = saml::own_certificate(&k, now);
        c.secrets.signing_private_key = k.private_key_pem;
    }
    if let Some(k) = encryption {
        let id = ids::saml_encryption_key_id();
        c.config.encryption_keys.push(EncryptionKey {
            private_key_id: id.clone(),
            public_key_pem: k.public_key_pem,
            certificate_pem: k.certificate_pem,
            created_at: now,
        });
        c.secrets
            .encryption_private_keys
            .insert(id, Value::String(k.private_key_pem));
    }
    c.updated_at = now;
    saml::save_connection(ctx, &grant, &org, &c).await?;
    Ok(c)
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::UpdateSamlByUrlInput))]
pub struct UpdateByUrlInput {
    pub metadata_url: String,
}

/// Reads the IdP's metadata from its URL: entity id, SSO URL and signing certificates.
pub async fn update_by_url(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    input: UpdateByUrlInput,
    caller: &Caller,
) -> CoreResult<SamlConnectionRecord> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SSO, "update")?;
    let mut c = saml::connection(ctx, &org, connection_id).await?;
    let url = input.metadata_url.trim();
    if url.is_empty() {
        return Err(INVALID_SAML_METADATA_URL.err());
    }
    provider_url(INVALID_SAML_METADATA_URL, url)?;
    let xml = ctx
        .saml
        .fetch_metadata(url)
        .await
        .map_err(|why| INVALID_SAML_METADATA_URL.detail(why))?;
    let found = ctx
        .saml
        .read_idp_metadata(&xml)
        .map_err(|why| INVALID_XML_FROM_SAML_METADATA_URL.detail(why))?;
    entity_id(&found.entity_id)?;
    provider_url(SAML_CONNECTION_IDP_SSO_URL_INVALID_FORMAT, &found.sso_url)?;
    let certs = found
        .certificates
        .iter()
        .map(|pem| idp_certificate(ctx, pem))
        .collect::<CoreResult<Vec<_>>>()?;
    add_certificates(&mut c, certs)?;
    c.config.idp_entity_id = found.entity_id;
    c.config.idp_sso_url = found.sso_url;
    c.updated_at = ctx.now();
    saml::save_connection(ctx, &grant, &org, &c).await?;
    Ok(c)
}

pub async fn delete_verification_certificate(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    certificate_id: &str,
    caller: &Caller,
) -> CoreResult<()> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SSO, "update")?;
    let mut c = saml::connection(ctx, &org, connection_id).await?;
    let list = &mut c.config.verification_certificates;
    let Some(at) = list.iter().position(|x| x.certificate_id == certificate_id) else {
        return Err(SSO_VERIFICATION_KEY_NOT_FOUND.err());
    };
    if list.len() == 1 && c.is_active() {
        return Err(CANNOT_DELETE_LAST_SSO_VERIFICATION_KEY.err());
    }
    c.config.verification_certificates.remove(at);
    c.updated_at = ctx.now();
    saml::save_connection(ctx, &grant, &org, &c).await
}

pub async fn delete_encryption_private_key(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    private_key_id: &str,
    caller: &Caller,
) -> CoreResult<()> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SSO, "update")?;
    let mut c = saml::connection(ctx, &org, connection_id).await?;
    let Some(at) = c
        .config
        .encryption_keys
        .iter()
        .position(|k| k.private_key_id == private_key_id)
    else {
        return Err(SSO_ENCRYPTION_PRIVATE_KEY_NOT_FOUND.err());
    };
    c.config.encryption_keys.remove(at);
    c.secrets.encryption_private_keys.remove(private_key_id);
    c.updated_at = ctx.now();
    saml::save_connection(ctx, &grant, &org, &c).await
}
