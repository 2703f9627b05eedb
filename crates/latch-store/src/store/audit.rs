//! `AuditStore`: audit events, inserted a batch per transaction (several rows per statement), and
//! listed newest first by (time, event id) with the filters of `AuditQuery`.

use crate::exec::{args, Arg};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::error::StoreError;
use latch_core::ids::ProjectId;
use latch_core::model::audit::{ActorType, AuditActor, AuditEvent, AuditOutcome, AuditQuery};
use latch_core::store::{AuditStore, StoreResult};

const COLUMNS: &str = "event_id, project_id, time, event_type, outcome, reason, actor_type, actor_id, \
     organization_id, member_id, session_id, client_address, request_id, status_code, details";
const COLUMN_COUNT: usize = 15;
/// Rows per INSERT: 15 values each stays far below either engine's bound on bound values.
const ROWS_PER_STATEMENT: usize = 200;

#[derive(sqlx::FromRow)]
struct EventRow {
    event_id: String,
    project_id: String,
    time: i64,
    event_type: String,
    outcome: String,
    reason: Option<String>,
    actor_type: String,
    actor_id: Option<String>,
    organization_id: Option<String>,
    member_id: Option<String>,
    session_id: Option<String>,
    client_address: Option<String>,
    request_id: Option<String>,
    status_code: Option<i64>,
    details: String,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Backend(format!("corrupt audit event {what}: {value}"))
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        let outcome = AuditOutcome::parse(&r.outcome).ok_or_else(|| corrupt("outcome", &r.outcome))?;
        let kind = ActorType::parse(&r.actor_type).ok_or_else(|| corrupt("actor", &r.actor_type))?;
        let details = match serde_json::from_str(&r.details) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return Err(corrupt("details", &r.details)),
        };
        Ok(AuditEvent {
            event_id: r.event_id,
            project_id: r.project_id.into(),
            time: Timestamp(r.time),
            event_type: r.event_type,
            outcome,
            reason: r.reason,
            actor: AuditActor { kind, id: r.actor_id },
            organization_id: r.organization_id.map(Into::into),
            member_id: r.member_id.map(Into::into),
            session_id: r.session_id,
            client_address: r.client_address,
            request_id: r.request_id,
            status_code: r.status_code.and_then(|c| u16::try_from(c).ok()),
            details,
        })
    }
}

fn values(e: &AuditEvent) -> Vec<Arg> {
    args![
        &e.event_id,
        &e.project_id,
        e.time.millis(),
        &e.event_type,
        e.outcome.as_str(),
        e.reason.clone(),
        e.actor.kind.as_str(),
        e.actor.id.clone(),
        e.organization_id.clone(),
        e.member_id.clone(),
        e.session_id.clone(),
        e.client_address.clone(),
        e.request_id.clone(),
        e.status_code.map(i64::from),
        serde_json::Value::Object(e.details.clone()).to_string()
    ]
}

/// `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=COLUMN_COUNT)
                .map(|c| format!("${}", r * COLUMN_COUNT + c))
                .collect();
            format!("({})", cols.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO audit_events ({COLUMNS}) VALUES {} ON CONFLICT (event_id) DO NOTHING",
        tuples.join(", ")
    )
}

/// Appends `v` to the bound values and names its placeholder.
fn bind(values: &mut Vec<Arg>, v: Arg) -> String {
    values.push(v);
    format!("${}", values.len())
}

#[async_trait::async_trait]
impl AuditStore for SqlStore {
    async fn insert_audit_events(&self, events: &[AuditEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let chunks: Vec<(String, Vec<Arg>)> = events
            .chunks(ROWS_PER_STATEMENT)
            .map(|chunk| (insert_sql(chunk.len()), chunk.iter().flat_map(values).collect()))
            .collect();
        self.tx(chunks.iter().map(|(sql, a)| (sql.as_str(), a.clone())).collect())
            .await
    }

    async fn audit_events(&self, project_id: &ProjectId, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        let mut clauses = vec!["project_id = $1".to_string()];
        let mut values: Vec<Arg> = args![project_id];
        for (column, given) in [
            ("organization_id", q.organization_id.as_deref()),
            ("member_id", q.member_id.as_deref()),
            ("session_id", q.session_id.as_deref()),
        ] {
            if let Some(v) = given {
                let p = bind(&mut values, Arg::from(v));
                clauses.push(format!("{column} = {p}"));
            }
        }
        if let Some(prefix) = q.event_type.as_deref().filter(|p| !p.is_empty()) {
            // A prefix compared as text (LIKE would read `_` in the names as a wildcard).
            let p = bind(&mut values, Arg::from(prefix));
            let n = bind(&mut values, Arg::from(prefix.chars().count() as i64));
            clauses.push(format!("substr(event_type, 1, CAST({n} AS INTEGER)) = {p}"));
        }
        if let Some(o) = q.outcome {
            let p = bind(&mut values, Arg::from(o.as_str()));
            clauses.push(format!("outcome = {p}"));
        }
        if let Some(t) = q.since {
            let p = bind(&mut values, Arg::from(t.millis()));
            clauses.push(format!("time >= {p}"));
        }
        if let Some(t) = q.until {
            let p = bind(&mut values, Arg::from(t.millis()));
            clauses.push(format!("time < {p}"));
        }
        if let Some(c) = &q.after {
            let t1 = bind(&mut values, Arg::from(c.time.millis()));
            let t2 = bind(&mut values, Arg::from(c.time.millis()));
            let id = bind(&mut values, Arg::from(c.event_id.as_str()));
            clauses.push(format!("(time < {t1} OR (time = {t2} AND event_id < {id}))"));
        }
        let limit = bind(&mut values, Arg::from(i64::from(q.limit) + 1));
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY time DESC, event_id DESC LIMIT {limit}",
            clauses.join(" AND ")
        );
        let rows: Vec<EventRow> = self.all(&sql, values).await?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}
