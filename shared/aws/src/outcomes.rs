//! How each SDK call was answered, told to the process' [`CallObserver`]
//! for health (docs/monitoring.md, "Recent outcomes"): one interceptor on
//! every client of [`crate::Clients`], called once per operation after the
//! SDK's own retries (DRS and SSM have none), so it sees SQS, DynamoDB,
//! DRS, EC2, SSM, EventBridge and CloudWatch alike. An error is classified
//! the way the adapters classify it ([`crate::error::from_response`]): by
//! its code, the HTTP status filling in; no answer at all (a timeout, a
//! refused or dropped connection) is a server error.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    Error, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use ripcord::ports::calls::{CallObserver, CallOutcome, Service};
use std::sync::Arc;

/// Tells `observer` how every call of a client was answered.
#[derive(Clone)]
pub struct CallOutcomes {
    observer: Arc<dyn CallObserver>,
}

impl CallOutcomes {
    pub fn new(observer: Arc<dyn CallObserver>) -> Self {
        Self { observer }
    }
}

impl std::fmt::Debug for CallOutcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallOutcomes")
    }
}

impl Intercept for CallOutcomes {
    fn name(&self) -> &'static str {
        "CallOutcomes"
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let Some(service) = Service::from_sdk(metadata.service()) else {
            return Ok(());
        };
        let status = context.response().map(|r| r.status().as_u16());
        let (outcome, error) = match context.output_or_error() {
            None => return Ok(()),
            Some(Ok(_)) => (CallOutcome::Succeeded, None),
            Some(Err(error)) => {
                let (outcome, text) = classify(metadata, status, error);
                (outcome, Some(text))
            }
        };
        self.observer
            .observed(service, outcome, chrono::Utc::now(), error.as_deref());
        Ok(())
    }
}

/// The outcome of a failed call and its text.
fn classify(
    metadata: &Metadata,
    status: Option<u16>,
    error: &OrchestratorError<Error>,
) -> (CallOutcome, String) {
    let (service, operation) = (metadata.service(), metadata.name());
    if let Some(answered) = error.as_operation_error() {
        let text = answered.to_string();
        let code = error_code(&text).unwrap_or("");
        // `Code: message` → the message; anything else is kept whole.
        let message = text
            .strip_prefix(code)
            .and_then(|rest| rest.strip_prefix(':'))
            .map_or(text.as_str(), str::trim);
        let classified = crate::error::from_response(
            &service.to_ascii_lowercase(),
            operation,
            status.unwrap_or(0),
            code,
            message,
            None,
        );
        return (
            CallOutcome::of_error(classified.class),
            classified.to_string(),
        );
    }
    let text = format!(
        "{} {operation} failed: {}",
        service.to_ascii_lowercase(),
        crate::error::error_chain(error)
    );
    if error.is_timeout_error() || error.is_connector_error() || error.is_response_error() {
        (CallOutcome::ServerError, text)
    } else {
        // Built wrong on this side (serialization, an interceptor): the
        // service was not asked, and answered nothing.
        (CallOutcome::Rejected, text)
    }
}

/// The error code in an SDK operation error's text: modeled errors print
/// `Code: message` (or just `Code`), the others `unhandled error (Code)`.
pub fn error_code(text: &str) -> Option<&str> {
    let code = match text.strip_prefix("unhandled error (") {
        Some(rest) => rest.split_once(')')?.0,
        None => text.split_once(':').map_or(text, |(code, _)| code),
    };
    let plausible = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    plausible.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::error::ErrorMetadata;

    #[test]
    fn codes_are_read_from_modeled_and_unhandled_errors() {
        let throttled =
            aws_sdk_drs::operation::start_recovery::StartRecoveryError::ThrottlingException(
                aws_sdk_drs::types::error::ThrottlingException::builder()
                    .message("Rate exceeded")
                    .build()
                    .unwrap(),
            );
        assert_eq!(
            error_code(&throttled.to_string()),
            Some("ThrottlingException")
        );
        let unhandled = aws_sdk_ec2::operation::describe_instances::DescribeInstancesError::generic(
            ErrorMetadata::builder()
                .code("RequestLimitExceeded")
                .build(),
        );
        assert_eq!(
            error_code(&unhandled.to_string()),
            Some("RequestLimitExceeded")
        );
        let bare = aws_sdk_dynamodb::operation::get_item::GetItemError::generic(
            ErrorMetadata::builder().build(),
        );
        assert_eq!(error_code(&bare.to_string()), None);
        assert_eq!(error_code("dispatch failure: io error"), None);
    }
}
