//! What the SCIM service's users and groups share: the resource document a request carries
//! (cleaned of what the server owns), `meta`, and list answers (filter, pagination, attribute
//! selection). Users live in `scim_users`, groups in `scim_groups`.

use crate::clock::Timestamp;
use crate::scim::discovery::MAX_RESULTS;
use crate::scim::{filter, get_ci, key_of, select_attributes, Kind, ScimError, ScimResult, LIST_RESPONSE};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The query of a list or get (`filter`, `startIndex`, `count`, `attributes`, `excludedAttributes`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub filter: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

const DEFAULT_COUNT: usize = 100;

/// The resource a POST or PUT carries, as stored: an object, its `schemas` naming the resource's
/// core schema, without the attributes the server owns (`id`, `meta`, `schemas`, a user's
/// `groups`, and `password`, which Latch does not take from an identity provider).
pub fn incoming(body: &Value, kind: Kind) -> ScimResult<Map<String, Value>> {
    let Some(obj) = body.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    let core = crate::scim::schemas_of(kind)[0];
    if let Some(schemas) = get_ci(obj, "schemas") {
        let ok = schemas.as_array().is_some_and(|s| {
            s.iter()
                .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(core)))
        });
        if !ok {
            return Err(ScimError::invalid_syntax(format!("schemas must contain {core}")));
        }
    }
    let mut doc = obj.clone();
    for owned in ["id", "meta", "schemas", "password"] {
        if let Some(k) = key_of(&doc, owned) {
            doc.remove(&k);
        }
    }
    if kind == Kind::User {
        if let Some(k) = key_of(&doc, "groups") {
            doc.remove(&k);
        }
    }
    check_depth(&Value::Object(doc.clone()), 0)?;
    Ok(doc)
}

/// Resources are at most a few levels deep; anything deeper is not SCIM.
fn check_depth(v: &Value, depth: usize) -> ScimResult<()> {
    if depth > 6 {
        return Err(ScimError::invalid_value("the resource is nested too deeply"));
    }
    match v {
        Value::Object(m) => m.values().try_for_each(|v| check_depth(v, depth + 1)),
        Value::Array(a) => a.iter().try_for_each(|v| check_depth(v, depth + 1)),
        _ => Ok(()),
    }
}

/// A string attribute of the document, if given (and a string).
pub fn string_attr(doc: &Map<String, Value>, attr: &str) -> ScimResult<Option<String>> {
    match get_ci(doc, attr) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ScimError::invalid_value(format!("{attr} must be a string"))),
    }
}

pub fn meta(resource_type: &str, location: String, created: Timestamp, updated: Timestamp) -> Value {
    json!({
        "resourceType": resource_type,
        "created": created.rfc3339(),
        "lastModified": updated.rfc3339(),
        "location": location,
        "version": format!("W/\"{}\"", updated.millis()),
    })
}

fn number(given: Option<&str>, field: &str) -> ScimResult<Option<i64>> {
    given
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| ScimError::invalid_value(format!("{field} must be an integer")))
        })
        .transpose()
}

/// The list answer over every resource (as shown): filtered, then paged (`startIndex` is
/// 1-based; `count` is capped at `MAX_RESULTS`), then each item's attributes selected.
pub fn list(all: Vec<Value>, q: &ListQuery, kind: Kind) -> ScimResult<Value> {
    let f = q
        .filter
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .map(|f| filter::parse(f, kind))
        .transpose()?;
    let start = number(q.start_index.as_deref(), "startIndex")?.unwrap_or(1).max(1) as usize;
    let count = number(q.count.as_deref(), "count")?
        .map(|c| c.clamp(0, MAX_RESULTS as i64) as usize)
        .unwrap_or(DEFAULT_COUNT);
    let matched: Vec<Value> = all
        .into_iter()
        .filter(|r| f.as_ref().is_none_or(|f| filter::matches(f, r)))
        .collect();
    let total = matched.len();
    let page: Vec<Value> = matched
        .into_iter()
        .skip(start - 1)
        .take(count)
        .map(|r| selected(r, q, kind))
        .collect();
    Ok(json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": page.len(),
        "Resources": page,
    }))
}

/// One resource with the query's attribute selection applied.
pub fn selected(mut r: Value, q: &ListQuery, kind: Kind) -> Value {
    if let Some(m) = r.as_object_mut() {
        select_attributes(m, q.attributes.as_deref(), q.excluded_attributes.as_deref(), kind);
    }
    r
}
