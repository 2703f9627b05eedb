//! `/v1/b2b/totp…` and `/v1/b2b/recovery_codes…`: totps.md, recovery_codes.md.

use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthProject};
use crate::reply::Reply;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use latch_core::model::member::Member;
use latch_core::model::organization::Organization;
use latch_core::model::session::MemberSession;
use latch_core::service::members::MemberView;
use latch_core::service::sessions::Issued;
use latch_core::service::totps::{self, AuthenticateInput, CreateInput, MigrateInput, RecoverInput};
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = totps::SessionBody)]
struct SessionBody<'a> {
    member_id: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
    session_token: &'a str,
    session_jwt: &'a str,
    member_session: MemberSession<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes_remaining: Option<usize>,
}

fn session_reply(v: &MemberView, issued: &Issued, remaining: Option<usize>) -> Response {
    Reply(SessionBody {
        member_id: &v.member.member_id,
        member: v.member_json(),
        organization: v.organization.view(),
        session_token: &issued.session_token,
        session_jwt: &issued.session_jwt,
        member_session: issued.member_session(),
        recovery_codes_remaining: remaining,
    })
    .into_response()
}

#[derive(Serialize, utoipa::ToSchema)]
struct CodesBody<'a> {
    member_id: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    totp_registration_id: Option<&'a str>,
    recovery_codes: &'a [String],
}

fn codes_reply(v: &MemberView, totp_id: Option<&str>, codes: &[String]) -> Response {
    Reply(CodesBody {
        member_id: &v.member.member_id,
        member: v.member_json(),
        organization: v.organization.view(),
        totp_registration_id: totp_id,
        recovery_codes: codes,
    })
    .into_response()
}

#[derive(Serialize, utoipa::ToSchema)]
struct TotpCreatedBody<'a> {
    member_id: &'a str,
    totp_registration_id: &'a str,
    secret: &'a str,
    qr_code: &'a str,
    otpauth_url: &'a str,
    recovery_codes: &'a [String],
    member: Member<'a>,
    organization: Organization<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/totp",
    operation_id = "totps_create",
    tag = "totps",
    request_body = CreateInput,
    responses(
        (status = 200, description = "Success", body = TotpCreatedBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn create(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<CreateInput>,
) -> ApiResult<Response> {
    let c = totps::create(&s.ctx, p.id(), input).await?;
    Ok(Reply(TotpCreatedBody {
        member_id: &c.view.member.member_id,
        totp_registration_id: &c.totp_registration_id,
        secret: &c.secret,
        qr_code: &c.qr_code,
        otpauth_url: &c.otpauth_url,
        recovery_codes: &c.recovery_codes,
        member: c.view.member_json(),
        organization: c.view.organization.view(),
    })
    .into_response())
}

#[utoipa::path(
    post,
    path = "/v1/b2b/totp/authenticate",
    operation_id = "totps_authenticate",
    tag = "totps",
    request_body = AuthenticateInput,
    responses(
        (status = 200, description = "Success", body = SessionBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<AuthenticateInput>,
) -> ApiResult<Response> {
    let (v, issued) = totps::authenticate(&s.ctx, p.id(), input).await?;
    Ok(session_reply(&v, &issued, None))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/totp/migrate",
    operation_id = "totps_migrate",
    tag = "totps",
    request_body = MigrateInput,
    responses(
        (status = 200, description = "Success", body = CodesBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn migrate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<MigrateInput>,
) -> ApiResult<Response> {
    let (v, totp_id, codes) = totps::migrate(&s.ctx, p.id(), input).await?;
    Ok(codes_reply(&v, Some(&totp_id), &codes))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/recovery_codes/recover",
    operation_id = "totps_recover",
    tag = "totps",
    request_body = RecoverInput,
    responses(
        (status = 200, description = "Success", body = SessionBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn recover(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<RecoverInput>,
) -> ApiResult<Response> {
    let (v, issued, remaining) = totps::recover(&s.ctx, p.id(), input).await?;
    Ok(session_reply(&v, &issued, Some(remaining)))
}

#[utoipa::path(
    get,
    path = "/v1/b2b/recovery_codes/{organization_id}/{member_id}",
    operation_id = "totps_get_codes",
    tag = "totps",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
    ),
    responses(
        (status = 200, description = "Success", body = CodesBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn get_codes(
    State(s): State<AppState>,
    p: AuthProject,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (v, codes) = totps::list_codes(&s.ctx, p.id(), &org, &member).await?;
    Ok(codes_reply(&v, None, &codes))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = totps::RotateInput)]
pub struct RotateInput {
    organization_id: String,
    member_id: String,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/recovery_codes/rotate",
    operation_id = "totps_rotate",
    tag = "totps",
    request_body = RotateInput,
    responses(
        (status = 200, description = "Success", body = CodesBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn rotate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<RotateInput>,
) -> ApiResult<Response> {
    let (v, codes) = totps::rotate(&s.ctx, p.id(), &input.organization_id, &input.member_id).await?;
    Ok(codes_reply(&v, None, &codes))
}
