//! The SCIM 2.0 protocol (RFC 7643 resources, RFC 7644 operations) as pure functions over JSON
//! resources: attribute paths, filters, PATCH operations, the discovery documents and SCIM's
//! error shape. No storage here: `engine::scim_provisioning` applies these to users and groups.

pub mod discovery;
pub mod filter;
pub mod patch;
pub mod path;

use serde_json::{Map, Value};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The schema URNs a resource of `kind` may carry, core first.
pub fn schemas_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => &[USER_SCHEMA, ENTERPRISE_USER],
        Kind::Group => &[GROUP_SCHEMA],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

/// A SCIM error (RFC 7644 §3.12): its HTTP status, `scimType` where the RFC names one, and a
/// detail safe to show the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
    /// Seconds to wait, on a 429.
    pub retry_after: Option<u64>,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), detail)
    }
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), detail)
    }
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }
    pub fn missing(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            401,
            None,
            "The bearer token is missing or not valid for this SCIM connection.",
        )
    }

    /// The body (`status` is a string, as RFC 7644 §3.12 shows it).
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("schemas".into(), Value::from(vec![ERROR]));
        m.insert("status".into(), Value::from(self.status.to_string()));
        if let Some(t) = self.scim_type {
            m.insert("scimType".into(), Value::from(t));
        }
        m.insert("detail".into(), Value::from(self.detail.clone()));
        Value::Object(m)
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

/// A domain refusal as the identity provider sees it. Internal errors say nothing more.
impl From<crate::error::CoreError> for ScimError {
    fn from(e: crate::error::CoreError) -> Self {
        use crate::error::CoreError::*;
        match e {
            Invalid(f) if f.error_type.starts_with("duplicate_") => Self::uniqueness(f.message),
            Invalid(f) => Self::invalid_value(f.message),
            NotFound(f) => Self::missing(f.message),
            Unauthorized(_) => Self::unauthorized(),
            Forbidden(f) => Self::new(403, None, f.message),
            RateLimited {
                fault,
                retry_after_secs,
            } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(429, None, fault.message)
            },
            Conflict(f) => Self::new(409, None, f.message),
            Unavailable(f) => Self::new(503, None, f.message),
            DatabaseUnavailable(_) => Self::new(503, None, "The service is unavailable; try again."),
            Internal(why) => {
                // The identity provider is told nothing internal; the log keeps why.
                tracing::error!(error = %why, "SCIM request failed");
                Self::new(500, None, "Internal error.")
            }
        }
    }
}

impl From<crate::error::StoreError> for ScimError {
    fn from(e: crate::error::StoreError) -> Self {
        crate::error::CoreError::from(e).into()
    }
}

pub type ScimResult<T> = Result<T, ScimError>;

/// The key of `map` that names `attr` (attribute names are case-insensitive, RFC 7643 §2.1).
pub fn key_of(map: &Map<String, Value>, attr: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(attr)).cloned()
}

pub fn get_ci<'a>(map: &'a Map<String, Value>, attr: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(attr)).map(|(_, v)| v)
}

/// A boolean as identity providers send it: `true`, or Entra ID's `"True"`/`"False"` strings.
pub fn boolish(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.9) applied to a resource as shown: `id` and
/// `schemas` are always returned.
pub fn select_attributes(
    resource: &mut Map<String, Value>,
    attributes: Option<&str>,
    excluded: Option<&str>,
    kind: Kind,
) {
    let list = |s: Option<&str>| -> Vec<(Option<&'static str>, String, Option<String>)> {
        s.unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .filter_map(|a| {
                let (urn, rest) = path::split_urn(a, kind).ok()?;
                let (attr, sub) = match rest.split_once('.') {
                    Some((x, y)) => (x.to_string(), Some(y.to_string())),
                    None => (rest.to_string(), None),
                };
                Some((urn, attr, sub))
            })
            .collect()
    };
    let always = |k: &str| k.eq_ignore_ascii_case("id") || k.eq_ignore_ascii_case("schemas");
    let wanted = list(attributes);
    if !wanted.is_empty() {
        let mut out = Map::new();
        for (k, v) in resource.iter() {
            if always(k) {
                out.insert(k.clone(), v.clone());
            }
        }
        for (urn, attr, sub) in &wanted {
            let source = match urn {
                Some(u) => get_ci(resource, u).and_then(Value::as_object),
                None => Some(&*resource),
            };
            let Some(source) = source else { continue };
            // A whole extension named by its URN.
            if attr.is_empty() {
                if let (Some(u), Some(k)) = (urn, key_of(resource, urn.unwrap_or(""))) {
                    out.insert(u.to_string(), resource[&k].clone());
                }
                continue;
            }
            let Some(k) = key_of(source, attr) else { continue };
            let picked = match (sub, &source[&k]) {
                (None, v) => v.clone(),
                (Some(s), Value::Object(o)) => match key_of(o, s) {
                    Some(sk) => Value::Object(Map::from_iter([(sk.clone(), o[&sk].clone())])),
                    None => continue,
                },
                (Some(s), Value::Array(items)) => Value::Array(
                    items
                        .iter()
                        .filter_map(|i| {
                            let o = i.as_object()?;
                            let sk = key_of(o, s)?;
                            Some(Value::Object(Map::from_iter([(sk.clone(), o[&sk].clone())])))
                        })
                        .collect(),
                ),
                _ => continue,
            };
            let target = match urn {
                Some(u) => out
                    .entry(u.to_string())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .expect("object"),
                None => &mut out,
            };
            match (target.get_mut(&k), picked) {
                (Some(Value::Object(have)), Value::Object(more)) => have.extend(more),
                (_, picked) => {
                    target.insert(k, picked);
                }
            }
        }
        *resource = out;
    }
    for (urn, attr, sub) in list(excluded) {
        if attr.is_empty() {
            if let Some(k) = urn.and_then(|u| key_of(resource, u)) {
                resource.remove(&k);
            }
            continue;
        }
        if urn.is_none() && always(&attr) {
            continue;
        }
        let target = match urn {
            Some(u) => match key_of(resource, u) {
                Some(k) => resource.get_mut(&k).and_then(Value::as_object_mut),
                None => None,
            },
            None => Some(&mut *resource),
        };
        let Some(target) = target else { continue };
        let Some(k) = key_of(target, &attr) else { continue };
        match sub {
            None => {
                target.remove(&k);
            }
            Some(s) => match target.get_mut(&k) {
                Some(Value::Object(o)) => {
                    if let Some(sk) = key_of(o, &s) {
                        o.remove(&sk);
                    }
                }
                Some(Value::Array(items)) => {
                    for i in items.iter_mut().filter_map(Value::as_object_mut) {
                        if let Some(sk) = key_of(i, &s) {
                            i.remove(&sk);
                        }
                    }
                }
                _ => {}
            },
        }
    }
}
