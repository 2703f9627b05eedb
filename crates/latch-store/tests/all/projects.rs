//! Projects at runtime: several secrets per project, settings documents, workspace projects
//! whose deletion takes their environments along, workspace keys and email templates.

use latch_core::clock::Timestamp;
use latch_core::ids::ProjectId;
use latch_core::model::project::{WorkspaceKey, WorkspaceProject};
use latch_core::store::prelude::*;
use latch_testkit::fixtures::{project, secret};
use latch_testkit::on_each_engine;

fn workspace(slug: &str) -> WorkspaceProject {
    WorkspaceProject {
        project_slug: slug.into(),
        name: "Acme".into(),
        vertical: "B2B".into(),
        created_at: Timestamp(1),
    }
}

#[tokio::test]
async fn secrets_are_added_listed_and_deleted_per_project() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[secret("pa")]).await.unwrap();
        s.insert_project(&project("pb"), &[]).await.unwrap();
        let mut second = secret("pa");
        second.secret_id = "secret-2".into();
        second.secret_hash = "h2".into();
        second.created_at = Timestamp(2_000);
        s.insert_project_secret(&second).await.unwrap();
        let pa: ProjectId = "pa".into();
        assert_eq!(
            s.get_project(&pa).await.unwrap().unwrap().secret_hashes,
            vec!["h", "h2"]
        );
        assert!(s
            .get_project(&"pb".into())
            .await
            .unwrap()
            .unwrap()
            .secret_hashes
            .is_empty());
        assert!(
            !s.delete_project_secret(&"pb".into(), "secret-2").await.unwrap(),
            "another project's secret"
        );
        assert!(s.delete_project_secret(&pa, "secret-pa").await.unwrap());
        let left = s.project_secrets(&pa).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].secret_id, "secret-2");
    })
    .await;
}

#[tokio::test]
async fn settings_are_initialised_once_then_saved() {
    on_each_engine(|s| async move {
        s.insert_project(&project("pa"), &[]).await.unwrap();
        let pa: ProjectId = "pa".into();
        assert_eq!(s.project_settings(&pa).await.unwrap(), None);
        assert!(s.init_project_settings(&pa, "{\"a\":1}", Timestamp(1)).await.unwrap());
        assert!(!s.init_project_settings(&pa, "{\"a\":2}", Timestamp(2)).await.unwrap());
        assert_eq!(s.project_settings(&pa).await.unwrap().as_deref(), Some("{\"a\":1}"));
        s.save_project_settings(&pa, "{\"a\":3}", Timestamp(3)).await.unwrap();
        assert_eq!(s.project_settings(&pa).await.unwrap().as_deref(), Some("{\"a\":3}"));
        assert_eq!(s.project_ids().await.unwrap(), vec![pa]);
    })
    .await;
}

#[tokio::test]
async fn deleting_a_workspace_project_deletes_its_environments_and_what_they_own() {
    on_each_engine(|s| async move {
        s.insert_workspace_project(&workspace("acme")).await.unwrap();
        let mut env = project("pa");
        env.project_slug = "acme".into();
        s.insert_project(&env, &[secret("pa")]).await.unwrap();
        s.insert_project(&project("pb"), &[]).await.unwrap();
        s.insert_public_token(&"pa".into(), "public-token-1", Timestamp(1))
            .await
            .unwrap();
        s.insert_email_template("acme", "t1", "{}", Timestamp(1)).await.unwrap();
        s.set_default_email_template("acme", "LOGIN", "t1").await.unwrap();
        assert_eq!(s.projects_of("acme").await.unwrap().len(), 1);
        assert!(s.delete_workspace_project("acme").await.unwrap());
        assert!(!s.delete_workspace_project("acme").await.unwrap());
        assert!(s.get_project(&"pa".into()).await.unwrap().is_none());
        assert!(s.project_secrets(&"pa".into()).await.unwrap().is_empty());
        assert!(s.project_of_public_token("public-token-1").await.unwrap().is_none());
        assert!(s.email_templates("acme").await.unwrap().is_empty());
        assert!(
            s.get_project(&"pb".into()).await.unwrap().is_some(),
            "another project stays"
        );
    })
    .await;
}

#[tokio::test]
async fn workspace_keys_and_email_templates() {
    on_each_engine(|s| async move {
        let key = WorkspaceKey {
            key_id: "workspace-key-1".into(),
            secret_hash: "d".into(),
            name: "ci".into(),
            last_four: "abcd".into(),
            created_at: Timestamp(1),
        };
        s.insert_workspace_key(&key).await.unwrap();
        assert_eq!(s.workspace_key("workspace-key-1").await.unwrap(), Some(key.clone()));
        assert_eq!(s.workspace_keys().await.unwrap(), vec![key]);
        assert!(s.delete_workspace_key("workspace-key-1").await.unwrap());
        assert!(s.workspace_key("workspace-key-1").await.unwrap().is_none());

        s.insert_workspace_project(&workspace("acme")).await.unwrap();
        s.insert_email_template("acme", "t1", "{\"v\":1}", Timestamp(1))
            .await
            .unwrap();
        assert!(s.insert_email_template("acme", "t1", "{}", Timestamp(2)).await.is_err());
        assert!(s.update_email_template("acme", "t1", "{\"v\":2}").await.unwrap());
        assert_eq!(
            s.email_template("acme", "t1").await.unwrap().as_deref(),
            Some("{\"v\":2}")
        );
        s.set_default_email_template("acme", "LOGIN", "t1").await.unwrap();
        s.set_default_email_template("acme", "SIGNUP", "t1").await.unwrap();
        assert_eq!(s.default_types_of("acme", "t1").await.unwrap(), vec!["LOGIN", "SIGNUP"]);
        assert_eq!(
            s.default_email_template("acme", "LOGIN").await.unwrap().as_deref(),
            Some("t1")
        );
        assert!(s.unset_default_email_template("acme", "LOGIN").await.unwrap());
        assert!(!s.unset_default_email_template("acme", "LOGIN").await.unwrap());
        assert_eq!(s.default_email_template("acme", "LOGIN").await.unwrap(), None);
    })
    .await;
}
