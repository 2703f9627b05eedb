//! `CredentialStore`: passwords, reset tokens, TOTP registrations and recovery codes.

use crate::exec::{args, Arg};
use crate::rows::PasswordRow;
use crate::sealing::{RECOVERY_CODE, TOTP_SECRET};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::ids::{MemberId, ProjectId};
use latch_core::model::credentials::{PasswordRecord, RecoveryCodeRecord, ResetTokenRecord, TotpRecord};
use latch_core::model::member::MemberRecord;
use latch_core::store::{CredentialStore, StoreResult};

/// Statements that replace a member's recovery codes.
fn recovery_stmts(
    store: &SqlStore,
    project_id: &ProjectId,
    member_id: &MemberId,
    codes: &[RecoveryCodeRecord],
) -> Vec<(&'static str, Vec<Arg>)> {
    let mut out: Vec<(&'static str, Vec<Arg>)> = vec![(
        "DELETE FROM recovery_codes WHERE project_id = $1 AND member_id = $2",
        args![project_id, member_id],
    )];
    for c in codes {
        out.push((
            "INSERT INTO recovery_codes (code_id, project_id, member_id, code_hash, code_sealed, hint, used, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            args![
                &c.code_id,
                &c.project_id,
                &c.member_id,
                &c.code_hash,
                store.seal_opt(RECOVERY_CODE, &c.code_id, c.code.as_deref()),
                &c.hint,
                c.used,
                c.created_at.millis()
            ],
        ));
    }
    out
}

#[async_trait::async_trait]
impl CredentialStore for SqlStore {
    async fn save_password(&self, member: &mut MemberRecord, pw: &PasswordRecord) -> StoreResult<()> {
        // The member first, as the guard: a password for a member that changed since it was read
        // (its email, say, which ends the old password) is not stored.
        let guard = (
            "UPDATE members SET member_password_id = $4, email_verified = $5, updated_at = $6, version = version + 1 \
             WHERE project_id = $1 AND member_id = $2 AND version = $3",
            args![
                &member.project_id,
                &member.member_id,
                member.version,
                &member.member_password_id,
                member.email_verified,
                member.updated_at.millis()
            ],
        );
        self.tx_guarded(
            guard,
            vec![
                (
                    "DELETE FROM member_passwords WHERE project_id = $1 AND member_id = $2",
                    args![&pw.project_id, &pw.member_id],
                ),
                (
                    "INSERT INTO member_passwords (member_password_id, project_id, member_id, hash, require_reset, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    args![
                        &pw.member_password_id,
                        &pw.project_id,
                        &pw.member_id,
                        &pw.hash,
                        pw.require_reset,
                        pw.created_at.millis(),
                        pw.updated_at.millis()
                    ],
                ),
            ],
        )
        .await?;
        member.version += 1;
        Ok(())
    }

    async fn password_of(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<Option<PasswordRecord>> {
        let row: Option<PasswordRow> = self
            .opt(
                "SELECT member_password_id, project_id, member_id, hash, require_reset, created_at, updated_at \
                 FROM member_passwords WHERE member_id = $1 AND project_id = $2",
                args![member_id, project_id],
            )
            .await?;
        Ok(row.map(PasswordRecord::from))
    }

    async fn delete_password(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<()> {
        self.exec(
            "DELETE FROM member_passwords WHERE member_id = $1 AND project_id = $2",
            args![member_id, project_id],
        )
        .await
        .map(|_| ())
    }

    async fn require_password_reset(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE member_passwords SET require_reset = $3 WHERE member_id = $1 AND project_id = $2",
                args![member_id, project_id, true],
            )
            .await?;
        Ok(n > 0)
    }

    async fn insert_reset_token(&self, t: &ResetTokenRecord) -> StoreResult<()> {
        self.tx(vec![
            (
                "DELETE FROM password_reset_tokens WHERE project_id = $1 AND member_id = $2",
                args![&t.project_id, &t.member_id],
            ),
            (
                "INSERT INTO password_reset_tokens (token_hash, project_id, organization_id, member_id, email, code_challenge, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![
                    &t.token_hash,
                    &t.project_id,
                    &t.organization_id,
                    &t.member_id,
                    &t.email,
                    t.code_challenge.clone(),
                    t.created_at.millis(),
                    t.expires_at.millis()
                ],
            ),
        ])
        .await
    }

    async fn reset_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<Option<ResetTokenRecord>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            token_hash: String,
            project_id: String,
            organization_id: String,
            member_id: String,
            email: String,
            code_challenge: Option<String>,
            created_at: i64,
            expires_at: i64,
        }
        let row: Option<Row> = self
            .opt(
                "SELECT token_hash, project_id, organization_id, member_id, email, code_challenge, created_at, expires_at \
                 FROM password_reset_tokens WHERE token_hash = $1 AND project_id = $2",
                args![token_hash, project_id],
            )
            .await?;
        Ok(row.map(|r| ResetTokenRecord {
            token_hash: r.token_hash,
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            member_id: r.member_id.into(),
            email: r.email,
            code_challenge: r.code_challenge,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        }))
    }

    async fn take_reset_token(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM password_reset_tokens WHERE token_hash = $1 AND project_id = $2",
                args![token_hash, project_id],
            )
            .await?;
        Ok(n == 1)
    }

    async fn save_totp(&self, t: &TotpRecord, codes: &[RecoveryCodeRecord]) -> StoreResult<()> {
        let mut stmts = vec![
            (
                "DELETE FROM totp_registrations WHERE project_id = $1 AND member_id = $2",
                args![&t.project_id, &t.member_id],
            ),
            (
                "INSERT INTO totp_registrations (totp_id, project_id, member_id, secret, active, last_used_step, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![
                    &t.totp_id,
                    &t.project_id,
                    &t.member_id,
                    self.seal(TOTP_SECRET, &t.totp_id, &t.secret),
                    t.active,
                    t.last_used_step,
                    t.created_at.millis(),
                    t.expires_at.millis()
                ],
            ),
        ];
        stmts.extend(recovery_stmts(self, &t.project_id, &t.member_id, codes));
        self.tx(stmts).await
    }

    async fn totp_of(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<Option<TotpRecord>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            totp_id: String,
            project_id: String,
            member_id: String,
            secret: String,
            active: bool,
            last_used_step: i64,
            created_at: i64,
            expires_at: i64,
        }
        let row: Option<Row> = self
            .opt(
                "SELECT totp_id, project_id, member_id, secret, active, last_used_step, created_at, expires_at \
                 FROM totp_registrations WHERE member_id = $1 AND project_id = $2",
                args![member_id, project_id],
            )
            .await?;
        row.map(|r| {
            Ok(TotpRecord {
                secret: self.open(TOTP_SECRET, &r.totp_id, &r.secret)?,
                totp_id: r.totp_id,
                project_id: r.project_id.into(),
                member_id: r.member_id.into(),
                active: r.active,
                last_used_step: r.last_used_step,
                created_at: Timestamp(r.created_at),
                expires_at: Timestamp(r.expires_at),
            })
        })
        .transpose()
    }

    async fn use_totp_step(&self, project_id: &ProjectId, totp_id: &str, step: i64) -> StoreResult<bool> {
        // One conditional update: of two concurrent uses of the same code only one wins.
        let n = self
            .exec(
                "UPDATE totp_registrations SET last_used_step = $3, active = $4 \
                 WHERE project_id = $1 AND totp_id = $2 AND last_used_step < $3",
                args![project_id, totp_id, step, true],
            )
            .await?;
        Ok(n == 1)
    }

    async fn delete_totp(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<()> {
        self.tx(vec![
            (
                "DELETE FROM totp_registrations WHERE member_id = $1 AND project_id = $2",
                args![member_id, project_id],
            ),
            (
                "DELETE FROM recovery_codes WHERE member_id = $1 AND project_id = $2",
                args![member_id, project_id],
            ),
        ])
        .await
    }

    async fn recovery_codes(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
    ) -> StoreResult<Vec<RecoveryCodeRecord>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            code_id: String,
            project_id: String,
            member_id: String,
            code_hash: String,
            code_sealed: Option<String>,
            hint: String,
            used: bool,
            created_at: i64,
        }
        let rows: Vec<Row> = self
            .all(
                "SELECT code_id, project_id, member_id, code_hash, code_sealed, hint, used, created_at FROM recovery_codes \
                 WHERE member_id = $1 AND project_id = $2 ORDER BY code_id",
                args![member_id, project_id],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(RecoveryCodeRecord {
                    code: self.open_opt(RECOVERY_CODE, &r.code_id, r.code_sealed)?,
                    code_id: r.code_id,
                    project_id: r.project_id.into(),
                    member_id: r.member_id.into(),
                    code_hash: r.code_hash,
                    hint: r.hint,
                    used: r.used,
                    created_at: Timestamp(r.created_at),
                })
            })
            .collect()
    }

    async fn use_recovery_code(&self, project_id: &ProjectId, code_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE recovery_codes SET used = $3 WHERE project_id = $1 AND code_id = $2 AND used = $4",
                args![project_id, code_id, true, false],
            )
            .await?;
        Ok(n == 1)
    }

    async fn replace_recovery_codes(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
        codes: &[RecoveryCodeRecord],
    ) -> StoreResult<()> {
        self.tx(recovery_stmts(self, project_id, member_id, codes)).await
    }
}
