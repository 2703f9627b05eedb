//! Refuses the NUL character (U+0000) anywhere in a request's input — path, query string, JSON
//! strings and keys — with a 400 `invalid_argument` that names the field, before anything is
//! read or written. PostgreSQL's `text` and `jsonb` cannot hold it: a NUL that reached a query
//! failed there as a 500 (the OpenAPI contract test found one in `/v1/public/sso/start`), while
//! SQLite would have stored it. One rule, the same on both engines.

use crate::error::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latch_core::error::catalogue;
use serde_json::Value;

const PROBLEM: &str = "must not contain the NUL character";

/// The 400 for a NUL in `field`: `invalid_argument`, or the field's own error type where its
/// validator has one (it refuses control characters too; a NUL must not change the answer).
pub fn refused(field: &str) -> ApiError {
    let kind = match field {
        "organization_name" => catalogue::INVALID_ORGANIZATION_NAME,
        "organization_slug" => catalogue::INVALID_ORGANIZATION_SLUG,
        "organization_external_id" => catalogue::INVALID_ORGANIZATION_EXTERNAL_ID,
        _ => catalogue::INVALID_ARGUMENT,
    };
    ApiError::Core(kind.field_detail(field, PROBLEM))
}

/// The path and query string of every request.
pub async fn refuse_in_uri(req: Request, next: Next) -> Response {
    if let Some(field) = uri_field(req.uri()) {
        return refused(&field).into_response();
    }
    next.run(req).await
}

/// The field of the path or query string that holds a NUL, if one does.
fn uri_field(uri: &axum::http::Uri) -> Option<String> {
    // Percent-encoded is the only way a NUL travels in a URI (the HTTP parser refuses raw ones).
    if uri.path().contains("%00") {
        return Some("path".into());
    }
    let query = uri.query()?;
    if !query.contains("%00") {
        return None;
    }
    form_field(query.as_bytes())
}

/// The field of URL-encoded pairs (a query string, or a form body) whose name or value holds a
/// NUL, encoded or raw, if one does.
pub fn form_field(pairs: &[u8]) -> Option<String> {
    form_urlencoded::parse(pairs)
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', ""))
}

/// The field of a JSON body whose key or string value holds a NUL (`\u0000`, the only way JSON
/// text carries one), if one does; `None` for a body without one or that is not JSON (the
/// deserializer then says what is wrong with it).
pub fn json_field(body: &[u8]) -> Option<String> {
    if !has_escaped_nul(body) {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut path = vec![];
    find(&value, &mut path).then(|| if path.is_empty() { ".".into() } else { path.join(".") })
}

/// Whether JSON text holds the escape `\u0000`; a scan that steps over every escape, so `\\u0000`
/// (an escaped backslash, then text) does not count.
fn has_escaped_nul(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' {
            if body[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Depth-first: leaves in `path` the keys and indices down to the first string holding a NUL.
fn find(v: &Value, path: &mut Vec<String>) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(i.to_string());
            let found = find(item, path);
            if !found {
                path.pop();
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(k, item)| {
            path.push(k.replace('\0', ""));
            let found = k.contains('\0') || find(item, path);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_in_json_is_named_by_its_field() {
        assert_eq!(
            json_field(br#"{"organization_name":"a\u0000b"}"#).as_deref(),
            Some("organization_name")
        );
        assert_eq!(json_field(br#"{"m":{"k":["x","\u0000"]}}"#).as_deref(), Some("m.k.1"));
        assert_eq!(json_field(br#"{"a\u0000":1}"#).as_deref(), Some("a"));
        assert_eq!(json_field(br#""\u0000""#).as_deref(), Some("."));
        // An escaped backslash followed by text, and other escapes, are not a NUL.
        assert_eq!(json_field(br#"{"a":"\\u0000","b":"\u0001\n"}"#), None);
        assert_eq!(json_field(br#"{"a":"plain"}"#), None);
        // Not JSON: left to the deserializer.
        assert_eq!(json_field(br#"{"a":"\u0000"#), None);
    }

    #[test]
    fn a_nul_in_the_uri_is_named() {
        let uri = |s: &str| s.parse::<axum::http::Uri>().unwrap();
        assert_eq!(uri_field(&uri("/v1/b2b/sso/a%00b")).as_deref(), Some("path"));
        assert_eq!(
            uri_field(&uri("/v1/public/sso/start?public_token=x%00&a=b")).as_deref(),
            Some("public_token")
        );
        assert_eq!(uri_field(&uri("/v1/public/sso/start?public_token=x%2500")), None);
        assert_eq!(uri_field(&uri("/healthz")), None);
    }
}
