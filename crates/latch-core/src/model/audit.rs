//! The audit log's records: one event per authentication attempt, change or secret operation,
//! with who did it, to what, how it ended and from where. Never a secret: no token, code,
//! password, hash or key material is ever put in an event (the fields below are identifiers,
//! names and outcomes only, and `details` holds what `engine::audit` notes, which is the same).

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditOutcome {
    Success,
    Failure,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(AuditOutcome::Success),
            "failure" => Some(AuditOutcome::Failure),
            _ => None,
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ActorType {
    /// The application's backend, with the project's secret (`id` is the project id).
    Project,
    /// A member, through the member-session headers (`id` is the member id).
    Member,
    /// Someone with access to the server's settings and database: the `latch` CLI, or `serve`'s
    /// bootstrap (`id` names the command).
    Operator,
    /// A browser on a public route (SSO and OAuth starts and callbacks): no credential but the
    /// project's public token or a trip's state.
    Public,
    /// An identity provider, with a SCIM connection's bearer token (`id` is the connection id).
    ScimConnection,
}

impl ActorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::Project => "project",
            ActorType::Member => "member",
            ActorType::Operator => "operator",
            ActorType::Public => "public",
            ActorType::ScimConnection => "scim_connection",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "project" => Some(ActorType::Project),
            "member" => Some(ActorType::Member),
            "operator" => Some(ActorType::Operator),
            "public" => Some(ActorType::Public),
            "scim_connection" => Some(ActorType::ScimConnection),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditActor {
    #[serde(rename = "type")]
    pub kind: ActorType,
    pub id: Option<String>,
}

impl AuditActor {
    pub fn project(project_id: &ProjectId) -> Self {
        Self {
            kind: ActorType::Project,
            id: Some(project_id.to_string()),
        }
    }

    pub fn member(member_id: &MemberId) -> Self {
        Self {
            kind: ActorType::Member,
            id: Some(member_id.to_string()),
        }
    }

    /// The CLI or the server's own start (`what`: e.g. `cli`, `bootstrap`).
    pub fn operator(what: &str) -> Self {
        Self {
            kind: ActorType::Operator,
            id: Some(what.to_string()),
        }
    }

    pub fn scim_connection(connection_id: &str) -> Self {
        Self {
            kind: ActorType::ScimConnection,
            id: Some(connection_id.to_string()),
        }
    }

    pub fn public() -> Self {
        Self {
            kind: ActorType::Public,
            id: None,
        }
    }
}

/// One event, as stored and as `GET /latch/v1/events`, stdout and the webhook show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// `audit-event-<uuid>`.
    pub event_id: String,
    pub project_id: ProjectId,
    /// When it happened, in milliseconds (shown as RFC 3339 with milliseconds).
    #[serde(with = "millis_rfc3339")]
    pub time: Timestamp,
    /// What happened, `<object>.<action>` (`password.authenticate`, `member.update`,
    /// `session.revoke`, `member.lock`, …).
    pub event_type: String,
    pub outcome: AuditOutcome,
    /// On a failure, the `error_type` the caller was answered with.
    pub reason: Option<String>,
    pub actor: AuditActor,
    /// The target: the organization, member and session the event is about, as far as known.
    pub organization_id: Option<OrganizationId>,
    pub member_id: Option<MemberId>,
    pub session_id: Option<String>,
    /// The end user's address as the server resolved it (trusted proxies respected).
    pub client_address: Option<String>,
    /// The request's id, as its answer carried it; none for CLI events.
    pub request_id: Option<String>,
    /// The HTTP status the request was answered with; none for CLI events.
    pub status_code: Option<u16>,
    /// Event-specific facts (the method, why a refusal happened beyond its `error_type`, which
    /// fields changed, …): identifiers and names only.
    pub details: Map<String, Value>,
}

impl AuditEvent {
    /// A new event of `event_type` in `project_id`, at `time`, by `actor`, with no target yet.
    pub fn new(project_id: &ProjectId, event_type: &str, time: Timestamp, actor: AuditActor) -> Self {
        Self {
            event_id: crate::ids::audit_event_id(),
            project_id: project_id.clone(),
            time,
            event_type: event_type.to_string(),
            outcome: AuditOutcome::Success,
            reason: None,
            actor,
            organization_id: None,
            member_id: None,
            session_id: None,
            client_address: None,
            request_id: None,
            status_code: None,
            details: Map::new(),
        }
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

/// Where a listing continues: after the event at (`time`, `event_id`), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    pub time: Timestamp,
    pub event_id: String,
}

impl AuditCursor {
    /// Opaque to callers: base64url of `<millis>:<event_id>`.
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{}", self.time.millis(), self.event_id))
    }

    pub fn decode(s: &str) -> Option<Self> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (millis, id) = text.split_once(':')?;
        if id.is_empty() || id.len() > 128 {
            return None;
        }
        Some(Self {
            time: Timestamp(millis.parse().ok()?),
            event_id: id.to_string(),
        })
    }
}

/// A listing of one project's events: every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub organization_id: Option<OrganizationId>,
    pub member_id: Option<MemberId>,
    pub session_id: Option<String>,
    /// Events whose type starts with this (`password.` for every password event, or one
    /// whole type).
    pub event_type: Option<String>,
    pub outcome: Option<AuditOutcome>,
    /// At or after.
    pub since: Option<Timestamp>,
    /// Before.
    pub until: Option<Timestamp>,
    pub after: Option<AuditCursor>,
    pub limit: u32,
}

/// RFC 3339 in UTC with milliseconds: events in one second keep their order on the wire.
pub mod millis_rfc3339 {
    use crate::clock::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn format(t: Timestamp) -> String {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.millis()) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = AuditCursor {
            time: Timestamp(1_700_000_000_123),
            event_id: "audit-event-test-x".into(),
        };
        assert_eq!(AuditCursor::decode(&c.encode()), Some(c));
        for bad in ["", "!!", "bm9jb2xvbg", "YWJjOg"] {
            assert_eq!(AuditCursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_show_milliseconds() {
        assert_eq!(
            millis_rfc3339::format(Timestamp(1_640_781_189_999)),
            "2021-12-29T12:33:09.999Z"
        );
        let e = AuditEvent::new(&"p".into(), "x.y", Timestamp(5), AuditActor::public());
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["time"], "1970-01-01T00:00:00.005Z");
        assert_eq!(json["actor"], serde_json::json!({"type": "public", "id": null}));
        assert_eq!(serde_json::from_value::<AuditEvent>(json).unwrap(), e);
    }
}
