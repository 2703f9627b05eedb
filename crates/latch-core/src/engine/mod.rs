//! The engine: what several API families share and no endpoint owns. Session resolve and issue,
//! the member actor behind session headers, code send and verify, MFA begin and finish, the end of
//! every primary authentication (`auth_flow`), provisioning of members and organizations, attempt
//! limits, and the context every use case runs in (`Ctx`). Engine modules import `rules`, `model`
//! and one another (never in a cycle); never `service` (tests/layers.rs checks).

use crate::ids::{OrganizationId, ProjectId};
pub mod actor;
pub mod address_guard;
pub mod attempts;
pub mod audit;
pub mod auth_flow;
pub mod codes;
pub mod discovery;
pub mod email_updates;
pub mod grant;
pub mod housekeeping;
pub mod intermediate;
pub mod keys;
pub mod links;
pub mod members;
pub mod mfa;
pub mod oauth;
pub mod organizations;
pub mod passwords;
pub mod projects;
pub mod redirects;
pub mod saml;
pub mod scim;
pub mod scim_groups;
pub mod scim_provisioning;
pub mod scim_users;
pub mod session;
pub mod sso;
pub mod sso_directory;
pub mod sso_identity;
pub mod trip;

use crate::cache::TtlCache;
use crate::cpu::{CpuPool, Priority};
use crate::delivery::Delivery;
use crate::model::organization::OrgRecord;
use crate::model::project::Project;
use crate::model::session::{SessionKey, SessionWithMember};
use crate::password::PasswordHash;
use crate::project_settings::{ProjectConfig, ProjectSettings};
use crate::rbac::Policy;
use crate::settings::Settings;
use crate::store::Store;
use crate::token::keyring::Keyring;
use std::sync::Arc;
use std::time::Duration;

/// Where leaked passwords are looked up besides the list zxcvbn ships: an imported HIBP corpus
/// and the HIBP range API.
#[derive(Default)]
pub struct BreachSources {
    pub corpus: Option<Arc<crate::password::corpus::Corpus>>,
    pub range_api: Option<Arc<dyn crate::password::BreachCheck>>,
}

/// What every use case needs: storage, outbound delivery, signing keys, the CPU pool for heavy
/// work, the project RBAC policy, and the audit log.
#[derive(Clone)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    /// Where every use case reads the time (`now()`).
    pub clock: Arc<dyn crate::clock::Clock>,
    pub delivery: Arc<dyn Delivery>,
    pub keyring: Arc<Keyring>,
    pub cpu: CpuPool,
    /// The RBAC policy a new project starts with (its own part; the defaults are always added).
    pub default_rbac: Arc<Policy>,
    /// The server's settings; a project's own are read with `project_config`.
    pub settings: Arc<Settings>,
    pub breach: Arc<BreachSources>,
    pub templates: Arc<crate::delivery::custom::CustomTemplates>,
    /// The OpenID Connect relying party for SSO connections.
    pub oidc: Arc<dyn crate::oidc::OidcClient>,
    /// The SAML service provider for SSO connections.
    pub saml: Arc<dyn crate::saml::SamlProvider>,
    /// Where audit events go (`crate::audit_log`): the background writer in a server.
    pub audit: Arc<dyn crate::audit_log::AuditSink>,
    /// HMAC keys of one-time code digests (`seal::Sealer::code_digest_keys`), the minting one
    /// first. A server derives them from its KEK; without one, a random key for this process.
    pub code_keys: Arc<Vec<[u8; 32]>>,
    /// A hash to verify against when an account does not exist, so both paths cost the same.
    dummy_hash: Arc<tokio::sync::OnceCell<PasswordHash>>,
    /// Projects by id, for the credential check every request makes (lifetime only: secrets
    /// change only through `serve`'s bootstrap).
    pub(crate) projects: Arc<TtlCache<ProjectId, Project>>,
    /// Projects' settings by id (`project_settings`); written through on this node.
    pub(crate) project_configs: Arc<TtlCache<ProjectId, Arc<ProjectConfig>>>,
    /// Organizations by (project, id), for session checks, stamped with the store's write count.
    pub(crate) orgs: Arc<TtlCache<(ProjectId, OrganizationId), OrgRecord>>,
    /// Sessions with their members by (project, token digest or id), for session checks,
    /// stamped with the store's write count.
    pub(crate) sessions: Arc<TtlCache<(ProjectId, SessionKey), SessionWithMember>>,
    /// Claims of session JWTs whose signature verified, by (project, JWT digest): the same bytes verify
    /// the same way, and the RSA check was a fifth of a JWT session check's CPU.
    pub(crate) verified_jwts: Arc<TtlCache<(ProjectId, String), serde_json::Value>>,
    /// OAuth providers' endpoints by issuer, from their discovery documents.
    pub(crate) oauth_endpoints: Arc<TtlCache<String, crate::oidc::OidcEndpoints>>,
}

/// How long a node may act on a cached project, organization or session after another node
/// changed it (this node's own writes are seen at once).
pub const RECORD_CACHE_TTL: Duration = Duration::from_secs(2);
const RECORD_CACHE_CAPACITY: usize = 10_000;
/// Far shorter than a signing key is kept for verification after it is retired (see
/// `token::keyring`), so a remembered verification never outlives its key; a revoked key's are
/// dropped when the revocation is seen (`keys::sync_revocations`).
const VERIFIED_JWT_TTL: Duration = Duration::from_secs(60);
/// Claims of about 1 KiB each.
const VERIFIED_JWT_CAPACITY: usize = 4096;
/// Providers change their endpoints rarely; their signing keys are fetched at every login.
const OAUTH_ENDPOINTS_TTL: Duration = Duration::from_secs(3600);

impl Ctx {
    pub fn new(store: Arc<dyn Store>, delivery: Arc<dyn Delivery>, policy: Policy, settings: Settings) -> Self {
        // Password hashing yields to everything else (see `crate::cpu`).
        let cpu = CpuPool::per_core(Priority::Background);
        // Signing gets its own threads: an RS256 signature takes well under a millisecond, and
        // queueing it behind argon2 hashes made every session check wait out a login flood.
        let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::SystemClock);
        Self {
            keyring: Arc::new(Keyring::new(
                store.clone(),
                clock.clone(),
                CpuPool::per_core(Priority::Normal),
            )),
            clock,
            store,
            delivery,
            cpu,
            default_rbac: Arc::new(policy),
            settings: Arc::new(settings),
            breach: Arc::new(BreachSources::default()),
            templates: Arc::new(Default::default()),
            oidc: Arc::new(crate::oidc::NoOidc),
            saml: Arc::new(crate::saml::NoSaml),
            audit: Arc::new(crate::audit_log::Discard),
            code_keys: Arc::new(crate::seal::Sealer::ephemeral().code_digest_keys()),
            dummy_hash: Arc::new(tokio::sync::OnceCell::new()),
            projects: Arc::new(TtlCache::named("projects", RECORD_CACHE_TTL, RECORD_CACHE_CAPACITY)),
            project_configs: Arc::new(TtlCache::named(
                "project_settings",
                RECORD_CACHE_TTL,
                RECORD_CACHE_CAPACITY,
            )),
            orgs: Arc::new(TtlCache::named("orgs", RECORD_CACHE_TTL, RECORD_CACHE_CAPACITY)),
            sessions: Arc::new(TtlCache::named("sessions", RECORD_CACHE_TTL, RECORD_CACHE_CAPACITY)),
            verified_jwts: Arc::new(TtlCache::named(
                "verified_jwts",
                VERIFIED_JWT_TTL,
                VERIFIED_JWT_CAPACITY,
            )),
            oauth_endpoints: Arc::new(TtlCache::named("oauth_endpoints", OAUTH_ENDPOINTS_TTL, 64)),
        }
    }

    /// The project's settings: its stored document, or the configured defaults for a project
    /// that has none yet (created by an older version since this server started).
    pub async fn project_config(&self, project_id: &ProjectId) -> crate::error::CoreResult<Arc<ProjectConfig>> {
        let found = self
            .project_configs
            .get_or_load(project_id.clone(), 0, self.now(), || async {
                let stored = self.store.project_settings(project_id).await?;
                let settings = match stored {
                    Some(text) => ProjectSettings::from_json(&text)?,
                    None => self.default_project_settings(project_id),
                };
                Ok::<_, crate::error::StoreError>(Some(Arc::new(ProjectConfig::new(settings))))
            })
            .await?;
        Ok(found.expect("always loaded"))
    }

    /// The settings a new project starts with.
    pub fn default_project_settings(&self, project_id: &ProjectId) -> ProjectSettings {
        ProjectSettings::defaults(&self.settings, &self.default_rbac, project_id)
    }

    /// Stores the project's settings; this node uses them at once, others within the cache's
    /// lifetime.
    pub async fn save_project_settings(
        &self,
        project_id: &ProjectId,
        settings: ProjectSettings,
    ) -> crate::error::CoreResult<Arc<ProjectConfig>> {
        self.store
            .save_project_settings(project_id, &settings.to_json(), self.now())
            .await?;
        let config = Arc::new(ProjectConfig::new(settings));
        self.project_configs
            .put(project_id.clone(), 0, self.now(), config.clone());
        Ok(config)
    }

    /// Forgets this node's cached copy of a project (its secrets changed, or it was deleted).
    pub fn forget_project(&self, project_id: &ProjectId) {
        self.projects.retain(|p| p != project_id);
        self.project_configs.retain(|p| p != project_id);
    }

    /// Reads time from `clock` (tests move a `ManualClock`).
    pub fn with_clock(mut self, clock: Arc<dyn crate::clock::Clock>) -> Self {
        // The keyring times rotations and its cache on the same clock.
        self.keyring = Arc::new(self.keyring.on_clock(clock.clone()));
        self.clock = clock;
        self
    }

    pub fn now(&self) -> crate::clock::Timestamp {
        self.clock.now()
    }

    /// Keys one-time code digests with `keys` (the first mints); every node of a database needs
    /// the same, hence from the shared KEK.
    pub fn with_code_keys(mut self, keys: Vec<[u8; 32]>) -> Self {
        assert!(!keys.is_empty(), "at least the minting key");
        self.code_keys = Arc::new(keys);
        self
    }

    pub fn with_oidc(mut self, oidc: Arc<dyn crate::oidc::OidcClient>) -> Self {
        self.oidc = oidc;
        self
    }

    pub fn with_saml(mut self, saml: Arc<dyn crate::saml::SamlProvider>) -> Self {
        self.saml = saml;
        self
    }

    pub fn with_audit(mut self, audit: Arc<dyn crate::audit_log::AuditSink>) -> Self {
        self.audit = audit;
        self
    }

    pub fn with_templates(mut self, templates: crate::delivery::custom::CustomTemplates) -> Self {
        self.templates = Arc::new(templates);
        self
    }

    /// The template a message is rendered with: `template_id` if one is named (the project's,
    /// from the Management API, else a file template), else the default template of the
    /// message's type if the project set one, else the built-in copy. Resolved before anything
    /// is stored, so an unknown template changes nothing.
    pub async fn template(
        &self,
        project_id: &ProjectId,
        template_id: Option<&str>,
        kind: crate::delivery::templates::Kind,
    ) -> crate::error::CoreResult<crate::delivery::custom::MessageTemplate> {
        use crate::delivery::custom::MessageTemplate;
        let named = template_id.filter(|t| !t.is_empty());
        if let Some(t) = self.stored_template(project_id, named, kind).await? {
            return Ok(MessageTemplate::Custom(t));
        }
        match named {
            Some(id) => Ok(MessageTemplate::Custom(
                self.templates.find(project_id, id, kind)?.clone(),
            )),
            None => Ok(MessageTemplate::Builtin),
        }
    }

    /// The project's own template for a message: `named`, or its type's default. `None` when it
    /// has none (or it is a prebuilt one, which keeps the built-in copy).
    async fn stored_template(
        &self,
        project_id: &ProjectId,
        named: Option<&str>,
        kind: crate::delivery::templates::Kind,
    ) -> crate::error::CoreResult<Option<crate::delivery::custom::CustomTemplate>> {
        // The slug never changes, so the record every request's credential check caches will do.
        let project = self
            .projects
            .get_or_load(project_id.clone(), 0, self.now(), || self.store.get_project(project_id))
            .await?;
        let Some(project) = project else {
            return Ok(None);
        };
        let slug = &project.project_slug;
        let id = match named {
            Some(id) => Some(id.to_string()),
            None => match crate::model::email_template::template_type_of(kind) {
                Some(ty) => self.store.default_email_template(slug, ty).await?,
                None => None,
            },
        };
        let Some(id) = id else { return Ok(None) };
        let Some(text) = self.store.email_template(slug, &id).await? else {
            return Ok(None);
        };
        let t: crate::model::email_template::EmailTemplate =
            serde_json::from_str(&text).map_err(crate::error::CoreError::internal)?;
        t.copy_for(kind)
    }

    pub fn with_breach_sources(mut self, sources: BreachSources) -> Self {
        self.breach = Arc::new(sources);
        self
    }

    /// An argon2id hash, with the configured cost, of a random secret.
    pub async fn dummy_hash(&self) -> crate::error::CoreResult<PasswordHash> {
        let params = self.settings.argon2;
        self.dummy_hash
            .get_or_try_init(|| async move {
                self.cpu
                    .run(move || params.hash(&crate::crypto::random_token(16)))
                    .await?
                    .map_err(crate::error::CoreError::internal)
            })
            .await
            .cloned()
    }
}
