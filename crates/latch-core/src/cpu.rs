//! A bounded pool for CPU-heavy work (password hashing, RSA signing and key generation). Work runs
//! on tokio's blocking threads, at most `permits` at a time, so a flood of logins cannot starve
//! the async executor that answers session checks. Hashing and signing use separate pools so a
//! queue of hashes never delays a session JWT.

use crate::error::{CoreError, CoreResult};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct CpuPool {
    permits: Arc<Semaphore>,
}

impl CpuPool {
    pub fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
        }
    }

    /// One permit per available core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
    }

    pub async fn run<T, F>(&self, work: F) -> CoreResult<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(CoreError::internal)?;
        tokio::task::spawn_blocking(work).await.map_err(CoreError::internal)
    }
}
