//! Fresh databases for tests: a new SQLite file, or a new PostgreSQL database on the server named
//! by `LATCH_TEST_DATABASE_URL`, so every test starts empty and none sees another's rows.

use latch_core::seal::Sealer;
use latch_store::{PoolOptions, SqlStore};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::future::Future;
use std::str::FromStr;

/// The key-encryption key of every test store and test server (base64 of 32 bytes), so nodes
/// started on one test database can read each other's sealed secrets.
pub const TEST_KEK: &str = "bGF0Y2gtdGVzdC1rZWstbm90LWZvci1wcm9kLXVzZSE=";

/// A sealer with `TEST_KEK`.
pub fn test_sealer() -> std::sync::Arc<Sealer> {
    let key = latch_core::seal::parse_key(TEST_KEK).expect("TEST_KEK is base64 of 32 bytes");
    std::sync::Arc::new(Sealer::new(&key, &[]).expect("TEST_KEK is a valid key"))
}

/// The engines to run storage tests on: SQLite always, PostgreSQL when configured.
pub fn engines() -> Vec<&'static str> {
    let mut v = vec!["sqlite"];
    if std::env::var("LATCH_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        v.push("postgres");
    }
    v
}

/// Runs a store test on each engine, each time on a fresh, empty database.
pub async fn on_each_engine<F, Fut>(test: F)
where
    F: Fn(SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    each_engine(false, test).await
}

/// Like `on_each_engine`, on a database holding `fixtures::seed`'s records.
pub async fn on_each_seeded_engine<F, Fut>(test: F)
where
    F: Fn(SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    each_engine(true, test).await
}

async fn each_engine<F, Fut>(seeded: bool, test: F)
where
    F: Fn(SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let store = db.connect().await;
        if seeded {
            crate::fixtures::seed(&store).await;
        }
        test(store.clone()).await;
        store.close().await;
        db.dispose().await;
    }
}

/// A database no one has used yet. Call `dispose` at the end of a test to remove it.
pub struct TestDb {
    pub url: String,
    pub engine: &'static str,
    name: String,
}

impl TestDb {
    pub async fn new(engine: &'static str) -> Self {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match engine {
            "sqlite" => {
                let dir = std::env::temp_dir().join(format!("latch-test-{tag}"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite:{}", dir.join("latch.db").display());
                Self {
                    url,
                    engine,
                    name: dir.display().to_string(),
                }
            }
            "postgres" => {
                let name = format!("latch_t_{tag}");
                let mut conn = admin().await;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                conn.close().await.ok();
                Self {
                    url: with_database(&base_url(), &name),
                    engine,
                    name,
                }
            }
            other => panic!("unknown engine {other}"),
        }
    }

    /// A store on this database, migrated.
    pub async fn connect(&self) -> SqlStore {
        SqlStore::connect(&self.url, &PoolOptions::default(), test_sealer())
            .await
            .expect("connect")
    }

    pub async fn dispose(self) {
        match self.engine {
            "postgres" => {
                let mut conn = admin().await;
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                    .execute(&mut conn)
                    .await;
                conn.close().await.ok();
            }
            _ => {
                let _ = std::fs::remove_dir_all(&self.name);
            }
        }
    }
}

/// A SQLite test database removed when dropped (for holders that cannot await `dispose`).
pub(crate) struct DropDb(pub(crate) TestDb);

impl Drop for DropDb {
    fn drop(&mut self) {
        if self.0.engine == "sqlite" {
            let _ = std::fs::remove_dir_all(&self.0.name);
        }
    }
}

fn base_url() -> String {
    std::env::var("LATCH_TEST_DATABASE_URL").expect("LATCH_TEST_DATABASE_URL")
}

async fn admin() -> sqlx::PgConnection {
    let opts = PgConnectOptions::from_str(&base_url()).expect("LATCH_TEST_DATABASE_URL");
    opts.connect().await.expect("connect to LATCH_TEST_DATABASE_URL")
}

/// `base` with its database name replaced (public so the store tests can check it).
pub fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}
