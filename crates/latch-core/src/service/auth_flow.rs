//! Where every primary authentication ends (passwords, email OTP, …): the factor just proven,
//! plus those of a presented session or intermediate session, either satisfy the organization
//! (primary-auth restrictions, then MFA) and become a member session, or come back as an
//! intermediate session saying what is missing.

use crate::clock::Timestamp;
use crate::error::{CoreError, CoreResult};
use crate::model::credentials::IntermediateRecord;
use crate::model::member::{MemberRecord, STATUS_ACTIVE, STATUS_INVITED, STATUS_PENDING};
use crate::model::organization::OrgRecord;
use crate::model::session::{AuthFactor, SessionRecord};
use crate::service::sessions::{self, Issued, Presented};
use crate::service::{intermediate, Ctx};
use crate::store::retry::modify_member;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct MemberOptions {
    pub mfa_phone_number: String,
    pub totp_registration_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MfaRequired {
    pub member_options: Option<MemberOptions>,
    pub secondary_auth_initiated: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrimaryRequired {
    pub allowed_auth_methods: Vec<String>,
}

pub enum Outcome {
    Authenticated(Box<Issued>),
    Pending {
        intermediate_session_token: String,
        expires_at: Timestamp,
        mfa_required: Option<MfaRequired>,
        primary_required: Option<PrimaryRequired>,
    },
}

/// The auth method (as in `allowed_auth_methods`) a primary factor proves, if it is one.
pub fn primary_method(f: &AuthFactor) -> Option<&'static str> {
    match (f.kind.as_str(), f.delivery_method.as_str()) {
        ("password", _) => Some("password"),
        ("otp", "email") | ("email_otp", _) => Some("email_otp"),
        ("magic_link", _) => Some("magic_link"),
        ("sso", _) => Some("sso"),
        _ => None,
    }
}

/// Whether a factor proves `email` itself rather than one membership, and so may act for any
/// membership of that address: a factor that verified an email address, and only for the very
/// address it verified. Passwords and MFA factors prove one membership and never carry. A session
/// can outlive its member's address (an email change), so the factor's own record of what it
/// proved is what counts, never the member's current address.
pub fn proves_email(f: &AuthFactor, email: &str) -> bool {
    matches!(f.kind.as_str(), "email_otp" | "magic_link" | "oauth")
        && f.proven_email()
            .is_some_and(|proven| proven.eq_ignore_ascii_case(email))
}

/// The MFA method a factor proves, if it is one.
pub fn mfa_method(f: &AuthFactor) -> Option<&'static str> {
    match (f.kind.as_str(), f.delivery_method.as_str()) {
        ("otp", "sms") => Some("sms_otp"),
        ("totp", _) | ("recovery_codes", _) => Some("totp"),
        _ => None,
    }
}

/// Methods Latch can authenticate with, offered when an organization allows all of them.
const SUPPORTED_PRIMARY: &[&str] = &["email_otp", "password"];

pub fn primary_missing(org: &OrgRecord, member: &MemberRecord, factors: &[AuthFactor]) -> Option<PrimaryRequired> {
    let restricted = org.settings.auth_methods == "RESTRICTED" && !member.is_breakglass;
    let allowed = &org.settings.allowed_auth_methods;
    // Some primary factor must be present, and in a restricted organization an allowed one.
    if factors
        .iter()
        .filter_map(primary_method)
        .any(|m| !restricted || allowed.iter().any(|a| a == m))
    {
        return None;
    }
    let offer: Vec<String> = if !restricted || allowed.is_empty() {
        SUPPORTED_PRIMARY.iter().map(|s| s.to_string()).collect()
    } else {
        allowed.clone()
    };
    Some(PrimaryRequired {
        allowed_auth_methods: offer,
    })
}

pub fn mfa_needed(org: &OrgRecord, member: &MemberRecord) -> bool {
    org.settings.mfa_policy == "REQUIRED_FOR_ALL" || member.mfa_enrolled
}

pub fn mfa_missing(org: &OrgRecord, member: &MemberRecord, factors: &[AuthFactor]) -> Option<MfaRequired> {
    if !mfa_needed(org, member) {
        return None;
    }
    let restricted = org.settings.mfa_methods == "RESTRICTED" && !member.is_breakglass;
    let satisfied = factors
        .iter()
        .filter_map(mfa_method)
        .any(|m| !restricted || org.settings.allowed_mfa_methods.iter().any(|a| a == m));
    if satisfied {
        return None;
    }
    let has_option = !member.mfa_phone_number.is_empty() || !member.totp_registration_id.is_empty();
    Some(MfaRequired {
        member_options: has_option.then(|| MemberOptions {
            mfa_phone_number: member.mfa_phone_number.clone(),
            totp_registration_id: member.totp_registration_id.clone(),
        }),
        secondary_auth_initiated: None,
    })
}

/// After a primary factor, when MFA is due and SMS is the member's way (a phone, and TOTP is not
/// the default), a code is sent at once. A failed send never fails the login: the client can
/// still ask for one with otps.sms.send.
async fn preemptive_sms(ctx: &Ctx, org: &OrgRecord, member: &MemberRecord, locale: Option<&str>) -> Option<String> {
    let sms_allowed = org.settings.mfa_methods != "RESTRICTED"
        || member.is_breakglass
        || org.settings.allowed_mfa_methods.iter().any(|m| m == "sms_otp");
    let prefers_totp = member.default_mfa_method == "totp" && !member.totp_registration_id.is_empty();
    if member.mfa_phone_number.is_empty() || !sms_allowed || prefers_totp {
        return None;
    }
    match crate::service::otps::send_mfa_sms(ctx, member, org, locale).await {
        Ok(()) => Some("sms_otp".to_string()),
        Err(e) => {
            tracing::warn!(member_id = %member.member_id, error = %e, "pre-emptive MFA SMS not sent");
            None
        }
    }
}

pub fn wrong_organization() -> CoreError {
    CoreError::invalid(
        "invalid_intermediate_session_token_for_organization",
        "The intermediate_session_token cannot be used with this organization or member.",
    )
}

/// Checks that `ist` can carry factors for `member` of `org` and returns its usable factors.
pub fn ist_factors(ist: &IntermediateRecord, org: &OrgRecord, member: &MemberRecord) -> CoreResult<Vec<AuthFactor>> {
    if ist.organization_id.as_deref().is_some_and(|o| o != org.organization_id)
        || ist.member_id.as_deref().is_some_and(|m| m != member.member_id)
        || !ist.email.eq_ignore_ascii_case(&member.email)
    {
        return Err(wrong_organization());
    }
    Ok(ist.factors.clone())
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
    sessions::check_duration(a.session_duration_minutes)?;
    let PrimaryAuth {
        mut member,
        org,
        mut factors,
        session,
        ..
    } = a;
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
    if member.status == STATUS_PENDING || member.status == STATUS_INVITED {
        modify_member(ctx.store.as_ref(), &mut member, |m| {
            if m.status == STATUS_PENDING || m.status == STATUS_INVITED {
                m.status = STATUS_ACTIVE.to_string();
            }
        })
        .await?;
    }
    let issued = sessions::issue(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_factor_proves_only_the_address_it_verified() {
        let now = Timestamp(1);
        let otp = AuthFactor::email_otp("email-test-1", "minion@evil.test", now);
        assert!(proves_email(&otp, "minion@evil.test"));
        assert!(proves_email(&otp, "Minion@Evil.test"));
        // The member's address changed after the factor was proven: nothing carries.
        assert!(!proves_email(&otp, "victim@victimcorp.test"));
    }

    #[test]
    fn passwords_and_mfa_factors_prove_no_address() {
        let now = Timestamp(1);
        assert!(!proves_email(&AuthFactor::password(now), "a@b.test"));
        assert!(!proves_email(&AuthFactor::totp("totp-1", now), "a@b.test"));
        assert!(!proves_email(
            &AuthFactor::sms_otp("phone-1", "+12025550100", now),
            "a@b.test"
        ));
        // A factor that names an address in a kind that does not prove one still does not carry.
        let mut forged = AuthFactor::password(now);
        forged
            .details
            .insert("email_factor".into(), serde_json::json!({"email_address": "a@b.test"}));
        assert!(!proves_email(&forged, "a@b.test"));
    }
}
