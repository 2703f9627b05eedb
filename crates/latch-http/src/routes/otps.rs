//! `/v1/b2b/otps…`: otps.md.

use crate::client_addr::ResolvedClient;
use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthProject};
use crate::reply::Reply;
use crate::routes::auth_reply::auth_reply;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use latch_core::model::member::Member;
use latch_core::model::organization::Organization;
use latch_core::model::session::MemberSession;
use latch_core::service::otps::{self, EmailAuthenticateInput, LoginOrSignupInput, SmsAuthenticateInput, SmsSendInput};
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
struct EmailOtpSentBody<'a> {
    member_id: &'a str,
    member_created: bool,
    member: Member<'a>,
    organization: Organization<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/otps/email/login_or_signup",
    operation_id = "otps_email_login_or_signup",
    tag = "otps",
    request_body = LoginOrSignupInput,
    responses(
        (status = 200, description = "Success", body = EmailOtpSentBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn email_login_or_signup(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<LoginOrSignupInput>,
) -> ApiResult<Response> {
    let ip = client.map(|c| c.0.ip());
    let (v, created) = otps::email_login_or_signup(&s.ctx, p.id(), input, ip.as_ref()).await?;
    Ok(Reply(EmailOtpSentBody {
        member_id: &v.member.member_id,
        member_created: created,
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response())
}

#[utoipa::path(
    post,
    path = "/v1/b2b/otps/email/authenticate",
    operation_id = "otps_email_authenticate",
    tag = "otps",
    request_body = EmailAuthenticateInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::auth_reply::Body),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn email_authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<EmailAuthenticateInput>,
) -> ApiResult<Response> {
    let (v, outcome) = otps::email_authenticate(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

#[derive(Serialize, utoipa::ToSchema)]
struct SmsSentBody<'a> {
    member_id: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/otps/sms/send",
    operation_id = "otps_sms_send",
    tag = "otps",
    request_body = SmsSendInput,
    responses(
        (status = 200, description = "Success", body = SmsSentBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn sms_send(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<SmsSendInput>,
) -> ApiResult<Response> {
    let ip = client.map(|c| c.0.ip());
    let v = otps::sms_send(&s.ctx, p.id(), input, ip.as_ref()).await?;
    Ok(Reply(SmsSentBody {
        member_id: &v.member.member_id,
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct SmsAuthenticatedBody<'a> {
    member_id: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
    session_token: &'a str,
    session_jwt: &'a str,
    member_session: MemberSession<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/otps/sms/authenticate",
    operation_id = "otps_sms_authenticate",
    tag = "otps",
    request_body = SmsAuthenticateInput,
    responses(
        (status = 200, description = "Success", body = SmsAuthenticatedBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn sms_authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<SmsAuthenticateInput>,
) -> ApiResult<Response> {
    let (v, issued) = otps::sms_authenticate(&s.ctx, p.id(), input).await?;
    Ok(Reply(SmsAuthenticatedBody {
        member_id: &v.member.member_id,
        member: v.member_json(),
        organization: v.organization.view(),
        session_token: &issued.session_token,
        session_jwt: &issued.session_jwt,
        member_session: issued.member_session(),
    })
    .into_response())
}
