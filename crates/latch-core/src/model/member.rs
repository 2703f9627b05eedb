//! The Member (an end user inside one organization), its roles and retired emails.

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::organization::OrgRecord;
use crate::validate::email_domain;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a member stands (objects.md#member `status`); the wire strings are Stytch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// Created, and may log in.
    Active,
    /// Created by JIT or with `create_member_as_pending`: active after its first login.
    Pending,
    /// Invited: active after accepting.
    Invited,
    /// Soft-deleted: kept for `reactivate`.
    Deleted,
}

impl MemberStatus {
    pub const ALL: [MemberStatus; 4] = [
        MemberStatus::Active,
        MemberStatus::Pending,
        MemberStatus::Invited,
        MemberStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::Pending => "pending",
            MemberStatus::Invited => "invited",
            MemberStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}
pub const ROLE_MEMBER: &str = "stytch_member";
pub const ROLE_ADMIN: &str = "stytch_admin";

/// A member as stored. Roles here are only the explicit ones; implicit roles are derived.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub email: String,
    pub status: MemberStatus,
    pub name: String,
    pub external_id: Option<String>,
    pub is_breakglass: bool,
    pub email_verified: bool,
    pub mfa_enrolled: bool,
    pub mfa_phone_number: String,
    pub mfa_phone_verified: bool,
    pub default_mfa_method: String,
    pub member_password_id: String,
    pub totp_registration_id: String,
    pub roles: Vec<String>,
    pub trusted_metadata: Value,
    pub untrusted_metadata: Value,
    pub lock_created_at: Option<Timestamp>,
    pub lock_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The stored row's version as read (0 for a new record): a whole-record write matches on it
    /// and bumps it, so a write based on a stale read fails with `StoreError::Conflict`.
    pub version: i64,
    /// Roles granted through the member's SCIM groups, derived by `engine::scim` whenever group
    /// memberships or the connection's assignments change; kept here so that every session check
    /// has them without another read.
    pub scim_roles: Vec<crate::model::scim::ScimRoleGrant>,
    /// Roles from the member's last sign-in at each SAML connection (its implicit and group
    /// role assignments).
    pub sso_roles: Vec<crate::model::saml::SsoRoleGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetiredEmail {
    pub email_id: String,
    pub email_address: String,
    #[serde(skip)]
    pub member_id: MemberId,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleSource {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub details: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberRole {
    pub role_id: String,
    pub sources: Vec<RoleSource>,
}

/// The wire object (objects.md#member).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member<'a> {
    pub organization_id: &'a str,
    pub member_id: &'a str,
    pub email_address: &'a str,
    pub status: &'a str,
    pub name: &'a str,
    pub sso_registrations: Vec<&'a crate::model::sso::SsoRegistration>,
    pub is_breakglass: bool,
    pub member_password_id: &'a str,
    pub oauth_registrations: Vec<crate::model::oauth::OAuthRegistration<'a>>,
    pub email_address_verified: bool,
    pub mfa_phone_number_verified: bool,
    pub is_admin: bool,
    pub totp_registration_id: &'a str,
    pub retired_email_addresses: Vec<&'a RetiredEmail>,
    pub is_locked: bool,
    pub mfa_enrolled: bool,
    pub mfa_phone_number: &'a str,
    pub default_mfa_method: &'a str,
    pub roles: Vec<MemberRole>,
    pub trusted_metadata: &'a Value,
    pub untrusted_metadata: &'a Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub scim_registration: Option<Value>,
    pub external_id: Option<&'a str>,
    pub lock_created_at: Option<Timestamp>,
    pub lock_expires_at: Option<Timestamp>,
}

impl MemberRecord {
    /// Every role the member holds and why: `stytch_member` for all, explicit roles, the
    /// organization's email-domain assignments, and roles from the member's SCIM groups.
    pub fn effective_roles(&self, org: &OrgRecord) -> Vec<MemberRole> {
        self.roles_with(org, |_| true)
    }

    /// The roles, with those held through a SAML connection counted only where `sso` says so.
    fn roles_with(&self, org: &OrgRecord, sso: impl Fn(&crate::model::saml::SsoRoleGrant) -> bool) -> Vec<MemberRole> {
        let mut roles: Vec<MemberRole> = Vec::new();
        let mut add = |role_id: &str, source: RoleSource| match roles.iter_mut().find(|r| r.role_id == role_id) {
            Some(r) => r.sources.push(source),
            None => roles.push(MemberRole {
                role_id: role_id.to_string(),
                sources: vec![source],
            }),
        };
        let direct = || RoleSource {
            kind: "direct_assignment",
            details: Value::Object(Default::default()),
        };
        add(ROLE_MEMBER, direct());
        for r in &self.roles {
            add(r, direct());
        }
        let domain = email_domain(&self.email);
        for a in &org.settings.rbac_email_implicit_role_assignments {
            if a.domain.eq_ignore_ascii_case(domain) {
                add(
                    &a.role_id,
                    RoleSource {
                        kind: "email_assignment",
                        details: serde_json::json!({"domain": a.domain}),
                    },
                );
            }
        }
        for g in &self.scim_roles {
            add(
                &g.role_id,
                RoleSource {
                    kind: "scim_connection_group",
                    details: serde_json::json!({"connection_id": g.connection_id, "group_id": g.group_id}),
                },
            );
        }
        for g in self.sso_roles.iter().filter(|g| sso(g)) {
            let source = match &g.group {
                None => RoleSource {
                    kind: "sso_connection",
                    details: serde_json::json!({"connection_id": g.connection_id}),
                },
                Some(group) => RoleSource {
                    kind: "sso_connection_group",
                    details: serde_json::json!({"connection_id": g.connection_id, "group": group}),
                },
            };
            add(&g.role_id, source);
        }
        roles
    }

    /// Every role the member holds, as the member object lists them.
    pub fn role_ids(&self, org: &OrgRecord) -> Vec<String> {
        self.effective_roles(org).into_iter().map(|r| r.role_id).collect()
    }

    /// The roles that authorize in a session: roles from a SAML connection count only when the
    /// session holds a factor of that connection (as Stytch documents).
    pub fn session_role_ids(&self, org: &OrgRecord, factors: &[crate::model::session::AuthFactor]) -> Vec<String> {
        let proven: Vec<&str> = factors.iter().filter_map(|f| f.saml_connection_id()).collect();
        self.roles_with(org, |g| proven.contains(&g.connection_id.as_str()))
            .into_iter()
            .map(|r| r.role_id)
            .collect()
    }

    /// A stable id for the member's current email (it changes with the address).
    pub fn email_id(&self) -> String {
        let d = crate::crypto::sha256_hex(&format!("{}|{}", self.member_id, self.email));
        format!(
            "email-test-{}-{}-{}-{}-{}",
            &d[0..8],
            &d[8..12],
            &d[12..16],
            &d[16..20],
            &d[20..32]
        )
    }

    /// A stable id for the member's MFA phone number (it changes with the number).
    pub fn phone_id(&self) -> String {
        let d = crate::crypto::sha256_hex(&format!("{}|{}", self.member_id, self.mfa_phone_number));
        format!(
            "phone-number-test-{}-{}-{}-{}-{}",
            &d[0..8],
            &d[8..12],
            &d[12..16],
            &d[16..20],
            &d[20..32]
        )
    }

    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.lock_expires_at.is_some_and(|t| t > now)
    }

    #[allow(clippy::disallowed_methods)] // is_locked as of the moment the answer is built
    /// `retired`, `sso` and `oauth` may hold other members' entries too (a search page's); only
    /// this member's are shown.
    pub fn view<'a>(
        &'a self,
        org: &OrgRecord,
        retired: &'a [RetiredEmail],
        sso: &'a [crate::model::sso::SsoRegistration],
        oauth: &'a [crate::model::oauth::OAuthRegistrationRecord],
    ) -> Member<'a> {
        let roles = self.effective_roles(org);
        let locked = self.is_locked(Timestamp::now());
        Member {
            organization_id: &self.organization_id,
            member_id: &self.member_id,
            email_address: &self.email,
            status: self.status.as_str(),
            name: &self.name,
            sso_registrations: sso.iter().filter(|r| r.member_id == self.member_id).collect(),
            is_breakglass: self.is_breakglass,
            member_password_id: &self.member_password_id,
            oauth_registrations: oauth
                .iter()
                .filter(|r| r.member_id == self.member_id)
                .map(|r| r.view())
                .collect(),
            email_address_verified: self.email_verified,
            mfa_phone_number_verified: self.mfa_phone_verified,
            is_admin: roles.iter().any(|r| r.role_id == ROLE_ADMIN),
            totp_registration_id: &self.totp_registration_id,
            retired_email_addresses: retired.iter().filter(|r| r.member_id == self.member_id).collect(),
            is_locked: locked,
            mfa_enrolled: self.mfa_enrolled,
            mfa_phone_number: &self.mfa_phone_number,
            default_mfa_method: &self.default_mfa_method,
            roles,
            trusted_metadata: &self.trusted_metadata,
            untrusted_metadata: &self.untrusted_metadata,
            created_at: self.created_at,
            updated_at: self.updated_at,
            scim_registration: None,
            external_id: self.external_id.as_deref(),
            lock_created_at: if locked { self.lock_created_at } else { None },
            lock_expires_at: if locked { self.lock_expires_at } else { None },
        }
    }
}

/// A member with what its wire object needs.
pub struct MemberView {
    pub member: MemberRecord,
    pub organization: crate::model::organization::OrgRecord,
    pub retired: Vec<RetiredEmail>,
    pub sso: Vec<crate::model::sso::SsoRegistration>,
    pub oauth: Vec<crate::model::oauth::OAuthRegistrationRecord>,
    /// `scim_registration`, when a SCIM connection provisioned the member.
    pub scim: Option<Value>,
}
