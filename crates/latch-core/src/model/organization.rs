//! The Organization (tenant) and its auth settings, in the shape of Stytch's object.

use crate::clock::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ALLOW_TRI: &[&str] = &["ALL_ALLOWED", "RESTRICTED", "NOT_ALLOWED"];
pub const ALLOW_DUO: &[&str] = &["ALL_ALLOWED", "RESTRICTED"];
pub const JIT_DUO: &[&str] = &["RESTRICTED", "NOT_ALLOWED"];
pub const MFA_POLICIES: &[&str] = &["OPTIONAL", "REQUIRED_FOR_ALL"];
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
pub struct ImplicitRoleAssignment {
    pub domain: String,
    pub role_id: String,
}

/// Policy settings, stored together as one JSON document: they are read and written as a unit
/// and new settings get a serde default, so adding one needs no migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgSettings {
    pub sso_jit_provisioning: String,
    pub sso_jit_provisioning_allowed_connections: Vec<String>,
    pub sso_default_connection_id: Option<String>,
    pub email_allowed_domains: Vec<String>,
    pub email_jit_provisioning: String,
    pub email_invites: String,
    pub auth_methods: String,
    pub allowed_auth_methods: Vec<String>,
    pub mfa_policy: String,
    pub rbac_email_implicit_role_assignments: Vec<ImplicitRoleAssignment>,
    pub mfa_methods: String,
    pub allowed_mfa_methods: Vec<String>,
    pub oauth_tenant_jit_provisioning: String,
    pub allowed_oauth_tenants: Value,
    pub claimed_email_domains: Vec<String>,
    pub first_party_connected_apps_allowed_type: String,
    pub allowed_first_party_connected_apps: Vec<String>,
    pub third_party_connected_apps_allowed_type: String,
    pub allowed_third_party_connected_apps: Vec<String>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            sso_jit_provisioning: "ALL_ALLOWED".into(),
            sso_jit_provisioning_allowed_connections: vec![],
            sso_default_connection_id: None,
            email_allowed_domains: vec![],
            email_jit_provisioning: "NOT_ALLOWED".into(),
            email_invites: "ALL_ALLOWED".into(),
            auth_methods: "ALL_ALLOWED".into(),
            allowed_auth_methods: vec![],
            mfa_policy: "OPTIONAL".into(),
            rbac_email_implicit_role_assignments: vec![],
            mfa_methods: "ALL_ALLOWED".into(),
            allowed_mfa_methods: vec![],
            oauth_tenant_jit_provisioning: "NOT_ALLOWED".into(),
            allowed_oauth_tenants: Value::Object(Default::default()),
            claimed_email_domains: vec![],
            first_party_connected_apps_allowed_type: "ALL_ALLOWED".into(),
            allowed_first_party_connected_apps: vec![],
            third_party_connected_apps_allowed_type: "ALL_ALLOWED".into(),
            allowed_third_party_connected_apps: vec![],
        }
    }
}

/// An organization as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgRecord {
    pub project_id: String,
    pub organization_id: String,
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
pub struct Organization<'a> {
    pub organization_id: &'a str,
    pub organization_name: &'a str,
    pub organization_logo_url: &'a str,
    pub organization_slug: &'a str,
    pub organization_external_id: Option<&'a str>,
    pub trusted_metadata: &'a Value,
    pub sso_active_connections: [Value; 0],
    pub scim_active_connection: Option<Value>,
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
            sso_active_connections: [],
            scim_active_connection: None,
            custom_roles: [],
            created_at: self.created_at,
            updated_at: self.updated_at,
            settings: &self.settings,
        }
    }
}
