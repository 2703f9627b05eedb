//! Use cases, one module per API family. Each takes the `Ctx` and the authenticated project id.

pub mod members;
pub mod organizations;
pub mod projects;

use crate::delivery::Delivery;
use crate::store::Store;
use std::sync::Arc;

/// What every use case needs: storage and outbound delivery.
#[derive(Clone)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub delivery: Arc<dyn Delivery>,
}
