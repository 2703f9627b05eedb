//! `/v1/b2b/passwords…`: passwords.md.

use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthProject};
use crate::reply::Reply;
use crate::routes::auth_reply::auth_reply;
use crate::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use latch_core::model::member::Member;
use latch_core::model::organization::Organization;
use latch_core::password::policy::StrengthReport;
use latch_core::service::passwords::{self, AuthenticateInput, MigrateInput};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct StrengthInput {
    password: String,
    email_address: Option<String>,
}

pub async fn strength_check(
    State(s): State<AppState>,
    _p: AuthProject,
    ApiJson(input): ApiJson<StrengthInput>,
) -> ApiResult<Reply<StrengthReport>> {
    let ctx = s.ctx.clone();
    // zxcvbn is CPU work: keep it off the executor threads.
    let report = s
        .ctx
        .cpu
        .run(move || passwords::strength_check(&ctx, &input.password, input.email_address.as_deref()))
        .await?;
    Ok(Reply(report))
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
    ApiJson(input): ApiJson<AuthenticateInput>,
) -> ApiResult<Response> {
    let (v, outcome) = passwords::authenticate(&s.ctx, p.id(), input).await?;
    Ok(auth_reply(&v, &outcome))
}
