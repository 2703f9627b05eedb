//! Running one SQL text on either engine: arguments are collected as `Arg`s and bound in order.

use crate::{Pool, SqlStore};
use latch_core::ids::{MemberId, OrganizationId, ProjectId};
use latch_core::StoreError;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
/// Typed ids bind as their text.
macro_rules! id_args {
    ($($t:ty),*) => {$(
        impl From<&$t> for Arg {
            fn from(v: &$t) -> Self {
                Arg::Text(v.to_string())
            }
        }
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::Text(v.into_string())
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self {
                Arg::OptText(v.map(<$t>::into_string))
            }
        }
    )*};
}
id_args!(ProjectId, OrganizationId, MemberId);

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// `args![a, b, c]` builds a `Vec<Arg>`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::exec::Arg::from($v)),*] };
}
pub(crate) use args;

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}

pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::UniqueViolation,
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ if is_unavailable(&e) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Errors that say the database is out of reach rather than that the statement was wrong: worth
/// a retry once it is back.
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL: connection exceptions (08…), the server shutting down or terminating the
        // backend (57P01–57P03), too many connections (53300). SQLite: the file stayed locked
        // past busy_timeout (5, SQLITE_BUSY).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03" | "53300" | "5")),
        _ => false,
    }
}

pub(crate) trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// Counts a statement that may change data once when it starts and once when it ends (or is
/// cancelled): a cached read is trusted only if the count did not move since before the read,
/// so reads that overlap a write, before or after it lands, are never trusted.
struct WriteCount<'a>(&'a AtomicU64);

impl<'a> WriteCount<'a> {
    fn start(count: &'a AtomicU64) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count)
    }
}

impl Drop for WriteCount<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Times a statement (or transaction) into `latch_db_query_seconds{kind}` when it ends, however it
/// ends.
struct Timed {
    kind: &'static str,
    started: std::time::Instant,
}

impl Timed {
    fn start(kind: &'static str) -> Self {
        #[allow(clippy::disallowed_methods)] // measures query latency for a metric, decides nothing
        let started = std::time::Instant::now();
        Self { kind, started }
    }

    fn of(sql: &str) -> Self {
        Self::start(if crate::is_select(sql) { "read" } else { "write" })
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        metrics::histogram!("latch_db_query_seconds", "kind" => self.kind).record(self.started.elapsed().as_secs_f64());
    }
}

impl SqlStore {
    fn count_write(&self, sql: &str) -> Option<WriteCount<'_>> {
        (!crate::is_select(sql)).then(|| WriteCount::start(&self.writes))
    }

    pub(crate) async fn exec(&self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError> {
        let _timed = Timed::of(sql);
        let _counted = self.count_write(sql);
        match &self.pool {
            Pool::Sqlite(p) => bind_all!(sqlx::query(sql), args)
                .execute(p.for_sql(sql))
                .await
                .map(|r| r.rows_affected()),
            Pool::Postgres(p) => bind_all!(sqlx::query(sql), args)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
        }
        .map_err(map_err)
    }

    pub(crate) async fn all<R: Row>(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<R>, StoreError> {
        let _timed = Timed::of(sql);
        let _counted = self.count_write(sql);
        match &self.pool {
            Pool::Sqlite(p) => {
                bind_all!(sqlx::query_as::<_, R>(sql), args)
                    .fetch_all(p.for_sql(sql))
                    .await
            }
            Pool::Postgres(p) => bind_all!(sqlx::query_as::<_, R>(sql), args).fetch_all(p).await,
        }
        .map_err(map_err)
    }

    pub(crate) async fn opt<R: Row>(&self, sql: &str, args: Vec<Arg>) -> Result<Option<R>, StoreError> {
        let _timed = Timed::of(sql);
        let _counted = self.count_write(sql);
        match &self.pool {
            Pool::Sqlite(p) => {
                bind_all!(sqlx::query_as::<_, R>(sql), args)
                    .fetch_optional(p.for_sql(sql))
                    .await
            }
            Pool::Postgres(p) => bind_all!(sqlx::query_as::<_, R>(sql), args).fetch_optional(p).await,
        }
        .map_err(map_err)
    }

    pub(crate) async fn count(&self, sql: &str, args: Vec<Arg>) -> Result<i64, StoreError> {
        let _timed = Timed::of(sql);
        let _counted = self.count_write(sql);
        match &self.pool {
            Pool::Sqlite(p) => {
                bind_all!(sqlx::query_scalar::<_, i64>(sql), args)
                    .fetch_one(p.for_sql(sql))
                    .await
            }
            Pool::Postgres(p) => bind_all!(sqlx::query_scalar::<_, i64>(sql), args).fetch_one(p).await,
        }
        .map_err(map_err)
    }

    /// Runs the statements in one transaction: all of them or none.
    pub(crate) async fn tx(&self, stmts: Vec<(&str, Vec<Arg>)>) -> Result<(), StoreError> {
        self.run_tx(None, stmts).await
    }

    /// `tx` behind an optimistic check: `guard` runs first, and when it changes no row (the
    /// record moved on since it was read, or is gone) nothing is written and the answer is
    /// `StoreError::Conflict`.
    pub(crate) async fn tx_guarded(
        &self,
        guard: (&str, Vec<Arg>),
        rest: Vec<(&str, Vec<Arg>)>,
    ) -> Result<(), StoreError> {
        self.run_tx(Some(guard), rest).await
    }

    async fn run_tx(&self, guard: Option<(&str, Vec<Arg>)>, stmts: Vec<(&str, Vec<Arg>)>) -> Result<(), StoreError> {
        let _timed = Timed::start("transaction");
        let _counted = WriteCount::start(&self.writes);
        // One body for both engines: only the transaction type differs.
        macro_rules! run {
            ($begin:expr) => {{
                let mut tx = $begin.await.map_err(map_err)?;
                if let Some((sql, args)) = guard {
                    let hit = bind_all!(sqlx::query(sql), args)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?
                        .rows_affected();
                    if hit == 0 {
                        tx.rollback().await.map_err(map_err)?;
                        return Err(StoreError::Conflict);
                    }
                }
                for (sql, args) in stmts {
                    bind_all!(sqlx::query(sql), args)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => run!(p.write.begin()),
            Pool::Postgres(p) => run!(p.begin()),
        }
    }
}
