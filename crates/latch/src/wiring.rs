//! Builds the domain's objects from the settings: the auth `Settings`, the RBAC policy, the
//! breach sources, custom templates and the delivery adapters. Kept apart from `config`, which
//! only declares and loads the settings, so a setting's meaning lives next to what it builds.

use crate::adapters::hibp::RangeApi;
use crate::adapters::smtp::{Smtp, SmtpSettings, SmtpTls};
use crate::adapters::twilio::Twilio;
use crate::adapters::webhook::Webhook;
use crate::adapters::Dispatch;
use crate::config::{Config, ConfigError};
use latch_core::delivery::Delivery;
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

impl Config {
    /// The RBAC policy new projects start with (their own part, from `rbac_policy_file`;
    /// Stytch's defaults are always added), checked as the Management API checks one.
    pub fn rbac_policy(&self) -> Result<latch_core::rbac::Policy, ConfigError> {
        let Some(path) = &self.rbac_policy_file else {
            return Ok(latch_core::rbac::Policy::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let custom: latch_core::rbac::Policy = serde_json::from_str(&text)
            .map_err(|e| ConfigError::Invalid(format!("rbac_policy_file {}: {e}", path.display())))?;
        latch_core::rbac::Policy::with_custom(custom.clone())
            .map_err(|e| ConfigError::Invalid(format!("rbac_policy_file {}: {e}", path.display())))?;
        Ok(custom)
    }

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
                peer_flood_delay: Duration::from_millis(self.peer_flood_delay_ms),
                address_window_minutes: self.address_failure_window_minutes,
                forwarded_client_sends: self.forwarded_client_max_sends,
                peer_sends: self.peer_max_sends,
            },
            redirects: self.redirects()?,
            cross_org_passwords: self.cross_org_passwords,
            sms_allowed_countries: self.sms_allowed_countries.clone(),
            public_url: self.public_url(),
            oauth: self.oauth_clients()?,
        })
    }

    /// `[[oauth_providers]]`, checked: a known provider, a client id and secret, an issuer URL,
    /// and at most one entry per provider for each project (and one for every project).
    fn oauth_clients(&self) -> Result<Vec<latch_core::settings::OAuthClient>, ConfigError> {
        use latch_core::model::oauth::OAuthProvider;
        use secrecy::ExposeSecret;
        let bad = |msg: String| ConfigError::Invalid(format!("oauth_providers: {msg}"));
        let mut out: Vec<latch_core::settings::OAuthClient> = Vec::new();
        for e in &self.oauth_providers {
            let provider = OAuthProvider::parse(&e.provider)
                .ok_or_else(|| bad(format!("unknown provider '{}' (google or microsoft)", e.provider)))?;
            let secret = match (&e.client_secret, &e.client_secret_file) {
                (Some(s), None) => s.expose_secret().to_string(),
                (None, Some(f)) => std::fs::read_to_string(f)
                    .map_err(|err| bad(format!("{}: {err}", f.display())))?
                    .trim()
                    .to_string(),
                _ => return Err(bad(format!("{}: give client_secret or client_secret_file", e.provider))),
            };
            if e.client_id.is_empty() || secret.is_empty() {
                return Err(bad(format!(
                    "{}: client_id and the secret must not be empty",
                    e.provider
                )));
            }
            let issuer = e
                .issuer
                .clone()
                .unwrap_or_else(|| provider.default_issuer().to_string());
            if reqwest::Url::parse(&issuer).is_err() {
                return Err(bad(format!("{}: issuer {issuer} is not a URL", e.provider)));
            }
            if out
                .iter()
                .any(|c| c.provider == provider && c.project_id == e.project_id)
            {
                return Err(bad(format!("a second {} entry for the same project", e.provider)));
            }
            out.push(latch_core::settings::OAuthClient {
                project_id: e.project_id.clone(),
                provider,
                client_id: e.client_id.clone(),
                client_secret: secret,
                issuer,
            });
        }
        Ok(out)
    }

    /// Whether HTTPS is served (on `listen`, or on `tls_listen` beside it).
    pub fn tls_enabled(&self) -> bool {
        self.tls_cert_file.is_some() && self.tls_key_file.is_some()
    }

    /// Where browsers and identity providers reach this server (SSO callback URLs).
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            match (self.tls_enabled(), self.tls_listen.is_empty()) {
                (false, _) => format!("http://{}", self.listen),
                (true, true) => format!("https://{}", self.listen),
                (true, false) => format!("https://{}", self.tls_listen),
            }
        } else {
            self.public_url.trim_end_matches('/').to_string()
        }
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
                    project_id: Some(project.to_string()),
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
            Some(path) => Some(Arc::new(latch_core::password::corpus::Corpus::open(&path).map_err(
                |e| ConfigError::Invalid(format!("breach_corpus_file {}: {e}", path.display())),
            )?)),
            None => None,
        };
        let range_api = match &self.hibp_range_api_url {
            Some(url) => Some(Arc::new(
                RangeApi::new(url, Duration::from_millis(self.hibp_timeout_ms), self.hibp_fail_closed)
                    .map_err(|e| ConfigError::Invalid(format!("hibp_range_api_url: {e}")))?,
            ) as Arc<dyn latch_core::password::BreachCheck>),
            None => None,
        };
        Ok(latch_core::engine::BreachSources { corpus, range_api })
    }

    /// Custom templates from `templates_dir`. A file that does not parse, or names an unknown
    /// message kind, stops the start: a silently ignored template would send the wrong email.
    pub fn custom_templates(&self) -> Result<latch_core::delivery::custom::CustomTemplates, ConfigError> {
        use latch_core::delivery::custom::{CustomTemplate, CustomTemplates};
        let kinds: Vec<&str> = latch_core::delivery::templates::Kind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect();
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
                source: Box::new(source),
            })?;
            if !kinds.contains(&t.kind.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "{}: kind must be one of {}",
                    path.display(),
                    kinds.join(", ")
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
    pub fn delivery(&self, outbox: Arc<dyn Delivery>) -> Result<Arc<dyn Delivery>, ConfigError> {
        let timeout = Duration::from_secs(self.delivery_timeout_secs);
        let invalid = |e: latch_core::CoreError| ConfigError::Invalid(e.to_string());
        let email: Arc<dyn Delivery> = match &self.smtp_host {
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
        let missing =
            |name: &str| ConfigError::Invalid(format!("sms_provider {}: {name} is required", self.sms_provider));
        let need = |v: &Option<String>, name: &str| v.clone().ok_or_else(|| missing(name));
        let need_secret = |v: &Option<SecretString>, name: &str| v.clone().ok_or_else(|| missing(name));
        let sms: Arc<dyn Delivery> = match self.sms_provider.as_str() {
            "outbox" => outbox,
            "twilio" => Arc::new(
                Twilio::new(
                    &self.twilio_base_url,
                    &need(&self.twilio_account_sid, "twilio_account_sid")?,
                    need_secret(&self.twilio_auth_token, "twilio_auth_token")?,
                    &need(&self.twilio_from, "twilio_from")?,
                    timeout,
                )
                .map_err(invalid)?,
            ),
            "webhook" => Arc::new(
                Webhook::new(
                    &need(&self.sms_webhook_url, "sms_webhook_url")?,
                    need_secret(&self.sms_webhook_secret, "sms_webhook_secret")?,
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
}
