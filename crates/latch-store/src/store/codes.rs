//! `CodeStore`: one-time passcodes and intermediate sessions.

use super::sql_once;
use crate::exec::args;
use crate::rows::{ist_args, placeholders, IntermediateRow, IST_COLUMNS};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::ids::ProjectId;
use latch_core::model::credentials::{IntermediateRecord, OtpRecord};
use latch_core::store::{CodeStore, StoreResult};
use std::sync::OnceLock;

#[async_trait::async_trait]
impl CodeStore for SqlStore {
    async fn replace_otp(&self, o: &OtpRecord) -> StoreResult<()> {
        self.tx(vec![
            (
                "DELETE FROM otp_codes WHERE project_id = $1 AND scope = $2 AND channel = $3 AND recipient = $4",
                args![&o.project_id, &o.scope, &o.channel, &o.recipient],
            ),
            (
                "INSERT INTO otp_codes (otp_id, project_id, scope, channel, recipient, member_id, code_hash, salt, attempts, \
                 created_at, expires_at, superseded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                args![
                    &o.otp_id,
                    &o.project_id,
                    &o.scope,
                    &o.channel,
                    &o.recipient,
                    o.member_id.clone(),
                    &o.code_hash,
                    &o.salt,
                    o.attempts,
                    o.created_at.millis(),
                    o.expires_at.millis(),
                    serde_json::to_string(&o.superseded).unwrap_or_else(|_| "[]".into())
                ],
            ),
        ])
        .await
    }

    async fn otp_for(
        &self,
        project_id: &ProjectId,
        scope: &str,
        channel: &str,
        recipient: &str,
    ) -> StoreResult<Option<OtpRecord>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            otp_id: String,
            project_id: String,
            scope: String,
            channel: String,
            recipient: String,
            member_id: Option<String>,
            code_hash: String,
            salt: String,
            attempts: i64,
            created_at: i64,
            expires_at: i64,
            superseded: String,
        }
        let row: Option<Row> = self
            .opt(
                "SELECT otp_id, project_id, scope, channel, recipient, member_id, code_hash, salt, attempts, created_at, expires_at, \
                 superseded FROM otp_codes WHERE project_id = $1 AND scope = $2 AND channel = $3 AND recipient = $4",
                args![project_id, scope, channel, recipient],
            )
            .await?;
        Ok(row.map(|r| OtpRecord {
            otp_id: r.otp_id,
            project_id: r.project_id.into(),
            scope: r.scope,
            channel: r.channel,
            recipient: r.recipient,
            member_id: r.member_id.map(Into::into),
            code_hash: r.code_hash,
            salt: r.salt,
            attempts: r.attempts,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
            superseded: serde_json::from_str(&r.superseded).unwrap_or_default(),
        }))
    }

    async fn otp_attempt(&self, project_id: &ProjectId, otp_id: &str, max: i64) -> StoreResult<Option<i64>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            attempts: i64,
        }
        // One conditional statement: concurrent guesses each take a distinct attempt, and none
        // past `max`.
        let row: Option<Row> = self
            .opt(
                "UPDATE otp_codes SET attempts = attempts + 1 WHERE project_id = $1 AND otp_id = $2 AND attempts < $3 \
                 RETURNING attempts",
                args![project_id, otp_id, max],
            )
            .await?;
        Ok(row.map(|r| r.attempts))
    }

    async fn delete_otp(&self, project_id: &ProjectId, otp_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM otp_codes WHERE project_id = $1 AND otp_id = $2",
                args![project_id, otp_id],
            )
            .await?;
        Ok(n == 1)
    }

    async fn insert_intermediate(&self, ist: &IntermediateRecord) -> StoreResult<()> {
        static S: OnceLock<String> = OnceLock::new();
        let sql = sql_once(&S, || {
            format!(
                "INSERT INTO intermediate_sessions ({IST_COLUMNS}) VALUES ({})",
                placeholders(9)
            )
        });
        self.exec(sql, ist_args(ist)).await.map(|_| ())
    }

    async fn update_intermediate(&self, ist: &IntermediateRecord) -> StoreResult<()> {
        self.exec(
            "UPDATE intermediate_sessions SET organization_id = $3, member_id = $4, email = $5, factors = $6, expires_at = $7 \
             WHERE project_id = $1 AND ist_id = $2",
            args![
                &ist.project_id,
                &ist.ist_id,
                ist.organization_id.clone(),
                ist.member_id.clone(),
                &ist.email,
                serde_json::to_string(&ist.factors).unwrap_or_default(),
                ist.expires_at.millis()
            ],
        )
        .await
        .map(|_| ())
    }

    async fn intermediate_by_token_hash(
        &self,
        project_id: &ProjectId,
        token_hash: &str,
    ) -> StoreResult<Option<IntermediateRecord>> {
        let sql = format!("SELECT {IST_COLUMNS} FROM intermediate_sessions WHERE token_hash = $1 AND project_id = $2");
        self.opt::<IntermediateRow>(&sql, args![token_hash, project_id])
            .await?
            .map(IntermediateRecord::try_from)
            .transpose()
    }

    async fn delete_intermediate(&self, project_id: &ProjectId, ist_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM intermediate_sessions WHERE ist_id = $1 AND project_id = $2",
                args![ist_id, project_id],
            )
            .await?;
        Ok(n > 0)
    }
}
