//! OAuth sign-in with Google and Microsoft (oauth.md): the browser's trip to the provider
//! (`engine::trip`), the provider's answer verified by the OpenID Connect relying party, the
//! one-time token the application redeems, and the member an OAuth login stands for.
//!
//! Both providers speak OpenID Connect, so a login is verified exactly as an SSO login is (ID
//! token signature from the provider's keys, issuer, audience, nonce, PKCE). What the login
//! proves is the provider's subject and, when the provider says it verified it, the email
//! address: Google's `email_verified`; for Microsoft, whose `email` claim a tenant administrator
//! can set to anything, `email_verified` or the `xms_edov` claim ("email domain owner verified",
//! an optional claim the application registration must emit). An address that is not proven is
//! refused, never trusted.

use crate::crypto::{random_token, sha256_hex};
use crate::engine::members::MemberInput;
use crate::engine::sso::follow_idp_email;
use crate::engine::trip::{self, Started};
use crate::engine::{members, Ctx};
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult, StoreError};
use crate::ids;
use crate::ids::{OrganizationId, ProjectId};
use crate::model::member::{MemberRecord, MemberStatus};
use crate::model::oauth::{OAuthProvider, OAuthRegistrationRecord, OAuthTokenRecord, ProviderTokens};
use crate::model::organization::OrgRecord;
use crate::model::session::AuthFactor;
use crate::model::sso::{SsoIdentity, TripDestination};
use crate::oidc::{OidcCallback, OidcEndpoints, RelyingParty};
use crate::rules::requirements::jit_allowed;
use crate::settings::OAuthClient;
use crate::validate;
use serde_json::Value;

/// How long the application has to redeem the token.
const TOKEN_MINUTES: i64 = 10;
const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// A provider as the project signs in with it: Latch's client there, and its endpoints.
pub struct Provider {
    pub provider: OAuthProvider,
    pub client: OAuthClient,
    pub endpoints: OidcEndpoints,
}

impl Provider {
    fn party(&self) -> RelyingParty<'_> {
        RelyingParty {
            issuer: &self.client.issuer,
            client_id: &self.client.client_id,
            client_secret: &self.client.client_secret,
            token_url: &self.endpoints.token_url,
            userinfo_url: &self.endpoints.userinfo_url,
            jwks_url: &self.endpoints.jwks_url,
        }
    }
}

/// The project's client at `provider` and the provider's endpoints (from its discovery
/// document, cached per issuer).
pub async fn provider(ctx: &Ctx, project_id: &ProjectId, provider: OAuthProvider) -> CoreResult<Provider> {
    let client = ctx
        .settings
        .oauth_client(project_id, provider)
        .cloned()
        .ok_or_else(|| OAUTH_CONFIG_NOT_FOUND.detail(provider.key()))?;
    // Microsoft's multi-tenant discovery document lives under `common`, not under `{tenantid}`.
    let discovery_issuer = client.issuer.replace("{tenantid}", "common");
    let now = ctx.now();
    let endpoints = match ctx.oauth_endpoints.get(&discovery_issuer, 0, now) {
        Some(e) => e,
        None => {
            let found = ctx.oidc.discover(&discovery_issuer).await.map_err(|why| {
                tracing::warn!(provider = provider.key(), %why, "OAuth provider discovery failed");
                SERVER_UNAVAILABLE.detail(format!("the {} discovery document could not be read", provider.key()))
            })?;
            ctx.oauth_endpoints.put(discovery_issuer, 0, now, found.clone());
            found
        }
    };
    Ok(Provider {
        provider,
        client,
        endpoints,
    })
}

/// Latch's callback at the provider (registered there as a redirect URI).
pub fn redirect_uri(ctx: &Ctx, provider: OAuthProvider) -> String {
    format!(
        "{}/v1/b2b/public/oauth/{}/callback",
        ctx.settings.public_url.trim_end_matches('/'),
        provider.key()
    )
}

/// What a start asks for (the public start endpoint's query, resolved).
pub struct StartRequest<'a> {
    pub project_id: &'a ProjectId,
    pub provider: &'a Provider,
    /// The organization to log into; `None` for discovery.
    pub organization_id: Option<OrganizationId>,
    /// Where the browser lands (for discovery, both are the discovery URL).
    pub login_redirect_url: String,
    pub signup_redirect_url: String,
    pub code_challenge: Option<&'a str>,
    pub custom_scopes: Option<&'a str>,
    /// `provider_<key>` query parameters, passed to the provider as `<key>`.
    pub provider_params: &'a [(String, String)],
}

pub async fn start(ctx: &Ctx, req: StartRequest<'_>) -> CoreResult<Started> {
    let p = req.provider;
    let mut scopes: Vec<&str> = DEFAULT_SCOPES.to_vec();
    if let Some(extra) = req.custom_scopes {
        scopes.extend(extra.split_whitespace());
    }
    trip::begin(
        ctx,
        trip::Begin {
            project_id: req.project_id,
            destination: TripDestination::OAuth {
                provider: p.provider,
                organization_id: req.organization_id,
            },
            code_challenge: req.code_challenge,
            login_redirect_url: req.login_redirect_url,
            signup_redirect_url: req.signup_redirect_url,
            authorization_url: &p.endpoints.authorization_url,
            client_id: &p.client.client_id,
            redirect_uri: &redirect_uri(ctx, p.provider),
            scopes,
            extra_params: req.provider_params,
        },
        OAUTH_CONFIG_NOT_FOUND,
    )
    .await
}

/// The relying party's refusals (named for SSO), named as OAuth's, with their detail.
fn as_oauth(e: CoreError) -> CoreError {
    let CoreError::Unauthorized(f) = &e else {
        return e;
    };
    let kind = if f.error_type == OIDC_CODE_EXCHANGE_FAILED.error_type {
        OAUTH_AUTH_CODE_ERROR
    } else if f.error_type.contains("oidc") {
        OAUTH_FLOW_CALLBACK_ERROR
    } else {
        return e;
    };
    let detail = f
        .message
        .split_once(" (")
        .and_then(|(_, rest)| rest.rsplit_once(')'))
        .map(|(d, _)| d);
    match detail {
        Some(d) => kind.detail(d),
        None => kind.err(),
    }
}

/// The email address the login proved, normalised (see the module doc for what proves it).
pub fn proven_email(provider: OAuthProvider, identity: &SsoIdentity) -> CoreResult<String> {
    let email = identity
        .email
        .as_deref()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| OAUTH_FLOW_CALLBACK_ERROR.detail("the provider sent no email address"))?;
    let flag = |name: &str| identity.claims.get(name).and_then(Value::as_bool) == Some(true);
    let verified = identity.email_verified == Some(true) || (provider == OAuthProvider::Microsoft && flag("xms_edov"));
    if !verified {
        return Err(OAUTH_UNVERIFIED_EMAIL.err());
    }
    validate::normalize_email(email)
}

/// Where the browser goes once the provider's answer is verified.
pub struct Finished {
    pub redirect_url: String,
}

/// The provider's answer at the callback: `state` must be a live trip this browser started for
/// this provider (it is used up either way); then the code is exchanged, the identity verified,
/// and the browser sent to the application with a one-time token.
pub async fn callback(
    ctx: &Ctx,
    provider: OAuthProvider,
    state: &str,
    code: &str,
    browser_secret: Option<&str>,
) -> CoreResult<Finished> {
    let trip = trip::take(ctx, state, browser_secret, OAUTH_INVALID_STATE).await?;
    let TripDestination::OAuth {
        provider: p,
        organization_id,
    } = trip.destination
    else {
        return Err(OAUTH_INVALID_STATE.err());
    };
    if p != provider {
        return Err(OAUTH_INVALID_STATE.err());
    }
    if code.is_empty() {
        return Err(OAUTH_FLOW_CALLBACK_ERROR.detail("no code"));
    }
    let project_id = trip.project_id;
    let prov = self::provider(ctx, &project_id, provider).await?;
    let login = ctx
        .oidc
        .finish(OidcCallback {
            party: prov.party(),
            redirect_url: &redirect_uri(ctx, provider),
            code,
            pkce_verifier: &trip.pkce_verifier,
            nonce: &trip.nonce,
        })
        .await
        .map_err(as_oauth)?;
    let email = proven_email(provider, &login.identity)?;
    // An organization login is refused here as at oauth.authenticate, so the browser learns it
    // before the application; the URL it lands on says whether the member is new.
    let (target, token_type) = match &organization_id {
        Some(org_id) => {
            let org = crate::engine::organizations::get(ctx, &project_id, org_id).await?;
            let known = existing_member(ctx, &org, provider, &login.identity, &email).await?;
            if known.is_none() && !jit_allowed(&org, &email) {
                return Err(EMAIL_JIT_PROVISIONING_NOT_ALLOWED.err());
            }
            let target = if known.is_some() {
                trip.login_redirect_url
            } else {
                trip.signup_redirect_url
            };
            (target, "oauth")
        }
        None => (trip.login_redirect_url, "discovery_oauth"),
    };
    let token = random_token(32);
    let now = ctx.now();
    ctx.store
        .insert_oauth_token(&OAuthTokenRecord {
            token_hash: sha256_hex(&token),
            project_id,
            organization_id,
            provider,
            identity: login.identity,
            tokens: login.tokens.dated(now),
            code_challenge: trip.code_challenge,
            created_at: now,
            expires_at: now.plus_minutes(TOKEN_MINUTES),
        })
        .await?;
    Ok(Finished {
        redirect_url: trip::land(&target, token_type, &token),
    })
}

pub fn token_not_found() -> CoreError {
    OAUTH_TOKEN_NOT_FOUND.err()
}

/// Takes the token (single use, unexpired, PKCE-checked, of the flow asked for: an organization
/// login's token is not a discovery token, nor the reverse).
pub async fn redeem(
    ctx: &Ctx,
    project_id: &ProjectId,
    token: &str,
    verifier: Option<&str>,
    discovery: bool,
) -> CoreResult<OAuthTokenRecord> {
    if token.is_empty() || token.len() > 128 {
        return Err(token_not_found());
    }
    let hash = sha256_hex(token);
    let t = ctx
        .store
        .oauth_token(project_id, &hash)
        .await?
        .filter(|t| t.organization_id.is_none() == discovery)
        .ok_or_else(token_not_found)?;
    if t.expires_at <= ctx.now() {
        ctx.store.take_oauth_token(project_id, &hash).await?;
        return Err(token_not_found());
    }
    crate::rules::pkce::check(t.code_challenge.as_deref(), verifier)?;
    if !ctx.store.take_oauth_token(project_id, &hash).await? {
        return Err(token_not_found());
    }
    Ok(t)
}

/// The member a login already stands for: by its registration at the provider, else by the
/// proven email address.
async fn existing_member(
    ctx: &Ctx,
    org: &OrgRecord,
    provider: OAuthProvider,
    identity: &SsoIdentity,
    email: &str,
) -> CoreResult<Option<(MemberRecord, Option<OAuthRegistrationRecord>)>> {
    if let Some(reg) = ctx
        .store
        .oauth_registration(&org.project_id, &org.organization_id, provider, &identity.subject)
        .await?
    {
        let member = ctx
            .store
            .member_by_id(&org.project_id, &reg.member_id)
            .await?
            .filter(|m| m.status != MemberStatus::Deleted && m.organization_id == org.organization_id);
        if let Some(m) = member {
            return Ok(Some((m, Some(reg))));
        }
    }
    let member = ctx
        .store
        .member_by_email(&org.project_id, &org.organization_id, email)
        .await?
        .filter(|m| m.status != MemberStatus::Deleted);
    Ok(member.map(|m| (m, None)))
}

fn claim(identity: &SsoIdentity, name: &str) -> Option<String> {
    identity
        .claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 2048)
        .map(str::to_string)
}

/// The member an organization login stands for (JIT-provisioned when the organization takes
/// the address's domain), with its registration at the provider holding this login's tokens,
/// and whether the member just moved to a new address from the provider.
pub async fn member_for(
    ctx: &Ctx,
    org: &OrgRecord,
    token: &OAuthTokenRecord,
) -> CoreResult<(MemberRecord, OAuthRegistrationRecord, bool)> {
    let identity = &token.identity;
    let email = proven_email(token.provider, identity)?;
    let mut moved = false;
    let (member, registration) = match existing_member(ctx, org, token.provider, identity, &email).await? {
        Some((member, Some(reg))) => {
            let before = member.email.clone();
            let member = follow_idp_email(ctx, member, Some(email)).await?;
            moved = member.email != before;
            (member, Some(reg))
        }
        Some((mut member, None)) => {
            if !member.email_verified {
                crate::store::retry::modify_member(ctx.store.as_ref(), &mut member, |m| m.email_verified = true)
                    .await?;
            }
            (member, None)
        }
        None => {
            if !jit_allowed(org, &email) {
                return Err(EMAIL_JIT_PROVISIONING_NOT_ALLOWED.err());
            }
            let input = MemberInput {
                email_address: Some(email),
                name: identity.name.clone(),
                ..Default::default()
            };
            let view = members::provision(ctx, &org.project_id, &org.organization_id, input).await?;
            let mut member = view.member;
            crate::store::retry::modify_member(ctx.store.as_ref(), &mut member, |m| m.email_verified = true).await?;
            (member, None)
        }
    };
    let now = ctx.now();
    let registration = OAuthRegistrationRecord {
        registration_id: registration
            .as_ref()
            .map(|r| r.registration_id.clone())
            .unwrap_or_else(ids::oauth_registration_id),
        project_id: org.project_id.clone(),
        organization_id: org.organization_id.clone(),
        member_id: member.member_id.clone(),
        provider: token.provider,
        subject: identity.subject.clone(),
        profile_picture_url: claim(identity, "picture"),
        locale: claim(identity, "locale"),
        tokens: keep_refresh_token(token.tokens.clone(), registration.as_ref()),
        created_at: registration.as_ref().map_or(now, |r| r.created_at),
        updated_at: now,
    };
    let registration = match ctx.store.save_oauth_registration(&registration).await {
        Ok(()) => registration,
        // The subject is registered already: by a concurrent first login, or to a member since
        // deleted. The registration moves to the member this login stands for.
        Err(StoreError::UniqueViolation) => {
            let theirs = ctx
                .store
                .oauth_registration(&org.project_id, &org.organization_id, token.provider, &identity.subject)
                .await?
                .ok_or_else(|| CoreError::internal("an OAuth registration vanished during a login"))?;
            let ours = OAuthRegistrationRecord {
                registration_id: theirs.registration_id,
                created_at: theirs.created_at,
                ..registration
            };
            ctx.store.save_oauth_registration(&ours).await?;
            ours
        }
        Err(e) => return Err(e.into()),
    };
    Ok((member, registration, moved))
}

/// Providers send a refresh token only now and then (Google: on consent); one already held is
/// kept until a new one comes.
fn keep_refresh_token(mut tokens: ProviderTokens, previous: Option<&OAuthRegistrationRecord>) -> ProviderTokens {
    if tokens.refresh_token.is_none() {
        tokens.refresh_token = previous.and_then(|r| r.tokens.refresh_token.clone());
    }
    tokens
}

/// The session factor of an OAuth login: it proves the subject at the provider and the address
/// (`email_address` is Latch's, beside Stytch's `{id, provider_subject, email_id}`: what the
/// factor proved is read from the factor itself, see `rules::factors::proves_email`).
pub fn factor(
    provider: OAuthProvider,
    registration_id: &str,
    subject: &str,
    email_id: &str,
    email: &str,
    now: crate::clock::Timestamp,
) -> AuthFactor {
    AuthFactor::oauth(
        provider.delivery_method(),
        provider.factor_key(),
        serde_json::json!({
            "id": registration_id,
            "provider_subject": subject,
            "email_id": email_id,
            "email_address": email,
        }),
        now,
    )
}

/// A member's registration at the provider with fresh tokens: an expired access token is
/// refreshed when a refresh token is held (and the registration updated).
pub async fn fresh_tokens(ctx: &Ctx, mut reg: OAuthRegistrationRecord) -> CoreResult<OAuthRegistrationRecord> {
    let expired = reg.tokens.expires_at.is_some_and(|at| at <= ctx.now());
    let Some(refresh) = reg.tokens.refresh_token.clone().filter(|_| expired) else {
        return Ok(reg);
    };
    let prov = provider(ctx, &reg.project_id, reg.provider).await?;
    let mut fresh = ctx.oidc.refresh(prov.party(), &refresh).await?.dated(ctx.now());
    if fresh.id_token.is_empty() {
        fresh.id_token = std::mem::take(&mut reg.tokens.id_token);
    }
    if fresh.scopes.is_empty() {
        fresh.scopes = std::mem::take(&mut reg.tokens.scopes);
    }
    reg.tokens = keep_refresh_token(fresh, Some(&reg));
    reg.updated_at = ctx.now();
    ctx.store.save_oauth_registration(&reg).await?;
    Ok(reg)
}
