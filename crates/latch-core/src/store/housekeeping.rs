//! Health and bulk expiry: what the node's background jobs and probes need, across aggregates.

use super::StoreResult;
use crate::clock::Timestamp;

/// Records that stop being valid at their `expires_at` and are then only dead weight;
/// development-outbox messages, which hold live codes and are kept only for a retention time;
/// and audit events, kept for theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiring {
    MemberSessions,
    IntermediateSessions,
    OtpCodes,
    PasswordResetTokens,
    MagicLinks,
    EmailUpdates,
    SsoStates,
    SsoTokens,
    OAuthTokens,
    SamlAssertions,
    /// By `created_at`: `purge_expired` is given the oldest creation time to keep.
    OutboxMessages,
    /// By their time, after the audit retention time (`purge_expired` is given the cutoff).
    AuditEvents,
}

impl Expiring {
    pub const ALL: [Expiring; 12] = [
        Expiring::MemberSessions,
        Expiring::IntermediateSessions,
        Expiring::OtpCodes,
        Expiring::PasswordResetTokens,
        Expiring::MagicLinks,
        Expiring::EmailUpdates,
        Expiring::SsoStates,
        Expiring::SsoTokens,
        Expiring::OAuthTokens,
        Expiring::SamlAssertions,
        Expiring::OutboxMessages,
        Expiring::AuditEvents,
    ];

    /// The table the records live in, which is also their name in the logs.
    pub fn name(self) -> &'static str {
        match self {
            Expiring::MemberSessions => "member_sessions",
            Expiring::IntermediateSessions => "intermediate_sessions",
            Expiring::OtpCodes => "otp_codes",
            Expiring::PasswordResetTokens => "password_reset_tokens",
            Expiring::MagicLinks => "magic_links",
            Expiring::EmailUpdates => "email_updates",
            Expiring::SsoStates => "sso_states",
            Expiring::SsoTokens => "sso_tokens",
            Expiring::OAuthTokens => "oauth_tokens",
            Expiring::SamlAssertions => "saml_assertions",
            Expiring::OutboxMessages => "outbox_messages",
            Expiring::AuditEvents => "audit_events",
        }
    }
}

#[async_trait::async_trait]
pub trait HousekeepingStore: Send + Sync {
    async fn ping(&self) -> StoreResult<()>;
    /// Deletes at most `batch` records of `kind` that expired at or before `now` (outbox messages:
    /// created at or before it; audit events: that happened at or before it); returns how many.
    /// Bounded so that a sweep of millions never holds the write lock for long.
    async fn purge_expired(&self, kind: Expiring, now: Timestamp, batch: u32) -> StoreResult<u64>;

    /// A count that moves whenever a write through this store starts or ends, so a reader can
    /// tell whether this process changed anything since it last read (read-through caches).
    fn writes_seen(&self) -> u64;
}
