//! `GET /latch/v1/events`: the project's audit log, newest first (Latch's own route, not
//! Stytch's). The project is the one whose secret authenticates the call: no other project's
//! events can be named. Filters: `organization_id`, `member_id`, `session_id`, `event_type` (a
//! prefix: `passwords.` or one whole type), `outcome` (`success` or `failure`), `since` and
//! `until` (RFC 3339; at or after, before); `limit` (1–1000, default 100) and `cursor` (the
//! previous page's `next_cursor`).

use crate::error::ApiResult;
use crate::extract::{ApiQuery, AuthProject};
use crate::reply::Reply;
use crate::AppState;
use axum::extract::State;
use latch_core::clock::Timestamp;
use latch_core::ids::{MemberId, OrganizationId};
use latch_core::model::audit::{AuditCursor, AuditEvent, AuditOutcome, AuditQuery};
use latch_core::CoreError;
use serde::{Deserialize, Serialize};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: i64 = 1000;
/// Longer than any identifier or event type: a longer filter matches nothing anyway.
const MAX_FILTER_LEN: usize = 256;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    organization_id: Option<String>,
    member_id: Option<String>,
    session_id: Option<String>,
    event_type: Option<String>,
    outcome: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventsBody {
    events: Vec<AuditEvent>,
    /// Where the next page starts; none on the last page.
    next_cursor: Option<String>,
}

fn filter(field: &str, v: Option<String>) -> Result<Option<String>, CoreError> {
    match v.filter(|s| !s.is_empty()) {
        Some(s) if s.len() > MAX_FILTER_LEN => Err(CoreError::argument(field, "too long")),
        other => Ok(other),
    }
}

fn time(field: &str, v: Option<String>) -> Result<Option<Timestamp>, CoreError> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Timestamp::parse(&s)
            .map(Some)
            .ok_or_else(|| CoreError::argument(field, "must be an RFC 3339 time")),
    }
}

#[utoipa::path(
    get,
    path = "/latch/v1/events",
    operation_id = "events_list",
    tag = "latch",
    params(
        EventsQuery,
    ),
    responses(
        (status = 200, description = "Success", body = EventsBody),
        crate::openapi::Errors
    ),
    security(("basic" = [])),
)]
pub async fn list(
    State(s): State<AppState>,
    p: AuthProject,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Reply<EventsBody>> {
    let limit = match q.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n as u32,
        Some(_) => return Err(CoreError::argument("limit", "must be between 1 and 1000").into()),
    };
    let outcome = match q.outcome.as_deref().filter(|o| !o.is_empty()) {
        None => None,
        Some(o) => {
            Some(AuditOutcome::parse(o).ok_or_else(|| CoreError::argument("outcome", "must be success or failure"))?)
        }
    };
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(AuditCursor::decode(c).ok_or_else(|| CoreError::argument("cursor", "is not a cursor"))?),
    };
    let query = AuditQuery {
        organization_id: filter("organization_id", q.organization_id)?.map(OrganizationId::from),
        member_id: filter("member_id", q.member_id)?.map(MemberId::from),
        session_id: filter("session_id", q.session_id)?,
        event_type: filter("event_type", q.event_type)?,
        outcome,
        since: time("since", q.since)?,
        until: time("until", q.until)?,
        after,
        limit,
    };
    let mut events = s.ctx.store.audit_events(p.id(), &query).await?;
    let next_cursor = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| {
            AuditCursor {
                time: e.time,
                event_id: e.event_id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    Ok(Reply(EventsBody { events, next_cursor }))
}
