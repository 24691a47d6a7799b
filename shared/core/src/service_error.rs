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

    /// How long to wait before making a read that failed with this error
    /// again in place, after `tries` tries of it; `None`: do not (a retry
    /// cannot help, or [`READ_TRIES`] are spent). DRS' Retry-After, else
    /// [`FIRST_READ_WAIT`] doubling, at most [`MAX_READ_WAIT`]. For reads
    /// only (a DRS listing's page, pre-flight's reads): a StartRecovery is
    /// never made again in place, the state machine retries it.
    pub fn read_again_after(&self, tries: u32) -> Option<Duration> {
        if !self.class.is_retryable() || tries >= READ_TRIES {
            return None;
        }
        let doubled = FIRST_READ_WAIT.saturating_mul(1 << tries.saturating_sub(1).min(16));
        Some(self.retry_after.unwrap_or(doubled).min(MAX_READ_WAIT))
    }
}

/// How many times one read is made at most while DRS throttles it or
/// answers a 5xx ([`ServiceError::read_again_after`]).
pub const READ_TRIES: u32 = 4;
/// The wait before a read is made again the first time, when DRS sent no
/// Retry-After; it doubles after each try.
pub const FIRST_READ_WAIT: Duration = Duration::from_millis(200);
/// The longest wait between two tries of one read.
pub const MAX_READ_WAIT: Duration = Duration::from_secs(2);

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
    fn a_read_is_made_again_after_a_doubling_wait_until_its_tries_are_spent() {
        let throttled = ServiceError::from_code("drs", "DescribeJobs", "ThrottlingException", "");
        let waits: Vec<_> = (1..=READ_TRIES)
            .map(|t| throttled.read_again_after(t))
            .collect();
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(waits, [ms(200), ms(400), ms(800), None]);
        let told = throttled.clone().with_retry_after(Duration::from_secs(9));
        assert_eq!(told.read_again_after(1), Some(MAX_READ_WAIT));
        let denied = ServiceError::from_code("drs", "DescribeJobs", "AccessDeniedException", "");
        assert_eq!(denied.read_again_after(1), None);
    }

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
