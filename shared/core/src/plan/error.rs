//! Plan errors: each one names the file, the line and column of the offending
//! YAML node, what is wrong and how to fix it. A plan's errors are reported
//! all together, in source order, so one run of `ripcord validate` shows them all.

use crate::reason::readable;
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

/// One problem in a plan file, displayed as `file:line:column: message`.
/// Line and column count from 1; both are 0 when the problem has no place
/// in the file (it could not be read, for instance).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PlanError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Every problem found in a plan file, in source order; one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct PlanErrors(pub Vec<PlanError>);

/// A place in the plan file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Pos {
    pub line: u64,
    pub column: u64,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };

    pub fn of<T>(node: &Spanned<T>) -> Pos {
        Pos::from(node.referenced)
    }
}

impl From<Location> for Pos {
    fn from(l: Location) -> Self {
        Pos {
            line: l.line(),
            column: l.column(),
        }
    }
}

/// Collects the errors found while validating one plan file.
#[derive(Debug)]
pub(super) struct ErrorList {
    file: String,
    errors: Vec<PlanError>,
}

impl ErrorList {
    pub fn new(file: &str) -> Self {
        Self {
            file: file_name(file),
            errors: Vec::new(),
        }
    }

    /// Records a problem; what it quotes of the plan is kept readable
    /// (`crate::reason`): a plan may hold anything.
    pub fn push(&mut self, at: Pos, message: impl Into<String>) {
        self.errors.push(PlanError {
            file: self.file.clone(),
            line: at.line,
            column: at.column,
            message: readable(&message.into(), MAX_MESSAGE_BYTES),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors in source order (a stable sort keeps errors at one place in
    /// the order they were found).
    pub fn into_errors(mut self) -> PlanErrors {
        self.errors.sort_by_key(|e| (e.line, e.column));
        PlanErrors(self.errors)
    }
}

/// A YAML error (syntax, unknown field, wrong type) as a plan error. The
/// parse stops at the first of these, so it is the only error reported.
pub(super) fn from_yaml_error(file: &str, err: &serde_saphyr::Error) -> PlanError {
    let at = err.location().map(Pos::from).unwrap_or(Pos::UNKNOWN);
    PlanError {
        file: file_name(file),
        line: at.line,
        column: at.column,
        message: readable(&yaml_message(err.without_snippet()), MAX_MESSAGE_BYTES),
    }
}

/// The longest one plan error's message is, in bytes.
const MAX_MESSAGE_BYTES: usize = 1024;

/// The plan's name as every one of its errors repeats it: short and
/// printable whatever a caller passed (an API request names it).
pub(super) fn file_name(file: &str) -> String {
    if file.is_empty() {
        return "plan.yaml".to_owned();
    }
    readable(file, 256)
}

fn yaml_message(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error as E;
    match err {
        E::SerdeUnknownField {
            field, expected, ..
        } => format!(
            "unknown field `{field}`: the fields allowed here are {}; check its spelling or remove it",
            expected.join(", ")
        ),
        E::SerdeMissingField { field, .. } => {
            format!("missing required field `{field}`: add it to this mapping")
        }
        E::DuplicateMappingKey { key: Some(key), .. } => {
            format!("`{key}` is set twice in this mapping: keep only one")
        }
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => format!(
            "found {unexpected}, expected {}",
            friendly_expected(expected)
        ),
        E::InvalidBooleanStrict { .. } | E::InvalidScalar { ty: "boolean", .. } => {
            "expected `true` or `false`".to_owned()
        }
        E::InvalidScalar { ty, .. } if ty.starts_with('u') => {
            "expected a whole number of 0 or more".to_owned()
        }
        E::Unexpected { expected, .. } => format!("expected {} here", friendly_expected(expected)),
        E::AliasError { error, .. } => yaml_message(error),
        other => {
            let message = UserMessageFormatter.format_message(other);
            format!("{message}: fix the YAML here")
        }
    }
}

/// serde describes a struct as `struct wave` and the parser says `mapping
/// start`; users wrote YAML mappings and lists.
fn friendly_expected(expected: &str) -> String {
    if let Some(what) = expected.strip_prefix("struct ") {
        return format!("a mapping (`key: value` lines) for a {what}");
    }
    match expected {
        "mapping start" => "a mapping (`key: value` lines)".to_owned(),
        "sequence start" => "a list (`- item` lines or `[a, b]`)".to_owned(),
        other => other.to_owned(),
    }
}
