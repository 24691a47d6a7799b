//! Bad input, made on purpose, for the fuzz properties (proptest, on the
//! stable toolchain; `tests/tests/fuzz_parsers.rs`, `tests/tests/fuzz_api.rs`).
//!
//! Random bytes rarely get past a parser's first character, so besides
//! them these strategies take a valid document and break it the ways real
//! input breaks: cut off at any point, a byte flipped, a piece deleted or
//! repeated, a line or a key written twice, a value replaced by one of the
//! wrong type, a huge number, deep nesting, odd unicode, a very long
//! string. [`assert_readable`] is what every rejection must be.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// The fuzz properties' configuration: `default` cases, or
/// `PROPTEST_CASES` for a longer run; failures are kept beside the test
/// file (`*.proptest-regressions`) and run first from then on.
pub fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// Asserts that `error` (a rejection's text) says something a person can
/// read: not blank, no control characters but newlines and tabs, no line
/// longer than `max_line` bytes.
pub fn assert_readable(what: &str, error: &str, max_line: usize) {
    assert!(!error.trim().is_empty(), "{what}: an empty error");
    if let Some(c) = error
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        panic!(
            "{what}: the error holds the control character {c:?}: {}",
            ripcord::reason::readable(error, 400)
        );
    }
    if let Some(line) = error.lines().find(|l| l.len() > max_line) {
        panic!(
            "{what}: an error line of {} bytes: {}",
            line.len(),
            ripcord::reason::readable(line, 400)
        );
    }
}

/// Snippets that break parsers: wrong types, huge and odd numbers, YAML's
/// and JSON's special characters, unicode that is hard to print.
const SNIPPETS: &[&str] = &[
    "[]",
    "{}",
    "null",
    "~",
    "true",
    "\"\"",
    "''",
    "0",
    "-1",
    "18446744073709551616",
    "99999999999999999999999999999999999999",
    "1e999",
    "-0.0",
    ".nan",
    ".inf",
    "NaN",
    "0x1F",
    "1_000",
    "9999999999999999999y",
    "584942417355y",
    "1h 1h 1h",
    "&a",
    "*a",
    "*nope",
    "!!binary",
    "!!str",
    "<<: *a",
    "---",
    "...",
    "? ",
    ": ",
    "- ",
    "\t",
    "#",
    "|",
    ">-",
    "%YAML 1.2",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\\",
    "\"",
    "'",
    ",",
    "\u{0}",
    "\u{1b}[31m",
    "\u{202e}",
    "\u{feff}",
    "\u{fffd}",
    "\u{ffff}",
    "😀",
    "é",
    "s-1234567890abcdef0",
    "s-1234567890ABCDEF0",
    "s-",
    "2026-12-01T06:00:00Z",
    "+262143-12-31T23:59:59Z",
    "drsjob-0123456789abcdef0",
];

/// A place in a document: a fraction of its length, so that one value
/// means a place in any document (and shrinks towards its start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At(pub u32);

impl At {
    /// The place in a document of `size` places (0 when it has none).
    pub fn index(&self, size: usize) -> usize {
        ((u64::from(self.0) * size as u64) >> 32) as usize
    }
}

impl Arbitrary for At {
    type Parameters = ();
    type Strategy = prop::strategy::Map<prop::num::u32::Any, fn(u32) -> At>;
    fn arbitrary_with(_: ()) -> Self::Strategy {
        any::<u32>().prop_map(At as fn(u32) -> At)
    }
}

/// One way to break a text document.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Cut it off here.
    Truncate(At),
    /// Flip one bit of one byte (the result read as lossy UTF-8).
    FlipBit(At, u8),
    /// Insert a snippet here.
    Insert(At, &'static str),
    /// Replace the word here with a snippet.
    ReplaceWord(At, &'static str),
    /// Delete up to this many bytes here.
    Delete(At, usize),
    /// Write the line here twice (a YAML key set twice, a JSON member).
    DuplicateLine(At),
    /// Repeat the piece here until it is very long.
    Repeat(At, usize),
    /// Open this many lists or mappings here.
    Nest(At, usize, bool),
    /// Insert random characters here.
    Noise(At, String),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop::sample::select(SNIPPETS);
    prop_oneof![
        any::<At>().prop_map(Mutation::Truncate),
        (any::<At>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<At>(), snippet.clone()).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<At>(), snippet).prop_map(|(i, s)| Mutation::ReplaceWord(i, s)),
        (any::<At>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<At>().prop_map(Mutation::DuplicateLine),
        (any::<At>(), prop_oneof![Just(1_000usize), Just(100_000)])
            .prop_map(|(i, n)| Mutation::Repeat(i, n)),
        (
            any::<At>(),
            prop_oneof![1usize..64, Just(10_000)],
            any::<bool>()
        )
            .prop_map(|(i, n, map)| Mutation::Nest(i, n, map)),
        (any::<At>(), "\\PC{0,12}").prop_map(|(i, s)| Mutation::Noise(i, s)),
    ]
}

/// `valid` broken by one to three mutations.
pub fn mutated(valid: String) -> impl Strategy<Value = String> {
    prop::collection::vec(mutation(), 1..=3)
        .prop_map(move |ms| ms.iter().fold(valid.clone(), |text, m| apply(&text, m)))
}

/// Random input of every kind: bytes read as lossy UTF-8, any string,
/// or one of the valid documents broken.
pub fn bad_text(valid: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => any::<String>(),
        6 => prop::sample::select(valid).prop_flat_map(mutated),
    ]
}

/// Applies one mutation.
pub fn apply(text: &str, m: &Mutation) -> String {
    let at = |i: &At| floor(text, i.index(text.len() + 1));
    match m {
        Mutation::Truncate(i) => text[..at(i)].to_owned(),
        Mutation::FlipBit(i, bit) => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                bytes[at] ^= 1 << bit;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::Insert(i, s) => splice(text, at(i), at(i), s),
        Mutation::ReplaceWord(i, s) => {
            let start = at(i);
            let end = text[start..]
                .find(|c: char| c.is_whitespace() || ",:[]{}\"".contains(c))
                .map_or(text.len(), |n| start + n.max(1));
            splice(text, start, floor(text, end), s)
        }
        Mutation::Delete(i, n) => {
            let start = at(i);
            splice(text, start, floor(text, start + n), "")
        }
        Mutation::DuplicateLine(i) => {
            let start = text[..at(i)].rfind('\n').map_or(0, |n| n + 1);
            let end = text[start..]
                .find('\n')
                .map_or(text.len(), |n| start + n + 1);
            let line = text[start..end].to_owned();
            let line = if line.ends_with('\n') {
                line
            } else {
                format!("\n{line}")
            };
            splice(text, end, end, &line)
        }
        Mutation::Repeat(i, n) => {
            let start = at(i);
            let end = floor(text, start + 8);
            let piece = if start == end { "x" } else { &text[start..end] };
            let times = n / piece.len().max(1);
            splice(text, start, start, &piece.repeat(times))
        }
        Mutation::Nest(i, n, map) => {
            let open = if *map { "{a: " } else { "[" };
            splice(text, at(i), at(i), &open.repeat(*n))
        }
        Mutation::Noise(i, s) => splice(text, at(i), at(i), s),
    }
}

fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..start]);
    out.push_str(with);
    out.push_str(&text[end.max(start)..]);
    out
}

/// A JSON document broken at the level of its values: one node (any
/// depth) replaced by raw text — a value of the wrong type, a huge
/// number, deep nesting, the node's own object with a key written twice,
/// a very long string — or removed.
pub fn mutated_json(valid: serde_json::Value) -> impl Strategy<Value = String> {
    let raw = prop_oneof![
        prop::sample::select(SNIPPETS).prop_map(|s: &str| s.to_owned()),
        Just("[".repeat(10_000)),
        Just(format!("{}1{}", "[".repeat(200), "]".repeat(200))),
        Just(format!("\"{}\"", "long ".repeat(50_000))),
        Just("{\"a\": 1, \"a\": 2}".to_owned()),
        "\\PC{0,24}".prop_map(|s| serde_json::Value::String(s).to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
    ];
    (any::<At>(), raw, 0u8..4).prop_map(move |(i, raw, how)| {
        let mut value = valid.clone();
        let nodes = node_count(&value);
        let target = i.index(nodes);
        let mut seen = 0;
        edit_node(&mut value, target, &mut seen, how, &raw)
    })
}

const PLACEHOLDER: &str = "\u{1}ripcord-fuzz-node\u{1}";

/// Replaces node `target` (pre-order) with a placeholder, serializes, and
/// puts the raw text in its place. `how`: 0 raw text, 1 the object with its
/// first member twice, 2 removed (null at the root), 3 the raw text as the
/// node's sibling member `extra`.
fn edit_node(
    value: &mut serde_json::Value,
    target: usize,
    seen: &mut usize,
    how: u8,
    raw: &str,
) -> String {
    let mut replacement = raw.to_owned();
    if let Some(node) = find_node(value, target, seen) {
        match how {
            1 if node.is_object() => {
                let object = node.as_object().expect("an object");
                let members: Vec<String> = object
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::Value::String(k.clone())))
                    .collect();
                let first = members.first().cloned().unwrap_or_default();
                let mut all = members;
                if !first.is_empty() {
                    all.push(first);
                }
                replacement = format!("{{{}}}", all.join(","));
            }
            2 => replacement = "null".to_owned(),
            3 if node.is_object() => {
                node.as_object_mut()
                    .expect("an object")
                    .insert("extra".to_owned(), PLACEHOLDER.into());
                return value.to_string().replace(
                    &serde_json::Value::String(PLACEHOLDER.to_owned()).to_string(),
                    raw,
                );
            }
            _ => {}
        }
        *node = PLACEHOLDER.into();
    }
    value.to_string().replace(
        &serde_json::Value::String(PLACEHOLDER.to_owned()).to_string(),
        &replacement,
    )
}

fn node_count(value: &serde_json::Value) -> usize {
    1 + match value {
        serde_json::Value::Array(a) => a.iter().map(node_count).sum(),
        serde_json::Value::Object(o) => o.values().map(node_count).sum(),
        _ => 0,
    }
}

fn find_node<'a>(
    value: &'a mut serde_json::Value,
    target: usize,
    seen: &mut usize,
) -> Option<&'a mut serde_json::Value> {
    if *seen == target {
        return Some(value);
    }
    *seen += 1;
    match value {
        serde_json::Value::Array(a) => a.iter_mut().find_map(|v| find_node(v, target, seen)),
        serde_json::Value::Object(o) => o.values_mut().find_map(|v| find_node(v, target, seen)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_keep_utf_8_and_change_the_text() {
        let text = "name: é-drill\nwaves: [a, b]\n";
        assert_eq!(apply(text, &Mutation::Truncate(At(0))), "");
        assert_eq!(apply(text, &Mutation::Truncate(At(u32::MAX))), text);
        let dup = apply(text, &Mutation::DuplicateLine(At(0)));
        assert_eq!(dup.matches("name:").count(), 2, "{dup}");
        let nested = apply(text, &Mutation::Nest(At(0), 3, false));
        assert!(nested.starts_with("[[["), "{nested}");
    }
}
