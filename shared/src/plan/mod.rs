//! The recovery plan: the YAML file format, its parsing and validation.
//! See `model.rs` for the validated plan an execution runs.

mod model;
mod parse;

pub use model::*;
pub use parse::{PlanError, PlanErrors, load_plan, parse_plan};
