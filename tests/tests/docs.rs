//! The docs say where things are; these tests keep them true:
//!
//! - every repository path the docs and the README name in backticks
//!   (`shared/…`, `workers/…`, `tests/…`, `docs/…`, `infra/…`, `scripts/…`,
//!   `examples/…`) exists;
//! - every test docs/invariants.md names as `file::test` is in that file, so
//!   an invariant never points to a test that was renamed or deleted.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

const ROOTS: &[&str] = &[
    "shared/",
    "workers/",
    "tests/",
    "docs/",
    "infra/",
    "scripts/",
    "examples/",
];

/// The text between backticks, line by line, with the line number.
fn quoted(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut parts = line.split('`');
        parts.next();
        while let Some(inside) = parts.next() {
            out.push((n + 1, inside.to_owned()));
            parts.next();
        }
    }
    out
}

/// A quoted repository path, without a `::test` suffix, a `:line` suffix or
/// a trailing glob; `None` for anything that is not one.
fn repo_path(quote: &str) -> Option<&str> {
    let path = quote.split("::").next()?;
    let path = path.split(':').next()?;
    if path.contains(' ') || path.contains('{') || path.contains('<') {
        return None;
    }
    ROOTS.iter().any(|r| path.starts_with(r)).then_some(path)
}

/// Whether `path` is in the repository; a `*` in its file name matches
/// any text (`shared/core/tests/plan_*.rs`).
fn exists(root: &Path, path: &str) -> bool {
    let full = root.join(path);
    let name = full.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some((before, after)) = name.split_once('*') else {
        return full.exists();
    };
    let Some(dir) = full.parent() else {
        return false;
    };
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.len() >= before.len() + after.len() && n.starts_with(before) && n.ends_with(after)
        })
    })
}

fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is in the repository")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.push(root.join("README.md"));
    docs.push(root.join("infra/README.md"));
    docs.sort();
    docs
}

#[test]
fn every_path_the_docs_name_exists() {
    let root = workspace();
    let mut missing = Vec::new();
    let mut checked = 0;
    for doc in documents(&root) {
        let text = std::fs::read_to_string(&doc).expect("a readable doc");
        for (line, quote) in quoted(&text) {
            let Some(path) = repo_path(&quote) else {
                continue;
            };
            checked += 1;
            if !exists(&root, path) {
                missing.push(format!(
                    "{}:{line}: `{quote}`",
                    doc.strip_prefix(&root).unwrap_or(&doc).display()
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} paths found: is the scan broken?"
    );
    assert!(
        missing.is_empty(),
        "paths named in the docs that are not in the repository (fix the doc or the path):\n{}",
        missing.join("\n")
    );
}

/// Whether `source` defines or declares test `name` outside a comment: as
/// `fn name`, or as the first argument of a macro that makes tests
/// (`scenario!(name, …)`).
fn has_test(source: &str, name: &str) -> bool {
    source.lines().any(|line| {
        let code = line.trim_start();
        if code.starts_with("//") {
            return false;
        }
        code.contains(&format!("fn {name}("))
            || code.contains(&format!("fn {name}<"))
            || code.contains(&format!("({name},"))
            || code.starts_with(&format!("{name},"))
            || code.starts_with(&format!("{name}:"))
            || code.starts_with(&format!("{name} =>"))
    })
}

/// Whether `source` runs the adapter contract suites and `test`
/// (`module::name`) is one the suites' macros make.
fn runs_contract_test(root: &Path, source: &str, test: &str) -> bool {
    let Some((_, name)) = test.rsplit_once("::") else {
        return false;
    };
    let suites = std::fs::read_to_string(root.join("shared/contract/src/lib.rs"))
        .expect("the contract crate lists its suites");
    source.contains("ripcord_contract::") && has_test(&suites, name)
}

#[test]
fn every_test_an_invariant_names_exists() {
    let root = workspace();
    let text =
        std::fs::read_to_string(root.join("docs/invariants.md")).expect("docs/invariants.md");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (line, quote) in quoted(&text) {
        let Some((file, test)) = quote.split_once("::") else {
            continue;
        };
        if repo_path(file).is_none() || !file.ends_with(".rs") {
            continue;
        }
        checked += 1;
        match std::fs::read_to_string(root.join(file)) {
            Ok(source) if has_test(&source, test) => {}
            Ok(source) if runs_contract_test(&root, &source, test) => {}
            Ok(_) => wrong.push(format!(
                "docs/invariants.md:{line}: no test `{test}` in {file}"
            )),
            Err(_) => wrong.push(format!("docs/invariants.md:{line}: no file {file}")),
        }
    }
    assert!(
        checked > 50,
        "only {checked} tests found: is the scan broken?"
    );
    assert!(
        wrong.is_empty(),
        "tests named by docs/invariants.md that are not where it says (fix the doc or rename the test back):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checks_see_a_wrong_path_and_a_missing_test() {
    assert_eq!(
        repo_path("shared/core/src/x.rs::a_test"),
        Some("shared/core/src/x.rs")
    );
    assert_eq!(
        repo_path("workers/src/step.rs:12"),
        Some("workers/src/step.rs")
    );
    assert_eq!(repo_path("ripcord run"), None);
    let root = workspace();
    assert!(exists(&root, "shared/core/tests/plan_*.rs"));
    assert!(!exists(&root, "shared/core/tests/nothing_*.rs"));
    assert!(!exists(&root, "shared/core/src/machine/records.rs"));
    let source = "// fn gone() {}\n#[test]\nfn here() {}\nscenario!(by_macro, \"x\");\n";
    assert!(has_test(source, "here"));
    assert!(has_test(source, "by_macro"));
    assert!(!has_test(source, "gone"));
    assert!(!has_test(source, "her"));
}
