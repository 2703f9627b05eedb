//! SCIM connections (one per organization, token digests, rotation), users and groups, and the
//! SCIM roles kept on members, on `fixtures::seed`'s records.

use latch_core::clock::Timestamp;
use latch_core::error::StoreError;
use latch_core::model::scim::{
    GroupMember, GroupRoleAssignment, ScimConnectionRecord, ScimGroupRecord, ScimRoleGrant, ScimUserRecord,
};
use latch_core::store::prelude::*;
use latch_testkit::fixtures::{member, seeded_member, seeded_org};
use latch_testkit::on_each_seeded_engine as on_each_engine;
use serde_json::json;

fn connection(id: &str) -> ScimConnectionRecord {
    ScimConnectionRecord {
        connection_id: id.into(),
        project_id: "pa".into(),
        organization_id: "org-1".into(),
        display_name: "Okta".into(),
        identity_provider: "okta".into(),
        token_hash: "digest-a".into(),
        token_last_four: "aaaa".into(),
        token_expires_at: None,
        next_token_hash: None,
        next_token_last_four: String::new(),
        next_token_expires_at: None,
        role_assignments: vec![],
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
    }
}

fn user(member_id: &str, user_name: &str) -> ScimUserRecord {
    ScimUserRecord {
        member_id: member_id.into(),
        project_id: "pa".into(),
        organization_id: "org-1".into(),
        connection_id: "sc-1".into(),
        registration_id: format!("reg-{member_id}"),
        user_name: user_name.into(),
        external_id: Some("00u1".into()),
        active: true,
        resource: json!({"userName": user_name, "emails": [{"value": "a@acme.test"}]}),
        created_at: Timestamp(2),
        updated_at: Timestamp(2),
    }
}

#[tokio::test]
async fn connections_are_one_per_organization_and_rotate() {
    on_each_engine(|s| async move {
        let mut c = connection("sc-1");
        s.insert_scim_connection(&c).await.unwrap();
        assert!(matches!(
            s.insert_scim_connection(&connection("sc-2")).await,
            Err(StoreError::UniqueViolation)
        ));
        assert_eq!(s.scim_connection(&"pa".into(), "sc-1").await.unwrap(), Some(c.clone()));
        assert_eq!(s.scim_connection_by_id("sc-1").await.unwrap(), Some(c.clone()));
        assert_eq!(
            s.scim_connection_of_org(&"pa".into(), &"org-1".into()).await.unwrap(),
            Some(c.clone())
        );
        // Another project's id never finds it.
        assert_eq!(s.scim_connection(&"pb".into(), "sc-1").await.unwrap(), None);

        c.next_token_hash = Some("digest-b".into());
        c.next_token_last_four = "bbbb".into();
        c.next_token_expires_at = Some(Timestamp(99));
        c.role_assignments = vec![GroupRoleAssignment {
            role_id: "editor".into(),
            group_id: "g-1".into(),
        }];
        c.updated_at = Timestamp(5);
        s.update_scim_connection(&c).await.unwrap();
        assert_eq!(s.scim_connection(&"pa".into(), "sc-1").await.unwrap(), Some(c.clone()));

        let mut elsewhere = c.clone();
        elsewhere.project_id = "pb".into();
        assert!(matches!(
            s.update_scim_connection(&elsewhere).await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn users_and_groups_round_trip_and_go_with_their_connection() {
    on_each_engine(|s| async move {
        s.insert_scim_connection(&connection("sc-1")).await.unwrap();
        let o = seeded_org();
        s.insert_member(&member(&o, "m-2", "b@acme.test", 2)).await.unwrap();
        let mut u = user("m-1", "ada@acme.test");
        s.insert_scim_user(&u).await.unwrap();
        // userName (stored folded) and the member are unique at the connection.
        assert!(matches!(
            s.insert_scim_user(&user("m-2", "ada@acme.test")).await,
            Err(StoreError::UniqueViolation)
        ));
        assert!(matches!(
            s.insert_scim_user(&user("m-1", "other")).await,
            Err(StoreError::UniqueViolation)
        ));
        s.insert_scim_user(&user("m-2", "bob@acme.test")).await.unwrap();

        u.active = false;
        u.external_id = None;
        u.resource = json!({"userName": "ada@acme.test", "active": false});
        u.updated_at = Timestamp(3);
        s.update_scim_user(&u).await.unwrap();
        assert_eq!(
            s.scim_user(&"pa".into(), "sc-1", &"m-1".into()).await.unwrap(),
            Some(u.clone())
        );
        assert_eq!(s.scim_user(&"pb".into(), "sc-1", &"m-1".into()).await.unwrap(), None);
        let all = s.scim_users(&"pa".into(), "sc-1").await.unwrap();
        assert_eq!(
            all.iter().map(|u| u.member_id.as_str()).collect::<Vec<_>>(),
            ["m-1", "m-2"]
        );
        assert_eq!(
            s.scim_users_of_members(&"pa".into(), &["m-2".into()])
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(s
            .scim_users_of_members(&"pb".into(), &["m-2".into()])
            .await
            .unwrap()
            .is_empty());

        let mut g = ScimGroupRecord {
            group_id: "g-1".into(),
            project_id: "pa".into(),
            organization_id: "org-1".into(),
            connection_id: "sc-1".into(),
            display_name: "Eng".into(),
            external_id: None,
            members: vec![GroupMember {
                value: "m-1".into(),
                display: "Ada".into(),
            }],
            resource: json!({"displayName": "Eng"}),
            created_at: Timestamp(4),
            updated_at: Timestamp(4),
        };
        s.save_scim_group(&g).await.unwrap();
        g.members.push(GroupMember {
            value: "m-2".into(),
            display: String::new(),
        });
        g.updated_at = Timestamp(6);
        s.save_scim_group(&g).await.unwrap();
        assert_eq!(
            s.scim_group(&"pa".into(), "sc-1", "g-1").await.unwrap(),
            Some(g.clone())
        );
        assert_eq!(s.scim_groups(&"pa".into(), "sc-1").await.unwrap(), vec![g.clone()]);
        assert_eq!(s.scim_group(&"pb".into(), "sc-1", "g-1").await.unwrap(), None);
        assert!(!s.delete_scim_group(&"pb".into(), "sc-1", "g-1").await.unwrap());

        assert!(s.delete_scim_user(&"pa".into(), "sc-1", &"m-2".into()).await.unwrap());
        assert!(!s.delete_scim_user(&"pa".into(), "sc-1", &"m-2".into()).await.unwrap());

        assert!(!s.delete_scim_connection(&"pb".into(), "sc-1").await.unwrap());
        assert!(s.delete_scim_connection(&"pa".into(), "sc-1").await.unwrap());
        assert!(s.scim_users(&"pa".into(), "sc-1").await.unwrap().is_empty());
        assert!(s.scim_groups(&"pa".into(), "sc-1").await.unwrap().is_empty());
        // The members stay.
        assert!(s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().is_some());
    })
    .await;
}

#[tokio::test]
async fn scim_roles_are_kept_on_the_member() {
    on_each_engine(|s| async move {
        let mut m = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
        assert_eq!(m, seeded_member());
        assert!(m.scim_roles.is_empty());
        m.scim_roles = vec![ScimRoleGrant {
            role_id: "editor".into(),
            connection_id: "sc-1".into(),
            group_id: "g-1".into(),
        }];
        s.update_member(&mut m, None).await.unwrap();
        let back = s.member_by_id(&"pa".into(), &"m-1".into()).await.unwrap().unwrap();
        assert_eq!(back.scim_roles, m.scim_roles);
        let sw = s
            .session_with_member(&"pa".into(), &latch_core::model::session::SessionKey::Id("none".into()))
            .await
            .unwrap();
        assert!(sw.is_none());
    })
    .await;
}
