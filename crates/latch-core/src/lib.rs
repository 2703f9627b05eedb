//! Latch's domain: organizations, members and the rules around them. No HTTP and no SQL here:
//! storage is reached through the `store::Store` trait, delivery through `delivery::Delivery`.

#![forbid(unsafe_code)]

pub mod audit_log;
pub mod cache;
pub mod clock;
pub mod cpu;
pub mod crypto;
pub mod delivery;
pub mod engine;
pub mod error;
pub mod ids;
pub mod model;
pub mod oidc;
pub mod password;
pub mod project_settings;
pub mod rbac;
pub mod rules;
pub mod saml;
pub mod scim;
pub mod seal;
pub mod service;
pub mod settings;
pub mod store;
pub mod token;
pub mod validate;

pub use error::{CoreError, CoreResult, Fault, StoreError};
