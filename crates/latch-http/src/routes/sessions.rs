//! `/v1/b2b/sessions…`: sessions.md.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthProject, MemberAuthorization};
use crate::reply::Reply;
use crate::routes::auth_reply::auth_reply;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use latch_core::ids::ProjectId;
use latch_core::model::member::Member;
use latch_core::model::organization::Organization;
use latch_core::model::session::MemberSession;
use latch_core::service::sessions::{self, AuthenticateInput, ExchangeInput, RevokeInput, Verdict};
use latch_core::token::keyring::Jwk;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    organization_id: String,
    member_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct MemberSessionsBody<'a> {
    member_sessions: Vec<MemberSession<'a>>,
}

#[utoipa::path(
    get,
    path = "/v1/b2b/sessions",
    operation_id = "sessions_get",
    tag = "sessions",
    params(
        GetQuery,
    ),
    responses(
        (status = 200, description = "Success", body = MemberSessionsBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn get(State(s): State<AppState>, p: AuthProject, ApiQuery(q): ApiQuery<GetQuery>) -> ApiResult<Response> {
    let found = sessions::list(&s.ctx, p.id(), &q.organization_id, &q.member_id).await?;
    let member_sessions = found
        .sessions
        .iter()
        .map(|x| sessions::view(x, found.roles.clone(), &found.organization_slug))
        .collect();
    Ok(Reply(MemberSessionsBody { member_sessions }).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = sessions::AuthenticateBody)]
struct AuthenticateBody<'a> {
    member_session: MemberSession<'a>,
    session_token: &'a str,
    session_jwt: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<&'a Verdict>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/sessions/authenticate",
    operation_id = "sessions_authenticate",
    tag = "sessions",
    request_body = AuthenticateInput,
    responses(
        (status = 200, description = "Success", body = AuthenticateBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<AuthenticateInput>,
) -> ApiResult<Response> {
    let a = sessions::authenticate(&s.ctx, p.id(), input).await?;
    Ok(Reply(AuthenticateBody {
        member_session: a.issued.member_session(),
        session_token: &a.issued.session_token,
        session_jwt: &a.issued.session_jwt,
        member: a.member.member_json(),
        organization: a.member.organization.view(),
        verdict: a.verdict.as_ref(),
    })
    .into_response())
}

#[utoipa::path(
    post,
    path = "/v1/b2b/sessions/revoke",
    operation_id = "sessions_revoke",
    tag = "sessions",
    params(
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = RevokeInput,
    responses(
        (status = 200, description = "Success", body = crate::openapi::Empty),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn revoke(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    ApiJson(input): ApiJson<RevokeInput>,
) -> ApiResult<Reply<serde_json::Map<String, serde_json::Value>>> {
    sessions::revoke(&s.ctx, p.id(), input, who.caller()).await?;
    Ok(Reply(serde_json::Map::new()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JwksBody {
    keys: Vec<Jwk>,
}

/// Public: the SDKs' JWT verifiers fetch it without credentials. Keys are only ever created
/// for projects that exist, so unknown ids cannot make the server generate keys.
#[utoipa::path(
    get,
    path = "/v1/b2b/sessions/jwks/{project_id}",
    operation_id = "sessions_jwks",
    tag = "sessions",
    params(
        ("project_id" = String, Path, description = "The project's id"),
    ),
    responses(
        (status = 200, description = "Success", body = JwksBody),
        crate::openapi::Errors
    ),
)]
pub async fn jwks(State(s): State<AppState>, Path(project_id): Path<ProjectId>) -> ApiResult<Reply<JwksBody>> {
    if s.ctx.store.get_project(&project_id).await?.is_none() {
        return Err(ApiError::Core(latch_core::error::catalogue::PROJECT_NOT_FOUND.err()));
    }
    Ok(Reply(JwksBody {
        keys: s.ctx.keyring.jwks(&project_id).await?,
    }))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/sessions/exchange",
    operation_id = "sessions_exchange",
    tag = "sessions",
    request_body = ExchangeInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::auth_reply::Body),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn exchange(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<ExchangeInput>,
) -> ApiResult<Response> {
    let (v, outcome) = sessions::exchange(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

/// `/v1/b2b/sessions/exchange_access_token`: Connected Apps access-token exchange is not built yet; the answer says so (501).
#[utoipa::path(
    post,
    path = "/v1/b2b/sessions/exchange_access_token",
    operation_id = "sessions_exchange_access_token",
    tag = "sessions",
    responses(
        (status = 501, description = "Not supported by this version of Latch", body = crate::openapi::StytchError),
        crate::openapi::Errors
    ),
)]
pub async fn exchange_access_token(uri: axum::http::Uri) -> ApiError {
    crate::routes::not_supported(uri).await
}

/// `/v1/b2b/sessions/attest`: trusted auth token attestation is not built yet; the answer says so (501).
#[utoipa::path(
    post,
    path = "/v1/b2b/sessions/attest",
    operation_id = "sessions_attest",
    tag = "sessions",
    responses(
        (status = 501, description = "Not supported by this version of Latch", body = crate::openapi::StytchError),
        crate::openapi::Errors
    ),
)]
pub async fn attest(uri: axum::http::Uri) -> ApiError {
    crate::routes::not_supported(uri).await
}

/// `/v1/b2b/sessions/migrate`: external session migration is not built yet; the answer says so (501).
#[utoipa::path(
    post,
    path = "/v1/b2b/sessions/migrate",
    operation_id = "sessions_migrate",
    tag = "sessions",
    responses(
        (status = 501, description = "Not supported by this version of Latch", body = crate::openapi::StytchError),
        crate::openapi::Errors
    ),
)]
pub async fn migrate(uri: axum::http::Uri) -> ApiError {
    crate::routes::not_supported(uri).await
}
