//! The storage boundary. One implementation (latch-store) serves SQLite and PostgreSQL; services
//! depend only on this trait. Every method is scoped by project: tenant isolation starts here.

use crate::clock::Timestamp;
use crate::error::StoreError;
use crate::model::credentials::{
    IntermediateRecord, OtpRecord, PasswordRecord, RecoveryCodeRecord, ResetTokenRecord, TotpRecord,
};
use crate::model::member::{MemberRecord, RetiredEmail};
use crate::model::organization::OrgRecord;
use crate::model::outbox::StoredMessage;
use crate::model::project::Project;
use crate::model::search::{MemberFilter, OrgFilter, Page, Query};
use crate::model::session::{SessionKey, SessionRecord, SessionWithMember};
use crate::model::signing_key::SigningKeyRecord;
use crate::rbac::PolicyRole;

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of results and the total number of matches.
#[derive(Debug, Clone)]
pub struct Found<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub has_more: bool,
}

/// Records that stop being valid at their `expires_at` and are then only dead weight, and
/// development-outbox messages, which hold codes in clear and are kept only for a retention time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiring {
    MemberSessions,
    IntermediateSessions,
    OtpCodes,
    PasswordResetTokens,
    /// By `created_at`: `purge_expired` is given the oldest creation time to keep.
    OutboxMessages,
}

impl Expiring {
    pub const ALL: [Expiring; 5] = [
        Expiring::MemberSessions,
        Expiring::IntermediateSessions,
        Expiring::OtpCodes,
        Expiring::PasswordResetTokens,
        Expiring::OutboxMessages,
    ];

    /// The table the records live in, which is also their name in the logs.
    pub fn name(self) -> &'static str {
        match self {
            Expiring::MemberSessions => "member_sessions",
            Expiring::IntermediateSessions => "intermediate_sessions",
            Expiring::OtpCodes => "otp_codes",
            Expiring::PasswordResetTokens => "password_reset_tokens",
            Expiring::OutboxMessages => "outbox_messages",
        }
    }
}

#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    async fn ping(&self) -> StoreResult<()>;
    /// Deletes at most `batch` records of `kind` that expired at or before `now` (outbox messages:
    /// created at or before it); returns how many.
    /// Bounded so that a sweep of millions never holds the write lock for long.
    async fn purge_expired(&self, kind: Expiring, now: Timestamp, batch: u32) -> StoreResult<u64>;

    /// A count that moves whenever a write through this store starts or ends, so a reader can
    /// tell whether this process changed anything since it last read (read-through caches).
    fn writes_seen(&self) -> u64;

    // Projects
    async fn insert_project(&self, project: &Project) -> StoreResult<()>;
    async fn get_project(&self, project_id: &str) -> StoreResult<Option<Project>>;
    async fn set_project_secret(&self, project_id: &str, secret_hash: &str) -> StoreResult<()>;
    async fn count_projects(&self) -> StoreResult<i64>;

    // Organizations
    async fn insert_org(&self, org: &OrgRecord) -> StoreResult<()>;
    async fn update_org(&self, org: &OrgRecord) -> StoreResult<()>;
    async fn delete_org(&self, project_id: &str, organization_id: &str) -> StoreResult<()>;
    /// By id, slug or external id.
    async fn find_org(&self, project_id: &str, locator: &str) -> StoreResult<Option<OrgRecord>>;
    /// Every organization whose id, slug or external id is `locator` (oldest first).
    async fn orgs_by_locator(&self, project_id: &str, locator: &str) -> StoreResult<Vec<OrgRecord>>;
    async fn org_by_slug(&self, project_id: &str, slug: &str) -> StoreResult<Option<OrgRecord>>;
    async fn org_by_external_id(&self, project_id: &str, external_id: &str) -> StoreResult<Option<OrgRecord>>;
    async fn orgs_by_ids(&self, project_id: &str, ids: &[String]) -> StoreResult<Vec<OrgRecord>>;
    async fn search_orgs(
        &self,
        project_id: &str,
        query: &Query<OrgFilter>,
        page: &Page,
    ) -> StoreResult<Found<OrgRecord>>;

    // Members
    async fn insert_member(&self, member: &MemberRecord) -> StoreResult<()>;
    /// Writes the member and, in the same transaction, retires its previous email if given.
    async fn update_member(&self, member: &MemberRecord, retire: Option<&RetiredEmail>) -> StoreResult<()>;
    /// `update_member` for a member whose email changed: in the same transaction, deletes its
    /// sessions, reset tokens and password, which proved or were sent to the previous address.
    async fn change_member_email(&self, member: &MemberRecord, retire: Option<&RetiredEmail>) -> StoreResult<()>;
    /// By id or external id, within one organization; deleted members included.
    async fn find_member(
        &self,
        project_id: &str,
        organization_id: &str,
        locator: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn member_by_id(&self, project_id: &str, member_id: &str) -> StoreResult<Option<MemberRecord>>;
    /// The non-deleted member with this email in the organization.
    async fn member_by_email(
        &self,
        project_id: &str,
        organization_id: &str,
        email: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn member_by_phone(
        &self,
        project_id: &str,
        organization_id: &str,
        phone: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn member_by_external_id(
        &self,
        project_id: &str,
        organization_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn member_by_password_id(
        &self,
        project_id: &str,
        organization_id: &str,
        password_id: &str,
    ) -> StoreResult<Option<MemberRecord>>;
    async fn count_members(&self, project_id: &str, organization_id: &str) -> StoreResult<i64>;
    async fn search_members(
        &self,
        project_id: &str,
        organization_ids: &[String],
        query: &Query<MemberFilter>,
        page: &Page,
    ) -> StoreResult<Found<MemberRecord>>;

    // Retired emails
    async fn retired_emails(&self, project_id: &str, member_ids: &[String]) -> StoreResult<Vec<RetiredEmail>>;
    async fn retired_email_owner(
        &self,
        project_id: &str,
        organization_id: &str,
        email: &str,
    ) -> StoreResult<Option<RetiredEmail>>;
    async fn delete_retired_email(&self, project_id: &str, email_id: &str) -> StoreResult<()>;

    // Session-JWT signing keys
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()>;
    async fn signing_keys(&self, project_id: &str) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Retires every active key of the project except `keep_kid`.
    async fn retire_signing_keys(&self, project_id: &str, keep_kid: &str, at: Timestamp) -> StoreResult<()>;
    /// Revokes one key (also retiring it and wiping its private half); false if there is no such
    /// unrevoked key.
    async fn revoke_signing_key(&self, project_id: &str, kid: &str, at: Timestamp) -> StoreResult<bool>;
    /// Revokes every key of the project except `keep_kid`; how many.
    async fn revoke_signing_keys_except(&self, project_id: &str, keep_kid: &str, at: Timestamp) -> StoreResult<u64>;
    /// (project id, kid) of every revoked key, of all projects: what nodes poll to drop them.
    async fn revoked_signing_keys(&self) -> StoreResult<Vec<(String, String)>>;

    // Member sessions
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// Writes last access, expiry, factors and claims.
    async fn update_session(&self, session: &SessionRecord) -> StoreResult<()>;
    async fn session_by_token_hash(&self, project_id: &str, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn session_by_id(&self, project_id: &str, session_id: &str) -> StoreResult<Option<SessionRecord>>;
    async fn session_with_member(&self, project_id: &str, key: &SessionKey) -> StoreResult<Option<SessionWithMember>>;
    /// Unexpired sessions of the member, oldest first.
    async fn live_sessions(&self, project_id: &str, member_id: &str, now: Timestamp)
        -> StoreResult<Vec<SessionRecord>>;
    async fn delete_session(&self, project_id: &str, session_id: &str) -> StoreResult<bool>;
    async fn delete_member_sessions(&self, project_id: &str, member_id: &str) -> StoreResult<u64>;
    async fn count_live_sessions(&self, now: Timestamp) -> StoreResult<i64>;

    // Organization-scoped RBAC roles
    async fn org_roles(&self, organization_id: &str) -> StoreResult<Vec<PolicyRole>>;
    async fn set_org_roles(&self, organization_id: &str, roles: &[PolicyRole]) -> StoreResult<()>;

    // Passwords
    /// Stores the member's password and writes the member (its `member_password_id`) atomically.
    async fn save_password(&self, member: &MemberRecord, password: &PasswordRecord) -> StoreResult<()>;
    async fn password_of(&self, project_id: &str, member_id: &str) -> StoreResult<Option<PasswordRecord>>;
    async fn delete_password(&self, project_id: &str, member_id: &str) -> StoreResult<()>;

    /// Stores a reset token; earlier tokens of the member stop working.
    async fn insert_reset_token(&self, token: &ResetTokenRecord) -> StoreResult<()>;
    async fn reset_token(&self, project_id: &str, token_hash: &str) -> StoreResult<Option<ResetTokenRecord>>;
    /// Deletes it; false when another request used it first.
    async fn take_reset_token(&self, project_id: &str, token_hash: &str) -> StoreResult<bool>;
    /// Live members with this email in any organization of the project.
    async fn members_with_email(&self, project_id: &str, email: &str) -> StoreResult<Vec<MemberRecord>>;
    /// Marks the member's password as one that must be reset before it is accepted again.
    async fn require_password_reset(&self, project_id: &str, member_id: &str) -> StoreResult<bool>;

    // One-time passcodes
    /// Stores the code, replacing any earlier one for the same (scope, channel, recipient).
    async fn replace_otp(&self, otp: &OtpRecord) -> StoreResult<()>;
    async fn otp_for(
        &self,
        project_id: &str,
        scope: &str,
        channel: &str,
        recipient: &str,
    ) -> StoreResult<Option<OtpRecord>>;
    /// Takes one attempt at the code, before it is compared, and returns the attempts so far;
    /// `None` once `max` were taken (or the code is gone).
    async fn otp_attempt(&self, otp_id: &str, max: i64) -> StoreResult<Option<i64>>;
    /// Deletes it; false when another request used it first.
    async fn delete_otp(&self, otp_id: &str) -> StoreResult<bool>;

    // TOTP and recovery codes
    /// Replaces the member's registration and recovery codes in one transaction.
    async fn save_totp(&self, totp: &TotpRecord, codes: &[RecoveryCodeRecord]) -> StoreResult<()>;
    async fn totp_of(&self, project_id: &str, member_id: &str) -> StoreResult<Option<TotpRecord>>;
    /// Activates the registration and records the accepted step, only if the step is newer.
    async fn use_totp_step(&self, totp_id: &str, step: i64) -> StoreResult<bool>;
    async fn delete_totp(&self, project_id: &str, member_id: &str) -> StoreResult<()>;
    async fn recovery_codes(&self, project_id: &str, member_id: &str) -> StoreResult<Vec<RecoveryCodeRecord>>;
    /// Marks the code used; false when it was already used.
    async fn use_recovery_code(&self, code_id: &str) -> StoreResult<bool>;
    async fn replace_recovery_codes(
        &self,
        project_id: &str,
        member_id: &str,
        codes: &[RecoveryCodeRecord],
    ) -> StoreResult<()>;

    // Intermediate sessions
    async fn insert_intermediate(&self, ist: &IntermediateRecord) -> StoreResult<()>;
    async fn update_intermediate(&self, ist: &IntermediateRecord) -> StoreResult<()>;
    async fn intermediate_by_token_hash(
        &self,
        project_id: &str,
        token_hash: &str,
    ) -> StoreResult<Option<IntermediateRecord>>;
    /// Deletes it; false when it was already gone (consumed by a concurrent request).
    async fn delete_intermediate(&self, project_id: &str, ist_id: &str) -> StoreResult<bool>;

    // Failed-attempt counters (fixed windows)
    /// Counts one failure and returns the failures in the current window; a window older than
    /// `window_start` restarts at one.
    async fn bump_attempts(&self, scope: &str, key: &str, window_start: Timestamp, now: Timestamp) -> StoreResult<i64>;
    async fn attempts(&self, scope: &str, key: &str, window_start: Timestamp) -> StoreResult<i64>;
    async fn clear_attempts(&self, scope: &str, key: &str) -> StoreResult<()>;
    /// Takes one attempt back (a reserved attempt that succeeded); never below zero.
    async fn refund_attempt(&self, scope: &str, key: &str) -> StoreResult<()>;
    /// The window start stored for (scope, key), if any (blocks store their end time there).
    async fn counter_window(&self, scope: &str, key: &str) -> StoreResult<Option<Timestamp>>;

    // Development outbox
    async fn insert_message(&self, message: &StoredMessage) -> StoreResult<()>;
    async fn list_messages(
        &self,
        project_id: &str,
        recipient: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StoredMessage>>;
}
