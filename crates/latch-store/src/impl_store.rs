//! `Store` for `SqlStore`: the same SQL text on both engines.

use crate::exec::{args, Arg};
use crate::rows::*;
use crate::search::{member_where, org_where, paginate};
use crate::SqlStore;
use latch_core::clock::Timestamp;
use latch_core::delivery::StoredMessage;
use latch_core::model::credentials::{
    IntermediateRecord, OtpRecord, PasswordRecord, RecoveryCodeRecord, ResetTokenRecord, TotpRecord,
};
use latch_core::model::member::{MemberRecord, RetiredEmail};
use latch_core::model::organization::OrgRecord;
use latch_core::model::project::Project;
use latch_core::model::search::{MemberFilter, OrgFilter, Page, Query};
use latch_core::model::session::{SessionKey, SessionRecord, SessionWithMember};
use latch_core::rbac::PolicyRole;
use latch_core::store::{Expiring, Found, Store, StoreResult};
use latch_core::token::keyring::SigningKeyRecord;
use latch_core::StoreError;
use std::sync::OnceLock;

/// Revoking a key wipes its private half: it must never sign or verify again, so nothing needs it.
/// It counts as retired too, so a project whose keys are all revoked gets a new one.
const REVOKE_KEYS: &str = "UPDATE signing_keys SET revoked_at = $3, retired_at = COALESCE(retired_at, $3), \
     private_pkcs8 = '' WHERE project_id = $1 AND revoked_at IS NULL";

fn sql_once(cell: &'static OnceLock<String>, build: impl FnOnce() -> String) -> &'static str {
    cell.get_or_init(build).as_str()
}

fn insert_org_sql() -> &'static str {
    static S: OnceLock<String> = OnceLock::new();
    sql_once(&S, || {
        format!(
            "INSERT INTO organizations ({ORG_COLUMNS}) VALUES ({})",
            placeholders(10)
        )
    })
}

fn insert_member_sql() -> &'static str {
    static S: OnceLock<String> = OnceLock::new();
    sql_once(&S, || {
        format!("INSERT INTO members ({MEMBER_COLUMNS}) VALUES ({})", placeholders(22))
    })
}

fn select_org(where_: &str) -> String {
    format!("SELECT {ORG_COLUMNS} FROM organizations o {where_}")
}

fn select_member(where_: &str) -> String {
    format!("SELECT {MEMBER_COLUMNS} FROM members m {where_}")
}

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

/// Statements that replace an organization's domain rows.
fn domain_stmts(o: &OrgRecord) -> Vec<(&'static str, Vec<Arg>)> {
    let mut out: Vec<(&'static str, Vec<Arg>)> = vec![(
        "DELETE FROM organization_domains WHERE organization_id = $1",
        args![&o.organization_id],
    )];
    let kinds = [
        ("allowed", &o.settings.email_allowed_domains),
        ("claimed", &o.settings.claimed_email_domains),
    ];
    for (kind, domains) in kinds {
        for d in domains {
            out.push((
                "INSERT INTO organization_domains (organization_id, kind, domain) VALUES ($1, $2, $3)",
                args![&o.organization_id, kind, d],
            ));
        }
    }
    out
}

/// Statements that replace an organization's locators (id, slug, external id). The table's
/// primary key makes them unique per project across all three kinds, inside the write's own
/// transaction: a concurrent write that would shadow another organization fails there.
fn locator_stmts(o: &OrgRecord) -> Vec<(&'static str, Vec<Arg>)> {
    let mut out: Vec<(&'static str, Vec<Arg>)> = vec![(
        "DELETE FROM organization_locators WHERE organization_id = $1",
        args![&o.organization_id],
    )];
    let mut seen: Vec<&str> = Vec::new();
    for l in [
        Some(o.organization_id.as_str()),
        Some(o.slug.as_str()),
        o.external_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        // An organization may use one string for several of its own locators.
        if !l.is_empty() && !seen.contains(&l) {
            seen.push(l);
            out.push((
                "INSERT INTO organization_locators (project_id, locator, organization_id) VALUES ($1, $2, $3)",
                args![&o.project_id, l, &o.organization_id],
            ));
        }
    }
    out
}

/// Statements that replace a member's recovery codes.
fn recovery_stmts(member_id: &str, codes: &[RecoveryCodeRecord]) -> Vec<(&'static str, Vec<Arg>)> {
    let mut out: Vec<(&'static str, Vec<Arg>)> =
        vec![("DELETE FROM recovery_codes WHERE member_id = $1", args![member_id])];
    for c in codes {
        out.push((
            "INSERT INTO recovery_codes (code_id, project_id, member_id, code_hash, hint, used, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![&c.code_id, &c.project_id, &c.member_id, &c.code_hash, &c.hint, c.used, c.created_at.millis()],
        ));
    }
    out
}

fn orgs(rows: Vec<OrgRow>) -> StoreResult<Vec<OrgRecord>> {
    rows.into_iter().map(OrgRecord::try_from).collect()
}

fn members(rows: Vec<MemberRow>) -> StoreResult<Vec<MemberRecord>> {
    rows.into_iter().map(MemberRecord::try_from).collect()
}

fn page_of<T>(mut items: Vec<T>, total: i64, limit: u32) -> Found<T> {
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    Found { items, total, has_more }
}

impl SqlStore {
    async fn one_member(&self, where_: &str, a: Vec<Arg>) -> StoreResult<Option<MemberRecord>> {
        self.opt::<MemberRow>(&select_member(where_), a)
            .await?
            .map(MemberRecord::try_from)
            .transpose()
    }
    async fn one_org(&self, where_: &str, a: Vec<Arg>) -> StoreResult<Option<OrgRecord>> {
        self.opt::<OrgRow>(&select_org(where_), a)
            .await?
            .map(OrgRecord::try_from)
            .transpose()
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    fn writes_seen(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.count("SELECT CAST(1 AS BIGINT)", vec![]).await.map(|_| ())
    }

    async fn purge_expired(&self, kind: Expiring, now: Timestamp, batch: u32) -> StoreResult<u64> {
        let table = kind.name();
        let (key, at) = match kind {
            Expiring::MemberSessions => ("member_session_id", "expires_at"),
            Expiring::IntermediateSessions => ("ist_id", "expires_at"),
            Expiring::OtpCodes => ("otp_id", "expires_at"),
            Expiring::PasswordResetTokens => ("token_hash", "expires_at"),
            Expiring::OutboxMessages => ("seq", "created_at"),
        };
        // The inner SELECT walks the expiry index; LIMIT in a subquery works on both engines.
        let sql = format!("DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {at} <= $1 LIMIT $2)");
        self.exec(&sql, args![now.millis(), i64::from(batch)]).await
    }

    async fn insert_project(&self, p: &Project) -> StoreResult<()> {
        self.exec(
            "INSERT INTO projects (project_id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4)",
            args![&p.project_id, &p.name, &p.secret_hash, p.created_at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn get_project(&self, project_id: &str) -> StoreResult<Option<Project>> {
        let row: Option<ProjectRow> = self
            .opt(
                "SELECT project_id, name, secret_hash, created_at FROM projects WHERE project_id = $1",
                args![project_id],
            )
            .await?;
        Ok(row.map(Project::from))
    }

    async fn set_project_secret(&self, project_id: &str, secret_hash: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE projects SET secret_hash = $2 WHERE project_id = $1",
            args![project_id, secret_hash],
        )
        .await
        .map(|_| ())
    }

    async fn count_projects(&self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM projects", vec![]).await
    }

    async fn insert_org(&self, o: &OrgRecord) -> StoreResult<()> {
        let mut stmts = vec![(insert_org_sql(), org_args(o))];
        stmts.extend(domain_stmts(o));
        stmts.extend(locator_stmts(o));
        self.tx(stmts).await
    }

    async fn update_org(&self, o: &OrgRecord) -> StoreResult<()> {
        let update = "UPDATE organizations SET name = $3, slug = $4, logo_url = $5, external_id = $6, \
             trusted_metadata = $7, settings = $8, updated_at = $10 WHERE organization_id = $1 AND project_id = $2 \
             AND created_at = $9";
        let mut stmts = vec![(update, org_args(o))];
        stmts.extend(domain_stmts(o));
        stmts.extend(locator_stmts(o));
        self.tx(stmts).await
    }

    async fn delete_org(&self, project_id: &str, organization_id: &str) -> StoreResult<()> {
        // Children go by ON DELETE CASCADE on both engines.
        self.exec(
            "DELETE FROM organizations WHERE project_id = $1 AND organization_id = $2",
            args![project_id, organization_id],
        )
        .await
        .map(|_| ())
    }

    async fn find_org(&self, project_id: &str, locator: &str) -> StoreResult<Option<OrgRecord>> {
        // organization_locators keeps ids, slugs and external ids from colliding; should rows from
        // before it collide, the id wins, then the slug, then the external id, then the oldest.
        self.one_org(
            "WHERE o.project_id = $1 AND (o.organization_id = $2 OR o.slug = $2 OR o.external_id = $2) \
             ORDER BY CASE WHEN o.organization_id = $2 THEN 0 WHEN o.slug = $2 THEN 1 ELSE 2 END, \
             o.created_at, o.organization_id LIMIT 1",
            args![project_id, locator],
        )
        .await
    }

    async fn orgs_by_locator(&self, project_id: &str, locator: &str) -> StoreResult<Vec<OrgRecord>> {
        self.all::<OrgRow>(
            &select_org(
                "WHERE o.project_id = $1 AND (o.organization_id = $2 OR o.slug = $2 OR o.external_id = $2) \
                 ORDER BY o.created_at, o.organization_id",
            ),
            args![project_id, locator],
        )
        .await?
        .into_iter()
        .map(OrgRecord::try_from)
        .collect()
    }

    async fn org_by_slug(&self, project_id: &str, slug: &str) -> StoreResult<Option<OrgRecord>> {
        self.one_org("WHERE o.project_id = $1 AND o.slug = $2", args![project_id, slug])
            .await
    }

    async fn org_by_external_id(&self, project_id: &str, external_id: &str) -> StoreResult<Option<OrgRecord>> {
        self.one_org(
            "WHERE o.project_id = $1 AND o.external_id = $2",
            args![project_id, external_id],
        )
        .await
    }

    async fn orgs_by_ids(&self, project_id: &str, ids: &[String]) -> StoreResult<Vec<OrgRecord>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let q = Query {
            operator: latch_core::model::search::Operator::And,
            filters: vec![OrgFilter::Ids(ids.to_vec())],
        };
        let w = org_where(project_id, &q);
        orgs(self.all(&select_org(&w.text), w.args).await?)
    }

    async fn search_orgs(&self, project_id: &str, q: &Query<OrgFilter>, page: &Page) -> StoreResult<Found<OrgRecord>> {
        let counted = org_where(project_id, q);
        let total = self
            .count(
                &format!("SELECT COUNT(*) FROM organizations o {}", counted.text),
                counted.args,
            )
            .await?;
        let mut w = org_where(project_id, q);
        paginate(&mut w, "o", "organization_id", page);
        let rows = orgs(self.all(&select_org(&w.text), w.args).await?)?;
        Ok(page_of(rows, total, page.limit))
    }

    async fn insert_member(&self, m: &MemberRecord) -> StoreResult<()> {
        self.exec(insert_member_sql(), member_args(m)).await.map(|_| ())
    }

    async fn update_member(&self, m: &MemberRecord, retire: Option<&RetiredEmail>) -> StoreResult<()> {
        self.tx(member_update(m, retire)).await
    }

    async fn change_member_email(&self, m: &MemberRecord, retire: Option<&RetiredEmail>) -> StoreResult<()> {
        let mut stmts = member_update(m, retire);
        // Everything that proved, or was sent to, the previous address ends with it.
        for sql in [
            "DELETE FROM member_sessions WHERE member_id = $1 AND project_id = $2",
            "DELETE FROM password_reset_tokens WHERE member_id = $1 AND project_id = $2",
            "DELETE FROM member_passwords WHERE member_id = $1 AND project_id = $2",
        ] {
            stmts.push((sql, args![&m.member_id, &m.project_id]));
        }
        self.tx(stmts).await
    }

    async fn find_member(
        &self,
        project_id: &str,
        organization_id: &str,
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

    async fn member_by_id(&self, project_id: &str, member_id: &str) -> StoreResult<Option<MemberRecord>> {
        self.one_member(
            "WHERE m.project_id = $1 AND m.member_id = $2",
            args![project_id, member_id],
        )
        .await
    }

    async fn member_by_email(
        &self,
        project_id: &str,
        organization_id: &str,
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
        project_id: &str,
        organization_id: &str,
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
        project_id: &str,
        organization_id: &str,
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
        project_id: &str,
        organization_id: &str,
        password_id: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        self.one_member(
            "WHERE m.project_id = $1 AND m.organization_id = $2 AND m.member_password_id = $3",
            args![project_id, organization_id, password_id],
        )
        .await
    }

    async fn count_members(&self, project_id: &str, organization_id: &str) -> StoreResult<i64> {
        self.count(
            "SELECT COUNT(*) FROM members WHERE project_id = $1 AND organization_id = $2 AND status <> 'deleted'",
            args![project_id, organization_id],
        )
        .await
    }

    async fn search_members(
        &self,
        project_id: &str,
        organization_ids: &[String],
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

    async fn retired_emails(&self, project_id: &str, member_ids: &[String]) -> StoreResult<Vec<RetiredEmail>> {
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
        project_id: &str,
        organization_id: &str,
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

    async fn delete_retired_email(&self, project_id: &str, email_id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM retired_emails WHERE project_id = $1 AND email_id = $2",
            args![project_id, email_id],
        )
        .await
        .map(|_| ())
    }

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

    async fn update_session(&self, session: &SessionRecord) -> StoreResult<()> {
        self.exec(
            "UPDATE member_sessions SET last_accessed_at = $7, expires_at = $8, factors = $9, custom_claims = $10 \
             WHERE member_session_id = $1 AND project_id = $2 AND organization_id = $3 AND member_id = $4 \
             AND token_hash = $5 AND started_at = $6",
            session_args(session),
        )
        .await
        .map(|_| ())
    }

    async fn session_by_token_hash(&self, project_id: &str, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM member_sessions WHERE token_hash = $1 AND project_id = $2");
        self.opt::<SessionRow>(&sql, args![token_hash, project_id])
            .await?
            .map(SessionRecord::try_from)
            .transpose()
    }

    async fn session_with_member(&self, project_id: &str, key: &SessionKey) -> StoreResult<Option<SessionWithMember>> {
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

    async fn session_by_id(&self, project_id: &str, session_id: &str) -> StoreResult<Option<SessionRecord>> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM member_sessions WHERE member_session_id = $1 AND project_id = $2");
        self.opt::<SessionRow>(&sql, args![session_id, project_id])
            .await?
            .map(SessionRecord::try_from)
            .transpose()
    }

    async fn live_sessions(
        &self,
        project_id: &str,
        member_id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM member_sessions WHERE member_id = $1 AND project_id = $2 AND expires_at > $3 \
             ORDER BY started_at, member_session_id"
        );
        let rows: Vec<SessionRow> = self.all(&sql, args![member_id, project_id, now.millis()]).await?;
        rows.into_iter().map(SessionRecord::try_from).collect()
    }

    async fn delete_session(&self, project_id: &str, session_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM member_sessions WHERE member_session_id = $1 AND project_id = $2",
                args![session_id, project_id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_member_sessions(&self, project_id: &str, member_id: &str) -> StoreResult<u64> {
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

    async fn org_roles(&self, organization_id: &str) -> StoreResult<Vec<PolicyRole>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            roles: String,
        }
        let row: Option<Row> = self
            .opt(
                "SELECT roles FROM org_policies WHERE organization_id = $1",
                args![organization_id],
            )
            .await?;
        match row {
            None => Ok(vec![]),
            Some(r) => {
                serde_json::from_str(&r.roles).map_err(|e| StoreError::Backend(format!("corrupt org policy: {e}")))
            }
        }
    }

    async fn set_org_roles(&self, organization_id: &str, roles: &[PolicyRole]) -> StoreResult<()> {
        let json = serde_json::to_string(roles).unwrap_or_else(|_| "[]".into());
        self.tx(vec![
            (
                "DELETE FROM org_policies WHERE organization_id = $1",
                args![organization_id],
            ),
            (
                "INSERT INTO org_policies (organization_id, roles) VALUES ($1, $2)",
                args![organization_id, json],
            ),
        ])
        .await
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        self.exec(
            "INSERT INTO signing_keys (kid, project_id, private_pkcs8, created_at, retired_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
            args![
                &key.kid,
                &key.project_id,
                key.private_pkcs8.as_str(),
                key.created_at.millis(),
                key.retired_at.map(Timestamp::millis),
                key.revoked_at.map(Timestamp::millis)
            ],
        )
        .await
        .map(|_| ())
    }

    async fn signing_keys(&self, project_id: &str) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows: Vec<SigningKeyRow> = self
            .all(
                "SELECT kid, project_id, private_pkcs8, created_at, retired_at, revoked_at FROM signing_keys WHERE project_id = $1",
                args![project_id],
            )
            .await?;
        Ok(rows.into_iter().map(SigningKeyRecord::from).collect())
    }

    async fn retire_signing_keys(&self, project_id: &str, keep_kid: &str, at: Timestamp) -> StoreResult<()> {
        self.exec(
            "UPDATE signing_keys SET retired_at = $3 WHERE project_id = $1 AND kid <> $2 AND retired_at IS NULL",
            args![project_id, keep_kid, at.millis()],
        )
        .await
        .map(|_| ())
    }

    async fn revoke_signing_key(&self, project_id: &str, kid: &str, at: Timestamp) -> StoreResult<bool> {
        let sql = format!("{REVOKE_KEYS} AND kid = $2");
        Ok(self.exec(&sql, args![project_id, kid, at.millis()]).await? > 0)
    }

    async fn revoke_signing_keys_except(&self, project_id: &str, keep_kid: &str, at: Timestamp) -> StoreResult<u64> {
        let sql = format!("{REVOKE_KEYS} AND kid <> $2");
        self.exec(&sql, args![project_id, keep_kid, at.millis()]).await
    }

    async fn revoked_signing_keys(&self) -> StoreResult<Vec<(String, String)>> {
        let rows: Vec<RevokedKeyRow> = self
            .all(
                "SELECT project_id, kid FROM signing_keys WHERE revoked_at IS NOT NULL",
                args![],
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.project_id, r.kid)).collect())
    }

    async fn save_password(&self, member: &MemberRecord, pw: &PasswordRecord) -> StoreResult<()> {
        let update_member = "UPDATE members SET member_password_id = $2, email_verified = $3, updated_at = $4 \
             WHERE member_id = $1";
        self.tx(vec![
            ("DELETE FROM member_passwords WHERE member_id = $1", args![&pw.member_id]),
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
            (update_member, args![&member.member_id, &member.member_password_id, member.email_verified, member.updated_at.millis()]),
        ])
        .await
    }

    async fn password_of(&self, project_id: &str, member_id: &str) -> StoreResult<Option<PasswordRecord>> {
        let row: Option<PasswordRow> = self
            .opt(
                "SELECT member_password_id, project_id, member_id, hash, require_reset, created_at, updated_at \
                 FROM member_passwords WHERE member_id = $1 AND project_id = $2",
                args![member_id, project_id],
            )
            .await?;
        Ok(row.map(PasswordRecord::from))
    }

    async fn delete_password(&self, project_id: &str, member_id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM member_passwords WHERE member_id = $1 AND project_id = $2",
            args![member_id, project_id],
        )
        .await
        .map(|_| ())
    }

    async fn insert_reset_token(&self, t: &ResetTokenRecord) -> StoreResult<()> {
        self.tx(vec![
            ("DELETE FROM password_reset_tokens WHERE member_id = $1", args![&t.member_id]),
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

    async fn reset_token(&self, project_id: &str, token_hash: &str) -> StoreResult<Option<ResetTokenRecord>> {
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
            project_id: r.project_id,
            organization_id: r.organization_id,
            member_id: r.member_id,
            email: r.email,
            code_challenge: r.code_challenge,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        }))
    }

    async fn take_reset_token(&self, project_id: &str, token_hash: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM password_reset_tokens WHERE token_hash = $1 AND project_id = $2",
                args![token_hash, project_id],
            )
            .await?;
        Ok(n == 1)
    }

    async fn members_with_email(&self, project_id: &str, email: &str) -> StoreResult<Vec<MemberRecord>> {
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

    async fn require_password_reset(&self, project_id: &str, member_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE member_passwords SET require_reset = $3 WHERE member_id = $1 AND project_id = $2",
                args![member_id, project_id, true],
            )
            .await?;
        Ok(n > 0)
    }

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
        project_id: &str,
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
            project_id: r.project_id,
            scope: r.scope,
            channel: r.channel,
            recipient: r.recipient,
            member_id: r.member_id,
            code_hash: r.code_hash,
            salt: r.salt,
            attempts: r.attempts,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
            superseded: serde_json::from_str(&r.superseded).unwrap_or_default(),
        }))
    }

    async fn otp_attempt(&self, otp_id: &str, max: i64) -> StoreResult<Option<i64>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            attempts: i64,
        }
        // One conditional statement: concurrent guesses each take a distinct attempt, and none
        // past `max`.
        let row: Option<Row> = self
            .opt(
                "UPDATE otp_codes SET attempts = attempts + 1 WHERE otp_id = $1 AND attempts < $2 RETURNING attempts",
                args![otp_id, max],
            )
            .await?;
        Ok(row.map(|r| r.attempts))
    }

    async fn delete_otp(&self, otp_id: &str) -> StoreResult<bool> {
        Ok(self
            .exec("DELETE FROM otp_codes WHERE otp_id = $1", args![otp_id])
            .await?
            == 1)
    }

    async fn save_totp(&self, t: &TotpRecord, codes: &[RecoveryCodeRecord]) -> StoreResult<()> {
        let mut stmts = vec![
            ("DELETE FROM totp_registrations WHERE member_id = $1", args![&t.member_id]),
            (
                "INSERT INTO totp_registrations (totp_id, project_id, member_id, secret, active, last_used_step, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![&t.totp_id, &t.project_id, &t.member_id, &t.secret, t.active, t.last_used_step, t.created_at.millis(), t.expires_at.millis()],
            ),
        ];
        stmts.extend(recovery_stmts(&t.member_id, codes));
        self.tx(stmts).await
    }

    async fn totp_of(&self, project_id: &str, member_id: &str) -> StoreResult<Option<TotpRecord>> {
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
        Ok(row.map(|r| TotpRecord {
            totp_id: r.totp_id,
            project_id: r.project_id,
            member_id: r.member_id,
            secret: r.secret,
            active: r.active,
            last_used_step: r.last_used_step,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
        }))
    }

    async fn use_totp_step(&self, totp_id: &str, step: i64) -> StoreResult<bool> {
        // One conditional update: of two concurrent uses of the same code only one wins.
        let n = self
            .exec(
                "UPDATE totp_registrations SET last_used_step = $2, active = $3 WHERE totp_id = $1 AND last_used_step < $2",
                args![totp_id, step, true],
            )
            .await?;
        Ok(n == 1)
    }

    async fn delete_totp(&self, project_id: &str, member_id: &str) -> StoreResult<()> {
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

    async fn recovery_codes(&self, project_id: &str, member_id: &str) -> StoreResult<Vec<RecoveryCodeRecord>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            code_id: String,
            project_id: String,
            member_id: String,
            code_hash: String,
            hint: String,
            used: bool,
            created_at: i64,
        }
        let rows: Vec<Row> = self
            .all(
                "SELECT code_id, project_id, member_id, code_hash, hint, used, created_at FROM recovery_codes \
                 WHERE member_id = $1 AND project_id = $2 ORDER BY code_id",
                args![member_id, project_id],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| RecoveryCodeRecord {
                code_id: r.code_id,
                project_id: r.project_id,
                member_id: r.member_id,
                code_hash: r.code_hash,
                hint: r.hint,
                used: r.used,
                created_at: Timestamp(r.created_at),
            })
            .collect())
    }

    async fn use_recovery_code(&self, code_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE recovery_codes SET used = $2 WHERE code_id = $1 AND used = $3",
                args![code_id, true, false],
            )
            .await?;
        Ok(n == 1)
    }

    async fn replace_recovery_codes(
        &self,
        _project_id: &str,
        member_id: &str,
        codes: &[RecoveryCodeRecord],
    ) -> StoreResult<()> {
        self.tx(recovery_stmts(member_id, codes)).await
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
            "UPDATE intermediate_sessions SET organization_id = $4, member_id = $5, email = $6, factors = $7, expires_at = $9 \
             WHERE ist_id = $1 AND project_id = $2 AND token_hash = $3 AND created_at = $8",
            ist_args(ist),
        )
        .await
        .map(|_| ())
    }

    async fn intermediate_by_token_hash(
        &self,
        project_id: &str,
        token_hash: &str,
    ) -> StoreResult<Option<IntermediateRecord>> {
        let sql = format!("SELECT {IST_COLUMNS} FROM intermediate_sessions WHERE token_hash = $1 AND project_id = $2");
        self.opt::<IntermediateRow>(&sql, args![token_hash, project_id])
            .await?
            .map(IntermediateRecord::try_from)
            .transpose()
    }

    async fn delete_intermediate(&self, project_id: &str, ist_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM intermediate_sessions WHERE ist_id = $1 AND project_id = $2",
                args![ist_id, project_id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn bump_attempts(&self, scope: &str, key: &str, window_start: Timestamp, now: Timestamp) -> StoreResult<i64> {
        // One statement on both engines: a stale window restarts at one, a live one counts up.
        self.count(
            "INSERT INTO attempt_counters (scope, counter_key, window_start, attempts) VALUES ($1, $2, $4, 1) \
             ON CONFLICT (scope, counter_key) DO UPDATE SET \
               attempts = CASE WHEN attempt_counters.window_start < $3 THEN 1 ELSE attempt_counters.attempts + 1 END, \
               window_start = CASE WHEN attempt_counters.window_start < $3 THEN $4 ELSE attempt_counters.window_start END \
             RETURNING attempts",
            args![scope, key, window_start.millis(), now.millis()],
        )
        .await
    }

    async fn attempts(&self, scope: &str, key: &str, window_start: Timestamp) -> StoreResult<i64> {
        self.count(
            "SELECT COALESCE(MAX(attempts), 0) FROM attempt_counters WHERE scope = $1 AND counter_key = $2 AND window_start >= $3",
            args![scope, key, window_start.millis()],
        )
        .await
    }

    async fn clear_attempts(&self, scope: &str, key: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM attempt_counters WHERE scope = $1 AND counter_key = $2",
            args![scope, key],
        )
        .await
        .map(|_| ())
    }

    async fn refund_attempt(&self, scope: &str, key: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE attempt_counters SET attempts = attempts - 1 WHERE scope = $1 AND counter_key = $2 AND attempts > 0",
            args![scope, key],
        )
        .await
        .map(|_| ())
    }

    async fn counter_window(&self, scope: &str, key: &str) -> StoreResult<Option<Timestamp>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            window_start: i64,
        }
        let row: Option<Row> = self
            .opt(
                "SELECT window_start FROM attempt_counters WHERE scope = $1 AND counter_key = $2",
                args![scope, key],
            )
            .await?;
        Ok(row.map(|r| Timestamp(r.window_start)))
    }

    async fn insert_message(&self, m: &StoredMessage) -> StoreResult<()> {
        static S: OnceLock<String> = OnceLock::new();
        let sql = sql_once(&S, || {
            format!(
                "INSERT INTO outbox_messages ({MESSAGE_COLUMNS}) VALUES ({})",
                placeholders(13)
            )
        });
        self.exec(sql, message_args(m)).await.map(|_| ())
    }

    async fn list_messages(
        &self,
        project_id: &str,
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
        rows.into_iter().map(StoredMessage::try_from).collect()
    }
}

/// The member's row written back, and its previous email retired if given.
fn member_update(m: &MemberRecord, retire: Option<&RetiredEmail>) -> Vec<(&'static str, Vec<Arg>)> {
    let update = "UPDATE members SET email = $4, status = $5, name = $6, external_id = $7, is_breakglass = $8, \
         email_verified = $9, mfa_enrolled = $10, mfa_phone_number = $11, mfa_phone_verified = $12, \
         default_mfa_method = $13, member_password_id = $14, totp_registration_id = $15, roles = $16, \
         trusted_metadata = $17, untrusted_metadata = $18, lock_created_at = $19, lock_expires_at = $20, \
         updated_at = $22 WHERE member_id = $1 AND project_id = $2 AND organization_id = $3 AND created_at = $21";
    let mut stmts = vec![(update, member_args(m))];
    if let Some(r) = retire {
        stmts.push((
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
    stmts
}
