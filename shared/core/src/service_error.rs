//! What a call to DRS, EC2 or SSM can answer besides success, classified so
//! that the state machine's retry policy reads the class, not the text.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Whether waiting and trying again can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorClass {
    /// ThrottlingException (429): retry after a delay, honouring Retry-After.
    Throttling,
    /// 5xx, timeouts, connection errors: retry after a delay. The call may
    /// have taken effect, so a retried StartRecovery reconciles first.
    Transient,
    /// Access denied, validation, quota, not found, uninitialized account:
    /// fail at once and keep the error.
    Permanent,
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        !matches!(self, ErrorClass::Permanent)
    }
}

/// An error answered by (or on the way to) an AWS service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{service} {operation} failed: {code}: {message}")]
#[serde(rename_all = "camelCase")]
pub struct ServiceError {
    pub service: String,
    pub operation: String,
    pub class: ErrorClass,
    /// The service's error code, e.g. `ThrottlingException`, or `NetworkError`.
    pub code: String,
    pub message: String,
    /// From a Retry-After header, when the service sent one.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after: Option<Duration>,
}

impl ServiceError {
    /// Classifies by the `X-Amzn-Errortype` code DRS, EC2 and SSM answer with.
    pub fn from_code(service: &str, operation: &str, code: &str, message: &str) -> Self {
        Self {
            service: service.to_owned(),
            operation: operation.to_owned(),
            class: classify_code(code),
            code: code.to_owned(),
            message: message.to_owned(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, d: Duration) -> Self {
        self.retry_after = Some(d);
        self
    }
}

/// Maps an AWS error code to its class. Unknown codes are permanent: a retry
/// loop on an error nobody understood hides it from the operator.
pub fn classify_code(code: &str) -> ErrorClass {
    match code {
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "ThrottledException"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "ProvisionedThroughputExceededException"
        | "SlowDown"
        | "TooManyUpdates" => ErrorClass::Throttling,
        "InternalServerException"
        | "InternalServerError"
        | "InternalError"
        | "InternalFailure"
        | "Unavailable"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "NetworkError"
        | "RequestTimeout"
        | "TimeoutError" => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drs_error_codes_are_classified() {
        assert_eq!(classify_code("ThrottlingException"), ErrorClass::Throttling);
        assert_eq!(
            classify_code("InternalServerException"),
            ErrorClass::Transient
        );
        for permanent in [
            "AccessDeniedException",
            "ValidationException",
            "ConflictException",
            "ServiceQuotaExceededException",
            "ResourceNotFoundException",
            "UninitializedAccountException",
        ] {
            assert_eq!(
                classify_code(permanent),
                ErrorClass::Permanent,
                "{permanent}"
            );
        }
    }
}
