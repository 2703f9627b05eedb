//! Role-based access control as the SDKs evaluate it locally (rbac.md): a role grants an action
//! on a resource when one of its permissions names that resource and the action or `*`. No
//! inheritance, no patterns, no deny rules. The server decides with exactly this function so
//! that its answer and the SDKs' local answer cannot differ.
//!
//! The default policy holds Stytch's reserved roles and resources. Action names follow the
//! endpoint docstrings (hyphenated, e.g. `update.info.untrusted-metadata`), since those are the
//! actions the organization and member endpoints check.

use crate::error::CoreResult;
use crate::model::member::{ROLE_ADMIN, ROLE_MEMBER};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    pub resource_id: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRole {
    pub role_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyResource {
    pub resource_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyScope {
    pub scope: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub roles: Vec<PolicyRole>,
    pub resources: Vec<PolicyResource>,
    pub scopes: Vec<PolicyScope>,
}

pub const ORGANIZATION: &str = "stytch.organization";
pub const MEMBER: &str = "stytch.member";
pub const SELF: &str = "stytch.self";

const ORGANIZATION_ACTIONS: &[&str] = &[
    "update.info.name",
    "update.info.slug",
    "update.info.logo-url",
    "update.settings.default-sso-connection",
    "update.settings.sso-jit-provisioning",
    "update.settings.allowed-domains",
    "update.settings.email-jit-provisioning",
    "update.settings.email-invites",
    "update.settings.allowed-auth-methods",
    "update.settings.mfa-policy",
    "update.settings.implicit-roles",
    "update.settings.allowed-mfa-methods",
    "update.settings.oauth-tenant-jit-provisioning",
    "update.settings.allowed-oauth-tenants",
    "update.info.external-id",
    "update.info.trusted-metadata",
    "delete",
];
const MEMBER_ACTIONS: &[&str] = &[
    "create",
    "update.info.name",
    "update.info.untrusted-metadata",
    "update.info.mfa-phone",
    "update.info.delete.mfa-phone",
    "update.info.delete.password",
    "update.info.delete.totp",
    "update.info.email",
    "update.info.external-id",
    "update.settings.is-breakglass",
    "update.settings.mfa-enrolled",
    "update.settings.roles",
    "update.settings.default-mfa-method",
    "search",
    "delete",
    "reactivate",
    "revoke-sessions",
    "reset-password",
];
const SELF_ACTIONS: &[&str] = &[
    "update.info.name",
    "update.info.untrusted-metadata",
    "update.info.mfa-phone",
    "update.info.delete.mfa-phone",
    "update.info.delete.password",
    "update.info.delete.totp",
    "update.settings.mfa-enrolled",
    "update.settings.default-mfa-method",
    "delete",
    "revoke-sessions",
];
const CRUD: &[&str] = &["create", "update", "delete"];

fn resource(id: &str, description: &str, actions: &[&str]) -> PolicyResource {
    PolicyResource {
        resource_id: id.into(),
        description: description.into(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
    }
}

fn all_of(resources: &[&str]) -> Vec<Permission> {
    resources
        .iter()
        .map(|r| Permission {
            resource_id: r.to_string(),
            actions: vec!["*".into()],
        })
        .collect()
}

/// Stytch's reserved roles and resources.
pub fn default_policy() -> Policy {
    Policy {
        roles: vec![
            PolicyRole {
                role_id: ROLE_MEMBER.into(),
                description: "Granted to every member: manage one's own account.".into(),
                permissions: all_of(&[SELF]),
            },
            PolicyRole {
                role_id: ROLE_ADMIN.into(),
                description: "Full control of the organization and its members.".into(),
                permissions: all_of(&[ORGANIZATION, MEMBER, "stytch.sso", "stytch.scim", SELF]),
            },
        ],
        resources: vec![
            resource(ORGANIZATION, "The member's organization.", ORGANIZATION_ACTIONS),
            resource(MEMBER, "Members of the organization.", MEMBER_ACTIONS),
            resource("stytch.sso", "SSO connections of the organization.", CRUD),
            resource("stytch.scim", "SCIM connections of the organization.", CRUD),
            resource(SELF, "The member's own account.", SELF_ACTIONS),
        ],
        scopes: vec![],
    }
}

impl Policy {
    /// The defaults extended by a project's own roles, resources and scopes. A custom entry for a
    /// default role adds its permissions to that role.
    pub fn with_custom(custom: Policy) -> CoreResult<Policy> {
        let mut p = default_policy();
        for r in custom.resources {
            if r.resource_id.starts_with("stytch") {
                return Err(crate::error::catalogue::INVALID_STYTCH_PREFIXED_RESOURCE.detail(&r.resource_id));
            }
            if p.resources.iter().any(|x| x.resource_id == r.resource_id) {
                return Err(crate::error::catalogue::RBAC_RESOURCE_DUPLICATE.detail(&r.resource_id));
            }
            p.resources.push(r);
        }
        for r in custom.roles {
            match p.roles.iter_mut().find(|x| x.role_id == r.role_id) {
                Some(existing) if existing.role_id == ROLE_MEMBER || existing.role_id == ROLE_ADMIN => {
                    existing.permissions.extend(r.permissions)
                }
                Some(_) => return Err(crate::error::catalogue::RBAC_ROLE_DUPLICATE.detail(&r.role_id)),
                None => p.roles.push(r),
            }
        }
        p.scopes = custom.scopes;
        Ok(p)
    }

    pub fn has_role(&self, role_id: &str) -> bool {
        self.roles.iter().any(|r| r.role_id == role_id)
    }
}

/// The subject roles that grant `action` on `resource`, in policy order (empty = refused).
pub fn granting_roles(roles: &[PolicyRole], subject_roles: &[String], resource: &str, action: &str) -> Vec<String> {
    roles
        .iter()
        .filter(|r| subject_roles.iter().any(|s| s == &r.role_id))
        .filter(|r| {
            r.permissions
                .iter()
                .any(|p| p.resource_id == resource && p.actions.iter().any(|a| a == "*" || a == action))
        })
        .map(|r| r.role_id.clone())
        .collect()
}

/// A project's own policy (the Management API's `rbac_policy.set`): it merges with the defaults
/// (`Policy::with_custom`), every role and scope has an id, and every permission names a resource
/// and actions the merged policy defines.
pub fn validate_project_policy(custom: &Policy) -> CoreResult<Policy> {
    use crate::error::catalogue as c;
    for r in &custom.resources {
        if r.resource_id.trim().is_empty() || r.resource_id.len() > 128 {
            return Err(c::INVALID_ARGUMENT.field_detail("custom_resources.resource_id", "1 to 128 characters"));
        }
        if r.actions.iter().any(|a| a.trim().is_empty() || a == "*") {
            return Err(c::INVALID_ARGUMENT.field_detail(
                "custom_resources.available_actions",
                format!("{}: actions are named, non-empty and not '*'", r.resource_id),
            ));
        }
    }
    for (i, r) in custom.roles.iter().enumerate() {
        if r.role_id.trim().is_empty() || r.role_id.len() > 128 {
            return Err(c::INVALID_RBAC_ROLE_ID.err());
        }
        if custom.roles[..i].iter().any(|x| x.role_id == r.role_id) {
            return Err(c::RBAC_ROLE_DUPLICATE.detail(&r.role_id));
        }
    }
    let merged = Policy::with_custom(custom.clone())?;
    for r in &custom.roles {
        check_permissions(&merged, &r.role_id, &r.permissions)?;
    }
    for s in &custom.scopes {
        if s.scope.trim().is_empty() {
            return Err(c::INVALID_ARGUMENT.field_detail("custom_scopes.scope", "is required"));
        }
        check_permissions(&merged, &s.scope, &s.permissions)?;
    }
    Ok(merged)
}

/// Org-policy rules of the SDK's `validate_org_policy`.
pub fn validate_org_roles(project: &Policy, roles: &[PolicyRole]) -> CoreResult<()> {
    use crate::error::catalogue as c;
    let bad = |k: c::ErrorKind, detail: String| Err(k.detail(detail));
    for (i, r) in roles.iter().enumerate() {
        if r.role_id.trim().is_empty() {
            return Err(c::INVALID_RBAC_ROLE_ID.err());
        }
        if roles[..i].iter().any(|x| x.role_id == r.role_id) {
            return bad(
                c::RBAC_ROLE_DUPLICATE,
                format!("Duplicate role {} in Organization RBAC policy", r.role_id),
            );
        }
        if project.has_role(&r.role_id) {
            return bad(
                c::RBAC_ROLE_DUPLICATE,
                format!("Role {} already defined in Project RBAC policy", r.role_id),
            );
        }
        check_permissions(project, &r.role_id, &r.permissions)?;
    }
    Ok(())
}

/// Each permission names a resource of `project` and actions it defines (or `*` alone).
fn check_permissions(project: &Policy, owner: &str, permissions: &[Permission]) -> CoreResult<()> {
    use crate::error::catalogue as c;
    let bad = |k: c::ErrorKind, detail: String| Err(k.detail(detail));
    for p in permissions {
        let Some(res) = project.resources.iter().find(|x| x.resource_id == p.resource_id) else {
            return bad(
                c::INVALID_PERMISSION_RESOURCE,
                format!("Resource {} not defined in Project RBAC policy", p.resource_id),
            );
        };
        if p.actions.is_empty() {
            return bad(
                c::INVALID_PERMISSION_ACTION,
                format!("No actions defined for role {}, resource {}", owner, p.resource_id),
            );
        }
        if p.actions.iter().any(|a| a == "*") && p.actions.len() > 1 {
            return bad(
                c::INVALID_WILDCARD_ACTION,
                "Wildcard actions must be the only action defined for a role and resource".into(),
            );
        }
        for a in p.actions.iter().filter(|a| a.as_str() != "*") {
            if a.trim().is_empty() {
                return bad(
                    c::INVALID_PERMISSION_ACTION,
                    format!("Empty action on resource {} is not permitted", p.resource_id),
                );
            }
            if !res.actions.contains(a) {
                return bad(
                    c::INVALID_PERMISSION_ACTION,
                    format!("Unknown action {a} defined on resource {}", p.resource_id),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn defaults_grant_self_to_members_and_everything_to_admins() {
        let p = default_policy();
        assert_eq!(
            granting_roles(&p.roles, &s(&["stytch_member"]), SELF, "update.info.name"),
            s(&["stytch_member"])
        );
        assert!(granting_roles(&p.roles, &s(&["stytch_member"]), MEMBER, "delete").is_empty());
        assert_eq!(
            granting_roles(&p.roles, &s(&["stytch_member", "stytch_admin"]), SELF, "delete"),
            s(&["stytch_member", "stytch_admin"])
        );
        assert_eq!(
            granting_roles(&p.roles, &s(&["stytch_admin"]), ORGANIZATION, "anything"),
            s(&["stytch_admin"])
        );
        // Roles unknown to the policy grant nothing; there are no action patterns.
        assert!(granting_roles(&p.roles, &s(&["ghost"]), SELF, "delete").is_empty());
    }

    #[test]
    fn custom_policy_merges_and_validates() {
        let custom: Policy = serde_json::from_value(serde_json::json!({
            "roles": [
                {"role_id": "editor", "description": "", "permissions": [{"resource_id": "documents", "actions": ["read", "write"]}]},
                {"role_id": "stytch_member", "permissions": [{"resource_id": "documents", "actions": ["read"]}]}
            ],
            "resources": [{"resource_id": "documents", "description": "", "actions": ["read", "write", "delete"]}]
        }))
        .unwrap();
        let p = Policy::with_custom(custom).unwrap();
        assert_eq!(
            granting_roles(&p.roles, &s(&["stytch_member"]), "documents", "read"),
            s(&["stytch_member"])
        );
        assert!(granting_roles(&p.roles, &s(&["editor"]), "documents", "delete").is_empty());
        let bad: Policy =
            serde_json::from_value(serde_json::json!({"resources": [{"resource_id": "stytch.x", "actions": []}]}))
                .unwrap();
        assert!(Policy::with_custom(bad).is_err());

        let ok = vec![PolicyRole {
            role_id: "org-reader".into(),
            description: String::new(),
            permissions: vec![Permission {
                resource_id: "documents".into(),
                actions: s(&["read"]),
            }],
        }];
        assert!(validate_org_roles(&p, &ok).is_ok());
        let cases = [
            ("editor", "documents", s(&["read"])),
            ("x", "nowhere", s(&["read"])),
            ("x", "documents", s(&[])),
            ("x", "documents", s(&["*", "read"])),
            ("x", "documents", s(&["publish"])),
        ];
        for (role, res, actions) in cases {
            let roles = vec![PolicyRole {
                role_id: role.into(),
                description: String::new(),
                permissions: vec![Permission {
                    resource_id: res.into(),
                    actions,
                }],
            }];
            assert!(validate_org_roles(&p, &roles).is_err(), "{role} {res}");
        }
    }
}
