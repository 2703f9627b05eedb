//! Emailed magic links and pending email updates, as stored: a link is kept only as the digest
//! of its token; an email update holds an address for a member until it is proven or expires.

use crate::clock::Timestamp;
use crate::ids::{MemberId, OrganizationId, ProjectId};

/// What a magic link does when it is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Login,
    Signup,
    Invite,
    /// No organization: proves the address for the discovery flow.
    Discovery,
    /// Proves a new address for `start_email_update`.
    EmailUpdate,
}

impl LinkPurpose {
    pub const ALL: [LinkPurpose; 5] = [
        LinkPurpose::Login,
        LinkPurpose::Signup,
        LinkPurpose::Invite,
        LinkPurpose::Discovery,
        LinkPurpose::EmailUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Login => "login",
            LinkPurpose::Signup => "signup",
            LinkPurpose::Invite => "invite",
            LinkPurpose::Discovery => "discovery",
            LinkPurpose::EmailUpdate => "email_update",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MagicLinkRecord {
    /// SHA-256 of the token; the token itself exists only in the email.
    pub token_hash: String,
    pub project_id: ProjectId,
    pub purpose: LinkPurpose,
    /// None for discovery links.
    pub organization_id: Option<OrganizationId>,
    /// None for discovery links.
    pub member_id: Option<MemberId>,
    /// The address the link was mailed to: what authenticating it proves.
    pub email: String,
    pub code_challenge: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// A member's pending change of address: `new_email` is held for the member until the link or
/// code sent to it is authenticated, or `expires_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailUpdateRecord {
    pub project_id: ProjectId,
    pub organization_id: OrganizationId,
    pub member_id: MemberId,
    pub new_email: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}
