//! One `SqlStore` over SQLite (embedded, the default) or PostgreSQL (several nodes, one database).
//! Queries are written once with `$n` placeholders, which both drivers accept; only the DDL in
//! `migrations/{sqlite,postgres}` differs.

#![forbid(unsafe_code)]

/// The column lists the store reads and writes, in order, for tools that seed rows directly
/// (latch-bench): one list to change with the schema.
pub mod columns {
    pub use crate::rows::{MEMBER_COLUMNS, ORG_COLUMNS, SESSION_COLUMNS};
}
mod exec;
mod rows;
mod sealing;
mod search;
mod store;

pub use sealing::RewrapReport;

use latch_core::seal::Sealer;
use latch_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. Writers that race for its lock back off inside SQLite's
/// busy handler with sleeps of up to 100 ms, so all writes go through one connection and queue
/// in the pool instead; reads run on the others, which WAL lets proceed during a write.
#[derive(Clone, Debug)]
pub(crate) struct SqlitePools {
    pub(crate) read: SqlitePool,
    pub(crate) write: SqlitePool,
}

impl SqlitePools {
    /// The pool a statement runs on: only a plain SELECT may go to a reader.
    pub(crate) fn for_sql(&self, sql: &str) -> &SqlitePool {
        if is_select(sql) {
            &self.read
        } else {
            &self.write
        }
    }
}

pub(crate) fn is_select(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|h| h.eq_ignore_ascii_case("select"))
}

#[derive(Clone, Debug)]
pub struct SqlStore {
    pub(crate) pool: Pool,
    /// Moves when a statement other than SELECT starts and when it ends (see `Store::writes_seen`).
    pub(crate) writes: Arc<AtomicU64>,
    /// Seals and opens the secret columns (`sealing::FIELDS`).
    pub(crate) sealer: Arc<Sealer>,
}

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// SQLite's `mmap_size`: reads within it come from the mapping, not a `pread` into each
    /// connection's own small page cache (member search ran 3.7x faster at 64 MiB). Mapped pages
    /// count toward the process's RSS, hence a bound.
    pub sqlite_mmap_bytes: u64,
    pub sqlite_synchronous: SqliteDurability,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
            sqlite_mmap_bytes: 64 * 1024 * 1024,
            sqlite_synchronous: SqliteDurability::Full,
        }
    }
}

/// SQLite's `synchronous` setting in WAL mode: when a commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteDurability {
    /// The WAL is synced at checkpoints only: a commit survives the process crashing, but the
    /// last ones may be lost if the machine loses power (a revoked session back, a used code
    /// usable again).
    Normal,
    /// The WAL is synced at every commit: an acknowledged write survives power loss.
    Full,
    /// Full, and the directory is synced when the WAL is created or deleted.
    Extra,
}

impl FromStr for SqliteDurability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Self::Normal),
            "full" => Ok(Self::Full),
            "extra" => Ok(Self::Extra),
            other => Err(format!("'{other}' is not normal, full or extra")),
        }
    }
}

impl SqliteDurability {
    fn pragma(self) -> SqliteSynchronous {
        match self {
            Self::Normal => SqliteSynchronous::Normal,
            Self::Full => SqliteSynchronous::Full,
            Self::Extra => SqliteSynchronous::Extra,
        }
    }
}

impl SqlStore {
    /// Opens `url` (`sqlite:path` or `postgres://…`), applies pending migrations, and checks that
    /// `sealer` holds the key-encryption keys the database's secrets are sealed with (sealing any
    /// an older version left in clear). Any other scheme is refused rather than guessed at.
    pub async fn connect(url: &str, opts: &PoolOptions, sealer: Arc<Sealer>) -> Result<Self, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(backend)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(opts.sqlite_synchronous.pragma())
                .busy_timeout(Duration::from_secs(10))
                .pragma("mmap_size", opts.sqlite_mmap_bytes.to_string())
                .foreign_keys(true);
            // No ping before handing out a connection: it is a local file, and the ping is a round
            // trip to the connection's worker thread that cost as much as the query itself.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(options.clone())
                .await
                .map_err(backend)?;
            sqlx::migrate!("./migrations/sqlite")
                .run(&write)
                .await
                .map_err(backend)?;
            // An in-memory database exists once per connection: it cannot be split.
            let read = if url.contains(":memory:") || url.contains("mode=memory") {
                write.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .test_before_acquire(false)
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(backend)?
            };
            Pool::Sqlite(SqlitePools { read, write })
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
        let store = Self {
            pool,
            writes: Arc::new(AtomicU64::new(0)),
            sealer,
        };
        store.prepare_sealing().await?;
        Ok(store)
    }

    pub fn engine(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Connections open and idle across the store's pools (metrics).
    pub fn pool_stats(&self) -> (u32, usize) {
        match &self.pool {
            Pool::Sqlite(p) => (p.read.size() + p.write.size(), p.read.num_idle() + p.write.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => {
                p.read.close().await;
                p.write.close().await;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_map_the_configured_size() {
        let db = latch_testkit::TestDb::new("sqlite").await;
        let opts = PoolOptions {
            sqlite_mmap_bytes: 8 * 1024 * 1024,
            ..PoolOptions::default()
        };
        let store = SqlStore::connect(&db.url, &opts, Arc::new(Sealer::ephemeral()))
            .await
            .unwrap();
        let Pool::Sqlite(pools) = &store.pool else {
            unreachable!("a sqlite: URL")
        };
        for pool in [&pools.read, &pools.write] {
            let size: i64 = sqlx::query_scalar("PRAGMA mmap_size").fetch_one(pool).await.unwrap();
            assert_eq!(size, 8 * 1024 * 1024);
        }
        store.close().await;
        db.dispose().await;
    }

    /// The upgrade to projects at runtime (migration 17) keeps every project working: its secret
    /// moves to the secrets table, and it becomes the test environment of a workspace project
    /// named after it.
    #[tokio::test]
    async fn projects_from_before_migration_17_keep_their_secret() {
        use latch_core::store::{ProjectStore, WorkspaceStore};
        for engine in latch_testkit::engines() {
            let db = latch_testkit::TestDb::new(engine).await;
            let insert = "INSERT INTO projects (project_id, name, secret_hash, created_at) \
                          VALUES ('project-test-old', 'old', 'digest', 5)";
            macro_rules! before_17 {
                ($dir:literal, $pool:expr) => {{
                    let mut m = sqlx::migrate!($dir);
                    m.migrations = m.migrations.iter().filter(|m| m.version < 17).cloned().collect();
                    m.run(&$pool).await.unwrap();
                    sqlx::query(insert).execute(&$pool).await.unwrap();
                    $pool.close().await;
                }};
            }
            if engine == "sqlite" {
                let options = SqliteConnectOptions::from_str(&db.url).unwrap().create_if_missing(true);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                before_17!("./migrations/sqlite", pool);
            } else {
                let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
                before_17!("./migrations/postgres", pool);
            }
            let store = db.connect().await;
            let p = store.get_project(&"project-test-old".into()).await.unwrap().unwrap();
            assert_eq!(p.secret_hashes, vec!["digest".to_string()], "{engine}");
            assert_eq!(
                (p.project_slug.as_str(), p.environment_slug.as_str()),
                ("project-test-old", "test")
            );
            let w = store.workspace_project("project-test-old").await.unwrap().unwrap();
            assert_eq!((w.name.as_str(), w.vertical.as_str()), ("old", "B2B"));
            assert!(
                store.project_settings(&p.project_id).await.unwrap().is_none(),
                "stored at the next start"
            );
            store.close().await;
            db.dispose().await;
        }
    }
}
