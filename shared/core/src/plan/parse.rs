//! Entry points: read a plan file, parse its YAML and validate it into a [`Plan`].

use super::Plan;
use super::error::{PlanError, PlanErrors, file_name, from_yaml_error};
use super::raw::RawPlan;
use super::validate::validate;
use serde_saphyr::Spanned;
use std::path::Path;

/// Parses and validates the plan in `source`; `file` names it in errors.
/// Returns every problem found, in source order. YAML syntax errors, unknown
/// fields and values of the wrong type stop the parse, so they come alone.
pub fn parse_plan(source: &str, file: &str) -> Result<Plan, PlanErrors> {
    let raw: Spanned<RawPlan> =
        serde_saphyr::from_str(source).map_err(|e| PlanErrors(vec![from_yaml_error(file, &e)]))?;
    validate(raw, file)
}

/// Reads the plan file at `path` and parses it with [`parse_plan`].
pub fn load_plan(path: &Path) -> Result<Plan, PlanErrors> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| {
        PlanErrors(vec![PlanError {
            file: file_name(&file),
            line: 0,
            column: 0,
            message: format!("cannot read the plan file: {e}; check the path and its permissions"),
        }])
    })?;
    parse_plan(&source, &file)
}
