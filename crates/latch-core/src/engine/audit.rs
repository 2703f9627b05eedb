//! What the use cases tell the audit log about the request they serve.
//!
//! The HTTP layer opens one scope per request (`scope`) and records one event per audited call,
//! named after the API method (`passwords.authenticate`, `organizations.members.update`), with
//! its outcome (the `error_type` of a refusal), the caller, the client address and the request
//! id. It cannot know what the call was about, so the use cases note it here as they learn it:
//! the organization, member and session the call concerns (`organization`, `member`, `session`),
//! facts a refusal's `error_type` does not tell (`detail("cause", "wrong_password")`), and domain
//! facts the call caused (`fact`: `session.created`, `member.locked`, …), which become events of
//! their own. Outside a scope (the CLI, unit tests) noting does nothing.
//!
//! Only identifiers, names and outcomes are noted: never a token, code, password, hash or key.

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::audit::{AuditActor, AuditEvent, AuditOutcome};
use crate::model::member::MemberRecord;
use crate::model::session::SessionRecord;
use serde_json::{Map, Value};
use std::future::Future;
use std::sync::{Arc, Mutex};

tokio::task_local! {
    static NOTES: Arc<Mutex<Notes>>;
}

/// What an event is about.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Target {
    pub organization_id: Option<OrganizationId>,
    pub member_id: Option<MemberId>,
    pub session_id: Option<String>,
}

impl Target {
    pub fn member(m: &MemberRecord) -> Self {
        Self {
            organization_id: Some(m.organization_id.clone()),
            member_id: Some(m.member_id.clone()),
            session_id: None,
        }
    }

    pub fn session(s: &SessionRecord) -> Self {
        Self {
            organization_id: Some(s.organization_id.clone()),
            member_id: Some(s.member_id.clone()),
            session_id: Some(s.member_session_id.clone()),
        }
    }
}

/// A domain fact a call caused, recorded as an event of its own.
#[derive(Debug, Clone)]
pub struct Fact {
    pub event_type: &'static str,
    pub target: Target,
    pub details: Map<String, Value>,
}

/// Everything noted while one request is handled.
#[derive(Debug, Default)]
pub struct Notes {
    pub project_id: Option<ProjectId>,
    pub actor: Option<AuditActor>,
    /// The route template that matched (set by the HTTP layer).
    pub route: Option<String>,
    pub target: Target,
    pub details: Map<String, Value>,
    pub facts: Vec<Fact>,
}

/// How the call was answered, as the HTTP layer saw it.
pub struct Answer<'a> {
    pub event_type: &'a str,
    pub outcome: AuditOutcome,
    /// The `error_type` of a refusal.
    pub reason: Option<&'a str>,
    pub status_code: u16,
    pub request_id: &'a str,
    pub client_address: Option<String>,
    pub time: Timestamp,
}

impl Notes {
    /// The call's event and one per fact; none when no project is known (a call whose
    /// credentials failed belongs to no project's log).
    pub fn into_events(self, a: Answer<'_>) -> Vec<AuditEvent> {
        let Some(project_id) = self.project_id else {
            return vec![];
        };
        let actor = self.actor.unwrap_or_else(AuditActor::public);
        let stamp = |event_type: &str, target: Target, details: Map<String, Value>, outcome, reason: Option<&str>| {
            let mut e = AuditEvent::new(&project_id, event_type, a.time, actor.clone());
            e.outcome = outcome;
            e.reason = reason.map(str::to_string);
            e.organization_id = target.organization_id;
            e.member_id = target.member_id;
            e.session_id = target.session_id;
            e.client_address = a.client_address.clone();
            e.request_id = Some(a.request_id.to_string());
            e.status_code = Some(a.status_code);
            e.details = details;
            e
        };
        let mut events = vec![stamp(a.event_type, self.target, self.details, a.outcome, a.reason)];
        for f in self.facts {
            // A fact happened (it was written), whatever the call's answer.
            events.push(stamp(f.event_type, f.target, f.details, AuditOutcome::Success, None));
        }
        events
    }
}

/// Runs `f` with a fresh set of notes that the caller reads afterwards.
pub fn scope<F: Future>(notes: Arc<Mutex<Notes>>, f: F) -> impl Future<Output = F::Output> {
    NOTES.scope(notes, f)
}

fn with(f: impl FnOnce(&mut Notes)) {
    let _ = NOTES.try_with(|n| {
        if let Ok(mut notes) = n.lock() {
            f(&mut notes);
        }
    });
}

/// The project the call acts in (credentials, a public token, a trip's state).
pub fn project(project_id: &ProjectId) {
    with(|n| n.project_id = Some(project_id.clone()));
}

/// Who makes the call.
pub fn actor(actor: AuditActor) {
    with(|n| n.actor = Some(actor));
}

/// The route template that matched.
pub fn route(route: &str) {
    with(|n| n.route = Some(route.to_string()));
}

/// The organization the call is about; a member or session noted in another one is forgotten.
pub fn organization(organization_id: &OrganizationId) {
    with(|n| {
        if n.target.organization_id.as_deref() != Some(organization_id) {
            n.target = Target {
                organization_id: Some(organization_id.clone()),
                ..Target::default()
            };
        }
    });
}

/// The member the call is about (and its organization); a session of another member is forgotten.
pub fn member(m: &MemberRecord) {
    with(|n| {
        let session = n
            .target
            .session_id
            .take()
            .filter(|_| n.target.member_id.as_deref() == Some(m.member_id.as_str()));
        n.target = Target {
            session_id: session,
            ..Target::member(m)
        };
    });
}

/// Like `member`, by ids (a code or link names its member without the record).
pub fn member_ids(organization_id: &OrganizationId, member_id: &MemberId) {
    with(|n| {
        let session = n
            .target
            .session_id
            .take()
            .filter(|_| n.target.member_id.as_deref() == Some(member_id));
        n.target = Target {
            organization_id: Some(organization_id.clone()),
            member_id: Some(member_id.clone()),
            session_id: session,
        };
    });
}

/// The session the call is about (and its member and organization).
pub fn session(s: &SessionRecord) {
    with(|n| n.target = Target::session(s));
}

/// A fact about the call that its answer does not tell (the method, why a refusal happened);
/// `null` takes a noted one back.
pub fn detail(key: &str, value: impl Into<Value>) {
    let value = value.into();
    with(|n| {
        if value.is_null() {
            n.details.remove(key);
        } else {
            n.details.insert(key.to_string(), value);
        }
    });
}

/// A domain fact the call caused (`session.created`, `member.locked`, …).
pub fn fact(event_type: &'static str, target: Target, details: &[(&str, Value)]) {
    let details = details.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    with(|n| {
        n.facts.push(Fact {
            event_type,
            target,
            details,
        })
    });
}

/// An operator's action (a `latch` command, `serve`'s bootstrap): no request, no Ctx.
#[allow(clippy::disallowed_methods)] // operators act without a Ctx: the wall clock is the time
pub fn operator_event(
    project_id: &ProjectId,
    event_type: &str,
    operator: &str,
    details: &[(&str, Value)],
) -> AuditEvent {
    let mut e = AuditEvent::new(project_id, event_type, Timestamp::now(), AuditActor::operator(operator));
    for (k, v) in details {
        e.details.insert(k.to_string(), v.clone());
    }
    e
}

/// Records an operator's action at once, straight to the store: a command has no background
/// writer (and no streams).
pub async fn record_operator(
    store: &dyn crate::store::Store,
    project_id: &ProjectId,
    event_type: &str,
    operator: &str,
    details: &[(&str, Value)],
) -> crate::error::CoreResult<()> {
    store
        .insert_audit_events(&[operator_event(project_id, event_type, operator, details)])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(outcome: AuditOutcome, reason: Option<&str>) -> Answer<'_> {
        Answer {
            event_type: "passwords.authenticate",
            outcome,
            reason,
            status_code: 401,
            request_id: "request-id-test-1",
            client_address: Some("203.0.113.7".into()),
            time: Timestamp(42),
        }
    }

    #[tokio::test]
    async fn notes_made_in_the_scope_become_the_calls_event_and_its_facts() {
        let notes = Arc::new(Mutex::new(Notes::default()));
        scope(notes.clone(), async {
            project(&"project-a".into());
            actor(AuditActor::project(&"project-a".into()));
            organization(&"org-1".into());
            detail("cause", "wrong_password");
            fact(
                "member.locked",
                Target {
                    member_id: Some("m-1".into()),
                    ..Target::default()
                },
                &[("until", json!("later"))],
            );
        })
        .await;
        let notes = std::mem::take(&mut *notes.lock().unwrap());
        let events = notes.into_events(answer(AuditOutcome::Failure, Some("unauthorized_credentials")));
        assert_eq!(events.len(), 2);
        let call = &events[0];
        assert_eq!(call.event_type, "passwords.authenticate");
        assert_eq!(call.outcome, AuditOutcome::Failure);
        assert_eq!(call.reason.as_deref(), Some("unauthorized_credentials"));
        assert_eq!(call.organization_id.as_deref(), Some("org-1"));
        assert_eq!(call.details["cause"], "wrong_password");
        assert_eq!(call.client_address.as_deref(), Some("203.0.113.7"));
        let fact = &events[1];
        assert_eq!(fact.event_type, "member.locked");
        assert_eq!(fact.outcome, AuditOutcome::Success);
        assert_eq!(fact.reason, None);
        assert_eq!(fact.request_id, call.request_id);
        assert_eq!(fact.member_id.as_deref(), Some("m-1"));
    }

    #[tokio::test]
    async fn without_a_project_or_a_scope_nothing_is_recorded() {
        // Outside a scope: a no-op, not a panic.
        project(&"project-a".into());
        let notes = Notes::default();
        assert!(notes.into_events(answer(AuditOutcome::Success, None)).is_empty());
    }

    #[tokio::test]
    async fn a_new_organization_forgets_the_member_of_another() {
        let notes = Arc::new(Mutex::new(Notes::default()));
        scope(notes.clone(), async {
            with(|n| {
                n.target = Target {
                    organization_id: Some("org-1".into()),
                    member_id: Some("m-1".into()),
                    session_id: Some("s-1".into()),
                }
            });
            organization(&"org-1".into());
            assert_eq!(notes_target(), Some("m-1".into()));
            organization(&"org-2".into());
            assert_eq!(notes_target(), None);
        })
        .await;
    }

    fn notes_target() -> Option<MemberId> {
        NOTES.with(|n| n.lock().unwrap().target.member_id.clone())
    }
}
