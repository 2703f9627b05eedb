//! SSO (sso.md): OIDC connections of an organization, the public start and the provider's
//! callback of the browser flow, and `sso.authenticate`.
//!
//! Reading connections needs `update` on `stytch.sso` with a member session (the answer carries
//! each connection's client secret, as Stytch's does); create, update and delete need their own
//! action.

use crate::engine::actor::Caller;
use crate::engine::auth_flow::{Outcome, PrimaryAuth};
use crate::engine::members::MemberView;
use crate::engine::sso::{self, StartRequest};
use crate::engine::{auth_flow, organizations, redirects, saml, session, Ctx};
use crate::error::catalogue::*;
use crate::error::{CoreError, CoreResult};
use crate::ids;
use crate::ids::{OrganizationId, ProjectId};
use crate::model::organization::OrgRecord;
use crate::model::saml::SamlConnectionRecord;
use crate::model::session::AuthFactor;
use crate::model::sso::OidcConnectionRecord;
use crate::rules::args::SessionArgs;
use crate::rules::session::check_duration;
use crate::rules::sso_config::{check_display_name, identity_provider, provider_url};
use crate::settings::RedirectType;
use serde::Deserialize;
use serde_json::{Map, Value};

const SSO: &str = "stytch.sso";

pub struct Connections {
    pub organization: OrgRecord,
    pub saml: Vec<SamlConnectionRecord>,
    pub oidc: Vec<OidcConnectionRecord>,
}

pub async fn get_connections(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    caller: &Caller,
) -> CoreResult<Connections> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    caller.require(&org.organization_id, SSO, "update")?;
    let saml = ctx.store.saml_connections(project_id, &org.organization_id).await?;
    let oidc = ctx.store.oidc_connections(project_id, &org.organization_id).await?;
    Ok(Connections {
        organization: org,
        saml,
        oidc,
    })
}

pub async fn delete_connection(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    caller: &Caller,
) -> CoreResult<()> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SSO, "delete")?;
    sso::delete_connection(ctx, &grant, &org, connection_id).await
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::CreateOidcInput))]
pub struct CreateOidcInput {
    pub display_name: Option<String>,
    pub identity_provider: Option<String>,
}

/// A pending connection; Latch assigns its id and callback URL.
pub async fn create_oidc(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    input: CreateOidcInput,
    caller: &Caller,
) -> CoreResult<OidcConnectionRecord> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SSO, "create")?;
    let name = input.display_name.unwrap_or_default();
    check_display_name(&name)?;
    let provider = identity_provider(input.identity_provider)?.unwrap_or_else(|| "generic".into());
    let now = ctx.now();
    let c = OidcConnectionRecord {
        connection_id: ids::oidc_connection_id(),
        project_id: project_id.clone(),
        organization_id: org.organization_id.clone(),
        display_name: name,
        identity_provider: provider,
        issuer: String::new(),
        client_id: String::new(),
        client_secret: String::new(),
        authorization_url: String::new(),
        token_url: String::new(),
        userinfo_url: String::new(),
        jwks_url: String::new(),
        custom_scopes: String::new(),
        attribute_mapping: Map::new(),
        created_at: now,
        updated_at: now,
    };
    sso::save_connection(ctx, &grant, &org, &c).await?;
    Ok(c)
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::UpdateOidcInput))]
pub struct UpdateOidcInput {
    pub display_name: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub issuer: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub jwks_url: Option<String>,
    pub identity_provider: Option<String>,
    pub custom_scopes: Option<String>,
    pub attribute_mapping: Option<Value>,
}

/// Updates a connection. When `issuer` changes, the provider's endpoints are read from its
/// discovery document; endpoints given in the request win. A document that cannot be read is
/// a `warning`, not a failure (as on Stytch).
pub async fn update_oidc(
    ctx: &Ctx,
    project_id: &ProjectId,
    org_locator: &str,
    connection_id: &str,
    input: UpdateOidcInput,
    caller: &Caller,
) -> CoreResult<(OidcConnectionRecord, Option<String>)> {
    let org = organizations::get(ctx, project_id, org_locator).await?;
    let grant = caller.require(&org.organization_id, SSO, "update")?;
    let mut c = sso::connection(ctx, &org, connection_id).await?;
    let urls = [
        (OIDC_CONNECTION_ISSUER_INVALID_FORMAT, &input.issuer),
        (
            OIDC_CONNECTION_AUTHORIZATION_URL_INVALID_FORMAT,
            &input.authorization_url,
        ),
        (OIDC_CONNECTION_TOKEN_URL_INVALID_FORMAT, &input.token_url),
        (OIDC_CONNECTION_USERINFO_URL_INVALID_FORMAT, &input.userinfo_url),
        (OIDC_CONNECTION_JWKS_URL_INVALID_FORMAT, &input.jwks_url),
    ];
    for (error, value) in urls {
        if let Some(v) = value {
            provider_url(error, v)?;
        }
    }
    if let Some(name) = &input.display_name {
        check_display_name(name)?;
    }
    let provider = identity_provider(input.identity_provider)?;
    let mapping = match input.attribute_mapping {
        None => None,
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Some(m),
        Some(_) => {
            return Err(CoreError::argument(
                "attribute_mapping",
                "must be an object of strings (Latch name → provider claim)",
            ))
        }
    };
    for (field, v) in [("client_id", &input.client_id), ("client_secret", &input.client_secret)] {
        if v.as_ref().is_some_and(|v| v.len() > 4096) {
            return Err(CoreError::argument(field, "must be at most 4096 characters"));
        }
    }
    let mut warning = None;
    if let Some(issuer) = input.issuer.as_deref().filter(|i| !i.is_empty() && *i != c.issuer) {
        match ctx.oidc.discover(issuer).await {
            Ok(found) => {
                c.authorization_url = found.authorization_url;
                c.token_url = found.token_url;
                c.userinfo_url = found.userinfo_url;
                c.jwks_url = found.jwks_url;
            }
            Err(why) => {
                warning = Some(format!(
                    "The provider's metadata could not be read from the issuer: {why}"
                ))
            }
        }
    }
    let set = |field: &mut String, v: Option<String>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut c.display_name, input.display_name);
    set(&mut c.client_id, input.client_id);
    set(&mut c.client_secret, input.client_secret);
    set(&mut c.issuer, input.issuer);
    set(&mut c.authorization_url, input.authorization_url);
    set(&mut c.token_url, input.token_url);
    set(&mut c.userinfo_url, input.userinfo_url);
    set(&mut c.jwks_url, input.jwks_url);
    set(&mut c.identity_provider, provider);
    // The docstring asks for %20 between scopes although the value travels in JSON: take both.
    set(&mut c.custom_scopes, input.custom_scopes.map(|s| s.replace("%20", " ")));
    if let Some(m) = mapping {
        c.attribute_mapping = m;
    }
    c.updated_at = ctx.now();
    sso::save_connection(ctx, &grant, &org, &c).await?;
    Ok((c, warning))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct StartInput {
    pub public_token: Option<String>,
    pub connection_id: Option<String>,
    pub organization_id: Option<OrganizationId>,
    pub login_redirect_url: Option<String>,
    pub signup_redirect_url: Option<String>,
    pub pkce_code_challenge: Option<String>,
    pub custom_scopes: Option<String>,
}

/// The public start of an SSO login: the connection (named, or the organization's default)
/// of the project the public token names, and where the browser comes back to.
pub async fn start(ctx: &Ctx, input: StartInput) -> CoreResult<sso::Started> {
    let token = input
        .public_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| INVALID_PUBLIC_TOKEN.err())?;
    let project_id = ctx
        .store
        .project_of_public_token(&token)
        .await?
        .ok_or_else(|| INVALID_PUBLIC_TOKEN.err())?;
    crate::engine::audit::project(&project_id);
    let connection_id = match (
        input.connection_id.filter(|s| !s.is_empty()),
        input.organization_id.filter(|s| !s.is_empty()),
    ) {
        (Some(_), Some(_)) => return Err(TOO_MANY_SSO_CONNECTION_LOCATORS.err()),
        (None, None) => return Err(MISSING_SSO_CONNECTION_LOCATOR.err()),
        (Some(id), None) => id,
        (None, Some(locator)) => {
            let org = organizations::get(ctx, &project_id, &locator).await?;
            org.settings
                .sso_default_connection_id
                .clone()
                .ok_or_else(|| NO_SSO_CONNECTION_EXISTS_FOR_ORGANIZATION.err())?
        }
    };
    let code_challenge = crate::rules::pkce::bounded_challenge(input.pkce_code_challenge.as_deref())?;
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
    if saml::is_saml(&connection_id) {
        let connection = ctx
            .store
            .saml_connection(&project_id, &connection_id)
            .await?
            .ok_or_else(sso::connection_not_found)?;
        return saml::start(
            ctx,
            saml::StartRequest {
                connection: &connection,
                login_redirect_url: login,
                signup_redirect_url: signup,
                code_challenge,
            },
        )
        .await;
    }
    let connection = ctx
        .store
        .oidc_connection(&project_id, &connection_id)
        .await?
        .ok_or_else(sso::connection_not_found)?;
    sso::start(
        ctx,
        StartRequest {
            connection: &connection,
            login_redirect_url: login,
            signup_redirect_url: signup,
            code_challenge,
            custom_scopes: input.custom_scopes.as_deref(),
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::AcsInput))]
pub struct AcsInput {
    #[serde(rename = "SAMLResponse")]
    pub saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    pub relay_state: Option<String>,
}

/// The IdP's POST of a SAMLResponse to a SAML connection's ACS URL.
pub async fn acs(
    ctx: &Ctx,
    connection_id: &str,
    input: AcsInput,
    browser_secret: Option<&str>,
) -> CoreResult<sso::Finished> {
    saml::consume(
        ctx,
        connection_id,
        input.saml_response.as_deref().unwrap_or(""),
        input.relay_state.as_deref().unwrap_or(""),
        browser_secret,
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
    connection_id: &str,
    input: CallbackInput,
    browser_secret: Option<&str>,
) -> CoreResult<sso::Finished> {
    if let Some(error) = input.error.filter(|e| !e.is_empty()) {
        // The provider refused; the state is used up so the trip cannot be resumed.
        if let Some(state) = input.state.as_deref() {
            let _ = sso::callback(ctx, connection_id, state, "", browser_secret).await;
        }
        let description = input.error_description.unwrap_or_default();
        return Err(OIDC_PROVIDER_ERROR.detail(format!("{error} {description}").trim()));
    }
    sso::callback(
        ctx,
        connection_id,
        input.state.as_deref().unwrap_or(""),
        input.code.as_deref().unwrap_or(""),
        browser_secret,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = sso::AuthenticateInput))]
pub struct AuthenticateInput {
    pub sso_token: String,
    pub pkce_code_verifier: Option<String>,
    #[serde(flatten)]
    pub session: SessionArgs,
    pub session_duration_minutes: Option<i64>,
    pub session_custom_claims: Option<Value>,
    pub locale: Option<String>,
    pub telemetry_id: Option<String>,
}

/// The SSO token to a member (registered, JIT-provisioned when allowed) and a session, or an
/// intermediate session when MFA or another primary factor is due.
pub async fn authenticate(
    ctx: &Ctx,
    project_id: &ProjectId,
    input: AuthenticateInput,
) -> CoreResult<(MemberView, Outcome)> {
    check_duration(input.session_duration_minutes)?;
    let session = session::resolve(
        ctx,
        project_id,
        input.session.session_token.as_deref(),
        input.session.session_jwt.as_deref(),
    )
    .await?;
    let token = sso::redeem(ctx, project_id, &input.sso_token, input.pkce_code_verifier.as_deref()).await?;
    let org = organizations::get(ctx, project_id, &token.organization_id).await?;
    let (member, registration, moved) = sso::member_for(ctx, &org, &token).await?;
    // A session presented with the token proved the old address, and ended with it.
    let session = if moved { None } else { session };
    let factor_of = if saml::is_saml(&registration.connection_id) {
        AuthFactor::sso_saml
    } else {
        AuthFactor::sso_oidc
    };
    let factor = factor_of(
        &registration.registration_id,
        &registration.connection_id,
        &registration.external_id,
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
    Ok((MemberView::load(ctx, member, org).await?, outcome))
}
