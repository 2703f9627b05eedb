//! Organizations, members, projects, search, the outbox and optimistic writes.

use latch_core::clock::Timestamp;
use latch_core::delivery::{Channel, StoredMessage};
use latch_core::ids::OrganizationId;
use latch_core::model::member::{MemberRecord, RetiredEmail};
use latch_core::model::search::{MemberFilter, Operator, OrgFilter, Page, Query};
use latch_core::store::prelude::*;
use latch_core::StoreError;
use latch_store::{PoolOptions, SqlStore};
use latch_testkit::fixtures::{member, org, project};
use latch_testkit::{engines, on_each_engine, TestDb};
use serde_json::json;

fn all() -> Page {
    Page {
        after: None,
        limit: 100,
    }
}

fn and<F>(filters: Vec<F>) -> Query<F> {
    Query {
        operator: Operator::And,
        filters,
    }
}

#[test]
fn migration_trees_have_the_same_versions() {
    let (sqlite, postgres) = latch_store::migration_versions();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn refuses_unknown_url_schemes() {
    let err = SqlStore::connect(
        "mysql://localhost/x",
        &PoolOptions::default(),
        latch_testkit::test_sealer(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("unsupported"), "{err}");
}

#[tokio::test]
async fn projects_round_trip() {
    on_each_engine(|s| async move {
        s.insert_project(&project("project-a"), &[]).await.unwrap();
        assert_eq!(s.count_projects().await.unwrap(), 1);
        assert!(matches!(
            s.insert_project(&project("project-a"), &[]).await,
            Err(StoreError::UniqueViolation)
        ));
        let mut second = latch_testkit::fixtures::secret("project-a");
        second.secret_hash = "h2".into();
        s.replace_project_secrets(&second).await.unwrap();
        assert_eq!(
            s.get_project(&"project-a".into()).await.unwrap().unwrap().secret_hashes,
            vec!["h2".to_string()]
        );
        assert!(s.get_project(&"project-b".into()).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn the_write_count_moves_with_every_write_and_only_then() {
    on_each_engine(|s| async move {
        let before = s.writes_seen();
        s.get_project(&"project-a".into()).await.unwrap();
        s.count_projects().await.unwrap();
        assert_eq!(s.writes_seen(), before, "reads leave it alone");
        s.insert_project(&project("project-a"), &[]).await.unwrap();
        let after_insert = s.writes_seen();
        assert!(after_insert > before);
        // A failed write may have changed nothing, but it still counts.
        assert!(s.insert_project(&project("project-a"), &[]).await.is_err());
        assert!(s.writes_seen() > after_insert);
        // Clones share the count: the node's one store.
        let clone = s.clone();
        let now = clone.writes_seen();
        s.replace_project_secrets(&latch_testkit::fixtures::secret("project-a"))
            .await
            .unwrap();
        assert!(clone.writes_seen() > now);
    })
    .await;
}

#[tokio::test]
async fn organizations_are_found_by_id_slug_and_external_id_within_their_project_only() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        s.insert_project(&project("pb"), &[]).await.unwrap();
        let mut a = org("pa", "org-1", "acme", 1);
        a.external_id = Some("ext-1".into());
        a.settings.email_allowed_domains = vec!["acme.test".into()];
        s.insert_org(&a).await.unwrap();
        for locator in ["org-1", "acme", "ext-1"] {
            assert_eq!(
                s.find_org(&"pa".into(), locator).await.unwrap().as_ref(),
                Some(&a),
                "{locator}"
            );
            assert!(
                s.find_org(&"pb".into(), locator).await.unwrap().is_none(),
                "tenant isolation for {locator}"
            );
        }
        // Same slug in another project is fine; in the same project it is refused.
        s.insert_org(&org("pb", "org-2", "acme", 2)).await.unwrap();
        assert!(matches!(
            s.insert_org(&org("pa", "org-3", "acme", 3)).await,
            Err(StoreError::UniqueViolation)
        ));
        // A refused insert writes nothing, not even domain rows.
        assert!(s.find_org(&"pa".into(), "org-3").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn no_organization_can_take_another_ones_id_slug_or_external_id() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        s.insert_project(&project("pb"), &[]).await.unwrap();
        let mut a = org("pa", "org-1", "acme", 1);
        a.external_id = Some("ext-1".into());
        s.insert_org(&a).await.unwrap();
        let mut b = org("pa", "org-2", "beta", 2);
        b.external_id = Some("beta".into()); // its own slug: allowed
        s.insert_org(&b).await.unwrap();
        // The store refuses, whatever the service checked before (two writes may race past it).
        for taken in ["ext-1", "org-1", "acme"] {
            let mut slug = b.clone();
            slug.slug = taken.into();
            assert!(
                matches!(s.update_org(&mut slug).await, Err(StoreError::UniqueViolation)),
                "slug {taken}"
            );
            let mut ext = b.clone();
            ext.external_id = Some(taken.into());
            assert!(
                matches!(s.update_org(&mut ext).await, Err(StoreError::UniqueViolation)),
                "ext {taken}"
            );
            let mut new = org("pa", "org-3", taken, 3);
            assert!(
                matches!(s.insert_org(&new).await, Err(StoreError::UniqueViolation)),
                "new slug {taken}"
            );
            new.slug = "gamma".into();
            new.external_id = Some(taken.into());
            assert!(
                matches!(s.insert_org(&new).await, Err(StoreError::UniqueViolation)),
                "new ext {taken}"
            );
        }
        assert_eq!(s.find_org(&"pa".into(), "ext-1").await.unwrap().as_ref(), Some(&a));
        assert_eq!(s.find_org(&"pa".into(), "beta").await.unwrap().as_ref(), Some(&b));
        // Another project may use the same strings; a freed locator can be taken.
        let mut other = org("pb", "org-9", "ext-1", 1);
        other.external_id = Some("acme".into());
        s.insert_org(&other).await.unwrap();
        a.external_id = None;
        s.update_org(&mut a).await.unwrap();
        b.slug = "ext-1".into();
        s.update_org(&mut b).await.unwrap();
        assert_eq!(s.find_org(&"pa".into(), "ext-1").await.unwrap().as_ref(), Some(&b));
        // Deleting an organization frees its locators.
        s.delete_org(&"pa".into(), &"org-1".into()).await.unwrap();
        s.insert_org(&org("pa", "org-4", "acme", 4)).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn organization_update_and_cascading_delete() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        let mut a = org("pa", "org-1", "acme", 1);
        s.insert_org(&a).await.unwrap();
        a.name = "Renamed".into();
        a.settings.mfa_policy = latch_core::model::organization::MfaPolicy::RequiredForAll;
        a.settings.claimed_email_domains = vec!["acme.test".into()];
        a.updated_at = Timestamp(5);
        s.update_org(&mut a).await.unwrap();
        assert_eq!(s.find_org(&"pa".into(), "org-1").await.unwrap().unwrap(), a);
        let mut m = member(&a, "m-1", "x@acme.test", 1);
        s.insert_member(&m).await.unwrap();
        let retired = RetiredEmail {
            email_id: "e-1".into(),
            email_address: "old@acme.test".into(),
            member_id: "m-1".into(),
        };
        s.update_member(&mut m, Some(&retired)).await.unwrap();
        s.delete_org(&"pa".into(), &"org-1".into()).await.unwrap();
        assert!(s.find_org(&"pa".into(), "org-1").await.unwrap().is_none());
        assert!(s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().is_none());
        assert!(s
            .retired_emails(&"pa".into(), &["m-1".into()])
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn member_identifiers_are_unique_among_live_members() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        let o = org("pa", "org-1", "acme", 1);
        s.insert_org(&o).await.unwrap();
        let mut m1 = member(&o, "m-1", "a@acme.test", 1);
        m1.mfa_phone_number = "+12025550123".into();
        m1.external_id = Some("ext".into());
        s.insert_member(&m1).await.unwrap();
        assert_eq!(
            s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().as_ref(),
            Some(&m1)
        );
        for clash in [
            member(&o, "m-2", "a@acme.test", 2),
            MemberRecord {
                mfa_phone_number: "+12025550123".into(),
                ..member(&o, "m-2", "b@acme.test", 2)
            },
            MemberRecord {
                external_id: Some("ext".into()),
                ..member(&o, "m-2", "b@acme.test", 2)
            },
        ] {
            assert!(matches!(
                s.insert_member(&clash).await,
                Err(StoreError::UniqueViolation)
            ));
        }
        // A deleted member frees its email.
        m1.status = latch_core::model::member::MemberStatus::Deleted;
        s.update_member(&mut m1, None).await.unwrap();
        assert!(s
            .member_by_email(&"pa".into(), &"org-1".into(), "a@acme.test")
            .await
            .unwrap()
            .is_none());
        s.insert_member(&member(&o, "m-2", "a@acme.test", 2)).await.unwrap();
        assert_eq!(
            s.member_by_email(&"pa".into(), &"org-1".into(), "a@acme.test")
                .await
                .unwrap()
                .unwrap()
                .member_id,
            "m-2"
        );
        assert_eq!(s.count_members(&"pa".into(), &"org-1".into()).await.unwrap(), 1);
        // find_member prefers the live member over a deleted one with the same external id.
        let mut m3 = member(&o, "m-3", "c@acme.test", 3);
        m3.external_id = Some("ext".into());
        s.insert_member(&m3).await.unwrap();
        assert_eq!(
            s.find_member(&"pa".into(), &"org-1".into(), "ext")
                .await
                .unwrap()
                .unwrap()
                .member_id,
            "m-3"
        );
        assert!(s
            .find_member(&"pb".into(), &"org-1".into(), "m-3")
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
async fn retired_emails_are_recorded_with_the_update() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        let o = org("pa", "org-1", "acme", 1);
        s.insert_org(&o).await.unwrap();
        let mut m = member(&o, "m-1", "old@acme.test", 1);
        s.insert_member(&m).await.unwrap();
        m.email = "new@acme.test".into();
        let r = RetiredEmail {
            email_id: "e-1".into(),
            email_address: "old@acme.test".into(),
            member_id: "m-1".into(),
        };
        s.update_member(&mut m, Some(&r)).await.unwrap();
        assert_eq!(
            s.retired_emails(&"pa".into(), &["m-1".into()]).await.unwrap(),
            vec![r.clone()]
        );
        assert_eq!(
            s.retired_email_owner(&"pa".into(), &"org-1".into(), "old@acme.test")
                .await
                .unwrap(),
            Some(r)
        );
        // The same email cannot be retired twice in one organization: the whole update rolls back.
        m.name = "changed".into();
        let dup = RetiredEmail {
            email_id: "e-2".into(),
            email_address: "old@acme.test".into(),
            member_id: "m-1".into(),
        };
        assert!(s.update_member(&mut m, Some(&dup)).await.is_err());
        assert_eq!(
            s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap().name,
            ""
        );
        s.delete_retired_email(&"pa".into(), "e-1").await.unwrap();
        assert!(s
            .retired_email_owner(&"pa".into(), &"org-1".into(), "old@acme.test")
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
async fn organization_search_filters_and_pages() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        s.insert_project(&project("pb"), &[]).await.unwrap();
        for i in 0..5 {
            let mut o = org("pa", &format!("org-{i}"), &format!("slug-{i}"), 10 + i);
            if i % 2 == 0 {
                o.settings.email_allowed_domains = vec![format!("even{i}.test")];
            }
            o.settings.claimed_email_domains = vec![format!("claim{i}.test")];
            s.insert_org(&o).await.unwrap();
        }
        s.insert_org(&org("pb", "org-x", "slug-x", 1)).await.unwrap();
        let o0 = s.find_org(&"pa".into(), "org-0").await.unwrap().unwrap();
        s.insert_member(&member(&o0, "m-1", "Someone@Acme.test".to_lowercase().as_str(), 1))
            .await
            .unwrap();

        let everything = s.search_orgs(&"pa".into(), &and(vec![]), &all()).await.unwrap();
        assert_eq!(everything.total, 5);
        assert!(everything.items.iter().all(|o| o.project_id == "pa"));

        // Walk pages of two: every org once, in creation order, and the last page says so.
        let mut seen = vec![];
        let mut page = Page { after: None, limit: 2 };
        loop {
            let f = s.search_orgs(&"pa".into(), &and(vec![]), &page).await.unwrap();
            seen.extend(f.items.iter().map(|o| o.organization_id.clone()));
            if !f.has_more {
                break;
            }
            let last = f.items.last().unwrap();
            page.after = Some(latch_core::model::search::Cursor {
                created_at: last.created_at.millis(),
                id: last.organization_id.to_string(),
            });
        }
        assert_eq!(seen, (0..5).map(|i| format!("org-{i}")).collect::<Vec<_>>());

        let cases: Vec<(Vec<OrgFilter>, Vec<&str>)> = vec![
            (
                vec![OrgFilter::Ids(vec!["org-1".into(), "org-x".into()])],
                vec!["org-1"],
            ),
            (vec![OrgFilter::Slugs(vec!["slug-2".into()])], vec!["org-2"]),
            (vec![OrgFilter::NameFuzzy("SLUG-3".into())], vec!["org-3"]),
            (vec![OrgFilter::SlugFuzzy("ug-4".into())], vec!["org-4"]),
            (
                vec![OrgFilter::MemberEmails(vec!["someone@acme.test".into()])],
                vec!["org-0"],
            ),
            (vec![OrgFilter::MemberEmailFuzzy("acme".into())], vec!["org-0"]),
            (
                vec![OrgFilter::AllowedDomains(vec!["even2.test".into()])],
                vec!["org-2"],
            ),
            (
                vec![OrgFilter::AllowedDomainFuzzy("even".into())],
                vec!["org-0", "org-2", "org-4"],
            ),
            (
                vec![OrgFilter::ClaimedDomains(vec!["claim3.test".into()])],
                vec!["org-3"],
            ),
            (vec![OrgFilter::HasActiveSso(true)], vec![]),
            (
                vec![
                    OrgFilter::AllowedDomainFuzzy("even".into()),
                    OrgFilter::Ids(vec!["org-4".into()]),
                ],
                vec!["org-4"],
            ),
            // LIKE wildcards in user input are literals.
            (vec![OrgFilter::NameFuzzy("%%%".into())], vec![]),
        ];
        for (filters, want) in cases {
            let f = s
                .search_orgs(&"pa".into(), &and(filters.clone()), &all())
                .await
                .unwrap();
            let got: Vec<&str> = f.items.iter().map(|o| o.organization_id.as_str()).collect();
            assert_eq!(got, want, "{filters:?}");
            assert_eq!(f.total, want.len() as i64);
        }
        let or = Query {
            operator: Operator::Or,
            filters: vec![
                OrgFilter::Ids(vec!["org-1".into()]),
                OrgFilter::Slugs(vec!["slug-3".into()]),
            ],
        };
        assert_eq!(s.search_orgs(&"pa".into(), &or, &all()).await.unwrap().total, 2);
    })
    .await;
}

#[tokio::test]
async fn member_search_filters_and_excludes_deleted_unless_asked() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        let o = org("pa", "org-1", "acme", 1);
        let o2 = org("pa", "org-2", "other", 2);
        s.insert_org(&o).await.unwrap();
        s.insert_org(&o2).await.unwrap();
        let mut a = member(&o, "m-a", "alice@acme.test", 1);
        a.is_breakglass = true;
        a.mfa_phone_number = "+12025550100".into();
        let mut b = member(&o, "m-b", "bob@acme.test", 2);
        b.status = latch_core::model::member::MemberStatus::Deleted;
        let c = member(&o2, "m-c", "carol@other.test", 3);
        for m in [&a, &b, &c] {
            s.insert_member(m).await.unwrap();
        }
        let ids =
            |f: latch_core::store::Found<MemberRecord>| f.items.into_iter().map(|m| m.member_id).collect::<Vec<_>>();
        let org1: Vec<OrganizationId> = vec!["org-1".into()];
        assert_eq!(
            ids(s
                .search_members(&"pa".into(), &org1, &and(vec![]), &all())
                .await
                .unwrap()),
            vec!["m-a"]
        );
        let both: Vec<OrganizationId> = vec!["org-1".into(), "org-2".into()];
        assert_eq!(
            ids(s
                .search_members(&"pa".into(), &both, &and(vec![]), &all())
                .await
                .unwrap()),
            vec!["m-a", "m-c"]
        );
        let cases: Vec<(Vec<MemberFilter>, Vec<&str>)> = vec![
            (vec![MemberFilter::Statuses(vec!["deleted".into()])], vec!["m-b"]),
            (vec![MemberFilter::Emails(vec!["alice@acme.test".into()])], vec!["m-a"]),
            (vec![MemberFilter::EmailFuzzy("ALI".into())], vec!["m-a"]),
            (vec![MemberFilter::Breakglass(true)], vec!["m-a"]),
            (vec![MemberFilter::Breakglass(false)], vec![]),
            (vec![MemberFilter::Phones(vec!["+12025550100".into()])], vec!["m-a"]),
            (vec![MemberFilter::PhoneFuzzy("5550".into())], vec!["m-a"]),
            (vec![MemberFilter::Ids(vec!["m-a".into(), "m-c".into()])], vec!["m-a"]),
        ];
        for (filters, want) in cases {
            assert_eq!(
                ids(s
                    .search_members(&"pa".into(), &org1, &and(filters.clone()), &all())
                    .await
                    .unwrap()),
                want,
                "{filters:?}"
            );
        }
        // Another project's search sees nothing of these organizations.
        assert!(s
            .search_members(&"pb".into(), &org1, &and(vec![]), &all())
            .await
            .unwrap()
            .items
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn outbox_lists_newest_first_per_project() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        s.insert_project(&project("pb"), &[]).await.unwrap();
        let msg = |id: &str, project: &str, to: &str| StoredMessage {
            message_id: id.into(),
            project_id: project.into(),
            channel: Channel::Email,
            recipient: to.into(),
            kind: "login_otp".into(),
            locale: "en".into(),
            subject: Some("Your code".into()),
            text: "code 123456".into(),
            html: None,
            code: Some("123456".into()),
            token: None,
            url: None,
            created_at: Timestamp(1),
        };
        s.insert_message(&msg("1", "pa", "a@x.test")).await.unwrap();
        s.insert_message(&msg("2", "pa", "b@x.test")).await.unwrap();
        s.insert_message(&msg("3", "pa", "a@x.test")).await.unwrap();
        s.insert_message(&msg("4", "pb", "a@x.test")).await.unwrap();
        let ids = |v: Vec<StoredMessage>| v.into_iter().map(|m| m.message_id).collect::<Vec<_>>();
        assert_eq!(
            ids(s.list_messages(&"pa".into(), None, 10).await.unwrap()),
            vec!["3", "2", "1"]
        );
        assert_eq!(
            ids(s.list_messages(&"pa".into(), Some("a@x.test"), 10).await.unwrap()),
            vec!["3", "1"]
        );
        assert_eq!(ids(s.list_messages(&"pa".into(), None, 1).await.unwrap()), vec!["3"]);
        assert_eq!(
            s.list_messages(&"pa".into(), None, 1).await.unwrap()[0],
            msg("3", "pa", "a@x.test")
        );
    })
    .await;
}

#[tokio::test]
async fn data_survives_reopening() {
    for engine in engines() {
        let db = TestDb::new(engine).await;
        let s = db.connect().await;
        s.insert_project(&project("pa"), &[]).await.unwrap();
        s.close().await;
        // Reopening runs migrations again: they must be idempotent and keep the rows.
        let s = db.connect().await;
        assert!(s.get_project(&"pa".into()).await.unwrap().is_some());
        s.close().await;
        db.dispose().await;
    }
}

/// Whether a write's outcome is one the contract allows: it landed, or it lost the race and
/// said so. Anything else (another error) fails the test.
fn landed(r: Result<(), StoreError>) -> bool {
    match r {
        Ok(()) => true,
        Err(StoreError::Conflict) => false,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[tokio::test]
async fn a_member_write_based_on_a_stale_read_is_a_conflict_not_a_lost_update() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        let o = org("pa", "org-1", "acme", 1);
        s.insert_org(&o).await.unwrap();
        s.insert_member(&member(&o, "m-1", "a@acme.test", 1)).await.unwrap();

        // Two requests read the same member; each changes a different field.
        let mut first = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
        let mut second = first.clone();
        first.name = "Ada".into();
        s.update_member(&mut first, None).await.unwrap();
        second.untrusted_metadata = json!({"theme": "light"});
        assert!(matches!(
            s.update_member(&mut second, None).await,
            Err(StoreError::Conflict)
        ));
        let stored = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
        assert_eq!(stored.name, "Ada", "the first write survives");
        assert_eq!(stored, first, "the writer's record is what is stored, version included");

        // A lock between a read and a whole-member write is not undone by that write.
        let mut stale = stored.clone();
        assert!(s
            .lock_member(&"pa".into(), &"m-1".into(), Timestamp(10), Timestamp(20))
            .await
            .unwrap());
        stale.name = "Grace".into();
        assert!(matches!(
            s.update_member(&mut stale, None).await,
            Err(StoreError::Conflict)
        ));
        let stored = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
        assert_eq!(stored.lock_expires_at, Some(Timestamp(20)));
        assert!(!s
            .lock_member(&"pb".into(), &"m-1".into(), Timestamp(10), Timestamp(30))
            .await
            .unwrap());

        // Concurrent writers: each either lands, and its change is kept, or gets Conflict.
        for round in 0..10 {
            let base = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
            let (mut a, mut b) = (base.clone(), base.clone());
            a.name = format!("a{round}");
            b.untrusted_metadata = json!({ "round": round });
            let (ra, rb) = tokio::join!(s.update_member(&mut a, None), s.update_member(&mut b, None));
            let (la, lb) = (landed(ra), landed(rb));
            assert!(la || lb, "one of them lands");
            let stored = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
            if la {
                assert_eq!(stored.name, a.name, "round {round}: a landed and was kept");
            }
            if lb {
                assert_eq!(stored.untrusted_metadata, b.untrusted_metadata, "round {round}: b kept");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn an_organization_write_based_on_a_stale_read_is_a_conflict_not_a_lost_update() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        s.insert_org(&org("pa", "org-1", "acme", 1)).await.unwrap();

        let mut first = s.find_org(&"pa".into(), "org-1").await.unwrap().unwrap();
        let mut second = first.clone();
        first.name = "Renamed".into();
        s.update_org(&mut first).await.unwrap();
        second.settings.claimed_email_domains = vec!["acme.test".into()];
        assert!(matches!(s.update_org(&mut second).await, Err(StoreError::Conflict)));
        assert_eq!(s.find_org(&"pa".into(), "org-1").await.unwrap().unwrap(), first);
        // The refused write changed none of the rows that go with the organization either.
        assert!(s
            .search_orgs(
                &"pa".into(),
                &and(vec![OrgFilter::ClaimedDomains(vec!["acme.test".into()])]),
                &all()
            )
            .await
            .unwrap()
            .items
            .is_empty());

        for round in 0..10 {
            let base = s.find_org(&"pa".into(), "org-1").await.unwrap().unwrap();
            let (mut a, mut b) = (base.clone(), base.clone());
            a.name = format!("a{round}");
            b.trusted_metadata = json!({ "round": round });
            let (ra, rb) = tokio::join!(s.update_org(&mut a), s.update_org(&mut b));
            let (la, lb) = (landed(ra), landed(rb));
            assert!(la || lb, "one of them lands");
            let stored = s.find_org(&"pa".into(), "org-1").await.unwrap().unwrap();
            if la {
                assert_eq!(stored.name, a.name, "round {round}: a landed and was kept");
            }
            if lb {
                assert_eq!(stored.trusted_metadata, b.trusted_metadata, "round {round}: b kept");
            }
        }
    })
    .await;
}
