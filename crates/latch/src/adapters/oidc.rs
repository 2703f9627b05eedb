//! The OpenID Connect relying party on the `openidconnect` crate: discovery, code exchange with
//! PKCE, ID-token verification and userinfo. Nothing here is hand-rolled: the crate checks the
//! signature against the provider's JWKS (fetched at every login, so a rotated key is picked up
//! at once), the issuer, the audience and the nonce; we add what it leaves to the client
//! (`azp`, bounded clock skew on `exp`/`iat`) and choose the algorithms (RS256 and ES256; never
//! `none`, never HMAC with a public key).

use latch_core::error::catalogue::{
    ErrorKind, INVALID_OIDC_ID_TOKEN, INVALID_OIDC_RESPONSE, INVALID_SSO_IDP, OIDC_CODE_EXCHANGE_FAILED,
    OIDC_INVALID_USERINFO, OIDC_JWKS_UNAVAILABLE, UNABLE_TO_REFRESH_OAUTH_TOKEN,
};
use latch_core::error::{CoreError, CoreResult};
use latch_core::model::oauth::ProviderTokens;
use latch_core::model::sso::SsoIdentity;
use latch_core::oidc::{IssuedTokens, OidcCallback, OidcClient, OidcEndpoints, OidcLogin, RelyingParty};
use openidconnect::core::{
    CoreClient, CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, IdToken, IssuerUrl, JsonWebKeySet,
    JsonWebKeySetUrl, Nonce, OAuth2TokenResponse, PkceCodeVerifier, RedirectUrl, RefreshToken, TokenResponse, TokenUrl,
    UserInfoClaims, UserInfoUrl,
};
use serde_json::{Map, Value};
use std::time::Duration;

/// How far the provider's clock may be from ours.
const CLOCK_SKEW_SECS: i64 = 60;
/// An ID token issued longer ago than this is refused (it should have been minted just now).
const MAX_TOKEN_AGE_SECS: i64 = 600;

/// Every claim beyond the standard ones (department, groups, …), for attribute mappings.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct OtherClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

pub struct OidcAdapter {
    http: reqwest::Client,
}

impl OidcAdapter {
    pub fn new(timeout: Duration) -> CoreResult<Self> {
        Ok(Self {
            http: super::idp_http_client(timeout)?,
        })
    }
}

fn refused(kind: ErrorKind, detail: impl std::fmt::Display) -> CoreError {
    tracing::warn!(error_type = kind.error_type, detail = %detail, "OIDC sign-in refused");
    kind.detail(detail)
}

fn config(detail: impl std::fmt::Display) -> CoreError {
    INVALID_SSO_IDP.detail(detail)
}

use latch_core::oidc::TENANT_PLACEHOLDER as TENANT;

type IdTokenWithClaims =
    IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

impl OidcAdapter {
    fn client(
        &self,
        p: RelyingParty<'_>,
        jwks: JsonWebKeySet<CoreJsonWebKey>,
    ) -> CoreResult<
        CoreClient<
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
        >,
    > {
        Ok(CoreClient::new(
            ClientId::new(p.client_id.to_string()),
            IssuerUrl::new(p.issuer.to_string()).map_err(config)?,
            jwks,
        )
        .set_client_secret(ClientSecret::new(p.client_secret.to_string()))
        .set_token_uri(TokenUrl::new(p.token_url.to_string()).map_err(config)?))
    }
}

/// The provider's token response, as kept for the member's token reads.
fn provider_tokens(t: &CoreTokenResponse, id_token: String) -> IssuedTokens {
    IssuedTokens {
        tokens: ProviderTokens {
            access_token: t.access_token().secret().clone(),
            refresh_token: t.refresh_token().map(|r| r.secret().clone()),
            id_token,
            expires_at: None,
            scopes: t
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
        },
        expires_in_secs: t.expires_in().map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
    }
}

#[async_trait::async_trait]
impl OidcClient for OidcAdapter {
    async fn discover(&self, issuer: &str) -> Result<OidcEndpoints, String> {
        let issuer = IssuerUrl::new(issuer.to_string()).map_err(|e| e.to_string())?;
        let meta = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| format!("{e}"))?;
        Ok(OidcEndpoints {
            authorization_url: meta.authorization_endpoint().to_string(),
            token_url: meta.token_endpoint().map(|u| u.to_string()).unwrap_or_default(),
            userinfo_url: meta.userinfo_endpoint().map(|u| u.to_string()).unwrap_or_default(),
            jwks_url: meta.jwks_uri().to_string(),
        })
    }

    async fn finish(&self, cb: OidcCallback<'_>) -> CoreResult<OidcLogin> {
        let p = cb.party;
        let jwks_url = JsonWebKeySetUrl::new(p.jwks_url.to_string()).map_err(config)?;
        let jwks = JsonWebKeySet::fetch_async(&jwks_url, &self.http)
            .await
            .map_err(|e| refused(OIDC_JWKS_UNAVAILABLE, e))?;
        let client = self
            .client(p, jwks)?
            .set_redirect_uri(RedirectUrl::new(cb.redirect_url.to_string()).map_err(config)?);

        let tokens = client
            .exchange_code(AuthorizationCode::new(cb.code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(cb.pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| refused(OIDC_CODE_EXCHANGE_FAILED, e))?;
        let raw = tokens
            .id_token()
            .ok_or_else(|| refused(INVALID_OIDC_RESPONSE, "no ID token in the token response"))?
            .to_string();
        // Parsed again with every claim kept (groups, tid, …) for mappings and the tenant check.
        let id_token: IdTokenWithClaims = raw.parse().map_err(|e| refused(INVALID_OIDC_ID_TOKEN, e))?;
        let tenant_issuer = p.issuer.contains(TENANT);
        let now = chrono::Utc::now();
        let verifier = client
            .id_token_verifier()
            .require_issuer_match(!tenant_issuer)
            .set_allowed_algs([
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            ])
            // `exp` may be up to the skew in our past.
            .set_time_fn(move || now - chrono::Duration::seconds(CLOCK_SKEW_SECS))
            .set_issue_time_verifier_fn(move |iat| {
                let age = (now - iat).num_seconds();
                if age < -CLOCK_SKEW_SECS {
                    Err(format!("issued in the future ({iat})"))
                } else if age > MAX_TOKEN_AGE_SECS {
                    Err(format!("issued too long ago ({iat})"))
                } else {
                    Ok(())
                }
            });
        let nonce = Nonce::new(cb.nonce.to_string());
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| refused(INVALID_OIDC_ID_TOKEN, e))?;
        if tenant_issuer {
            // The issuer names the token's own tenant (Microsoft's multi-tenant endpoint).
            let tid = claims.additional_claims().rest.get("tid").and_then(Value::as_str);
            latch_core::oidc::check_tenant_issuer(p.issuer, tid, claims.issuer().as_str())
                .map_err(|why| refused(INVALID_OIDC_ID_TOKEN, why))?;
        }
        // The crate leaves `azp` to the client (OIDC Core 3.1.3.7, steps 4 and 5).
        let audiences = claims.audiences();
        match claims.authorized_party() {
            Some(azp) if azp.as_str() != p.client_id => {
                return Err(refused(INVALID_OIDC_ID_TOKEN, "azp is another client"));
            }
            None if audiences.len() > 1 => {
                return Err(refused(INVALID_OIDC_ID_TOKEN, "several audiences and no azp"));
            }
            _ => {}
        }
        let subject = claims.subject().to_string();
        let mut all: Map<String, Value> = match serde_json::to_value(claims) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if !p.userinfo_url.is_empty() {
            let userinfo: UserInfoClaims<OtherClaims, CoreGenderClaim> = client
                .clone()
                .set_user_info_url(UserInfoUrl::new(p.userinfo_url.to_string()).map_err(config)?)
                .user_info(
                    AccessToken::new(tokens.access_token().secret().clone()),
                    Some(claims.subject().clone()),
                )
                .request_async(&self.http)
                .await
                .map_err(|e| refused(OIDC_INVALID_USERINFO, e))?;
            if let Ok(Value::Object(m)) = serde_json::to_value(&userinfo) {
                for (k, v) in m {
                    all.entry(k).or_insert(v);
                }
            }
        }
        let email = all.get("email").and_then(Value::as_str).map(str::to_string);
        let email_verified = all.get("email_verified").and_then(Value::as_bool);
        let name = all.get("name").and_then(Value::as_str).map(str::to_string);
        for registered in [
            "iss",
            "aud",
            "exp",
            "iat",
            "nonce",
            "azp",
            "at_hash",
            "c_hash",
            "auth_time",
        ] {
            all.remove(registered);
        }
        Ok(OidcLogin {
            identity: SsoIdentity {
                subject,
                email,
                email_verified,
                name,
                claims: all,
            },
            tokens: provider_tokens(&tokens, raw),
        })
    }

    async fn refresh(&self, p: RelyingParty<'_>, refresh_token: &str) -> CoreResult<IssuedTokens> {
        let refresh = RefreshToken::new(refresh_token.to_string());
        let tokens = self
            .client(p, JsonWebKeySet::default())?
            .exchange_refresh_token(&refresh)
            .request_async(&self.http)
            .await
            .map_err(|e| refused(UNABLE_TO_REFRESH_OAUTH_TOKEN, e))?;
        let id_token = tokens.id_token().map(|t| t.to_string()).unwrap_or_default();
        Ok(provider_tokens(&tokens, id_token))
    }
}
