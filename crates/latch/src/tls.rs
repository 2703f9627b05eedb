//! HTTPS: rustls (aws-lc-rs) with the certificate and key read from PEM files, swapped in place
//! when the files change or on SIGHUP, so a renewed certificate (certbot, cert-manager) takes
//! effect without a restart. Connections already open keep the certificate they shook hands with.
//! A file that does not parse, or a key that does not match its certificate, leaves the current
//! pair serving and is logged: a half-written renewal must not take the server down.

use anyhow::Context;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// What a file looked like when it was last read: a change to either shows as a new stamp.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The server's certificate, as rustls asks for it on every handshake.
#[derive(Debug)]
pub struct CertReloader {
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    seen: Mutex<(Stamp, Stamp)>,
}

impl CertReloader {
    /// Reads the pair once; a pair that cannot serve is an error at start.
    pub fn load(cert_file: &Path, key_file: &Path) -> anyhow::Result<Arc<Self>> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let seen = (stamp(cert_file), stamp(key_file));
        let key = read_pair(cert_file, key_file, &provider)?;
        Ok(Arc::new(Self {
            cert_file: cert_file.to_path_buf(),
            key_file: key_file.to_path_buf(),
            provider,
            current: RwLock::new(Arc::new(key)),
            seen: Mutex::new(seen),
        }))
    }

    /// Reads the files again if they changed since the last read (or always, when `force`d by
    /// SIGHUP). Returns whether a new pair now serves.
    pub fn reload(&self, force: bool) -> anyhow::Result<bool> {
        let now = (stamp(&self.cert_file), stamp(&self.key_file));
        {
            let mut seen = self.seen.lock().expect("tls stamp lock");
            if !force && *seen == now {
                return Ok(false);
            }
            // Remembered before reading: a broken file is reported once, not on every poll; the
            // next change to either file is tried again.
            *seen = now;
        }
        let key = read_pair(&self.cert_file, &self.key_file, &self.provider)?;
        *self.current.write().expect("tls key lock") = Arc::new(key);
        Ok(true)
    }

    /// The rustls configuration that serves this certificate: TLS 1.2 and 1.3, HTTP/1.1 only.
    pub fn server_config(self: &Arc<Self>) -> anyhow::Result<Arc<ServerConfig>> {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for CertReloader {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("tls key lock").clone())
    }
}

fn read_pair(cert_file: &Path, key_file: &Path, provider: &CryptoProvider) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .with_context(|| format!("reading {}", cert_file.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing the certificates in {}", cert_file.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert_file.display());
    let key =
        PrivateKeyDer::from_pem_file(key_file).with_context(|| format!("reading the key in {}", key_file.display()))?;
    CertifiedKey::from_der(chain, key, provider).with_context(|| {
        format!(
            "{} does not serve with the key in {}",
            cert_file.display(),
            key_file.display()
        )
    })
}

/// Polls the files every `every` and reloads on SIGHUP, until `stop` turns true.
pub async fn watch(reloader: Arc<CertReloader>, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut hangup = hangups();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let force = tokio::select! {
            _ = tick.tick() => false,
            _ = hangup.recv() => true,
            _ = stop.changed() => return,
        };
        // File reads and key parsing stay off the executor.
        let r = reloader.clone();
        let reloaded = tokio::task::spawn_blocking(move || r.reload(force))
            .await
            .unwrap_or_else(|e| Err(anyhow::anyhow!("reload task failed: {e}")));
        match reloaded {
            Ok(true) => tracing::info!(cert = %reloader.cert_file.display(), "TLS certificate reloaded"),
            Ok(false) => {}
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "TLS certificate not reloaded; the previous one keeps serving"
            ),
        }
    }
}

#[cfg(unix)]
fn hangups() -> Hangups {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Hangups(Some(s)),
        Err(e) => {
            tracing::warn!(error = %e, "SIGHUP cannot be caught; TLS files are still polled");
            Hangups(None)
        }
    }
}

#[cfg(not(unix))]
fn hangups() -> Hangups {
    Hangups(None)
}

struct Hangups(
    #[cfg(unix)] Option<tokio::signal::unix::Signal>,
    #[cfg(not(unix))] Option<()>,
);

impl Hangups {
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = self.0.as_mut() {
            if s.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await
    }
}
