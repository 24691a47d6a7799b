//! What the two wire protocols share: an API error (code, message,
//! Retry-After), request bodies checked against the model's member names,
//! offset page tokens, and the time formats (DRS: ISO-8601 strings, SSM:
//! epoch seconds).

use ripcord::service_error::ServiceError;
use ripcord::time::Timestamp;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The most items one page holds, whatever `maxResults` asks.
const MAX_PAGE: usize = 1000;

/// An error answered to a client, before a protocol renders it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The AWS error code (`X-Amzn-Errortype` / `__type`).
    pub code: String,
    pub message: String,
    pub retry_after: Option<Duration>,
    /// For a ValidationException: why (`cannotParse`, `fieldValidationFailed`, ...).
    pub reason: Option<&'static str>,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
            reason: None,
        }
    }

    /// Bad input: 400 ValidationException.
    pub fn validation(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new("ValidationException", message)
        }
    }

    /// An unknown operation or target.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new("UnknownOperationException", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self {
            code: e.code,
            message: e.message,
            retry_after: e.retry_after,
            reason: None,
        }
    }
}

impl From<ripcord_sim::SimWorldError> for ApiError {
    fn from(e: ripcord_sim::SimWorldError) -> Self {
        Self::new("InternalServerException", e.to_string())
    }
}

/// Parses a JSON request body after checking that every top-level member is
/// one the operation's model declares (`members`); an empty body is `{}`.
pub(crate) fn parse_input<T: DeserializeOwned>(
    operation: &str,
    body: &[u8],
    members: &[&str],
) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::validation(
            "cannotParse",
            format!("the {operation} request body is not JSON: {e}"),
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err(ApiError::validation(
            "cannotParse",
            format!("the {operation} request body must be a JSON object"),
        ));
    };
    if let Some(unknown) = object.keys().find(|k| !members.contains(&k.as_str())) {
        return Err(ApiError::validation(
            "fieldValidationFailed",
            format!(
                "{operation} has no member `{unknown}`; its members are {}",
                members.join(", ")
            ),
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        ApiError::validation(
            "fieldValidationFailed",
            format!("invalid {operation} request: {e}"),
        )
    })
}

/// One page of `items` from `next_token` on, and the token of the next
/// page. Tokens are `<operation>/<offset>`: lists only grow at their end,
/// so an offset stays valid between pages.
pub(crate) fn page<T>(
    operation: &str,
    items: Vec<T>,
    max_results: Option<i64>,
    next_token: Option<&str>,
    default_size: usize,
    bad_token: impl Fn(String) -> ApiError,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = match max_results {
        None => default_size,
        Some(n) if n >= 1 => (n as usize).min(MAX_PAGE),
        Some(n) => {
            return Err(ApiError::validation(
                "fieldValidationFailed",
                format!("maxResults must be at least 1, got {n}"),
            ));
        }
    };
    let offset = match next_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => token
            .strip_prefix(operation)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| {
                bad_token(format!(
                    "`{token}` is not a {operation} page token from this simulator; start again without one"
                ))
            })?,
    };
    let end = (offset + size).min(items.len());
    let next = (end < items.len()).then(|| format!("{operation}/{end}"));
    let page = items.into_iter().skip(offset).take(size).collect();
    Ok((page, next))
}

/// DRS' ISO8601DatetimeString: UTC with milliseconds and a `Z`.
pub(crate) fn iso_time(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// SSM's StringDateTime: UTC to the second (its model's pattern allows at
/// most one fractional digit).
pub(crate) fn iso_time_seconds(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses an ISO-8601 instant with an offset (`2025-01-01T00:00:00Z`).
pub(crate) fn parse_iso_time(member: &str, value: &str) -> Result<Timestamp, ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.to_utc())
        .map_err(|e| {
            ApiError::validation(
                "fieldValidationFailed",
                format!(
                    "{member} `{value}` is not an ISO-8601 time such as 2025-01-01T00:00:00Z: {e}"
                ),
            )
        })
}

/// awsJson's timestamps: epoch seconds, with milliseconds.
pub(crate) fn epoch_seconds(t: Timestamp) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(m: String) -> ApiError {
        ApiError::new("InvalidNextToken", m)
    }

    #[test]
    fn pages_walk_the_list_and_refuse_foreign_tokens() {
        let items: Vec<u32> = (0..5).collect();
        let (first, next) = page("Op", items.clone(), Some(2), None, 10, bad).unwrap();
        assert_eq!((first, next.as_deref()), (vec![0, 1], Some("Op/2")));
        let (second, next) = page("Op", items.clone(), Some(2), next.as_deref(), 10, bad).unwrap();
        assert_eq!((second, next.as_deref()), (vec![2, 3], Some("Op/4")));
        let (last, next) = page("Op", items.clone(), Some(2), next.as_deref(), 10, bad).unwrap();
        assert_eq!((last, next), (vec![4], None));
        let (all, next) = page("Op", items.clone(), None, None, 10, bad).unwrap();
        assert_eq!((all.len(), next), (5, None));
        for token in ["Other/2", "Op/9", "Op/x", "2"] {
            let err = page("Op", items.clone(), None, Some(token), 10, bad).unwrap_err();
            assert_eq!(err.code, "InvalidNextToken", "{token}");
        }
        let err = page("Op", items, Some(0), None, 10, bad).unwrap_err();
        assert_eq!(err.code, "ValidationException");
    }

    #[test]
    fn inputs_are_checked_against_the_model_members() {
        #[derive(serde::Deserialize, Debug)]
        struct In {
            #[serde(rename = "jobID")]
            job_id: String,
        }
        let ok: In = parse_input("Op", br#"{"jobID":"x"}"#, &["jobID", "nextToken"]).unwrap();
        assert_eq!(ok.job_id, "x");
        let unknown = parse_input::<In>("Op", br#"{"jobId":"x"}"#, &["jobID"]).unwrap_err();
        assert_eq!(unknown.code, "ValidationException");
        assert!(unknown.message.contains("`jobId`"), "{}", unknown.message);
        let missing = parse_input::<In>("Op", b"", &["jobID"]).unwrap_err();
        assert!(missing.message.contains("jobID"), "{}", missing.message);
        let garbage = parse_input::<In>("Op", b"{", &["jobID"]).unwrap_err();
        assert_eq!(garbage.reason, Some("cannotParse"));
    }

    #[test]
    fn times_use_each_protocol_format() {
        let t = parse_iso_time("fromDate", "2025-11-28T17:00:00.250Z").unwrap();
        assert_eq!(iso_time(t), "2025-11-28T17:00:00.250Z");
        assert_eq!(iso_time_seconds(t), "2025-11-28T17:00:00Z");
        assert_eq!(epoch_seconds(t), 1_764_349_200.25);
        assert!(parse_iso_time("fromDate", "yesterday").is_err());
    }
}
