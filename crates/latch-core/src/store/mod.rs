//! The storage boundary. One implementation (latch-store) serves SQLite and PostgreSQL; services
//! depend only on these traits. Every method is scoped by project: tenant isolation starts here.
//!
//! One trait per aggregate, so a reader (or a test double) sees one family at a time; `Store`
//! is all of them, and what services hold as `Arc<dyn Store>`.
//!
//! Whole-record writes of members and organizations are optimistic: they match the `version`
//! the record was read with and bump it, and fail with `StoreError::Conflict` when another write
//! landed in between (see `retry` for how services absorb that).

mod audit;
mod codes;
mod counters;
mod credentials;
mod housekeeping;
mod keys;
mod links;
mod members;
mod oauth;
mod orgs;
mod outbox;
mod projects;
pub mod retry;
mod scim;
mod sessions;
mod sso;

pub use audit::AuditStore;
pub use codes::CodeStore;
pub use counters::CounterStore;
pub use credentials::CredentialStore;
pub use housekeeping::{Expiring, HousekeepingStore};
pub use keys::KeyStore;
pub use links::LinkStore;
pub use members::MemberStore;
pub use oauth::OAuthStore;
pub use orgs::OrgStore;
pub use outbox::OutboxStore;
pub use projects::{ProjectStore, WorkspaceStore};
pub use scim::ScimStore;
pub use sessions::SessionStore;
pub use sso::SsoStore;

use crate::error::StoreError;

pub type StoreResult<T> = Result<T, StoreError>;

/// One page of results and the total number of matches.
#[derive(Debug, Clone)]
pub struct Found<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub has_more: bool,
}

/// Every aggregate's store: what a node holds.
pub trait Store:
    HousekeepingStore
    + ProjectStore
    + WorkspaceStore
    + OrgStore
    + MemberStore
    + SessionStore
    + CredentialStore
    + CodeStore
    + CounterStore
    + KeyStore
    + LinkStore
    + SsoStore
    + ScimStore
    + OAuthStore
    + OutboxStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: HousekeepingStore
        + ProjectStore
        + WorkspaceStore
        + OrgStore
        + MemberStore
        + SessionStore
        + CredentialStore
        + CodeStore
        + CounterStore
        + KeyStore
        + LinkStore
        + SsoStore
        + ScimStore
        + OAuthStore
        + OutboxStore
        + AuditStore
        + Send
        + Sync
        + 'static
{
}

/// Every store trait, for code that calls them on a concrete store (`use …::store::prelude::*`).
pub mod prelude {
    pub use super::{
        AuditStore, CodeStore, CounterStore, CredentialStore, HousekeepingStore, KeyStore, LinkStore, MemberStore,
        OAuthStore, OrgStore, OutboxStore, ProjectStore, ScimStore, SessionStore, SsoStore, Store, WorkspaceStore,
    };
}
