//! Workspace keys: the credentials of the Management API. Created at the command line (the first
//! one cannot come from the API it opens), shown once, stored as SHA-256 digests (each secret has
//! 256 bits of entropy), compared in constant time.

use crate::clock::Timestamp;
use crate::crypto::{constant_time_eq, last_four, random_token, sha256_hex};
use crate::engine::Ctx;
use crate::error::{catalogue, CoreResult};
use crate::model::project::WorkspaceKey;
use crate::store::Store;

/// Compared against when the key id is unknown, so both paths do the same work.
const DUMMY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A new key and its secret, shown once.
pub struct NewKey {
    pub key: WorkspaceKey,
    pub secret: String,
}

#[allow(clippy::disallowed_methods)] // created by the CLI, before any Ctx
pub async fn create(store: &dyn Store, name: &str) -> CoreResult<NewKey> {
    if name.chars().count() > 256 {
        return Err(catalogue::INVALID_ARGUMENT.field_detail("name", "at most 256 characters"));
    }
    let secret = format!("secret-workspace-{}", random_token(32));
    let key = WorkspaceKey {
        key_id: format!("workspace-key-{}", uuid::Uuid::new_v4()),
        secret_hash: sha256_hex(&secret),
        name: name.to_string(),
        last_four: last_four(&secret),
        created_at: Timestamp::now(),
    };
    store.insert_workspace_key(&key).await?;
    Ok(NewKey { key, secret })
}

/// Checks the Basic credentials of a Management API call. Which part was wrong is never said.
pub async fn authenticate(ctx: &Ctx, key_id: &str, secret: &str) -> CoreResult<WorkspaceKey> {
    // Bounded before hashing: a key id or secret is far shorter.
    if key_id.len() > 128 || secret.len() > 256 {
        return Err(catalogue::UNAUTHORIZED_CREDENTIALS.err());
    }
    let found = ctx.store.workspace_key(key_id).await?;
    let presented = sha256_hex(secret);
    let expected = found.as_ref().map(|k| k.secret_hash.as_str()).unwrap_or(DUMMY_HASH);
    match found {
        Some(k) if constant_time_eq(&presented, expected) => Ok(k),
        _ => Err(catalogue::UNAUTHORIZED_CREDENTIALS.err()),
    }
}
