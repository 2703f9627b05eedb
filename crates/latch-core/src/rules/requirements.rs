//! What an organization requires of a member's factors: a primary method it accepts (primary
//! auth restrictions), then MFA by its policy; whether an intermediate session can act for a
//! member; JIT provisioning by email domain; which MFA methods may be set up. Pure: the records
//! and factors in, a verdict out.

use crate::error::{CoreError, CoreResult};
use crate::model::credentials::IntermediateRecord;
use crate::model::member::MemberRecord;
use crate::model::organization::{MfaPolicy, OrgRecord, Restriction};
use crate::model::session::AuthFactor;
use crate::rules::factors::{mfa_method, primary_method};
use crate::validate;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberOptions {
    pub mfa_phone_number: String,
    pub totp_registration_id: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaRequired {
    pub member_options: Option<MemberOptions>,
    pub secondary_auth_initiated: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrimaryRequired {
    pub allowed_auth_methods: Vec<String>,
}

/// Methods Latch can authenticate with, offered when an organization allows all of them.
const SUPPORTED_PRIMARY: &[&str] = &["email_otp", "password"];

pub fn primary_missing(org: &OrgRecord, member: &MemberRecord, factors: &[AuthFactor]) -> Option<PrimaryRequired> {
    let restricted = org.settings.auth_methods == Restriction::Restricted && !member.is_breakglass;
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
    org.settings.mfa_policy == MfaPolicy::RequiredForAll || member.mfa_enrolled
}

pub fn mfa_missing(org: &OrgRecord, member: &MemberRecord, factors: &[AuthFactor]) -> Option<MfaRequired> {
    if !mfa_needed(org, member) {
        return None;
    }
    let restricted = org.settings.mfa_methods == Restriction::Restricted && !member.is_breakglass;
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
    crate::error::catalogue::INVALID_INTERMEDIATE_SESSION_TOKEN_FOR_ORGANIZATION.err()
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
    org.settings.email_jit_provisioning == Restriction::Restricted
        && org
            .settings
            .email_allowed_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(validate::email_domain(email)))
}

/// Whether the organization takes email invites for this address (`email_invites`): all, only
/// the allowed domains, or none.
pub fn invite_allowed(org: &OrgRecord, email: &str) -> CoreResult<()> {
    let domain = validate::email_domain(email);
    let allowed = match org.settings.email_invites {
        Restriction::AllAllowed => true,
        Restriction::Restricted => org
            .settings
            .email_allowed_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain)),
        Restriction::NotAllowed => false,
    };
    if !allowed {
        return Err(crate::error::catalogue::INVALID_EMAIL_FOR_INVITES.err());
    }
    Ok(())
}

/// An organization restricting MFA methods refuses to set up or use the others (break-glass exempt).
pub fn mfa_method_allowed(org: &OrgRecord, member: &MemberRecord, method: &str) -> CoreResult<()> {
    let restricted = org.settings.mfa_methods == Restriction::Restricted && !member.is_breakglass;
    if restricted && !org.settings.allowed_mfa_methods.iter().any(|m| m == method) {
        return Err(crate::error::catalogue::OPERATION_RESTRICTED_BY_ORGANIZATION_MFA_METHODS.detail(method));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::ids::{MemberId, OrganizationId};
    use crate::model::member::MemberStatus;
    use crate::model::organization::OrgSettings;
    use serde_json::json;

    const NOW: Timestamp = Timestamp(1_700_000_000_000);

    fn org(settings: OrgSettings) -> OrgRecord {
        OrgRecord {
            version: 0,
            project_id: "p".into(),
            organization_id: "org-1".into(),
            name: "Acme".into(),
            slug: "acme".into(),
            logo_url: String::new(),
            external_id: None,
            trusted_metadata: json!({}),
            settings,
            created_at: NOW,
            updated_at: NOW,
        }
    }

    fn member() -> MemberRecord {
        MemberRecord {
            version: 0,
            scim_roles: vec![],
            sso_roles: vec![],
            project_id: "p".into(),
            organization_id: "org-1".into(),
            member_id: "member-1".into(),
            email: "ada@acme.test".into(),
            status: MemberStatus::Active,
            name: String::new(),
            external_id: None,
            is_breakglass: false,
            email_verified: true,
            mfa_enrolled: false,
            mfa_phone_number: String::new(),
            mfa_phone_verified: false,
            default_mfa_method: String::new(),
            member_password_id: String::new(),
            totp_registration_id: String::new(),
            roles: vec![],
            trusted_metadata: json!({}),
            untrusted_metadata: json!({}),
            lock_created_at: None,
            lock_expires_at: None,
            created_at: NOW,
            updated_at: NOW,
        }
    }

    fn restricted_to(methods: &[&str]) -> OrgSettings {
        OrgSettings {
            auth_methods: Restriction::Restricted,
            allowed_auth_methods: methods.iter().map(|m| m.to_string()).collect(),
            ..OrgSettings::default()
        }
    }

    #[test]
    fn any_primary_factor_satisfies_an_unrestricted_organization() {
        let o = org(OrgSettings::default());
        assert!(primary_missing(&o, &member(), &[AuthFactor::password(NOW)]).is_none());
        assert!(primary_missing(&o, &member(), &[AuthFactor::email_otp("e", "ada@acme.test", NOW)]).is_none());
        // MFA factors are not primary.
        let missing = primary_missing(&o, &member(), &[AuthFactor::totp("t", NOW)]).unwrap();
        assert_eq!(missing.allowed_auth_methods, ["email_otp", "password"]);
    }

    #[test]
    fn a_restricted_organization_wants_one_of_its_methods_unless_breakglass() {
        let o = org(restricted_to(&["email_otp"]));
        let pw = [AuthFactor::password(NOW)];
        let missing = primary_missing(&o, &member(), &pw).unwrap();
        assert_eq!(missing.allowed_auth_methods, ["email_otp"]);
        assert!(primary_missing(&o, &member(), &[AuthFactor::email_otp("e", "ada@acme.test", NOW)]).is_none());
        let breakglass = MemberRecord {
            is_breakglass: true,
            ..member()
        };
        assert!(primary_missing(&o, &breakglass, &pw).is_none());
    }

    #[test]
    fn mfa_is_due_by_policy_or_enrolment_and_met_by_an_allowed_method() {
        let optional = org(OrgSettings::default());
        assert!(mfa_missing(&optional, &member(), &[AuthFactor::password(NOW)]).is_none());
        let enrolled = MemberRecord {
            mfa_enrolled: true,
            totp_registration_id: "totp-1".into(),
            ..member()
        };
        let due = mfa_missing(&optional, &enrolled, &[AuthFactor::password(NOW)]).unwrap();
        assert_eq!(due.member_options.unwrap().totp_registration_id, "totp-1");
        let required = org(OrgSettings {
            mfa_policy: MfaPolicy::RequiredForAll,
            ..OrgSettings::default()
        });
        let due = mfa_missing(&required, &member(), &[AuthFactor::password(NOW)]).unwrap();
        assert!(
            due.member_options.is_none(),
            "nothing enrolled yet: no options to offer"
        );
        assert!(mfa_missing(&required, &member(), &[AuthFactor::totp("t", NOW)]).is_none());
        let sms_only = org(OrgSettings {
            mfa_policy: MfaPolicy::RequiredForAll,
            mfa_methods: Restriction::Restricted,
            allowed_mfa_methods: vec!["sms_otp".into()],
            ..OrgSettings::default()
        });
        assert!(mfa_missing(&sms_only, &member(), &[AuthFactor::totp("t", NOW)]).is_some());
        assert!(mfa_missing(&sms_only, &member(), &[AuthFactor::sms_otp("ph", "+12025550100", NOW)]).is_none());
        assert!(mfa_method_allowed(&sms_only, &member(), "totp").is_err());
        assert!(mfa_method_allowed(&sms_only, &member(), "sms_otp").is_ok());
    }

    #[test]
    fn jit_by_email_domain_needs_a_restricted_rule_naming_the_domain() {
        let o = org(OrgSettings {
            email_jit_provisioning: Restriction::Restricted,
            email_allowed_domains: vec!["acme.test".into()],
            ..OrgSettings::default()
        });
        assert!(jit_allowed(&o, "new@ACME.test"));
        assert!(!jit_allowed(&o, "new@evil.test"));
        assert!(!jit_allowed(&org(OrgSettings::default()), "new@acme.test"));
    }

    #[test]
    fn an_intermediate_session_acts_only_for_its_organization_member_and_address() {
        let ist = |org_id: Option<&str>, member_id: Option<&str>, email: &str| IntermediateRecord {
            ist_id: "ist-1".into(),
            project_id: "p".into(),
            token_hash: String::new(),
            organization_id: org_id.map(OrganizationId::from),
            member_id: member_id.map(MemberId::from),
            email: email.into(),
            factors: vec![AuthFactor::password(NOW)],
            created_at: NOW,
            expires_at: NOW,
        };
        let (o, m) = (org(OrgSettings::default()), member());
        assert_eq!(ist_factors(&ist(None, None, "ADA@acme.test"), &o, &m).unwrap().len(), 1);
        assert!(ist_factors(&ist(Some("org-1"), Some("member-1"), "ada@acme.test"), &o, &m).is_ok());
        assert!(ist_factors(&ist(Some("org-2"), None, "ada@acme.test"), &o, &m).is_err());
        assert!(ist_factors(&ist(None, Some("member-2"), "ada@acme.test"), &o, &m).is_err());
        // The member's address changed since the IST was issued.
        assert!(ist_factors(&ist(None, None, "old@acme.test"), &o, &m).is_err());
    }

    #[test]
    fn enrollment_values() {
        assert_eq!(parse_enrollment(Some("enroll")).unwrap(), Some(true));
        assert_eq!(parse_enrollment(Some("unenroll")).unwrap(), Some(false));
        assert_eq!(parse_enrollment(Some("")).unwrap(), None);
        assert!(parse_enrollment(Some("maybe")).is_err());
    }
}
