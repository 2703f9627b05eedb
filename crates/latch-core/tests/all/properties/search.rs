//! Organization and member search: `parse_org_query` / `parse_member_query` take the request's
//! `query` as loose JSON. Any JSON is either a typed query or an error, never a panic; what is
//! accepted has one filter per operand, within the documented bounds. Cursors and page limits
//! likewise.

use super::{cheap, json_with_keys};
use latch_core::model::search::{self, Cursor, MemberFilter, OrgFilter, Page};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const ORG_FILTERS: &[&str] = &[
    "organization_ids",
    "organization_slugs",
    "organization_name_fuzzy",
    "organization_slug_fuzzy",
    "member_emails",
    "member_email_fuzzy",
    "allowed_domains",
    "allowed_domain_fuzzy",
    "claimed_email_domains",
    "has_active_sso_connection",
    "sso_connection_id",
];

const MEMBER_FILTERS: &[&str] = &[
    "member_ids",
    "member_emails",
    "member_email_fuzzy",
    "member_is_breakglass",
    "statuses",
    "member_phone_numbers",
    "member_phone_number_fuzzy",
];

const KEYS: &[&str] = &[
    "operator",
    "operands",
    "filter_name",
    "filter_value",
    "AND",
    "OR",
    "member_emails",
];

/// A value a filter might be given: strings of every length, lists of strings or not, booleans.
fn filter_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "\\PC{0,6}".prop_map(Value::from),
        prop::collection::vec("\\PC{0,6}".prop_map(Value::from), 0..4).prop_map(Value::Array),
        any::<bool>().prop_map(Value::from),
        json_with_keys(KEYS),
    ]
}

/// `{operator, operands: [{filter_name, filter_value}]}` with every part optional or off-type.
fn query(names: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        4 => prop::sample::select(names).prop_map(Value::from),
        1 => json_with_keys(names),
    ];
    let operand = prop_oneof![
        8 => (prop::option::of(name), prop::option::of(filter_value())).prop_map(|(n, v)| {
            let mut m = Map::new();
            if let Some(n) = n { m.insert("filter_name".into(), n); }
            if let Some(v) = v { m.insert("filter_value".into(), v); }
            Value::Object(m)
        }),
        1 => json_with_keys(KEYS),
    ];
    let operator = prop_oneof![
        prop::sample::select(vec!["AND", "OR", "and", "Or", "XOR", "", "AND "]).prop_map(Value::from),
        json_with_keys(KEYS),
    ];
    (
        prop::option::of(operator),
        prop::option::of(
            prop_oneof![4 => prop::collection::vec(operand, 0..5).prop_map(Value::Array), 1 => json_with_keys(KEYS)],
        ),
    )
        .prop_map(|(operator, operands)| {
            let mut m = Map::new();
            if let Some(o) = operator {
                m.insert("operator".into(), o);
            }
            if let Some(o) = operands {
                m.insert("operands".into(), o);
            }
            Value::Object(m)
        })
}

fn operand_count(q: &Value) -> usize {
    q.get("operands").and_then(Value::as_array).map_or(0, Vec::len)
}

fn strings_ok(v: &[String]) -> bool {
    !v.is_empty() && v.len() <= search::MAX_VALUES_PER_OPERAND
}

fn fuzzy_ok(s: &str) -> bool {
    s.chars().count() >= 3
}

fn lowered(v: &[String]) -> bool {
    v.iter().all(|s| s.trim() == s && s.to_lowercase() == *s)
}

/// The operator as given, when it is one Latch accepts (absent or null means AND).
fn operator_ok(q: &Value) -> bool {
    match q.get("operator") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => matches!(s.to_ascii_uppercase().as_str(), "AND" | "OR"),
        Some(_) => false,
    }
}

proptest! {
    #![proptest_config(cheap(512))]

    #[test]
    fn any_json_is_a_query_or_an_error(q in json_with_keys(KEYS)) {
        let _ = search::parse_org_query(Some(&q));
        let _ = search::parse_member_query(Some(&q));
    }

    #[test]
    fn org_queries_accepted_are_well_formed(q in query(ORG_FILTERS)) {
        if let Ok(parsed) = search::parse_org_query(Some(&q)) {
            prop_assert!(q.is_object());
            prop_assert!(operator_ok(&q), "operator {:?} accepted", q.get("operator"));
            prop_assert_eq!(parsed.filters.len(), operand_count(&q));
            for f in &parsed.filters {
                let ok = match f {
                    OrgFilter::Ids(v) | OrgFilter::Slugs(v) => strings_ok(v),
                    OrgFilter::MemberEmails(v) | OrgFilter::AllowedDomains(v) | OrgFilter::ClaimedDomains(v) => strings_ok(v) && lowered(v),
                    OrgFilter::NameFuzzy(s) | OrgFilter::SlugFuzzy(s) | OrgFilter::MemberEmailFuzzy(s) | OrgFilter::AllowedDomainFuzzy(s) => fuzzy_ok(s),
                    OrgFilter::HasActiveSso(_) | OrgFilter::SsoConnectionId(_) => true,
                };
                prop_assert!(ok, "{:?}", f);
            }
        }
    }

    #[test]
    fn member_queries_accepted_are_well_formed(q in query(MEMBER_FILTERS)) {
        if let Ok(parsed) = search::parse_member_query(Some(&q)) {
            prop_assert!(q.is_object());
            prop_assert!(operator_ok(&q), "operator {:?} accepted", q.get("operator"));
            prop_assert_eq!(parsed.filters.len(), operand_count(&q));
            for f in &parsed.filters {
                let ok = match f {
                    MemberFilter::Ids(v) | MemberFilter::Phones(v) => strings_ok(v),
                    MemberFilter::Emails(v) | MemberFilter::Statuses(v) => strings_ok(v) && lowered(v),
                    MemberFilter::EmailFuzzy(s) | MemberFilter::PhoneFuzzy(s) => fuzzy_ok(s),
                    MemberFilter::Breakglass(_) => true,
                };
                prop_assert!(ok, "{:?}", f);
            }
        }
    }

    /// Oversized queries are refused, not handed to the database.
    #[test]
    fn oversized_queries_are_refused(extra in 1usize..20, per in 1usize..20) {
        let operands: Vec<Value> = (0..search::MAX_OPERANDS + extra)
            .map(|_| json!({"filter_name": "member_ids", "filter_value": ["m"]}))
            .collect();
        let q = json!({"operands": operands});
        prop_assert!(search::parse_member_query(Some(&q)).is_err());
        let many: Vec<String> = (0..search::MAX_VALUES_PER_OPERAND + per).map(|i| i.to_string()).collect();
        let q = json!({"operands": [{"filter_name": "organization_ids", "filter_value": many}]});
        prop_assert!(search::parse_org_query(Some(&q)).is_err());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused(created_at in any::<i64>(), id in "\\PC{0,40}", junk in "\\PC{0,60}") {
        let c = Cursor { created_at, id };
        prop_assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let _ = Cursor::decode(&junk);
        let _ = Page::parse(Some(&junk), None);
    }

    #[test]
    fn page_limits_are_bounded(limit in any::<i64>()) {
        match Page::parse(None, Some(limit)) {
            Ok(p) => prop_assert!((1..=search::MAX_LIMIT).contains(&p.limit) && p.limit as i64 == limit),
            Err(_) => prop_assert!(!(1..=search::MAX_LIMIT as i64).contains(&limit)),
        }
    }
}
