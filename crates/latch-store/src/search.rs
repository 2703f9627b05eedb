//! SQL for organization and member search, built from typed filters with numbered placeholders.
//! Pagination is keyset on (created_at, id): stable under concurrent inserts, no OFFSET scans.

use crate::exec::Arg;
use latch_core::model::search::{MemberFilter, Operator, OrgFilter, Page, Query};

#[derive(Default)]
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    /// Adds a bound value and returns its placeholder.
    pub fn bind(&mut self, a: impl Into<Arg>) -> String {
        self.args.push(a.into());
        format!("${}", self.args.len())
    }
    pub fn list(&mut self, values: &[String]) -> String {
        let ps: Vec<String> = values.iter().map(|v| self.bind(v.as_str())).collect();
        format!("({})", ps.join(", "))
    }
    /// A case-insensitive substring pattern for LIKE.
    pub fn contains(&mut self, needle: &str) -> String {
        let escaped = needle
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        self.bind(format!("%{escaped}%"))
    }
}

fn combine(op: Operator, parts: Vec<String>) -> String {
    if parts.is_empty() {
        return "1=1".into();
    }
    let joiner = if op == Operator::Or { " OR " } else { " AND " };
    format!("({})", parts.join(joiner))
}

fn domain_exists(sql: &mut Sql, kind: &str, cond: String) -> String {
    let _ = sql;
    format!(
        "EXISTS (SELECT 1 FROM organization_domains d WHERE d.organization_id = o.organization_id AND d.kind = '{kind}' AND {cond})"
    )
}

fn org_filter(sql: &mut Sql, f: &OrgFilter) -> String {
    match f {
        OrgFilter::Ids(v) => format!("o.organization_id IN {}", sql.list(v)),
        OrgFilter::Slugs(v) => format!("o.slug IN {}", sql.list(v)),
        OrgFilter::NameFuzzy(s) => format!("LOWER(o.name) LIKE {} ESCAPE '\\'", sql.contains(s)),
        OrgFilter::SlugFuzzy(s) => format!("LOWER(o.slug) LIKE {} ESCAPE '\\'", sql.contains(s)),
        OrgFilter::MemberEmails(v) => format!(
            "EXISTS (SELECT 1 FROM members m WHERE m.organization_id = o.organization_id AND m.status <> 'deleted' AND m.email IN {})",
            sql.list(v)
        ),
        OrgFilter::MemberEmailFuzzy(s) => format!(
            "EXISTS (SELECT 1 FROM members m WHERE m.organization_id = o.organization_id AND m.status <> 'deleted' AND m.email LIKE {} ESCAPE '\\')",
            sql.contains(s)
        ),
        OrgFilter::AllowedDomains(v) => {
            let l = sql.list(v);
            domain_exists(sql, "allowed", format!("d.domain IN {l}"))
        }
        OrgFilter::AllowedDomainFuzzy(s) => {
            let p = sql.contains(s);
            domain_exists(sql, "allowed", format!("d.domain LIKE {p} ESCAPE '\\'"))
        }
        OrgFilter::ClaimedDomains(v) => {
            let l = sql.list(v);
            domain_exists(sql, "claimed", format!("d.domain IN {l}"))
        }
        OrgFilter::HasActiveSso(true) | OrgFilter::SsoConnectionId(_) => "1=0".into(),
        OrgFilter::HasActiveSso(false) => "1=1".into(),
    }
}

fn member_filter(sql: &mut Sql, f: &MemberFilter) -> String {
    match f {
        MemberFilter::Ids(v) => format!("m.member_id IN {}", sql.list(v)),
        MemberFilter::Emails(v) => format!("m.email IN {}", sql.list(v)),
        MemberFilter::EmailFuzzy(s) => format!("m.email LIKE {} ESCAPE '\\'", sql.contains(s)),
        MemberFilter::Breakglass(b) => format!("m.is_breakglass = {}", sql.bind(*b)),
        MemberFilter::Statuses(v) => format!("m.status IN {}", sql.list(v)),
        MemberFilter::Phones(v) => format!("m.mfa_phone_number IN {}", sql.list(v)),
        MemberFilter::PhoneFuzzy(s) => {
            format!("m.mfa_phone_number LIKE {} ESCAPE '\\'", sql.contains(s))
        }
    }
}

/// WHERE clause (without the cursor) for organizations of `project_id`.
pub(crate) fn org_where(project_id: &str, q: &Query<OrgFilter>) -> Sql {
    let mut sql = Sql::default();
    let p = sql.bind(project_id);
    let parts: Vec<String> = q.filters.iter().map(|f| org_filter(&mut sql, f)).collect();
    let cond = combine(q.operator, parts);
    sql.push(&format!(" WHERE o.project_id = {p} AND {cond}"));
    sql
}

/// WHERE clause (without the cursor) for members of the given organizations. Deleted members
/// only appear when a `statuses` filter asks for them.
/// The core bounds the query (`latch_core::model::search::MAX_*`), so the parameters bound here
/// stay far below SQLite's 32,766 and the expression depth below its 1,000.
pub(crate) fn member_where(project_id: &str, org_ids: &[String], q: &Query<MemberFilter>) -> Sql {
    debug_assert!(org_ids.len() <= latch_core::model::search::MAX_SEARCH_ORGANIZATIONS);
    let mut sql = Sql::default();
    let p = sql.bind(project_id);
    let orgs = sql.list(org_ids);
    let parts: Vec<String> = q.filters.iter().map(|f| member_filter(&mut sql, f)).collect();
    let cond = combine(q.operator, parts);
    let asks_status = q.filters.iter().any(|f| matches!(f, MemberFilter::Statuses(_)));
    let live = if asks_status { "" } else { " AND m.status <> 'deleted'" };
    sql.push(&format!(
        " WHERE m.project_id = {p} AND m.organization_id IN {orgs} AND {cond}{live}"
    ));
    sql
}

/// Appends the keyset condition, order and limit (one extra row tells whether more exist).
pub(crate) fn paginate(sql: &mut Sql, alias: &str, id_col: &str, page: &Page) {
    if let Some(c) = &page.after {
        let ts = sql.bind(c.created_at);
        let ts2 = sql.bind(c.created_at);
        let id = sql.bind(c.id.as_str());
        sql.push(&format!(
            " AND ({alias}.created_at > {ts} OR ({alias}.created_at = {ts2} AND {alias}.{id_col} > {id}))"
        ));
    }
    sql.push(&format!(
        " ORDER BY {alias}.created_at, {alias}.{id_col} LIMIT {}",
        page.limit as i64 + 1
    ));
}
