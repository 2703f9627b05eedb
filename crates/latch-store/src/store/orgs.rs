//! `OrgStore`: organizations with their domain and locator rows, and their RBAC roles.

use super::{page_of, sql_once};
use crate::exec::{args, Arg};
use crate::rows::{org_args, placeholders, OrgRow, ORG_COLUMNS};
use crate::search::{org_where, paginate};
use crate::SqlStore;
use latch_core::ids::{OrganizationId, ProjectId};
use latch_core::model::organization::OrgRecord;
use latch_core::model::search::{OrgFilter, Page, Query};
use latch_core::rbac::PolicyRole;
use latch_core::store::{Found, OrgStore, StoreResult};
use latch_core::StoreError;
use std::sync::OnceLock;

fn insert_org_sql() -> &'static str {
    static S: OnceLock<String> = OnceLock::new();
    sql_once(&S, || {
        format!(
            "INSERT INTO organizations ({ORG_COLUMNS}) VALUES ({})",
            placeholders(11)
        )
    })
}

fn select_org(where_: &str) -> String {
    format!("SELECT {ORG_COLUMNS} FROM organizations o {where_}")
}

fn orgs(rows: Vec<OrgRow>) -> StoreResult<Vec<OrgRecord>> {
    rows.into_iter().map(OrgRecord::try_from).collect()
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
        "DELETE FROM organization_locators WHERE project_id = $1 AND organization_id = $2",
        args![&o.project_id, &o.organization_id],
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

/// The organization of `organization_id`, if it is in project `$1`: org_policies has no
/// project column, so its rows are scoped through their organization.
const ORG_IN_PROJECT: &str = "SELECT 1 FROM organizations o WHERE o.project_id = $1 AND o.organization_id = $2";

impl SqlStore {
    async fn one_org(&self, where_: &str, a: Vec<Arg>) -> StoreResult<Option<OrgRecord>> {
        self.opt::<OrgRow>(&select_org(where_), a)
            .await?
            .map(OrgRecord::try_from)
            .transpose()
    }
}

#[async_trait::async_trait]
impl OrgStore for SqlStore {
    async fn insert_org(&self, o: &OrgRecord) -> StoreResult<()> {
        let mut stmts = vec![(insert_org_sql(), org_args(o))];
        stmts.extend(domain_stmts(o));
        stmts.extend(locator_stmts(o));
        self.tx(stmts).await
    }

    async fn update_org(&self, o: &mut OrgRecord) -> StoreResult<()> {
        let update = (
            "UPDATE organizations SET name = $4, slug = $5, logo_url = $6, external_id = $7, trusted_metadata = $8, \
             settings = $9, updated_at = $10, version = version + 1 \
             WHERE project_id = $1 AND organization_id = $2 AND version = $3",
            args![
                &o.project_id,
                &o.organization_id,
                o.version,
                &o.name,
                &o.slug,
                &o.logo_url,
                o.external_id.clone(),
                o.trusted_metadata.to_string(),
                serde_json::to_string(&o.settings).unwrap_or_default(),
                o.updated_at.millis()
            ],
        );
        let mut rest = domain_stmts(o);
        rest.extend(locator_stmts(o));
        self.tx_guarded(update, rest).await?;
        o.version += 1;
        Ok(())
    }

    async fn delete_org(&self, project_id: &ProjectId, organization_id: &OrganizationId) -> StoreResult<()> {
        // Children go by ON DELETE CASCADE on both engines.
        self.exec(
            "DELETE FROM organizations WHERE project_id = $1 AND organization_id = $2",
            args![project_id, organization_id],
        )
        .await
        .map(|_| ())
    }

    async fn find_org(&self, project_id: &ProjectId, locator: &str) -> StoreResult<Option<OrgRecord>> {
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

    async fn orgs_by_locator(&self, project_id: &ProjectId, locator: &str) -> StoreResult<Vec<OrgRecord>> {
        orgs(
            self.all::<OrgRow>(
                &select_org(
                    "WHERE o.project_id = $1 AND (o.organization_id = $2 OR o.slug = $2 OR o.external_id = $2) \
                     ORDER BY o.created_at, o.organization_id",
                ),
                args![project_id, locator],
            )
            .await?,
        )
    }

    async fn org_by_slug(&self, project_id: &ProjectId, slug: &str) -> StoreResult<Option<OrgRecord>> {
        self.one_org("WHERE o.project_id = $1 AND o.slug = $2", args![project_id, slug])
            .await
    }

    async fn org_by_external_id(&self, project_id: &ProjectId, external_id: &str) -> StoreResult<Option<OrgRecord>> {
        self.one_org(
            "WHERE o.project_id = $1 AND o.external_id = $2",
            args![project_id, external_id],
        )
        .await
    }

    async fn orgs_by_ids(&self, project_id: &ProjectId, ids: &[OrganizationId]) -> StoreResult<Vec<OrgRecord>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let q = Query {
            operator: latch_core::model::search::Operator::And,
            filters: vec![OrgFilter::Ids(ids.iter().map(|i| i.to_string()).collect())],
        };
        let w = org_where(project_id, &q);
        orgs(self.all(&select_org(&w.text), w.args).await?)
    }

    async fn search_orgs(
        &self,
        project_id: &ProjectId,
        q: &Query<OrgFilter>,
        page: &Page,
    ) -> StoreResult<Found<OrgRecord>> {
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

    async fn org_roles(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
    ) -> StoreResult<Vec<PolicyRole>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            roles: String,
        }
        let sql = format!("SELECT roles FROM org_policies WHERE organization_id = $2 AND EXISTS ({ORG_IN_PROJECT})");
        let row: Option<Row> = self.opt(&sql, args![project_id, organization_id]).await?;
        match row {
            None => Ok(vec![]),
            Some(r) => {
                serde_json::from_str(&r.roles).map_err(|e| StoreError::Backend(format!("corrupt org policy: {e}")))
            }
        }
    }

    async fn set_org_roles(
        &self,
        project_id: &ProjectId,
        organization_id: &OrganizationId,
        roles: &[PolicyRole],
    ) -> StoreResult<()> {
        static DELETE: OnceLock<String> = OnceLock::new();
        static INSERT: OnceLock<String> = OnceLock::new();
        let json = serde_json::to_string(roles).unwrap_or_else(|_| "[]".into());
        self.tx(vec![
            (
                sql_once(&DELETE, || {
                    format!("DELETE FROM org_policies WHERE organization_id = $2 AND EXISTS ({ORG_IN_PROJECT})")
                }),
                args![project_id, organization_id],
            ),
            (
                sql_once(&INSERT, || {
                    format!("INSERT INTO org_policies (organization_id, roles) SELECT $2, $3 WHERE EXISTS ({ORG_IN_PROJECT})")
                }),
                args![project_id, organization_id, json],
            ),
        ])
        .await
    }
}
