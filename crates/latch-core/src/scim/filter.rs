//! SCIM filters (RFC 7644 §3.4.2.2): parsing and evaluation against a resource as shown.
//!
//! Operators `eq ne co sw ew gt ge lt le pr`, `and`/`or`/`not`, parentheses, and value paths
//! (`emails[type eq "work" and value co "@acme"]`). Strings compare case-insensitively (every
//! attribute Latch serves is `caseExact: false` but `id`, whose values are never mixed case).

use super::path::split_urn;
use super::{get_ci, Kind, ScimError, ScimResult};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// `[urn:]attr[.sub]` inside a filter.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrRef {
    pub urn: Option<&'static str>,
    pub attr: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrRef),
    Compare(AttrRef, Op, Value),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`.
    ValuePath(AttrRef, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    LBracket,
    RBracket,
    Word(String),
    Str(String),
}

const MAX_FILTER_LEN: usize = 4096;
const MAX_DEPTH: usize = 32;

fn tokens(s: &str) -> ScimResult<Vec<Tok>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'(' => (out.push(Tok::Open), i += 1).1,
            b')' => (out.push(Tok::Close), i += 1).1,
            b'[' => (out.push(Tok::LBracket), i += 1).1,
            b']' => (out.push(Tok::RBracket), i += 1).1,
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() {
                    return Err(ScimError::invalid_filter("unterminated string"));
                }
                i += 1;
                let v: String =
                    serde_json::from_str(&s[start..i]).map_err(|_| ScimError::invalid_filter("bad string literal"))?;
                out.push(Tok::Str(v));
            }
            _ => {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && !b"()[]\"".contains(&b[i]) {
                    i += 1;
                }
                out.push(Tok::Word(s[start..i].to_string()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    kind: Kind,
    depth: usize,
}

fn word_is(t: Option<&Tok>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }
    fn or(&mut self) -> ScimResult<Filter> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScimError::invalid_filter("filter nested too deeply"));
        }
        let mut left = self.and()?;
        while word_is(self.peek(), "or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(left)
    }
    fn and(&mut self) -> ScimResult<Filter> {
        let mut left = self.unary()?;
        while word_is(self.peek(), "and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn expect(&mut self, t: Tok) -> ScimResult<()> {
        if self.next() != Some(t) {
            return Err(ScimError::invalid_filter("unbalanced parentheses or brackets"));
        }
        Ok(())
    }
    fn unary(&mut self) -> ScimResult<Filter> {
        if word_is(self.peek(), "not") {
            self.at += 1;
            self.expect(Tok::Open)?;
            let f = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(Filter::Not(Box::new(f)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.at += 1;
            let f = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(f);
        }
        let Some(Tok::Word(path)) = self.next() else {
            return Err(ScimError::invalid_filter("expected an attribute"));
        };
        let attr = attr_ref(&path, self.kind)?;
        if self.peek() == Some(&Tok::LBracket) {
            self.at += 1;
            let inner = self.or()?;
            self.expect(Tok::RBracket)?;
            return Ok(Filter::ValuePath(attr, Box::new(inner)));
        }
        let Some(Tok::Word(op)) = self.next() else {
            return Err(ScimError::invalid_filter("expected an operator"));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(attr)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(ScimError::invalid_filter(format!("unknown operator '{other}'"))),
        };
        let value = match self.next() {
            Some(Tok::Str(s)) => Value::String(s),
            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => serde_json::from_str::<serde_json::Number>(&w)
                    .map(Value::Number)
                    .map_err(|_| ScimError::invalid_filter(format!("bad value '{w}'")))?,
            },
            _ => return Err(ScimError::invalid_filter("expected a value")),
        };
        Ok(Filter::Compare(attr, op, value))
    }
}

fn attr_ref(path: &str, kind: Kind) -> ScimResult<AttrRef> {
    let (urn, rest) = split_urn(path, kind).map_err(|e| ScimError::invalid_filter(e.detail))?;
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s.to_string())),
        None => (rest, None),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-')
    };
    if !ok(attr) || !sub.as_deref().is_none_or(ok) {
        return Err(ScimError::invalid_filter(format!("bad attribute '{path}'")));
    }
    Ok(AttrRef {
        urn,
        attr: attr.to_string(),
        sub,
    })
}

pub fn parse(s: &str, kind: Kind) -> ScimResult<Filter> {
    if s.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_filter("filter too long"));
    }
    let mut p = Parser {
        toks: tokens(s)?,
        at: 0,
        kind,
        depth: 0,
    };
    let f = p.or()?;
    if p.at != p.toks.len() {
        return Err(ScimError::invalid_filter("unexpected text after the filter"));
    }
    Ok(f)
}

/// The values `a` names in `resource`, arrays flattened.
fn values<'a>(resource: &'a Value, a: &AttrRef) -> Vec<&'a Value> {
    let base = match a.urn {
        Some(urn) => resource.as_object().and_then(|m| get_ci(m, urn)),
        None => Some(resource),
    };
    let Some(top) = base.and_then(Value::as_object).and_then(|m| get_ci(m, &a.attr)) else {
        return vec![];
    };
    let flat: Vec<&Value> = match top {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    match &a.sub {
        None => flat,
        Some(sub) => flat
            .into_iter()
            .filter_map(|v| v.as_object().and_then(|m| get_ci(m, sub)))
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().collect::<Vec<_>>(),
                v => vec![v],
            })
            .collect(),
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(leaf: &Value, op: Op, want: &Value) -> bool {
    // A complex value compares by its `value` sub-attribute (RFC 7644 §3.4.2.2).
    let leaf = match leaf {
        Value::Object(m) => get_ci(m, "value").unwrap_or(&Value::Null),
        v => v,
    };
    match (leaf, want) {
        (_, Value::Null) => match op {
            Op::Eq => !present(leaf),
            Op::Ne => present(leaf),
            _ => false,
        },
        (Value::String(a), Value::String(b)) => {
            let (a, b) = (a.to_lowercase(), b.to_lowercase());
            match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Co => a.contains(&b),
                Op::Sw => a.starts_with(&b),
                Op::Ew => a.ends_with(&b),
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Lt => a < b,
                Op::Le => a <= b,
            }
        }
        (Value::Bool(a), Value::Bool(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => false,
        },
        (Value::String(s), Value::Bool(b)) => {
            super::boolish(leaf).is_some_and(|a| match op {
                Op::Eq => a == *b,
                Op::Ne => a != *b,
                _ => false,
            }) && !s.is_empty()
        }
        (Value::Number(a), Value::Number(b)) => {
            let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) else {
                return false;
            };
            match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Lt => a < b,
                Op::Le => a <= b,
                _ => false,
            }
        }
        _ => op == Op::Ne,
    }
}

/// Whether `resource` (as shown, with `id` and `meta`) matches.
pub fn matches(f: &Filter, resource: &Value) -> bool {
    match f {
        Filter::And(a, b) => matches(a, resource) && matches(b, resource),
        Filter::Or(a, b) => matches(a, resource) || matches(b, resource),
        Filter::Not(a) => !matches(a, resource),
        Filter::Present(a) => values(resource, a).into_iter().any(present),
        Filter::Compare(a, op, want) => {
            let found = values(resource, a);
            if found.is_empty() {
                return *op == Op::Ne && !want.is_null() || (*op == Op::Eq && want.is_null());
            }
            if *op == Op::Ne {
                return found.iter().all(|v| compare(v, Op::Ne, want));
            }
            found.into_iter().any(|v| compare(v, *op, want))
        }
        Filter::ValuePath(a, inner) => values(resource, a).into_iter().any(|v| matches(inner, v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(f: &str, r: &Value) -> bool {
        matches(&parse(f, Kind::User).unwrap(), r)
    }

    #[test]
    fn filters_match() {
        let r = json!({
            "userName": "Alice@Acme.test", "active": true, "externalId": "00u1",
            "name": {"givenName": "Alice"},
            "emails": [{"value": "alice@acme.test", "type": "work", "primary": true}, {"value": "a@home.test", "type": "home"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"},
            "meta": {"lastModified": "2026-01-02T00:00:00Z"}
        });
        assert!(m("userName eq \"alice@acme.test\"", &r));
        assert!(m("USERNAME Eq \"ALICE@ACME.TEST\"", &r));
        assert!(!m("userName eq \"bob@acme.test\"", &r));
        assert!(m("userName sw \"alice\" and active eq true", &r));
        assert!(m("userName co \"nobody\" or externalId eq \"00u1\"", &r));
        assert!(m("emails.value co \"home\"", &r));
        assert!(m("emails[type eq \"work\" and value ew \"acme.test\"]", &r));
        assert!(!m("emails[type eq \"other\"]", &r));
        assert!(m("name.givenName pr", &r));
        assert!(!m("title pr", &r));
        assert!(m("not (title pr)", &r));
        assert!(m(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"r&d\"",
            &r
        ));
        assert!(m("meta.lastModified gt \"2025-12-31T00:00:00Z\"", &r));
        assert!(m("emails eq \"a@home.test\"", &r));
        assert!(m("(active eq false) or (userName ew \"test\")", &r));
    }

    #[test]
    fn bad_filters_are_refused() {
        for f in [
            "",
            "userName",
            "userName eq",
            "userName zz \"x\"",
            "(userName eq \"x\"",
            "userName eq \"x",
            "userName eq x",
            "emails[type eq \"work\"",
            "userName eq \"a\" and",
        ] {
            let e = parse(f, Kind::User).unwrap_err();
            assert_eq!((e.status, e.scim_type), (400, Some("invalidFilter")), "{f}");
        }
        let deep = "(".repeat(100) + "userName pr" + &")".repeat(100);
        assert!(parse(&deep, Kind::User).is_err());
    }
}
