//! The module rules of ARCHITECTURE.md, read from the source: no import circles between the
//! top-level modules, the warehouse imports no format, query does not import pull, and only
//! `messages` prints to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::{files, repo};

/// Top-level module of each source file → the top-level modules it names as `crate::X`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let modules: BTreeSet<String> = files(&src).iter().filter_map(|f| module_of(f)).collect();
    for f in files(&src) {
        let Some(module) = module_of(&f) else {
            continue;
        };
        let text = std::fs::read_to_string(src.join(&f)).expect("source");
        let used = out.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != module && modules.contains(&name) {
                used.insert(name);
            }
        }
    }
    out
}

fn module_of(file: &Path) -> Option<String> {
    let first = file.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (file.extension().is_some_and(|e| e == "rs") && !["lib", "main"].contains(&name))
        .then(|| name.to_string())
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    // Depth-first search for a cycle, naming it.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = stack.iter().position(|s| s == m) {
            panic!("import circle: {} → {m}", stack[at..].join(" → "));
        }
        if done.contains(m) {
            return;
        }
        stack.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            visit(next, graph, stack, done);
        }
        stack.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
    assert!(graph.contains_key("formats") && graph.contains_key("warehouse"));
}

#[test]
fn the_warehouse_knows_no_format_and_query_no_pull() {
    let graph = imports();
    assert!(
        !graph["warehouse"].contains("formats"),
        "{:?}",
        graph["warehouse"]
    );
    assert!(!graph["query"].contains("pull"), "{:?}", graph["query"]);
    assert!(!graph["formats"].contains("pull"), "{:?}", graph["formats"]);
    assert!(
        !graph["formats"].contains("config"),
        "{:?}",
        graph["formats"]
    );
}

#[test]
fn only_messages_prints_to_stderr() {
    let src = repo().join("src");
    for f in files(&src) {
        let text = std::fs::read_to_string(src.join(&f)).expect("source");
        if f == Path::new("messages.rs") {
            continue;
        }
        for bad in ["eprintln!", "eprint!"] {
            assert!(!text.contains(bad), "{} uses {bad}", f.display());
        }
    }
}
