//! The OpenID Connect relying party, as the core sees it: discovery of a provider's endpoints,
//! the end of a login (code exchange, ID-token verification, userinfo) and the refresh of a
//! provider's access token. Enterprise SSO connections and the OAuth providers (Google,
//! Microsoft) both sign in through it. The implementation is an adapter in the binary, on a
//! well-kept OIDC crate; the core never speaks HTTP.

use crate::error::{CoreError, CoreResult};
use crate::model::oauth::ProviderTokens;
use crate::model::sso::{OidcConnectionRecord, SsoIdentity};
use serde_json::{Map, Value};

/// A provider's endpoints, from `{issuer}/.well-known/openid-configuration`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OidcEndpoints {
    pub authorization_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub jwks_url: String,
}

/// Microsoft's multi-tenant issuer names the user's tenant with this placeholder.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// For an issuer configured with the tenant placeholder: whether the ID token's `iss` is that
/// issuer for the token's own tenant (`tid`). A tenant id is letters, digits and `-` only, so it
/// cannot reshape the issuer URL it is put into.
pub fn check_tenant_issuer(configured: &str, tid: Option<&str>, iss: &str) -> Result<(), &'static str> {
    let tid = tid
        .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .ok_or("no tenant (tid) in the ID token")?;
    if iss != configured.replace(TENANT_PLACEHOLDER, tid) {
        return Err("the issuer is not the tenant's");
    }
    Ok(())
}

/// A connection's `attribute_mapping` (`{our name: provider claim}`) applied to the provider's
/// claims: the names whose claim the provider sent, with its value. Mapping values that are not
/// claim names (not strings) map nothing.
pub fn mapped_attributes(mapping: &Map<String, Value>, claims: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (ours, theirs) in mapping {
        if let Some(v) = theirs.as_str().and_then(|claim| claims.get(claim)) {
            out.insert(ours.clone(), v.clone());
        }
    }
    out
}

/// Who Latch is at a provider, and the provider's endpoints.
#[derive(Debug, Clone, Copy)]
pub struct RelyingParty<'a> {
    /// The expected `iss`. A `{tenantid}` placeholder (Microsoft's multi-tenant issuer) stands
    /// for the token's own `tid` claim.
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub token_url: &'a str,
    pub userinfo_url: &'a str,
    pub jwks_url: &'a str,
}

impl<'a> From<&'a OidcConnectionRecord> for RelyingParty<'a> {
    fn from(c: &'a OidcConnectionRecord) -> Self {
        Self {
            issuer: &c.issuer,
            client_id: &c.client_id,
            client_secret: &c.client_secret,
            token_url: &c.token_url,
            userinfo_url: &c.userinfo_url,
            jwks_url: &c.jwks_url,
        }
    }
}

/// What the callback brings back, with what the start stored for it.
pub struct OidcCallback<'a> {
    pub party: RelyingParty<'a>,
    pub redirect_url: &'a str,
    pub code: &'a str,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
}

/// A verified login: who the provider vouched for, and the tokens it handed over.
pub struct OidcLogin {
    pub identity: SsoIdentity,
    pub tokens: IssuedTokens,
}

/// What a token endpoint answered: the tokens, and the access token's lifetime as the provider
/// gave it (the caller dates it on its own clock).
pub struct IssuedTokens {
    /// `expires_at` is not set here.
    pub tokens: ProviderTokens,
    pub expires_in_secs: Option<i64>,
}

impl IssuedTokens {
    pub fn dated(self, now: crate::clock::Timestamp) -> ProviderTokens {
        ProviderTokens {
            expires_at: self
                .expires_in_secs
                .map(|s| crate::clock::Timestamp(now.millis().saturating_add(s.saturating_mul(1000)))),
            ..self.tokens
        }
    }
}

#[async_trait::async_trait]
pub trait OidcClient: Send + Sync + 'static {
    /// The provider's endpoints; `Err` explains why they could not be read.
    async fn discover(&self, issuer: &str) -> Result<OidcEndpoints, String>;

    /// Exchanges the code (with the PKCE verifier), verifies the ID token against the provider's
    /// current keys (signature, issuer, audience, authorized party, expiry and issue time, nonce)
    /// and reads userinfo. Any failure is a refusal (`CoreError`), never a partial identity.
    async fn finish(&self, callback: OidcCallback<'_>) -> CoreResult<OidcLogin>;

    /// A fresh access token for a refresh token (the ID token and refresh token are kept when
    /// the provider sends no new ones).
    async fn refresh(&self, party: RelyingParty<'_>, refresh_token: &str) -> CoreResult<IssuedTokens>;
}

/// For a node without an OIDC client (unit tests, tools): every use is refused.
pub struct NoOidc;

#[async_trait::async_trait]
impl OidcClient for NoOidc {
    async fn discover(&self, _: &str) -> Result<OidcEndpoints, String> {
        Err("this node has no OIDC client".into())
    }

    async fn finish(&self, _: OidcCallback<'_>) -> CoreResult<OidcLogin> {
        Err(CoreError::internal("this node has no OIDC client"))
    }

    async fn refresh(&self, _: RelyingParty<'_>, _: &str) -> CoreResult<IssuedTokens> {
        Err(CoreError::internal("this node has no OIDC client"))
    }
}
