//! SQL for organization and member search, built from typed filters with numbered placeholders.
//! Pagination is keyset on (created_at, id): stable under concurrent inserts, no OFFSET scans.

use crate::exec::Arg;
use latch_core::ids::{OrganizationId, ProjectId};
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
    pub fn list<S: AsRef<str>>(&mut self, values: &[S]) -> String {
        let ps: Vec<String> = values.iter().map(|v| self.bind(v.as_ref())).collect();
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
pub(crate) fn org_where(project_id: &ProjectId, q: &Query<OrgFilter>) -> Sql {
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
pub(crate) fn member_where(project_id: &ProjectId, org_ids: &[OrganizationId], q: &Query<MemberFilter>) -> Sql {
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

/// The SQL built for a search never contains what the caller searched for: its text depends only
/// on the shape of the query (which filters, how many values), every value travels as a bound
/// parameter, and each placeholder names one of them. Run with `PROPTEST_CASES` for more cases.
#[cfg(test)]
mod properties {
    use super::*;
    use latch_core::model::search::Cursor;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["\\PC{0,12}", "['\";\\\\%_$0-9a-z -]{0,12}"]
    }

    fn list() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(text(), 1..4)
    }

    fn member_filter() -> impl Strategy<Value = MemberFilter> {
        prop_oneof![
            list().prop_map(MemberFilter::Ids),
            list().prop_map(MemberFilter::Emails),
            text().prop_map(MemberFilter::EmailFuzzy),
            any::<bool>().prop_map(MemberFilter::Breakglass),
            list().prop_map(MemberFilter::Statuses),
            list().prop_map(MemberFilter::Phones),
            text().prop_map(MemberFilter::PhoneFuzzy),
        ]
    }

    fn org_filter() -> impl Strategy<Value = OrgFilter> {
        prop_oneof![
            list().prop_map(OrgFilter::Ids),
            list().prop_map(OrgFilter::Slugs),
            text().prop_map(OrgFilter::NameFuzzy),
            text().prop_map(OrgFilter::SlugFuzzy),
            list().prop_map(OrgFilter::MemberEmails),
            text().prop_map(OrgFilter::MemberEmailFuzzy),
            list().prop_map(OrgFilter::AllowedDomains),
            text().prop_map(OrgFilter::AllowedDomainFuzzy),
            list().prop_map(OrgFilter::ClaimedDomains),
            any::<bool>().prop_map(OrgFilter::HasActiveSso),
            text().prop_map(OrgFilter::SsoConnectionId),
        ]
    }

    fn operator() -> impl Strategy<Value = Operator> {
        prop_oneof![Just(Operator::And), Just(Operator::Or)]
    }

    fn page() -> impl Strategy<Value = Page> {
        (prop::option::of((any::<i64>(), text())), 1u32..1000).prop_map(|(after, limit)| Page {
            after: after.map(|(created_at, id)| Cursor { created_at, id }),
            limit,
        })
    }

    fn x<T: From<&'static str> + Clone>(v: &[T]) -> Vec<T> {
        vec!["x".into(); v.len()]
    }

    /// The same query with every searched-for text replaced by "x".
    fn blank_member(f: &MemberFilter) -> MemberFilter {
        match f {
            MemberFilter::Ids(v) => MemberFilter::Ids(x(v)),
            MemberFilter::Emails(v) => MemberFilter::Emails(x(v)),
            MemberFilter::EmailFuzzy(_) => MemberFilter::EmailFuzzy("x".into()),
            MemberFilter::Breakglass(b) => MemberFilter::Breakglass(*b),
            MemberFilter::Statuses(v) => MemberFilter::Statuses(x(v)),
            MemberFilter::Phones(v) => MemberFilter::Phones(x(v)),
            MemberFilter::PhoneFuzzy(_) => MemberFilter::PhoneFuzzy("x".into()),
        }
    }

    fn blank_org(f: &OrgFilter) -> OrgFilter {
        match f {
            OrgFilter::Ids(v) => OrgFilter::Ids(x(v)),
            OrgFilter::Slugs(v) => OrgFilter::Slugs(x(v)),
            OrgFilter::NameFuzzy(_) => OrgFilter::NameFuzzy("x".into()),
            OrgFilter::SlugFuzzy(_) => OrgFilter::SlugFuzzy("x".into()),
            OrgFilter::MemberEmails(v) => OrgFilter::MemberEmails(x(v)),
            OrgFilter::MemberEmailFuzzy(_) => OrgFilter::MemberEmailFuzzy("x".into()),
            OrgFilter::AllowedDomains(v) => OrgFilter::AllowedDomains(x(v)),
            OrgFilter::AllowedDomainFuzzy(_) => OrgFilter::AllowedDomainFuzzy("x".into()),
            OrgFilter::ClaimedDomains(v) => OrgFilter::ClaimedDomains(x(v)),
            OrgFilter::HasActiveSso(b) => OrgFilter::HasActiveSso(*b),
            OrgFilter::SsoConnectionId(_) => OrgFilter::SsoConnectionId("x".into()),
        }
    }

    fn blank_page(p: &Page) -> Page {
        Page {
            after: p.after.as_ref().map(|_| Cursor {
                created_at: 0,
                id: "x".into(),
            }),
            limit: p.limit,
        }
    }

    /// Every `$n` in the text names a bound argument, and every argument is named.
    fn placeholders_match(sql: &Sql) -> bool {
        let mut seen = vec![false; sql.args.len()];
        let mut rest = sql.text.as_str();
        while let Some(i) = rest.find('$') {
            rest = &rest[i + 1..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            match digits.parse::<usize>() {
                Ok(n) if (1..=seen.len()).contains(&n) => seen[n - 1] = true,
                _ => return false,
            }
        }
        seen.iter().all(|s| *s)
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
            ..ProptestConfig::default()
        })]

        #[test]
        fn member_sql_binds_every_value(
            project in text(),
            orgs in list(),
            operator in operator(),
            filters in prop::collection::vec(member_filter(), 0..6),
            page in page(),
        ) {
            let orgs: Vec<OrganizationId> = orgs.into_iter().map(OrganizationId::from).collect();
            let mut sql = member_where(&project.as_str().into(), &orgs, &Query { operator, filters: filters.clone() });
            paginate(&mut sql, "m", "member_id", &page);
            let blank = Query { operator, filters: filters.iter().map(blank_member).collect() };
            let mut same_shape = member_where(&"x".into(), &x(&orgs), &blank);
            paginate(&mut same_shape, "m", "member_id", &blank_page(&page));
            prop_assert_eq!(&sql.text, &same_shape.text);
            prop_assert!(placeholders_match(&sql), "{}", sql.text);
        }

        #[test]
        fn org_sql_binds_every_value(
            project in text(),
            operator in operator(),
            filters in prop::collection::vec(org_filter(), 0..6),
            page in page(),
        ) {
            let mut sql = org_where(&project.as_str().into(), &Query { operator, filters: filters.clone() });
            paginate(&mut sql, "o", "organization_id", &page);
            let blank = Query { operator, filters: filters.iter().map(blank_org).collect() };
            let mut same_shape = org_where(&"x".into(), &blank);
            paginate(&mut same_shape, "o", "organization_id", &blank_page(&page));
            prop_assert_eq!(&sql.text, &same_shape.text);
            prop_assert!(placeholders_match(&sql), "{}", sql.text);
        }

        /// A fuzzy needle matches itself literally: LIKE's wildcards in it are escaped.
        #[test]
        fn fuzzy_patterns_escape_wildcards(needle in text()) {
            let mut sql = Sql::default();
            sql.contains(&needle);
            let Some(Arg::Text(pattern)) = sql.args.first() else {
                return Err(TestCaseError::fail("no text argument"));
            };
            let inner = &pattern[1..pattern.len() - 1];
            let mut unescaped = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => unescaped.push(chars.next().expect("an escape escapes something")),
                    '%' | '_' => return Err(TestCaseError::fail(format!("bare wildcard in {pattern:?}"))),
                    c => unescaped.push(c),
                }
            }
            prop_assert_eq!(unescaped, needle.to_lowercase());
        }
    }
}
