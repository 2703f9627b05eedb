//! What an identity provider vouched for, turned into a member, for SSO over OIDC and SAML alike:
//! the member a registration or a vouched-for address stands for, the organization's JIT rule,
//! and a registered member following its provider to a new address.

use crate::engine::grant::Grant;
use crate::engine::members;
use crate::engine::Ctx;
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::organization::{OrgRecord, Restriction};
use crate::model::sso::{SsoIdentity, SsoRegistration};
use crate::validate;

/// How long the application has to redeem the SSO token.
pub const TOKEN_MINUTES: i64 = 10;

/// Where the browser goes once the provider's answer is verified.
pub struct Finished {
    pub redirect_url: String,
}

/// The organization's JIT rule for SSO (`sso_jit_provisioning`).
pub fn check_jit(org: &OrgRecord, connection_id: &str) -> CoreResult<()> {
    let allowed = match org.settings.sso_jit_provisioning {
        Restriction::AllAllowed => true,
        Restriction::Restricted => org
            .settings
            .sso_jit_provisioning_allowed_connections
            .iter()
            .any(|c| c == connection_id),
        Restriction::NotAllowed => false,
    };
    if !allowed {
        return Err(INVALID_CONNECTION_FOR_JIT_PROVISIONING.err());
    }
    Ok(())
}

/// The email the provider vouched for, normalised; an address the provider says it has not
/// verified is refused.
pub fn identity_email(identity: &SsoIdentity) -> CoreResult<Option<String>> {
    if identity.email_verified == Some(false) {
        return Err(OIDC_RESPONSE_UNVERIFIED_EMAIL.err());
    }
    identity
        .email
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(validate::normalize_email)
        .transpose()
}

/// The member an identity already stands for: by its registration at the connection, else by
/// the email the provider vouched for.
pub async fn existing_member(
    ctx: &Ctx,
    org: &OrgRecord,
    connection_id: &str,
    identity: &SsoIdentity,
) -> CoreResult<Option<(MemberRecord, Option<SsoRegistration>)>> {
    if let Some(reg) = ctx
        .store
        .sso_registration(&org.project_id, connection_id, &identity.subject)
        .await?
    {
        let member = ctx
            .store
            .member_by_id(&org.project_id, &reg.member_id)
            .await?
            .filter(|m| m.status != MemberStatus::Deleted && m.organization_id == org.organization_id);
        if let Some(m) = member {
            return Ok(Some((m, Some(reg))));
        }
    }
    let Some(email) = identity_email(identity)? else {
        return Ok(None);
    };
    let member = ctx
        .store
        .member_by_email(&org.project_id, &org.organization_id, &email)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted);
    Ok(member.map(|m| (m, None)))
}

/// A registered member whose provider now vouches for another (verified) address moves to it, the
/// previous one retired, as Stytch does; everything that proved the old address ends with it. An
/// address another member holds is left alone (the login goes on under the current one).
pub async fn follow_idp_email(ctx: &Ctx, mut member: MemberRecord, email: Option<String>) -> CoreResult<MemberRecord> {
    let Some(email) = email else {
        return Ok(member);
    };
    if email == member.email {
        return Ok(member);
    }
    let retire = crate::model::member::RetiredEmail {
        email_id: ids::email_id(),
        email_address: member.email.clone(),
        member_id: member.member_id.clone(),
    };
    let before = member.clone();
    member.email = email;
    member.email_verified = true;
    member.member_password_id = String::new();
    match members::save(
        ctx,
        &Grant::engine(),
        &mut member,
        members::Write::EmailChange { retire: Some(&retire) },
    )
    .await
    {
        Ok(()) => Ok(member),
        Err(CoreError::Invalid(f))
            if f.error_type == DUPLICATE_MEMBER_EMAIL.error_type || f.error_type == RETIRED_MEMBER_EMAIL.error_type =>
        {
            tracing::warn!(member_id = %before.member_id, "the identity provider's new email address belongs to another member; kept the current one");
            Ok(before)
        }
        Err(e) => Err(e),
    }
}
