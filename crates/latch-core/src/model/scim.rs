//! SCIM provisioning as stored and as it goes on the wire (scim.md#objects): a connection of an
//! organization with its bearer tokens (digests only), the users and groups its identity provider
//! pushed, and the roles members hold through those groups.

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A group → role pair of a connection (`scim_group_implicit_role_assignments`); the group's name
/// is filled in from the group when shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRoleAssignment {
    pub role_id: String,
    pub group_id: String,
}

/// A role a member holds through one of its SCIM groups (a `scim_connection_group` source).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScimRoleGrant {
    pub role_id: String,
    pub connection_id: String,
    pub group_id: String,
}

/// A SCIM connection. Its tokens are kept as SHA-256 digests; the plaintext is shown once.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimConnectionRecord {
    pub connection_id: String,
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub display_name: String,
    pub identity_provider: String,
    pub token_hash: String,
    pub token_last_four: String,
    pub token_expires_at: Option<Timestamp>,
    /// The rotation's new token, accepted alongside the current one until completed or cancelled.
    pub next_token_hash: Option<String>,
    pub next_token_last_four: String,
    pub next_token_expires_at: Option<Timestamp>,
    pub role_assignments: Vec<GroupRoleAssignment>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `SCIMGroupImplicitRoleAssignments` on the wire.
#[derive(Debug, Clone, Serialize)]
pub struct AssignmentView {
    pub role_id: String,
    pub group_id: String,
    pub group_name: String,
}

/// `SCIMConnection` (get, update, rotate complete/cancel). The plaintext tokens of create and
/// rotate start are added by the HTTP layer, which alone sees them.
#[derive(Debug, Clone, Serialize)]
pub struct ScimConnection {
    pub organization_id: String,
    pub connection_id: String,
    pub status: &'static str,
    pub display_name: String,
    pub identity_provider: String,
    pub base_url: String,
    pub bearer_token_last_four: String,
    pub bearer_token_expires_at: Option<Timestamp>,
    pub next_bearer_token_last_four: String,
    pub next_bearer_token_expires_at: Option<Timestamp>,
    pub scim_group_implicit_role_assignments: Vec<AssignmentView>,
}

/// `Organization.scim_active_connection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveScimConnection {
    pub connection_id: String,
    pub display_name: String,
    pub bearer_token_last_four: String,
    pub bearer_token_expires_at: Option<Timestamp>,
}

/// A SCIM User: the member it provisions (its SCIM `id` is the member id) and the resource as the
/// identity provider last wrote it (core and extension attributes; `id`, `meta` and `groups` are
/// the server's and added when it is shown).
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUserRecord {
    pub member_id: MemberId,
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub connection_id: String,
    pub registration_id: String,
    /// Folded to lower case: userName is unique per connection, case-insensitively.
    pub user_name: String,
    pub external_id: Option<String>,
    pub active: bool,
    pub resource: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A group member: a SCIM user id (a member id) and the name the provider sent with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub value: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display: String,
}

/// A SCIM Group: its members, and the rest of the resource as the provider last wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroupRecord {
    pub group_id: String,
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub connection_id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<GroupMember>,
    pub resource: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `SCIMGroup` (get_groups).
#[derive(Debug, Clone, Serialize)]
pub struct ScimGroupView<'a> {
    pub group_id: &'a str,
    pub group_name: &'a str,
    pub organization_id: &'a str,
    pub connection_id: &'a str,
}

impl ScimGroupRecord {
    pub fn view(&self) -> ScimGroupView<'_> {
        ScimGroupView {
            group_id: &self.group_id,
            group_name: &self.display_name,
            organization_id: &self.organization_id,
            connection_id: &self.connection_id,
        }
    }
}

impl ScimUserRecord {
    /// `Member.scim_registration` (objects.md#scimregistration): the user's attributes in the
    /// SDK's snake_case `SCIMAttributes`, every field present (`""`, `false`, `[]` when the
    /// identity provider sent none), `groups` from the connection's groups.
    pub fn registration(&self, groups: &[ScimGroupRecord]) -> Value {
        use serde_json::{json, Map};
        let r = self.resource.as_object().cloned().unwrap_or_default();
        let get = |m: &Map<String, Value>, k: &str| crate::scim::get_ci(m, k).cloned();
        let text = |m: &Map<String, Value>, k: &str| match get(m, k) {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let list = |k: &str, fields: &[(&str, &str)]| -> Value {
            let items = match get(&r, k) {
                Some(Value::Array(a)) => a,
                _ => vec![],
            };
            Value::Array(
                items
                    .iter()
                    .filter_map(Value::as_object)
                    .map(|o| {
                        let mut out = Map::new();
                        for (ours, theirs) in fields {
                            out.insert((*ours).into(), Value::from(text(o, theirs)));
                        }
                        out.insert(
                            "primary".into(),
                            Value::from(
                                get(o, "primary")
                                    .as_ref()
                                    .and_then(crate::scim::boolish)
                                    .unwrap_or(false),
                            ),
                        );
                        Value::Object(out)
                    })
                    .collect(),
            )
        };
        let vtp = [("value", "value"), ("type", "type")];
        let name = get(&r, "name").and_then(|v| v.as_object().cloned()).map(|n| {
            json!({
                "formatted": text(&n, "formatted"),
                "family_name": text(&n, "familyName"),
                "given_name": text(&n, "givenName"),
                "middle_name": text(&n, "middleName"),
                "honorific_prefix": text(&n, "honorificPrefix"),
                "honorific_suffix": text(&n, "honorificSuffix"),
            })
        });
        let enterprise = get(&r, crate::scim::ENTERPRISE_USER)
            .and_then(|v| v.as_object().cloned())
            .map(|e| {
                let manager = get(&e, "manager").and_then(|v| v.as_object().cloned()).map(|m| {
                    json!({"value": text(&m, "value"), "ref": text(&m, "$ref"), "display_name": text(&m, "displayName")})
                });
                json!({
                    "employee_number": text(&e, "employeeNumber"),
                    "cost_center": text(&e, "costCenter"),
                    "division": text(&e, "division"),
                    "department": text(&e, "department"),
                    "organization": text(&e, "organization"),
                    "manager": manager,
                })
            });
        let my_groups: Vec<Value> = groups
            .iter()
            .filter(|g| {
                g.connection_id == self.connection_id && g.members.iter().any(|m| m.value == self.member_id.as_str())
            })
            .map(|g| json!({"value": g.group_id, "display": g.display_name}))
            .collect();
        let attributes = json!({
            "user_name": text(&r, "userName"),
            "id": self.member_id,
            "external_id": text(&r, "externalId"),
            "active": self.active,
            "groups": my_groups,
            "display_name": text(&r, "displayName"),
            "nick_name": text(&r, "nickName"),
            "profile_url": text(&r, "profileUrl"),
            "user_type": text(&r, "userType"),
            "title": text(&r, "title"),
            "preferred_language": text(&r, "preferredLanguage"),
            "locale": text(&r, "locale"),
            "timezone": text(&r, "timezone"),
            "emails": list("emails", &vtp),
            "phone_numbers": list("phoneNumbers", &vtp),
            "addresses": list("addresses", &[
                ("formatted", "formatted"), ("street_address", "streetAddress"), ("locality", "locality"),
                ("region", "region"), ("postal_code", "postalCode"), ("country", "country"), ("type", "type"),
            ]),
            "ims": list("ims", &vtp),
            "photos": list("photos", &vtp),
            "entitlements": list("entitlements", &vtp),
            "roles": list("roles", &vtp),
            "x509certificates": list("x509Certificates", &vtp),
            "name": name,
            "enterprise_extension": enterprise,
        });
        json!({
            "connection_id": self.connection_id,
            "registration_id": self.registration_id,
            "external_id": self.external_id,
            "scim_attributes": attributes,
        })
    }
}
