//! Enterprise SSO as stored and as it goes on the wire (sso.md#objects): OIDC connections, a
//! member's registrations at them, and the one-time records of the browser flow.

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::oauth::OAuthProvider;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An OIDC connection: Latch is the relying party, the organization's IdP the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct OidcConnectionRecord {
    pub connection_id: String,
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub display_name: String,
    pub identity_provider: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub authorization_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub jwks_url: String,
    pub custom_scopes: String,
    pub attribute_mapping: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl OidcConnectionRecord {
    /// Active once everything a login needs is set (sso.md: issuer, client id and secret, and the
    /// four endpoints).
    pub fn is_active(&self) -> bool {
        [
            &self.issuer,
            &self.client_id,
            &self.client_secret,
            &self.authorization_url,
            &self.token_url,
            &self.userinfo_url,
            &self.jwks_url,
        ]
        .iter()
        .all(|v| !v.is_empty())
    }

    pub fn status(&self) -> &'static str {
        if self.is_active() {
            "active"
        } else {
            "pending"
        }
    }
}

/// The wire object (sso.md#oidcconnection). `client_secret` is echoed as Stytch does: the SDK's
/// model requires the string, and only the project's secret (or an admin session) can read it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcConnection<'a> {
    pub organization_id: &'a str,
    pub connection_id: &'a str,
    pub status: &'static str,
    pub display_name: &'a str,
    pub redirect_url: String,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub issuer: &'a str,
    pub authorization_url: &'a str,
    pub token_url: &'a str,
    pub userinfo_url: &'a str,
    pub jwks_url: &'a str,
    pub identity_provider: &'a str,
    pub custom_scopes: &'a str,
    pub attribute_mapping: &'a Map<String, Value>,
}

/// An entry of `Organization.sso_active_connections`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActiveSsoConnection {
    pub connection_id: String,
    pub display_name: String,
    pub identity_provider: String,
}

/// A member's link to one subject at one connection (`Member.sso_registrations`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoRegistration {
    pub connection_id: String,
    pub external_id: String,
    pub registration_id: String,
    pub sso_attributes: Map<String, Value>,
    #[serde(skip)]
    pub member_id: MemberId,
    #[serde(skip)]
    pub project_id: ProjectId,
    #[serde(skip)]
    pub organization_id: OrganizationId,
    #[serde(skip)]
    pub created_at: Timestamp,
}

/// Where a browser's trip to an identity provider goes.
#[derive(Debug, Clone, PartialEq)]
pub enum TripDestination {
    /// An enterprise SSO connection.
    Sso { connection_id: String },
    /// An OAuth provider, to log into an organization, or (`None`) for discovery.
    OAuth {
        provider: OAuthProvider,
        organization_id: Option<OrganizationId>,
    },
}

/// One browser's trip to the provider, keyed by the digest of its `state`.
#[derive(Debug, Clone, PartialEq)]
pub struct SsoStateRecord {
    pub state_hash: String,
    pub project_id: ProjectId,
    pub destination: TripDestination,
    /// Digest of the cookie set on the browser that started the flow.
    pub browser_hash: String,
    pub nonce: String,
    /// Latch's PKCE verifier towards the provider.
    pub pkce_verifier: String,
    /// The application's PKCE challenge, checked at sso.authenticate.
    pub code_challenge: Option<String>,
    pub login_redirect_url: String,
    pub signup_redirect_url: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What the provider vouched for, verified: its ID token's subject and claims (and userinfo's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoIdentity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    /// Every claim, for the connection's attribute mapping.
    pub claims: Map<String, Value>,
}

/// The one-time token the application exchanges at sso.authenticate.
#[derive(Debug, Clone, PartialEq)]
pub struct SsoTokenRecord {
    pub token_hash: String,
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub connection_id: String,
    pub identity: SsoIdentity,
    pub code_challenge: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}
