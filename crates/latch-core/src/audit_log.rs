//! Writing the audit log off the request's critical path. A request hands its events to a bounded
//! channel (`AuditLog::record`) and goes on; one background task per node takes them in batches,
//! stores each batch in one transaction, then passes it to the configured streams (JSON lines on
//! stdout, a webhook).
//!
//! ```text
//!   requests ──record──▶ [bounded channel] ──▶ writer: store a batch ──▶ streams (stdout, webhook)
//!                 full: wait ≤ 50 ms,                 │ database down: retry with backoff
//!                 then drop and count                 ▼
//!                                           stop: close the channel, store what is
//!                                           left in it, flush the streams, exit
//! ```
//!
//! On a clean shutdown the server stops accepting requests and lets the running ones finish
//! first, then stops the writer, which drains the channel before the process exits: an event
//! recorded by an answered request is not lost. A full channel (the database far slower than the
//! traffic) costs a request at most `FULL_WAIT`, and an event dropped then is counted in
//! `latch_audit_events_dropped_total`.

use crate::model::audit::AuditEvent;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, error::SendTimeoutError, error::TrySendError};
use tokio::sync::watch;
use tokio::time::Instant;

/// Events waiting to be written, per node.
pub const QUEUE_CAPACITY: usize = 10_000;
/// Events per insert transaction.
pub const BATCH: usize = 500;
/// The longest a request waits for room in a full channel.
pub const FULL_WAIT: Duration = Duration::from_millis(50);
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Where a use case's events go.
#[async_trait::async_trait]
pub trait AuditSink: Send + Sync {
    /// Hands `event` on; waits at most `FULL_WAIT`, and never fails the caller.
    async fn record(&self, event: AuditEvent);
}

/// Drops every event (a `Ctx` built without an audit log: unit tests, tools).
pub struct Discard;

#[async_trait::async_trait]
impl AuditSink for Discard {
    async fn record(&self, _: AuditEvent) {}
}

/// A destination besides the database. Called by the writer only, after each stored batch.
#[async_trait::async_trait]
pub trait AuditStream: Send + Sync {
    /// For logs and metrics (`stdout`, `webhook`).
    fn name(&self) -> &'static str;
    /// Takes a batch; may wait for slow output but should queue rather than wait on the network.
    async fn publish(&self, events: &[AuditEvent]);
    /// At shutdown: delivers what is still queued, giving up after `deadline`.
    async fn flush(&self, deadline: Duration);
}

/// The sending half, held by `Ctx`.
pub struct AuditLog {
    tx: mpsc::Sender<AuditEvent>,
}

fn dropped(why: &'static str, n: usize) {
    metrics::counter!("latch_audit_events_dropped_total", "why" => why).increment(n as u64);
}

#[async_trait::async_trait]
impl AuditSink for AuditLog {
    async fn record(&self, event: AuditEvent) {
        match self.tx.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(event)) => {
                metrics::counter!("latch_audit_queue_full_total").increment(1);
                match self.tx.send_timeout(event, FULL_WAIT).await {
                    Ok(()) => {}
                    Err(SendTimeoutError::Timeout(e)) => {
                        dropped("queue_full", 1);
                        tracing::warn!(event_type = %e.event_type, "audit queue full: event dropped");
                    }
                    Err(SendTimeoutError::Closed(e)) => {
                        dropped("stopped", 1);
                        tracing::warn!(event_type = %e.event_type, "audit log stopped: event dropped");
                    }
                }
            }
            Err(TrySendError::Closed(e)) => {
                dropped("stopped", 1);
                tracing::warn!(event_type = %e.event_type, "audit log stopped: event dropped");
            }
        }
    }
}

/// The background writer's handle: `stop` it after the server has answered its last request.
pub struct AuditWriter {
    /// The moment to give up on a database or stream that does not answer, once stopping.
    stop: watch::Sender<Option<Instant>>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts the writer on the current runtime; returns the sink for `Ctx` and the writer's handle.
pub fn start(
    store: Arc<dyn Store>,
    streams: Vec<Arc<dyn AuditStream>>,
    capacity: usize,
) -> (Arc<AuditLog>, AuditWriter) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let (stop, stopping) = watch::channel(None);
    let task = tokio::spawn(run(store, streams, rx, stopping));
    (Arc::new(AuditLog { tx }), AuditWriter { stop, task })
}

impl AuditWriter {
    /// Closes the channel, writes what is in it, flushes the streams, and waits for all of it,
    /// spending at most about `deadline` on a database or stream that does not answer.
    pub async fn stop(mut self, deadline: Duration) {
        let _ = self.stop.send(Some(Instant::now() + deadline));
        // The writer gives up on its own at the deadline; the margin covers a last slow insert.
        if tokio::time::timeout(deadline + Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            tracing::error!("audit writer did not finish in time; events still queued are lost");
            self.task.abort();
        }
    }
}

async fn run(
    store: Arc<dyn Store>,
    streams: Vec<Arc<dyn AuditStream>>,
    mut rx: mpsc::Receiver<AuditEvent>,
    mut stopping: watch::Receiver<Option<Instant>>,
) {
    let mut batch: Vec<AuditEvent> = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            biased;
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    break; // every sender is gone: nothing more can come
                }
            }
            _ = stopping.changed() => break,
        }
        write(store.as_ref(), &streams, &mut batch, &stopping).await;
    }
    // Whatever the requests recorded before the stop is still in the channel: write it all.
    rx.close();
    while !batch.is_empty() || rx.recv_many(&mut batch, BATCH).await > 0 {
        write(store.as_ref(), &streams, &mut batch, &stopping).await;
    }
    let give_up = stopping
        .borrow()
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(5));
    for s in &streams {
        s.flush(give_up.saturating_duration_since(Instant::now())).await;
    }
}

/// Stores `batch` (retrying while the database is out of reach; once stopping, only until the
/// stop's deadline), then publishes it to the streams, and empties it.
async fn write(
    store: &dyn Store,
    streams: &[Arc<dyn AuditStream>],
    batch: &mut Vec<AuditEvent>,
    stopping: &watch::Receiver<Option<Instant>>,
) {
    let mut wait = RETRY_FIRST;
    loop {
        match store.insert_audit_events(batch).await {
            Ok(()) => {
                metrics::counter!("latch_audit_events_written_total").increment(batch.len() as u64);
                break;
            }
            Err(e) => {
                metrics::counter!("latch_audit_write_failures_total").increment(1);
                tracing::warn!(error = %e, events = batch.len(), "storing audit events failed; retrying");
                let give_up = *stopping.borrow();
                if give_up.is_some_and(|g| Instant::now() + wait > g) {
                    tracing::error!(events = batch.len(), "audit events could not be stored before shutdown");
                    dropped("store_failed", batch.len());
                    break;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
    }
    for s in streams {
        s.publish(batch).await;
    }
    batch.clear();
}
