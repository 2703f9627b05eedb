//! A bounded pool for CPU-heavy work (password hashing, RSA signing and key generation). Work runs
//! on a fixed set of dedicated OS threads, so a flood of logins cannot starve the async executor
//! that answers session checks. Hashing and signing use separate pools so a queue of hashes never
//! delays a session JWT.
//!
//! Fixed threads, not tokio's blocking pool: every argon2 hash allocates 19 MiB, and glibc keeps
//! freed blocks in per-thread arenas, so hashing on an ever-changing set of blocking threads grew
//! RSS to ~950 MB under load (measured by `latch-bench`). With N long-lived threads each arena
//! reuses its own blocks.
//!
//! Password hashing runs at the lowest scheduling priority: a login flood keeps every core busy,
//! and at equal priority a session check woken meanwhile waits for the kernel to preempt a hash
//! (milliseconds). Idle cores still go to hashing, so login throughput is unchanged when nothing
//! else runs.

use crate::error::{CoreError, CoreResult};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Clone)]
pub struct CpuPool {
    jobs: mpsc::Sender<Job>,
    /// The `pool` label of its metrics: hashing (background) or signing.
    name: &'static str,
    queued: Arc<std::sync::atomic::AtomicI64>,
}

/// How the kernel schedules a pool's threads against the async executor's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Like the executor: work someone is waiting for right now (signing a session JWT).
    Normal,
    /// Below it (nice 19, SCHED_BATCH): throughput work that must not delay the executor.
    Background,
}

/// Lowers the calling thread's priority. Failure only costs latency, so it is logged, not fatal.
fn lower_current_thread() {
    use thread_priority::{
        set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy, ThreadPriority,
        ThreadSchedulePolicy,
    };
    let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, batch) {
        tracing::warn!(error = ?e, "could not lower the priority of a CPU pool thread");
    }
}

impl CpuPool {
    pub fn new(threads: usize) -> Self {
        Self::with_priority(threads, Priority::Normal)
    }

    pub fn with_priority(threads: usize, priority: Priority) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("latch-cpu-{i}"))
                .spawn(move || {
                    if priority == Priority::Background {
                        lower_current_thread();
                    }
                    loop {
                        // The lock is held only while waiting for the next job, not while running it.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // every sender dropped: the pool is gone
                        }
                    }
                })
                .expect("spawn CPU pool thread");
        }
        Self {
            jobs,
            name: match priority {
                Priority::Background => "hashing",
                _ => "signing",
            },
            queued: Arc::new(std::sync::atomic::AtomicI64::new(0)),
        }
    }

    /// One thread per available core.
    pub fn per_core(priority: Priority) -> Self {
        Self::with_priority(
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            priority,
        )
    }

    pub async fn run<T, F>(&self, work: F) -> CoreResult<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = oneshot::channel();
        // Queue depth and wait, per pool: how far a login flood is behind (`/metrics`).
        let (name, queued) = (self.name, self.queued.clone());
        let depth = queued.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        metrics::gauge!("latch_cpu_pool_queued", "pool" => name).set(depth as f64);
        #[allow(clippy::disallowed_methods)] // measures the wait for a metric, decides nothing
        let enqueued = std::time::Instant::now();
        let job: Job = Box::new(move || {
            let depth = queued.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) - 1;
            metrics::gauge!("latch_cpu_pool_queued", "pool" => name).set(depth as f64);
            metrics::histogram!("latch_cpu_pool_wait_seconds", "pool" => name).record(enqueued.elapsed().as_secs_f64());
            // A panicking job must not take its worker thread down with it.
            let _ = done.send(catch_unwind(AssertUnwindSafe(work)));
        });
        self.jobs
            .send(job)
            .map_err(|_| CoreError::internal("CPU pool stopped"))?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(CoreError::internal("CPU pool job panicked")),
            Err(_) => Err(CoreError::internal("CPU pool job dropped")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_survives_a_panic() {
        let pool = CpuPool::new(1);
        assert_eq!(pool.run(|| 2 + 2).await.unwrap(), 4);
        assert!(pool.run(|| -> u8 { panic!("boom") }).await.is_err());
        // The single worker is still alive after the panic.
        assert_eq!(pool.run(|| "still here").await.unwrap(), "still here");
    }

    /// The nice value and scheduling policy of the calling thread, from /proc.
    #[cfg(target_os = "linux")]
    fn nice_and_policy() -> (i64, i64) {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the parenthesised command name; nice is field 19, policy field 41.
        let rest: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
        (rest[16].parse().unwrap(), rest[38].parse().unwrap())
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn background_threads_run_below_the_executor() {
        const SCHED_BATCH: i64 = 3;
        // A normal pool's threads keep the priority of the thread that made them.
        let normal = CpuPool::new(1).run(nice_and_policy).await.unwrap();
        assert_eq!(normal, nice_and_policy());
        let background = CpuPool::with_priority(1, Priority::Background)
            .run(nice_and_policy)
            .await
            .unwrap();
        assert_eq!(background, (19, SCHED_BATCH));
    }
}
