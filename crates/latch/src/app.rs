//! Building and running the server: open storage, ensure a project exists, serve until a signal,
//! then let in-flight requests finish (bounded by `shutdown_grace_secs`).

use crate::config::Config;
use anyhow::Context;
use latch_core::audit_log::{AuditStream, AuditWriter};
use latch_core::delivery::Outbox;
use latch_core::engine::housekeeping::Retention;
use latch_core::engine::{projects, Ctx};
use latch_http::{AppState, HttpConfig};
use latch_store::{PoolOptions, SqlStore};
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    tls: Option<Tls>,
    state: AppState,
    store: SqlStore,
    grace: Duration,
    housekeeping: Duration,
    retention: Retention,
    limits: crate::serve::Limits,
    /// Stopped once the last request is answered, so it writes every event they recorded.
    audit: AuditWriter,
}

/// HTTPS: on `listen` itself (`listener` is `None`) or on a second address.
struct Tls {
    listener: Option<TcpListener>,
    certs: Arc<crate::tls::CertReloader>,
    acceptor: tokio_rustls::TlsAcceptor,
    reload_every: Duration,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(latch_core::clock::SystemClock)).await
    }

    /// `build`, reading time from `clock` (tests share a `ManualClock` between several nodes).
    pub async fn build_with_clock(config: &Config, clock: Arc<dyn latch_core::clock::Clock>) -> anyhow::Result<Self> {
        let url = config.database_url();
        if url.starts_with("sqlite:") && config.database_url.is_empty() {
            crate::data_dir::prepare(&config.data_dir).context("data directory")?;
        }
        let opts = PoolOptions {
            max_connections: config.db_max_connections,
            sqlite_mmap_bytes: config.sqlite_mmap_mib.saturating_mul(1024 * 1024),
            sqlite_synchronous: config.sqlite_durability()?,
            ..Default::default()
        };
        let (sealer, kek_source) = crate::kek::sealer(config)?;
        crate::kek::report(&sealer, &kek_source);
        let code_keys = sealer.code_digest_keys();
        let store = SqlStore::connect(&url, &opts, Arc::new(sealer))
            .await
            .context("database")?;
        let shared: Arc<dyn latch_core::store::Store> = Arc::new(store.clone());
        let (audit_log, audit) = latch_core::audit_log::start(
            shared.clone(),
            audit_streams(config)?,
            latch_core::audit_log::QUEUE_CAPACITY,
        );
        ensure_project(config, shared.as_ref(), audit_log.as_ref()).await?;
        let policy = config.rbac_policy()?;
        let settings = config.settings()?;
        let breach = config.breach_sources()?;
        if let Some(c) = &breach.corpus {
            tracing::info!(entries = c.len(), "breach corpus loaded");
        }
        let templates = config.custom_templates()?;
        if !templates.is_empty() {
            tracing::info!(count = templates.len(), "custom templates loaded");
        }
        if config.sms_codes_stay_in_outbox_beside_smtp() {
            tracing::warn!(
                "SMTP is configured but SMS is not: SMS codes stay in the development outbox, readable \
                 by the project secret through /latch/v1/outbox, and are never sent; set sms_provider \
                 to twilio or webhook"
            );
        }
        let delivery = config.delivery(Arc::new(Outbox::new(shared.clone())))?;
        let ctx = Ctx::new(shared.clone(), delivery, policy, settings)
            .with_audit(audit_log)
            .with_clock(clock)
            .with_code_keys(code_keys)
            .with_breach_sources(breach)
            .with_templates(templates)
            .with_oidc(Arc::new(crate::adapters::oidc::OidcAdapter::new(
                std::time::Duration::from_secs(config.delivery_timeout_secs),
            )?))
            .with_saml(Arc::new(crate::adapters::saml::SamlAdapter::new(
                std::time::Duration::from_secs(config.delivery_timeout_secs),
            )?));
        // Projects from before per-project settings (or made by the CLI since) get the configured
        // values once; from then on their settings change only through the Management API.
        let stored = latch_core::engine::projects::init_settings(&ctx)
            .await
            .context("project settings")?;
        if stored > 0 {
            tracing::info!(
                projects = stored,
                "stored the configured settings of projects that had none"
            );
        }
        let http = HttpConfig {
            max_body_bytes: config.max_body_bytes,
            request_timeout: Duration::from_secs(config.request_timeout_secs),
            trusted_proxies: config.trusted_proxy_nets()?,
            metrics: config.metrics_token.as_ref().map(|token| {
                use secrecy::ExposeSecret;
                Arc::new(metrics_endpoint(token.expose_secret(), store.clone()))
            }),
        };
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let tls = match (&config.tls_cert_file, &config.tls_key_file) {
            (Some(cert), Some(key)) => {
                let certs = crate::tls::CertReloader::load(cert, key).context("TLS certificate")?;
                let acceptor = tokio_rustls::TlsAcceptor::from(certs.server_config()?);
                let listener = match config.tls_listen.as_str() {
                    "" => None,
                    addr => Some(
                        TcpListener::bind(addr)
                            .await
                            .with_context(|| format!("listening on {addr}"))?,
                    ),
                };
                Some(Tls {
                    listener,
                    certs,
                    acceptor,
                    reload_every: Duration::from_secs(config.tls_reload_interval_secs),
                })
            }
            _ => None,
        };
        Ok(Self {
            listener,
            tls,
            state: AppState {
                ctx: Arc::new(ctx),
                http: Arc::new(http),
            },
            store,
            grace: Duration::from_secs(config.shutdown_grace_secs),
            housekeeping: Duration::from_secs(config.housekeeping_interval_secs),
            retention: Retention {
                outbox: Duration::from_secs(config.outbox_retention_minutes.saturating_mul(60)),
                audit: config.audit_retention(),
            },
            audit,
            limits: crate::serve::Limits {
                header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
                idle_timeout: Duration::from_secs(config.idle_timeout_secs),
                max_connections: config.max_connections,
            },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    /// The address of the second, HTTPS-only listener (`tls_listen`), if there is one.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        let listener = self.tls.as_ref()?.listener.as_ref()?;
        Some(listener.local_addr().expect("bound listener has an address"))
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Reads time from `clock` instead of the system clock (tests move a `ManualClock`).
    pub fn with_clock(mut self, clock: Arc<dyn latch_core::clock::Clock>) -> Self {
        let ctx = (*self.state.ctx).clone().with_clock(clock);
        self.state.ctx = Arc::new(ctx);
        self
    }

    /// Serves until `shutdown` completes, then drains.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let addr = self.local_addr();
        let https_on_listen = self.tls.as_ref().is_some_and(|t| t.listener.is_none());
        tracing::info!(%addr, https = https_on_listen, engine = self.store.engine(), "latch listening");
        if let Some(tls_addr) = self.tls_addr() {
            tracing::info!(addr = %tls_addr, "latch listening for HTTPS");
        }
        let (stop_chores, chores_stopped) = tokio::sync::watch::channel(false);
        let chores = tokio::spawn(housekeeping(
            self.state.ctx.clone(),
            self.housekeeping,
            self.retention,
            chores_stopped.clone(),
        ));
        let cert_watch = self.tls.as_ref().map(|t| {
            tokio::spawn(crate::tls::watch(
                t.certs.clone(),
                t.reload_every,
                chores_stopped.clone(),
            ))
        });
        let key_sync = tokio::spawn(revocation_poll(self.state.ctx.clone(), chores_stopped));
        let app = latch_http::router(self.state);
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        // One signal stops every listener.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stop_tx.send(true);
            let _ = stopping_tx.send(());
        });
        let (main_tls, second) = match self.tls {
            None => (None, None),
            Some(Tls {
                listener: None,
                acceptor,
                ..
            }) => (Some(acceptor), None),
            Some(Tls {
                listener: Some(l),
                acceptor,
                ..
            }) => (None, Some((l, acceptor))),
        };
        let limits = self.limits;
        let listener = self.listener;
        // Both accept loops on one task, so the grace period's abort below stops both.
        let server = tokio::spawn(async move {
            let main = crate::serve::serve(listener, main_tls, app.clone(), limits, stopped());
            match second {
                None => main.await,
                Some((l, acceptor)) => {
                    let https = crate::serve::serve(l, Some(acceptor), app, limits, stopped());
                    tokio::join!(main, https);
                }
            }
        });
        tokio::pin!(server);
        let result = tokio::select! {
            r = &mut server => r,
            _ = async { let _ = stopping_rx.await; tokio::time::sleep(self.grace).await } => {
                tracing::warn!(grace_secs = self.grace.as_secs(), "shutdown grace period over; dropping remaining requests");
                server.abort();
                Ok(())
            }
        };
        let _ = stop_chores.send(true);
        let _ = chores.await;
        let _ = key_sync.await;
        if let Some(w) = cert_watch {
            let _ = w.await;
        }
        // Every answered request's events are in the channel now: write them before exiting.
        self.audit.stop(self.grace).await;
        self.store.close().await;
        result.map_err(std::io::Error::other)
    }
}

/// Background chores: purge expired records and report how many sessions are live. Runs beside the
/// server on its own task, so requests never wait for it; stops when the server stops.
async fn housekeeping(
    ctx: Arc<Ctx>,
    every: Duration,
    retention: Retention,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let now = ctx.now();
        let purged = tokio::select! {
            purged = latch_core::engine::housekeeping::purge_expired(&ctx, now, retention) => purged,
            // A sweep of millions must not hold up shutdown; it resumes on the next start.
            _ = stop.changed() => return,
        };
        match purged {
            Ok(purged) => {
                for (kind, n) in purged.into_iter().filter(|(_, n)| *n > 0) {
                    tracing::info!(target: "latch::housekeeping", table = kind.name(), purged = n, "expired records purged");
                }
                let live = ctx.store.count_live_sessions(now).await.unwrap_or(-1);
                tracing::info!(target: "latch::housekeeping", live_sessions = live, "housekeeping");
            }
            Err(e) => tracing::warn!(target: "latch::housekeeping", error = %e, "purging expired records failed"),
        }
    }
}

/// Signing keys revoked by another process (`latch keys revoke`, another node) stop being
/// accepted here within `REVOCATION_POLL`.
async fn revocation_poll(ctx: Arc<Ctx>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(latch_core::token::keyring::REVOCATION_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        match latch_core::engine::keys::sync_revocations(&ctx).await {
            Ok(projects) => {
                for project_id in projects {
                    tracing::info!(%project_id, "revoked signing keys dropped");
                }
            }
            Err(e) => tracing::warn!(error = %e, "checking for revoked signing keys failed"),
        }
    }
}

/// The audit log's destinations besides the database: stdout and the webhook, as configured.
fn audit_streams(config: &Config) -> anyhow::Result<Vec<Arc<dyn AuditStream>>> {
    let mut streams: Vec<Arc<dyn AuditStream>> = Vec::new();
    if config.audit_stdout {
        streams.push(Arc::new(crate::adapters::audit::Stdout));
    }
    if let Some((url, secret)) = config.audit_webhook()? {
        streams.push(Arc::new(
            crate::adapters::audit::Webhook::start(&url, secret, Duration::from_secs(config.delivery_timeout_secs))
                .context("audit webhook")?,
        ));
    }
    Ok(streams)
}

/// The Prometheus recorder is process-wide; several applications in one process (tests) share it.
static RECORDER: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> = std::sync::OnceLock::new();

fn metrics_endpoint(token: &str, store: SqlStore) -> latch_http::metrics::MetricsEndpoint {
    let handle = RECORDER
        .get_or_init(|| {
            // Real histograms (not summaries), so latencies aggregate across nodes.
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(&buckets)
                .expect("a non-empty bucket list")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics shows Latch's own only");
            }
            handle
        })
        .clone();
    latch_http::metrics::MetricsEndpoint {
        token_hash: latch_core::crypto::sha256_hex(token),
        render: Arc::new(move || {
            // Sampled at scrape time: the pool's size changes with every connection it opens.
            let (open, idle) = store.pool_stats();
            metrics::gauge!("latch_db_pool_connections", "state" => "idle").set(idle as f64);
            metrics::gauge!("latch_db_pool_connections", "state" => "in_use")
                .set(open.saturating_sub(idle as u32) as f64);
            handle.render()
        }),
    }
}

/// The bootstrap project from the settings, or on an empty database a development project whose
/// credentials are printed once.
async fn ensure_project(
    config: &Config,
    store: &dyn latch_core::store::Store,
    audit: &dyn latch_core::audit_log::AuditSink,
) -> anyhow::Result<()> {
    use latch_core::engine::audit::operator_event;
    if let (Some(id), Some(secret)) = (&config.bootstrap_project_id, &config.bootstrap_secret) {
        let done = projects::ensure(store, id, secret.expose_secret())
            .await
            .context("bootstrap project")?;
        let event = match done {
            projects::Ensured::Unchanged => None,
            projects::Ensured::Created => Some("project.created"),
            projects::Ensured::SecretChanged => Some("project.secret_changed"),
        };
        if let Some(event) = event {
            audit.record(operator_event(id, event, "bootstrap", &[])).await;
        }
        tracing::info!(project_id = %id, "bootstrap project ready");
        return Ok(());
    }
    if store.count_projects().await? == 0 {
        let p = projects::create(store, latch_core::engine::redirects::DEVELOPMENT_PROJECT_NAME).await?;
        audit
            .record(operator_event(
                &p.project.project_id,
                "project.created",
                "bootstrap",
                &[],
            ))
            .await;
        println!(
            "Created a development project. Its secret is shown only this once:\n  project_id:   {}\n  secret:       {}\n  public_token: {}",
            p.project.project_id, p.secret, p.public_token
        );
    }
    Ok(())
}

/// Waits for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
