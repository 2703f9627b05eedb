//! SCIM Groups (RFC 7643 §4.2): named sets of the connection's users. Through the connection's
//! `scim_group_implicit_role_assignments`, a group's members hold roles (`scim_connection_group`
//! sources); every change of membership brings the affected members' roles in step.
//!
//! Members must be users of the same connection (a group never reaches another connection's or
//! organization's members); nested groups are not supported.

use crate::engine::scim_provisioning::{incoming, list, meta, selected, string_attr, ListQuery};
use crate::engine::{audit, scim, Ctx};
use crate::ids::{self, MemberId};
use crate::model::scim::{GroupMember, ScimConnectionRecord, ScimGroupRecord};
use crate::scim::{get_ci, key_of, patch, Kind, ScimError, ScimResult, GROUP_SCHEMA};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

const MAX_DISPLAY_NAME: usize = 256;
const MAX_MEMBERS: usize = 10_000;

pub fn render(base: &str, g: &ScimGroupRecord) -> Value {
    let mut m = g.resource.as_object().cloned().unwrap_or_default();
    m.insert("schemas".into(), json!([GROUP_SCHEMA]));
    m.insert("id".into(), json!(g.group_id));
    if !g.members.is_empty() {
        let members: Vec<Value> = g
            .members
            .iter()
            .map(|x| {
                let mut o = json!({"value": x.value, "$ref": format!("{base}/Users/{}", x.value)});
                if !x.display.is_empty() {
                    o["display"] = json!(x.display);
                }
                o
            })
            .collect();
        m.insert("members".into(), Value::Array(members));
    }
    m.insert(
        "meta".into(),
        meta(
            "Group",
            format!("{base}/Groups/{}", g.group_id),
            g.created_at,
            g.updated_at,
        ),
    );
    Value::Object(m)
}

fn not_found() -> ScimError {
    ScimError::missing("No such group at this SCIM connection.")
}

async fn group(ctx: &Ctx, c: &ScimConnectionRecord, id: &str) -> ScimResult<ScimGroupRecord> {
    if id.is_empty() || id.len() > 128 {
        return Err(not_found());
    }
    ctx.store
        .scim_group(&c.project_id, &c.connection_id, id)
        .await?
        .filter(|g| g.organization_id == c.organization_id)
        .ok_or_else(not_found)
}

/// The document's display name and members, checked: every member a user of this connection.
async fn split(
    ctx: &Ctx,
    c: &ScimConnectionRecord,
    doc: &mut Map<String, Value>,
) -> ScimResult<(String, Vec<GroupMember>)> {
    let name = string_attr(doc, "displayName")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::invalid_value("displayName is required"))?;
    if name.chars().count() > MAX_DISPLAY_NAME || crate::validate::display_text("displayName", &name).is_err() {
        return Err(ScimError::invalid_value(
            "displayName must be 1 to 256 printable characters",
        ));
    }
    let given = match key_of(doc, "members") {
        Some(k) => doc.remove(&k).unwrap_or(Value::Null),
        None => Value::Null,
    };
    let items = match given {
        Value::Null => vec![],
        Value::Array(a) => a,
        _ => return Err(ScimError::invalid_value("members must be a list")),
    };
    if items.len() > MAX_MEMBERS {
        return Err(ScimError::invalid_value("too many members"));
    }
    let users: BTreeSet<String> = ctx
        .store
        .scim_users(&c.project_id, &c.connection_id)
        .await?
        .into_iter()
        .map(|u| u.member_id.to_string())
        .collect();
    let mut out: Vec<GroupMember> = Vec::new();
    for item in items {
        let Some(o) = item.as_object() else {
            return Err(ScimError::invalid_value("a member must be an object"));
        };
        let Some(value) = get_ci(o, "value").and_then(Value::as_str) else {
            return Err(ScimError::invalid_value("a member needs a value"));
        };
        if !users.contains(value) {
            return Err(ScimError::invalid_value(format!(
                "'{value}' is not a user of this SCIM connection"
            )));
        }
        let display = get_ci(o, "display").and_then(Value::as_str).unwrap_or("").to_string();
        if !out.iter().any(|m| m.value == value) {
            out.push(GroupMember {
                value: value.to_string(),
                display,
            });
        }
    }
    Ok((name, out))
}

pub async fn get(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, id: &str, q: &ListQuery) -> ScimResult<Value> {
    Ok(selected(render(base, &group(ctx, c, id).await?), q, Kind::Group))
}

pub async fn list_all(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, q: &ListQuery) -> ScimResult<Value> {
    let groups = ctx.store.scim_groups(&c.project_id, &c.connection_id).await?;
    list(groups.iter().map(|g| render(base, g)).collect(), q, Kind::Group)
}

pub async fn create(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, body: &Value) -> ScimResult<Value> {
    let mut doc = incoming(body, Kind::Group)?;
    let (name, members) = split(ctx, c, &mut doc).await?;
    let now = ctx.now();
    let g = ScimGroupRecord {
        group_id: ids::scim_group_id(),
        project_id: c.project_id.clone(),
        organization_id: c.organization_id.clone(),
        connection_id: c.connection_id.clone(),
        display_name: name,
        external_id: string_attr(&doc, "externalId")?,
        members,
        resource: Value::Object(doc),
        created_at: now,
        updated_at: now,
    };
    ctx.store.save_scim_group(&g).await?;
    audit::fact(
        "scim.group_created",
        audit::Target {
            organization_id: Some(c.organization_id.clone()),
            ..Default::default()
        },
        &[
            ("connection_id", json!(c.connection_id)),
            ("group_id", json!(g.group_id)),
        ],
    );
    let affected: Vec<MemberId> = g.members.iter().map(|m| MemberId::from(m.value.as_str())).collect();
    scim::sync_roles(ctx, c, &affected).await?;
    Ok(render(base, &g))
}

pub async fn replace(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, id: &str, body: &Value) -> ScimResult<Value> {
    let g = group(ctx, c, id).await?;
    let doc = incoming(body, Kind::Group)?;
    write(ctx, c, base, g, doc).await
}

/// PATCH: the operations applied to the group with its members (Okta and Entra ID change
/// membership this way: `add`/`remove` on `members`, `members[value eq "…"]`).
pub async fn modify(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, id: &str, body: &Value) -> ScimResult<Value> {
    let g = group(ctx, c, id).await?;
    let mut doc = g.resource.as_object().cloned().unwrap_or_default();
    if !g.members.is_empty() {
        doc.insert("members".into(), serde_json::to_value(&g.members).unwrap_or_default());
    }
    patch::apply(&mut doc, body, Kind::Group)?;
    write(ctx, c, base, g, doc).await
}

async fn write(
    ctx: &Ctx,
    c: &ScimConnectionRecord,
    base: &str,
    mut g: ScimGroupRecord,
    mut doc: Map<String, Value>,
) -> ScimResult<Value> {
    let (name, members) = split(ctx, c, &mut doc).await?;
    let affected: BTreeSet<String> = g
        .members
        .iter()
        .chain(members.iter())
        .map(|m| m.value.clone())
        .collect();
    g.external_id = string_attr(&doc, "externalId")?;
    g.display_name = name;
    g.members = members;
    g.resource = Value::Object(doc);
    g.updated_at = ctx.now();
    ctx.store.save_scim_group(&g).await?;
    let affected: Vec<MemberId> = affected.into_iter().map(MemberId::from).collect();
    scim::sync_roles(ctx, c, &affected).await?;
    Ok(render(base, &g))
}

pub async fn delete(ctx: &Ctx, c: &ScimConnectionRecord, id: &str) -> ScimResult<()> {
    let g = group(ctx, c, id).await?;
    ctx.store
        .delete_scim_group(&c.project_id, &c.connection_id, &g.group_id)
        .await?;
    let affected: Vec<MemberId> = g.members.iter().map(|m| MemberId::from(m.value.as_str())).collect();
    scim::sync_roles(ctx, c, &affected).await?;
    audit::fact(
        "scim.group_deleted",
        audit::Target {
            organization_id: Some(c.organization_id.clone()),
            ..Default::default()
        },
        &[
            ("connection_id", json!(c.connection_id)),
            ("group_id", json!(g.group_id)),
        ],
    );
    Ok(())
}
