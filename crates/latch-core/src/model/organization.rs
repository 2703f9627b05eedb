//! The Organization (tenant) and its auth settings, in the shape of Stytch's object.

use crate::clock::Timestamp;
use crate::error::CoreResult;
use crate::ids::{OrganizationId, ProjectId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How far a policy lets something happen (JIT provisioning, invites, auth and MFA methods,
/// connected apps). The wire strings are Stytch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Restriction {
    AllAllowed,
    Restricted,
    NotAllowed,
}

pub const ALLOW_TRI: &[Restriction] = &[
    Restriction::AllAllowed,
    Restriction::Restricted,
    Restriction::NotAllowed,
];
pub const ALLOW_DUO: &[Restriction] = &[Restriction::AllAllowed, Restriction::Restricted];
pub const JIT_DUO: &[Restriction] = &[Restriction::Restricted, Restriction::NotAllowed];

impl Restriction {
    pub fn as_str(self) -> &'static str {
        match self {
            Restriction::AllAllowed => "ALL_ALLOWED",
            Restriction::Restricted => "RESTRICTED",
            Restriction::NotAllowed => "NOT_ALLOWED",
        }
    }

    /// `value` as one of `allowed` (a setting accepts only some of the three), else `kind`.
    pub fn parse(
        field: &str,
        value: &str,
        allowed: &[Restriction],
        kind: crate::error::catalogue::ErrorKind,
    ) -> CoreResult<Self> {
        allowed.iter().copied().find(|r| r.as_str() == value).ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
            kind.field_detail(field, crate::validate::not_one_of(value, &names))
        })
    }
}

/// Whether every member must complete MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MfaPolicy {
    Optional,
    RequiredForAll,
}

impl MfaPolicy {
    pub fn parse(field: &str, value: &str) -> CoreResult<Self> {
        match value {
            "OPTIONAL" => Ok(MfaPolicy::Optional),
            "REQUIRED_FOR_ALL" => Ok(MfaPolicy::RequiredForAll),
            other => {
                Err(crate::error::catalogue::INVALID_ORGANIZATION_MFA_POLICY.field_detail(field, format!("'{other}'")))
            }
        }
    }
}
pub const AUTH_METHODS: &[&str] = &[
    "sso",
    "magic_link",
    "email_otp",
    "password",
    "google_oauth",
    "microsoft_oauth",
    "slack_oauth",
    "github_oauth",
    "hubspot_oauth",
];
pub const MFA_METHODS: &[&str] = &["sms_otp", "totp"];
pub const OAUTH_TENANT_PROVIDERS: &[&str] = &["slack", "hubspot", "github"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImplicitRoleAssignment {
    pub domain: String,
    pub role_id: String,
}

/// Policy settings, stored together as one JSON document: they are read and written as a unit
/// and new settings get a serde default, so adding one needs no migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgSettings {
    pub sso_jit_provisioning: Restriction,
    pub sso_jit_provisioning_allowed_connections: Vec<String>,
    pub sso_default_connection_id: Option<String>,
    /// Kept in step with the organization's connections by the SSO engine (not an input).
    pub sso_active_connections: Vec<crate::model::sso::ActiveSsoConnection>,
    /// Kept in step with the organization's SCIM connection by the SCIM engine (not an input).
    pub scim_active_connection: Option<crate::model::scim::ActiveScimConnection>,
    pub email_allowed_domains: Vec<String>,
    pub email_jit_provisioning: Restriction,
    pub email_invites: Restriction,
    pub auth_methods: Restriction,
    pub allowed_auth_methods: Vec<String>,
    pub mfa_policy: MfaPolicy,
    pub rbac_email_implicit_role_assignments: Vec<ImplicitRoleAssignment>,
    pub mfa_methods: Restriction,
    pub allowed_mfa_methods: Vec<String>,
    pub oauth_tenant_jit_provisioning: Restriction,
    pub allowed_oauth_tenants: Value,
    pub claimed_email_domains: Vec<String>,
    pub first_party_connected_apps_allowed_type: Restriction,
    pub allowed_first_party_connected_apps: Vec<String>,
    pub third_party_connected_apps_allowed_type: Restriction,
    pub allowed_third_party_connected_apps: Vec<String>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            sso_jit_provisioning: Restriction::AllAllowed,
            sso_jit_provisioning_allowed_connections: vec![],
            sso_default_connection_id: None,
            sso_active_connections: vec![],
            scim_active_connection: None,
            email_allowed_domains: vec![],
            email_jit_provisioning: Restriction::NotAllowed,
            email_invites: Restriction::AllAllowed,
            auth_methods: Restriction::AllAllowed,
            allowed_auth_methods: vec![],
            mfa_policy: MfaPolicy::Optional,
            rbac_email_implicit_role_assignments: vec![],
            mfa_methods: Restriction::AllAllowed,
            allowed_mfa_methods: vec![],
            oauth_tenant_jit_provisioning: Restriction::NotAllowed,
            allowed_oauth_tenants: Value::Object(Default::default()),
            claimed_email_domains: vec![],
            first_party_connected_apps_allowed_type: Restriction::AllAllowed,
            allowed_first_party_connected_apps: vec![],
            third_party_connected_apps_allowed_type: Restriction::AllAllowed,
            allowed_third_party_connected_apps: vec![],
        }
    }
}

/// An organization as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgRecord {
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub slug: String,
    pub logo_url: String,
    pub external_id: Option<String>,
    pub trusted_metadata: Value,
    pub settings: OrgSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The stored row's version as read (0 for a new record): a whole-record write matches on it
    /// and bumps it, so a write based on a stale read fails with `StoreError::Conflict`.
    pub version: i64,
}

/// The wire object (objects.md#organization).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization<'a> {
    pub organization_id: &'a str,
    pub organization_name: &'a str,
    pub organization_logo_url: &'a str,
    pub organization_slug: &'a str,
    pub organization_external_id: Option<&'a str>,
    pub trusted_metadata: &'a Value,
    pub custom_roles: [Value; 0],
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub settings: &'a OrgSettings,
}

impl OrgRecord {
    pub fn view(&self) -> Organization<'_> {
        Organization {
            organization_id: &self.organization_id,
            organization_name: &self.name,
            organization_logo_url: &self.logo_url,
            organization_slug: &self.slug,
            organization_external_id: self.external_id.as_deref(),
            trusted_metadata: &self.trusted_metadata,
            custom_roles: [],
            created_at: self.created_at,
            updated_at: self.updated_at,
            settings: &self.settings,
        }
    }
}
