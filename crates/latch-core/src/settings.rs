//! Project-wide authentication settings the use cases read (from the server's configuration).

use crate::password::policy::PasswordPolicy;
use crate::password::Argon2Params;

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Failed password attempts per email address (and member) before further tries are refused.
    pub password_failures: i64,
    pub failure_window_minutes: i64,
    /// How long a member stays locked once the limit is reached.
    pub lockout_minutes: i64,
    /// Failed attempts per end-user address (forwarded by a trusted proxy) per window.
    pub forwarded_client_failures: i64,
    /// Failed attempts per direct peer per window. The peer is usually the application server
    /// itself, so past this its failed checks are only slowed down (by `peer_flood_delay`), never
    /// refused.
    pub peer_failures: i64,
    /// How long a failed password check from a peer past `peer_failures` waits before its answer.
    pub peer_flood_delay: std::time::Duration,
    pub address_window_minutes: i64,
    /// Messages (codes, links) sent per end-user address, and per direct peer, per window.
    pub forwarded_client_sends: i64,
    pub peer_sends: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            password_failures: 10,
            failure_window_minutes: 60,
            lockout_minutes: 60,
            forwarded_client_failures: 100,
            peer_failures: 10_000,
            peer_flood_delay: std::time::Duration::from_secs(1),
            address_window_minutes: 10,
            forwarded_client_sends: 30,
            peer_sends: 100_000,
        }
    }
}

/// Where links in emails point when a request names no URL.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Redirects {
    pub login: Option<String>,
    pub reset_password: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub password: PasswordPolicy,
    pub argon2: Argon2Params,
    pub limits: Limits,
    pub redirects: Redirects,
    /// One password per email address, shared by all of a person's memberships (Stytch's
    /// cross-organization passwords), with the discovery password endpoints enabled.
    pub cross_org_passwords: bool,
    /// Countries (ISO 3166 alpha-2) SMS may be sent to.
    pub sms_allowed_countries: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            password: PasswordPolicy::default(),
            argon2: Argon2Params::default(),
            limits: Limits::default(),
            redirects: Redirects::default(),
            cross_org_passwords: false,
            sms_allowed_countries: vec!["US".into(), "CA".into()],
        }
    }
}
