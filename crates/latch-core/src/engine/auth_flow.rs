//! Where every primary authentication ends (passwords, email OTP, …): the factor just proven,
//! plus those of a presented session or intermediate session, either satisfy the organization
//! (primary-auth restrictions, then MFA) and become a member session, or come back as an
//! intermediate session saying what is missing.

use crate::clock::Timestamp;
use crate::engine::session::{Issued, Presented};
use crate::engine::Ctx;
use crate::engine::{audit, intermediate, session};
use crate::error::CoreResult;
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::organization::{OrgRecord, Restriction};
use crate::model::session::{AuthFactor, SessionRecord};
use crate::rules::requirements::{ist_factors, mfa_missing, primary_missing, MfaRequired, PrimaryRequired};
use crate::rules::session::check_duration;
use crate::store::retry::modify_member;
use serde_json::Value;

pub enum Outcome {
    Authenticated(Box<Issued>),
    Pending {
        intermediate_session_token: String,
        expires_at: Timestamp,
        mfa_required: Option<MfaRequired>,
        primary_required: Option<PrimaryRequired>,
    },
}

/// After a primary factor, when MFA is due and SMS is the member's way (a phone, and TOTP is not
/// the default), a code is sent at once. A failed send never fails the login: the client can
/// still ask for one with otps.sms.send.
async fn preemptive_sms(ctx: &Ctx, org: &OrgRecord, member: &MemberRecord, locale: Option<&str>) -> Option<String> {
    let sms_allowed = org.settings.mfa_methods != Restriction::Restricted
        || member.is_breakglass
        || org.settings.allowed_mfa_methods.iter().any(|m| m == "sms_otp");
    let prefers_totp = member.default_mfa_method == "totp" && !member.totp_registration_id.is_empty();
    if member.mfa_phone_number.is_empty() || !sms_allowed || prefers_totp {
        return None;
    }
    match crate::engine::codes::send_mfa_sms(ctx, member, org, locale).await {
        Ok(()) => Some("sms_otp".to_string()),
        Err(e) => {
            tracing::warn!(member_id = %member.member_id, error = %e, "pre-emptive MFA SMS not sent");
            None
        }
    }
}

pub struct PrimaryAuth<'a> {
    pub member: MemberRecord,
    pub org: &'a OrgRecord,
    /// Factors just proven (empty for a session exchange, which only carries factors over).
    pub factors: Vec<AuthFactor>,
    /// The caller's session, if any (already resolved).
    pub session: Option<(SessionRecord, Presented)>,
    pub intermediate_session_token: Option<&'a str>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<&'a Value>,
    /// Language of a pre-emptive MFA SMS.
    pub locale: Option<&'a str>,
}

/// Finishes a primary authentication. Returns the member as it is afterwards.
pub async fn complete(ctx: &Ctx, a: PrimaryAuth<'_>) -> CoreResult<(MemberRecord, Outcome)> {
    check_duration(a.session_duration_minutes)?;
    let PrimaryAuth {
        mut member,
        org,
        mut factors,
        session,
        ..
    } = a;
    audit::member(&member);
    let ist = match a.intermediate_session_token.filter(|t| !t.is_empty()) {
        Some(t) => {
            let rec = intermediate::load(ctx, &member.project_id, t).await?;
            for f in ist_factors(&rec, org, &member)? {
                AuthFactor::merge_into(f, &mut factors);
            }
            Some(rec)
        }
        None => None,
    };
    // A live session of this member in this organization already passed its checks.
    let session = session.filter(|(s, _)| s.member_id == member.member_id && s.organization_id == org.organization_id);
    if session.is_none() {
        let primary_required = primary_missing(org, &member, &factors);
        let mut mfa_required = mfa_missing(org, &member, &factors);
        if primary_required.is_none() {
            if let Some(m) = mfa_required.as_mut() {
                m.secondary_auth_initiated = preemptive_sms(ctx, org, &member, a.locale).await;
            }
        }
        if primary_required.is_some() || mfa_required.is_some() {
            // A partial success: an intermediate session, no member session yet.
            audit::detail("member_authenticated", false);
            if mfa_required.is_some() {
                audit::detail("mfa_required", true);
            }
            if primary_required.is_some() {
                audit::detail("primary_required", true);
            }
            let (rec, token) = match ist {
                Some(mut rec) => {
                    rec.factors = factors;
                    rec.organization_id = Some(org.organization_id.clone());
                    rec.member_id = Some(member.member_id.clone());
                    intermediate::save(ctx, &rec).await?;
                    let token = a.intermediate_session_token.unwrap_or_default().to_string();
                    (rec, token)
                }
                None => {
                    intermediate::create(
                        ctx,
                        &member.project_id,
                        Some(&org.organization_id),
                        Some(&member.member_id),
                        &member.email,
                        factors,
                    )
                    .await?
                }
            };
            return Ok((
                member,
                Outcome::Pending {
                    intermediate_session_token: token,
                    expires_at: rec.expires_at,
                    mfa_required,
                    primary_required,
                },
            ));
        }
    }
    if let Some(rec) = &ist {
        intermediate::consume(ctx, rec).await?;
    }
    if member.status == MemberStatus::Pending || member.status == MemberStatus::Invited {
        modify_member(ctx.store.as_ref(), &mut member, |m| {
            if m.status == MemberStatus::Pending || m.status == MemberStatus::Invited {
                m.status = MemberStatus::Active;
            }
        })
        .await?;
    }
    let issued = session::issue(
        ctx,
        &member,
        org,
        factors,
        session,
        a.session_duration_minutes,
        a.session_custom_claims,
    )
    .await?;
    Ok((member, Outcome::Authenticated(Box::new(issued))))
}
