//! Self-serve email updates (`start_email_update`): the new address is held for the member for
//! five minutes while a link or code sent to it is outstanding; proving it moves the member to
//! it. The previous address is retired, as a members.update would, and everything that proved or
//! was sent to it (sessions, reset and magic links, the password) ends with it.

use crate::engine::grant::Grant;
use crate::engine::members::{save, Write};
use crate::engine::Ctx;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::ids::{OrganizationId, ProjectId};
use crate::model::links::EmailUpdateRecord;
use crate::model::member::{MemberRecord, MemberStatus, RetiredEmail};
use crate::store::retry;

pub const MINUTES: i64 = 5;

/// Whether `member` may move to `new_email`: an active member with a verified address, and an
/// address no one else holds, retired, or is moving to. Writes nothing.
pub async fn check(ctx: &Ctx, member: &MemberRecord, new_email: &str) -> CoreResult<()> {
    if member.status != MemberStatus::Active || !member.email_verified {
        return Err(crate::error::catalogue::ACTION_AVAILABLE_ONLY_FOR_ACTIVE_MEMBERS.err());
    }
    let (p, o) = (&member.project_id, &member.organization_id);
    if member.email == new_email {
        return Err(crate::error::catalogue::DUPLICATE_MEMBER_EMAIL.err());
    }
    if ctx.store.member_by_email(p, o, new_email).await?.is_some() {
        return Err(crate::error::catalogue::DUPLICATE_MEMBER_EMAIL.err());
    }
    if let Some(owner) = ctx.store.retired_email_owner(p, o, new_email).await? {
        if owner.member_id != member.member_id {
            return Err(crate::error::catalogue::RETIRED_MEMBER_EMAIL.err());
        }
    }
    if let Some(other) = ctx.store.email_update_to(p, o, new_email, ctx.now()).await? {
        if other.member_id != member.member_id {
            return Err(crate::error::catalogue::DUPLICATE_MEMBER_EMAIL.err());
        }
    }
    Ok(())
}

/// Holds `new_email` for `member` for five minutes, replacing an earlier pending update; called
/// once the link or code to it went out, so a refused send replaces nothing.
pub async fn hold(ctx: &Ctx, _: &Grant, member: &MemberRecord, new_email: &str) -> CoreResult<()> {
    check(ctx, member, new_email).await?;
    let now = ctx.now();
    let update = EmailUpdateRecord {
        project_id: member.project_id.clone(),
        organization_id: member.organization_id.clone(),
        member_id: member.member_id.clone(),
        new_email: new_email.to_string(),
        created_at: now,
        expires_at: now.plus_minutes(MINUTES),
    };
    ctx.store.save_email_update(&update).await?;
    Ok(())
}

/// The member whose live pending update goes to `email`, if any.
pub async fn pending_to(
    ctx: &Ctx,
    project_id: &ProjectId,
    organization_id: &OrganizationId,
    email: &str,
) -> CoreResult<Option<EmailUpdateRecord>> {
    Ok(ctx
        .store
        .email_update_to(project_id, organization_id, email, ctx.now())
        .await?)
}

fn no_update() -> CoreError {
    crate::error::catalogue::EMAIL_UPDATE_NOT_FOUND.err()
}

/// Completes the member's pending update to `email`, which the caller has just proven: the member
/// moves to it (verified), retiring the previous address. Returns the member as written.
pub async fn complete(ctx: &Ctx, member: MemberRecord, email: &str) -> CoreResult<MemberRecord> {
    let (project_id, member_id) = (member.project_id.clone(), member.member_id.clone());
    let mut current = Some(member);
    retry::on_conflict(|| {
        let first = current.take();
        let (project_id, member_id) = (project_id.clone(), member_id.clone());
        async move {
            let mut m = match first {
                Some(m) => m,
                None => ctx
                    .store
                    .member_by_id(&project_id, &member_id)
                    .await?
                    .ok_or_else(CoreError::member_not_found)?,
            };
            let update = ctx
                .store
                .email_update_of(&project_id, &member_id)
                .await?
                .filter(|u| u.new_email == email && u.expires_at > ctx.now())
                .ok_or_else(no_update)?;
            if m.status == MemberStatus::Deleted || m.organization_id != update.organization_id {
                return Err(CoreError::member_not_found());
            }
            let retire = RetiredEmail {
                email_id: ids::email_id(),
                email_address: m.email.clone(),
                member_id: m.member_id.clone(),
            };
            m.email = update.new_email;
            m.email_verified = true;
            m.member_password_id = String::new();
            save(
                ctx,
                &Grant::engine(),
                &mut m,
                Write::EmailChange { retire: Some(&retire) },
            )
            .await?;
            Ok(m)
        }
    })
    .await
}
