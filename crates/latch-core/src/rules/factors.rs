//! What each kind of authentication factor proves: a primary auth method, an MFA method, or an
//! email address (the only thing that may carry a factor into another organization).

use crate::model::session::{AuthFactor, FactorKind};

/// The auth method (as in `allowed_auth_methods`) a primary factor proves, if it is one.
pub fn primary_method(f: &AuthFactor) -> Option<&'static str> {
    match (f.kind, f.delivery_method.as_str()) {
        (FactorKind::Password, _) => Some("password"),
        (FactorKind::Otp, "email") | (FactorKind::EmailOtp, _) => Some("email_otp"),
        (FactorKind::MagicLink, _) => Some("magic_link"),
        (FactorKind::Sso, _) => Some("sso"),
        (FactorKind::Oauth, method) => {
            crate::model::oauth::OAuthProvider::from_delivery_method(method).map(|p| p.auth_method())
        }
        _ => None,
    }
}

/// Whether a factor proves `email` itself rather than one membership, and so may act for any
/// membership of that address: a factor that verified an email address, and only for the very
/// address it verified. Passwords and MFA factors prove one membership and never carry. A session
/// can outlive its member's address (an email change), so the factor's own record of what it
/// proved is what counts, never the member's current address.
pub fn proves_email(f: &AuthFactor, email: &str) -> bool {
    matches!(f.kind, FactorKind::EmailOtp | FactorKind::MagicLink | FactorKind::Oauth)
        && f.proven_email()
            .is_some_and(|proven| proven.eq_ignore_ascii_case(email))
}

/// The MFA method a factor proves, if it is one.
pub fn mfa_method(f: &AuthFactor) -> Option<&'static str> {
    match (f.kind, f.delivery_method.as_str()) {
        (FactorKind::Otp, "sms") => Some("sms_otp"),
        (FactorKind::Totp, _) | (FactorKind::RecoveryCodes, _) => Some("totp"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;

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
