//! Session-JWT signing keys.

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::ProjectId;
use crate::token::keyring::SigningKeyRecord;

#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()>;
    async fn signing_keys(&self, project_id: &ProjectId) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Retires every active key of the project except `keep_kid`.
    async fn retire_signing_keys(&self, project_id: &ProjectId, keep_kid: &str, at: Timestamp) -> StoreResult<()>;
    /// Revokes one key (also retiring it and wiping its private half); false if there is no such
    /// unrevoked key.
    async fn revoke_signing_key(&self, project_id: &ProjectId, kid: &str, at: Timestamp) -> StoreResult<bool>;
    /// Revokes every key of the project except `keep_kid`; how many.
    async fn revoke_signing_keys_except(
        &self,
        project_id: &ProjectId,
        keep_kid: &str,
        at: Timestamp,
    ) -> StoreResult<u64>;
    /// (project id, kid) of every revoked key, of all projects: what nodes poll to drop them.
    async fn revoked_signing_keys(&self) -> StoreResult<Vec<(ProjectId, String)>>;
}
