//! `KeyStore`: session-JWT signing keys and their retirement and revocation.

use crate::exec::args;
use crate::rows::{RevokedKeyRow, SigningKeyRow};
use crate::sealing::SIGNING_KEY;
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::ids::ProjectId;
use latch_core::store::{KeyStore, StoreResult};
use latch_core::token::keyring::SigningKeyRecord;

/// Revoking a key wipes its private half: it must never sign or verify again, so nothing needs it.
/// It counts as retired too, so a project whose keys are all revoked gets a new one.
const REVOKE_KEYS: &str = "UPDATE signing_keys SET revoked_at = $3, retired_at = COALESCE(retired_at, $3), \
     private_pkcs8 = '' WHERE project_id = $1 AND revoked_at IS NULL";

#[async_trait::async_trait]
impl KeyStore for SqlStore {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        let sealed = self.seal(SIGNING_KEY, &key.kid, &key.private_pkcs8);
        self.exec(
            "INSERT INTO signing_keys (kid, project_id, private_pkcs8, created_at, retired_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
            args![
                &key.kid,
                &key.project_id,
                sealed,
                key.created_at.millis(),
                key.retired_at.map(Timestamp::millis),
                key.revoked_at.map(Timestamp::millis)
            ],
        )
        .await
        .map(|_| ())
    }

    async fn signing_keys(&self, project_id: &ProjectId) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows: Vec<SigningKeyRow> = self
            .all(
                "SELECT kid, project_id, private_pkcs8, created_at, retired_at, revoked_at FROM signing_keys WHERE project_id = $1",
                args![project_id],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let mut key = SigningKeyRecord::from(r);
                // A revoked key's private half is wiped, not sealed.
                if !key.private_pkcs8.is_empty() {
                    key.private_pkcs8 = self.open(SIGNING_KEY, &key.kid, &key.private_pkcs8)?.into();
                }
                Ok(key)
            })
            .collect()
    }

    async fn retire_signing_keys(&self, project_id: &ProjectId, keep_kid: &str, at: Timestamp) -> StoreResult<()> {
        self.exec(
            "UPDATE signing_keys SET retired_at = $3 WHERE project_id = $1 AND kid <> $2 AND retired_at IS NULL",
            args![project_id, keep_kid, at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn revoke_signing_key(&self, project_id: &ProjectId, kid: &str, at: Timestamp) -> StoreResult<bool> {
        let sql = format!("{REVOKE_KEYS} AND kid = $2");
        Ok(self.exec(&sql, args![project_id, kid, at.millis()]).await? > 0)
    }

    async fn revoke_signing_keys_except(
        &self,
        project_id: &ProjectId,
        keep_kid: &str,
        at: Timestamp,
    ) -> StoreResult<u64> {
        let sql = format!("{REVOKE_KEYS} AND kid <> $2");
        self.exec(&sql, args![project_id, keep_kid, at.millis()]).await
    }

    async fn revoked_signing_keys(&self) -> StoreResult<Vec<(ProjectId, String)>> {
        let rows: Vec<RevokedKeyRow> = self
            .all(
                "SELECT project_id, kid FROM signing_keys WHERE revoked_at IS NOT NULL",
                args![],
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.project_id.into(), r.kid)).collect())
    }
}
