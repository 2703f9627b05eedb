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

#[derive(Serialize)]
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

#[derive(Deserialize)]
pub struct GetQuery {
    member_id: Option<String>,
    email_address: Option<String>,
}

pub async fn get(
    State(s): State<AppState>,
    p: AuthProject,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<GetQuery>,
) -> ApiResult<Response> {
    let v = members::get(&s.ctx, p.id(), &org, q.member_id.as_deref(), q.email_address.as_deref()).await?;
    Ok(member_reply(&v))
}

#[derive(Deserialize)]
pub struct DangerousQuery {
    #[serde(default, deserialize_with = "lenient_bool")]
    include_deleted: Option<bool>,
}

pub async fn dangerously_get(
    State(s): State<AppState>,
    p: AuthProject,
    Path(member_id): Path<MemberId>,
    ApiQuery(q): ApiQuery<DangerousQuery>,
) -> ApiResult<Response> {
    let v = members::dangerously_get(&s.ctx, p.id(), &member_id, q.include_deleted.unwrap_or(false)).await?;
    Ok(member_reply(&v))
}

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

pub async fn delete(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Reply<impl Serialize>> {
    #[derive(Serialize)]
    struct Body {
        member_id: MemberId,
    }
    Ok(Reply(Body {
        member_id: members::delete(&s.ctx, p.id(), &org, &member, who.caller()).await?,
    }))
}

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

#[derive(Deserialize)]
pub struct UnlinkInput {
    email_id: Option<String>,
    email_address: Option<String>,
}

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
    #[derive(Serialize)]
    struct Body<'a> {
        member_id: &'a str,
        organization_id: &'a str,
        member: Member<'a>,
        organization: Organization<'a>,
    }
    Ok(Reply(Body {
        member_id: &v.member.member_id,
        organization_id: &v.organization.organization_id,
        member: v.member_json(),
        organization: v.organization.view(),
    })
    .into_response())
}

#[derive(Deserialize)]
pub struct SearchInput {
    organization_ids: Vec<String>,
    cursor: Option<String>,
    limit: Option<i64>,
    query: Option<Value>,
}

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
    #[derive(Serialize)]
    struct Body<'a> {
        members: Vec<Member<'a>>,
        results_metadata: ResultsMetadata,
        organizations: BTreeMap<&'a str, Organization<'a>>,
    }
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
    let body = Body {
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

/// Latch has no OIDC SSO yet, so no member has stored OIDC tokens.
pub async fn oidc_providers(
    State(s): State<AppState>,
    p: AuthProject,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Reply<impl Serialize>> {
    members::get(&s.ctx, p.id(), &org, Some(&member), None).await?;
    #[derive(Serialize)]
    struct Body {
        registrations: [Value; 0],
    }
    Ok(Reply(Body { registrations: [] }))
}

/// Latch has no Connected Apps, so no member has authorized one.
pub async fn connected_apps(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    Path((org, member)): Path<(String, String)>,
) -> ApiResult<Reply<impl Serialize>> {
    let v = members::get(&s.ctx, p.id(), &org, Some(&member), None).await?;
    who.caller().require_tenant(&v.organization.organization_id)?;
    #[derive(Serialize)]
    struct Body {
        connected_apps: [Value; 0],
    }
    Ok(Reply(Body { connected_apps: [] }))
}

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
