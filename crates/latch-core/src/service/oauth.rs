//! OAuth sign-in (oauth.md): the public start URLs (organization login and discovery), the
//! provider's callback, `oauth.authenticate`, `oauth.discovery.authenticate`, and the member's
//! provider-token reads (`organizations.members.oauth_providers.*`).
//!
//! Everything a start names (public token, organization, redirect URLs, PKCE challenge) is
//! checked before the trip is stored, so a refused start writes nothing.

use crate::engine::auth_flow::{Outcome, PrimaryAuth};
use crate::engine::discovery::{oauth_factor, with_factors, DiscoveryResult};
use crate::engine::members::{live_member, MemberView};
use crate::engine::oauth::{self, Finished, StartRequest};
use crate::engine::trip::Started;
use crate::engine::{auth_flow, organizations, redirects, session, Ctx};
use crate::error::catalogue::*;
use crate::error::CoreResult;
use crate::ids::{OrganizationId, ProjectId};
use crate::model::oauth::{OAuthProvider, OAuthRegistrationRecord};
use crate::rules::args::SessionArgs;
use crate::rules::session::check_duration;
use crate::settings::RedirectType;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Query parameters passed through to the provider are named `provider_<key>`.
const PASS_THROUGH: &str = "provider_";
/// Bounds on what a start passes through: a provider needs a handful (`prompt`, `login_hint`).
const MAX_PASS_THROUGH: usize = 16;
const MAX_PARAM_LEN: usize = 1024;

pub fn provider(key: &str) -> CoreResult<OAuthProvider> {
    OAuthProvider::parse(key).ok_or_else(|| INVALID_OAUTH_PROVIDER.detail(key))
}

async fn project_of(ctx: &Ctx, public_token: Option<&str>) -> CoreResult<ProjectId> {
    let token = public_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| INVALID_PUBLIC_TOKEN.err())?;
    let project_id = ctx
        .store
        .project_of_public_token(token)
        .await?
        .ok_or_else(|| INVALID_PUBLIC_TOKEN.err())?;
    crate::engine::audit::project(&project_id);
    Ok(project_id)
}

/// `provider_<key>=value` parameters as `(key, value)`, bounded.
fn pass_through(rest: &BTreeMap<String, String>) -> CoreResult<Vec<(String, String)>> {
    let params: Vec<(String, String)> = rest
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(PASS_THROUGH).map(|k| (k.to_string(), v.clone())))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    if params.len() > MAX_PASS_THROUGH || params.iter().any(|(k, v)| k.len() + v.len() > MAX_PARAM_LEN) {
        return Err(crate::error::CoreError::argument(
            "provider_*",
            "at most 16 provider parameters of at most 1024 characters",
        ));
    }
    Ok(params)
}

fn bounded_scopes(scopes: Option<&str>) -> CoreResult<Option<&str>> {
    match scopes {
        Some(s) if s.len() > MAX_PARAM_LEN => Err(crate::error::CoreError::argument(
            "custom_scopes",
            "must be at most 1024 characters",
        )),
        other => Ok(other.filter(|s| !s.is_empty())),
    }
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct StartInput {
    pub public_token: Option<String>,
    pub organization_id: Option<OrganizationId>,
    /// The organization's slug (the browser SDK's name for it).
    pub slug: Option<String>,
    pub custom_scopes: Option<String>,
    pub pkce_code_challenge: Option<String>,
    pub login_redirect_url: Option<String>,
    pub signup_redirect_url: Option<String>,
    /// Everything else; `provider_*` is passed to the provider.
    #[serde(flatten)]
    pub rest: BTreeMap<String, String>,
}

/// `GET /v1/b2b/public/oauth/{provider}/start`: an organization login.
pub async fn start(ctx: &Ctx, provider_key: &str, input: StartInput) -> CoreResult<Started> {
    let provider = provider(provider_key)?;
    let project_id = project_of(ctx, input.public_token.as_deref()).await?;
    let locator = match (
        input
            .organization_id
            .map(OrganizationId::into_string)
            .filter(|s| !s.is_empty()),
        input.slug.filter(|s| !s.is_empty()),
    ) {
        (Some(_), Some(_)) => return Err(TOO_MANY_OAUTH_ORGANIZATION_LOCATORS.err()),
        (None, None) => return Err(MISSING_OAUTH_ORGANIZATION_LOCATOR.err()),
        (Some(l), None) | (None, Some(l)) => l,
    };
    let org = organizations::get(ctx, &project_id, &locator).await?;
    let code_challenge = crate::rules::pkce::bounded_challenge(input.pkce_code_challenge.as_deref())?;
    let custom_scopes = bounded_scopes(input.custom_scopes.as_deref())?;
    let params = pass_through(&input.rest)?;
    let login = redirects::required(
        ctx,
        &project_id,
        RedirectType::Login,
        input.login_redirect_url.as_deref(),
    )
    .await?;
    let signup = redirects::required(
        ctx,
        &project_id,
        RedirectType::Signup,
        input.signup_redirect_url.as_deref(),
    )
    .await?;
    let p = oauth::provider(ctx, &project_id, provider).await?;
    oauth::start(
        ctx,
        StartRequest {
            project_id: &project_id,
            provider: &p,
            organization_id: Some(org.organization_id),
            login_redirect_url: login,
            signup_redirect_url: signup,
            code_challenge,
            custom_scopes,
            provider_params: &params,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct DiscoveryStartInput {
    pub public_token: Option<String>,
    pub custom_scopes: Option<String>,
    pub pkce_code_challenge: Option<String>,
    pub discovery_redirect_url: Option<String>,
    #[serde(flatten)]
    pub rest: BTreeMap<String, String>,
}

/// `GET /v1/b2b/public/oauth/{provider}/discovery/start`: a login before any organization.
pub async fn discovery_start(ctx: &Ctx, provider_key: &str, input: DiscoveryStartInput) -> CoreResult<Started> {
    let provider = provider(provider_key)?;
    let project_id = project_of(ctx, input.public_token.as_deref()).await?;
    let code_challenge = crate::rules::pkce::bounded_challenge(input.pkce_code_challenge.as_deref())?;
    let custom_scopes = bounded_scopes(input.custom_scopes.as_deref())?;
    let params = pass_through(&input.rest)?;
    let target = redirects::required(
        ctx,
        &project_id,
        RedirectType::Discovery,
        input.discovery_redirect_url.as_deref(),
    )
    .await?;
    let p = oauth::provider(ctx, &project_id, provider).await?;
    oauth::start(
        ctx,
        StartRequest {
            project_id: &project_id,
            provider: &p,
            organization_id: None,
            login_redirect_url: target.clone(),
            signup_redirect_url: target,
            code_challenge,
            custom_scopes,
            provider_params: &params,
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct CallbackInput {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The provider's redirect back (GET with `code` and `state`, or an `error`).
pub async fn callback(
    ctx: &Ctx,
    provider_key: &str,
    input: CallbackInput,
    browser_secret: Option<&str>,
) -> CoreResult<Finished> {
    let provider = provider(provider_key)?;
    if let Some(error) = input.error.filter(|e| !e.is_empty()) {
        // The provider refused; the state is used up so the trip cannot be resumed.
        if let Some(state) = input.state.as_deref() {
            let _ = crate::engine::trip::take(ctx, state, browser_secret, OAUTH_INVALID_STATE).await;
        }
        let description = input.error_description.unwrap_or_default();
        let detail: String = format!("{error} {description}").trim().chars().take(256).collect();
        return Err(OAUTH_FLOW_CALLBACK_ERROR.detail(detail));
    }
    oauth::callback(
        ctx,
        provider,
        input.state.as_deref().unwrap_or(""),
        input.code.as_deref().unwrap_or(""),
        browser_secret,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = oauth::AuthenticateInput))]
pub struct AuthenticateInput {
    pub oauth_token: String,
    pub pkce_code_verifier: Option<String>,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

/// What `oauth.authenticate` answers beyond the member and session.
pub struct Authenticated {
    pub view: MemberView,
    pub outcome: Outcome,
    pub registration: OAuthRegistrationRecord,
}

/// The OAuth token to a member (registered, JIT-provisioned when the organization takes the
/// address's domain) and a session, or an intermediate session when MFA or another primary
/// factor is due.
pub async fn authenticate(ctx: &Ctx, project_id: &ProjectId, input: AuthenticateInput) -> CoreResult<Authenticated> {
    check_duration(input.session_duration_minutes)?;
    let session = session::resolve(
        ctx,
        project_id,
        input.session.session_token.as_deref(),
        input.session.session_jwt.as_deref(),
    )
    .await?;
    let token = oauth::redeem(
        ctx,
        project_id,
        &input.oauth_token,
        input.pkce_code_verifier.as_deref(),
        false,
    )
    .await?;
    let org_id = token.organization_id.as_deref().unwrap_or_default();
    let org = organizations::get(ctx, project_id, org_id).await?;
    let (member, registration, moved) = oauth::member_for(ctx, &org, &token).await?;
    // A session presented with the token proved the old address, and ended with it.
    let session = if moved { None } else { session };
    let factor = oauth::factor(
        token.provider,
        &registration.registration_id,
        &registration.subject,
        &member.email_id(),
        &member.email,
        ctx.now(),
    );
    let (member, outcome) = auth_flow::complete(
        ctx,
        PrimaryAuth {
            member,
            org: &org,
            factors: vec![factor],
            session,
            intermediate_session_token: input.session.intermediate_session_token.as_deref(),
            session_duration_minutes: input.session_duration_minutes,
            session_custom_claims: input.session_custom_claims.as_ref(),
            locale: input.locale.as_deref(),
        },
    )
    .await?;
    Ok(Authenticated {
        view: MemberView::load(ctx, member, org).await?,
        outcome,
        registration,
    })
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = oauth::DiscoveryAuthenticateInput))]
pub struct DiscoveryAuthenticateInput {
    pub discovery_oauth_token: String,
    pub pkce_code_verifier: Option<String>,
    /// Accepted as the SDK sends them; the answer carries no session (oauth.md).
    pub session_token: Option<String>,
    pub session_jwt: Option<String>,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
}

pub struct DiscoveryAuthenticated {
    pub result: DiscoveryResult,
    pub provider: OAuthProvider,
    pub full_name: String,
}

/// A discovery OAuth token to an intermediate session that proved the address, and the
/// organizations it can enter.
pub async fn discovery_authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: DiscoveryAuthenticateInput,
) -> CoreResult<DiscoveryAuthenticated> {
    check_duration(input.session_duration_minutes)?;
    let token = oauth::redeem(
        ctx,
        project_id,
        &input.discovery_oauth_token,
        input.pkce_code_verifier.as_deref(),
        true,
    )
    .await?;
    let email = oauth::proven_email(token.provider, &token.identity)?;
    let factors = vec![oauth_factor(token.provider, &token.identity.subject, &email, ctx.now())];
    let result = with_factors(ctx, project_id, &email, factors).await?;
    Ok(DiscoveryAuthenticated {
        result,
        provider: token.provider,
        full_name: token.identity.name.clone().unwrap_or_default(),
    })
}

/// The member's registration at the provider with its latest tokens (refreshed when the access
/// token expired and a refresh token is held); none: `oauth_registration_not_found`.
pub async fn provider_tokens(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    member_locator: &str,
    provider_key: &str,
) -> CoreResult<OAuthRegistrationRecord> {
    let (member, _) = live_member(ctx, project_id, org_locator, member_locator).await?;
    // Slack, HubSpot and GitHub are Stytch providers Latch does not sign in with: no member has
    // a registration there.
    let Some(provider) = OAuthProvider::parse(provider_key) else {
        return Err(OAUTH_REGISTRATION_NOT_FOUND.err());
    };
    let registration = ctx
        .store
        .oauth_registrations(project_id, std::slice::from_ref(&member.member_id))
        .await?
        .into_iter()
        .filter(|r| r.provider == provider)
        .max_by_key(|r| r.updated_at)
        .ok_or_else(|| OAUTH_REGISTRATION_NOT_FOUND.err())?;
    oauth::fresh_tokens(ctx, registration).await
}
