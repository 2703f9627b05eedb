//! What an organization requires of a member's factors: a primary method it accepts (primary
//! auth restrictions), then MFA by its policy; whether an intermediate session can act for a
//! member; JIT provisioning by email domain; which MFA methods may be set up. Pure: the records
//! and factors in, a verdict out.

use crate::error::{CoreError, CoreResult};
use crate::model::credentials::IntermediateRecord;
use crate::model::member::MemberRecord;
use crate::model::organization::OrgRecord;
use crate::model::session::AuthFactor;
use crate::rules::factors::{mfa_method, primary_method};
use crate::validate;
use serde::Serialize;

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

/// Whether the organization lets a new member with this email join by email domain.
pub fn jit_allowed(org: &OrgRecord, email: &str) -> bool {
    org.settings.email_jit_provisioning == "RESTRICTED"
        && org
            .settings
            .email_allowed_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(validate::email_domain(email)))
}

/// An organization restricting MFA methods refuses to set up or use the others (break-glass exempt).
pub fn mfa_method_allowed(org: &OrgRecord, member: &MemberRecord, method: &str) -> CoreResult<()> {
    let restricted = org.settings.mfa_methods == "RESTRICTED" && !member.is_breakglass;
    if restricted && !org.settings.allowed_mfa_methods.iter().any(|m| m == method) {
        return Err(CoreError::invalid(
            "operation_restricted_by_organization_mfa_methods",
            format!("The organization does not allow {method} as an MFA method."),
        ));
    }
    Ok(())
}

/// `set_mfa_enrollment`, checked before any code is used so a refused request uses nothing.
pub fn parse_enrollment(value: Option<&str>) -> CoreResult<Option<bool>> {
    match value {
        None | Some("") => Ok(None),
        Some("enroll") => Ok(Some(true)),
        Some("unenroll") => Ok(Some(false)),
        Some(_) => Err(CoreError::argument("set_mfa_enrollment", "must be enroll or unenroll")),
    }
}
