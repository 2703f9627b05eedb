//! `LinkStore`: magic links and pending email updates.

use crate::exec::args;
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::error::StoreError;
use latch_core::ids::{MemberId, OrganizationId, ProjectId};
use latch_core::model::links::{EmailUpdateRecord, LinkPurpose, MagicLinkRecord};
use latch_core::store::{LinkStore, StoreResult};

const LINK_COLUMNS: &str =
    "token_hash, project_id, purpose, organization_id, member_id, email, code_challenge, created_at, expires_at, used_at";

#[derive(sqlx::FromRow)]
struct LinkRow {
    token_hash: String,
    project_id: String,
    purpose: String,
    organization_id: Option<String>,
    member_id: Option<String>,
    email: String,
    code_challenge: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<LinkRow> for MagicLinkRecord {
    type Error = StoreError;

    fn try_from(r: LinkRow) -> Result<Self, StoreError> {
        let purpose = LinkPurpose::parse(&r.purpose)
            .ok_or_else(|| StoreError::Backend(format!("unknown magic link purpose '{}'", r.purpose)))?;
        Ok(MagicLinkRecord {
            token_hash: r.token_hash,
            project_id: r.project_id.into(),
            purpose,
            organization_id: r.organization_id.map(Into::into),
            member_id: r.member_id.map(Into::into),
            email: r.email,
            code_challenge: r.code_challenge,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
            used_at: r.used_at.map(Timestamp),
        })
    }
}

const UPDATE_COLUMNS: &str = "project_id, organization_id, member_id, new_email, created_at, expires_at";

#[derive(sqlx::FromRow)]
struct UpdateRow {
    project_id: String,
    organization_id: String,
    member_id: String,
    new_email: String,
    created_at: i64,
    expires_at: i64,
}

impl From<UpdateRow> for EmailUpdateRecord {
    fn from(r: UpdateRow) -> Self {
        EmailUpdateRecord {
            project_id: r.project_id.into(),
            organization_id: r.organization_id.into(),
            member_id: r.member_id.into(),
            new_email: r.new_email,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        }
    }
}

#[async_trait::async_trait]
impl LinkStore for SqlStore {
    async fn insert_magic_link(&self, l: &MagicLinkRecord, supersede: bool) -> StoreResult<()> {
        let insert = (
            "INSERT INTO magic_links (token_hash, project_id, purpose, organization_id, member_id, email, code_challenge, \
             created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            args![
                &l.token_hash,
                &l.project_id,
                l.purpose.as_str(),
                l.organization_id.clone(),
                l.member_id.clone(),
                &l.email,
                l.code_challenge.clone(),
                l.created_at.millis(),
                l.expires_at.millis(),
                l.used_at.map(|t| t.millis())
            ],
        );
        match (&l.member_id, supersede) {
            (Some(member_id), true) => {
                self.tx(vec![
                    (
                        "DELETE FROM magic_links WHERE project_id = $1 AND member_id = $2 AND purpose = $3 AND used_at IS NULL",
                        args![&l.project_id, member_id, l.purpose.as_str()],
                    ),
                    insert,
                ])
                .await
            }
            _ => self.tx(vec![insert]).await,
        }
    }

    async fn magic_link(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<Option<MagicLinkRecord>> {
        let row: Option<LinkRow> = self
            .opt(
                &format!("SELECT {LINK_COLUMNS} FROM magic_links WHERE token_hash = $1 AND project_id = $2"),
                args![token_hash, project_id],
            )
            .await?;
        row.map(MagicLinkRecord::try_from).transpose()
    }

    async fn use_magic_link(&self, project_id: &ProjectId, token_hash: &str, now: Timestamp) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE magic_links SET used_at = $3 \
                 WHERE token_hash = $1 AND project_id = $2 AND used_at IS NULL AND expires_at > $3",
                args![token_hash, project_id, now.millis()],
            )
            .await?;
        Ok(n == 1)
    }

    async fn unuse_magic_link(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE magic_links SET used_at = NULL WHERE token_hash = $1 AND project_id = $2",
            args![token_hash, project_id],
        )
        .await
        .map(|_| ())
    }

    async fn delete_member_magic_links(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<()> {
        self.exec(
            "DELETE FROM magic_links WHERE project_id = $1 AND member_id = $2",
            args![project_id, member_id],
        )
        .await
        .map(|_| ())
    }

    async fn delete_magic_link(&self, project_id: &ProjectId, token_hash: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM magic_links WHERE token_hash = $1 AND project_id = $2",
            args![token_hash, project_id],
        )
        .await
        .map(|_| ())
    }

    async fn save_email_update(&self, u: &EmailUpdateRecord) -> StoreResult<()> {
        self.tx(vec![
            (
                "DELETE FROM email_updates WHERE project_id = $1 AND member_id = $2",
                args![&u.project_id, &u.member_id],
            ),
            (
                "INSERT INTO email_updates (project_id, organization_id, member_id, new_email, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                args![
                    &u.project_id,
                    &u.organization_id,
                    &u.member_id,
                    &u.new_email,
                    u.created_at.millis(),
                    u.expires_at.millis()
                ],
            ),
        ])
        .await
    }

    async fn email_update_of(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
    ) -> StoreResult<Option<EmailUpdateRecord>> {
        let row: Option<UpdateRow> = self
            .opt(
                &format!("SELECT {UPDATE_COLUMNS} FROM email_updates WHERE project_id = $1 AND member_id = $2"),
                args![project_id, member_id],
            )
            .await?;
        Ok(row.map(EmailUpdateRecord::from))
    }

    async fn email_update_to(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        email: &str,
        now: Timestamp,
    ) -> StoreResult<Option<EmailUpdateRecord>> {
        let row: Option<UpdateRow> = self
            .opt(
                &format!(
                    "SELECT {UPDATE_COLUMNS} FROM email_updates \
                     WHERE project_id = $1 AND organization_id = $2 AND new_email = $3 AND expires_at > $4 LIMIT 1"
                ),
                args![project_id, organization_id, email, now.millis()],
            )
            .await?;
        Ok(row.map(EmailUpdateRecord::from))
    }

    async fn delete_email_update(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<()> {
        self.exec(
            "DELETE FROM email_updates WHERE project_id = $1 AND member_id = $2",
            args![project_id, member_id],
        )
        .await
        .map(|_| ())
    }
}
