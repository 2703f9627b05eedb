//! What each project decides for itself, kept in the database as one JSON document per project
//! and changed at runtime through the Management API: password policy, cross-organization
//! passwords, the member lockout, SMS countries, redirect URLs and the project's RBAC policy.
//!
//! The server's configuration gives the values a new project starts with
//! ([`ProjectSettings::defaults`]); a project created before settings moved here is given the
//! configured values once, at the next start, so an upgrade changes no behaviour. Nodes read the
//! document through a short-lived cache (`engine::RECORD_CACHE_TTL`): a change holds at once on
//! the node that made it and within that lifetime on the others.

use crate::ids::ProjectId;
use crate::password::policy::PasswordPolicy;
use crate::rbac::Policy;
use crate::settings::{RedirectType, RedirectUrl, Redirects, Settings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectSettings {
    pub password: PasswordPolicy,
    /// One password per email address across the project's organizations.
    pub cross_org_passwords: bool,
    pub lockout: Lockout,
    /// Countries (ISO 3166 alpha-2) SMS may be sent to.
    pub sms_allowed_countries: Vec<String>,
    /// The project's redirect allow-list, with the default URL of each type.
    pub redirect_urls: Vec<RedirectUrl>,
    /// The project's own roles, resources and scopes (Stytch's defaults are always added).
    pub rbac: Policy,
}

/// When a member is locked after failed password checks (Stytch's `user_lock_threshold` and
/// `user_lock_ttl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lockout {
    /// Failed attempts per email address (and member) within `window_minutes` before a lock.
    pub threshold: i64,
    pub window_minutes: i64,
    /// How long the lock lasts.
    pub ttl_secs: i64,
}

impl Default for Lockout {
    fn default() -> Self {
        let l = crate::settings::Limits::default();
        Self {
            threshold: l.password_failures,
            window_minutes: l.failure_window_minutes,
            ttl_secs: l.lockout_minutes * 60,
        }
    }
}

impl Default for ProjectSettings {
    fn default() -> Self {
        Self::defaults(&Settings::default(), &Policy::default(), &ProjectId::from(""))
    }
}

impl ProjectSettings {
    /// The configured values for `project_id`: the server-wide ones, with the redirect URLs
    /// configured for every project and those for this one (its own default of a type first).
    pub fn defaults(server: &Settings, rbac: &Policy, project_id: &ProjectId) -> Self {
        let mine: Vec<&RedirectUrl> = server
            .redirects
            .urls
            .iter()
            .filter(|u| u.project_id.as_deref() == Some(project_id.as_str()))
            .collect();
        let own_default = |t: &RedirectType| mine.iter().any(|u| u.default_types.contains(t));
        let mut redirect_urls: Vec<RedirectUrl> = mine.iter().map(|u| unscoped(u)).collect();
        for u in server.redirects.urls.iter().filter(|u| u.project_id.is_none()) {
            let mut u = unscoped(u);
            u.default_types.retain(|t| !own_default(t));
            redirect_urls.push(u);
        }
        Self {
            password: server.password,
            cross_org_passwords: server.cross_org_passwords,
            lockout: Lockout {
                threshold: server.limits.password_failures,
                window_minutes: server.limits.failure_window_minutes,
                ttl_secs: server.limits.lockout_minutes * 60,
            },
            sms_allowed_countries: server.sms_allowed_countries.clone(),
            redirect_urls,
            rbac: rbac.clone(),
        }
    }

    pub fn redirects(&self) -> Redirects {
        Redirects {
            urls: self.redirect_urls.clone(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("settings serialize")
    }

    /// Reads a stored document; fields it lacks (written by an older version) take their defaults.
    pub fn from_json(text: &str) -> Result<Self, crate::error::StoreError> {
        serde_json::from_str(text)
            .map_err(|e| crate::error::StoreError::Backend(format!("corrupt project settings: {e}")))
    }
}

fn unscoped(u: &RedirectUrl) -> RedirectUrl {
    RedirectUrl {
        project_id: None,
        ..u.clone()
    }
}

/// A project's settings with what is derived from them, as the engine reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    pub settings: ProjectSettings,
    /// Stytch's default policy with the project's own (`rbac`) added.
    pub policy: Policy,
    pub redirects: Redirects,
}

impl ProjectConfig {
    pub fn new(settings: ProjectSettings) -> Self {
        // A stored policy was validated when it was set; one that no longer merges (a later
        // default took its name) falls back to the defaults rather than failing every call.
        let policy = Policy::with_custom(settings.rbac.clone()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "project RBAC policy does not merge with the defaults");
            crate::rbac::default_policy()
        });
        let redirects = settings.redirects();
        Self {
            settings,
            policy,
            redirects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_default_comes_before_the_shared_one() {
        let url = |p: Option<&str>, u: &str| RedirectUrl {
            project_id: p.map(str::to_string),
            url: u.into(),
            types: vec![RedirectType::Login],
            default_types: vec![RedirectType::Login],
        };
        let server = Settings {
            redirects: Redirects {
                urls: vec![url(None, "https://all.test/"), url(Some("p1"), "https://one.test/")],
            },
            ..Settings::default()
        };
        let p1 = ProjectSettings::defaults(&server, &Policy::default(), &"p1".into());
        assert_eq!(
            p1.redirects().default_for("p1", RedirectType::Login),
            Some("https://one.test/")
        );
        assert!(p1
            .redirects()
            .allows(&"p1".into(), RedirectType::Login, "https://all.test/"));
        let p2 = ProjectSettings::defaults(&server, &Policy::default(), &"p2".into());
        assert_eq!(
            p2.redirects().default_for("p2", RedirectType::Login),
            Some("https://all.test/")
        );
        assert!(!p2
            .redirects()
            .allows(&"p2".into(), RedirectType::Login, "https://one.test/"));
    }

    #[test]
    fn round_trips_and_reads_older_documents() {
        let s = ProjectSettings::defaults(&Settings::default(), &Policy::default(), &"p".into());
        assert_eq!(ProjectSettings::from_json(&s.to_json()).unwrap(), s);
        let old = ProjectSettings::from_json(r#"{"cross_org_passwords": true}"#).unwrap();
        assert!(old.cross_org_passwords);
        assert_eq!(old.lockout, Lockout::default());
    }
}
