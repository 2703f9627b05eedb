//! `GET /latch/v1/outbox`: the development outbox (Latch's own route, not Stytch's).

use crate::error::ApiResult;
use crate::extract::{ApiQuery, AuthProject};
use crate::reply::Reply;
use crate::AppState;
use axum::extract::State;
use latch_core::delivery::StoredMessage;
use latch_core::CoreError;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    recipient: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboxBody {
    messages: Vec<StoredMessage>,
}

#[utoipa::path(
    get,
    path = "/latch/v1/outbox",
    operation_id = "outbox_list",
    tag = "latch",
    params(
        OutboxQuery,
    ),
    responses(
        (status = 200, description = "Success", body = OutboxBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn list(
    State(s): State<AppState>,
    p: AuthProject,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> ApiResult<Reply<OutboxBody>> {
    let limit = match q.limit {
        None => 50,
        Some(n) if (1..=1000).contains(&n) => n as u32,
        Some(_) => return Err(CoreError::argument("limit", "must be between 1 and 1000").into()),
    };
    let recipient = q.recipient.as_deref().map(|r| r.trim().to_lowercase());
    let messages = s.ctx.store.list_messages(p.id(), recipient.as_deref(), limit).await?;
    Ok(Reply(OutboxBody { messages }))
}
