//! The node caches in `engine` (projects, organizations) see another node's change once their
//! lifetime has passed on the clock, and not before: two contexts on one database stand for two
//! nodes, and one manual clock moves both.

use latch_core::clock::Clock;
use latch_core::engine::{organizations, projects, RECORD_CACHE_TTL};
use latch_testkit::fixtures::org;
use latch_testkit::{engines, manual_clock, TestApp, TestDb, PROJECT, SECRET};
use std::time::Duration;

const JUST_BEFORE: Duration = Duration::from_millis(RECORD_CACHE_TTL.as_millis() as u64 - 1);

#[tokio::test]
async fn an_organization_changed_on_another_node_is_seen_once_the_cache_entry_expires() {
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let clock = manual_clock();
        let a = TestApp::builder(&db).clock(clock.clone()).ctx().await;
        let b = TestApp::builder(&db).clock(clock.clone()).ctx().await;
        a.store
            .insert_org(&org(PROJECT, "org-1", "acme", clock.now().millis()))
            .await
            .unwrap();
        let seen = organizations::get_cached(&b, &PROJECT.into(), &"org-1".into())
            .await
            .unwrap();
        assert_eq!(seen.name, "Org acme", "[{engine}]");

        let mut renamed = a.store.find_org(&PROJECT.into(), "org-1").await.unwrap().unwrap();
        renamed.name = "Renamed".into();
        a.store.update_org(&mut renamed).await.unwrap();
        clock.advance(JUST_BEFORE);
        let cached = organizations::get_cached(&b, &PROJECT.into(), &"org-1".into())
            .await
            .unwrap();
        assert_eq!(
            cached.name, "Org acme",
            "[{engine}] served from b's cache within its lifetime"
        );
        clock.advance(Duration::from_millis(1));
        let fresh = organizations::get_cached(&b, &PROJECT.into(), &"org-1".into())
            .await
            .unwrap();
        assert_eq!(fresh.name, "Renamed", "[{engine}] reread once the lifetime passed");
        db.dispose().await;
    }
}

#[tokio::test]
async fn a_project_secret_changed_on_another_node_works_at_once_and_the_old_one_ends_with_the_cache_entry() {
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let clock = manual_clock();
        let a = TestApp::builder(&db).clock(clock.clone()).ctx().await;
        let b = TestApp::builder(&db).clock(clock.clone()).ctx().await;
        projects::authenticate(&b, &PROJECT.into(), SECRET).await.unwrap();

        let new_secret = "secret-test-rotated-0123456789ab";
        projects::ensure(a.store.as_ref(), &PROJECT.into(), new_secret)
            .await
            .unwrap();
        // b acts on its cached project for the cache's lifetime: the replaced secret still works…
        clock.advance(JUST_BEFORE);
        assert!(
            projects::authenticate(&b, &PROJECT.into(), SECRET).await.is_ok(),
            "[{engine}] b still checks against its cached project"
        );
        // …while a secret b has not seen is checked against the database before it is refused,
        // so the new one works at once, and from that reread on the replaced one is refused.
        projects::authenticate(&b, &PROJECT.into(), new_secret)
            .await
            .unwrap_or_else(|e| panic!("[{engine}] a new secret works at once: {e:?}"));
        assert!(
            projects::authenticate(&b, &PROJECT.into(), SECRET).await.is_err(),
            "[{engine}] the replaced secret ends with the reread"
        );

        db.dispose().await;
    }
}
