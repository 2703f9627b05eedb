//! Who makes a call, and the capability to act. A call is made by the project (its secret: full
//! authority) or by a member through a session header (the `X-Stytch-Member-Session` /
//! `-SessionJWT` headers: that member's permissions). An `Actor` can only be built from a live
//! session, and every check goes through `granting_roles`, the same rule the SDKs apply locally.
//!
//! Writes on behalf of a caller take a `Grant`, which only the checks below (or the engine, for
//! its own writes) can make: a use case that forgets its check does not compile, instead of
//! running with the project's rights.

use crate::engine::grant::Grant;
use crate::engine::session;
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::ids::{OrganizationId, ProjectId};
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::organization::OrgRecord;
use crate::model::session::SessionRecord;
use crate::rbac::{granting_roles, PolicyRole, MEMBER, SELF};

/// The project's roles plus the organization's own.
pub async fn policy_roles(
    ctx: &Ctx,
    project_id: &ProjectId,
    organization_id: &OrganizationId,
) -> CoreResult<Vec<PolicyRole>> {
    let mut roles = ctx.project_config(project_id).await?.policy.roles.clone();
    roles.extend(ctx.store.org_roles(project_id, organization_id).await?);
    Ok(roles)
}

pub struct Actor {
    pub session: SessionRecord,
    pub member: MemberRecord,
    roles: Vec<String>,
    policy_roles: Vec<PolicyRole>,
}

fn session_refused() -> CoreError {
    crate::error::catalogue::SESSION_HEADER_NOT_FOUND.err()
}

/// The actor behind the headers, or `None` when neither header was sent. A header that was sent
/// must authenticate: an empty, blank or unreadable value is refused, never taken as absent
/// (that would run the call with the project's authority).
pub async fn actor(
    ctx: &Ctx,
    project_id: &ProjectId,
    token: Option<&str>,
    jwt: Option<&str>,
) -> CoreResult<Option<Actor>> {
    if token.is_none() && jwt.is_none() {
        return Ok(None);
    }
    let usable = |v: &str| !v.trim().is_empty();
    // Both headers may come together; the opaque token is the stronger proof, so it decides.
    let resolved = match (token, jwt) {
        (Some(t), _) if usable(t) => session::resolve(ctx, project_id, Some(t), None).await,
        (None, Some(j)) if usable(j) => session::resolve_fresh(ctx, project_id, None, Some(j)).await,
        _ => return Err(session_refused()),
    };
    let session = match resolved {
        Ok(Some((s, _))) => s,
        Ok(None) | Err(CoreError::NotFound(_)) | Err(CoreError::Unauthorized(_)) | Err(CoreError::Invalid(_)) => {
            return Err(session_refused())
        }
        Err(other) => return Err(other),
    };
    let member = ctx
        .store
        .member_by_id(project_id, &session.member_id)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted);
    let member = member.ok_or_else(session_refused)?;
    let org = ctx
        .store
        .find_org(project_id, &session.organization_id)
        .await?
        .ok_or_else(session_refused)?;
    let roles = member.session_role_ids(&org, &session.factors);
    let policy_roles = policy_roles(ctx, &org.project_id, &org.organization_id).await?;
    Ok(Some(Actor {
        session,
        member,
        roles,
        policy_roles,
    }))
}

fn denied(resource: &str, action: &str) -> CoreError {
    crate::error::catalogue::SESSION_AUTHORIZATION_ERROR.detail(format!("action={action} resource_id={resource}"))
}

impl Actor {
    fn can(&self, resource: &str, action: &str) -> bool {
        !granting_roles(&self.policy_roles, &self.roles, resource, action).is_empty()
    }

    pub fn organization_id(&self) -> &str {
        &self.session.organization_id
    }

    /// A session only acts inside its own organization.
    pub fn require_tenant(&self, organization_id: &OrganizationId) -> CoreResult<()> {
        if self.session.organization_id != organization_id {
            return Err(crate::error::catalogue::SESSION_AUTHORIZATION_TENANCY_ERROR.err());
        }
        Ok(())
    }

    pub fn require(&self, organization_id: &OrganizationId, resource: &str, action: &str) -> CoreResult<()> {
        self.require_tenant(organization_id)?;
        if !self.can(resource, action) {
            return Err(denied(resource, action));
        }
        Ok(())
    }

    /// `action` on stytch.member, or on stytch.self when the target is the actor itself.
    pub fn require_on_member(&self, target: &MemberRecord, action: &str) -> CoreResult<()> {
        self.require_tenant(&target.organization_id)?;
        let is_self = target.member_id == self.member.member_id;
        if self.can(MEMBER, action) || (is_self && self.can(SELF, action)) {
            return Ok(());
        }
        Err(denied(if is_self { SELF } else { MEMBER }, action))
    }

    /// Like `require_on_member` for actions that have no stytch.self form.
    pub fn require_on_other_member(&self, target: &MemberRecord, action: &str) -> CoreResult<()> {
        self.require(&target.organization_id, MEMBER, action)
    }

    pub fn is_member_of(&self, org: &OrgRecord) -> bool {
        self.session.organization_id == org.organization_id
    }
}

/// Trusted metadata is the backend's alone: never writable with a member session.
pub fn no_trusted_metadata(actor: Option<&Actor>, given: bool) -> CoreResult<()> {
    if actor.is_some() && given {
        return Err(crate::error::catalogue::CANNOT_UPDATE_TRUSTED_METADATA.err());
    }
    Ok(())
}

/// Who makes a call.
pub enum Caller {
    /// The project's secret: every action on every organization of the project.
    Project,
    /// A member session: what the member's roles grant, in its own organization only.
    Member(Box<Actor>),
}

impl Caller {
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            Caller::Project => None,
            Caller::Member(a) => Some(a),
        }
    }

    fn checked(&self, check: impl FnOnce(&Actor) -> CoreResult<()>) -> CoreResult<Grant> {
        if let Caller::Member(a) = self {
            check(a)?;
        }
        Ok(Grant::engine())
    }

    /// `action` on `resource` in the organization.
    pub fn require(&self, organization_id: &OrganizationId, resource: &str, action: &str) -> CoreResult<Grant> {
        self.checked(|a| a.require(organization_id, resource, action))
    }

    /// `action` on stytch.member, or on stytch.self when the target is the actor itself.
    pub fn require_on_member(&self, target: &MemberRecord, action: &str) -> CoreResult<Grant> {
        self.checked(|a| a.require_on_member(target, action))
    }

    /// Only that the call stays inside the session's own organization.
    pub fn require_tenant(&self, organization_id: &OrganizationId) -> CoreResult<Grant> {
        self.checked(|a| a.require_tenant(organization_id))
    }

    /// Actions no role grants: only the project's secret may (e.g. replacing an organization's
    /// RBAC policy).
    pub fn require_project(&self) -> CoreResult<Grant> {
        match self {
            Caller::Project => Ok(Grant::engine()),
            Caller::Member(_) => Err(crate::error::catalogue::SESSION_AUTHORIZATION_ERROR.err()),
        }
    }

    /// Several checks at once (e.g. member update, field by field), passed only if all pass.
    pub fn require_all(&self, check: impl FnOnce(&Actor) -> CoreResult<()>) -> CoreResult<Grant> {
        self.checked(check)
    }

    /// Trusted metadata is the backend's alone: never writable with a member session.
    pub fn no_trusted_metadata(&self, given: bool) -> CoreResult<()> {
        no_trusted_metadata(self.actor(), given)
    }
}
