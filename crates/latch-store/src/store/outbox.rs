//! `OutboxStore`: the development outbox's messages, newest first.

use super::sql_once;
use crate::exec::args;
use crate::rows::{placeholders, MessageRow, MESSAGE_COLUMNS};
use crate::SqlStore;
use latch_core::delivery::StoredMessage;
use latch_core::ids::ProjectId;
use latch_core::store::{OutboxStore, StoreResult};
use std::sync::OnceLock;

#[async_trait::async_trait]
impl OutboxStore for SqlStore {
    async fn insert_message(&self, m: &StoredMessage) -> StoreResult<()> {
        static S: OnceLock<String> = OnceLock::new();
        let sql = sql_once(&S, || {
            format!(
                "INSERT INTO outbox_messages ({MESSAGE_COLUMNS}) VALUES ({})",
                placeholders(13)
            )
        });
        self.exec(sql, self.message_args(m)).await.map(|_| ())
    }

    async fn list_messages(
        &self,
        project_id: &ProjectId,
        recipient: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<StoredMessage>> {
        let rows: Vec<MessageRow> = match recipient {
            Some(r) => {
                self.all(
                    &format!("SELECT {MESSAGE_COLUMNS} FROM outbox_messages WHERE project_id = $1 AND recipient = $2 ORDER BY seq DESC LIMIT $3"),
                    args![project_id, r, limit as i64],
                )
                .await?
            }
            None => {
                self.all(
                    &format!("SELECT {MESSAGE_COLUMNS} FROM outbox_messages WHERE project_id = $1 ORDER BY seq DESC LIMIT $2"),
                    args![project_id, limit as i64],
                )
                .await?
            }
        };
        rows.into_iter().map(|r| self.unseal_message(r)).collect()
    }
}
