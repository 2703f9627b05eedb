//! Where audit events go besides the database (`latch_core::audit_log::AuditStream`): JSON lines
//! on stdout (`audit_stdout`), and batches POSTed to a webhook (`audit_webhook_url`), after the
//! model of Stytch's event log streaming.
//!
//! The webhook keeps its own bounded queue, so a slow or unreachable receiver never holds up the
//! database writer: a worker task posts `{"events": [...]}` (at most `WEBHOOK_BATCH` per call,
//! signed like the SMS webhook: `X-Latch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
//! "<t>.<body>")>`) and, when the receiver fails or answers other than 2xx, posts the same batch
//! again after a backoff that doubles up to `RETRY_MAX`. Events are delivered at least once and in
//! order; receivers deduplicate by `event_id`. A full queue drops the newest events and counts
//! them (`latch_audit_webhook_dropped_total`); at shutdown the worker delivers what it holds
//! until the writer's deadline.

use super::install_tls_provider;
use super::webhook::webhook_signature;
use latch_core::audit_log::AuditStream;
use latch_core::clock::Timestamp;
use latch_core::error::{CoreError, CoreResult};
use latch_core::model::audit::AuditEvent;
use secrecy::{ExposeSecret, SecretString};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// One JSON object per line on stdout.
pub struct Stdout;

#[async_trait::async_trait]
impl AuditStream for Stdout {
    fn name(&self) -> &'static str {
        "stdout"
    }

    async fn publish(&self, events: &[AuditEvent]) {
        let mut text = String::new();
        for e in events {
            if let Ok(line) = serde_json::to_string(e) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        // A blocking write, off the runtime's threads: a slow reader of stdout may hold it.
        let written = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()
        })
        .await;
        if let Ok(Err(e)) = written {
            tracing::warn!(error = %e, "writing audit events to stdout failed");
        }
    }

    async fn flush(&self, _: Duration) {}
}

/// Events waiting for the webhook.
pub const WEBHOOK_QUEUE: usize = 10_000;
/// Events per POST.
pub const WEBHOOK_BATCH: usize = 100;
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(30);

struct Shared {
    queue: Mutex<VecDeque<AuditEvent>>,
    /// Rung when events arrive and when the stream closes.
    wake: Notify,
    /// Once set: deliver what is queued until then, then stop.
    closing: Mutex<Option<Instant>>,
}

/// Batches POSTed to the operator's endpoint, retried with backoff.
pub struct Webhook {
    shared: Arc<Shared>,
    worker: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Webhook {
    /// Starts the delivery worker on the current runtime.
    pub fn start(url: &str, secret: SecretString, timeout: Duration) -> CoreResult<Self> {
        install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(CoreError::internal)?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            closing: Mutex::new(None),
        });
        let worker = tokio::spawn(deliver(shared.clone(), client, url.to_string(), secret));
        Ok(Self {
            shared,
            worker: Mutex::new(Some(worker)),
        })
    }
}

#[async_trait::async_trait]
impl AuditStream for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn publish(&self, events: &[AuditEvent]) {
        let mut dropped = 0usize;
        if let Ok(mut q) = self.shared.queue.lock() {
            for e in events {
                if q.len() < WEBHOOK_QUEUE {
                    q.push_back(e.clone());
                } else {
                    dropped += 1;
                }
            }
        }
        if dropped > 0 {
            metrics::counter!("latch_audit_webhook_dropped_total").increment(dropped as u64);
            tracing::warn!(dropped, "audit webhook queue full: events dropped");
        }
        self.shared.wake.notify_one();
    }

    async fn flush(&self, deadline: Duration) {
        if let Ok(mut c) = self.shared.closing.lock() {
            *c = Some(Instant::now() + deadline);
        }
        self.shared.wake.notify_one();
        let worker = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some(mut worker) = worker {
            if tokio::time::timeout(deadline + Duration::from_secs(1), &mut worker)
                .await
                .is_err()
            {
                worker.abort();
            }
        }
    }
}

fn closing(shared: &Shared) -> Option<Instant> {
    shared.closing.lock().ok().and_then(|c| *c)
}

async fn deliver(shared: Arc<Shared>, client: reqwest::Client, url: String, secret: SecretString) {
    let mut wait = RETRY_FIRST;
    loop {
        let batch: Vec<AuditEvent> = match shared.queue.lock() {
            Ok(q) => q.iter().take(WEBHOOK_BATCH).cloned().collect(),
            Err(_) => return,
        };
        if batch.is_empty() {
            if closing(&shared).is_some() {
                return;
            }
            shared.wake.notified().await;
            continue;
        }
        match post(&client, &url, &secret, &batch).await {
            Ok(()) => {
                if let Ok(mut q) = shared.queue.lock() {
                    let n = batch.len().min(q.len());
                    q.drain(..n);
                }
                metrics::counter!("latch_audit_webhook_events_total").increment(batch.len() as u64);
                wait = RETRY_FIRST;
            }
            Err(why) => {
                metrics::counter!("latch_audit_webhook_failures_total").increment(1);
                tracing::warn!(error = %why, events = batch.len(), retry_in_ms = wait.as_millis() as u64, "audit webhook delivery failed");
                if let Some(give_up) = closing(&shared) {
                    if Instant::now() + wait > give_up {
                        let left = shared.queue.lock().map(|q| q.len()).unwrap_or(0);
                        tracing::error!(events = left, "audit webhook: events undelivered at shutdown");
                        return;
                    }
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
    }
}

#[allow(clippy::disallowed_methods)] // the signature's timestamp is the moment of sending
async fn post(client: &reqwest::Client, url: &str, secret: &SecretString, batch: &[AuditEvent]) -> Result<(), String> {
    let body = serde_json::json!({ "events": batch }).to_string();
    let t = Timestamp::now().unix_seconds();
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header(
            "x-latch-signature",
            format!("t={t},v1={}", webhook_signature(secret.expose_secret(), t, &body)),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("webhook answered {}", resp.status()));
    }
    Ok(())
}
