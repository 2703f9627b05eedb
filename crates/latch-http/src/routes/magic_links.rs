//! `/v1/b2b/magic_links…`: magic_links.md.

use crate::client_addr::ResolvedClient;
use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthProject, MemberAuthorization};
use crate::reply::Reply;
use crate::routes::auth_reply::auth_reply;
use crate::routes::discovery::discovery_reply;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use latch_core::model::member::Member;
use latch_core::model::organization::Organization;
use latch_core::service::magic_links::{
    self, AuthenticateInput, DiscoveryAuthenticateInput, DiscoverySendInput, InviteInput, LoginOrSignupInput,
};
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = magic_links::MemberBody)]
struct MemberBody<'a> {
    member_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    member_created: Option<bool>,
    member: Member<'a>,
    organization: Organization<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/magic_links/email/login_or_signup",
    operation_id = "magic_links_login_or_signup",
    tag = "magic_links",
    request_body = LoginOrSignupInput,
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn login_or_signup(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<LoginOrSignupInput>,
) -> ApiResult<Response> {
    let ip = client.map(|c| c.0.ip());
    let (v, created) = magic_links::login_or_signup(&s.ctx, p.id(), input, ip.as_ref()).await?;
    Ok(Reply(MemberBody {
        member_id: &v.member.member_id,
        member_created: Some(created),
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response())
}

#[utoipa::path(
    post,
    path = "/v1/b2b/magic_links/email/invite",
    operation_id = "magic_links_invite",
    tag = "magic_links",
    params(
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = InviteInput,
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn invite(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<InviteInput>,
) -> ApiResult<Response> {
    let ip = client.map(|c| c.0.ip());
    let v = magic_links::invite(&s.ctx, p.id(), input, who.caller(), ip.as_ref()).await?;
    Ok(Reply(MemberBody {
        member_id: &v.member.member_id,
        member_created: None,
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response())
}

#[utoipa::path(
    post,
    path = "/v1/b2b/magic_links/authenticate",
    operation_id = "magic_links_authenticate",
    tag = "magic_links",
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
    let (v, outcome) = magic_links::authenticate(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/magic_links/email/discovery/send",
    operation_id = "magic_links_discovery_send",
    tag = "magic_links",
    request_body = DiscoverySendInput,
    responses(
        (status = 200, description = "Success", body = crate::openapi::Empty),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn discovery_send(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<DiscoverySendInput>,
) -> ApiResult<Reply<serde_json::Map<String, serde_json::Value>>> {
    let ip = client.map(|c| c.0.ip());
    magic_links::discovery_send(&s.ctx, p.id(), input, ip.as_ref()).await?;
    Ok(Reply(serde_json::Map::new()))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/magic_links/discovery/authenticate",
    operation_id = "magic_links_discovery_authenticate",
    tag = "magic_links",
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
    ApiJson(input): ApiJson<DiscoveryAuthenticateInput>,
) -> ApiResult<Response> {
    Ok(discovery_reply(
        &magic_links::discovery_authenticate(&s.ctx, p.id(), input).await?,
    ))
}
