//! `/v1/b2b/organizations/{organization_id}/members…`: organizations.md, member endpoints.

use crate::error::{ApiError, ApiResult};
use crate::extract::{lenient_bool, ApiJson, ApiQuery, AuthProject, MemberAuthorization};
use crate::reply::Reply;
use crate::routes::organizations::ResultsMetadata;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use latch_core::ids::MemberId;
use latch_core::model::member::Member;
use latch_core::model::organization::Organization;
use latch_core::model::search::Cursor;
use latch_core::service::members::{self, MemberInput, MemberView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = members::MemberBody)]
struct MemberBody<'a> {
    member_id: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
}

/// `{member_id, member, organization}`, the body of most member endpoints.
fn member_reply(v: &MemberView) -> Response {
    Reply(MemberBody {
        member_id: &v.member.member_id,
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response()
}

#[utoipa::path(
    post,
    path = "/v1/b2b/organizations/{organization_id}/members",
    operation_id = "members_create",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = MemberInput,
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn create(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
    ApiJson(input): ApiJson<MemberInput>,
) -> ApiResult<Response> {
    Ok(member_reply(
        &members::create(&s.ctx, p.id(), &org, input, who.caller()).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    member_id: Option<String>,
    email_address: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/{organization_id}/member",
    operation_id = "members_get",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        GetQuery,
    ),
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn get(
    State(s): State<AppState>,
    p: AuthProject,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<GetQuery>,
) -> ApiResult<Response> {
    let v = members::get(&s.ctx, p.id(), &org, q.member_id.as_deref(), q.email_address.as_deref()).await?;
    Ok(member_reply(&v))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DangerousQuery {
    #[serde(default, deserialize_with = "lenient_bool")]
    include_deleted: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/members/dangerously_get/{member_id}",
    operation_id = "members_dangerously_get",
    tag = "members",
    params(
        ("member_id" = String, Path, description = "The member's id"),
        DangerousQuery,
    ),
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn dangerously_get(
    State(s): State<AppState>,
    p: AuthProject,
    Path(member_id): Path<MemberId>,
    ApiQuery(q): ApiQuery<DangerousQuery>,
) -> ApiResult<Response> {
    let v = members::dangerously_get(&s.ctx, p.id(), &member_id, q.include_deleted.unwrap_or(false)).await?;
    Ok(member_reply(&v))
}

#[utoipa::path(
    put,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}",
    operation_id = "members_update",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = MemberInput,
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn update(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
    ApiJson(input): ApiJson<MemberInput>,
) -> ApiResult<Response> {
    Ok(member_reply(
        &members::update(&s.ctx, p.id(), &org, &member, input, who.caller()).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
struct MemberDeleted {
    member_id: MemberId,
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}",
    operation_id = "members_delete",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = MemberDeleted),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Reply<impl Serialize>> {
    Ok(Reply(MemberDeleted {
        member_id: members::delete(&s.ctx, p.id(), &org, &member, who.caller()).await?,
    }))
}

#[utoipa::path(
    put,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/reactivate",
    operation_id = "members_reactivate",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn reactivate(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, MemberId)>,
) -> ApiResult<Response> {
    Ok(member_reply(
        &members::reactivate(&s.ctx, p.id(), &org, &member, who.caller()).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/organizations/{organization_id}/members/passwords/{member_password_id}",
    operation_id = "members_delete_password",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_password_id" = String, Path, description = "The member's password id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_password(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, password_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(member_reply(
        &members::delete_password(&s.ctx, p.id(), &org, &password_id, who.caller()).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/organizations/{organization_id}/members/mfa_phone_numbers/{member_id}",
    operation_id = "members_delete_mfa_phone_number",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_mfa_phone_number(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(member_reply(
        &members::delete_mfa_phone_number(&s.ctx, p.id(), &org, &member, who.caller()).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/totp",
    operation_id = "members_delete_totp",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_totp(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(member_reply(
        &members::delete_totp(&s.ctx, p.id(), &org, &member, who.caller()).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/external_id",
    operation_id = "members_delete_external_id",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_external_id(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(member_reply(
        &members::delete_external_id(&s.ctx, p.id(), &org, &member, who.caller()).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = members::UnlinkInput)]
pub struct UnlinkInput {
    email_id: Option<String>,
    email_address: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/start_email_update",
    operation_id = "members_start_email_update",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = members::StartEmailUpdateInput,
    responses(
        (status = 200, description = "Success", body = MemberBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn start_email_update(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
    ApiJson(input): ApiJson<members::StartEmailUpdateInput>,
) -> ApiResult<Response> {
    Ok(member_reply(
        &members::start_email_update(&s.ctx, p.id(), &org, &member, input, who.caller()).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
struct UnlinkRetiredEmailBody<'a> {
    member_id: &'a str,
    organization_id: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/unlink_retired_email",
    operation_id = "members_unlink_retired_email",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = UnlinkInput,
    responses(
        (status = 200, description = "Success", body = UnlinkRetiredEmailBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn unlink_retired_email(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
    ApiJson(input): ApiJson<UnlinkInput>,
) -> ApiResult<Response> {
    let v = members::unlink_retired_email(
        &s.ctx,
        p.id(),
        &org,
        &member,
        input.email_id.as_deref(),
        input.email_address.as_deref(),
        who.caller(),
    )
    .await?;
    Ok(Reply(UnlinkRetiredEmailBody {
        member_id: &v.member.member_id,
        organization_id: &v.organization.organization_id,
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = members::SearchInput)]
pub struct SearchInput {
    organization_ids: Vec<String>,
    cursor: Option<String>,
    limit: Option<i64>,
    query: Option<Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct MemberSearchBody<'a> {
    members: Vec<Member<'a>>,
    results_metadata: ResultsMetadata,
    organizations: BTreeMap<&'a str, Organization<'a>>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/organizations/members/search",
    operation_id = "members_search",
    tag = "members",
    params(
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = SearchInput,
    responses(
        (status = 200, description = "Success", body = MemberSearchBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn search(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    ApiJson(input): ApiJson<SearchInput>,
) -> ApiResult<Response> {
    let r = members::search(
        &s.ctx,
        p.id(),
        &input.organization_ids,
        input.query.as_ref(),
        input.cursor.as_deref(),
        input.limit,
        who.caller(),
    )
    .await?;
    let next_cursor = r.found.has_more.then(|| {
        let last = r.found.items.last().expect("has_more implies a row");
        Cursor {
            created_at: last.created_at.millis(),
            id: last.member_id.to_string(),
        }
        .encode()
    });
    let members = r
        .found
        .items
        .iter()
        .filter_map(|m| {
            r.organizations
                .iter()
                .find(|o| o.organization_id == m.organization_id)
                .map(|o| {
                    let mut v = m.view(o, &r.retired, &r.sso, &r.oauth);
                    v.scim_registration = r.scim.iter().find(|(id, _)| *id == m.member_id).map(|(_, s)| s.clone());
                    v
                })
        })
        .collect();
    let body = MemberSearchBody {
        members,
        results_metadata: ResultsMetadata {
            total: r.found.total,
            next_cursor,
        },
        organizations: r
            .organizations
            .iter()
            .map(|o| (o.organization_id.as_str(), o.view()))
            .collect(),
    };
    Ok(Reply(body).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct OidcProvidersBody {
    registrations: [Value; 0],
}

/// Latch has no OIDC SSO yet, so no member has stored OIDC tokens.
#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/oidc_providers",
    operation_id = "members_oidc_providers",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
    ),
    responses(
        (status = 200, description = "Success", body = OidcProvidersBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn oidc_providers(
    State(s): State<AppState>,
    p: AuthProject,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Reply<impl Serialize>> {
    members::get(&s.ctx, p.id(), &org, Some(&member), None).await?;
    Ok(Reply(OidcProvidersBody { registrations: [] }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct MemberConnectedAppsBody {
    connected_apps: [Value; 0],
}

/// Latch has no Connected Apps, so no member has authorized one.
#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/connected_apps",
    operation_id = "members_connected_apps",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = MemberConnectedAppsBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn connected_apps(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Reply<impl Serialize>> {
    let v = members::get(&s.ctx, p.id(), &org, Some(&member), None).await?;
    who.caller().require_tenant(&v.organization.organization_id)?;
    Ok(Reply(MemberConnectedAppsBody { connected_apps: [] }))
}

#[utoipa::path(
    post,
    path = "/v1/b2b/organizations/{organization_id}/members/{member_id}/connected_apps/{connected_app_id}/revoke",
    operation_id = "members_revoke_connected_app",
    tag = "members",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("member_id" = String, Path, description = "The member's id"),
        ("connected_app_id" = String, Path, description = "The Connected App's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn revoke_connected_app(
    State(s): State<AppState>,
    p: AuthProject,
    _who: MemberAuthorization,
    Path((org, member, _app)): Path<(String, String, String)>,
) -> ApiResult<Reply<()>> {
    members::get(&s.ctx, p.id(), &org, Some(&member), None).await?;
    Err(ApiError::Core(
        latch_core::error::catalogue::CONNECTED_APP_NOT_FOUND.err(),
    ))
}
