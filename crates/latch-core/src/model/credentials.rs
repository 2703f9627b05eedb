//! Stored credentials other than sessions: member passwords and intermediate sessions.

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};
use crate::model::session::AuthFactor;

#[derive(Debug, Clone, PartialEq)]
pub struct PasswordRecord {
    pub member_password_id: String,
    pub project_id: ProjectId,
    pub member_id: MemberId,
    /// `password::PasswordHash` as JSON.
    pub hash: String,
    /// Set by `require_reset`: the password is kept but no longer accepted.
    pub require_reset: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A bag of proven factors for an email address, with or without a member, that may become a
/// member session once the organization's requirements are met. Its token is stored hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct IntermediateRecord {
    pub ist_id: String,
    pub project_id: ProjectId,
    pub token_hash: String,
    pub organization_id: Option<OrganizationId>,
    pub member_id: Option<MemberId>,
    pub email: String,
    pub factors: Vec<AuthFactor>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A one-time password reset token, stored as its digest.
#[derive(Debug, Clone, PartialEq)]
pub struct ResetTokenRecord {
    pub token_hash: String,
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub email: String,
    pub code_challenge: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A one-time passcode as stored: a salted digest, never the code.
#[derive(Debug, Clone, PartialEq)]
pub struct OtpRecord {
    pub otp_id: String,
    pub project_id: ProjectId,
    /// The organization id, or `discovery` for codes not tied to one.
    pub scope: String,
    pub channel: String,
    pub recipient: String,
    pub member_id: Option<MemberId>,
    pub code_hash: String,
    pub salt: String,
    pub attempts: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// `salt:digest` of the codes this one replaced (newest first, a few at most).
    pub superseded: Vec<String>,
}

/// A member's TOTP registration: pending until its first code is authenticated.
#[derive(Debug, Clone, PartialEq)]
pub struct TotpRecord {
    pub totp_id: String,
    pub project_id: ProjectId,
    pub member_id: MemberId,
    /// Base32; it must stay readable to compute codes.
    pub secret: String,
    pub active: bool,
    /// The last time step whose code was accepted: codes at or before it are refused (no replay).
    pub last_used_step: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// One recovery code: its digest (to check it), the code itself (sealed at rest; shown by
/// `recovery_codes.get`), and the last characters to recognise it by.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryCodeRecord {
    pub code_id: String,
    pub project_id: ProjectId,
    pub member_id: MemberId,
    pub code_hash: String,
    /// None for codes made before codes were kept (only their digest and hint exist).
    pub code: Option<String>,
    pub hint: String,
    pub used: bool,
    pub created_at: Timestamp,
}
