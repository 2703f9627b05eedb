//! `/v1/b2b/discovery…` and the discovery OTPs: discovery.md, otps.md.

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
use latch_core::rules::requirements::{MfaRequired, PrimaryRequired};
use latch_core::service::discovery::{
    self, CreateInput, DiscoveryResult, ExchangeInput, ListInput, OtpAuthenticateInput, SendInput,
};
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DiscoveryMembership)]
struct Membership<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    details: Option<serde_json::Value>,
    member: Option<Member<'a>>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DiscoveredOrganization<'a> {
    member_authenticated: bool,
    organization: Organization<'a>,
    membership: Membership<'a>,
    primary_required: Option<&'a PrimaryRequired>,
    mfa_required: Option<&'a MfaRequired>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DiscoveryBody<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    intermediate_session_token: &'a str,
    email_address: &'a str,
    discovered_organizations: Vec<DiscoveredOrganization<'a>>,
    organization_id_hint: Option<&'a str>,
    /// A method's own fields (OAuth's `provider_*`, `full_name`).
    #[serde(flatten)]
    extra: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

pub fn discovery_reply(r: &DiscoveryResult) -> Response {
    discovery_reply_with(r, None)
}

/// The shared discovery answer plus a method's own fields.
pub fn discovery_reply_with(
    r: &DiscoveryResult,
    extra: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Response {
    let discovered_organizations = r
        .discovered
        .iter()
        .map(|d| DiscoveredOrganization {
            member_authenticated: d.member_authenticated(),
            organization: d.organization.view(),
            membership: Membership {
                kind: d.membership_type,
                details: None,
                member: d.member.as_ref().map(|m| m.member_json()),
            },
            primary_required: d.primary_required.as_ref(),
            mfa_required: d.mfa_required.as_ref(),
        })
        .collect();
    Reply(DiscoveryBody {
        intermediate_session_token: &r.intermediate_session_token,
        email_address: &r.email,
        discovered_organizations,
        organization_id_hint: r.organization_id_hint.as_deref(),
        extra,
    })
    .into_response()
}

#[utoipa::path(
    post,
    path = "/v1/b2b/otps/email/discovery/send",
    operation_id = "discovery_otp_send",
    tag = "discovery",
    request_body = SendInput,
    responses(
        (status = 200, description = "Success", body = crate::openapi::Empty),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn otp_send(
    State(s): State<AppState>,
    p: AuthProject,
    client: Option<Extension<ResolvedClient>>,
    ApiJson(input): ApiJson<SendInput>,
) -> ApiResult<Reply<serde_json::Map<String, serde_json::Value>>> {
    let ip = client.map(|c| c.0.ip());
    discovery::otp_send(&s.ctx, p.id(), input, ip.as_ref()).await?;
    Ok(Reply(serde_json::Map::new()))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/otps/email/discovery/authenticate",
    operation_id = "discovery_otp_authenticate",
    tag = "discovery",
    request_body = OtpAuthenticateInput,
    responses(
        (status = 200, description = "Success", body = DiscoveryBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn otp_authenticate(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<OtpAuthenticateInput>,
) -> ApiResult<Response> {
    Ok(discovery_reply(
        &discovery::otp_authenticate(&s.ctx, p.id(), input).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/discovery/organizations",
    operation_id = "discovery_list",
    tag = "discovery",
    request_body = ListInput,
    responses(
        (status = 200, description = "Success", body = DiscoveryBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn list(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<ListInput>,
) -> ApiResult<Response> {
    Ok(discovery_reply(&discovery::list(&s.ctx, p.id(), input).await?))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/discovery/intermediate_sessions/exchange",
    operation_id = "discovery_exchange",
    tag = "discovery",
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
    let (v, outcome) = discovery::exchange(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/discovery/organizations/create",
    operation_id = "discovery_create",
    tag = "discovery",
    request_body = CreateInput,
    responses(
        (status = 200, description = "Success", body = crate::routes::auth_reply::Body),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn create(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<CreateInput>,
) -> ApiResult<Response> {
    let (v, outcome) = discovery::create_organization(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}
