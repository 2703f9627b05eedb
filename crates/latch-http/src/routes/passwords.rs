//! `/v1/b2b/passwords…`: passwords.md.

use crate::client_addr::ResolvedClient;
use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthProject, MemberAuthorization};
use crate::reply::Reply;
use crate::routes::auth_reply::auth_reply;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use latch_core::model::member::Member;
use latch_core::model::organization::Organization;
use latch_core::password::policy::StrengthReport;
use latch_core::service::members::MemberView;
use latch_core::service::password_resets::{
    self, ByEmailInput, DiscoveryResetInput, DiscoveryResetStartInput, ExistingResetInput, ResetInput, ResetStartInput,
    SessionResetInput,
};
use latch_core::service::passwords::{self, AuthenticateInput, DiscoveryAuthenticateInput, MigrateInput};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = passwords::StrengthInput)]
pub struct StrengthInput {
    password: latch_core::password::GivenPassword,
    email_address: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/strength_check",
    operation_id = "passwords_strength_check",
    tag = "passwords",
    request_body = StrengthInput,
    responses(
        (status = 200, description = "Success", body = StrengthReport),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn strength_check(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<StrengthInput>,
) -> ApiResult<Reply<StrengthReport>> {
    Ok(Reply(
        passwords::strength_check(&s.ctx, p.id(), &input.password, input.email_address.as_deref()).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
struct MigrateBody<'a> {
    member_id: &'a str,
    member_created: bool,
    member: Member<'a>,
    organization: Organization<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/migrate",
    operation_id = "passwords_migrate",
    tag = "passwords",
    request_body = MigrateInput,
    responses(
        (status = 200, description = "Success", body = MigrateBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn migrate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<MigrateInput>,
) -> ApiResult<Response> {
    let (v, created) = passwords::migrate(&s.ctx, p.id(), input).await?;
    Ok(Reply(MigrateBody {
        member_id: &v.member.member_id,
        member_created: created,
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response())
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/authenticate",
    operation_id = "passwords_authenticate",
    tag = "passwords",
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
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<AuthenticateInput>,
) -> ApiResult<Response> {
    let ip = client.map(|c| c.0.ip());
    let (v, outcome) = passwords::authenticate(&s.ctx, p.id(), input, ip.as_ref()).await?;
    Ok(auth_reply(&v, &outcome))
}

#[derive(Serialize, utoipa::ToSchema)]
struct MemberWithEmail<'a> {
    member_id: &'a str,
    member_email_id: String,
    member: Member<'a>,
    organization: Organization<'a>,
}

fn member_with_email(v: &MemberView) -> Response {
    Reply(MemberWithEmail {
        member_id: &v.member.member_id,
        member_email_id: v.member.email_id(),
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response()
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/email/reset/start",
    operation_id = "passwords_reset_start",
    tag = "passwords",
    request_body = ResetStartInput,
    responses(
        (status = 200, description = "Success", body = MemberWithEmail),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn reset_start(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<ResetStartInput>,
) -> ApiResult<Response> {
    let ip = client.map(|c| c.0.ip());
    Ok(member_with_email(
        &password_resets::reset_start(&s.ctx, p.id(), input, ip.as_ref()).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/email/reset",
    operation_id = "passwords_reset",
    tag = "passwords",
    request_body = ResetInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::auth_reply::Body),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn reset(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<ResetInput>,
) -> ApiResult<Response> {
    let (v, outcome) = password_resets::reset_by_email(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/session/reset",
    operation_id = "passwords_session_reset",
    tag = "passwords",
    request_body = SessionResetInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::auth_reply::Body),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn session_reset(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<SessionResetInput>,
) -> ApiResult<Response> {
    let (v, outcome) = password_resets::reset_by_session(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/existing_password/reset",
    operation_id = "passwords_existing_password_reset",
    tag = "passwords",
    request_body = ExistingResetInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::auth_reply::Body),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn existing_password_reset(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<ExistingResetInput>,
) -> ApiResult<Response> {
    let ip = client.map(|c| c.0.ip());
    let (v, outcome) = password_resets::reset_existing(&s.ctx, p.id(), input, ip.as_ref()).await?;
    Ok(auth_reply(&v, &outcome))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/email/require_reset",
    operation_id = "passwords_require_reset",
    tag = "passwords",
    params(
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = ByEmailInput,
    responses(
        (status = 200, description = "Success", body = MemberWithEmail),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn require_reset(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    ApiJson(input): ApiJson<ByEmailInput>,
) -> ApiResult<Response> {
    Ok(member_with_email(
        &password_resets::require_reset(&s.ctx, p.id(), input, who.caller()).await?,
    ))
}

/// `POST /v1/b2b/passwords/email/delete` (the seeds' SDK; dropped from the current SDKs).
#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/email/delete",
    operation_id = "passwords_delete_by_email",
    tag = "passwords",
    params(
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = ByEmailInput,
    responses(
        (status = 200, description = "Success", body = MemberWithEmail),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_by_email(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    ApiJson(input): ApiJson<ByEmailInput>,
) -> ApiResult<Response> {
    Ok(member_with_email(
        &password_resets::delete_by_email(&s.ctx, p.id(), input, who.caller()).await?,
    ))
}

/// Cross-organization discovery login (when the project enables cross-org passwords).
#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/discovery/authenticate",
    operation_id = "passwords_discovery_authenticate",
    tag = "passwords",
    request_body = DiscoveryAuthenticateInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::discovery::DiscoveryBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn discovery_authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<DiscoveryAuthenticateInput>,
) -> ApiResult<Response> {
    let ip = client.map(|c| c.0.ip());
    Ok(crate::routes::discovery::discovery_reply(
        &passwords::discovery_authenticate(&s.ctx, p.id(), input, ip.as_ref()).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/discovery/email/reset/start",
    operation_id = "passwords_discovery_reset_start",
    tag = "passwords",
    request_body = DiscoveryResetStartInput,
    responses(
        (status = 200, description = "Success", body = crate::openapi::Empty),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn discovery_reset_start(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<DiscoveryResetStartInput>,
) -> ApiResult<Reply<serde_json::Map<String, serde_json::Value>>> {
    let ip = client.map(|c| c.0.ip());
    password_resets::discovery_reset_start(&s.ctx, p.id(), input, ip.as_ref()).await?;
    Ok(Reply(serde_json::Map::new()))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/passwords/discovery/email/reset",
    operation_id = "passwords_discovery_reset",
    tag = "passwords",
    request_body = DiscoveryResetInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::discovery::DiscoveryBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn discovery_reset(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<DiscoveryResetInput>,
) -> ApiResult<Response> {
    Ok(crate::routes::discovery::discovery_reply(
        &password_resets::discovery_reset(&s.ctx, p.id(), input).await?,
    ))
}
