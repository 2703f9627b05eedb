//! One `SqlStore` over SQLite (embedded, the default) or PostgreSQL (several nodes, one database).
//! Queries are written once with `$n` placeholders, which both drivers accept; only the DDL in
//! `migrations/{sqlite,postgres}` differs.

#![forbid(unsafe_code)]

mod exec;
mod impl_store;
mod rows;
mod search;
pub mod testing;

use latch_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone, Debug)]
pub struct SqlStore {
    pub(crate) pool: Pool,
}

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

impl SqlStore {
    /// Opens `url` (`sqlite:path` or `postgres://…`) and applies pending migrations. Any other
    /// scheme is refused rather than guessed at.
    pub async fn connect(url: &str, opts: &PoolOptions) -> Result<Self, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(backend)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(backend)?;
            sqlx::migrate!("./migrations/sqlite")
                .run(&pool)
                .await
                .map_err(backend)?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(backend)?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options)
                .await
                .map_err(backend)?;
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .map_err(backend)?;
            Pool::Postgres(pool)
        } else {
            return Err(StoreError::Backend(format!(
                "unsupported database URL scheme in '{}': use sqlite: or postgres://",
                url.split(':').next().unwrap_or("")
            )));
        };
        Ok(Self { pool })
    }

    pub fn engine(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Versions of both migration trees, so a test can check they never drift apart.
pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
    let s = sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .collect();
    let p = sqlx::migrate!("./migrations/postgres")
        .iter()
        .map(|m| m.version)
        .collect();
    (s, p)
}
