//! The SCIM service's parsers, fed by whoever holds a connection's bearer token: filters, PATCH
//! paths and PatchOp bodies. Never a panic; any text is a filter or an `invalidFilter` error and
//! any body a patched document or a 400 (after which the caller writes nothing); a quoted value
//! compares as itself whatever it contains; the server's own attributes are never written.

use super::{cheap, json_with_keys};
use latch_core::scim::{filter, patch, path, Kind};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const KEYS: &[&str] = &[
    "schemas",
    "Operations",
    "op",
    "path",
    "value",
    "add",
    "Replace",
    "remove",
    "userName",
    "emails",
    "emails[type eq \"work\"].value",
    "members",
    "members[value eq \"m1\"]",
    "name.givenName",
    "id",
    "meta",
    "active",
    "urn:ietf:params:scim:api:messages:2.0:PatchOp",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
];

fn doc() -> Map<String, Value> {
    json!({"userName": "a@acme.test", "emails": [{"value": "a@acme.test", "type": "work"}], "members": [{"value": "m1"}]})
        .as_object()
        .cloned()
        .unwrap()
}

proptest! {
    #![proptest_config(cheap(512))]

    #[test]
    fn any_filter_text_parses_or_is_refused(text in "\\PC{0,64}", shaped in "[a-zA-Z.\\[\\]()\" ]{0,48}") {
        for t in [&text, &shaped] {
            if let Err(e) = filter::parse(t, Kind::User) {
                prop_assert_eq!((e.status, e.scim_type), (400, Some("invalidFilter")));
            }
            let _ = path::parse(t, Kind::User);
        }
    }

    #[test]
    fn a_quoted_value_compares_as_itself(v in "\\PC{0,24}") {
        let quoted = serde_json::to_string(&v).unwrap();
        let f = filter::parse(&format!("userName eq {quoted}"), Kind::User).unwrap();
        let same = json!({"userName": v});
        let other = json!({"userName": format!("{v}x")});
        prop_assert!(filter::matches(&f, &same));
        prop_assert!(!filter::matches(&f, &other));
    }

    #[test]
    fn any_patch_body_applies_or_is_refused(body in json_with_keys(KEYS), ops in prop::collection::vec(json_with_keys(KEYS), 0..4)) {
        for b in [body, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})] {
            for kind in [Kind::User, Kind::Group] {
                let mut d = doc();
                match patch::apply(&mut d, &b, kind) {
                    Ok(()) => {
                        prop_assert!(!d.keys().any(|k| k.eq_ignore_ascii_case("id") || k.eq_ignore_ascii_case("meta")));
                    }
                    Err(e) => prop_assert_eq!(e.status, 400),
                }
            }
        }
    }
}
