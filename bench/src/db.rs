//! The bench's own connection to the database of the server it started: for the write limit
//! (`db_commit_rate`) and for bulk seeding of the scale scenario.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// SQLite's bound-parameter limit per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
const SQLITE_MAX_PARAMS: usize = 32_766;
/// Rows per `UNNEST` statement on PostgreSQL.
const PG_ROWS_PER_STATEMENT: usize = 20_000;
/// Rows per transaction: large enough that commits cost nothing, small enough that the WAL
/// (SQLite) stays small between checkpoints.
const ROWS_PER_TRANSACTION: usize = 200_000;

#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One column of a batch of rows.
pub enum Column {
    Text(Vec<String>),
    Int(Vec<i64>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::Int(v) => v.len(),
        }
    }
}

/// The value a table column gets: a column of the batch, or the same literal for every row.
pub enum Val {
    Col(usize),
    Text(String),
    Bool(bool),
    Int(i64),
    Null,
}

/// An `INSERT` of batches: `columns` in the table's order, one `Val` each.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static str,
    pub values: Vec<Val>,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn err(e: impl std::fmt::Display) -> String {
    format!("database: {e}")
}

impl Db {
    /// Opens `url` (`sqlite:<file>` or `postgres://…`) with `connections` connections; SQLite
    /// with the server's own pragmas (WAL, synchronous=NORMAL, busy timeout).
    pub async fn connect(url: &str, connections: u32) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let options = SqliteConnectOptions::new()
                .filename(path)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                // Bulk inserts into 2M-row indexes: keep their pages in memory (~1 GB at most).
                .pragma("cache_size", "-1000000")
                .pragma("temp_store", "memory");
            let pool = SqlitePoolOptions::new()
                .max_connections(connections.max(1))
                .connect_with(options)
                .await
                .map_err(err)?;
            Ok(Db::Sqlite(pool))
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(connections.max(1))
                .connect(url)
                .await
                .map_err(err)?;
            Ok(Db::Postgres(pool))
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Db::Sqlite(_))
    }

    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        match self {
            Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()).map_err(err),
            Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()).map_err(err),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    /// Rows per statement for `table`: SQLite is bound by its parameter limit.
    pub fn rows_per_statement(&self, table: &Table) -> usize {
        let bound = table.values.iter().filter(|v| matches!(v, Val::Col(_))).count().max(1);
        match self {
            Db::Sqlite(_) => SQLITE_MAX_PARAMS / bound,
            Db::Postgres(_) => PG_ROWS_PER_STATEMENT,
        }
    }

    /// Rows per transaction, a whole number of statements.
    pub fn rows_per_transaction(&self, table: &Table) -> usize {
        let per = self.rows_per_statement(table);
        (ROWS_PER_TRANSACTION / per).max(1) * per
    }

    /// Inserts `batches` (each at most `rows_per_transaction` rows) in one transaction.
    pub async fn insert(&self, table: &Table, batch: &[Column]) -> Result<(), String> {
        let rows = batch.first().map_or(0, Column::len);
        let per = self.rows_per_statement(table);
        match self {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.map_err(err)?;
                let mut start = 0;
                while start < rows {
                    let end = (start + per).min(rows);
                    let sql = sqlite_insert(table, end - start);
                    let mut q = sqlx::query(&sql);
                    for row in start..end {
                        for v in &table.values {
                            if let Val::Col(c) = v {
                                q = match &batch[*c] {
                                    Column::Text(t) => q.bind(t[row].as_str()),
                                    Column::Int(n) => q.bind(n[row]),
                                };
                            }
                        }
                    }
                    q.execute(&mut *tx).await.map_err(err)?;
                    start = end;
                }
                tx.commit().await.map_err(err)
            }
            Db::Postgres(pool) => {
                let sql = pg_insert(table, batch);
                let mut tx = pool.begin().await.map_err(err)?;
                let mut start = 0;
                while start < rows {
                    let end = (start + per).min(rows);
                    let mut q = sqlx::query(&sql);
                    for col in batch {
                        q = match col {
                            Column::Text(t) => q.bind(&t[start..end]),
                            Column::Int(n) => q.bind(&n[start..end]),
                        };
                    }
                    q.execute(&mut *tx).await.map_err(err)?;
                    start = end;
                }
                tx.commit().await.map_err(err)
            }
        }
    }

    /// Small single-row write transactions per second from `concurrency` tasks for `secs`, into
    /// a scratch table created and dropped here: what one of the server's small writes costs.
    pub async fn commit_rate(&self, concurrency: usize, secs: f64) -> Result<f64, String> {
        self.execute("DROP TABLE IF EXISTS latch_bench_scratch").await?;
        // Shaped like the server's small rows: a uuid text key, a short payload, a time.
        self.execute(
            "CREATE TABLE latch_bench_scratch (id TEXT PRIMARY KEY, payload TEXT NOT NULL, created_at BIGINT NOT NULL)",
        )
        .await?;
        let done = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let budget = Duration::from_secs_f64(secs);
        let mut tasks = Vec::new();
        for _ in 0..concurrency.max(1) {
            let (db, done, failed) = (self.clone(), done.clone(), failed.clone());
            tasks.push(tokio::spawn(async move {
                while start.elapsed() < budget && !failed.load(Ordering::Relaxed) {
                    let id = uuid::Uuid::new_v4().to_string();
                    let sql = "INSERT INTO latch_bench_scratch (id, payload, created_at) VALUES ($1, $2, $3)";
                    let now = i64::try_from(start.elapsed().as_micros()).unwrap_or(i64::MAX);
                    let r = match &db {
                        Db::Sqlite(p) => sqlx::query(sql)
                            .bind(&id)
                            .bind("x")
                            .bind(now)
                            .execute(p)
                            .await
                            .map(|_| ()),
                        Db::Postgres(p) => sqlx::query(sql)
                            .bind(&id)
                            .bind("x")
                            .bind(now)
                            .execute(p)
                            .await
                            .map(|_| ()),
                    };
                    if let Err(e) = r {
                        failed.store(true, Ordering::Relaxed);
                        return Err(err(e));
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }));
        }
        let mut outcome = Ok(());
        for t in tasks {
            if let Err(e) = t.await.map_err(|e| e.to_string()).and_then(|r| r) {
                outcome = Err(e);
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        self.execute("DROP TABLE IF EXISTS latch_bench_scratch").await?;
        outcome?;
        Ok(done.load(Ordering::Relaxed) as f64 / elapsed)
    }
}

/// `INSERT INTO t (cols) VALUES (…), (…)` for `rows` rows: `?` for batch columns, literals for
/// the rest (bench-made values, quoted).
fn sqlite_insert(table: &Table, rows: usize) -> String {
    let tuple: Vec<String> = table
        .values
        .iter()
        .map(|v| match v {
            Val::Col(_) => "?".to_owned(),
            Val::Text(s) => quote(s),
            Val::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
            Val::Int(i) => i.to_string(),
            Val::Null => "NULL".to_owned(),
        })
        .collect();
    let tuple = format!("({})", tuple.join(", "));
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", table.name, table.columns);
    sql.reserve((tuple.len() + 2) * rows);
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&tuple);
    }
    sql
}

/// `INSERT INTO t (cols) SELECT … FROM UNNEST($1::text[], $2::bigint[], …) AS u(c0, c1, …)`.
fn pg_insert(table: &Table, batch: &[Column]) -> String {
    let exprs: Vec<String> = table
        .values
        .iter()
        .map(|v| match v {
            Val::Col(c) => format!("u.c{c}"),
            Val::Text(s) => quote(s),
            Val::Bool(b) => b.to_string(),
            Val::Int(i) => i.to_string(),
            Val::Null => "NULL".to_owned(),
        })
        .collect();
    let arrays: Vec<String> = batch
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Column::Text(_) => format!("${}::text[]", i + 1),
            Column::Int(_) => format!("${}::bigint[]", i + 1),
        })
        .collect();
    let names: Vec<String> = (0..batch.len()).map(|i| format!("c{i}")).collect();
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM UNNEST({}) AS u({})",
        table.name,
        table.columns,
        exprs.join(", "),
        arrays.join(", "),
        names.join(", ")
    )
}
