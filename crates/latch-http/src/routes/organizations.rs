//! `/v1/b2b/organizations…`: organizations.md, organization endpoints.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, AuthProject, MemberAuthorization};
use crate::reply::Reply;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use latch_core::ids::OrganizationId;
use latch_core::model::organization::Organization;
use latch_core::service::organizations::{self, OrgInput};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgBody<'a> {
    pub organization: Organization<'a>,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/organizations",
    operation_id = "organizations_create",
    tag = "organizations",
    request_body = OrgInput,
    responses(
        (status = 200, description = "Success", body = OrgBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn create(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<OrgInput>,
) -> ApiResult<Response> {
    let org = organizations::create(&s.ctx, p.id(), input).await?;
    Ok(Reply(OrgBody {
        organization: org.view(),
    })
    .into_response())
}

#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/{organization_id}",
    operation_id = "organizations_get",
    tag = "organizations",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
    ),
    responses(
        (status = 200, description = "Success", body = OrgBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn get(State(s): State<AppState>, p: AuthProject, Path(org): Path<String>) -> ApiResult<Response> {
    let org = organizations::get(&s.ctx, p.id(), &org).await?;
    Ok(Reply(OrgBody {
        organization: org.view(),
    })
    .into_response())
}

#[utoipa::path(
    put,
    path = "/v1/b2b/organizations/{organization_id}",
    operation_id = "organizations_update",
    tag = "organizations",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    request_body = OrgInput,
    responses(
        (status = 200, description = "Success", body = OrgBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn update(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
    ApiJson(input): ApiJson<OrgInput>,
) -> ApiResult<Response> {
    let org = organizations::update(&s.ctx, p.id(), &org, input, who.caller()).await?;
    Ok(Reply(OrgBody {
        organization: org.view(),
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OrganizationDeleted)]
struct Deleted {
    organization_id: OrganizationId,
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/organizations/{organization_id}",
    operation_id = "organizations_delete",
    tag = "organizations",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = Deleted),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
) -> ApiResult<Reply<impl Serialize>> {
    let organization_id = organizations::delete(&s.ctx, p.id(), &org, who.caller()).await?;
    Ok(Reply(Deleted { organization_id }))
}

#[utoipa::path(
    delete,
    path = "/v1/b2b/organizations/{organization_id}/external_id",
    operation_id = "organizations_delete_external_id",
    tag = "organizations",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = OrgBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn delete_external_id(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    let org = organizations::delete_external_id(&s.ctx, p.id(), &org, who.caller()).await?;
    Ok(Reply(OrgBody {
        organization: org.view(),
    })
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = organizations::SearchInput)]
pub struct SearchInput {
    cursor: Option<String>,
    limit: Option<i64>,
    query: Option<Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResultsMetadata {
    pub total: i64,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct OrgSearchBody<'a> {
    organizations: Vec<Organization<'a>>,
    results_metadata: ResultsMetadata,
}

#[utoipa::path(
    post,
    path = "/v1/b2b/organizations/search",
    operation_id = "organizations_search",
    tag = "organizations",
    request_body = SearchInput,
    responses(
        (status = 200, description = "Success", body = OrgSearchBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn search(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<SearchInput>,
) -> ApiResult<Response> {
    let found = organizations::search(
        &s.ctx,
        p.id(),
        input.query.as_ref(),
        input.cursor.as_deref(),
        input.limit,
    )
    .await?;
    let next_cursor = found.has_more.then(|| {
        let last = found.items.last().expect("has_more implies a row");
        latch_core::model::search::Cursor {
            created_at: last.created_at.millis(),
            id: last.organization_id.to_string(),
        }
        .encode()
    });
    let body = OrgSearchBody {
        organizations: found.items.iter().map(|o| o.view()).collect(),
        results_metadata: ResultsMetadata {
            total: found.total,
            next_cursor,
        },
    };
    Ok(Reply(body).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct OrgMetricsBody {
    member_count: i64,
}

#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/{organization_id}/metrics",
    operation_id = "organizations_metrics",
    tag = "organizations",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
    ),
    responses(
        (status = 200, description = "Success", body = OrgMetricsBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn metrics(
    State(s): State<AppState>,
    p: AuthProject,
    Path(org): Path<String>,
) -> ApiResult<Reply<impl Serialize>> {
    Ok(Reply(OrgMetricsBody {
        member_count: organizations::member_count(&s.ctx, p.id(), &org).await?,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct OrgConnectedAppsBody {
    connected_apps: [Value; 0],
}

/// Latch has no Connected Apps: an organization's list is truthfully empty.
#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/{organization_id}/connected_apps",
    operation_id = "organizations_connected_apps",
    tag = "organizations",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        (status = 200, description = "Success", body = OrgConnectedAppsBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn connected_apps(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path(org): Path<String>,
) -> ApiResult<Reply<impl Serialize>> {
    let org = organizations::get(&s.ctx, p.id(), &org).await?;
    who.caller().require_tenant(&org.organization_id)?;
    Ok(Reply(OrgConnectedAppsBody { connected_apps: [] }))
}

#[utoipa::path(
    get,
    path = "/v1/b2b/organizations/{organization_id}/connected_apps/{connected_app_id}",
    operation_id = "organizations_connected_app",
    tag = "organizations",
    params(
        ("organization_id" = String, Path, description = "The organization: its id (or, where Stytch allows, its slug)"),
        ("connected_app_id" = String, Path, description = "The Connected App's id"),
        ("X-Stytch-Member-Session" = Option<String>, Header, description = "Act as this member (their session token) instead of the project"),
        ("X-Stytch-Member-SessionJWT" = Option<String>, Header, description = "Act as this member (their session JWT) instead of the project"),
    ),
    responses(
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn connected_app(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, _app)): Path<(String, String)>,
) -> ApiResult<Reply<()>> {
    let org = organizations::get(&s.ctx, p.id(), &org).await?;
    who.caller().require_tenant(&org.organization_id)?;
    Err(ApiError::Core(
        latch_core::error::catalogue::CONNECTED_APP_NOT_FOUND.err(),
    ))
}
