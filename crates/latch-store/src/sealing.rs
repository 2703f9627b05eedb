//! The columns that hold secrets the server reads back, sealed with the KEK (`latch_core::seal`):
//! written through `SqlStore::seal`, read through `SqlStore::open`, each under the identity of
//! its record. One list of them serves the start-up checks and `latch keys rewrap`.

use crate::exec::args;
use crate::SqlStore;
use latch_core::seal::{self, SealError};
use latch_core::store::StoreResult;
use latch_core::StoreError;

/// One sealed column: the table, the column, and the primary key that names the record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub table: &'static str,
    pub column: &'static str,
    pub id: &'static str,
}

pub(crate) const SIGNING_KEY: Field = Field {
    table: "signing_keys",
    column: "private_pkcs8",
    id: "kid",
};
pub(crate) const TOTP_SECRET: Field = Field {
    table: "totp_registrations",
    column: "secret",
    id: "totp_id",
};
pub(crate) const RECOVERY_CODE: Field = Field {
    table: "recovery_codes",
    column: "code_sealed",
    id: "code_id",
};
pub(crate) const OIDC_CLIENT_SECRET: Field = Field {
    table: "oidc_connections",
    column: "client_secret",
    id: "connection_id",
};
pub(crate) const PKCE_VERIFIER: Field = Field {
    table: "sso_states",
    column: "pkce_verifier",
    id: "state_hash",
};
pub(crate) const OAUTH_TOKEN_GRANT: Field = Field {
    table: "oauth_tokens",
    column: "provider_tokens",
    id: "token_hash",
};
pub(crate) const OAUTH_REGISTRATION_TOKENS: Field = Field {
    table: "oauth_registrations",
    column: "provider_tokens",
    id: "registration_id",
};
pub(crate) const SAML_SECRETS: Field = Field {
    table: "saml_connections",
    column: "secrets",
    id: "connection_id",
};
pub(crate) const MESSAGE_TEXT: Field = Field {
    table: "outbox_messages",
    column: "text",
    id: "message_id",
};
pub(crate) const MESSAGE_HTML: Field = Field {
    table: "outbox_messages",
    column: "html",
    id: "message_id",
};
pub(crate) const MESSAGE_CODE: Field = Field {
    table: "outbox_messages",
    column: "code",
    id: "message_id",
};
pub(crate) const MESSAGE_TOKEN: Field = Field {
    table: "outbox_messages",
    column: "token",
    id: "message_id",
};
pub(crate) const MESSAGE_URL: Field = Field {
    table: "outbox_messages",
    column: "url",
    id: "message_id",
};

/// Every sealed column. A new secret column is added here, or rewrap and the start-up pass miss it.
pub(crate) const FIELDS: &[Field] = &[
    SIGNING_KEY,
    TOTP_SECRET,
    RECOVERY_CODE,
    OIDC_CLIENT_SECRET,
    PKCE_VERIFIER,
    OAUTH_TOKEN_GRANT,
    OAUTH_REGISTRATION_TOKENS,
    SAML_SECRETS,
    MESSAGE_TEXT,
    MESSAGE_HTML,
    MESSAGE_CODE,
    MESSAGE_TOKEN,
    MESSAGE_URL,
];

/// Rows rewrapped per statement batch: small enough not to hold the SQLite writer for long.
const BATCH: i64 = 200;

fn aad(f: Field, id: &str) -> String {
    seal::aad(f.table, f.column, id)
}

fn sealing_failed(f: Field, id: &str, e: SealError) -> StoreError {
    // The id names the record for the operator; the value itself is never in the message.
    StoreError::Backend(format!("{}.{} of {id}: {e}", f.table, f.column))
}

/// What `latch keys rewrap` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RewrapReport {
    /// Values now sealed under the current key that were not before.
    pub rewrapped: u64,
    /// Values written before sealing existed, sealed now.
    pub sealed_plaintext: u64,
    /// KEK ids no value uses any more (removed from the database's list).
    pub retired_keys: Vec<String>,
}

impl SqlStore {
    pub(crate) fn seal(&self, f: Field, id: &str, plaintext: &str) -> String {
        self.sealer.seal_str(&aad(f, id), plaintext)
    }

    pub(crate) fn seal_opt(&self, f: Field, id: &str, plaintext: Option<&str>) -> Option<String> {
        plaintext.map(|p| self.seal(f, id, p))
    }

    pub(crate) fn open(&self, f: Field, id: &str, stored: &str) -> StoreResult<String> {
        self.sealer
            .open_str(&aad(f, id), stored)
            .map_err(|e| sealing_failed(f, id, e))
    }

    pub(crate) fn open_opt(&self, f: Field, id: &str, stored: Option<String>) -> StoreResult<Option<String>> {
        stored.map(|s| self.open(f, id, &s)).transpose()
    }

    /// At start: refuse a KEK set that cannot open what the database holds, seal what an older
    /// Latch left in clear (once, on the first start that knows sealing), and record the current
    /// key so other nodes and later starts can check theirs.
    pub(crate) async fn prepare_sealing(&self) -> StoreResult<()> {
        let known: Vec<(String,)> = self.all("SELECT kid FROM sealing_keys", args![]).await?;
        let missing: Vec<&str> = known
            .iter()
            .map(|(k,)| k.as_str())
            .filter(|k| !self.sealer.key_ids().any(|mine| mine == *k))
            .collect();
        if !missing.is_empty() {
            return Err(StoreError::Backend(format!(
                "the database holds secrets sealed with key-encryption key(s) {} which this server was not given \
                 (its keys: {}); start it with the same kek as the other nodes, or add the old key as a previous key",
                missing.join(", "),
                self.sealer.key_ids().collect::<Vec<_>>().join(", ")
            )));
        }
        if known.is_empty() {
            let sealed = self.rewrap_fields(true).await?;
            if sealed > 0 {
                tracing::info!(values = sealed, "sealed secrets an earlier version stored in clear");
            }
        }
        self.exec(
            "INSERT INTO sealing_keys (kid, created_at) VALUES ($1, $2) ON CONFLICT (kid) DO NOTHING",
            args![self.sealer.current_id(), now_millis()],
        )
        .await?;
        Ok(())
    }

    /// Seals every secret under the current KEK, then forgets the keys nothing uses any more.
    /// Safe while other nodes serve: each value is replaced only if it did not change meanwhile.
    pub async fn rewrap(&self) -> StoreResult<RewrapReport> {
        let sealed_plaintext = self.rewrap_fields(true).await?;
        let rewrapped = self.rewrap_fields(false).await?;
        let known: Vec<(String,)> = self.all("SELECT kid FROM sealing_keys", args![]).await?;
        let mut retired_keys = Vec::new();
        for (kid,) in known {
            if kid != self.sealer.current_id() {
                self.exec("DELETE FROM sealing_keys WHERE kid = $1", args![kid.as_str()])
                    .await?;
                retired_keys.push(kid);
            }
        }
        self.exec(
            "INSERT INTO sealing_keys (kid, created_at) VALUES ($1, $2) ON CONFLICT (kid) DO NOTHING",
            args![self.sealer.current_id(), now_millis()],
        )
        .await?;
        Ok(RewrapReport {
            rewrapped,
            sealed_plaintext,
            retired_keys,
        })
    }

    /// One pass over every sealed column: `plaintext` seals values written in clear, otherwise
    /// values sealed under a previous key are resealed under the current one.
    async fn rewrap_fields(&self, plaintext: bool) -> StoreResult<u64> {
        let mut done = 0;
        for f in FIELDS {
            let select = format!(
                "SELECT {id}, {col} FROM {t} WHERE {id} > $1 AND {col} IS NOT NULL AND {col} <> '' ORDER BY {id} LIMIT {BATCH}",
                id = f.id,
                col = f.column,
                t = f.table
            );
            let update = format!(
                "UPDATE {t} SET {col} = $1 WHERE {id} = $2 AND {col} = $3",
                id = f.id,
                col = f.column,
                t = f.table
            );
            let mut after = String::new();
            loop {
                let rows: Vec<(String, String)> = self.all(&select, args![after.as_str()]).await?;
                let Some((last, _)) = rows.last() else { break };
                after = last.clone();
                for (id, stored) in &rows {
                    let fresh = match (plaintext, seal::is_sealed(stored)) {
                        (true, false) => self.seal(*f, id, stored),
                        (false, true) if !self.sealer.is_current(stored) => {
                            let value = self.open(*f, id, stored)?;
                            self.seal(*f, id, &value)
                        }
                        _ => continue,
                    };
                    done += self
                        .exec(&update, args![fresh.as_str(), id.as_str(), stored.as_str()])
                        .await?;
                }
                if (rows.len() as i64) < BATCH {
                    break;
                }
            }
        }
        Ok(done)
    }
}

/// When a key was first seen: operator bookkeeping, not domain time (no `Clock` reaches here).
#[allow(clippy::disallowed_methods)]
fn now_millis() -> i64 {
    latch_core::clock::Timestamp::now().millis()
}
