//! `SessionStore`: member sessions, alone or joined with their member.

use super::sql_once;
use crate::exec::args;
use crate::rows::{placeholders, session_args, SessionMemberRow, SessionRow, MEMBER_COLUMNS, SESSION_COLUMNS};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::ids::{MemberId, ProjectId};
use latch_core::model::session::{SessionKey, SessionRecord, SessionWithMember};
use latch_core::store::{SessionStore, StoreResult};
use std::sync::OnceLock;

/// A session and its member in one row; `key_column` is unique in member_sessions.
fn session_with_member_sql(key_column: &str) -> String {
    let qualified = |alias: &str, columns: &str| -> String {
        let cols: Vec<String> = columns.split(',').map(|c| format!("{alias}.{}", c.trim())).collect();
        cols.join(", ")
    };
    format!(
        "SELECT {}, {}, \
         EXISTS (SELECT 1 FROM retired_emails r WHERE r.member_id = m.member_id) AS has_retired \
         FROM member_sessions s JOIN members m ON m.member_id = s.member_id AND m.organization_id = s.organization_id \
         WHERE s.{key_column} = $1 AND s.project_id = $2 AND m.project_id = $2",
        qualified("m", MEMBER_COLUMNS),
        qualified("s", SESSION_COLUMNS)
    )
}

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()> {
        static S: OnceLock<String> = OnceLock::new();
        let sql = sql_once(&S, || {
            format!(
                "INSERT INTO member_sessions ({SESSION_COLUMNS}) VALUES ({})",
                placeholders(10)
            )
        });
        self.exec(sql, session_args(session)).await.map(|_| ())
    }

    async fn update_session(&self, s: &SessionRecord) -> StoreResult<()> {
        // Only the mutable columns; the session's identity is the key.
        self.exec(
            "UPDATE member_sessions SET last_accessed_at = $3, expires_at = $4, factors = $5, custom_claims = $6 \
             WHERE project_id = $1 AND member_session_id = $2",
            args![
                &s.project_id,
                &s.member_session_id,
                s.last_accessed_at.millis(),
                s.expires_at.millis(),
                serde_json::to_string(&s.factors).unwrap_or_default(),
                serde_json::to_string(&s.custom_claims).unwrap_or_default()
            ],
        )
        .await
        .map(|_| ())
    }

    async fn touch_session(&self, project_id: &ProjectId, session_id: &str, at: Timestamp) -> StoreResult<()> {
        self.exec(
            "UPDATE member_sessions SET last_accessed_at = $3 \
             WHERE project_id = $1 AND member_session_id = $2 AND last_accessed_at < $3",
            args![project_id, session_id, at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn session_by_token_hash(
        &self,
        project_id: &ProjectId,
        token_hash: &str,
    ) -> StoreResult<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM member_sessions WHERE token_hash = $1 AND project_id = $2");
        self.opt::<SessionRow>(&sql, args![token_hash, project_id])
            .await?
            .map(SessionRecord::try_from)
            .transpose()
    }

    async fn session_by_id(&self, project_id: &ProjectId, session_id: &str) -> StoreResult<Option<SessionRecord>> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM member_sessions WHERE member_session_id = $1 AND project_id = $2");
        self.opt::<SessionRow>(&sql, args![session_id, project_id])
            .await?
            .map(SessionRecord::try_from)
            .transpose()
    }

    async fn session_with_member(
        &self,
        project_id: &ProjectId,
        key: &SessionKey,
    ) -> StoreResult<Option<SessionWithMember>> {
        static BY_TOKEN: OnceLock<String> = OnceLock::new();
        static BY_ID: OnceLock<String> = OnceLock::new();
        let (sql, value) = match key {
            SessionKey::TokenHash(h) => (
                sql_once(&BY_TOKEN, || session_with_member_sql("token_hash")),
                h.as_str(),
            ),
            SessionKey::Id(id) => (
                sql_once(&BY_ID, || session_with_member_sql("member_session_id")),
                id.as_str(),
            ),
        };
        self.opt::<SessionMemberRow>(sql, args![value, project_id])
            .await?
            .map(SessionWithMember::try_from)
            .transpose()
    }

    async fn live_sessions(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
        now: Timestamp,
    ) -> StoreResult<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM member_sessions WHERE member_id = $1 AND project_id = $2 AND expires_at > $3 \
             ORDER BY started_at, member_session_id"
        );
        let rows: Vec<SessionRow> = self.all(&sql, args![member_id, project_id, now.millis()]).await?;
        rows.into_iter().map(SessionRecord::try_from).collect()
    }

    async fn delete_session(&self, project_id: &ProjectId, session_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM member_sessions WHERE member_session_id = $1 AND project_id = $2",
                args![session_id, project_id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_member_sessions(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<u64> {
        self.exec(
            "DELETE FROM member_sessions WHERE member_id = $1 AND project_id = $2",
            args![member_id, project_id],
        )
        .await
    }

    async fn count_live_sessions(&self, now: Timestamp) -> StoreResult<i64> {
        self.count(
            "SELECT COUNT(*) FROM member_sessions WHERE expires_at > $1",
            args![now.millis()],
        )
        .await
    }
}
