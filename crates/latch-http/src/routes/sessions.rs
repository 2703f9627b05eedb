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

#[derive(Deserialize)]
pub struct GetQuery {
    organization_id: String,
    member_id: String,
}

pub async fn get(State(s): State<AppState>, p: AuthProject, ApiQuery(q): ApiQuery<GetQuery>) -> ApiResult<Response> {
    let found = sessions::list(&s.ctx, p.id(), &q.organization_id, &q.member_id).await?;
    #[derive(Serialize)]
    struct Body<'a> {
        member_sessions: Vec<MemberSession<'a>>,
    }
    let member_sessions = found
        .sessions
        .iter()
        .map(|x| sessions::view(x, found.roles.clone(), &found.organization_slug))
        .collect();
    Ok(Reply(Body { member_sessions }).into_response())
}

#[derive(Serialize)]
struct AuthenticateBody<'a> {
    member_session: MemberSession<'a>,
    session_token: &'a str,
    session_jwt: &'a str,
    member: Member<'a>,
    organization: Organization<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<&'a Verdict>,
}

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

pub async fn revoke(
    State(s): State<AppState>,
    p: AuthProject,
    who: MemberAuthorization,
    ApiJson(input): ApiJson<RevokeInput>,
) -> ApiResult<Reply<serde_json::Map<String, serde_json::Value>>> {
    sessions::revoke(&s.ctx, p.id(), input, who.caller()).await?;
    Ok(Reply(serde_json::Map::new()))
}

#[derive(Serialize)]
pub struct JwksBody {
    keys: Vec<Jwk>,
}

/// Public: the SDKs' JWT verifiers fetch it without credentials. Keys are only ever created
/// for projects that exist, so unknown ids cannot make the server generate keys.
pub async fn jwks(State(s): State<AppState>, Path(project_id): Path<ProjectId>) -> ApiResult<Reply<JwksBody>> {
    if s.ctx.store.get_project(&project_id).await?.is_none() {
        return Err(ApiError::Core(latch_core::error::catalogue::PROJECT_NOT_FOUND.err()));
    }
    Ok(Reply(JwksBody {
        keys: s.ctx.keyring.jwks(&project_id).await?,
    }))
}

pub async fn exchange(
    State(s): State<AppState>,
    p: AuthProject,
    ApiJson(input): ApiJson<ExchangeInput>,
) -> ApiResult<Response> {
    let (v, outcome) = sessions::exchange(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}
