//! The service code's three tiers, kept honest: `rules` (pure) imports neither `engine` nor
//! `service`; `engine` never imports `service`, and its modules import one another without a
//! cycle; a `service` module (one Stytch API family) never imports another family.
//!
//! It reads the sources rather than the compiler's view: an import is any `crate::<tier>::<module>`
//! path or `use crate::<tier>::{…}` group, which is how every module here names its dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sources(tier: &str) -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(tier);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

/// The modules of `tier` that `text` imports, by `crate::tier::m` paths and `use crate::tier::{m, …}`.
fn imports(text: &str, tier: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let prefix = format!("crate::{tier}::");
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        rest = &rest[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let module = item.trim().split("::").next().unwrap_or("").trim();
                if !module.is_empty() {
                    found.insert(module.to_string());
                }
            }
        } else {
            let module: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            found.insert(module);
        }
    }
    // Items of the tier's own mod.rs (Ctx, …) are not modules.
    found.retain(|m| m.chars().next().is_some_and(|c| c.is_lowercase()));
    found
}

#[test]
fn rules_import_neither_engine_nor_service() {
    for (name, text) in sources("rules") {
        for upper in ["engine", "service"] {
            assert!(
                imports(&text, upper).is_empty(),
                "rules/{name}.rs imports {upper}: {:?}",
                imports(&text, upper)
            );
        }
    }
}

#[test]
fn engine_never_imports_service() {
    for (name, text) in sources("engine") {
        assert!(
            imports(&text, "service").is_empty(),
            "engine/{name}.rs imports service: {:?}",
            imports(&text, "service")
        );
    }
}

#[test]
fn no_family_imports_another() {
    for (name, text) in sources("service") {
        let others: Vec<String> = imports(&text, "service").into_iter().filter(|m| *m != name).collect();
        assert!(
            others.is_empty(),
            "service/{name}.rs imports other families: {others:?}"
        );
        assert!(
            !text.contains("super::") || name == "mod",
            "service/{name}.rs reaches a sibling through super::"
        );
    }
}

#[test]
fn engine_modules_form_no_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = sources("engine")
        .into_iter()
        .filter(|(name, _)| name != "mod")
        .map(|(name, text)| {
            let mut deps = imports(&text, "engine");
            deps.remove(&name);
            (name, deps)
        })
        .collect();
    // Depth-first search; a module met again while on the path closes a cycle.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = path.iter().position(|n| *n == node) {
            panic!("engine import cycle: {} -> {node}", path[at..].join(" -> "));
        }
        path.push(node);
        for dep in graph.get(node).into_iter().flatten() {
            visit(dep, graph, path, done);
        }
        path.pop();
        done.insert(node);
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
}

/// Writes that change what a member, organization or session may do. In the families whose calls
/// a member session may make, they go through the engine functions that take a `Grant`, so a use
/// case that skips its authorization check does not compile.
const GUARDED_WRITES: &[&str] = &[
    "insert_member",
    "update_member",
    "delete_member_sessions",
    "delete_session",
    "delete_password",
    "delete_totp",
    "delete_retired_email",
    "update_org",
    "delete_org",
    "set_org_roles",
    "require_password_reset",
];

#[test]
fn caller_checked_families_write_only_through_grants() {
    let handlers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../latch-http/src/routes");
    let mut files: Vec<(String, String)> = ["members", "organizations", "sessions"]
        .iter()
        .map(|f| (format!("service/{f}.rs"), sources("service")[*f].clone()))
        .collect();
    // Route families with several files keep them in a directory.
    let mut dirs = vec![handlers];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    for (name, text) in files {
        for write in GUARDED_WRITES {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(
                !compact.contains(&format!("store.{write}(")),
                "{name} calls store.{write} directly instead of through a Grant"
            );
        }
    }
}

#[test]
fn the_checks_see_imports() {
    // Guards the guard: the parser finds both forms of import.
    let text = "use crate::engine::{session, mfa::finish_mfa, Ctx};\nlet x = crate::engine::codes::send_code;";
    let found = imports(text, "engine");
    assert_eq!(
        found,
        ["codes", "mfa", "session"].into_iter().map(String::from).collect()
    );
    assert!(imports("use crate::service::otps;", "service").contains("otps"));
}
