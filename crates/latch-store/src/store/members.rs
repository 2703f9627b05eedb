//! `MemberStore`: members and their retired emails. Whole-member writes are optimistic on the
//! member's `version`; the lock is a targeted write that bumps it.

use super::{page_of, sql_once, Stmt};
use crate::exec::{args, Arg};
use crate::rows::{member_args, placeholders, MemberRow, RetiredRow, MEMBER_COLUMNS};
use crate::search::{member_where, paginate};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::ids::{MemberId, OrganizationId, ProjectId};
use latch_core::model::member::{MemberRecord, RetiredEmail};
use latch_core::model::search::{MemberFilter, Page, Query};
use latch_core::store::{Found, MemberStore, StoreResult};
use std::sync::OnceLock;

fn insert_member_sql() -> &'static str {
    static S: OnceLock<String> = OnceLock::new();
    sql_once(&S, || {
        format!("INSERT INTO members ({MEMBER_COLUMNS}) VALUES ({})", placeholders(25))
    })
}

pub(crate) fn select_member(where_: &str) -> String {
    format!("SELECT {MEMBER_COLUMNS} FROM members m {where_}")
}

pub(crate) fn members(rows: Vec<MemberRow>) -> StoreResult<Vec<MemberRecord>> {
    rows.into_iter().map(MemberRecord::try_from).collect()
}

/// The member's row written back if still at the version it was read at (the guard of the
/// transaction), then its previous email retired if given.
fn member_update(m: &MemberRecord, retire: Option<&RetiredEmail>) -> (Stmt, Vec<Stmt>) {
    let update = (
        "UPDATE members SET email = $4, status = $5, name = $6, external_id = $7, is_breakglass = $8, \
         email_verified = $9, mfa_enrolled = $10, mfa_phone_number = $11, mfa_phone_verified = $12, \
         default_mfa_method = $13, member_password_id = $14, totp_registration_id = $15, roles = $16, \
         trusted_metadata = $17, untrusted_metadata = $18, lock_created_at = $19, lock_expires_at = $20, \
         updated_at = $21, scim_roles = $22, sso_roles = $23, version = version + 1 \
         WHERE project_id = $1 AND member_id = $2 AND version = $3",
        args![
            &m.project_id,
            &m.member_id,
            m.version,
            &m.email,
            m.status.as_str(),
            &m.name,
            m.external_id.clone(),
            m.is_breakglass,
            m.email_verified,
            m.mfa_enrolled,
            &m.mfa_phone_number,
            m.mfa_phone_verified,
            &m.default_mfa_method,
            &m.member_password_id,
            &m.totp_registration_id,
            serde_json::to_string(&m.roles).unwrap_or_default(),
            m.trusted_metadata.to_string(),
            m.untrusted_metadata.to_string(),
            m.lock_created_at.map(Timestamp::millis),
            m.lock_expires_at.map(Timestamp::millis),
            m.updated_at.millis(),
            serde_json::to_string(&m.scim_roles).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(&m.sso_roles).unwrap_or_else(|_| "[]".into())
        ],
    );
    let mut rest = Vec::new();
    if let Some(r) = retire {
        rest.push((
            "INSERT INTO retired_emails (email_id, project_id, organization_id, member_id, email, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            args![
                &r.email_id,
                &m.project_id,
                &m.organization_id,
                &m.member_id,
                &r.email_address,
                m.updated_at.millis()
            ],
        ));
    }
    (update, rest)
}

impl SqlStore {
    async fn one_member(&self, where_: &str, a: Vec<Arg>) -> StoreResult<Option<MemberRecord>> {
        self.opt::<MemberRow>(&select_member(where_), a)
            .await?
            .map(MemberRecord::try_from)
            .transpose()
    }
}

#[async_trait::async_trait]
impl MemberStore for SqlStore {
    async fn insert_member(&self, m: &MemberRecord) -> StoreResult<()> {
        self.exec(insert_member_sql(), member_args(m)).await.map(|_| ())
    }

    async fn update_member(&self, m: &mut MemberRecord, retire: Option<&RetiredEmail>) -> StoreResult<()> {
        let (update, rest) = member_update(m, retire);
        self.tx_guarded(update, rest).await?;
        m.version += 1;
        Ok(())
    }

    async fn change_member_email(&self, m: &mut MemberRecord, retire: Option<&RetiredEmail>) -> StoreResult<()> {
        let (update, mut rest) = member_update(m, retire);
        // Everything that proved, or was sent to, the previous address ends with it.
        for sql in [
            "DELETE FROM member_sessions WHERE member_id = $1 AND project_id = $2",
            "DELETE FROM password_reset_tokens WHERE member_id = $1 AND project_id = $2",
            "DELETE FROM member_passwords WHERE member_id = $1 AND project_id = $2",
            "DELETE FROM magic_links WHERE member_id = $1 AND project_id = $2 AND used_at IS NULL",
            "DELETE FROM email_updates WHERE member_id = $1 AND project_id = $2",
        ] {
            rest.push((sql, args![&m.member_id, &m.project_id]));
        }
        self.tx_guarded(update, rest).await?;
        m.version += 1;
        Ok(())
    }

    async fn lock_member(
        &self,
        project_id: &ProjectId,
        member_id: &MemberId,
        locked_at: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE members SET lock_created_at = $3, lock_expires_at = $4, updated_at = $3, version = version + 1 \
                 WHERE project_id = $1 AND member_id = $2",
                args![project_id, member_id, locked_at.millis(), until.millis()],
            )
            .await?;
        Ok(n > 0)
    }

    async fn find_member(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        locator: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        // An external id may repeat between a deleted member and a live one: prefer the id, then live.
        self.one_member(
            "WHERE m.project_id = $1 AND m.organization_id = $2 AND (m.member_id = $3 OR m.external_id = $3) \
             ORDER BY CASE WHEN m.member_id = $3 THEN 0 WHEN m.status <> 'deleted' THEN 1 ELSE 2 END LIMIT 1",
            args![project_id, organization_id, locator],
        )
        .await
    }

    async fn member_by_id(&self, project_id: &ProjectId, member_id: &MemberId) -> StoreResult<Option<MemberRecord>> {
        self.one_member(
            "WHERE m.project_id = $1 AND m.member_id = $2",
            args![project_id, member_id],
        )
        .await
    }

    async fn member_by_email(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        email: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        self.one_member(
            "WHERE m.project_id = $1 AND m.organization_id = $2 AND m.email = $3 AND m.status <> 'deleted'",
            args![project_id, organization_id, email],
        )
        .await
    }

    async fn member_by_phone(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        phone: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        self.one_member(
            "WHERE m.project_id = $1 AND m.organization_id = $2 AND m.mfa_phone_number = $3 AND m.status <> 'deleted'",
            args![project_id, organization_id, phone],
        )
        .await
    }

    async fn member_by_external_id(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        external_id: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        self.one_member(
            "WHERE m.project_id = $1 AND m.organization_id = $2 AND m.external_id = $3 AND m.status <> 'deleted'",
            args![project_id, organization_id, external_id],
        )
        .await
    }

    async fn member_by_password_id(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        password_id: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        self.one_member(
            "WHERE m.project_id = $1 AND m.organization_id = $2 AND m.member_password_id = $3",
            args![project_id, organization_id, password_id],
        )
        .await
    }

    async fn members_with_email(&self, project_id: &ProjectId, email: &str) -> StoreResult<Vec<MemberRecord>> {
        members(
            self.all(
                &select_member(
                    "WHERE m.project_id = $1 AND m.email = $2 AND m.status <> 'deleted' ORDER BY m.created_at",
                ),
                args![project_id, email],
            )
            .await?,
        )
    }

    async fn count_members(&self, project_id: &ProjectId, organization_id: &OrganizationId) -> StoreResult<i64> {
        self.count(
            "SELECT COUNT(*) FROM members WHERE project_id = $1 AND organization_id = $2 AND status <> 'deleted'",
            args![project_id, organization_id],
        )
        .await
    }

    async fn search_members(
        &self,
        project_id: &ProjectId,
        organization_ids: &[OrganizationId],
        q: &Query<MemberFilter>,
        page: &Page,
    ) -> StoreResult<Found<MemberRecord>> {
        let counted = member_where(project_id, organization_ids, q);
        let total = self
            .count(
                &format!("SELECT COUNT(*) FROM members m {}", counted.text),
                counted.args,
            )
            .await?;
        let mut w = member_where(project_id, organization_ids, q);
        paginate(&mut w, "m", "member_id", page);
        let rows = members(self.all(&select_member(&w.text), w.args).await?)?;
        Ok(page_of(rows, total, page.limit))
    }

    async fn retired_emails(&self, project_id: &ProjectId, member_ids: &[MemberId]) -> StoreResult<Vec<RetiredEmail>> {
        if member_ids.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = crate::search::Sql::default();
        let p = sql.bind(project_id);
        let list = sql.list(member_ids);
        let text = format!(
            "SELECT email_id, member_id, email FROM retired_emails WHERE project_id = {p} AND member_id IN {list} ORDER BY created_at, email_id"
        );
        let rows: Vec<RetiredRow> = self.all(&text, sql.args).await?;
        Ok(rows.into_iter().map(RetiredEmail::from).collect())
    }

    async fn retired_email_owner(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        email: &str,
    ) -> StoreResult<Option<RetiredEmail>> {
        let row: Option<RetiredRow> = self
            .opt(
                "SELECT email_id, member_id, email FROM retired_emails WHERE project_id = $1 AND organization_id = $2 AND email = $3",
                args![project_id, organization_id, email],
            )
            .await?;
        Ok(row.map(RetiredEmail::from))
    }

    async fn delete_retired_email(&self, project_id: &ProjectId, email_id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM retired_emails WHERE project_id = $1 AND email_id = $2",
            args![project_id, email_id],
        )
        .await
        .map(|_| ())
    }
}
