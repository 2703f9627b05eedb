//! Bulk seeding for the scale scenario: organizations, members and live sessions written straight
//! into the server's database, valid for its row parsing, with session tokens the bench can
//! rebuild for a sample spread over the whole range.

use crate::db::{Column, Db, Table, Val};
use latch_core::clock::Timestamp;
use latch_core::model::organization::OrgSettings;
use latch_core::model::session::AuthFactor;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Instant;
use uuid::Uuid;

/// Organizations the members are spread over (fewer if there are fewer members).
const ORGANIZATIONS: usize = 1_000;
/// Sessions whose tokens the bench keeps to authenticate.
pub const SAMPLE: usize = 2_000;

pub struct Plan {
    pub project_id: String,
    pub members: usize,
    pub sessions: usize,
}

pub struct Seeded {
    /// Tokens of sessions sampled across the whole range, in range order.
    pub sample_tokens: Vec<String>,
    pub report: Value,
}

/// Lowercase hex SHA-256, as `latch_core::crypto::sha256_hex` computes it, without its
/// per-byte `format!` (2M of them add seconds).
fn sha256_hex(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(s.as_bytes()) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Identifiers that grow with `seq`: hyphenated lowercase hex of fixed width sorts like the
/// number, so every primary key and most indexes take rows at their end, as a server that has
/// grown over time mostly does, instead of as random page splits.
struct Ids {
    base: u128,
}

impl Ids {
    fn new() -> Self {
        Self {
            base: Uuid::new_v4().as_u128() & !u128::from(u64::MAX),
        }
    }
    fn get(&self, prefix: &str, seq: usize) -> String {
        format!("{prefix}-test-{}", Uuid::from_u128(self.base | seq as u128))
    }
}

struct Gen {
    tag: String,
    orgs: Ids,
    members: Ids,
    sessions: Ids,
    n_orgs: usize,
    plan_members: usize,
    plan_sessions: usize,
}

impl Gen {
    fn org_of_member(&self, j: usize) -> usize {
        // Contiguous runs of members per organization, in member order.
        (j as u128 * self.n_orgs as u128 / self.plan_members as u128) as usize
    }
    fn member_of_session(&self, s: usize) -> usize {
        (s as u128 * self.plan_members as u128 / self.plan_sessions as u128) as usize
    }
    fn token(&self, s: usize) -> String {
        format!("scale-{}-{s:010}", self.tag)
    }
}

/// Indices of `n` sessions spread evenly over `0..total`, each at a different offset in its stride.
fn sample_indices(total: usize, n: usize) -> Vec<usize> {
    let n = n.min(total).max(1);
    let stride = total / n;
    (0..n).map(|k| k * stride + (k * 7919) % stride.max(1)).collect()
}

/// Sends batches of `rows_per_batch` rows made by `make(start, end)` to `table`; generation runs
/// on a blocking thread one batch ahead of the inserts.
async fn load<F>(db: &Db, table: &Table, total: usize, make: F) -> Result<f64, String>
where
    F: Fn(usize, usize) -> Vec<Column> + Send + 'static,
{
    let t = Instant::now();
    let per = db.rows_per_transaction(table);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Column>>(2);
    let producer = tokio::task::spawn_blocking(move || {
        let mut start = 0;
        while start < total {
            let end = (start + per).min(total);
            if tx.blocking_send(make(start, end)).is_err() {
                return;
            }
            start = end;
        }
    });
    while let Some(batch) = rx.recv().await {
        db.insert(table, &batch).await?;
    }
    producer.await.map_err(|e| e.to_string())?;
    Ok(t.elapsed().as_secs_f64())
}

fn rate(rows: usize, secs: f64) -> f64 {
    rows as f64 / secs.max(1e-9)
}

#[allow(clippy::disallowed_methods)] // seeded rows are stamped with the time of seeding
pub async fn seed(db: &Db, plan: &Plan) -> Result<Seeded, String> {
    let members = plan.members.max(1);
    let sessions = plan.sessions.max(1);
    let n_orgs = ORGANIZATIONS.min(members);
    let gen = std::sync::Arc::new(Gen {
        tag: Uuid::new_v4().simple().to_string()[..12].to_owned(),
        orgs: Ids::new(),
        members: Ids::new(),
        sessions: Ids::new(),
        n_orgs,
        plan_members: members,
        plan_sessions: sessions,
    });
    let now = Timestamp::now().millis();
    let started_at = now - 60_000;
    let total = Instant::now();

    // Organizations: default settings as the API stores them, no domains, no custom roles.
    let settings = serde_json::to_string(&OrgSettings::default()).map_err(|e| e.to_string())?;
    let orgs_table = Table {
        name: "organizations",
        columns: latch_store::columns::ORG_COLUMNS,
        values: vec![
            Val::Col(0),
            Val::Text(plan.project_id.clone()),
            Val::Col(1),
            Val::Col(2),
            Val::Text(String::new()),
            Val::Null,
            Val::Text("{}".into()),
            Val::Text(settings),
            Val::Col(3),
            Val::Col(3),
            Val::Int(0), // version
        ],
    };
    let g = gen.clone();
    let orgs_secs = load(db, &orgs_table, n_orgs, move |a, b| {
        vec![
            Column::Text((a..b).map(|k| g.orgs.get("organization", k)).collect()),
            Column::Text((a..b).map(|k| format!("Scale {k}")).collect()),
            Column::Text((a..b).map(|k| format!("scale-{}-{k:04}", g.tag)).collect()),
            Column::Int(vec![now; b - a]),
        ]
    })
    .await?;

    // Members: active, verified email, no password, explicit roles none, empty metadata.
    let members_table = Table {
        name: "members",
        columns: latch_store::columns::MEMBER_COLUMNS,
        values: vec![
            Val::Col(0),
            Val::Text(plan.project_id.clone()),
            Val::Col(1),
            Val::Col(2),
            Val::Text("active".into()),
            Val::Col(3),
            Val::Null,
            Val::Bool(false),
            Val::Bool(true),
            Val::Bool(false),
            Val::Text(String::new()),
            Val::Bool(false),
            Val::Text(String::new()),
            Val::Text(String::new()),
            Val::Text(String::new()),
            Val::Text("[]".into()),
            Val::Text("{}".into()),
            Val::Text("{}".into()),
            Val::Null,
            Val::Null,
            Val::Col(4),
            Val::Col(4),
            Val::Int(0),            // version
            Val::Text("[]".into()), // scim_roles
            Val::Text("[]".into()), // sso_roles
        ],
    };
    let g = gen.clone();
    let members_secs = load(db, &members_table, members, move |a, b| {
        vec![
            Column::Text((a..b).map(|j| g.members.get("member", j)).collect()),
            Column::Text((a..b).map(|j| g.orgs.get("organization", g.org_of_member(j))).collect()),
            // Unique in the whole project, so per organization too; zero-padded so the email
            // indexes also take rows at their end.
            Column::Text((a..b).map(|j| format!("m{j:09}-{}@scale.example.com", g.tag)).collect()),
            Column::Text((a..b).map(|j| format!("Scale Member {j}")).collect()),
            Column::Int((a..b).map(|j| now - (members - j) as i64).collect()),
        ]
    })
    .await?;
    eprintln!(
        "  seeded {n_orgs} organizations and {members} members in {members_secs:.1} s ({:.0} rows/s)",
        rate(members, members_secs)
    );

    // Sessions: live for hours, one password factor, no custom claims.
    let factors =
        serde_json::to_string(&vec![AuthFactor::password(Timestamp(started_at))]).map_err(|e| e.to_string())?;
    let sessions_table = Table {
        name: "member_sessions",
        columns: latch_store::columns::SESSION_COLUMNS,
        values: vec![
            Val::Col(0),
            Val::Text(plan.project_id.clone()),
            Val::Col(1),
            Val::Col(2),
            Val::Col(3),
            Val::Col(4),
            Val::Col(4),
            Val::Col(5),
            Val::Text(factors),
            Val::Text("{}".into()),
        ],
    };
    let g = gen.clone();
    let sessions_secs = load(db, &sessions_table, sessions, move |a, b| {
        let member = |s: usize| g.member_of_session(s);
        vec![
            Column::Text((a..b).map(|s| g.sessions.get("member-session", s)).collect()),
            Column::Text(
                (a..b)
                    .map(|s| g.orgs.get("organization", g.org_of_member(member(s))))
                    .collect(),
            ),
            Column::Text((a..b).map(|s| g.members.get("member", member(s))).collect()),
            Column::Text((a..b).map(|s| sha256_hex(&g.token(s))).collect()),
            Column::Int(vec![started_at; b - a]),
            // Six hours ahead, a millisecond apart: the expiry index also grows at its end.
            Column::Int((a..b).map(|s| now + 6 * 3_600_000 + s as i64).collect()),
        ]
    })
    .await?;
    eprintln!(
        "  seeded {sessions} sessions in {sessions_secs:.1} s ({:.0} rows/s)",
        rate(sessions, sessions_secs)
    );

    // What an operator runs after a bulk load: fresh planner statistics (and on SQLite, a
    // checkpoint so readers do not search a WAL of hundreds of MB).
    let t = Instant::now();
    if db.is_sqlite() {
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        db.execute("ANALYZE").await?;
    } else {
        db.execute("ANALYZE organizations, members, member_sessions").await?;
    }
    let analyze_secs = t.elapsed().as_secs_f64();
    let total_secs = total.elapsed().as_secs_f64();
    let rows = n_orgs + members + sessions;
    eprintln!(
        "  ANALYZE in {analyze_secs:.1} s; seeding total {total_secs:.1} s ({:.0} rows/s)",
        rate(rows, total_secs)
    );

    let sample_tokens: Vec<String> = sample_indices(sessions, SAMPLE)
        .into_iter()
        .map(|s| gen.token(s))
        .collect();
    // The server hashes with latch_core's function: the fast copy above must agree with it.
    if let Some(t) = sample_tokens.first() {
        if sha256_hex(t) != latch_core::crypto::sha256_hex(t) {
            return Err("scale: token digest differs from the server's".to_owned());
        }
    }
    let report = json!({
        "organizations": n_orgs,
        "members": members,
        "sessions": sessions,
        "sample": sample_tokens.len(),
        "organizations_secs": orgs_secs,
        "members_secs": members_secs,
        "members_rows_per_s": rate(members, members_secs),
        "sessions_secs": sessions_secs,
        "sessions_rows_per_s": rate(sessions, sessions_secs),
        "analyze_secs": analyze_secs,
        "seed_total_secs": total_secs,
        "seed_rows_per_s": rate(rows, total_secs),
        "rows_per_statement": {"members": db.rows_per_statement(&members_table), "sessions": db.rows_per_statement(&sessions_table)},
        "rows_per_transaction": {"members": db.rows_per_transaction(&members_table), "sessions": db.rows_per_transaction(&sessions_table)},
    });
    Ok(Seeded { sample_tokens, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_the_servers() {
        for t in ["", "abc", "scale-0123456789ab-0000000042"] {
            assert_eq!(sha256_hex(t), latch_core::crypto::sha256_hex(t));
        }
    }

    #[test]
    fn sample_spans_the_range() {
        let s = sample_indices(2_000_000, 2_000);
        assert_eq!(s.len(), 2_000);
        assert!(s[0] < 1_000 && *s.last().unwrap() >= 1_999_000);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(sample_indices(10, 2_000).len(), 10);
    }

    #[test]
    fn ids_sort_like_their_sequence() {
        let ids = Ids::new();
        assert!(ids.get("member", 9) < ids.get("member", 10));
        assert!(ids.get("member", 255) < ids.get("member", 256));
    }
}
