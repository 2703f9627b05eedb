//! SCIM (scim.md): an organization's SCIM connection through the SDK's `scim.connection`
//! endpoints, and the SCIM 2.0 service its identity provider calls with the connection's bearer
//! token (`engine::scim_users`, `engine::scim_groups`).
//!
//! Connection writes need their action on `stytch.scim` with a member session; reads need
//! `update`, as SSO's do (the answer shows the token's last four characters).

use crate::engine::actor::Caller;
use crate::engine::scim as connections;
use crate::engine::scim_provisioning::ListQuery;
use crate::engine::{organizations, scim_groups, scim_users, Ctx};
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::ids::ProjectId;
use crate::model::organization::OrgRecord;
use crate::model::scim::{GroupRoleAssignment, ScimConnectionRecord, ScimGroupRecord};
use crate::scim::{discovery, ScimError, ScimResult};
use serde::Deserialize;
use serde_json::{json, Value};

const SCIM: &str = "stytch.scim";

/// `identity_provider` values of a SCIM connection (scim.md#concepts).
const IDENTITY_PROVIDERS: &[&str] = &[
    "generic",
    "okta",
    "microsoft-entra",
    "cyberark",
    "jumpcloud",
    "onelogin",
    "pingfederate",
    "rippling",
];

fn identity_provider(given: Option<String>) -> CoreResult<Option<String>> {
    match given {
        None => Ok(None),
        Some(p) if p.is_empty() => Ok(Some("generic".into())),
        Some(p) if IDENTITY_PROVIDERS.contains(&p.as_str()) => Ok(Some(p)),
        Some(p) => Err(INVALID_SCIM_IDP.field_detail(
            "identity_provider",
            format!("one of {}; got '{p}'", IDENTITY_PROVIDERS.join(", ")),
        )),
    }
}

fn display_name(given: &str) -> CoreResult<()> {
    if given.chars().count() > 256 {
        return Err(INVALID_DISPLAY_NAME.err());
    }
    crate::validate::display_text("display_name", given)
}

/// A connection with its groups (for the assignments' group names).
pub struct Connection {
    pub connection: ScimConnectionRecord,
    pub groups: Vec<ScimGroupRecord>,
}

impl Connection {
    async fn load(ctx: &Ctx, c: ScimConnectionRecord) -> CoreResult<Self> {
        let groups = ctx.store.scim_groups(&c.project_id, &c.connection_id).await?;
        Ok(Self { connection: c, groups })
    }

    pub fn view(&self, ctx: &Ctx) -> crate::model::scim::ScimConnection {
        connections::view(ctx, &self.connection, &self.groups)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CreateInput {
    pub display_name: Option<String>,
    pub identity_provider: Option<String>,
}

/// A new connection and its bearer token (shown this once).
pub async fn create(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    input: CreateInput,
    caller: &Caller,
) -> CoreResult<(Connection, String)> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SCIM, "create")?;
    let name = input.display_name.unwrap_or_default();
    display_name(&name)?;
    let provider = identity_provider(input.identity_provider)?.unwrap_or_else(|| "generic".into());
    let token = connections::new_token();
    let now = ctx.now();
    let c = ScimConnectionRecord {
        connection_id: ids::scim_connection_id(),
        project_id: project_id.clone(),
        organization_id: org.organization_id.clone(),
        display_name: name,
        identity_provider: provider,
        token_hash: crate::crypto::sha256_hex(&token),
        token_last_four: crate::crypto::last_four(&token),
        token_expires_at: None,
        next_token_hash: None,
        next_token_last_four: String::new(),
        next_token_expires_at: None,
        role_assignments: vec![],
        created_at: now,
        updated_at: now,
    };
    connections::insert(ctx, &grant, &org, &c).await?;
    Ok((
        Connection {
            connection: c,
            groups: vec![],
        },
        token,
    ))
}

/// The organization's connection, if it has one.
pub async fn get(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    caller: &Caller,
) -> CoreResult<Option<Connection>> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    caller.require(&org.organization_id, SCIM, "update")?;
    match ctx
        .store
        .scim_connection_of_org(project_id, &org.organization_id)
        .await?
    {
        Some(c) => Ok(Some(Connection::load(ctx, c).await?)),
        None => Ok(None),
    }
}

#[derive(Debug, Deserialize)]
pub struct AssignmentInput {
    pub role_id: Option<String>,
    pub group_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UpdateInput {
    pub display_name: Option<String>,
    pub identity_provider: Option<String>,
    pub scim_group_implicit_role_assignments: Option<Vec<AssignmentInput>>,
}

async fn writable(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    caller: &Caller,
    action: &str,
) -> CoreResult<(OrgRecord, crate::engine::grant::Grant, ScimConnectionRecord)> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SCIM, action)?;
    let c = connections::connection(ctx, &org, connection_id).await?;
    Ok((org, grant, c))
}

/// Changes the name, provider or group → role assignments (the list replaces the stored one;
/// each group must be one the identity provider pushed). Members' roles follow at once.
pub async fn update(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    input: UpdateInput,
    caller: &Caller,
) -> CoreResult<Connection> {
    let (org, grant, mut c) = writable(ctx, project_id, org_locator, connection_id, caller, "update").await?;
    if let Some(name) = &input.display_name {
        display_name(name)?;
    }
    let provider = identity_provider(input.identity_provider)?;
    let groups = ctx.store.scim_groups(project_id, &c.connection_id).await?;
    let assignments = match input.scim_group_implicit_role_assignments {
        None => None,
        Some(list) => {
            let mut out: Vec<GroupRoleAssignment> = Vec::new();
            for a in list {
                let (Some(role_id), Some(group_id)) = (
                    a.role_id.filter(|r| !r.trim().is_empty()),
                    a.group_id.filter(|g| !g.trim().is_empty()),
                ) else {
                    return Err(SCIM_GROUP_ROLE_ASSIGNMENT_DOES_NOT_CONTAIN_GROUP_ID.err());
                };
                if role_id.len() > 128 {
                    return Err(INVALID_RBAC_ROLE_ID.err());
                }
                if role_id == crate::model::member::ROLE_MEMBER {
                    return Err(INVALID_RBAC_ROLE_ASSIGNMENT.err());
                }
                if !groups.iter().any(|g| g.group_id == group_id) {
                    return Err(SCIM_GROUP_ROLE_ASSIGNMENT_GROUP_DOES_NOT_EXIST.detail(&group_id));
                }
                let a = GroupRoleAssignment { role_id, group_id };
                if !out.contains(&a) {
                    out.push(a);
                }
            }
            Some(out)
        }
    };
    if let Some(name) = input.display_name {
        c.display_name = name;
    }
    if let Some(p) = provider {
        c.identity_provider = p;
    }
    let roles_changed = assignments.as_ref().is_some_and(|a| *a != c.role_assignments);
    if let Some(a) = assignments {
        c.role_assignments = a;
    }
    connections::update(ctx, &grant, &org, &mut c).await?;
    if roles_changed {
        let holders = connections::provisioned_members(ctx, project_id, &c.connection_id).await?;
        connections::sync_roles(ctx, &c, &holders).await?;
    }
    Ok(Connection { connection: c, groups })
}

pub async fn delete(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    caller: &Caller,
) -> CoreResult<()> {
    let (org, grant, c) = writable(ctx, project_id, org_locator, connection_id, caller, "delete").await?;
    connections::delete(ctx, &grant, &org, &c.connection_id).await
}

/// Issues the next token (shown this once); the current one keeps working until completion.
pub async fn rotate_start(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    caller: &Caller,
) -> CoreResult<(Connection, String)> {
    let (org, grant, mut c) = writable(ctx, project_id, org_locator, connection_id, caller, "update").await?;
    if c.next_token_hash.is_some() {
        return Err(SCIM_CONNECTION_ALREADY_ROTATING_TOKEN.err());
    }
    let token = connections::new_token();
    c.next_token_hash = Some(crate::crypto::sha256_hex(&token));
    c.next_token_last_four = crate::crypto::last_four(&token);
    c.next_token_expires_at = None;
    connections::update(ctx, &grant, &org, &mut c).await?;
    Ok((Connection::load(ctx, c).await?, token))
}

/// Completes (the next token replaces the current one) or cancels (the next one is dropped).
pub async fn rotate_finish(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    complete: bool,
    caller: &Caller,
) -> CoreResult<Connection> {
    let (org, grant, mut c) = writable(ctx, project_id, org_locator, connection_id, caller, "update").await?;
    let Some(next) = c.next_token_hash.take() else {
        return Err(SCIM_CONNECTION_NOT_ROTATING_TOKEN.err());
    };
    if complete {
        c.token_hash = next;
        c.token_last_four = std::mem::take(&mut c.next_token_last_four);
        c.token_expires_at = c.next_token_expires_at.take();
    }
    c.next_token_last_four = String::new();
    c.next_token_expires_at = None;
    connections::update(ctx, &grant, &org, &mut c).await?;
    Connection::load(ctx, c).await
}

#[derive(Debug, Default, Deserialize)]
pub struct GroupsQuery {
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// A page of the connection's groups and the cursor of the next one.
pub async fn get_groups(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    q: GroupsQuery,
    caller: &Caller,
) -> CoreResult<(Vec<ScimGroupRecord>, Option<String>)> {
    let (_org, _grant, c) = writable(ctx, project_id, org_locator, connection_id, caller, "update").await?;
    let limit = match q.limit.as_deref().filter(|l| !l.is_empty()) {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| CoreError::argument("limit", "must be 1 to 1000"))?,
    };
    // The cursor is the id of the first group of the page (groups are listed oldest first).
    let groups = ctx.store.scim_groups(project_id, &c.connection_id).await?;
    let start = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(cursor) => groups
            .iter()
            .position(|g| g.group_id == cursor)
            .ok_or_else(|| CoreError::argument("cursor", "is not a cursor of this list"))?,
    };
    let mut page: Vec<ScimGroupRecord> = groups.into_iter().skip(start).take(limit + 1).collect();
    let next = (page.len() > limit).then(|| page.pop().map(|g| g.group_id)).flatten();
    Ok((page, next))
}

// ---------------------------------------------------------------- the SCIM 2.0 service

/// A SCIM request: the connection its bearer token opened, and the URL its resources live at.
pub struct Service {
    pub connection: ScimConnectionRecord,
    pub base: String,
}

/// Opens the connection named in the path with the request's bearer token (`client` is the
/// caller's address, for the failed-token limit).
pub async fn open(ctx: &Ctx, connection_id: &str, bearer: Option<&str>, client: &str) -> ScimResult<Service> {
    let connection = connections::authenticate(ctx, connection_id, bearer, client).await?;
    crate::engine::audit::project(&connection.project_id);
    crate::engine::audit::actor(crate::model::audit::AuditActor::scim_connection(
        &connection.connection_id,
    ));
    crate::engine::audit::organization(&connection.organization_id);
    crate::engine::audit::detail("connection_id", connection.connection_id.as_str());
    Ok(Service {
        base: connections::service_url(ctx, &connection.connection_id),
        connection,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Users,
    Groups,
}

impl Service {
    pub fn service_provider_config(&self) -> Value {
        discovery::service_provider_config(&self.base)
    }

    pub fn resource_types(&self, id: Option<&str>) -> ScimResult<Value> {
        one_or_list(discovery::resource_types(&self.base), id)
    }

    pub fn schemas(&self, id: Option<&str>) -> ScimResult<Value> {
        one_or_list(discovery::schemas(&self.base), id)
    }

    pub async fn list(&self, ctx: &Ctx, r: Resource, q: &ListQuery) -> ScimResult<Value> {
        match r {
            Resource::Users => scim_users::list_all(ctx, &self.connection, &self.base, q).await,
            Resource::Groups => scim_groups::list_all(ctx, &self.connection, &self.base, q).await,
        }
    }

    /// `POST /.search` at the root: users, then groups, as one list.
    pub async fn search_all(&self, ctx: &Ctx, q: &ListQuery) -> ScimResult<Value> {
        let c = &self.connection;
        let groups = ctx.store.scim_groups(&c.project_id, &c.connection_id).await?;
        let mut all: Vec<Value> = ctx
            .store
            .scim_users(&c.project_id, &c.connection_id)
            .await?
            .iter()
            .map(|u| scim_users::render(&self.base, u, &groups))
            .collect();
        all.extend(groups.iter().map(|g| scim_groups::render(&self.base, g)));
        crate::engine::scim_provisioning::list(all, q, crate::scim::Kind::User)
    }

    pub async fn get(&self, ctx: &Ctx, r: Resource, id: &str, q: &ListQuery) -> ScimResult<Value> {
        match r {
            Resource::Users => scim_users::get(ctx, &self.connection, &self.base, id, q).await,
            Resource::Groups => scim_groups::get(ctx, &self.connection, &self.base, id, q).await,
        }
    }

    pub async fn create(&self, ctx: &Ctx, r: Resource, body: &Value) -> ScimResult<Value> {
        match r {
            Resource::Users => scim_users::create(ctx, &self.connection, &self.base, body).await,
            Resource::Groups => scim_groups::create(ctx, &self.connection, &self.base, body).await,
        }
    }

    pub async fn replace(&self, ctx: &Ctx, r: Resource, id: &str, body: &Value) -> ScimResult<Value> {
        match r {
            Resource::Users => scim_users::replace(ctx, &self.connection, &self.base, id, body).await,
            Resource::Groups => scim_groups::replace(ctx, &self.connection, &self.base, id, body).await,
        }
    }

    pub async fn modify(&self, ctx: &Ctx, r: Resource, id: &str, body: &Value) -> ScimResult<Value> {
        match r {
            Resource::Users => scim_users::modify(ctx, &self.connection, &self.base, id, body).await,
            Resource::Groups => scim_groups::modify(ctx, &self.connection, &self.base, id, body).await,
        }
    }

    pub async fn delete(&self, ctx: &Ctx, r: Resource, id: &str) -> ScimResult<()> {
        match r {
            Resource::Users => scim_users::delete(ctx, &self.connection, id).await,
            Resource::Groups => scim_groups::delete(ctx, &self.connection, id).await,
        }
    }
}

/// A discovery collection as a ListResponse, or one of its entries by id.
fn one_or_list(all: Vec<Value>, id: Option<&str>) -> ScimResult<Value> {
    match id {
        Some(id) => all
            .into_iter()
            .find(|v| v["id"].as_str() == Some(id))
            .ok_or_else(|| ScimError::missing(format!("no such entry: {id}"))),
        None => Ok(json!({
            "schemas": [crate::scim::LIST_RESPONSE],
            "totalResults": all.len(),
            "startIndex": 1,
            "itemsPerPage": all.len(),
            "Resources": all,
        })),
    }
}
