//! Records for storage tests, and the seed most of them start from: projects `pa` and `pb`,
//! organization `org-1` (slug `acme`) in `pa`, and its member `m-1` (`a@acme.test`).

use latch_core::clock::Timestamp;
use latch_core::delivery::{Channel, StoredMessage};
use latch_core::model::credentials::OtpRecord;
use latch_core::model::member::{MemberRecord, MemberStatus};
use latch_core::model::organization::{OrgRecord, OrgSettings};
use latch_core::model::project::Project;
use latch_core::store::prelude::*;
use latch_store::SqlStore;
use serde_json::json;

/// When seeded records were created: a fixed time, so tests can place others before or after.
pub const SEEDED_AT: i64 = 1_000;

pub fn project(id: &str) -> Project {
    Project {
        project_id: id.into(),
        name: "p".into(),
        project_slug: id.into(),
        environment_slug: "test".into(),
        environment_type: latch_core::model::project::EnvironmentType::Test,
        secret_hashes: vec!["h".into()],
        created_at: Timestamp(SEEDED_AT),
    }
}

/// The project's one secret, whose digest is "h".
pub fn secret(project_id: &str) -> latch_core::model::project::ProjectSecret {
    latch_core::model::project::ProjectSecret {
        secret_id: format!("secret-{project_id}"),
        project_id: project_id.into(),
        secret_hash: "h".into(),
        last_four: String::new(),
        created_at: Timestamp(SEEDED_AT),
    }
}

/// An organization named `Org {slug}` with some trusted metadata.
pub fn org(project_id: &str, id: &str, slug: &str, created: i64) -> OrgRecord {
    OrgRecord {
        project_id: project_id.into(),
        organization_id: id.into(),
        name: format!("Org {slug}"),
        slug: slug.into(),
        logo_url: String::new(),
        external_id: None,
        trusted_metadata: json!({"tier": 1}),
        settings: OrgSettings::default(),
        created_at: Timestamp(created),
        updated_at: Timestamp(created),
        version: 0,
    }
}

/// An active member of `o` with one role and some untrusted metadata, nothing else set.
pub fn member(o: &OrgRecord, id: &str, email: &str, created: i64) -> MemberRecord {
    MemberRecord {
        project_id: o.project_id.clone(),
        organization_id: o.organization_id.clone(),
        member_id: id.into(),
        email: email.into(),
        status: MemberStatus::Active,
        name: String::new(),
        external_id: None,
        is_breakglass: false,
        email_verified: false,
        mfa_enrolled: false,
        mfa_phone_number: String::new(),
        mfa_phone_verified: false,
        default_mfa_method: String::new(),
        member_password_id: String::new(),
        totp_registration_id: String::new(),
        roles: vec!["editor".into()],
        trusted_metadata: json!({}),
        untrusted_metadata: json!({"theme": "dark"}),
        lock_created_at: None,
        lock_expires_at: None,
        created_at: Timestamp(created),
        updated_at: Timestamp(created),
        version: 0,
        scim_roles: vec![],
        sso_roles: vec![],
    }
}

/// The seeded organization, `org-1` in `pa`.
pub fn seeded_org() -> OrgRecord {
    org("pa", "org-1", "acme", SEEDED_AT)
}

/// The seeded member, `m-1` of `org-1`.
pub fn seeded_member() -> MemberRecord {
    member(&seeded_org(), "m-1", "a@acme.test", SEEDED_AT)
}

/// Writes the seed (see the module doc).
pub async fn seed(s: &SqlStore) {
    for p in ["pa", "pb"] {
        s.insert_project(&project(p), &[secret(p)]).await.unwrap();
    }
    s.insert_org(&seeded_org()).await.unwrap();
    s.insert_member(&seeded_member()).await.unwrap();
}

/// A one-time code record: email, no member, nothing superseded.
pub fn otp_record(project_id: &str, scope: &str, otp_id: &str, recipient: &str, expires_at: Timestamp) -> OtpRecord {
    OtpRecord {
        otp_id: otp_id.into(),
        project_id: project_id.into(),
        scope: scope.into(),
        channel: "email".into(),
        recipient: recipient.into(),
        member_id: None,
        code_hash: format!("hash-{otp_id}"),
        salt: "salt".into(),
        attempts: 0,
        created_at: Timestamp(1),
        expires_at,
        superseded: vec![],
    }
}

/// An SMS code kept in the development outbox of `project_id`.
pub fn message(project_id: &str, id: &str, created_at: Timestamp) -> StoredMessage {
    StoredMessage {
        message_id: id.into(),
        project_id: project_id.into(),
        channel: Channel::Sms,
        recipient: "+15555550100".into(),
        kind: "otp".into(),
        locale: "en".into(),
        subject: None,
        text: "Your code is 123456".into(),
        html: None,
        code: Some("123456".into()),
        token: None,
        url: None,
        created_at,
    }
}
