//! Settings: defaults, then the TOML file (`--config` / `LATCH_CONFIG`), then `LATCH_*`
//! environment variables, layered with figment. The `Config` struct is the one list of settings:
//! its serde field names give the TOML keys, the variables and their `_FILE` forms, and the test
//! at the bottom holds docs/configuration.md to the same list.

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use ipnet::IpNet;
use latch_core::ids::ProjectId;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};
use std::path::{Path, PathBuf};

/// Every setting, declared once: its field name is the TOML key, `LATCH_<NAME>` its environment
/// variable and `LATCH_<NAME>_FILE` a file holding its value (see [`Config::load`]). Secrets are
/// `SecretString`s, so `Debug` prints them redacted.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: String,
    /// The URL browsers and identity providers reach this server at; empty: `http://<listen>`, or
    /// `https://` and the address that serves TLS when TLS is on.
    pub public_url: String,
    /// PEM certificate chain (leaf first) for HTTPS, with `tls_key_file`; reloaded without a
    /// restart when either file changes or on SIGHUP.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// A second address that serves HTTPS, beside plain HTTP on `listen` (e.g. loopback for local
    /// SDK use); empty: `listen` itself serves HTTPS.
    pub tls_listen: String,
    /// How often the certificate files are checked for a change.
    pub tls_reload_interval_secs: u64,
    /// Where the embedded SQLite database lives when `database_url` is empty.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL, or `sqlite:…` for an explicit SQLite file.
    pub database_url: String,
    /// The key-encryption key (base64 of 32 bytes) that seals secrets at rest; every node of one
    /// database needs the same. Unset: `kek_file`, else `<data_dir>/kek` (generated if missing).
    pub kek: Option<SecretString>,
    /// A file holding the key-encryption key.
    pub kek_file: Option<PathBuf>,
    /// Earlier key-encryption keys (comma-separated base64), still accepted for opening values
    /// until `latch keys rewrap` has resealed them under the current one.
    pub previous_keks: Option<SecretString>,
    pub db_max_connections: u32,
    /// How much of an SQLite database file is read through a memory map (MiB; 0 turns it off).
    pub sqlite_mmap_mib: u64,
    /// SQLite's `synchronous`: `full` (default: a commit is on disk before it is acknowledged),
    /// `normal` (faster; survives a crash of the process, not a power loss) or `extra`.
    pub sqlite_synchronous: String,
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
    #[serde(deserialize_with = "list")]
    pub trusted_proxies: Vec<String>,
    pub bootstrap_project_id: Option<ProjectId>,
    pub bootstrap_secret: Option<SecretString>,
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
    pub smtp_password: Option<SecretString>,
    /// From address, e.g. `Acme <no-reply@acme.test>`.
    pub email_from: String,
    /// `outbox` (default), `twilio` or `webhook`.
    pub sms_provider: String,
    pub twilio_base_url: String,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<SecretString>,
    pub twilio_from: Option<String>,
    /// Receives `{channel, recipient, kind, locale, text, project_id}` signed with `X-Latch-Signature`.
    pub sms_webhook_url: Option<String>,
    pub sms_webhook_secret: Option<SecretString>,
    /// Bearer token of `GET /metrics`; unset: the endpoint is off.
    pub metrics_token: Option<SecretString>,
    /// How long audit events are kept before housekeeping deletes them.
    pub audit_retention_days: u64,
    /// Also write every audit event to stdout, one JSON object per line.
    pub audit_stdout: bool,
    /// Also POST audit events, in batches, to this URL (signed with `audit_webhook_secret`).
    pub audit_webhook_url: Option<String>,
    pub audit_webhook_secret: Option<SecretString>,
    pub delivery_timeout_secs: u64,
    /// ISO 3166 alpha-2 countries SMS may be sent to.
    #[serde(deserialize_with = "country_list")]
    pub sms_allowed_countries: Vec<String>,
    // --- Redirect URLs (security review finding 8) ---
    /// `[[redirect_urls]]`: the URLs links in emails may point to, per project or for all.
    pub redirect_urls: Vec<RedirectUrlConfig>,
    /// URLs the bootstrap project allows for every redirect type (none of them a default).
    #[serde(deserialize_with = "list")]
    pub bootstrap_redirect_urls: Vec<String>,
    /// `[[oauth_providers]]`: Latch's client at Google or Microsoft, per project or for all.
    pub oauth_providers: Vec<OAuthProviderConfig>,
}

/// One `[[oauth_providers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthProviderConfig {
    /// The project it belongs to; absent: every project without its own entry.
    pub project_id: Option<String>,
    /// `google` or `microsoft`.
    pub provider: String,
    pub client_id: String,
    /// The client secret, or `client_secret_file` naming a file that holds it.
    pub client_secret: Option<SecretString>,
    pub client_secret_file: Option<PathBuf>,
    /// Whose discovery document names the endpoints (default: the provider's own).
    pub issuer: Option<String>,
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
            tls_cert_file: None,
            tls_key_file: None,
            tls_listen: String::new(),
            tls_reload_interval_secs: 10,
            public_url: String::new(),
            data_dir: PathBuf::from("./latch-data"),
            kek: None,
            kek_file: None,
            previous_keks: None,
            database_url: String::new(),
            db_max_connections: 16,
            sqlite_mmap_mib: 64,
            sqlite_synchronous: "full".into(),
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
            metrics_token: None,
            audit_retention_days: 90,
            audit_stdout: false,
            audit_webhook_url: None,
            audit_webhook_secret: None,
            delivery_timeout_secs: 10,
            sms_allowed_countries: vec!["US".into(), "CA".into()],
            redirect_urls: vec![],
            bootstrap_redirect_urls: vec![],
            oauth_providers: vec![],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("parsing {path}: {source}")]
    Parse {
        path: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{var}: {problem}")]
    Env { var: String, problem: String },
    #[error("{0}")]
    Invalid(String),
}

/// Environment variables Latch reads besides the settings (so they are not "unknown").
const OTHER_VARS: &[&str] = &["LATCH_CONFIG", "LATCH_TEST_DATABASE_URL", "LATCH_BIN"];

/// Keys that only a TOML file can set: arrays of tables have no flat environment form.
const TOML_ONLY: &[&str] = &["redirect_urls", "oauth_providers"];

/// Where environment values are attributed in figment's errors.
const ENV_SOURCE: &str = "LATCH_* environment variable(s)";

/// A list: a TOML array, or (from the environment) one comma-separated string.
fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    split_list(d, |s| s.to_string())
}

/// Like `list`, with country codes from the environment upper-cased (`us,ca` works).
fn country_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    split_list(d, |s| s.to_uppercase())
}

fn split_list<'de, D: Deserializer<'de>>(d: D, each: fn(&str) -> String) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Many(Vec<String>),
        Joined(String),
    }
    Ok(match List::deserialize(d)? {
        List::Many(v) => v,
        List::Joined(s) => s.split(',').map(|p| each(p.trim())).filter(|p| !p.is_empty()).collect(),
    })
}

/// The `LATCH_*` layer. Values stay strings (figment's own `Env` would read `LATCH_TWILIO_FROM=
/// +15005550006` as a number); numbers and booleans are parsed from them by `extract_lossy`.
struct EnvLayer(Dict);

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_SOURCE)
    }
    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

impl Config {
    /// The settings' keys, read from the struct's serde declaration, so no second list exists.
    pub fn keys() -> &'static [&'static str] {
        use serde::de::{self, Visitor};
        /// Answers the struct's field list as its "error", which is all we asked for.
        #[derive(Debug)]
        struct Fields(&'static [&'static str]);
        impl std::fmt::Display for Fields {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("fields probe")
            }
        }
        impl std::error::Error for Fields {}
        impl de::Error for Fields {
            fn custom<T: std::fmt::Display>(_: T) -> Self {
                Fields(&[])
            }
        }
        struct Probe;
        impl<'de> Deserializer<'de> for Probe {
            type Error = Fields;
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Fields> {
                Err(Fields(fields))
            }
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
                Err(Fields(&[]))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
                option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
                ignored_any
            }
        }
        match Config::deserialize(Probe) {
            Err(Fields(fields)) => fields,
            Ok(_) => unreachable!("the probe never yields a value"),
        }
    }

    /// The environment variable of a key.
    pub fn env_var(key: &str) -> String {
        format!("LATCH_{}", key.to_ascii_uppercase())
    }

    /// Keys with an environment form (all but the TOML-only tables).
    fn env_keys() -> impl Iterator<Item = &'static str> {
        Self::keys().iter().copied().filter(|k| !TOML_ONLY.contains(k))
    }

    /// Loads the file (if any), then the environment from `env`. `LATCH_<NAME>_FILE` names a
    /// file holding the value (trimmed) and wins over `LATCH_<NAME>`, so secrets need not sit in
    /// the environment (lldap's `FileAdapter` pattern). Empty variables are ignored.
    pub fn load(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        let source = match file {
            Some(path) => {
                // Read here rather than with `Toml::file`, which takes a missing file as empty.
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                figment = figment.merge(Toml::string(&text));
                path.display().to_string()
            }
            None => "defaults".to_string(),
        };
        let mut vars = Dict::new();
        for key in Self::env_keys() {
            let var = Self::env_var(key);
            let get = |name: &str| env(name).filter(|v| !v.is_empty());
            if let Some(v) = get(&var) {
                vars.insert(key.to_string(), Value::from(v));
            }
            if let Some(path) = get(&format!("{var}_FILE")) {
                let v = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path, source })?;
                vars.insert(key.to_string(), Value::from(v.trim().to_string()));
            }
        }
        let cfg: Config = figment
            .merge(EnvLayer(vars))
            .extract_lossy()
            .map_err(|e| match &e.metadata {
                Some(m) if m.name == ENV_SOURCE => ConfigError::Env {
                    var: e.path.first().map(|k| Self::env_var(k)).unwrap_or_default(),
                    problem: e.kind.to_string(),
                },
                // figment lists every expected field here; the key is what the operator needs.
                _ => ConfigError::Parse {
                    path: source,
                    source: match &e.kind {
                        figment::error::Kind::UnknownField(key, _) => {
                            let at = if e.path.is_empty() {
                                key.clone()
                            } else {
                                e.path.join(".")
                            };
                            format!("unknown key `{at}`").into()
                        }
                        _ => Box::new(e),
                    },
                },
            })?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(ConfigError::Invalid(format!(
                "log_format must be text or json, not '{}'",
                self.log_format
            )));
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return Err(ConfigError::Invalid(
                "tls_cert_file and tls_key_file go together".into(),
            ));
        }
        if !self.tls_listen.is_empty() && !self.tls_enabled() {
            return Err(ConfigError::Invalid(
                "tls_listen needs tls_cert_file and tls_key_file".into(),
            ));
        }
        if self.tls_enabled() && self.tls_reload_interval_secs == 0 {
            return Err(ConfigError::Invalid(
                "tls_reload_interval_secs must be at least 1".into(),
            ));
        }
        if self.bootstrap_project_id.is_some() != self.bootstrap_secret.is_some() {
            return Err(ConfigError::Invalid(
                "bootstrap_project_id and bootstrap_secret go together".into(),
            ));
        }
        if self.db_max_connections == 0 {
            return Err(ConfigError::Invalid("db_max_connections must be at least 1".into()));
        }
        self.sqlite_durability()?;
        self.trusted_proxy_nets()?;
        self.rbac_policy()?;
        self.settings()?;
        self.custom_templates()?;
        self.audit_webhook()?;
        if self.audit_retention_days == 0 {
            return Err(ConfigError::Invalid("audit_retention_days must be at least 1".into()));
        }
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

    pub fn sqlite_durability(&self) -> Result<latch_store::SqliteDurability, ConfigError> {
        self.sqlite_synchronous
            .parse()
            .map_err(|e| ConfigError::Invalid(format!("sqlite_synchronous: {e}")))
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

    /// The database to open: the configured URL, else the SQLite file in `data_dir`.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite:{}", self.data_dir.join("latch.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// The audit webhook's URL and signing secret, when one is configured.
    pub fn audit_webhook(&self) -> Result<Option<(String, SecretString)>, ConfigError> {
        let Some(url) = self.audit_webhook_url.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "audit_webhook_url: '{url}' is not an http(s) URL"
                )))
            }
        }
        let secret = self
            .audit_webhook_secret
            .clone()
            .ok_or_else(|| ConfigError::Invalid("audit_webhook_url needs audit_webhook_secret".into()))?;
        Ok(Some((url.to_string(), secret)))
    }

    /// How long audit events are kept.
    pub fn audit_retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.audit_retention_days.saturating_mul(86_400))
    }

    /// Email leaves through a real relay while SMS codes still land in the development outbox
    /// (readable through its API, never sent): a production setup that forgot SMS.
    pub fn sms_codes_stay_in_outbox_beside_smtp(&self) -> bool {
        self.smtp_host.is_some() && matches!(self.sms_provider.as_str(), "" | "outbox")
    }

    /// `LATCH_*` variables that no setting reads: likely typos, worth a warning.
    pub fn unknown_env_vars(vars: impl Iterator<Item = String>) -> Vec<String> {
        let known = |v: &str| {
            OTHER_VARS.contains(&v)
                || Self::env_keys().any(|k| {
                    let var = Self::env_var(k);
                    v == var || v.strip_suffix("_FILE") == Some(var.as_str())
                })
        };
        vars.filter(|v| v.starts_with("LATCH_") && !known(v)).collect()
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
        assert!(r.allows(&"project-test-a".into(), Login, "https://a.test/reset"));
        assert!(!r.allows(&"project-test-a".into(), Discovery, "https://a.test/reset"));
        assert!(r.allows(&"project-test-b".into(), Discovery, "http://localhost:5173/cb"));
        assert!(!r.allows(&"project-test-a".into(), Discovery, "http://localhost:5173/cb"));
        assert!(r.allows(&"project-test-z".into(), ResetPassword, "https://all.test/reset"));

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

    #[test]
    fn an_unknown_key_is_named_with_its_path() {
        let dir = std::env::temp_dir().join(format!("latch-cfg5-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("latch.toml");
        let said = |toml: &str| {
            std::fs::write(&file, toml).unwrap();
            Config::load(Some(&file), &env(&[])).unwrap_err().to_string()
        };
        assert!(said("lisen = \"x\"\n").ends_with("unknown key `lisen`"));
        assert!(
            said("[[redirect_urls]]\nurl = \"https://a.test/\"\ntype = [\"login\"]\n")
                .ends_with("unknown key `redirect_urls.0.type`")
        );
    }

    #[test]
    fn every_secret_has_a_file_form_and_prints_redacted() {
        use secrecy::ExposeSecret;
        let dir = std::env::temp_dir().join(format!("latch-cfg4-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = |name: &str| {
            let path = dir.join(name);
            std::fs::write(&path, format!("{name}-from-file-0123456789\n")).unwrap();
            path.display().to_string()
        };
        let (boot, smtp, twilio, hook) = (secret("boot"), secret("smtp"), secret("twilio"), secret("hook"));
        let cfg = Config::load(
            None,
            &env(&[
                ("LATCH_BOOTSTRAP_PROJECT_ID", "project-test-f"),
                ("LATCH_BOOTSTRAP_SECRET", "overridden-by-the-file"),
                ("LATCH_BOOTSTRAP_SECRET_FILE", &boot),
                ("LATCH_SMTP_PASSWORD_FILE", &smtp),
                ("LATCH_TWILIO_AUTH_TOKEN_FILE", &twilio),
                ("LATCH_SMS_WEBHOOK_SECRET_FILE", &hook),
            ]),
        )
        .unwrap();
        let exposed = |s: &Option<SecretString>| s.as_ref().unwrap().expose_secret().to_string();
        assert_eq!(exposed(&cfg.bootstrap_secret), "boot-from-file-0123456789");
        assert_eq!(exposed(&cfg.smtp_password), "smtp-from-file-0123456789");
        assert_eq!(exposed(&cfg.twilio_auth_token), "twilio-from-file-0123456789");
        assert_eq!(exposed(&cfg.sms_webhook_secret), "hook-from-file-0123456789");
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("from-file"), "Debug leaks a secret: {printed}");
        assert!(printed.contains("project-test-f"));
        // A missing secret file stops the start rather than running without the secret.
        assert!(matches!(
            Config::load(None, &env(&[("LATCH_SMTP_PASSWORD_FILE", "/nonexistent/latch-secret")])),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn environment_values_keep_their_documented_forms() {
        let cfg = Config::load(
            None,
            &env(&[
                ("LATCH_TWILIO_FROM", "+15005550006"),
                ("LATCH_SMTP_USERNAME", "12345"),
                ("LATCH_SMTP_PORT", "2525"),
                ("LATCH_HIBP_FAIL_CLOSED", "true"),
                ("LATCH_SMS_ALLOWED_COUNTRIES", "us, gb,,fr"),
                ("LATCH_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"),
                ("LATCH_LOG", "latch=debug,sqlx=warn"),
                ("LATCH_LISTEN", ""),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.twilio_from.as_deref(), Some("+15005550006"));
        assert_eq!(cfg.smtp_username.as_deref(), Some("12345"));
        assert_eq!(cfg.smtp_port, 2525);
        assert!(cfg.hibp_fail_closed);
        assert_eq!(cfg.sms_allowed_countries, ["US", "GB", "FR"]);
        assert_eq!(cfg.trusted_proxies, ["10.0.0.0/8", "192.168.1.1"]);
        assert_eq!(cfg.log, "latch=debug,sqlx=warn");
        assert_eq!(cfg.listen, "127.0.0.1:8080", "an empty variable is ignored");
        match Config::load(None, &env(&[("LATCH_SMTP_PORT", "lots")])) {
            Err(ConfigError::Env { var, .. }) => assert_eq!(var, "LATCH_SMTP_PORT"),
            other => panic!("expected an error naming the variable, got {other:?}"),
        }
        let unknown = Config::unknown_env_vars(
            [
                "LATCH_SMTP_PASSWORD_FILE",
                "LATCH_CONFIG",
                "LATCH_REDIRECT_URLS",
                "LATCH_SMTP_PASWORD",
            ]
            .into_iter()
            .map(String::from),
        );
        assert_eq!(unknown, ["LATCH_REDIRECT_URLS", "LATCH_SMTP_PASWORD"]);
    }

    /// docs/configuration.md's table and the `Config` struct list the same keys, each with its
    /// variable, so neither can gain or lose a setting alone.
    #[test]
    fn docs_table_matches_the_settings() {
        use std::collections::BTreeSet;
        let doc = include_str!("../../../docs/configuration.md");
        let mut keys = BTreeSet::new();
        let mut vars = BTreeSet::new();
        for row in doc.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let row_keys: Vec<&str> = cells[1].split(" / ").map(|k| k.trim_matches('`')).collect();
            let words: Vec<&str> = cells[2]
                .split(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .filter(|w| w.starts_with("LATCH_"))
                .collect();
            // `LATCH_X_FILE` beside `LATCH_X` is X's file form, not a setting of its own.
            let row_vars: Vec<&str> = words
                .iter()
                .copied()
                .filter(|w| !w.strip_suffix("_FILE").is_some_and(|base| words.contains(&base)))
                .collect();
            for k in &row_keys {
                if TOML_ONLY.contains(k) {
                    assert!(cells[2].starts_with('—'), "{k}: TOML only, documented with a variable");
                } else {
                    assert!(
                        row_vars.contains(&Config::env_var(k).as_str()),
                        "{k}: its variable is not in its row"
                    );
                }
            }
            keys.extend(row_keys.into_iter().map(String::from));
            vars.extend(row_vars.into_iter().map(String::from));
        }
        let declared: BTreeSet<String> = Config::keys().iter().map(|k| k.to_string()).collect();
        assert_eq!(keys, declared, "docs/configuration.md's table vs. the Config struct");
        let expected: BTreeSet<String> = Config::env_keys().map(Config::env_var).collect();
        assert_eq!(
            vars, expected,
            "variables in docs/configuration.md vs. the Config struct"
        );
    }
}
