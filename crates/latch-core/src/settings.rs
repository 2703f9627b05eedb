//! Project-wide authentication settings the use cases read (from the server's configuration).

use crate::ids::ProjectId;
use crate::model::oauth::OAuthProvider;
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

/// What a redirect URL may be used for: Stytch's `RedirectURLType`s, one per `*_redirect_url`
/// request field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectType {
    Login,
    Signup,
    Invite,
    ResetPassword,
    Discovery,
}

impl RedirectType {
    pub const ALL: [RedirectType; 5] = [
        RedirectType::Login,
        RedirectType::Signup,
        RedirectType::Invite,
        RedirectType::ResetPassword,
        RedirectType::Discovery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RedirectType::Login => "login",
            RedirectType::Signup => "signup",
            RedirectType::Invite => "invite",
            RedirectType::ResetPassword => "reset_password",
            RedirectType::Discovery => "discovery",
        }
    }

    /// `login` or Stytch's enum spelling `LOGIN`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    /// The request field that carries a URL of this type.
    pub fn field(self) -> &'static str {
        match self {
            RedirectType::Login => "login_redirect_url",
            RedirectType::Signup => "signup_redirect_url",
            RedirectType::Invite => "invite_redirect_url",
            RedirectType::ResetPassword => "reset_password_redirect_url",
            RedirectType::Discovery => "discovery_redirect_url",
        }
    }
}

/// One allowed redirect URL: for one project, or for every project when `project_id` is `None`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RedirectUrl {
    /// Only in the server's configuration; a project's own list holds its URLs alone.
    #[serde(skip)]
    pub project_id: Option<String>,
    pub url: String,
    pub types: Vec<RedirectType>,
    /// Types for which this URL is used when a request names none (a subset of `types`).
    pub default_types: Vec<RedirectType>,
}

/// The redirect URLs links in emails may point to (Stytch's per-project allow-list). Matching:
/// scheme, host, port and path exactly (host and scheme case-insensitively); the query string
/// may differ; an entry on `localhost`, `127.0.0.1` or `[::1]` matches any port. No wildcards.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Redirects {
    pub urls: Vec<RedirectUrl>,
}

impl Redirects {
    fn of_project<'a>(&'a self, project_id: &'a str) -> impl Iterator<Item = &'a RedirectUrl> + 'a {
        self.urls
            .iter()
            .filter(move |u| u.project_id.as_deref().is_none_or(|p| p == project_id))
    }

    /// Whether `url` is allowed for `kind` in the project.
    pub fn allows(&self, project_id: &ProjectId, kind: RedirectType, url: &str) -> bool {
        self.of_project(project_id)
            .filter(|u| u.types.contains(&kind))
            .any(|u| redirect_matches(&u.url, url))
    }

    /// The URL used when a request names none: the project's own default, else one for every
    /// project.
    pub fn default_for<'a>(&'a self, project_id: &'a str, kind: RedirectType) -> Option<&'a str> {
        let mut defaults = self.of_project(project_id).filter(|u| u.default_types.contains(&kind));
        let first = defaults.next()?;
        let chosen = if first.project_id.is_some() {
            first
        } else {
            defaults.find(|u| u.project_id.is_some()).unwrap_or(first)
        };
        Some(chosen.url.as_str())
    }
}

/// Loopback hosts, on which development servers pick their ports freely.
pub fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// The matching rule of [`Redirects`]: `allowed` is a configured entry, `given` a request's URL.
pub fn redirect_matches(allowed: &str, given: &str) -> bool {
    let (Ok(a), Ok(g)) = (url::Url::parse(allowed), url::Url::parse(given)) else {
        return false;
    };
    let host = a.host_str().unwrap_or_default();
    let any_port = is_loopback_host(host);
    a.scheme() == g.scheme()
        && !host.is_empty()
        && Some(host) == g.host_str()
        && (any_port || a.port_or_known_default() == g.port_or_known_default())
        && a.path() == g.path()
        && g.username().is_empty()
        && g.password().is_none()
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
    /// The URL browsers and identity providers reach this server at (no trailing slash): SSO
    /// callback URLs are built from it.
    pub public_url: String,
    /// Latch's client credentials at the OAuth providers, per project or for all.
    pub oauth: Vec<OAuthClient>,
}

impl Settings {
    /// The project's credentials at `provider`: its own entry, else the one for every project.
    pub fn oauth_client(&self, project_id: &ProjectId, provider: OAuthProvider) -> Option<&OAuthClient> {
        let of = |p: Option<&str>| {
            self.oauth
                .iter()
                .find(|c| c.provider == provider && c.project_id.as_deref() == p)
        };
        of(Some(project_id)).or_else(|| of(None))
    }
}

/// Latch's registration at an OAuth provider (`[[oauth_providers]]`): the client the provider
/// knows Latch as, and the issuer whose discovery document names its endpoints (overridable, so
/// a test or a private deployment can use its own provider as "Google").
#[derive(Clone, PartialEq)]
pub struct OAuthClient {
    /// The project it belongs to; `None`: every project without its own entry.
    pub project_id: Option<String>,
    pub provider: OAuthProvider,
    pub client_id: String,
    pub client_secret: String,
    pub issuer: String,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("project_id", &self.project_id)
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .finish()
    }
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
            public_url: "http://127.0.0.1:8080".into(),
            oauth: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_matching() {
        let ok = |a: &str, g: &str| redirect_matches(a, g);
        assert!(ok("https://app.example.com/reset", "https://app.example.com/reset"));
        assert!(ok(
            "https://app.example.com/reset",
            "https://APP.example.com/reset?next=%2Fhome"
        ));
        assert!(ok("https://app.example.com", "https://app.example.com/"));
        assert!(ok("https://app.example.com/r", "https://app.example.com:443/r"));
        assert!(ok("http://localhost/cb", "http://localhost:3000/cb"));
        assert!(ok("http://127.0.0.1/cb", "http://127.0.0.1:8123/cb"));
        assert!(!ok("https://app.example.com/reset", "https://app.example.com/reset/"));
        assert!(!ok("https://app.example.com/reset", "https://app.example.com/Reset"));
        assert!(!ok("https://app.example.com/reset", "http://app.example.com/reset"));
        assert!(!ok(
            "https://app.example.com/reset",
            "https://app.example.com:8443/reset"
        ));
        assert!(!ok("https://app.example.com/reset", "https://evil.example.com/reset"));
        assert!(!ok(
            "https://app.example.com/reset",
            "https://app.example.com.evil.test/reset"
        ));
        assert!(!ok(
            "https://app.example.com/reset",
            "https://app.example.com@evil.test/reset"
        ));
        assert!(!ok(
            "https://app.example.com/reset",
            "https://user@app.example.com/reset"
        ));
        assert!(!ok("https://app.example.com/", "https://app.example.com/anything"));
        assert!(!ok("https://*.example.com/reset", "https://app.example.com/reset"));
    }

    #[test]
    fn defaults_and_scopes() {
        let url = |p: Option<&str>, u: &str, d: &[RedirectType]| RedirectUrl {
            project_id: p.map(str::to_string),
            url: u.into(),
            types: vec![RedirectType::ResetPassword, RedirectType::Login],
            default_types: d.to_vec(),
        };
        let r = Redirects {
            urls: vec![
                url(None, "https://all.test/r", &[RedirectType::ResetPassword]),
                url(Some("p1"), "https://one.test/r", &[RedirectType::ResetPassword]),
                url(Some("p2"), "https://two.test/r", &[]),
            ],
        };
        let rp = RedirectType::ResetPassword;
        assert_eq!(r.default_for("p1", rp), Some("https://one.test/r"));
        assert_eq!(r.default_for("p2", rp), Some("https://all.test/r"));
        assert_eq!(r.default_for("p1", RedirectType::Login), None);
        assert!(r.allows(&"p2".into(), rp, "https://two.test/r?x=1"));
        assert!(!r.allows(&"p1".into(), rp, "https://two.test/r"));
        assert!(!r.allows(&"p2".into(), RedirectType::Discovery, "https://two.test/r"));
        assert!(r.allows(&"p3".into(), rp, "https://all.test/r"));
    }
}
