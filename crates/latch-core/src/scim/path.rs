//! Attribute paths (RFC 7644 §3.10): `[schema URN ":"] attr ["[" filter "]"] ["." subAttr]`.

use super::filter::{self, Filter};
use super::{schemas_of, Kind, ScimError, ScimResult, GROUP_SCHEMA, USER_SCHEMA};

/// A parsed PATCH path.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The extension the attribute belongs to; `None` for the core schema.
    pub urn: Option<&'static str>,
    /// `None` when the path names a whole extension.
    pub attr: Option<String>,
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

/// Splits a leading schema URN off `s`: the core schema's is dropped, an extension's returned.
pub fn split_urn(s: &str, kind: Kind) -> ScimResult<(Option<&'static str>, &str)> {
    if !s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        return Ok((None, s));
    }
    for urn in schemas_of(kind) {
        let Some(head) = s.get(..urn.len()) else { continue };
        if !head.eq_ignore_ascii_case(urn) {
            continue;
        }
        let rest = &s[urn.len()..];
        let core = *urn == USER_SCHEMA || *urn == GROUP_SCHEMA;
        if rest.is_empty() {
            return if core {
                Err(ScimError::invalid_path(format!(
                    "'{s}' names a schema, not an attribute"
                )))
            } else {
                Ok((Some(urn), ""))
            };
        }
        if let Some(attr) = rest.strip_prefix(':') {
            return Ok((if core { None } else { Some(urn) }, attr));
        }
    }
    Err(ScimError::invalid_path(format!("unknown schema in '{s}'")))
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

pub fn parse(path: &str, kind: Kind) -> ScimResult<AttrPath> {
    let path = path.trim();
    let (urn, rest) = split_urn(path, kind)?;
    if rest.is_empty() {
        return Ok(AttrPath {
            urn,
            attr: None,
            filter: None,
            sub: None,
        });
    }
    let bad = || ScimError::invalid_path(format!("'{path}' is not a valid attribute path"));
    let (attr, filter, after) = match rest.find('[') {
        Some(open) => {
            let close = rest.rfind(']').ok_or_else(bad)?;
            if close < open {
                return Err(bad());
            }
            let f = filter::parse(&rest[open + 1..close], kind).map_err(|e| ScimError::invalid_path(e.detail))?;
            (&rest[..open], Some(f), &rest[close + 1..])
        }
        None => match rest.split_once('.') {
            Some((a, _)) => (a, None, &rest[a.len()..]),
            None => (rest, None, ""),
        },
    };
    let sub = match after {
        "" => None,
        s => Some(s.strip_prefix('.').filter(|s| is_name(s)).ok_or_else(bad)?.to_string()),
    };
    if !is_name(attr) {
        return Err(bad());
    }
    Ok(AttrPath {
        urn,
        attr: Some(attr.to_string()),
        filter,
        sub,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        let p = parse("emails[type eq \"work\"].value", Kind::User).unwrap();
        assert_eq!(p.attr.as_deref(), Some("emails"));
        assert_eq!(p.sub.as_deref(), Some("value"));
        assert!(p.filter.is_some());
        let p = parse("name.givenName", Kind::User).unwrap();
        assert_eq!((p.attr.as_deref(), p.sub.as_deref()), (Some("name"), Some("givenName")));
        let p = parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            Kind::User,
        )
        .unwrap();
        assert_eq!(p.urn, Some(super::super::ENTERPRISE_USER));
        assert_eq!(p.attr.as_deref(), Some("department"));
        let p = parse("urn:ietf:params:scim:schemas:core:2.0:User:userName", Kind::User).unwrap();
        assert_eq!((p.urn, p.attr.as_deref()), (None, Some("userName")));
        assert!(
            parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", Kind::User)
                .unwrap()
                .attr
                .is_none()
        );
        assert!(parse("emails[type eq", Kind::User).is_err());
        assert!(parse("na me", Kind::User).is_err());
        assert!(parse("urn:x:y", Kind::User).is_err());
    }
}
