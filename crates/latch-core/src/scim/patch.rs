//! PATCH operations (RFC 7644 §3.5.2) applied to a resource document, including the shapes
//! identity providers really send: Okta's path-less `replace` of `{"active": false}`, Entra ID's
//! capitalised `"Replace"`, `emails[type eq "work"].value` paths that create the value they
//! filter for, `"False"` strings for booleans, and member removal by a `value` list.

use super::filter::{self, Filter};
use super::path::{self, AttrPath};
use super::{get_ci, key_of, Kind, ScimError, ScimResult, PATCH_OP};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Add,
    Replace,
    Remove,
}

const MAX_OPERATIONS: usize = 1000;

/// Attributes a client may not write: the server's own.
fn read_only(kind: Kind, attr: &str) -> bool {
    let fixed = ["id", "meta", "schemas"];
    fixed.iter().any(|a| a.eq_ignore_ascii_case(attr)) || (kind == Kind::User && attr.eq_ignore_ascii_case("groups"))
}

/// Applies a PatchOp request body to `doc`, all operations or none (the caller keeps the
/// original until this returns Ok).
pub fn apply(doc: &mut Map<String, Value>, body: &Value, kind: Kind) -> ScimResult<()> {
    let Some(body) = body.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a PatchOp object"));
    };
    if let Some(schemas) = get_ci(body, "schemas") {
        let ok = schemas.as_array().is_some_and(|s| {
            s.iter()
                .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP)))
        });
        if !ok {
            return Err(ScimError::invalid_syntax(format!("schemas must contain {PATCH_OP}")));
        }
    }
    let Some(ops) = get_ci(body, "Operations").and_then(Value::as_array) else {
        return Err(ScimError::invalid_syntax("Operations must be an array"));
    };
    if ops.is_empty() || ops.len() > MAX_OPERATIONS {
        return Err(ScimError::invalid_syntax("Operations must hold 1 to 1000 operations"));
    }
    for op in ops {
        let Some(op) = op.as_object() else {
            return Err(ScimError::invalid_syntax("an operation must be an object"));
        };
        let kind_of = match get_ci(op, "op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("add") => OpKind::Add,
            Some("replace") => OpKind::Replace,
            Some("remove") => OpKind::Remove,
            _ => return Err(ScimError::invalid_syntax("op must be add, replace or remove")),
        };
        let value = get_ci(op, "value").cloned();
        match get_ci(op, "path")
            .and_then(Value::as_str)
            .filter(|p| !p.trim().is_empty())
        {
            Some(p) => {
                let path = path::parse(p, kind)?;
                at_path(doc, &path, kind_of, value, kind)?;
            }
            None => {
                if kind_of == OpKind::Remove {
                    return Err(ScimError::no_target("remove needs a path"));
                }
                let Some(Value::Object(fields)) = value else {
                    return Err(ScimError::invalid_value(
                        "an operation without a path needs an object value",
                    ));
                };
                for (k, v) in fields {
                    // Okta renames a group with `{"id": …, "displayName": …}`: the server's own
                    // attributes in a path-less value are passed over, not written.
                    if ["id", "meta", "schemas"].iter().any(|a| a.eq_ignore_ascii_case(&k)) {
                        continue;
                    }
                    // Entra ID sends sub-attribute paths as keys (`{"name.givenName": "x"}`).
                    let path = path::parse(&k, kind)?;
                    at_path(doc, &path, kind_of, Some(v), kind)?;
                }
            }
        }
    }
    Ok(())
}

/// The object an attribute of `urn` lives in: the document, or its extension's object.
fn container<'a>(
    doc: &'a mut Map<String, Value>,
    urn: Option<&str>,
    create: bool,
) -> Option<&'a mut Map<String, Value>> {
    let Some(urn) = urn else { return Some(doc) };
    let key = match key_of(doc, urn) {
        Some(k) => k,
        None if create => {
            doc.insert(urn.to_string(), Value::Object(Map::new()));
            urn.to_string()
        }
        None => return None,
    };
    if !doc[&key].is_object() {
        if !create {
            return None;
        }
        doc[&key] = Value::Object(Map::new());
    }
    doc.get_mut(&key).and_then(Value::as_object_mut)
}

/// Merges `value` into `slot` (add) or sets it (replace).
fn merge(slot: &mut Value, value: Value, op: OpKind) {
    match (slot, value) {
        (Value::Array(have), Value::Array(new)) if op == OpKind::Add => {
            for v in new {
                if !have.contains(&v) {
                    have.push(v);
                }
            }
        }
        (Value::Array(have), v @ Value::Object(_)) if op == OpKind::Add => {
            if !have.contains(&v) {
                have.push(v);
            }
        }
        (Value::Object(have), Value::Object(new)) => {
            for (k, v) in new {
                match key_of(have, &k) {
                    Some(existing) if op == OpKind::Add => merge(have.get_mut(&existing).expect("key"), v, op),
                    Some(existing) => {
                        have.insert(existing, v);
                    }
                    None => {
                        have.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

fn set_attr(map: &mut Map<String, Value>, attr: &str, value: Value, op: OpKind) {
    match key_of(map, attr) {
        Some(k) if value.is_null() => {
            map.remove(&k);
        }
        Some(k) => match op {
            OpKind::Add => merge(map.get_mut(&k).expect("key"), value, op),
            _ => {
                map.insert(k, value);
            }
        },
        None if value.is_null() => {}
        None => {
            map.insert(attr.to_string(), value);
        }
    }
}

/// The `attr eq "x"` conditions of a filter, to build the value an add/replace filters for.
fn seeds(f: &Filter, out: &mut Map<String, Value>) {
    match f {
        Filter::And(a, b) => {
            seeds(a, out);
            seeds(b, out);
        }
        Filter::Compare(a, filter::Op::Eq, v) if a.sub.is_none() && a.urn.is_none() => {
            out.insert(a.attr.clone(), v.clone());
        }
        _ => {}
    }
}

fn at_path(doc: &mut Map<String, Value>, p: &AttrPath, op: OpKind, value: Option<Value>, kind: Kind) -> ScimResult<()> {
    let Some(attr) = &p.attr else {
        // The path is a whole extension.
        let urn = p.urn.expect("a path without an attribute names an extension");
        return match op {
            OpKind::Remove => {
                if let Some(k) = key_of(doc, urn) {
                    doc.remove(&k);
                }
                Ok(())
            }
            _ => {
                let Some(Value::Object(v)) = value else {
                    return Err(ScimError::invalid_value("an extension's value must be an object"));
                };
                let slot = container(doc, Some(urn), true).expect("created");
                for (k, v) in v {
                    set_attr(slot, &k, v, op);
                }
                Ok(())
            }
        };
    };
    if p.urn.is_none() && read_only(kind, attr) {
        return Err(ScimError::mutability(format!("{attr} is read-only")));
    }
    if op != OpKind::Remove && value.is_none() {
        return Err(ScimError::invalid_value("add and replace need a value"));
    }
    let Some(map) = container(doc, p.urn, op != OpKind::Remove) else {
        return Ok(());
    };
    match (&p.filter, &p.sub) {
        (None, None) => match op {
            OpKind::Remove => {
                let Some(k) = key_of(map, attr) else { return Ok(()) };
                match (value, map.get_mut(&k)) {
                    // Entra ID removes group members by listing them as the value.
                    (Some(Value::Array(gone)), Some(Value::Array(have))) => {
                        let id = |v: &Value| v.as_object().and_then(|m| get_ci(m, "value")).cloned();
                        have.retain(|h| !gone.iter().any(|g| id(g).is_some() && id(g) == id(h)));
                        if have.is_empty() {
                            map.remove(&k);
                        }
                    }
                    _ => {
                        map.remove(&k);
                    }
                }
                Ok(())
            }
            _ => {
                set_attr(map, attr, value.expect("checked"), op);
                Ok(())
            }
        },
        (None, Some(sub)) => {
            let Some(k) = key_of(map, attr) else {
                if op == OpKind::Remove {
                    return Ok(());
                }
                let mut obj = Map::new();
                obj.insert(sub.clone(), value.expect("checked"));
                map.insert(attr.clone(), Value::Object(obj));
                return Ok(());
            };
            let targets: Vec<&mut Map<String, Value>> = match map.get_mut(&k) {
                Some(Value::Object(o)) => vec![o],
                Some(Value::Array(items)) => items.iter_mut().filter_map(Value::as_object_mut).collect(),
                _ => vec![],
            };
            for t in targets {
                match op {
                    OpKind::Remove => {
                        if let Some(sk) = key_of(t, sub) {
                            t.remove(&sk);
                        }
                    }
                    _ => set_attr(t, sub, value.clone().expect("checked"), op),
                }
            }
            Ok(())
        }
        (Some(f), sub) => {
            let k = key_of(map, attr);
            let items = match k.as_ref().and_then(|k| map.get_mut(k)) {
                Some(Value::Array(items)) => Some(items),
                _ => None,
            };
            let matched: Vec<usize> = items
                .as_ref()
                .map(|items| {
                    items
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| filter::matches(f, v))
                        .map(|(i, _)| i)
                        .collect()
                })
                .unwrap_or_default();
            if matched.is_empty() {
                if op == OpKind::Remove {
                    return Err(ScimError::no_target(format!("no value of {attr} matches the filter")));
                }
                // Entra ID adds a work email as `emails[type eq "work"].value`: the value it
                // filters for is created.
                let mut new = Map::new();
                seeds(f, &mut new);
                match (sub, value.expect("checked")) {
                    (Some(s), v) => {
                        new.insert(s.clone(), v);
                    }
                    (None, Value::Object(o)) => new.extend(o),
                    (None, _) => return Err(ScimError::invalid_value("a filtered value must be an object")),
                }
                let key = k.unwrap_or_else(|| attr.clone());
                match map.get_mut(&key) {
                    Some(Value::Array(items)) => items.push(Value::Object(new)),
                    _ => {
                        map.insert(key, Value::Array(vec![Value::Object(new)]));
                    }
                }
                return Ok(());
            }
            let items = items.expect("matched values exist");
            match (op, sub) {
                (OpKind::Remove, None) => {
                    let mut i = 0;
                    items.retain(|_| {
                        i += 1;
                        !matched.contains(&(i - 1))
                    });
                    if items.is_empty() {
                        map.remove(&k.expect("exists"));
                    }
                }
                (OpKind::Remove, Some(s)) => {
                    for i in matched {
                        if let Some(o) = items[i].as_object_mut() {
                            if let Some(sk) = key_of(o, s) {
                                o.remove(&sk);
                            }
                        }
                    }
                }
                (_, Some(s)) => {
                    for i in matched {
                        if let Some(o) = items[i].as_object_mut() {
                            set_attr(o, s, value.clone().expect("checked"), op);
                        }
                    }
                }
                (_, None) => {
                    for i in matched {
                        merge(&mut items[i], value.clone().expect("checked"), OpKind::Replace);
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(doc: Value, body: Value, kind: Kind) -> ScimResult<Value> {
        let mut d = doc.as_object().unwrap().clone();
        apply(&mut d, &body, kind)?;
        Ok(Value::Object(d))
    }

    fn ops(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP], "Operations": ops})
    }

    #[test]
    fn okta_deactivates_without_a_path() {
        let d = patched(
            json!({"userName": "a", "active": true}),
            ops(json!([{"op": "replace", "value": {"active": false}}])),
            Kind::User,
        )
        .unwrap();
        assert_eq!(d["active"], json!(false));
    }

    #[test]
    fn entra_shapes() {
        let d = patched(
            json!({"userName": "a", "emails": [{"value": "old@x.test", "type": "work", "primary": true}]}),
            ops(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.test"},
                {"op": "Add", "path": "emails[type eq \"home\"].value", "value": "h@x.test"},
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "value": {"name.givenName": "Ann", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Ops"}}
            ])),
            Kind::User,
        )
        .unwrap();
        assert_eq!(d["emails"][0]["value"], json!("new@x.test"));
        assert_eq!(d["emails"][1], json!({"type": "home", "value": "h@x.test"}));
        assert_eq!(d["active"], json!("False"));
        assert_eq!(d["name"]["givenName"], json!("Ann"));
        assert_eq!(
            d["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
            json!("Ops")
        );
    }

    #[test]
    fn okta_renames_a_group_with_its_id_in_the_value() {
        let d = patched(
            json!({"displayName": "Old"}),
            ops(json!([{"op": "replace", "value": {"id": "g-1", "displayName": "New"}}])),
            Kind::Group,
        )
        .unwrap();
        assert_eq!(d, json!({"displayName": "New"}));
    }

    #[test]
    fn group_members_add_and_remove() {
        let g = json!({"displayName": "Eng", "members": [{"value": "m1"}]});
        let d = patched(
            g.clone(),
            ops(json!([{"op": "add", "path": "members", "value": [{"value": "m2"}, {"value": "m1"}]}])),
            Kind::Group,
        )
        .unwrap();
        assert_eq!(d["members"], json!([{"value": "m1"}, {"value": "m2"}]));
        let d = patched(
            d,
            ops(json!([{"op": "remove", "path": "members[value eq \"m1\"]"}])),
            Kind::Group,
        )
        .unwrap();
        assert_eq!(d["members"], json!([{"value": "m2"}]));
        let d = patched(
            d,
            ops(json!([{"op": "Remove", "path": "members", "value": [{"value": "m2"}]}])),
            Kind::Group,
        )
        .unwrap();
        assert!(d.get("members").is_none());
    }

    #[test]
    fn bad_operations_are_refused() {
        let doc = json!({"userName": "a"});
        for (body, scim_type) in [
            (json!({"Operations": "x"}), "invalidSyntax"),
            (ops(json!([{"op": "move", "path": "x", "value": 1}])), "invalidSyntax"),
            (ops(json!([{"op": "remove"}])), "noTarget"),
            (
                ops(json!([{"op": "replace", "path": "id", "value": "x"}])),
                "mutability",
            ),
            (
                ops(json!([{"op": "add", "path": "bad path", "value": 1}])),
                "invalidPath",
            ),
            (
                ops(json!([{"op": "remove", "path": "emails[type eq \"work\"]"}])),
                "noTarget",
            ),
            (json!({"schemas": ["urn:x"], "Operations": []}), "invalidSyntax"),
        ] {
            let e = patched(doc.clone(), body.clone(), Kind::User).unwrap_err();
            assert_eq!(e.scim_type, Some(scim_type), "{body}");
        }
    }
}
