//! What DRS checks of a request's ids before it does anything: source
//! server, job and recovery instance ids in their real patterns, and the
//! error a bad pagination token gets.

use crate::wire::ApiError;
use ripcord::ids::SourceServerId;

pub(super) fn source_server_id(value: &str) -> Result<SourceServerId, ApiError> {
    SourceServerId::parse(value)
        .map_err(|e| ApiError::validation("fieldValidationFailed", e.to_string()))
}

/// `prefix` and at least `min` more characters from `allowed` (and at most
/// `max` in all): DRS' id patterns.
pub(super) fn check_id(
    member: &str,
    value: &str,
    prefix: &str,
    allowed: fn(u8) -> bool,
    (min, max): (usize, usize),
) -> Result<(), ApiError> {
    let rest = value.strip_prefix(prefix).unwrap_or("");
    let ok = value.starts_with(prefix)
        && (min..=max).contains(&value.len())
        && !rest.is_empty()
        && rest.bytes().all(allowed);
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "fieldValidationFailed",
            format!(
                "{member} `{value}` is malformed: expected `{prefix}` followed by {} to {} characters",
                min - prefix.len(),
                max - prefix.len()
            ),
        ))
    }
}

pub(super) fn job_id(value: &str) -> Result<(), ApiError> {
    check_id(
        "jobID",
        value,
        "drsjob-",
        |b| b.is_ascii_alphanumeric(),
        (24, 24),
    )
}

pub(super) fn recovery_instance_id(value: &str) -> Result<(), ApiError> {
    check_id(
        "recoveryInstanceID",
        value,
        "i-",
        |b| b.is_ascii_hexdigit(),
        (10, 19),
    )
}

pub(super) fn bad_token(message: String) -> ApiError {
    ApiError::validation("fieldValidationFailed", message)
}
