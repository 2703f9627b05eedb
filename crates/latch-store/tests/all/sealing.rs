//! Secrets at rest: what the store writes for a secret is sealed under the KEK and bound to its
//! record; a store opened with another key refuses to start; `rewrap` moves every value to the
//! current key; values an older version left in clear are sealed at the next start.

use latch_core::clock::Timestamp;
use latch_core::model::credentials::{RecoveryCodeRecord, TotpRecord};
use latch_core::seal::{self, Sealer};
use latch_core::store::prelude::*;
use latch_store::{PoolOptions, SqlStore};
use latch_testkit::{engines, fixtures, TestDb};
use std::sync::Arc;

fn sealer(key: u8, previous: &[u8]) -> Arc<Sealer> {
    let prev: Vec<Vec<u8>> = previous.iter().map(|b| vec![*b; seal::KEY_LEN]).collect();
    let prev: Vec<&[u8]> = prev.iter().map(|k| k.as_slice()).collect();
    Arc::new(Sealer::new(&[key; seal::KEY_LEN], &prev).unwrap())
}

async fn open(db: &TestDb, sealer: Arc<Sealer>) -> Result<SqlStore, latch_core::StoreError> {
    SqlStore::connect(&db.url, &PoolOptions::default(), sealer).await
}

/// Every sealed column's stored text, read with plain SQL (what a stolen database shows).
async fn raw(db: &TestDb, sql: &str) -> Vec<String> {
    use sqlx::Row;
    match db.engine {
        "sqlite" => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows.iter().map(|r| r.get::<String, _>(0)).collect()
        }
        _ => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows.iter().map(|r| r.get::<String, _>(0)).collect()
        }
    }
}

async fn exec(db: &TestDb, sql: &str) {
    match db.engine {
        "sqlite" => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        _ => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

fn totp() -> TotpRecord {
    TotpRecord {
        totp_id: "t-1".into(),
        project_id: "pa".into(),
        member_id: fixtures::seeded_member().member_id,
        secret: "JBSWY3DPEHPK3PXP".into(),
        active: false,
        last_used_step: 0,
        created_at: Timestamp(1),
        expires_at: Timestamp(100),
    }
}

fn recovery_code() -> RecoveryCodeRecord {
    RecoveryCodeRecord {
        code_id: "c-1".into(),
        project_id: "pa".into(),
        member_id: fixtures::seeded_member().member_id,
        code_hash: "digest".into(),
        code: Some("abcd-efgh-ijkl".into()),
        hint: "ijkl".into(),
        used: false,
        created_at: Timestamp(1),
    }
}

#[tokio::test]
async fn secrets_are_stored_sealed_and_read_back_in_clear() {
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let s = open(&db, sealer(1, &[])).await.unwrap();
        fixtures::seed(&s).await;
        s.save_totp(&totp(), &[recovery_code()]).await.unwrap();
        s.insert_message(&fixtures::message("pa", "msg-1", Timestamp(1)))
            .await
            .unwrap();

        let stored = raw(&db, "SELECT secret FROM totp_registrations").await;
        assert!(
            stored[0].starts_with("s1.") && !stored[0].contains("JBSWY3DPEHPK3PXP"),
            "{stored:?}"
        );
        let stored = raw(&db, "SELECT code_sealed FROM recovery_codes").await;
        assert!(
            stored[0].starts_with("s1.") && !stored[0].contains("abcd"),
            "{stored:?}"
        );
        for column in ["text", "code"] {
            let stored = raw(&db, &format!("SELECT {column} FROM outbox_messages")).await;
            assert!(
                stored[0].starts_with("s1.") && !stored[0].contains("123456"),
                "{column}: {stored:?}"
            );
        }
        assert_eq!(s.totp_of(&"pa".into(), &totp().member_id).await.unwrap(), Some(totp()));
        assert_eq!(
            s.recovery_codes(&"pa".into(), &totp().member_id).await.unwrap(),
            vec![recovery_code()]
        );
        let msgs = s.list_messages(&"pa".into(), None, 10).await.unwrap();
        assert_eq!(msgs[0].code.as_deref(), Some("123456"));
        assert_eq!(msgs[0].text, "Your code is 123456");

        // A sealed value moved to another record does not open there: the read fails, it is
        // never taken for the other record's secret.
        exec(&db, "UPDATE totp_registrations SET totp_id = 't-2'").await;
        assert!(s.totp_of(&"pa".into(), &totp().member_id).await.is_err());
        s.close().await;
        db.dispose().await;
    }
}

#[tokio::test]
async fn a_node_with_another_key_refuses_to_start_and_rewrap_moves_to_the_new_key() {
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let s = open(&db, sealer(1, &[])).await.unwrap();
        fixtures::seed(&s).await;
        s.save_totp(&totp(), &[recovery_code()]).await.unwrap();
        s.close().await;

        let err = open(&db, sealer(2, &[])).await.unwrap_err().to_string();
        assert!(err.contains(&seal::key_id(&[1; 32])), "{err}");

        // The new key current, the old one previous: both open, rewrap reseals under the new one.
        let s = open(&db, sealer(2, &[1])).await.unwrap();
        assert_eq!(s.totp_of(&"pa".into(), &totp().member_id).await.unwrap(), Some(totp()));
        let report = s.rewrap().await.unwrap();
        assert_eq!(report.rewrapped, 2, "the TOTP secret and the recovery code");
        assert_eq!(report.retired_keys, vec![seal::key_id(&[1; 32])]);
        assert_eq!(s.rewrap().await.unwrap().rewrapped, 0, "nothing left to do");
        s.close().await;

        // The old key can go now; the new one alone reads everything.
        let s = open(&db, sealer(2, &[])).await.unwrap();
        assert_eq!(s.totp_of(&"pa".into(), &totp().member_id).await.unwrap(), Some(totp()));
        assert_eq!(
            s.recovery_codes(&"pa".into(), &totp().member_id).await.unwrap(),
            vec![recovery_code()]
        );
        s.close().await;
        assert!(
            open(&db, sealer(1, &[])).await.is_err(),
            "the retired key no longer matches"
        );
        db.dispose().await;
    }
}

#[tokio::test]
async fn secrets_an_older_version_stored_in_clear_are_sealed_at_the_next_start() {
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let s = open(&db, sealer(1, &[])).await.unwrap();
        fixtures::seed(&s).await;
        s.close().await;
        // What a database from before sealing holds: plaintext, and no key registered.
        let member = fixtures::seeded_member().member_id;
        exec(
            &db,
            &format!(
                "INSERT INTO totp_registrations (totp_id, project_id, member_id, secret, active, last_used_step, created_at, expires_at) \
                 VALUES ('t-1', 'pa', '{member}', 'JBSWY3DPEHPK3PXP', FALSE, 0, 1, 100)"
            ),
        )
        .await;
        exec(&db, "DELETE FROM sealing_keys").await;

        let s = open(&db, sealer(3, &[])).await.unwrap();
        let stored = raw(&db, "SELECT secret FROM totp_registrations").await;
        assert!(
            stored[0].starts_with(&format!("s1.{}.", seal::key_id(&[3; 32]))),
            "{stored:?}"
        );
        assert_eq!(s.totp_of(&"pa".into(), &member).await.unwrap(), Some(totp()));
        s.close().await;
        db.dispose().await;
    }
}
