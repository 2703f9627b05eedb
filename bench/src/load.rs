//! The load generator: `concurrency` tokio tasks, each running one operation after another until
//! the deadline, every latency recorded in an HdrHistogram.

use hdrhistogram::Histogram;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Kept per scenario: a few error messages to show what went wrong.
const ERROR_SAMPLES: usize = 3;

pub struct LoadResult {
    /// Latencies in microseconds.
    pub hist: Histogram<u64>,
    pub errors: u64,
    pub elapsed: Duration,
    pub error_samples: Vec<String>,
}

impl LoadResult {
    /// Operations finished, successful or not.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Successful operations per second.
    pub fn rate(&self) -> f64 {
        let ok = self.count().saturating_sub(self.errors);
        ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn p50(&self) -> u64 {
        self.hist.value_at_quantile(0.5)
    }

    pub fn p99(&self) -> u64 {
        self.hist.value_at_quantile(0.99)
    }

    pub fn max(&self) -> u64 {
        self.hist.max()
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 10 minutes, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Runs `op(i)` (with `i` unique per call) from `concurrency` tasks for `duration`.
pub async fn run_load<F, Fut>(concurrency: usize, duration: Duration, op: F) -> LoadResult
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let op = Arc::new(op);
    let counter = Arc::new(AtomicU64::new(0));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let (op, counter, samples) = (op.clone(), counter.clone(), samples.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = histogram();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t0 = Instant::now();
                let outcome = op(i).await;
                let micros = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
                hist.saturating_record(micros.max(1));
                if let Err(e) = outcome {
                    errors += 1;
                    let mut s = samples.lock().expect("error samples lock");
                    if s.len() < ERROR_SAMPLES {
                        s.push(e);
                    }
                }
            }
            (hist, errors)
        }));
    }
    let mut hist = histogram();
    let mut errors = 0;
    for task in tasks {
        let (h, e) = task.await.expect("a load worker panicked");
        hist.add(&h).expect("histograms with the same bounds add up");
        errors += e;
    }
    let elapsed = start.elapsed();
    let error_samples = std::mem::take(&mut *samples.lock().expect("error samples lock"));
    LoadResult {
        hist,
        errors,
        elapsed,
        error_samples,
    }
}
