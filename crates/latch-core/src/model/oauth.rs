//! OAuth sign-in (oauth.md) as stored and as it goes on the wire: the providers, a member's
//! registration at one (with the provider's tokens, for the token reads), and the one-time token
//! the browser brings back to the application.

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::sso::SsoIdentity;
use serde::{Deserialize, Serialize};

/// The providers Latch signs in with. Both speak OpenID Connect, so one relying party serves
/// them; both verify the email addresses they vouch for (oauth.md#concepts), so their login proves
/// the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OAuthProvider {
    Google,
    Microsoft,
}

impl OAuthProvider {
    pub const ALL: [OAuthProvider; 2] = [OAuthProvider::Google, OAuthProvider::Microsoft];

    /// The path segment and settings name: `google`, `microsoft`.
    pub fn key(self) -> &'static str {
        match self {
            OAuthProvider::Google => "google",
            OAuthProvider::Microsoft => "microsoft",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == s)
    }

    /// `provider_type` on the wire, as Stytch writes it.
    pub fn display(self) -> &'static str {
        match self {
            OAuthProvider::Google => "Google",
            OAuthProvider::Microsoft => "Microsoft",
        }
    }

    /// The organization's `allowed_auth_methods` entry.
    pub fn auth_method(self) -> &'static str {
        match self {
            OAuthProvider::Google => "google_oauth",
            OAuthProvider::Microsoft => "microsoft_oauth",
        }
    }

    /// The session factor's `delivery_method`.
    pub fn delivery_method(self) -> &'static str {
        match self {
            OAuthProvider::Google => "oauth_google",
            OAuthProvider::Microsoft => "oauth_microsoft",
        }
    }

    pub fn from_delivery_method(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.delivery_method() == s)
    }

    /// The session factor's sub-object.
    pub fn factor_key(self) -> &'static str {
        match self {
            OAuthProvider::Google => "google_oauth_factor",
            OAuthProvider::Microsoft => "microsoft_oauth_factor",
        }
    }

    /// The provider's issuer when the settings name none. Microsoft's multi-tenant endpoint names
    /// its issuer with a `{tenantid}` placeholder: each token's issuer has the user's tenant.
    pub fn default_issuer(self) -> &'static str {
        match self {
            OAuthProvider::Google => "https://accounts.google.com",
            OAuthProvider::Microsoft => "https://login.microsoftonline.com/common/v2.0",
        }
    }
}

/// What the provider's token endpoint handed over at a login (kept for the token reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: String,
    pub expires_at: Option<Timestamp>,
    pub scopes: Vec<String>,
}

/// A member's link to one subject at one provider (`Member.oauth_registrations`), with the
/// provider's latest tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthRegistrationRecord {
    pub registration_id: String,
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub provider: OAuthProvider,
    pub subject: String,
    pub profile_picture_url: Option<String>,
    pub locale: Option<String>,
    pub tokens: ProviderTokens,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The wire object (objects.md#oauthregistration).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthRegistration<'a> {
    pub provider_type: &'static str,
    pub provider_subject: &'a str,
    pub member_oauth_registration_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_picture_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<&'a str>,
}

impl OAuthRegistrationRecord {
    pub fn view(&self) -> OAuthRegistration<'_> {
        OAuthRegistration {
            provider_type: self.provider.display(),
            provider_subject: &self.subject,
            member_oauth_registration_id: &self.registration_id,
            profile_picture_url: self.profile_picture_url.as_deref(),
            locale: self.locale.as_deref(),
        }
    }
}

/// The one-time token the application exchanges at oauth.authenticate (an organization login)
/// or oauth.discovery.authenticate (`organization_id` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthTokenRecord {
    pub token_hash: String,
    pub project_id: ProjectId,
    pub organization_id: Option<OrganizationId>,
    pub provider: OAuthProvider,
    pub identity: SsoIdentity,
    pub tokens: ProviderTokens,
    pub code_challenge: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}
