//! The OpenID Connect relying party, as the core sees it: discovery of a provider's endpoints and
//! the end of a login (code exchange, ID-token verification, userinfo). The implementation is an
//! adapter in the binary, on a well-kept OIDC crate; the core never speaks HTTP.

use crate::error::{CoreError, CoreResult};
use crate::model::sso::{OidcConnectionRecord, SsoIdentity};

/// A provider's endpoints, from `{issuer}/.well-known/openid-configuration`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OidcEndpoints {
    pub authorization_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub jwks_url: String,
}

/// What the callback brings back, with what the start stored for it.
pub struct OidcCallback<'a> {
    pub connection: &'a OidcConnectionRecord,
    pub redirect_url: &'a str,
    pub code: &'a str,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
}

#[async_trait::async_trait]
pub trait OidcClient: Send + Sync + 'static {
    /// The provider's endpoints; `Err` explains why they could not be read.
    async fn discover(&self, issuer: &str) -> Result<OidcEndpoints, String>;

    /// Exchanges the code (with the PKCE verifier), verifies the ID token against the provider's
    /// current keys (signature, issuer, audience, authorized party, expiry and issue time, nonce)
    /// and reads userinfo. Any failure is a refusal (`CoreError`), never a partial identity.
    async fn finish(&self, callback: OidcCallback<'_>) -> CoreResult<SsoIdentity>;
}

/// For a node without an OIDC client (unit tests, tools): every use is refused.
pub struct NoOidc;

#[async_trait::async_trait]
impl OidcClient for NoOidc {
    async fn discover(&self, _: &str) -> Result<OidcEndpoints, String> {
        Err("this node has no OIDC client".into())
    }

    async fn finish(&self, _: OidcCallback<'_>) -> CoreResult<SsoIdentity> {
        Err(CoreError::internal("this node has no OIDC client"))
    }
}
