//! The discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes` and
//! `/Schemas`, describing exactly what Latch stores and serves. `emails` is required on a User:
//! a Latch member is known by its email address.

use super::{ENTERPRISE_USER, GROUP_SCHEMA, USER_SCHEMA};
use serde_json::{json, Value};

/// Most results one list answer holds (`filter.maxResults`).
pub const MAX_RESULTS: usize = 1000;

fn meta(base_url: &str, resource_type: &str, path: &str) -> Value {
    json!({"resourceType": resource_type, "location": format!("{base_url}/{path}")})
}

pub fn service_provider_config(base_url: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/latch-auth/latch/blob/main/docs/scim.md",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "The SCIM connection's bearer token, in the Authorization header.",
            "primary": true
        }],
        "meta": meta(base_url, "ServiceProviderConfig", "ServiceProviderConfig"),
    })
}

fn resource_type(base_url: &str, name: &str, endpoint: &str, schema: &str, extensions: &[&str]) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": format!("{name}s of the organization"),
        "schema": schema,
        "schemaExtensions": extensions.iter().map(|e| json!({"schema": e, "required": false})).collect::<Vec<_>>(),
        "meta": meta(base_url, "ResourceType", &format!("ResourceTypes/{name}")),
    })
}

pub fn resource_types(base_url: &str) -> Vec<Value> {
    vec![
        resource_type(base_url, "User", "/Users", USER_SCHEMA, &[ENTERPRISE_USER]),
        resource_type(base_url, "Group", "/Groups", GROUP_SCHEMA, &[]),
    ]
}

/// One attribute definition; `sub` for a complex attribute's sub-attributes.
fn attr(name: &str, kind: &str, multi: bool, required: bool, mutability: &str, sub: Vec<Value>) -> Value {
    let mut a = json!({
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": name,
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": if name == "userName" { "server" } else { "none" },
    });
    if !sub.is_empty() {
        a["subAttributes"] = Value::from(sub);
    }
    a
}

fn s(name: &str) -> Value {
    attr(name, "string", false, false, "readWrite", vec![])
}

fn b(name: &str) -> Value {
    attr(name, "boolean", false, false, "readWrite", vec![])
}

fn reference(name: &str, types: &[&str], mutability: &str) -> Value {
    let mut a = attr(name, "reference", false, false, mutability, vec![]);
    a["referenceTypes"] = json!(types);
    a
}

/// `emails`, `phoneNumbers`, …: `value`, `type`, `primary`.
fn multi(name: &str, required: bool) -> Value {
    let mut value = s("value");
    value["required"] = Value::from(required);
    attr(
        name,
        "complex",
        true,
        required,
        "readWrite",
        vec![value, s("type"), b("primary"), s("display")],
    )
}

fn schema(base_url: &str, id: &str, name: &str, attributes: Vec<Value>) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": name,
        "attributes": attributes,
        "meta": meta(base_url, "Schema", &format!("Schemas/{id}")),
    })
}

pub fn schemas(base_url: &str) -> Vec<Value> {
    let user = schema(
        base_url,
        USER_SCHEMA,
        "User",
        vec![
            attr("userName", "string", false, true, "readWrite", vec![]),
            attr(
                "name",
                "complex",
                false,
                false,
                "readWrite",
                [
                    "formatted",
                    "familyName",
                    "givenName",
                    "middleName",
                    "honorificPrefix",
                    "honorificSuffix",
                ]
                .into_iter()
                .map(s)
                .collect(),
            ),
            s("displayName"),
            s("nickName"),
            reference("profileUrl", &["external"], "readWrite"),
            s("title"),
            s("userType"),
            s("preferredLanguage"),
            s("locale"),
            s("timezone"),
            b("active"),
            multi("emails", true),
            multi("phoneNumbers", false),
            attr(
                "groups",
                "complex",
                true,
                false,
                "readOnly",
                vec![
                    attr("value", "string", false, false, "readOnly", vec![]),
                    reference("$ref", &["Group"], "readOnly"),
                    attr("display", "string", false, false, "readOnly", vec![]),
                    attr("type", "string", false, false, "readOnly", vec![]),
                ],
            ),
        ],
    );
    let enterprise = schema(
        base_url,
        ENTERPRISE_USER,
        "EnterpriseUser",
        vec![
            s("employeeNumber"),
            s("costCenter"),
            s("organization"),
            s("division"),
            s("department"),
            attr(
                "manager",
                "complex",
                false,
                false,
                "readWrite",
                vec![
                    s("value"),
                    attr("displayName", "string", false, false, "readOnly", vec![]),
                ],
            ),
        ],
    );
    let group = schema(
        base_url,
        GROUP_SCHEMA,
        "Group",
        vec![
            attr("displayName", "string", false, true, "readWrite", vec![]),
            attr(
                "members",
                "complex",
                true,
                false,
                "readWrite",
                vec![
                    attr("value", "string", false, false, "immutable", vec![]),
                    reference("$ref", &["User"], "immutable"),
                    attr("display", "string", false, false, "readOnly", vec![]),
                ],
            ),
        ],
    );
    vec![user, enterprise, group]
}
