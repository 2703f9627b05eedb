//! The store traits of `latch_core::store` for `SqlStore`, one file per aggregate as in core:
//! the same SQL text on both engines. Each UPDATE binds exactly the values it uses; whole-record
//! writes of members and organizations match the version they were read at (`tx_guarded`).

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
mod scim;
mod sessions;
mod sso;

use crate::exec::Arg;
use latch_core::store::Found;
use std::sync::OnceLock;

/// One statement and the values it binds, in order.
pub(crate) type Stmt = (&'static str, Vec<Arg>);

/// A statement built once from the column constants and kept for the process's life.
pub(crate) fn sql_once(cell: &'static OnceLock<String>, build: impl FnOnce() -> String) -> &'static str {
    cell.get_or_init(build).as_str()
}

/// One page of `items` fetched with `limit + 1` rows: the extra row only says there is more.
pub(crate) fn page_of<T>(mut items: Vec<T>, total: i64, limit: u32) -> Found<T> {
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    Found { items, total, has_more }
}
