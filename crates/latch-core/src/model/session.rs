//! Member sessions and the authentication factors they accumulate.

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A session as stored; its token exists only as a SHA-256 digest.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub project_id: ProjectId,
    pub member_session_id: String,
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub token_hash: String,
    pub started_at: Timestamp,
    pub last_accessed_at: Timestamp,
    pub expires_at: Timestamp,
    pub factors: Vec<AuthFactor>,
    pub custom_claims: Map<String, Value>,
}

/// How a session is named: by its token's digest (never the token) or by its id (from a
/// verified JWT).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SessionKey {
    TokenHash(String),
    Id(String),
}

/// A session read together with its member in one query, for the hottest call of the API.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionWithMember {
    pub session: SessionRecord,
    pub member: crate::model::member::MemberRecord,
    /// Whether the member has retired emails to list (read only then).
    pub member_has_retired_emails: bool,
}

impl SessionRecord {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

/// What kind of factor was proven (objects.md#authenticationfactor `type`); the wire strings are
/// Stytch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FactorKind {
    Password,
    EmailOtp,
    /// A code by SMS (MFA); Stytch's type `otp` with delivery method `sms`.
    Otp,
    Totp,
    RecoveryCodes,
    MagicLink,
    Sso,
    Oauth,
}

/// One proven factor (objects.md#authenticationfactor). `details` holds the one sub-object that
/// matches the type, e.g. `{"email_factor": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthFactor {
    #[serde(rename = "type")]
    pub kind: FactorKind,
    pub delivery_method: String,
    pub last_authenticated_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl AuthFactor {
    fn new(kind: FactorKind, delivery_method: &str, now: Timestamp, details: Map<String, Value>) -> Self {
        Self {
            kind,
            delivery_method: delivery_method.into(),
            last_authenticated_at: now,
            created_at: now,
            updated_at: now,
            details,
        }
    }

    pub fn password(now: Timestamp) -> Self {
        Self::new(FactorKind::Password, "knowledge", now, Map::new())
    }

    pub fn email_otp(email_id: &str, email: &str, now: Timestamp) -> Self {
        let mut d = Map::new();
        d.insert(
            "email_factor".into(),
            serde_json::json!({"email_id": email_id, "email_address": email}),
        );
        Self::new(FactorKind::EmailOtp, "email", now, d)
    }

    /// An email magic link: Stytch's type `magic_link`, delivery method `email`.
    pub fn magic_link(email_id: &str, email: &str, now: Timestamp) -> Self {
        let mut d = Map::new();
        d.insert(
            "email_factor".into(),
            serde_json::json!({"email_id": email_id, "email_address": email}),
        );
        Self::new(FactorKind::MagicLink, "email", now, d)
    }

    /// An OIDC SSO login: Stytch's type `sso`, delivery method `sso_oidc`; it proves a subject
    /// at the connection's provider, not an email address.
    pub fn sso_oidc(registration_id: &str, connection_id: &str, subject: &str, now: Timestamp) -> Self {
        let mut d = Map::new();
        d.insert(
            "oidc_sso_factor".into(),
            serde_json::json!({"id": registration_id, "provider_id": connection_id, "external_id": subject}),
        );
        Self::new(FactorKind::Sso, "sso_oidc", now, d)
    }

    /// A SAML SSO login: type `sso`, delivery method `sso_saml`; it proves the NameID at the
    /// connection's IdP.
    pub fn sso_saml(registration_id: &str, connection_id: &str, name_id: &str, now: Timestamp) -> Self {
        let mut d = Map::new();
        d.insert(
            "saml_sso_factor".into(),
            serde_json::json!({"id": registration_id, "provider_id": connection_id, "external_id": name_id}),
        );
        Self::new(FactorKind::Sso, "sso_saml", now, d)
    }

    /// The SAML connection this factor proved a login at, if it is a SAML SSO factor.
    pub fn saml_connection_id(&self) -> Option<&str> {
        self.details
            .get("saml_sso_factor")
            .and_then(|f| f.get("provider_id"))
            .and_then(Value::as_str)
    }

    /// An OAuth login: Stytch's type `oauth`, delivery method `oauth_<provider>`, with the
    /// provider's sub-object (`google_oauth_factor`, …).
    pub fn oauth(delivery_method: &str, factor_key: &str, factor: Value, now: Timestamp) -> Self {
        let mut d = Map::new();
        d.insert(factor_key.into(), factor);
        Self::new(FactorKind::Oauth, delivery_method, now, d)
    }

    pub fn sms_otp(phone_id: &str, phone: &str, now: Timestamp) -> Self {
        let mut d = Map::new();
        d.insert(
            "phone_number_factor".into(),
            serde_json::json!({"phone_id": phone_id, "phone_number": phone}),
        );
        Self::new(FactorKind::Otp, "sms", now, d)
    }

    pub fn totp(totp_id: &str, now: Timestamp) -> Self {
        let mut d = Map::new();
        d.insert(
            "authenticator_app_factor".into(),
            serde_json::json!({"totp_id": totp_id}),
        );
        Self::new(FactorKind::Totp, "authenticator_app", now, d)
    }

    pub fn recovery_code(code_id: &str, now: Timestamp) -> Self {
        let mut d = Map::new();
        d.insert(
            "recovery_code_factor".into(),
            serde_json::json!({"totp_recovery_code_id": code_id}),
        );
        Self::new(FactorKind::RecoveryCodes, "recovery_code", now, d)
    }

    /// The email address this factor proved, if it proved one (`email_factor.email_address`, or
    /// the address inside an OAuth or SSO provider's factor).
    pub fn proven_email(&self) -> Option<&str> {
        self.details
            .values()
            .find_map(|d| d.get("email_address").and_then(Value::as_str))
    }

    fn same_kind(&self, other: &AuthFactor) -> bool {
        self.kind == other.kind && self.delivery_method == other.delivery_method
    }

    /// Adds `factor` to `factors`, or refreshes the factor of the same kind (keeping when it was
    /// first proven).
    pub fn merge_into(factor: AuthFactor, factors: &mut Vec<AuthFactor>) {
        match factors.iter_mut().find(|f| f.same_kind(&factor)) {
            Some(existing) => {
                let created = existing.created_at;
                *existing = AuthFactor {
                    created_at: created,
                    ..factor
                };
            }
            None => factors.push(factor),
        }
    }
}

/// The wire object (objects.md#membersession).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberSession<'a> {
    pub member_session_id: &'a str,
    pub member_id: &'a str,
    pub started_at: Timestamp,
    pub last_accessed_at: Timestamp,
    pub expires_at: Timestamp,
    pub authentication_factors: &'a [AuthFactor],
    pub organization_id: &'a str,
    pub roles: Vec<String>,
    pub organization_slug: &'a str,
    pub custom_claims: &'a Map<String, Value>,
}
