//! Search queries for organizations and members: the loosely typed `{operator, operands}` of the
//! API parsed into typed filters, plus keyset cursors (created_at, id) for stable pagination.

use crate::error::{CoreError, CoreResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;
const MIN_FUZZY: usize = 3;
/// Bounds on a query's size (Stytch documents none). Every value becomes a bound SQL parameter
/// and every operand a condition per row, so an unbounded query fails in the database (SQLite's
/// variable limit, its expression depth) or runs for seconds that a timeout cannot cancel.
pub const MAX_OPERANDS: usize = 100;
pub const MAX_VALUES_PER_OPERAND: usize = 1_000;
pub const MAX_VALUES_PER_QUERY: usize = 10_000;
/// Organizations one member search may span.
pub const MAX_SEARCH_ORGANIZATIONS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OrgFilter {
    Ids(Vec<String>),
    Slugs(Vec<String>),
    NameFuzzy(String),
    SlugFuzzy(String),
    MemberEmails(Vec<String>),
    MemberEmailFuzzy(String),
    AllowedDomains(Vec<String>),
    AllowedDomainFuzzy(String),
    ClaimedDomains(Vec<String>),
    /// Latch has no SSO connections yet: `true` matches nothing, `false` everything.
    HasActiveSso(bool),
    /// No SSO connection exists, so this matches nothing.
    SsoConnectionId(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum MemberFilter {
    Ids(Vec<String>),
    Emails(Vec<String>),
    EmailFuzzy(String),
    Breakglass(bool),
    Statuses(Vec<String>),
    Phones(Vec<String>),
    PhoneFuzzy(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query<F> {
    pub operator: Operator,
    pub filters: Vec<F>,
}

/// Position after the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at, self.id))
    }
    pub fn decode(s: &str) -> CoreResult<Self> {
        let bad = || CoreError::argument("cursor", "is not a cursor returned by this API");
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (ts, id) = raw.split_once(':').ok_or_else(bad)?;
        Ok(Self {
            created_at: ts.parse().map_err(|_| bad())?,
            id: id.to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl Page {
    pub fn parse(cursor: Option<&str>, limit: Option<i64>) -> CoreResult<Self> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as u32,
            Some(_) => return Err(CoreError::argument("limit", "must be between 1 and 1000")),
        };
        let after = match cursor {
            None | Some("") => None,
            Some(c) => Some(Cursor::decode(c)?),
        };
        Ok(Self { after, limit })
    }
}

fn operator(query: &Value) -> CoreResult<Operator> {
    let operator = match query.get("operator") {
        None | Some(Value::Null) => return Ok(Operator::And),
        Some(Value::String(s)) => s.to_ascii_uppercase(),
        // A number or a list is a mistake, not a silent AND.
        Some(_) => String::new(),
    };
    match operator.as_str() {
        "AND" => Ok(Operator::And),
        "OR" => Ok(Operator::Or),
        _ => Err(CoreError::argument("query.operator", "must be AND or OR")),
    }
}

/// The `query` of a search: absent or null is no filter; anything but an object is an error
/// (a string or a list would otherwise read as no filter and match everything).
fn query_object(query: Option<&Value>) -> CoreResult<Option<&Value>> {
    match query {
        None | Some(Value::Null) => Ok(None),
        Some(q @ Value::Object(_)) => Ok(Some(q)),
        Some(_) => Err(CoreError::argument("query", "must be an object")),
    }
}

fn operands(query: &Value) -> CoreResult<Vec<(String, String, Value)>> {
    let list = match query.get("operands") {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(CoreError::argument("query.operands", "must be a list")),
    };
    if list.len() > MAX_OPERANDS {
        return Err(CoreError::argument(
            "query.operands",
            &format!("at most {MAX_OPERANDS} operands"),
        ));
    }
    let values: usize = list
        .iter()
        .filter_map(|op| op.get("filter_value").and_then(Value::as_array))
        .map(Vec::len)
        .sum();
    if values > MAX_VALUES_PER_QUERY {
        return Err(CoreError::argument(
            "query.operands",
            &format!("at most {MAX_VALUES_PER_QUERY} filter values in all"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, op)| {
            let path = format!("query.operands[{i}]");
            let name = op
                .get("filter_name")
                .and_then(Value::as_str)
                .ok_or_else(|| CoreError::argument(&path, "filter_name is required"))?;
            let value = op.get("filter_value").cloned().unwrap_or(Value::Null);
            Ok((path, name.to_string(), value))
        })
        .collect()
}

fn strings(path: &str, v: Value) -> CoreResult<Vec<String>> {
    let bad = || CoreError::argument(&format!("{path}.filter_value"), "must be a non-empty list of strings");
    let Value::Array(items) = v else {
        return Err(bad());
    };
    if items.is_empty() {
        return Err(bad());
    }
    if items.len() > MAX_VALUES_PER_OPERAND {
        return Err(CoreError::argument(
            &format!("{path}.filter_value"),
            &format!("at most {MAX_VALUES_PER_OPERAND} values"),
        ));
    }
    items
        .into_iter()
        .map(|i| i.as_str().map(str::to_string).ok_or_else(bad))
        .collect()
}

/// The `organization_ids` of a member search: at least one, at most [`MAX_SEARCH_ORGANIZATIONS`].
pub fn check_search_organization_ids(ids: &[String]) -> CoreResult<()> {
    if ids.is_empty() {
        return Err(CoreError::argument(
            "organization_ids",
            "at least one organization id is required",
        ));
    }
    if ids.len() > MAX_SEARCH_ORGANIZATIONS {
        return Err(CoreError::argument(
            "organization_ids",
            &format!("at most {MAX_SEARCH_ORGANIZATIONS} organization ids"),
        ));
    }
    Ok(())
}

fn fuzzy(path: &str, v: Value) -> CoreResult<String> {
    match v {
        Value::String(s) if s.chars().count() >= MIN_FUZZY => Ok(s),
        _ => Err(CoreError::argument(
            &format!("{path}.filter_value"),
            "fuzzy filters need a string of at least 3 characters",
        )),
    }
}

fn boolean(path: &str, v: Value) -> CoreResult<bool> {
    v.as_bool()
        .ok_or_else(|| CoreError::argument(&format!("{path}.filter_value"), "must be a boolean"))
}

fn unknown(path: &str, name: &str) -> CoreError {
    CoreError::argument(&format!("{path}.filter_name"), &format!("unknown filter '{name}'"))
}

fn lower(v: Vec<String>) -> Vec<String> {
    v.into_iter().map(|s| s.trim().to_lowercase()).collect()
}

pub fn parse_org_query(query: Option<&Value>) -> CoreResult<Query<OrgFilter>> {
    let Some(query) = query_object(query)? else {
        return Ok(Query {
            operator: Operator::And,
            filters: vec![],
        });
    };
    let mut filters = Vec::new();
    for (path, name, v) in operands(query)? {
        filters.push(match name.as_str() {
            "organization_ids" => OrgFilter::Ids(strings(&path, v)?),
            "organization_slugs" => OrgFilter::Slugs(strings(&path, v)?),
            "organization_name_fuzzy" => OrgFilter::NameFuzzy(fuzzy(&path, v)?),
            "organization_slug_fuzzy" => OrgFilter::SlugFuzzy(fuzzy(&path, v)?),
            "member_emails" => OrgFilter::MemberEmails(lower(strings(&path, v)?)),
            "member_email_fuzzy" => OrgFilter::MemberEmailFuzzy(fuzzy(&path, v)?),
            "allowed_domains" => OrgFilter::AllowedDomains(lower(strings(&path, v)?)),
            "allowed_domain_fuzzy" => OrgFilter::AllowedDomainFuzzy(fuzzy(&path, v)?),
            "claimed_email_domains" => OrgFilter::ClaimedDomains(lower(strings(&path, v)?)),
            "has_active_sso_connection" => OrgFilter::HasActiveSso(boolean(&path, v)?),
            "sso_connection_id" => OrgFilter::SsoConnectionId(
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| CoreError::argument(&path, "filter_value must be a string"))?,
            ),
            other => return Err(unknown(&path, other)),
        });
    }
    Ok(Query {
        operator: operator(query)?,
        filters,
    })
}

pub fn parse_member_query(query: Option<&Value>) -> CoreResult<Query<MemberFilter>> {
    let Some(query) = query_object(query)? else {
        return Ok(Query {
            operator: Operator::And,
            filters: vec![],
        });
    };
    let mut filters = Vec::new();
    for (path, name, v) in operands(query)? {
        filters.push(match name.as_str() {
            "member_ids" => MemberFilter::Ids(strings(&path, v)?),
            "member_emails" => MemberFilter::Emails(lower(strings(&path, v)?)),
            "member_email_fuzzy" => MemberFilter::EmailFuzzy(fuzzy(&path, v)?),
            "member_is_breakglass" => MemberFilter::Breakglass(boolean(&path, v)?),
            "statuses" => MemberFilter::Statuses(lower(strings(&path, v)?)),
            "member_phone_numbers" => MemberFilter::Phones(strings(&path, v)?),
            "member_phone_number_fuzzy" => MemberFilter::PhoneFuzzy(fuzzy(&path, v)?),
            other => return Err(unknown(&path, other)),
        });
    }
    Ok(Query {
        operator: operator(query)?,
        filters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = Cursor {
            created_at: 42,
            id: "organization-test-x".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("%%%").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("nocolon")).is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(Page::parse(None, None).unwrap().limit, 100);
        assert!(Page::parse(None, Some(0)).is_err());
        assert!(Page::parse(None, Some(1001)).is_err());
    }

    #[test]
    fn member_queries() {
        let q = parse_member_query(Some(&json!({"operator": "OR", "operands": [
            {"filter_name": "member_emails", "filter_value": ["A@X.com"]},
            {"filter_name": "member_is_breakglass", "filter_value": true}
        ]})))
        .unwrap();
        assert_eq!(q.operator, Operator::Or);
        assert_eq!(q.filters[0], MemberFilter::Emails(vec!["a@x.com".into()]));
        assert!(parse_member_query(Some(
            &json!({"operands": [{"filter_name": "member_email_fuzzy", "filter_value": "ab"}]})
        ))
        .is_err());
        assert!(parse_member_query(Some(&json!({"operands": [{"filter_name": "nope", "filter_value": 1}]}))).is_err());
        // An operator or a query of the wrong type is an error, not "AND" or "no filter".
        assert!(parse_member_query(Some(&json!({"operator": ["OR"], "operands": []}))).is_err());
        assert!(parse_org_query(Some(&json!({"operator": 1}))).is_err());
        assert!(parse_org_query(Some(&json!("organization_ids"))).is_err());
        assert!(parse_member_query(Some(&json!([]))).is_err());
        assert!(parse_org_query(Some(&json!({"operator": null}))).is_ok());
        assert!(parse_member_query(Some(
            &json!({"operands": [{"filter_name": "member_ids", "filter_value": []}]})
        ))
        .is_err());
    }
}
