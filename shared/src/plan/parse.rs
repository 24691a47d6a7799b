//! Placeholder; replaced by the plan parser.
use super::Plan;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PlanError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct PlanErrors(pub Vec<PlanError>);

pub fn parse_plan(_source: &str, file: &str) -> Result<Plan, PlanErrors> {
    Err(PlanErrors(vec![PlanError {
        file: file.into(),
        line: 0,
        column: 0,
        message: "not yet".into(),
    }]))
}

pub fn load_plan(path: &Path) -> Result<Plan, PlanErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        PlanErrors(vec![PlanError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: e.to_string(),
        }])
    })?;
    parse_plan(&text, &path.display().to_string())
}
