//! The workspace's layout, checked on the source itself:
//!
//! - imports between the files of one module directory run one way: no
//!   file uses a sibling that uses it back, directly or round a longer
//!   circle (docs/architecture.md, "Layout");
//! - no production file is longer than [`MAX_LINES`], apart from the few
//!   in [`TOO_LONG`] that are still to be split.
//!
//! The check reads every crate under `shared/*/src` and `workers/src` with
//! a small lexer (std only): it follows `mod` declarations from each crate
//! root, leaves out `#[cfg(test)]` items (a test module uses its parent
//! legitimately), and resolves `use` declarations and `crate::`, `super::`
//! and `self::` paths in code to the file that defines the item. A use of
//! a parent's re-export counts as a use of the file the item comes from;
//! a child directory counts as one node in its parent's graph.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// The longest a production file may be, counting lines before a trailing
/// `#[cfg(test)] mod tests` block.
const MAX_LINES: usize = 600;

/// Files still over [`MAX_LINES`]; each is to be split, and leaves this list
/// when it is.
const TOO_LONG: &[&str] = &[];

/// Files that circles still run through, each with its directory: the
/// check sets the file aside and finds no other circle there. An entry
/// leaves the list once no circle runs through its file.
const KNOWN_CIRCLES: &[(&str, &str)] = &[];

#[test]
fn no_import_circle_between_the_files_of_a_module() {
    let graphs = graphs(&workspace());
    let unexpected: Vec<String> = circles(&graphs, KNOWN_CIRCLES)
        .into_iter()
        .map(|c| c.text)
        .collect();
    let all = circles(&graphs, &[]);
    let gone: Vec<String> = KNOWN_CIRCLES
        .iter()
        .filter(|(dir, file)| {
            !all.iter()
                .any(|c| c.dir == *dir && c.members.contains(*file))
        })
        .map(|(dir, file)| format!("{dir}/{file}"))
        .collect();
    assert!(
        unexpected.is_empty() && gone.is_empty(),
        "import circles between the files of a module (each line: one circle, then the references that make it):\n{}\n\
         known circles that are gone (take them off KNOWN_CIRCLES):\n{}",
        unexpected.join("\n"),
        gone.join("\n")
    );
}

#[test]
fn no_production_file_is_over_the_line_limit() {
    let root = workspace();
    let mut too_long = Vec::new();
    let mut fits = Vec::new();
    let mut seen = Vec::new();
    for krate in crates(&root) {
        for module in krate.modules.values() {
            let shown = relative(&root, &module.file);
            seen.push(shown.clone());
            let lines = production_lines(&module.text);
            let allowed = TOO_LONG.contains(&shown.as_str());
            if lines > MAX_LINES && !allowed {
                too_long.push(format!("{shown}: {lines} lines"));
            } else if lines <= MAX_LINES && allowed {
                fits.push(format!("{shown}: {lines} lines (take it off TOO_LONG)"));
            }
        }
    }
    fits.extend(
        TOO_LONG
            .iter()
            .filter(|allowed| !seen.iter().any(|s| s == *allowed))
            .map(|gone| format!("{gone}: no such file (take it off TOO_LONG)")),
    );
    too_long.sort();
    fits.sort();
    assert!(
        too_long.is_empty() && fits.is_empty(),
        "production files over {MAX_LINES} lines:\n{}\nallowed but no longer over:\n{}",
        too_long.join("\n"),
        fits.join("\n")
    );
}

/// The checker itself, on a small tree written for the purpose: a circle
/// through a parent's re-export is found, a one-way tree passes.
#[test]
fn the_checker_finds_a_circle_through_a_re_export() {
    let dir = std::env::temp_dir().join(format!("ripcord-layout-{}", std::process::id()));
    let src = dir.join("shared/demo/src");
    let write = |path: &str, text: &str| {
        let file = src.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    };
    write("lib.rs", "pub mod machine;\n");
    write(
        "machine/mod.rs",
        "mod decide;\nmod launch;\n#[cfg(test)]\nmod tests;\npub use decide::Ctx;\n",
    );
    write(
        "machine/decide.rs",
        "// launch::start is named in a comment only: super::launch::x\n\
         pub struct Ctx;\nfn run() { let s = \"super::launch::start\"; }\n",
    );
    write(
        "machine/launch.rs",
        "use super::Ctx;\npub fn start(_: Ctx) {}\n",
    );
    write(
        "machine/tests.rs",
        "use super::decide::Ctx;\nuse super::launch;\n",
    );
    assert!(
        circles(&graphs(&dir), &[]).is_empty(),
        "one way: launch → decide"
    );

    write(
        "machine/decide.rs",
        "pub struct Ctx;\nfn run() { super::launch::start(Ctx) }\n",
    );
    let found = circles(&graphs(&dir), &[]);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .text
            .starts_with("shared/demo/src/machine: decide.rs → launch.rs → decide.rs"),
        "{}",
        found[0].text
    );
}

/// The tree to check: this workspace, or the checkout that
/// `RIPCORD_LAYOUT_ROOT` names (to see what the check says of another
/// revision without building it).
fn workspace() -> PathBuf {
    if let Some(root) = std::env::var_os("RIPCORD_LAYOUT_ROOT") {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Lines of `text` before a trailing `#[cfg(test)] mod tests { … }`.
fn production_lines(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let tests_start = (0..lines.len()).rev().find(|&i| {
        lines[i].trim() == "#[cfg(test)]"
            && lines[i + 1..]
                .iter()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_start().starts_with("mod tests {"))
    });
    tests_start.unwrap_or(lines.len())
}

// ---------------------------------------------------------------- crates

/// One module backed by a file.
struct Module {
    file: PathBuf,
    /// The raw text (for the line count).
    text: String,
    /// The code's tokens, with comments, literals and `#[cfg(test)]` items
    /// left out.
    tokens: Vec<Token>,
    /// Child modules declared (outside `#[cfg(test)]`) and found on disk.
    children: BTreeSet<String>,
    /// Names this file defines (fn, struct, enum, …).
    defines: BTreeSet<String>,
    /// `pub use` declarations: (name it is known by here, path, glob).
    reexports: Vec<UseItem>,
}

/// One crate (a library, or a binary's root): its modules by path from
/// the root.
struct Crate {
    modules: BTreeMap<Vec<String>, Module>,
}

/// Every crate under `shared/*/src` and `workers/src`: `lib.rs`, `main.rs`
/// and `bin/*.rs` are roots.
fn crates(root: &Path) -> Vec<Crate> {
    let mut src_dirs: Vec<PathBuf> = fs::read_dir(root.join("shared"))
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.path().join("src"))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    src_dirs.sort();
    src_dirs.push(root.join("workers/src"));
    let mut crates = Vec::new();
    for src in src_dirs.into_iter().filter(|p| p.is_dir()) {
        let mut roots = vec![src.join("lib.rs"), src.join("main.rs")];
        if let Ok(bins) = fs::read_dir(src.join("bin")) {
            roots.extend(bins.filter_map(|e| e.ok()).map(|e| e.path()));
        }
        for file in roots.into_iter().filter(|p| p.is_file()) {
            let mut modules = BTreeMap::new();
            load(&mut modules, Vec::new(), file, true);
            crates.push(Crate { modules });
        }
    }
    crates
}

/// Reads the module at `path` from `file` and its children, recursively.
fn load(
    modules: &mut BTreeMap<Vec<String>, Module>,
    path: Vec<String>,
    file: PathBuf,
    owns_dir: bool,
) {
    let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let tokens = strip_test_items(tokenize(&text));
    let dir = if owns_dir {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    };
    let mut children = BTreeSet::new();
    let mut child_files = Vec::new();
    for w in tokens.windows(3) {
        if w[0].text == "mod" && w[2].text == ";" {
            let name = w[1].text.clone();
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(&name).join("mod.rs");
            if flat.is_file() {
                child_files.push((name.clone(), flat, false));
            } else if nested.is_file() {
                child_files.push((name.clone(), nested, true));
            } else {
                continue;
            }
            children.insert(name);
        }
    }
    let defines = tokens
        .windows(2)
        .filter(|w| {
            matches!(
                w[0].text.as_str(),
                "fn" | "struct" | "enum" | "const" | "static" | "type" | "trait" | "union"
            )
        })
        .map(|w| w[1].text.clone())
        .collect();
    let reexports = use_declarations(&tokens)
        .into_iter()
        .filter(|u| u.public)
        .flat_map(|u| u.items)
        .collect();
    modules.insert(
        path.clone(),
        Module {
            file,
            text,
            tokens,
            children,
            defines,
            reexports,
        },
    );
    for (name, child, owns) in child_files {
        let mut child_path = path.clone();
        child_path.push(name);
        load(modules, child_path, child, owns);
    }
}

// ----------------------------------------------------------------- lexer

#[derive(Clone, Debug)]
struct Token {
    text: String,
    line: usize,
}

/// Identifiers, `::` and single punctuation characters; comments, string
/// and character literals are dropped (so a path in a doc comment or a
/// message is no reference).
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                line += usize::from(chars.get(i) == Some(&'\n'));
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1; // a lifetime: its name follows as an identifier
            }
        } else if ident(c) {
            let start = i;
            while i < chars.len() && ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let raw_string = matches!(word.as_str(), "r" | "br")
                && matches!(chars.get(i), Some('"') | Some('#'));
            if raw_string {
                let mut hashes = 0;
                while chars.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                i += 1; // the opening quote
                loop {
                    if i >= chars.len() {
                        break;
                    }
                    if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            } else if word == "b" && chars.get(i) == Some(&'"') {
                continue; // a byte string: the quote is read next round
            } else {
                tokens.push(Token { text: word, line });
            }
        } else if c == ':' && next == Some(':') {
            tokens.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            tokens.push(Token {
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    tokens
}

/// Leaves out every item under `#[cfg(test)]` (with the attributes after it).
fn strip_test_items(tokens: Vec<Token>) -> Vec<Token> {
    let is = |i: usize, text: &str| tokens.get(i).is_some_and(|t| t.text == text);
    let mut kept = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let cfg_test = is(i, "#")
            && is(i + 1, "[")
            && is(i + 2, "cfg")
            && is(i + 3, "(")
            && is(i + 4, "test")
            && is(i + 5, ")")
            && is(i + 6, "]");
        if !cfg_test {
            kept.push(tokens[i].clone());
            i += 1;
            continue;
        }
        i += 7;
        // Further attributes on the same item.
        while is(i, "#") && is(i + 1, "[") {
            i = skip_group(&tokens, i + 1);
        }
        // The item: up to a `;` or the end of its `{ … }` at depth 0.
        let mut depth = 0usize;
        while i < tokens.len() {
            match tokens[i].text.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" => depth = depth.saturating_sub(1),
                "}" => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                ";" if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    kept
}

/// The index after the bracketed group that opens at `open`.
fn skip_group(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < tokens.len() {
        match tokens[i].text.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

// ------------------------------------------------------------ references

struct UseDeclaration {
    public: bool,
    items: Vec<UseItem>,
    /// Token range, so code paths are not read twice.
    span: (usize, usize),
}

#[derive(Clone, Debug)]
struct UseItem {
    /// The name it is known by where it is declared (`None` for globs).
    name: Option<String>,
    path: Vec<String>,
    glob: bool,
    line: usize,
}

fn use_declarations(tokens: &[Token]) -> Vec<UseDeclaration> {
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.text != "use" {
            continue;
        }
        let public = i >= 1
            && (tokens[i - 1].text == "pub"
                || (tokens[i - 1].text == ")"
                    && tokens[..i - 1]
                        .iter()
                        .rposition(|t| t.text == "(")
                        .is_some_and(|p| p >= 1 && tokens[p - 1].text == "pub")));
        let mut items = Vec::new();
        let mut j = i + 1;
        if tokens.get(j).is_some_and(|t| t.text == "::") {
            j += 1;
        }
        use_tree(tokens, &mut j, Vec::new(), &mut items);
        while j < tokens.len() && tokens[j].text != ";" {
            j += 1;
        }
        found.push(UseDeclaration {
            public,
            items,
            span: (i, j),
        });
    }
    found
}

/// Reads one use tree at `*at` under `prefix`.
fn use_tree(tokens: &[Token], at: &mut usize, mut prefix: Vec<String>, out: &mut Vec<UseItem>) {
    loop {
        let Some(token) = tokens.get(*at) else { return };
        let line = token.line;
        match token.text.as_str() {
            "*" => {
                *at += 1;
                out.push(UseItem {
                    name: None,
                    path: prefix,
                    glob: true,
                    line,
                });
                return;
            }
            "{" => {
                *at += 1;
                while tokens.get(*at).is_some_and(|t| t.text != "}") {
                    use_tree(tokens, at, prefix.clone(), out);
                    if tokens.get(*at).is_some_and(|t| t.text == ",") {
                        *at += 1;
                    }
                }
                *at += 1;
                return;
            }
            word => {
                *at += 1;
                if tokens.get(*at).is_some_and(|t| t.text == "::") {
                    *at += 1;
                    prefix.push(word.to_owned());
                    continue;
                }
                let mut name = word.to_owned();
                if word == "self" {
                    name = prefix.last().cloned().unwrap_or_default();
                } else {
                    prefix.push(word.to_owned());
                }
                if tokens.get(*at).is_some_and(|t| t.text == "as") {
                    name = tokens.get(*at + 1).map(|t| t.text.clone()).unwrap_or(name);
                    *at += 2;
                }
                out.push(UseItem {
                    name: Some(name),
                    path: prefix,
                    glob: false,
                    line,
                });
                return;
            }
        }
    }
}

/// A path written in `module`'s code or use declarations: (line, path).
fn references(krate: &Crate, module_path: &[String]) -> Vec<(usize, Vec<String>)> {
    let module = &krate.modules[module_path];
    let tokens = &module.tokens;
    let mut found = Vec::new();
    let mut in_use = vec![false; tokens.len()];
    // A module with children re-exports them with `pub use`; that is no use
    // of its own (its users are resolved through it).
    let has_children = !module.children.is_empty();
    for declaration in use_declarations(tokens) {
        for flag in &mut in_use[declaration.span.0..declaration.span.1.min(tokens.len())] {
            *flag = true;
        }
        if declaration.public && has_children {
            continue;
        }
        found.extend(declaration.items.into_iter().map(|u| (u.line, u.path)));
    }
    let mut i = 0;
    while i < tokens.len() {
        let starts = !in_use[i]
            && (i == 0 || tokens[i - 1].text != "::")
            && tokens.get(i + 1).is_some_and(|t| t.text == "::")
            && (matches!(tokens[i].text.as_str(), "crate" | "super" | "self")
                || module.children.contains(&tokens[i].text))
            // `pub(in crate::x)` names a visibility, not an item.
            && !(i >= 2 && tokens[i - 1].text == "in" && tokens[i - 2].text == "(");
        if !starts {
            i += 1;
            continue;
        }
        let line = tokens[i].line;
        let mut path = vec![tokens[i].text.clone()];
        i += 1;
        while tokens.get(i).is_some_and(|t| t.text == "::")
            && tokens
                .get(i + 1)
                .is_some_and(|t| t.text.chars().all(|c| c.is_alphanumeric() || c == '_'))
        {
            path.push(tokens[i + 1].text.clone());
            i += 2;
        }
        found.push((line, path));
    }
    found
}

/// The module whose file defines what `path`, written in module `from`,
/// names; `None` for paths outside the crate.
fn resolve(krate: &Crate, from: &[String], path: &[String], depth: usize) -> Option<Vec<String>> {
    if depth > 16 {
        return None;
    }
    let mut base: Vec<String> = from.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) if krate.modules[from].children.contains(first) => {}
        _ => return None,
    }
    let mut module = base;
    for segment in rest {
        let mut child = module.clone();
        child.push(segment.clone());
        if krate.modules.contains_key(&child) {
            module = child;
            continue;
        }
        return Some(defining_module(krate, &module, segment, depth + 1));
    }
    Some(module)
}

/// Where `name`, an item of `module`, is defined: `module` itself, or the
/// module one of its `pub use` declarations takes it from.
fn defining_module(krate: &Crate, module: &[String], name: &str, depth: usize) -> Vec<String> {
    let here = &krate.modules[module];
    if here.defines.contains(name) {
        return module.to_vec();
    }
    for reexport in &here.reexports {
        if !reexport.glob
            && reexport.name.as_deref() == Some(name)
            && let Some(found) = resolve(krate, module, &reexport.path, depth)
        {
            return found;
        }
    }
    for reexport in here.reexports.iter().filter(|r| r.glob) {
        if let Some(source) = resolve(krate, module, &reexport.path, depth)
            && krate.modules.contains_key(&source)
        {
            let found = defining_module(krate, &source, name, depth + 1);
            if found != source || krate.modules[&source].defines.contains(name) {
                return found;
            }
        }
    }
    module.to_vec()
}

// ---------------------------------------------------------------- graphs

/// One module directory's graph: node → node → the first reference.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// An import circle: the directory, the files (or child directories) it
/// runs through, and a line that shows one way round with its references.
struct Circle {
    dir: String,
    members: BTreeSet<String>,
    text: String,
}

/// Every module directory's graph, by the directory's path.
fn graphs(root: &Path) -> BTreeMap<String, Graph> {
    let mut graphs: BTreeMap<String, Graph> = BTreeMap::new();
    for krate in crates(root) {
        for from in krate.modules.keys() {
            let file_name = |m: &[String]| {
                let file = &krate.modules[m].file;
                relative(root, file)
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            };
            for (line, path) in references(&krate, from) {
                let Some(to) = resolve(&krate, from, &path, 0) else {
                    continue;
                };
                if !krate.modules.contains_key(&to) {
                    continue;
                }
                let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
                let dir = &from[..common];
                let node = |m: &[String]| {
                    if m.len() == common {
                        file_name(m)
                    } else {
                        let child = &m[..=common];
                        let name = file_name(child);
                        if name == "mod.rs" {
                            format!("{}/", child[common])
                        } else {
                            name
                        }
                    }
                };
                let (a, b) = (node(from), node(&to));
                if a == b {
                    continue;
                }
                let dir_file = &krate.modules[dir].file;
                let dir_name = if matches!(file_name(dir).as_str(), "mod.rs" | "lib.rs" | "main.rs")
                {
                    relative(root, dir_file.parent().unwrap())
                } else {
                    relative(root, &dir_file.with_extension(""))
                };
                let evidence = format!(
                    "{}:{line} {}",
                    relative(root, &krate.modules[from].file),
                    path.join("::")
                );
                graphs
                    .entry(dir_name)
                    .or_default()
                    .entry(a)
                    .or_default()
                    .entry(b)
                    .or_insert(evidence);
            }
        }
    }
    graphs
}

/// Every import circle, one per strongly connected set of files, once the
/// files in `set_aside` (directory, file) are left out.
fn circles(graphs: &BTreeMap<String, Graph>, set_aside: &[(&str, &str)]) -> Vec<Circle> {
    let mut found = Vec::new();
    for (dir, graph) in graphs {
        let aside = |node: &str| set_aside.contains(&(dir.as_str(), node));
        let graph: Graph = graph
            .iter()
            .filter(|(from, _)| !aside(from))
            .map(|(from, edges)| {
                let edges = edges
                    .iter()
                    .filter(|(to, _)| !aside(to))
                    .map(|(to, why)| (to.clone(), why.clone()))
                    .collect();
                (from.clone(), edges)
            })
            .collect();
        let graph = &graph;
        for component in strongly_connected(graph) {
            let cycle = shortest_cycle(graph, &component);
            let references: Vec<&str> = cycle
                .windows(2)
                .map(|w| graph[&w[0]][&w[1]].as_str())
                .collect();
            let text = format!(
                "{dir}: {} (circle of {{{}}}; {})",
                cycle.join(" → "),
                component.iter().cloned().collect::<Vec<_>>().join(", "),
                references.join("; ")
            );
            found.push(Circle {
                dir: dir.clone(),
                members: component,
                text,
            });
        }
    }
    found
}

/// The graph's strongly connected components of more than one node.
fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    let reach = |start: &String| {
        let mut seen = BTreeSet::from([start.clone()]);
        let mut queue = VecDeque::from([start.clone()]);
        while let Some(node) = queue.pop_front() {
            for next in graph.get(&node).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(next.clone()) {
                    queue.push_back(next.clone());
                }
            }
        }
        seen
    };
    let mut components: Vec<BTreeSet<String>> = Vec::new();
    for node in graph.keys() {
        if components.iter().any(|c| c.contains(node)) {
            continue;
        }
        let component: BTreeSet<String> = reach(node)
            .into_iter()
            .filter(|other| reach(other).contains(node))
            .collect();
        if component.len() > 1 {
            components.push(component);
        }
    }
    components
}

/// A shortest circle from the component's first node back to it.
fn shortest_cycle(graph: &Graph, component: &BTreeSet<String>) -> Vec<String> {
    let start = component.iter().next().expect("a component has nodes");
    let mut previous: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = VecDeque::from([start.clone()]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(&node).into_iter().flat_map(|e| e.keys()) {
            if next == start {
                let mut cycle = vec![node.clone()];
                let mut at = node.clone();
                while let Some(p) = previous.get(&at) {
                    cycle.push(p.clone());
                    at = p.clone();
                }
                cycle.reverse();
                cycle.push(start.clone());
                return cycle;
            }
            if component.contains(next) && !previous.contains_key(next) && next != start {
                previous.insert(next.clone(), node.clone());
                queue.push_back(next.clone());
            }
        }
    }
    vec![start.clone()]
}
