//! Fresh databases for tests: a new SQLite file, or a new PostgreSQL database on the server named
//! by `LATCH_TEST_DATABASE_URL`, so every test starts empty and none sees another's rows.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;

/// The engines to run storage tests on: SQLite always, PostgreSQL when configured.
pub fn engines() -> Vec<&'static str> {
    let mut v = vec!["sqlite"];
    if std::env::var("LATCH_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        v.push("postgres");
    }
    v
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

fn base_url() -> String {
    std::env::var("LATCH_TEST_DATABASE_URL").expect("LATCH_TEST_DATABASE_URL")
}

async fn admin() -> sqlx::PgConnection {
    let opts = PgConnectOptions::from_str(&base_url()).expect("LATCH_TEST_DATABASE_URL");
    opts.connect().await.expect("connect to LATCH_TEST_DATABASE_URL")
}

/// `base` with its database name replaced.
fn with_database(base: &str, name: &str) -> String {
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

/// A one-time code record for storage tests: email, no member, nothing superseded.
pub fn otp_record(
    project_id: &str,
    scope: &str,
    otp_id: &str,
    recipient: &str,
    expires_at: latch_core::clock::Timestamp,
) -> latch_core::model::credentials::OtpRecord {
    latch_core::model::credentials::OtpRecord {
        otp_id: otp_id.into(),
        project_id: project_id.into(),
        scope: scope.into(),
        channel: "email".into(),
        recipient: recipient.into(),
        member_id: None,
        code_hash: format!("hash-{otp_id}"),
        salt: "salt".into(),
        attempts: 0,
        created_at: latch_core::clock::Timestamp(1),
        expires_at,
        superseded: vec![],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_name() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/x", "y"),
            "postgres://u@h:5432/y"
        );
        assert_eq!(super::with_database("postgres://u@h", "y"), "postgres://u@h/y");
        assert_eq!(
            super::with_database("postgres://h/x?sslmode=disable", "y"),
            "postgres://h/y?sslmode=disable"
        );
    }
}
