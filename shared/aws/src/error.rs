//! One mapping from the SDK's errors to the core's `ServiceError`, so every
//! adapter classifies alike: the service's error code decides the class
//! (throttling, transient, permanent), a 429 or 5xx without a known code is
//! throttling or transient, lost connections and timeouts are transient (the
//! call may have happened), and a Retry-After header is kept.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ripcord::service_error::{ErrorClass, ServiceError};
use std::time::Duration;

/// Maps an SDK error of `service`'s `operation` to the core's error.
pub fn service_error<E>(
    service: &str,
    operation: &str,
    error: SdkError<E, HttpResponse>,
) -> ServiceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let retry_after = context
                .raw()
                .headers()
                .get("retry-after")
                .and_then(parse_retry_after);
            let code = context.err().code().unwrap_or("");
            let message = context
                .err()
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| error_chain(&error));
            from_response(service, operation, status, code, &message, retry_after)
        }
        SdkError::TimeoutError(_) => ServiceError {
            class: ErrorClass::Transient,
            ..ServiceError::from_code(service, operation, "TimeoutError", &error_chain(&error))
        },
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => ServiceError {
            class: ErrorClass::Transient,
            ..ServiceError::from_code(service, operation, "NetworkError", &error_chain(&error))
        },
        // The request could not even be built (a missing region, say): no
        // retry will change that.
        _ => ServiceError {
            class: ErrorClass::Permanent,
            ..ServiceError::from_code(service, operation, "InvalidRequest", &error_chain(&error))
        },
    }
}

/// Classifies an answered error by its code, falling back on the HTTP
/// status when the code is unknown or missing.
pub fn from_response(
    service: &str,
    operation: &str,
    status: u16,
    code: &str,
    message: &str,
    retry_after: Option<Duration>,
) -> ServiceError {
    let code = if code.is_empty() {
        format!("HTTP{status}")
    } else {
        code.to_owned()
    };
    let mut error = ServiceError::from_code(service, operation, &code, message);
    if error.class == ErrorClass::Permanent {
        if status == 429 {
            error.class = ErrorClass::Throttling;
        } else if status >= 500 {
            error.class = ErrorClass::Transient;
        }
    }
    error.retry_after = retry_after;
    error
}

/// Retry-After as seconds (what AWS sends); an HTTP date is not used by AWS
/// and is ignored.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// The error and its sources on one line: the SDK's own Display is terse
/// ("dispatch failure") and the cause is in the chain.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decide_and_status_fills_in() {
        let e = from_response(
            "drs",
            "StartRecovery",
            429,
            "ThrottlingException",
            "slow",
            None,
        );
        assert_eq!(e.class, ErrorClass::Throttling);
        let e = from_response(
            "drs",
            "StartRecovery",
            400,
            "ValidationException",
            "bad",
            None,
        );
        assert_eq!(e.class, ErrorClass::Permanent);
        let e = from_response("sqs", "SendMessage", 503, "", "", None);
        assert_eq!(
            (e.class, e.code.as_str()),
            (ErrorClass::Transient, "HTTP503")
        );
        let e = from_response("ssm", "SendCommand", 429, "SomethingNew", "", None);
        assert_eq!(e.class, ErrorClass::Throttling);
        let e = from_response(
            "ec2",
            "DescribeInstances",
            403,
            "UnauthorizedOperation",
            "",
            None,
        );
        assert_eq!(e.class, ErrorClass::Permanent);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(" 1.5 "),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
