//! What SSM checks of a request before it does anything: instance ids in
//! their real pattern, command filters, page sizes and the error a bad
//! pagination token gets.

use super::render::command_status;
use crate::server::SimServer;
use crate::wire::{ApiError, parse_iso_time};
use ripcord::time::Timestamp;
use ripcord_sim::CommandRecord;
use serde::Deserialize;

pub(super) fn bad_token(message: String) -> ApiError {
    ApiError::new("InvalidNextToken", message)
}

/// SSM's instance id pattern: `i-` and 8 or 17 word characters, or `mi-` and 17.
pub(super) fn check_instance_id(id: &str) -> Result<(), ApiError> {
    let word = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let ok = match (id.strip_prefix("i-"), id.strip_prefix("mi-")) {
        (Some(rest), _) => (rest.len() == 8 || rest.len() == 17) && word(rest),
        (_, Some(rest)) => rest.len() == 17 && word(rest),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidInstanceId",
            format!("`{id}` is not an instance id (i- and 8 or 17 characters)"),
        ))
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(super) struct CommandFilter {
    pub(super) key: String,
    pub(super) value: String,
}

type CommandPredicate = Box<dyn Fn(&CommandRecord) -> bool>;

/// The records a command filter list keeps: InvokedAfter, InvokedBefore,
/// DocumentName, Status (the command's) and ExecutionStage.
pub(super) fn filter_commands(
    records: Vec<CommandRecord>,
    filters: &[CommandFilter],
) -> Result<Vec<CommandRecord>, ApiError> {
    let mut keep: Vec<CommandPredicate> = Vec::new();
    for f in filters {
        let value = f.value.clone();
        match f.key.as_str() {
            "InvokedAfter" => {
                let t: Timestamp = parse_iso_time("InvokedAfter", &value)?;
                keep.push(Box::new(move |r| r.requested_at >= t));
            }
            "InvokedBefore" => {
                let t: Timestamp = parse_iso_time("InvokedBefore", &value)?;
                keep.push(Box::new(move |r| r.requested_at <= t));
            }
            "DocumentName" => keep.push(Box::new(move |r| r.document_name == value)),
            "Status" => keep.push(Box::new(move |r| command_status(r) == value)),
            "ExecutionStage" => {
                let complete = match value.as_str() {
                    "Executing" => false,
                    "Complete" => true,
                    other => {
                        return Err(ApiError::new(
                            "InvalidFilterValue",
                            format!("ExecutionStage is Executing or Complete, not `{other}`"),
                        ));
                    }
                };
                keep.push(Box::new(move |r| {
                    r.invocations
                        .iter()
                        .all(|i| i.invocation.status.is_terminal())
                        == complete
                }));
            }
            other => {
                return Err(ApiError::new(
                    "InvalidFilterKey",
                    format!(
                        "`{other}` is not a command filter key; use InvokedAfter, InvokedBefore, Status, ExecutionStage or DocumentName"
                    ),
                ));
            }
        }
    }
    Ok(records
        .into_iter()
        .filter(|r| keep.iter().all(|k| k(r)))
        .collect())
}

/// SSM's MaxResults for commands: 1 to 50.
pub(super) fn command_page_size(
    server: &SimServer,
    max_results: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    match max_results {
        Some(n) if !(1..=50).contains(&n) => Err(ApiError::validation(
            "fieldValidationFailed",
            format!("MaxResults must be 1 to 50, got {n}"),
        )),
        Some(n) => Ok(Some(n)),
        None => Ok(Some(server.settings.page_size.min(50) as i64)),
    }
}
