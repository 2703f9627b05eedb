//! The audit log's store: batches stored whole and idempotently, listings newest first with
//! every filter and a stable cursor, tenant isolation, and purge by age.

use latch_core::clock::Timestamp;
use latch_core::ids::ProjectId;
use latch_core::model::audit::{AuditActor, AuditCursor, AuditEvent, AuditOutcome, AuditQuery};
use latch_core::store::prelude::*;
use latch_core::store::Expiring;
use latch_testkit::on_each_engine;
use serde_json::json;

fn event(project: &str, id: &str, time: i64, event_type: &str) -> AuditEvent {
    let project: ProjectId = project.into();
    let mut e = AuditEvent::new(&project, event_type, Timestamp(time), AuditActor::project(&project));
    e.event_id = id.to_string();
    e
}

fn query(limit: u32) -> AuditQuery {
    AuditQuery {
        limit,
        ..AuditQuery::default()
    }
}

fn ids(events: &[AuditEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_id.as_str()).collect()
}

#[tokio::test]
async fn events_round_trip_with_every_field() {
    on_each_engine(|s| async move {
        let mut e = event("pa", "e-1", 1_000, "passwords.authenticate");
        e.outcome = AuditOutcome::Failure;
        e.reason = Some("unauthorized_credentials".into());
        e.actor = AuditActor::member(&"m-9".into());
        e.organization_id = Some("org-1".into());
        e.member_id = Some("m-1".into());
        e.session_id = Some("s-1".into());
        e.client_address = Some("2001:db8::1".into());
        e.request_id = Some("request-id-test-1".into());
        e.status_code = Some(401);
        e.details.insert("cause".into(), json!("wrong_password"));
        e.details.insert("roles".into(), json!(["a", "b"]));
        let plain = event("pa", "e-2", 2_000, "sessions.revoke");
        s.insert_audit_events(&[e.clone(), plain.clone()]).await.unwrap();
        let got = s.audit_events(&"pa".into(), &query(10)).await.unwrap();
        assert_eq!(got, vec![plain, e], "newest first, every field as written");
    })
    .await;
}

#[tokio::test]
async fn a_batch_stored_again_is_not_an_error_and_not_a_duplicate() {
    on_each_engine(|s| async move {
        let batch: Vec<AuditEvent> = (0..450)
            .map(|i| event("pa", &format!("e-{i:04}"), 1_000 + i, "x.y"))
            .collect();
        // More rows than one statement carries: several statements, one transaction.
        s.insert_audit_events(&batch).await.unwrap();
        s.insert_audit_events(&batch[100..300]).await.unwrap();
        s.insert_audit_events(&[]).await.unwrap();
        let got = s.audit_events(&"pa".into(), &query(1000)).await.unwrap();
        assert_eq!(got.len(), 450);
    })
    .await;
}

#[tokio::test]
async fn listings_filter_by_target_type_outcome_and_time_within_the_project_only() {
    on_each_engine(|s| async move {
        let mut a = event("pa", "a", 1_000, "passwords.authenticate");
        a.organization_id = Some("org-1".into());
        a.member_id = Some("m-1".into());
        let mut b = event("pa", "b", 2_000, "passwords.email.reset_start");
        b.organization_id = Some("org-1".into());
        b.member_id = Some("m-2".into());
        b.outcome = AuditOutcome::Failure;
        b.reason = Some("member_not_found".into());
        let mut c = event("pa", "c", 3_000, "magic_links.authenticate");
        c.organization_id = Some("org-2".into());
        c.session_id = Some("s-1".into());
        // `_` in a prefix is a character, not a wildcard.
        let d = event("pa", "d", 4_000, "magicXlinks.authenticate");
        let other = event("pb", "z", 2_500, "passwords.authenticate");
        s.insert_audit_events(&[a, b, c, d, other]).await.unwrap();
        let list = |q: AuditQuery| {
            let s = s.clone();
            async move {
                ids(&s.audit_events(&"pa".into(), &q).await.unwrap())
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(list(query(10)).await, ["d", "c", "b", "a"]);
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = query(10);
            f(&mut q);
            q
        };
        assert_eq!(list(q(|q| q.organization_id = Some("org-1".into()))).await, ["b", "a"]);
        assert_eq!(list(q(|q| q.member_id = Some("m-2".into()))).await, ["b"]);
        assert_eq!(list(q(|q| q.session_id = Some("s-1".into()))).await, ["c"]);
        assert_eq!(list(q(|q| q.event_type = Some("passwords.".into()))).await, ["b", "a"]);
        assert_eq!(
            list(q(|q| q.event_type = Some("passwords.authenticate".into()))).await,
            ["a"]
        );
        assert_eq!(list(q(|q| q.event_type = Some("magic_links".into()))).await, ["c"]);
        assert_eq!(list(q(|q| q.outcome = Some(AuditOutcome::Failure))).await, ["b"]);
        assert_eq!(
            list(q(|q| q.outcome = Some(AuditOutcome::Success))).await,
            ["d", "c", "a"]
        );
        assert_eq!(
            list(q(|q| {
                q.since = Some(Timestamp(2_000));
                q.until = Some(Timestamp(4_000));
            }))
            .await,
            ["c", "b"],
            "since is inclusive, until exclusive"
        );
        assert_eq!(
            list(q(|q| {
                q.organization_id = Some("org-1".into());
                q.outcome = Some(AuditOutcome::Success);
            }))
            .await,
            ["a"],
            "filters combine"
        );
        // Another project's events are invisible, whatever the filter.
        let theirs = s.audit_events(&"pb".into(), &query(10)).await.unwrap();
        assert_eq!(ids(&theirs), ["z"]);
        assert!(s.audit_events(&"pc".into(), &query(10)).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_cursor_pages_through_events_of_the_same_millisecond_without_gaps_or_repeats() {
    on_each_engine(|s| async move {
        let mut batch = Vec::new();
        for i in 0..7 {
            // Three events share each millisecond: the event id orders them.
            batch.push(event("pa", &format!("e-{i}"), 1_000 + i / 3, "x.y"));
        }
        s.insert_audit_events(&batch).await.unwrap();
        let mut seen = Vec::new();
        let mut q = query(2);
        loop {
            let page = s.audit_events(&"pa".into(), &q).await.unwrap();
            // One more than the limit says there is a next page.
            let more = page.len() > 2;
            let page: Vec<AuditEvent> = page.into_iter().take(2).collect();
            seen.extend(page.iter().map(|e| e.event_id.clone()));
            if !more {
                break;
            }
            let last = page.last().unwrap();
            let cursor = AuditCursor {
                time: last.time,
                event_id: last.event_id.clone(),
            };
            q.after = Some(AuditCursor::decode(&cursor.encode()).unwrap());
        }
        assert_eq!(seen, ["e-6", "e-5", "e-4", "e-3", "e-2", "e-1", "e-0"]);
    })
    .await;
}

#[tokio::test]
async fn housekeeping_purges_events_by_age_in_batches() {
    on_each_engine(|s| async move {
        let batch: Vec<AuditEvent> = (0..5)
            .map(|i| event("pa", &format!("old-{i}"), 1_000 + i, "x.y"))
            .collect();
        s.insert_audit_events(&batch).await.unwrap();
        s.insert_audit_events(&[event("pa", "new", 9_000, "x.y")])
            .await
            .unwrap();
        assert_eq!(
            s.purge_expired(Expiring::AuditEvents, Timestamp(1_004), 3)
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            s.purge_expired(Expiring::AuditEvents, Timestamp(1_004), 3)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            s.purge_expired(Expiring::AuditEvents, Timestamp(1_004), 3)
                .await
                .unwrap(),
            0
        );
        assert_eq!(ids(&s.audit_events(&"pa".into(), &query(10)).await.unwrap()), ["new"]);
    })
    .await;
}
