//! Settings: defaults, then the TOML file (`--config` / `LATCH_CONFIG`), then `LATCH_*`
//! environment variables. Every setting is listed in docs/configuration.md.

use ipnet::IpNet;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: String,
    /// Where the embedded SQLite database lives when `database_url` is empty.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL, or `sqlite:…` for an explicit SQLite file.
    pub database_url: String,
    pub db_max_connections: u32,
    /// How much of an SQLite database file is read through a memory map (MiB; 0 turns it off).
    pub sqlite_mmap_mib: u64,
    /// `tracing` filter, e.g. `info` or `latch=debug,sqlx=warn`.
    pub log: String,
    /// `text` or `json`.
    pub log_format: String,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// How long in-flight requests may run after SIGTERM/SIGINT.
    pub shutdown_grace_secs: u64,
    /// Time a client has to send a request's headers, counted from when the connection opens or
    /// its previous answer was sent (so it also bounds idle keep-alive connections).
    pub header_read_timeout_secs: u64,
    /// A connection on which no byte moves either way for this long is closed.
    pub idle_timeout_secs: u64,
    /// Connections served at once; further ones wait in the accept queue.
    pub max_connections: usize,
    /// How long development-outbox messages are kept before housekeeping deletes them.
    pub outbox_retention_minutes: u64,
    /// Proxies whose `X-Forwarded-For` is believed (IPs or CIDRs).
    pub trusted_proxies: Vec<String>,
    pub bootstrap_project_id: Option<String>,
    pub bootstrap_secret: Option<String>,
    /// JSON file with the project's custom RBAC roles, resources and scopes (added to Stytch's defaults).
    pub rbac_policy_file: Option<PathBuf>,
    /// How often expired sessions are purged and live sessions counted.
    pub housekeeping_interval_secs: u64,
    /// `zxcvbn` (valid at score >= 3) or `luds`.
    pub password_strength_policy: String,
    pub password_luds_min_length: usize,
    pub password_luds_min_complexity: usize,
    pub password_breach_detection_on_create: bool,
    pub password_breach_detection_on_authenticate: bool,
    pub password_validate_on_authenticate: bool,
    /// argon2id cost for new password hashes (OWASP defaults).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Failed password attempts per email address within the window before logins are refused (429).
    pub password_max_failures: i64,
    pub password_failure_window_minutes: i64,
    pub password_lockout_minutes: i64,
    /// Failed attempts per end-user address (forwarded by a trusted proxy) per window.
    pub forwarded_client_max_failures: i64,
    /// Failed attempts per direct peer (usually the application server) per window, past which its
    /// failed checks are answered only after `peer_flood_delay_ms` (never refused): a flood guard.
    pub peer_max_failures: i64,
    pub peer_flood_delay_ms: u64,
    pub address_failure_window_minutes: i64,
    /// Messages (codes, links) sent per end-user address (forwarded by a trusted proxy) per window.
    pub forwarded_client_max_sends: i64,
    /// Messages sent per direct peer per window: a flood guard for the application server.
    pub peer_max_sends: i64,
    /// Where email links point when a request names no URL.
    pub default_login_redirect_url: Option<String>,
    pub default_reset_password_redirect_url: Option<String>,
    /// Breach corpus built by `latch breach import` (default: `<data_dir>/pwned-passwords.bin` if present).
    pub breach_corpus_file: Option<PathBuf>,
    /// Base URL of a Have I Been Pwned range API (e.g. https://api.pwnedpasswords.com); unset = not used.
    pub hibp_range_api_url: Option<String>,
    pub hibp_timeout_ms: u64,
    /// When the range API cannot be reached: refuse (true) or allow (false, logged).
    pub hibp_fail_closed: bool,
    /// One password per email address shared by all of a person's memberships (enables the
    /// `passwords.discovery.*` endpoints).
    pub cross_org_passwords: bool,
    /// Custom message templates (`<dir>/<template_id>.toml`, `<dir>/<project_id>/<template_id>.toml`);
    /// default `<data_dir>/templates` when it exists.
    pub templates_dir: Option<PathBuf>,
    /// SMTP relay for email; unset = the development outbox.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `starttls` (default), `implicit` (TLS from the start, port 465) or `none` (local relays only).
    pub smtp_tls: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// From address, e.g. `Acme <no-reply@acme.test>`.
    pub email_from: String,
    /// `outbox` (default), `twilio` or `webhook`.
    pub sms_provider: String,
    pub twilio_base_url: String,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<String>,
    pub twilio_from: Option<String>,
    /// Receives `{channel, recipient, kind, locale, text, project_id}` signed with `X-Latch-Signature`.
    pub sms_webhook_url: Option<String>,
    pub sms_webhook_secret: Option<String>,
    pub delivery_timeout_secs: u64,
    /// ISO 3166 alpha-2 countries SMS may be sent to.
    pub sms_allowed_countries: Vec<String>,
    // --- Redirect URLs (security review finding 8) ---
    /// `[[redirect_urls]]`: the URLs links in emails may point to, per project or for all.
    pub redirect_urls: Vec<RedirectUrlConfig>,
    /// URLs the bootstrap project allows for every redirect type (none of them a default).
    pub bootstrap_redirect_urls: Vec<String>,
}

/// One `[[redirect_urls]]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RedirectUrlConfig {
    /// The project it belongs to; absent: every project.
    pub project_id: Option<String>,
    pub url: String,
    /// `login`, `signup`, `invite`, `reset_password`, `discovery` (absent: all of them).
    pub types: Option<Vec<String>>,
    /// The types for which it is the default (a subset of `types`).
    #[serde(default)]
    pub default_types: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./latch-data"),
            database_url: String::new(),
            db_max_connections: 16,
            sqlite_mmap_mib: 64,
            log: "info".into(),
            log_format: "text".into(),
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 10_000,
            outbox_retention_minutes: 1440,
            trusted_proxies: vec![],
            bootstrap_project_id: None,
            bootstrap_secret: None,
            rbac_policy_file: None,
            housekeeping_interval_secs: 60,
            password_strength_policy: "zxcvbn".into(),
            password_luds_min_length: 8,
            password_luds_min_complexity: 3,
            password_breach_detection_on_create: true,
            password_breach_detection_on_authenticate: false,
            password_validate_on_authenticate: false,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            password_max_failures: 10,
            password_failure_window_minutes: 60,
            password_lockout_minutes: 60,
            forwarded_client_max_failures: 100,
            peer_max_failures: 10_000,
            peer_flood_delay_ms: 1000,
            address_failure_window_minutes: 10,
            forwarded_client_max_sends: 30,
            peer_max_sends: 100_000,
            default_login_redirect_url: None,
            default_reset_password_redirect_url: None,
            breach_corpus_file: None,
            hibp_range_api_url: None,
            hibp_timeout_ms: 2_000,
            hibp_fail_closed: false,
            cross_org_passwords: false,
            templates_dir: None,
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            email_from: "Latch <no-reply@localhost.localdomain>".into(),
            sms_provider: "outbox".into(),
            twilio_base_url: "https://api.twilio.com".into(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_from: None,
            sms_webhook_url: None,
            sms_webhook_secret: None,
            delivery_timeout_secs: 10,
            sms_allowed_countries: vec!["US".into(), "CA".into()],
            redirect_urls: vec![],
            bootstrap_redirect_urls: vec![],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("parsing {path}: {source}")]
    Parse { path: String, source: toml::de::Error },
    #[error("{var}: {problem}")]
    Env { var: String, problem: String },
    #[error("{0}")]
    Invalid(String),
}

/// Environment variables Latch reads besides the settings (so they are not "unknown").
const OTHER_VARS: &[&str] = &["LATCH_CONFIG", "LATCH_TEST_DATABASE_URL", "LATCH_BIN"];

fn parse_env<T: std::str::FromStr>(var: &str, v: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    v.parse().map_err(|e: T::Err| ConfigError::Env {
        var: var.into(),
        problem: e.to_string(),
    })
}

impl Config {
    /// Loads the file (if any) and applies the environment from `env`.
    pub fn load(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut cfg = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.display().to_string(),
                    source,
                })?
            }
            None => Config::default(),
        };
        cfg.apply_env(env)?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        if let Some(v) = get("LATCH_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("LATCH_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("LATCH_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("LATCH_DB_MAX_CONNECTIONS") {
            self.db_max_connections = parse_env("LATCH_DB_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = get("LATCH_LOG") {
            self.log = v;
        }
        if let Some(v) = get("LATCH_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("LATCH_MAX_BODY_BYTES") {
            self.max_body_bytes = parse_env("LATCH_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = get("LATCH_REQUEST_TIMEOUT_SECS") {
            self.request_timeout_secs = parse_env("LATCH_REQUEST_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = get("LATCH_SHUTDOWN_GRACE_SECS") {
            self.shutdown_grace_secs = parse_env("LATCH_SHUTDOWN_GRACE_SECS", &v)?;
        }
        if let Some(v) = get("LATCH_HEADER_READ_TIMEOUT_SECS") {
            self.header_read_timeout_secs = parse_env("LATCH_HEADER_READ_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = get("LATCH_IDLE_TIMEOUT_SECS") {
            self.idle_timeout_secs = parse_env("LATCH_IDLE_TIMEOUT_SECS", &v)?;
        }
        if let Some(v) = get("LATCH_MAX_CONNECTIONS") {
            self.max_connections = parse_env("LATCH_MAX_CONNECTIONS", &v)?;
        }
        if let Some(v) = get("LATCH_OUTBOX_RETENTION_MINUTES") {
            self.outbox_retention_minutes = parse_env("LATCH_OUTBOX_RETENTION_MINUTES", &v)?;
        }
        if let Some(v) = get("LATCH_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = get("LATCH_BOOTSTRAP_PROJECT_ID") {
            self.bootstrap_project_id = Some(v);
        }
        if let Some(v) = get("LATCH_BOOTSTRAP_SECRET") {
            self.bootstrap_secret = Some(v);
        }
        if let Some(v) = get("LATCH_RBAC_POLICY_FILE") {
            self.rbac_policy_file = Some(PathBuf::from(v));
        }
        if let Some(v) = get("LATCH_HOUSEKEEPING_INTERVAL_SECS") {
            self.housekeeping_interval_secs = parse_env("LATCH_HOUSEKEEPING_INTERVAL_SECS", &v)?;
        }
        macro_rules! parsed {
            ($($var:literal => $field:ident),* $(,)?) => {$(
                if let Some(v) = get($var) {
                    self.$field = parse_env($var, &v)?;
                }
            )*};
        }
        parsed! {
            "LATCH_PASSWORD_STRENGTH_POLICY" => password_strength_policy,
            "LATCH_PASSWORD_LUDS_MIN_LENGTH" => password_luds_min_length,
            "LATCH_PASSWORD_LUDS_MIN_COMPLEXITY" => password_luds_min_complexity,
            "LATCH_PASSWORD_BREACH_DETECTION_ON_CREATE" => password_breach_detection_on_create,
            "LATCH_PASSWORD_BREACH_DETECTION_ON_AUTHENTICATE" => password_breach_detection_on_authenticate,
            "LATCH_PASSWORD_VALIDATE_ON_AUTHENTICATE" => password_validate_on_authenticate,
            "LATCH_ARGON2_MEMORY_KIB" => argon2_memory_kib,
            "LATCH_ARGON2_ITERATIONS" => argon2_iterations,
            "LATCH_ARGON2_PARALLELISM" => argon2_parallelism,
            "LATCH_PASSWORD_MAX_FAILURES" => password_max_failures,
            "LATCH_PASSWORD_FAILURE_WINDOW_MINUTES" => password_failure_window_minutes,
            "LATCH_PASSWORD_LOCKOUT_MINUTES" => password_lockout_minutes,
            "LATCH_FORWARDED_CLIENT_MAX_FAILURES" => forwarded_client_max_failures,
            "LATCH_PEER_MAX_FAILURES" => peer_max_failures,
            "LATCH_PEER_FLOOD_DELAY_MS" => peer_flood_delay_ms,
            "LATCH_ADDRESS_FAILURE_WINDOW_MINUTES" => address_failure_window_minutes,
            "LATCH_FORWARDED_CLIENT_MAX_SENDS" => forwarded_client_max_sends,
            "LATCH_PEER_MAX_SENDS" => peer_max_sends,
        }
        if let Some(v) = get("LATCH_DEFAULT_LOGIN_REDIRECT_URL") {
            self.default_login_redirect_url = Some(v);
        }
        if let Some(v) = get("LATCH_DEFAULT_RESET_PASSWORD_REDIRECT_URL") {
            self.default_reset_password_redirect_url = Some(v);
        }
        if let Some(v) = get("LATCH_BREACH_CORPUS_FILE") {
            self.breach_corpus_file = Some(PathBuf::from(v));
        }
        macro_rules! optional {
            ($($var:literal => $field:ident),* $(,)?) => {$(
                if let Some(v) = get($var) {
                    self.$field = Some(v);
                }
            )*};
        }
        optional! {
            "LATCH_SMTP_HOST" => smtp_host,
            "LATCH_SMTP_USERNAME" => smtp_username,
            "LATCH_SMTP_PASSWORD" => smtp_password,
            "LATCH_TWILIO_ACCOUNT_SID" => twilio_account_sid,
            "LATCH_TWILIO_AUTH_TOKEN" => twilio_auth_token,
            "LATCH_TWILIO_FROM" => twilio_from,
            "LATCH_SMS_WEBHOOK_URL" => sms_webhook_url,
            "LATCH_SMS_WEBHOOK_SECRET" => sms_webhook_secret,
        }
        if let Some(v) = get("LATCH_SMS_ALLOWED_COUNTRIES") {
            self.sms_allowed_countries = v
                .split(',')
                .map(|s| s.trim().to_uppercase())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = get("LATCH_BOOTSTRAP_REDIRECT_URLS") {
            self.bootstrap_redirect_urls = v
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(v) = get("LATCH_TEMPLATES_DIR") {
            self.templates_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("LATCH_HIBP_RANGE_API_URL") {
            self.hibp_range_api_url = Some(v);
        }
        parsed! {
            "LATCH_HIBP_TIMEOUT_MS" => hibp_timeout_ms,
            "LATCH_HIBP_FAIL_CLOSED" => hibp_fail_closed,
            "LATCH_CROSS_ORG_PASSWORDS" => cross_org_passwords,
            "LATCH_SMTP_PORT" => smtp_port,
            "LATCH_SMTP_TLS" => smtp_tls,
            "LATCH_EMAIL_FROM" => email_from,
            "LATCH_SMS_PROVIDER" => sms_provider,
            "LATCH_TWILIO_BASE_URL" => twilio_base_url,
            "LATCH_DELIVERY_TIMEOUT_SECS" => delivery_timeout_secs,
            "LATCH_SQLITE_MMAP_MIB" => sqlite_mmap_mib,
        }
        if let Some(path) = get("LATCH_BOOTSTRAP_SECRET_FILE") {
            let secret = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            self.bootstrap_secret = Some(secret.trim().to_string());
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid(format!(
                "log_format must be text or json, not '{}'",
                self.log_format
            )));
        }
        if self.bootstrap_project_id.is_some() != self.bootstrap_secret.is_some() {
            return Err(ConfigError::Invalid(
                "bootstrap_project_id and bootstrap_secret go together".into(),
            ));
        }
        if self.db_max_connections == 0 {
            return Err(ConfigError::Invalid("db_max_connections must be at least 1".into()));
        }
        self.trusted_proxy_nets()?;
        self.rbac_policy()?;
        self.settings()?;
        self.custom_templates()?;
        if self.housekeeping_interval_secs == 0 {
            return Err(ConfigError::Invalid(
                "housekeeping_interval_secs must be at least 1".into(),
            ));
        }
        for (name, value) in [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("max_connections", self.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        Ok(())
    }

    pub fn trusted_proxy_nets(&self) -> Result<Vec<IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| ConfigError::Invalid(format!("trusted_proxies: '{s}' is not an IP address or CIDR")))
            })
            .collect()
    }

    /// Stytch's default RBAC policy plus the project's own from `rbac_policy_file`.
    pub fn rbac_policy(&self) -> Result<latch_core::rbac::Policy, ConfigError> {
        let Some(path) = &self.rbac_policy_file else {
            return Ok(latch_core::rbac::default_policy());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let custom: latch_core::rbac::Policy = serde_json::from_str(&text)
            .map_err(|e| ConfigError::Invalid(format!("rbac_policy_file {}: {e}", path.display())))?;
        latch_core::rbac::Policy::with_custom(custom)
            .map_err(|e| ConfigError::Invalid(format!("rbac_policy_file {}: {e}", path.display())))
    }

    /// The authentication settings the use cases read.
    pub fn settings(&self) -> Result<latch_core::settings::Settings, ConfigError> {
        use latch_core::password::policy::{PasswordPolicy, Strength};
        let strength = match self.password_strength_policy.as_str() {
            "zxcvbn" => Strength::Zxcvbn,
            "luds" => Strength::Luds {
                min_length: self.password_luds_min_length,
                min_complexity: self.password_luds_min_complexity.min(4),
            },
            other => {
                return Err(ConfigError::Invalid(format!(
                    "password_strength_policy must be zxcvbn or luds, not '{other}'"
                )))
            }
        };
        let argon2 = latch_core::password::Argon2Params {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        };
        argon2
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("argon2 parameters: {e}")))?;
        let limits = [
            self.password_max_failures,
            self.password_failure_window_minutes,
            self.password_lockout_minutes,
            self.forwarded_client_max_failures,
            self.peer_max_failures,
            self.address_failure_window_minutes,
            self.forwarded_client_max_sends,
            self.peer_max_sends,
        ];
        if limits.iter().any(|v| *v < 1) {
            return Err(ConfigError::Invalid(
                "password lockout settings must be at least 1".into(),
            ));
        }
        Ok(latch_core::settings::Settings {
            password: PasswordPolicy {
                strength,
                breach_detection_on_create: self.password_breach_detection_on_create,
                breach_detection_on_authenticate: self.password_breach_detection_on_authenticate,
                validate_on_authenticate: self.password_validate_on_authenticate,
            },
            argon2,
            limits: latch_core::settings::Limits {
                password_failures: self.password_max_failures,
                failure_window_minutes: self.password_failure_window_minutes,
                lockout_minutes: self.password_lockout_minutes,
                forwarded_client_failures: self.forwarded_client_max_failures,
                peer_failures: self.peer_max_failures,
                peer_flood_delay: std::time::Duration::from_millis(self.peer_flood_delay_ms),
                address_window_minutes: self.address_failure_window_minutes,
                forwarded_client_sends: self.forwarded_client_max_sends,
                peer_sends: self.peer_max_sends,
            },
            redirects: self.redirects()?,
            cross_org_passwords: self.cross_org_passwords,
            sms_allowed_countries: self.sms_allowed_countries.clone(),
        })
    }

    /// The redirect allow-list: `[[redirect_urls]]`, the bootstrap project's URLs, and the two
    /// `default_*_redirect_url` settings (allowed defaults of their type for every project).
    fn redirects(&self) -> Result<latch_core::settings::Redirects, ConfigError> {
        use latch_core::settings::{RedirectType, RedirectUrl};
        let bad = |msg: String| ConfigError::Invalid(msg);
        let kinds = |what: &str, url: &str, names: &[String]| {
            names
                .iter()
                .map(|n| {
                    RedirectType::parse(n).ok_or_else(|| bad(format!("redirect_urls {url}: unknown {what} '{n}'")))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let mut urls = Vec::new();
        for e in &self.redirect_urls {
            let types = match &e.types {
                Some(t) => kinds("type", &e.url, t)?,
                None => RedirectType::ALL.to_vec(),
            };
            let default_types = kinds("default type", &e.url, &e.default_types)?;
            if let Some(t) = default_types.iter().find(|t| !types.contains(t)) {
                return Err(bad(format!(
                    "redirect_urls {}: default type '{}' is not one of its types",
                    e.url,
                    t.as_str()
                )));
            }
            urls.push(RedirectUrl {
                project_id: e.project_id.clone(),
                url: e.url.clone(),
                types,
                default_types,
            });
        }
        if !self.bootstrap_redirect_urls.is_empty() {
            let Some(project) = &self.bootstrap_project_id else {
                return Err(bad("bootstrap_redirect_urls needs bootstrap_project_id".into()));
            };
            for url in &self.bootstrap_redirect_urls {
                urls.push(RedirectUrl {
                    project_id: Some(project.clone()),
                    url: url.clone(),
                    types: RedirectType::ALL.to_vec(),
                    default_types: vec![],
                });
            }
        }
        let legacy = [
            (&self.default_login_redirect_url, RedirectType::Login),
            (&self.default_reset_password_redirect_url, RedirectType::ResetPassword),
        ];
        for (url, kind) in legacy {
            if let Some(url) = url {
                urls.push(RedirectUrl {
                    project_id: None,
                    url: url.clone(),
                    types: vec![kind],
                    default_types: vec![kind],
                });
            }
        }
        for (i, u) in urls.iter().enumerate() {
            latch_core::validate::redirect_url("redirect_urls", &u.url).map_err(|_| {
                bad(format!(
                    "redirect URL {}: must be an absolute http(s) URL with a host, without credentials or a fragment",
                    u.url
                ))
            })?;
            for t in &u.default_types {
                // One default per type and scope: otherwise which one applies would be arbitrary.
                if urls[..i]
                    .iter()
                    .any(|o| o.project_id == u.project_id && o.default_types.contains(t))
                {
                    return Err(bad(format!(
                        "redirect URL {}: a second default for type '{}' in the same project scope",
                        u.url,
                        t.as_str()
                    )));
                }
            }
        }
        Ok(latch_core::settings::Redirects { urls })
    }

    /// The corpus file to use: the configured one, else the default location when it exists.
    pub fn breach_corpus_path(&self) -> Option<PathBuf> {
        match &self.breach_corpus_file {
            Some(p) => Some(p.clone()),
            None => Some(self.data_dir.join("pwned-passwords.bin")).filter(|p| p.exists()),
        }
    }

    /// The breach sources the use cases consult.
    pub fn breach_sources(&self) -> Result<latch_core::engine::BreachSources, ConfigError> {
        let corpus = match self.breach_corpus_path() {
            Some(path) => Some(std::sync::Arc::new(
                latch_core::password::corpus::Corpus::open(&path)
                    .map_err(|e| ConfigError::Invalid(format!("breach_corpus_file {}: {e}", path.display())))?,
            )),
            None => None,
        };
        let range_api = match &self.hibp_range_api_url {
            Some(url) => Some(
                latch_core::password::hibp::RangeApi::new(
                    url,
                    std::time::Duration::from_millis(self.hibp_timeout_ms),
                    self.hibp_fail_closed,
                )
                .map_err(|e| ConfigError::Invalid(format!("hibp_range_api_url: {e}")))?,
            ),
            None => None,
        };
        Ok(latch_core::engine::BreachSources { corpus, range_api })
    }

    /// Custom templates from `templates_dir`. A file that does not parse, or names an unknown
    /// message kind, stops the start: a silently ignored template would send the wrong email.
    pub fn custom_templates(&self) -> Result<latch_core::delivery::custom::CustomTemplates, ConfigError> {
        use latch_core::delivery::custom::{CustomTemplate, CustomTemplates};
        const KINDS: &[&str] = &["password_reset", "login_otp", "signup_otp", "discovery_otp", "sms_otp"];
        let mut out = CustomTemplates::default();
        let dir = match &self.templates_dir {
            Some(d) => d.clone(),
            None => self.data_dir.join("templates"),
        };
        if !dir.exists() {
            if self.templates_dir.is_some() {
                return Err(ConfigError::Invalid(format!(
                    "templates_dir {} does not exist",
                    dir.display()
                )));
            }
            return Ok(out);
        }
        let read_dir = |d: &Path| {
            std::fs::read_dir(d).map_err(|source| ConfigError::Read {
                path: d.display().to_string(),
                source,
            })
        };
        let mut load = |path: &Path, project: Option<&str>| -> Result<(), ConfigError> {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let t: CustomTemplate = toml::from_str(&text).map_err(|source| ConfigError::Parse {
                path: path.display().to_string(),
                source,
            })?;
            if !KINDS.contains(&t.kind.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "{}: kind must be one of {}",
                    path.display(),
                    KINDS.join(", ")
                )));
            }
            let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            out.insert(project, id, t);
            Ok(())
        };
        for entry in read_dir(&dir)? {
            let path = entry
                .map_err(|source| ConfigError::Read {
                    path: dir.display().to_string(),
                    source,
                })?
                .path();
            if path.is_dir() {
                let project = path
                    .file_name()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                for inner in read_dir(&path)? {
                    let p = inner
                        .map_err(|source| ConfigError::Read {
                            path: path.display().to_string(),
                            source,
                        })?
                        .path();
                    if p.extension().is_some_and(|e| e == "toml") {
                        load(&p, Some(&project))?;
                    }
                }
            } else if path.extension().is_some_and(|e| e == "toml") {
                load(&path, None)?;
            }
        }
        Ok(out)
    }

    /// Where messages go: SMTP and an SMS provider when configured, else the development outbox.
    pub fn delivery(
        &self,
        outbox: std::sync::Arc<dyn latch_core::delivery::Delivery>,
    ) -> Result<std::sync::Arc<dyn latch_core::delivery::Delivery>, ConfigError> {
        use latch_core::delivery::providers::{Dispatch, Smtp, SmtpSettings, SmtpTls, Twilio, Webhook};
        use std::sync::Arc;
        let timeout = std::time::Duration::from_secs(self.delivery_timeout_secs);
        let invalid = |e: latch_core::CoreError| ConfigError::Invalid(e.to_string());
        let email: Arc<dyn latch_core::delivery::Delivery> = match &self.smtp_host {
            None => outbox.clone(),
            Some(host) => {
                let tls = match self.smtp_tls.as_str() {
                    "starttls" => SmtpTls::StartTls,
                    "implicit" => SmtpTls::Implicit,
                    "none" => SmtpTls::None,
                    other => {
                        return Err(ConfigError::Invalid(format!(
                            "smtp_tls must be starttls, implicit or none, not '{other}'"
                        )))
                    }
                };
                Arc::new(
                    Smtp::new(SmtpSettings {
                        host: host.clone(),
                        port: self.smtp_port,
                        tls,
                        username: self.smtp_username.clone(),
                        password: self.smtp_password.clone(),
                        from: self.email_from.clone(),
                        timeout,
                    })
                    .map_err(invalid)?,
                )
            }
        };
        let need = |v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| ConfigError::Invalid(format!("sms_provider {}: {name} is required", self.sms_provider)))
        };
        let sms: Arc<dyn latch_core::delivery::Delivery> = match self.sms_provider.as_str() {
            "outbox" => outbox,
            "twilio" => Arc::new(
                Twilio::new(
                    &self.twilio_base_url,
                    &need(&self.twilio_account_sid, "twilio_account_sid")?,
                    &need(&self.twilio_auth_token, "twilio_auth_token")?,
                    &need(&self.twilio_from, "twilio_from")?,
                    timeout,
                )
                .map_err(invalid)?,
            ),
            "webhook" => Arc::new(
                Webhook::new(
                    &need(&self.sms_webhook_url, "sms_webhook_url")?,
                    &need(&self.sms_webhook_secret, "sms_webhook_secret")?,
                    timeout,
                )
                .map_err(invalid)?,
            ),
            other => {
                return Err(ConfigError::Invalid(format!(
                    "sms_provider must be outbox, twilio or webhook, not '{other}'"
                )))
            }
        };
        Ok(Arc::new(Dispatch { email, sms }))
    }

    /// The database to open: the configured URL, else the SQLite file in `data_dir`.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite:{}", self.data_dir.join("latch.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// Email leaves through a real relay while SMS codes still land in the development outbox,
    /// in clear: a production setup that forgot SMS (worth a warning at start).
    pub fn sms_codes_stay_in_outbox_beside_smtp(&self) -> bool {
        self.smtp_host.is_some() && matches!(self.sms_provider.as_str(), "" | "outbox")
    }

    /// `LATCH_*` variables that no setting reads: likely typos, worth a warning.
    pub fn unknown_env_vars(vars: impl Iterator<Item = String>) -> Vec<String> {
        const KNOWN: &[&str] = &[
            "LATCH_LISTEN",
            "LATCH_DATA_DIR",
            "LATCH_DATABASE_URL",
            "LATCH_DB_MAX_CONNECTIONS",
            "LATCH_SQLITE_MMAP_MIB",
            "LATCH_LOG",
            "LATCH_LOG_FORMAT",
            "LATCH_MAX_BODY_BYTES",
            "LATCH_REQUEST_TIMEOUT_SECS",
            "LATCH_SHUTDOWN_GRACE_SECS",
            "LATCH_HEADER_READ_TIMEOUT_SECS",
            "LATCH_IDLE_TIMEOUT_SECS",
            "LATCH_MAX_CONNECTIONS",
            "LATCH_OUTBOX_RETENTION_MINUTES",
            "LATCH_TRUSTED_PROXIES",
            "LATCH_BOOTSTRAP_PROJECT_ID",
            "LATCH_BOOTSTRAP_SECRET",
            "LATCH_BOOTSTRAP_SECRET_FILE",
            "LATCH_RBAC_POLICY_FILE",
            "LATCH_HOUSEKEEPING_INTERVAL_SECS",
            "LATCH_PASSWORD_STRENGTH_POLICY",
            "LATCH_PASSWORD_LUDS_MIN_LENGTH",
            "LATCH_PASSWORD_LUDS_MIN_COMPLEXITY",
            "LATCH_PASSWORD_BREACH_DETECTION_ON_CREATE",
            "LATCH_PASSWORD_BREACH_DETECTION_ON_AUTHENTICATE",
            "LATCH_PASSWORD_VALIDATE_ON_AUTHENTICATE",
            "LATCH_ARGON2_MEMORY_KIB",
            "LATCH_ARGON2_ITERATIONS",
            "LATCH_ARGON2_PARALLELISM",
            "LATCH_PASSWORD_MAX_FAILURES",
            "LATCH_PASSWORD_FAILURE_WINDOW_MINUTES",
            "LATCH_PASSWORD_LOCKOUT_MINUTES",
            "LATCH_DEFAULT_LOGIN_REDIRECT_URL",
            "LATCH_DEFAULT_RESET_PASSWORD_REDIRECT_URL",
            "LATCH_BREACH_CORPUS_FILE",
            "LATCH_HIBP_RANGE_API_URL",
            "LATCH_HIBP_TIMEOUT_MS",
            "LATCH_HIBP_FAIL_CLOSED",
            "LATCH_FORWARDED_CLIENT_MAX_FAILURES",
            "LATCH_PEER_MAX_FAILURES",
            "LATCH_PEER_FLOOD_DELAY_MS",
            "LATCH_ADDRESS_FAILURE_WINDOW_MINUTES",
            "LATCH_CROSS_ORG_PASSWORDS",
            "LATCH_TEMPLATES_DIR",
            "LATCH_SMTP_HOST",
            "LATCH_SMTP_PORT",
            "LATCH_SMTP_TLS",
            "LATCH_SMTP_USERNAME",
            "LATCH_SMTP_PASSWORD",
            "LATCH_EMAIL_FROM",
            "LATCH_SMS_PROVIDER",
            "LATCH_TWILIO_BASE_URL",
            "LATCH_TWILIO_ACCOUNT_SID",
            "LATCH_TWILIO_AUTH_TOKEN",
            "LATCH_TWILIO_FROM",
            "LATCH_SMS_WEBHOOK_URL",
            "LATCH_SMS_WEBHOOK_SECRET",
            "LATCH_DELIVERY_TIMEOUT_SECS",
            "LATCH_SMS_ALLOWED_COUNTRIES",
            "LATCH_FORWARDED_CLIENT_MAX_SENDS",
            "LATCH_PEER_MAX_SENDS",
            "LATCH_BOOTSTRAP_REDIRECT_URLS",
        ];
        vars.filter(|v| v.starts_with("LATCH_") && !KNOWN.contains(&v.as_str()) && !OTHER_VARS.contains(&v.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_overrides_file() {
        let dir = std::env::temp_dir().join(format!("latch-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("latch.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\nlog = \"debug\"\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
        )
        .unwrap();
        let cfg = Config::load(Some(&file), &env(&[("LATCH_LISTEN", "127.0.0.1:1")])).unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:1");
        assert_eq!(cfg.log, "debug");
        assert_eq!(cfg.trusted_proxy_nets().unwrap().len(), 1);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = std::env::temp_dir().join(format!("latch-cfg2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("latch.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        assert!(matches!(
            Config::load(Some(&file), &env(&[])),
            Err(ConfigError::Parse { .. })
        ));
        assert!(Config::load(None, &env(&[("LATCH_MAX_BODY_BYTES", "lots")])).is_err());
        assert!(Config::load(None, &env(&[("LATCH_TRUSTED_PROXIES", "not-an-ip")])).is_err());
        assert!(Config::load(None, &env(&[("LATCH_BOOTSTRAP_PROJECT_ID", "project-test-x")])).is_err());
    }

    #[test]
    fn sms_in_the_outbox_beside_smtp_is_flagged() {
        let with = |pairs: &[(&str, &str)]| {
            Config::load(None, &env(pairs))
                .unwrap()
                .sms_codes_stay_in_outbox_beside_smtp()
        };
        assert!(!with(&[]), "development: both in the outbox");
        assert!(with(&[("LATCH_SMTP_HOST", "smtp.acme.test")]));
        assert!(with(&[
            ("LATCH_SMTP_HOST", "smtp.acme.test"),
            ("LATCH_SMS_PROVIDER", "outbox")
        ]));
        assert!(!with(&[
            ("LATCH_SMTP_HOST", "smtp.acme.test"),
            ("LATCH_SMS_PROVIDER", "webhook"),
            ("LATCH_SMS_WEBHOOK_URL", "https://hooks.acme.test/sms"),
            ("LATCH_SMS_WEBHOOK_SECRET", "0123456789abcdef0123456789abcdef"),
        ]));
    }

    #[test]
    fn redirect_urls_from_file_env_and_legacy_defaults() {
        use latch_core::settings::RedirectType::{Discovery, Login, ResetPassword};
        let dir = std::env::temp_dir().join(format!("latch-cfg3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("latch.toml");
        std::fs::write(
            &file,
            "[[redirect_urls]]\nproject_id = \"project-test-a\"\nurl = \"https://a.test/reset\"\n\
             types = [\"reset_password\", \"LOGIN\"]\ndefault_types = [\"reset_password\"]\n",
        )
        .unwrap();
        let cfg = Config::load(
            Some(&file),
            &env(&[
                ("LATCH_BOOTSTRAP_PROJECT_ID", "project-test-b"),
                ("LATCH_BOOTSTRAP_SECRET", "0123456789abcdef0123"),
                ("LATCH_BOOTSTRAP_REDIRECT_URLS", "https://b.test/r, http://localhost/cb"),
                ("LATCH_DEFAULT_RESET_PASSWORD_REDIRECT_URL", "https://all.test/reset"),
            ]),
        )
        .unwrap();
        let r = cfg.settings().unwrap().redirects;
        assert_eq!(
            r.default_for("project-test-a", ResetPassword),
            Some("https://a.test/reset")
        );
        assert_eq!(
            r.default_for("project-test-b", ResetPassword),
            Some("https://all.test/reset")
        );
        assert_eq!(r.default_for("project-test-b", Login), None);
        assert!(r.allows("project-test-a", Login, "https://a.test/reset"));
        assert!(!r.allows("project-test-a", Discovery, "https://a.test/reset"));
        assert!(r.allows("project-test-b", Discovery, "http://localhost:5173/cb"));
        assert!(!r.allows("project-test-a", Discovery, "http://localhost:5173/cb"));
        assert!(r.allows("project-test-z", ResetPassword, "https://all.test/reset"));

        let refused = |toml: &str| {
            std::fs::write(&file, toml).unwrap();
            Config::load(Some(&file), &env(&[])).and_then(|c| c.settings().map(|_| ()))
        };
        assert!(refused("[[redirect_urls]]\nurl = \"https://a.test/\"\ntypes = [\"bogus\"]\n").is_err());
        assert!(refused("[[redirect_urls]]\nurl = \"javascript:alert(1)\"\n").is_err());
        assert!(refused("[[redirect_urls]]\nurl = \"https://a.test/#x\"\n").is_err());
        assert!(refused(
            "[[redirect_urls]]\nurl = \"https://a.test/\"\ntypes = [\"login\"]\ndefault_types = [\"discovery\"]\n"
        )
        .is_err());
        assert!(refused(
            "[[redirect_urls]]\nurl = \"https://a.test/\"\ndefault_types = [\"login\"]\n\
             [[redirect_urls]]\nurl = \"https://b.test/\"\ndefault_types = [\"login\"]\n"
        )
        .is_err());
        // URLs for a bootstrap project that is not configured.
        assert!(
            Config::load(None, &env(&[("LATCH_BOOTSTRAP_REDIRECT_URLS", "https://a.test/")]))
                .and_then(|c| c.settings().map(|_| ()))
                .is_err()
        );
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let cfg = Config::load(None, &env(&[("LATCH_DATA_DIR", "/tmp/d")])).unwrap();
        assert_eq!(cfg.database_url(), "sqlite:/tmp/d/latch.db");
        let unknown = Config::unknown_env_vars(["LATCH_LISTN".to_string(), "LATCH_LOG".to_string()].into_iter());
        assert_eq!(unknown, vec!["LATCH_LISTN"]);
    }
}
