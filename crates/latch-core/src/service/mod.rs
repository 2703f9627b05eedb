//! Use cases, one module per API family. Each takes the `Ctx` and the authenticated project id.

pub mod authz;
pub mod members;
pub mod organizations;
pub mod projects;
pub mod sessions;

use crate::cpu::CpuPool;
use crate::delivery::Delivery;
use crate::rbac::Policy;
use crate::store::Store;
use crate::token::keyring::Keyring;
use std::sync::Arc;

/// What every use case needs: storage, outbound delivery, signing keys, the CPU pool for heavy
/// work, and the project RBAC policy.
#[derive(Clone)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub delivery: Arc<dyn Delivery>,
    pub keyring: Arc<Keyring>,
    pub cpu: CpuPool,
    pub policy: Arc<Policy>,
}

impl Ctx {
    pub fn new(store: Arc<dyn Store>, delivery: Arc<dyn Delivery>, policy: Policy) -> Self {
        let cpu = CpuPool::per_core();
        Self {
            keyring: Arc::new(Keyring::new(store.clone(), cpu.clone())),
            store,
            delivery,
            cpu,
            policy: Arc::new(policy),
        }
    }
}
