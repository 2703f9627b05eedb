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

#[derive(Deserialize)]
pub struct StrengthInput {
    password: latch_core::password::GivenPassword,
    email_address: Option<String>,
}

pub async fn strength_check(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<StrengthInput>,
) -> ApiResult<Reply<StrengthReport>> {
    Ok(Reply(
        passwords::strength_check(&s.ctx, p.id(), &input.password, input.email_address.as_deref()).await?,
    ))
}

pub async fn migrate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<MigrateInput>,
) -> ApiResult<Response> {
    let (v, created) = passwords::migrate(&s.ctx, p.id(), input).await?;
    #[derive(Serialize)]
    struct Body<'a> {
        member_id: &'a str,
        member_created: bool,
        member: Member<'a>,
        organization: Organization<'a>,
    }
    Ok(Reply(Body {
        member_id: &v.member.member_id,
        member_created: created,
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response())
}

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

#[derive(Serialize)]
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

pub async fn reset(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<ResetInput>,
) -> ApiResult<Response> {
    let (v, outcome) = password_resets::reset_by_email(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

pub async fn session_reset(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<SessionResetInput>,
) -> ApiResult<Response> {
    let (v, outcome) = password_resets::reset_by_session(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

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

pub async fn discovery_reset(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<DiscoveryResetInput>,
) -> ApiResult<Response> {
    Ok(crate::routes::discovery::discovery_reply(
        &password_resets::discovery_reset(&s.ctx, p.id(), input).await?,
    ))
}
