//! SCIM Users (RFC 7643 §4.1) as members of the connection's organization.
//!
//! A user's SCIM `id` is its member's id. What the identity provider writes is kept as the
//! user's resource, and the member follows it: the email address (the primary of `emails`, else
//! the first, else an email-shaped `userName`), the name (`name.formatted`, else given and family
//! name, else `displayName`), and `active`: `false` deactivates the member (status `deleted`,
//! sessions revoked), `true` brings it back. A member that already exists with the address is
//! taken over rather than duplicated. DELETE deactivates the member and forgets the user.
//!
//! Every request is checked in full before anything is written: a refused request writes nothing.

use crate::engine::grant::Grant;
use crate::engine::members::{self, MemberInput, Write};
use crate::engine::scim_provisioning::{incoming, list, meta, selected, string_attr, ListQuery};
use crate::engine::{audit, scim, Ctx};
use crate::error::CoreError;
use crate::ids::{self, MemberId};
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::scim::{ScimConnectionRecord, ScimGroupRecord, ScimUserRecord};
use crate::scim::{boolish, get_ci, key_of, patch, Kind, ScimError, ScimResult, ENTERPRISE_USER, USER_SCHEMA};
use crate::store::retry;
use crate::validate;
use serde_json::{json, Map, Value};

const MAX_USER_NAME: usize = 256;

/// What a member takes from a user resource, checked.
struct Derived {
    user_name: String,
    email: String,
    name: Option<String>,
    external_id: Option<String>,
    active: bool,
}

fn derive(doc: &mut Map<String, Value>) -> ScimResult<Derived> {
    let user_name = string_attr(doc, "userName")?
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
    if user_name.chars().count() > MAX_USER_NAME || validate::display_text("userName", &user_name).is_err() {
        return Err(ScimError::invalid_value(
            "userName must be 1 to 256 printable characters",
        ));
    }
    // Entra ID sends `"active": "False"`; stored as the boolean it means.
    let active = match key_of(doc, "active") {
        None => true,
        Some(k) => {
            let b = boolish(&doc[&k]).ok_or_else(|| ScimError::invalid_value("active must be a boolean"))?;
            doc.insert(k, Value::Bool(b));
            b
        }
    };
    let emails: Vec<&Map<String, Value>> = match get_ci(doc, "emails") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_object).collect(),
        Some(_) => return Err(ScimError::invalid_value("emails must be a list")),
    };
    let value = |m: &Map<String, Value>| get_ci(m, "value").and_then(Value::as_str).map(str::to_string);
    let primary = emails
        .iter()
        .find(|m| get_ci(m, "primary").and_then(boolish) == Some(true))
        .and_then(|m| value(m));
    let email = primary
        .or_else(|| emails.iter().find_map(|m| value(m)))
        .or_else(|| user_name.contains('@').then(|| user_name.clone()))
        .ok_or_else(|| ScimError::invalid_value("a user needs an email address (emails or an email userName)"))?;
    let email = validate::normalize_email(&email)
        .map_err(|_| ScimError::invalid_value(format!("'{email}' is not a valid email address")))?;
    let name_obj = get_ci(doc, "name").and_then(Value::as_object);
    let part = |k: &str| {
        name_obj
            .and_then(|n| get_ci(n, k))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let name = part("formatted")
        .map(str::to_string)
        .or_else(|| {
            let joined = [part("givenName"), part("familyName")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.is_empty()).then_some(joined)
        })
        .or(string_attr(doc, "displayName")?.filter(|s| !s.trim().is_empty()));
    if let Some(n) = &name {
        if n.chars().count() > 1024 || validate::display_text("name", n).is_err() {
            return Err(ScimError::invalid_value(
                "the name must be at most 1024 printable characters",
            ));
        }
    }
    let external_id = string_attr(doc, "externalId")?;
    Ok(Derived {
        user_name,
        email,
        name,
        external_id,
        active,
    })
}

/// The user as shown: its resource with `schemas`, `id`, `active`, its groups and `meta`.
pub fn render(base: &str, u: &ScimUserRecord, groups: &[ScimGroupRecord]) -> Value {
    let mut m = u.resource.as_object().cloned().unwrap_or_default();
    let mut schemas = vec![USER_SCHEMA];
    if key_of(&m, ENTERPRISE_USER).is_some() {
        schemas.push(ENTERPRISE_USER);
    }
    m.insert("schemas".into(), json!(schemas));
    m.insert("id".into(), json!(u.member_id));
    // `active` is shown when the identity provider set it (a removed one stays removed); the
    // member's status follows the stored value.
    if let Some(k) = key_of(&m, "active") {
        m.insert(k, json!(u.active));
    }
    let mine: Vec<Value> = groups
        .iter()
        .filter(|g| g.members.iter().any(|x| x.value == u.member_id.as_str()))
        .map(|g| json!({"value": g.group_id, "display": g.display_name, "$ref": format!("{base}/Groups/{}", g.group_id), "type": "direct"}))
        .collect();
    if !mine.is_empty() {
        m.insert("groups".into(), Value::Array(mine));
    }
    m.insert(
        "meta".into(),
        meta(
            "User",
            format!("{base}/Users/{}", u.member_id),
            u.created_at,
            u.updated_at,
        ),
    );
    Value::Object(m)
}

fn not_found() -> ScimError {
    ScimError::missing("No such user at this SCIM connection.")
}

async fn user(ctx: &Ctx, c: &ScimConnectionRecord, id: &str) -> ScimResult<ScimUserRecord> {
    if id.is_empty() || id.len() > 128 {
        return Err(not_found());
    }
    ctx.store
        .scim_user(&c.project_id, &c.connection_id, &MemberId::from(id))
        .await?
        .filter(|u| u.organization_id == c.organization_id)
        .ok_or_else(not_found)
}

/// userName is unique at the connection, case-insensitively.
async fn check_user_name(
    ctx: &Ctx,
    c: &ScimConnectionRecord,
    folded: &str,
    except: Option<&MemberId>,
) -> ScimResult<()> {
    let taken = ctx
        .store
        .scim_users(&c.project_id, &c.connection_id)
        .await?
        .into_iter()
        .any(|u| u.user_name == folded && Some(&u.member_id) != except);
    if taken {
        return Err(ScimError::uniqueness("userName is already taken at this connection"));
    }
    Ok(())
}

pub async fn get(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, id: &str, q: &ListQuery) -> ScimResult<Value> {
    let u = user(ctx, c, id).await?;
    let groups = ctx.store.scim_groups(&c.project_id, &c.connection_id).await?;
    Ok(selected(render(base, &u, &groups), q, Kind::User))
}

pub async fn list_all(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, q: &ListQuery) -> ScimResult<Value> {
    let users = ctx.store.scim_users(&c.project_id, &c.connection_id).await?;
    let groups = ctx.store.scim_groups(&c.project_id, &c.connection_id).await?;
    list(users.iter().map(|u| render(base, u, &groups)).collect(), q, Kind::User)
}

pub async fn create(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, body: &Value) -> ScimResult<Value> {
    let mut doc = incoming(body, Kind::User)?;
    let d = derive(&mut doc)?;
    let folded = d.user_name.to_lowercase();
    check_user_name(ctx, c, &folded, None).await?;
    let existing = ctx
        .store
        .member_by_email(&c.project_id, &c.organization_id, &d.email)
        .await?;
    let member = match existing {
        Some(m) => {
            let taken = ctx
                .store
                .scim_user(&c.project_id, &c.connection_id, &m.member_id)
                .await?
                .is_some();
            if taken {
                return Err(ScimError::uniqueness(
                    "a user with this email address exists at this connection",
                ));
            }
            m
        }
        None => {
            let input = MemberInput {
                email_address: Some(d.email.clone()),
                name: d.name.clone(),
                ..Default::default()
            };
            members::provision(ctx, &c.project_id, &c.organization_id, input)
                .await?
                .member
        }
    };
    let now = ctx.now();
    let u = ScimUserRecord {
        member_id: member.member_id.clone(),
        project_id: c.project_id.clone(),
        organization_id: c.organization_id.clone(),
        connection_id: c.connection_id.clone(),
        registration_id: ids::scim_registration_id(),
        user_name: folded,
        external_id: d.external_id.clone(),
        active: d.active,
        resource: Value::Object(doc),
        created_at: now,
        updated_at: now,
    };
    match ctx.store.insert_scim_user(&u).await {
        Err(crate::error::StoreError::UniqueViolation) => {
            return Err(ScimError::uniqueness("userName is already taken at this connection"))
        }
        other => other?,
    }
    follow(ctx, member, &d).await?;
    audit::fact(
        "scim.user_provisioned",
        audit::Target {
            organization_id: Some(c.organization_id.clone()),
            member_id: Some(u.member_id.clone()),
            session_id: None,
        },
        &[("connection_id", json!(c.connection_id))],
    );
    let groups = ctx.store.scim_groups(&c.project_id, &c.connection_id).await?;
    Ok(render(base, &u, &groups))
}

/// The member brought in step with the user: address, name and status.
async fn follow(ctx: &Ctx, member: MemberRecord, d: &Derived) -> ScimResult<()> {
    let member_id = member.member_id.clone();
    let project_id = member.project_id.clone();
    retry::on_conflict(|| async {
        let mut m = ctx
            .store
            .member_by_id(&project_id, &member_id)
            .await?
            .ok_or_else(CoreError::member_not_found)?;
        let grant = Grant::engine();
        if !d.active {
            if m.status != MemberStatus::Deleted {
                members::soft_delete(ctx, &grant, &mut m).await?;
                audit::fact("scim.user_deactivated", audit::Target::member(&m), &[]);
            }
            return Ok(());
        }
        let mut changed = false;
        let reactivated = m.status == MemberStatus::Deleted;
        if m.status != MemberStatus::Active {
            // The identity provider vouches for the person: pending, invited or deactivated
            // members become active.
            m.status = MemberStatus::Active;
            changed = true;
        }
        if let Some(n) = &d.name {
            if &m.name != n {
                m.name = n.clone();
                changed = true;
            }
        }
        let write = if m.email != d.email {
            m.email = d.email.clone();
            m.email_verified = false;
            m.member_password_id = String::new();
            changed = true;
            Write::EmailChange { retire: None }
        } else {
            Write::Plain
        };
        if changed {
            members::save(ctx, &grant, &mut m, write).await?;
        }
        if reactivated {
            audit::fact("scim.user_reactivated", audit::Target::member(&m), &[]);
        }
        Ok(())
    })
    .await
    .map_err(ScimError::from)
}

/// PUT: the user replaced by the body.
pub async fn replace(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, id: &str, body: &Value) -> ScimResult<Value> {
    let u = user(ctx, c, id).await?;
    let doc = incoming(body, Kind::User)?;
    write(ctx, c, base, u, doc).await
}

/// PATCH: the operations applied to the stored resource.
pub async fn modify(ctx: &Ctx, c: &ScimConnectionRecord, base: &str, id: &str, body: &Value) -> ScimResult<Value> {
    let u = user(ctx, c, id).await?;
    let mut doc = u.resource.as_object().cloned().unwrap_or_default();
    patch::apply(&mut doc, body, Kind::User)?;
    write(ctx, c, base, u, doc).await
}

async fn write(
    ctx: &Ctx,
    c: &ScimConnectionRecord,
    base: &str,
    mut u: ScimUserRecord,
    mut doc: Map<String, Value>,
) -> ScimResult<Value> {
    // Okta pushes password changes; Latch takes no password from an identity provider and must
    // never keep one in the resource.
    if let Some(k) = key_of(&doc, "password") {
        doc.remove(&k);
    }
    let d = derive(&mut doc)?;
    let folded = d.user_name.to_lowercase();
    check_user_name(ctx, c, &folded, Some(&u.member_id)).await?;
    let member = ctx
        .store
        .member_by_id(&c.project_id, &u.member_id)
        .await?
        .ok_or_else(not_found)?;
    if d.active {
        if let Some(other) = ctx
            .store
            .member_by_email(&c.project_id, &c.organization_id, &d.email)
            .await?
        {
            if other.member_id != member.member_id {
                return Err(ScimError::uniqueness(
                    "another member of the organization has this email address",
                ));
            }
        }
    }
    follow(ctx, member, &d).await?;
    u.user_name = folded;
    u.external_id = d.external_id;
    u.active = d.active;
    u.resource = Value::Object(doc);
    u.updated_at = ctx.now();
    match ctx.store.update_scim_user(&u).await {
        Err(crate::error::StoreError::UniqueViolation) => {
            return Err(ScimError::uniqueness("userName is already taken at this connection"))
        }
        other => other?,
    }
    let groups = ctx.store.scim_groups(&c.project_id, &c.connection_id).await?;
    Ok(render(base, &u, &groups))
}

/// DELETE: the member is deactivated, and the user and its group memberships forgotten.
pub async fn delete(ctx: &Ctx, c: &ScimConnectionRecord, id: &str) -> ScimResult<()> {
    let u = user(ctx, c, id).await?;
    for mut g in ctx.store.scim_groups(&c.project_id, &c.connection_id).await? {
        let before = g.members.len();
        g.members.retain(|m| m.value != u.member_id.as_str());
        if g.members.len() != before {
            g.updated_at = ctx.now();
            ctx.store.save_scim_group(&g).await?;
        }
    }
    ctx.store
        .delete_scim_user(&c.project_id, &c.connection_id, &u.member_id)
        .await?;
    scim::sync_roles(ctx, c, std::slice::from_ref(&u.member_id)).await?;
    if let Some(m) = ctx.store.member_by_id(&c.project_id, &u.member_id).await? {
        let off = Derived {
            user_name: String::new(),
            email: m.email.clone(),
            name: None,
            external_id: None,
            active: false,
        };
        follow(ctx, m, &off).await?;
    }
    Ok(())
}
