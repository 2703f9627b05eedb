//! `/v1/b2b/sso…` (sso.md) and the browser-facing SSO routes: the public start
//! (`/v1/public/sso/start`) and the provider's callback (`/v1/b2b/sso/callback/{connection_id}`).

use crate::error::ApiResult;
use crate::extract::ApiForm;
use crate::extract::{ApiJson, ApiQuery, AuthProject, MemberAuthorization};
use crate::reply::Reply;
use crate::routes::auth_reply::auth_reply;
use crate::routes::browser;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use latch_core::engine::saml::view as saml_view;
use latch_core::engine::sso::view;
use latch_core::model::saml::SamlConnection;
use latch_core::model::sso::OidcConnection;
use latch_core::service::saml::{self, CreateSamlInput, UpdateByUrlInput, UpdateSamlInput};
use latch_core::service::sso::{
    self, AcsInput, AuthenticateInput, CallbackInput, CreateOidcInput, StartInput, UpdateOidcInput,
};
use serde::Serialize;

/// The cookie that binds a trip to the provider to the browser that started it.
const BROWSER_COOKIE: &str = "latch_sso";

#[derive(Serialize, utoipa::ToSchema)]
struct SsoConnectionsBody<'a> {
    saml_connections: Vec<SamlConnection<'a>>,
    oidc_connections: Vec<OidcConnection<'a>>,
    /// Always empty: Latch has no external connections.
    #[schema(value_type = Vec<Object>)]
    external_connections: [(); 0],
}

#[utoipa::path(
    get,
    path = "/v1/b2b/sso/{organization_id}",
    operation_id = "sso_get_connections",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = SsoConnectionsBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn get_connections(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    let found = sso::get_connections(&s.ctx, p.id(), &org, who.caller()).await?;
    Ok(Reply(SsoConnectionsBody {
        saml_connections: found.saml.iter().map(|c| saml_view(&s.ctx, c)).collect(),
        oidc_connections: found.oidc.iter().map(|c| view(&s.ctx, c)).collect(),
        external_connections: [],
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct SsoConnectionDeleted {
    connection_id: String,
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/sso/{organization_id}/connections/{connection_id}",
    operation_id = "sso_delete_connection",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("connection_id" = String, Path, description = "The SSO connection's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = SsoConnectionDeleted),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_connection(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    sso::delete_connection(&s.ctx, p.id(), &org, &connection_id, who.caller()).await?;
    Ok(Reply(SsoConnectionDeleted { connection_id }).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OidcConnectionBody)]
struct ConnectionBody<'a> {
    connection: OidcConnection<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/sso/oidc/{organization_id}",
    operation_id = "sso_create_oidc",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = CreateOidcInput,
    responses(
        (status = 200, description = "Success", body = ConnectionBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn create_oidc(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
    ApiJson(input): ApiJson<CreateOidcInput>,
) -> ApiResult<Response> {
    let c = sso::create_oidc(&s.ctx, p.id(), &org, input, who.caller()).await?;
    Ok(Reply(ConnectionBody {
        connection: view(&s.ctx, &c),
        warning: None,
    })
    .into_response())
}

#[utoipa::path(
    put,
    path = "/v1/b2b/sso/oidc/{organization_id}/connections/{connection_id}",
    operation_id = "sso_update_oidc",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("connection_id" = String, Path, description = "The SSO connection's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = UpdateOidcInput,
    responses(
        (status = 200, description = "Success", body = ConnectionBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn update_oidc(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<UpdateOidcInput>,
) -> ApiResult<Response> {
    let (c, warning) = sso::update_oidc(&s.ctx, p.id(), &org, &connection_id, input, who.caller()).await?;
    Ok(Reply(ConnectionBody {
        connection: view(&s.ctx, &c),
        warning,
    })
    .into_response())
}

#[utoipa::path(
    post,
    path = "/v1/b2b/sso/authenticate",
    operation_id = "sso_authenticate",
    tag = "sso",
    request_body = AuthenticateInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::auth_reply::Body),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<AuthenticateInput>,
) -> ApiResult<Response> {
    let (v, outcome) = sso::authenticate(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

/// The callback path the binding cookie is sent to.
const CALLBACK_PATH: &str = "/v1/b2b/sso/callback";

/// `GET /v1/public/sso/start`: no project secret; the public token names the project.
#[utoipa::path(
    get,
    path = "/v1/public/sso/start",
    operation_id = "sso_start",
    tag = "sso",
    params(
        StartInput,
    ),
    responses(
        (status = 302, description = "Redirects the browser (`Location`); the body is `{status_code: 302, request_id, redirect_url}`", body = crate::openapi::Redirect),
        crate::openapi::Errors
    ),
)]
pub async fn start(State(s): State<AppState>, ApiQuery(input): ApiQuery<StartInput>) -> ApiResult<Response> {
    let started = sso::start(&s.ctx, input).await?;
    let https = s.ctx.settings.public_url.starts_with("https://");
    let cookie = if started.posted_back {
        browser::posted_binding_cookie(BROWSER_COOKIE, CALLBACK_PATH, &started.browser_secret, https)
    } else {
        browser::binding_cookie(BROWSER_COOKIE, CALLBACK_PATH, &started.browser_secret, https)
    };
    Ok(browser::redirect(&started.authorization_url, Some(cookie)))
}

/// `GET /v1/b2b/sso/callback/{connection_id}`: the provider sends the browser back here.
#[utoipa::path(
    get,
    path = "/v1/b2b/sso/callback/{connection_id}",
    operation_id = "sso_callback",
    tag = "sso",
    params(
        ("connection_id" = String, Path, description = "The SSO connection's id"),
        CallbackInput,
    ),
    responses(
        (status = 302, description = "Redirects the browser (`Location`); the body is `{status_code: 302, request_id, redirect_url}`", body = crate::openapi::Redirect),
        crate::openapi::Errors
    ),
)]
pub async fn callback(
    State(s): State<AppState>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    ApiQuery(input): ApiQuery<CallbackInput>,
) -> ApiResult<Response> {
    let cookie = browser::cookie(&headers, BROWSER_COOKIE);
    let finished = sso::callback(&s.ctx, &connection_id, input, cookie.as_deref()).await?;
    let clear = browser::clearing_cookie(BROWSER_COOKIE, CALLBACK_PATH);
    Ok(browser::redirect(&finished.redirect_url, Some(clear)))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SamlConnectionBody)]
struct SamlBody<'a> {
    connection: SamlConnection<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/sso/saml/{organization_id}",
    operation_id = "sso_create_saml",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = CreateSamlInput,
    responses(
        (status = 200, description = "Success", body = SamlBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn create_saml(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
    ApiJson(input): ApiJson<CreateSamlInput>,
) -> ApiResult<Response> {
    let c = saml::create(&s.ctx, p.id(), &org, input, who.caller()).await?;
    Ok(Reply(SamlBody {
        connection: saml_view(&s.ctx, &c),
    })
    .into_response())
}

#[utoipa::path(
    put,
    path = "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}",
    operation_id = "sso_update_saml",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("connection_id" = String, Path, description = "The SAML connection's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = UpdateSamlInput,
    responses(
        (status = 200, description = "Success", body = SamlBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn update_saml(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<UpdateSamlInput>,
) -> ApiResult<Response> {
    let c = saml::update(&s.ctx, p.id(), &org, &connection_id, input, who.caller()).await?;
    Ok(Reply(SamlBody {
        connection: saml_view(&s.ctx, &c),
    })
    .into_response())
}

#[utoipa::path(
    put,
    path = "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/url",
    operation_id = "sso_update_saml_by_url",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("connection_id" = String, Path, description = "The SAML connection's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = UpdateByUrlInput,
    responses(
        (status = 200, description = "Success", body = SamlBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn update_saml_by_url(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<UpdateByUrlInput>,
) -> ApiResult<Response> {
    let c = saml::update_by_url(&s.ctx, p.id(), &org, &connection_id, input, who.caller()).await?;
    Ok(Reply(SamlBody {
        connection: saml_view(&s.ctx, &c),
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct CertificateDeleted {
    certificate_id: String,
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/verification_certificates/{certificate_id}",
    operation_id = "sso_delete_verification_certificate",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("connection_id" = String, Path, description = "The SAML connection's id"),
        ("certificate_id" = String, Path, description = "The verification certificate's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = CertificateDeleted),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_verification_certificate(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id, certificate_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    saml::delete_verification_certificate(&s.ctx, p.id(), &org, &connection_id, &certificate_id, who.caller()).await?;
    Ok(Reply(CertificateDeleted { certificate_id }).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct EncryptionKeyDeleted {
    private_key_id: String,
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/encryption_private_keys/{private_key_id}",
    operation_id = "sso_delete_encryption_private_key",
    tag = "sso",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("connection_id" = String, Path, description = "The SAML connection's id"),
        ("private_key_id" = String, Path, description = "The encryption private key's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = EncryptionKeyDeleted),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_encryption_private_key(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, connection_id, private_key_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    saml::delete_encryption_private_key(&s.ctx, p.id(), &org, &connection_id, &private_key_id, who.caller()).await?;
    Ok(Reply(EncryptionKeyDeleted { private_key_id }).into_response())
}

/// `POST /v1/b2b/sso/callback/{connection_id}`: a SAML IdP posts its response to the ACS URL.
#[utoipa::path(
    post,
    path = "/v1/b2b/sso/callback/{connection_id}",
    operation_id = "sso_acs",
    tag = "sso",
    params(
        ("connection_id" = String, Path, description = "The SAML connection's id"),
    ),
    request_body(content = AcsInput, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Redirects the browser (`Location`); the body is `{status_code: 302, request_id, redirect_url}`", body = crate::openapi::Redirect),
        crate::openapi::Errors
    ),
)]
pub async fn acs(
    State(s): State<AppState>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    ApiForm(input): ApiForm<AcsInput>,
) -> ApiResult<Response> {
    let cookie = browser::cookie(&headers, BROWSER_COOKIE);
    let finished = sso::acs(&s.ctx, &connection_id, input, cookie.as_deref()).await?;
    let clear = browser::clearing_cookie(BROWSER_COOKIE, CALLBACK_PATH);
    Ok(browser::redirect(&finished.redirect_url, Some(clear)))
}

/// `GET /v1/b2b/sso/saml/metadata/{connection_id}`: the SP metadata an IdP is configured from.
#[utoipa::path(
    get,
    path = "/v1/b2b/sso/saml/metadata/{connection_id}",
    operation_id = "sso_saml_metadata",
    tag = "sso",
    params(
        ("connection_id" = String, Path, description = "The SAML connection's id"),
    ),
    responses(
        (status = 200, description = "The SP metadata (an md:EntityDescriptor)", body = String, content_type = "application/samlmetadata+xml"),
        crate::openapi::Errors
    ),
)]
pub async fn saml_metadata(State(s): State<AppState>, Path(connection_id): Path<String>) -> ApiResult<Response> {
    let xml = latch_core::engine::saml::sp_metadata(&s.ctx, &connection_id).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/samlmetadata+xml")],
        xml,
    )
        .into_response())
}
