//! How Ripcord reaches AWS: the standard credential chain and region, an
//! optional endpoint override (moto, the simulator), the SDK's own retries,
//! and the names of the queues, table and event bus of one deployment.
//!
//! Endpoints can also be set per service with the SDK's standard variables
//! (`AWS_ENDPOINT_URL_DRS`, `AWS_ENDPOINT_URL_SSM`, ...), which is how the
//! tests point DRS and SSM at `ripcord sim serve` and the rest at moto.

use crate::outcomes::CallOutcomes;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use ripcord::ports::QueueName;
use ripcord::ports::calls::CallObserver;
use std::sync::Arc;
use std::time::Duration;

/// What the operator chooses on the command line or in the environment.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    /// Overrides the region of the credential chain (`AWS_REGION`).
    pub region: Option<String>,
    /// One endpoint for every service (moto in tests).
    pub endpoint_url: Option<String>,
    /// The SDK's attempts per call for SQS, DynamoDB, EC2, EventBridge and
    /// CloudWatch (the default is the SDK's standard mode, 3). DRS and SSM
    /// calls are never retried by the SDK: see [`Clients::drs`].
    pub max_attempts: Option<u32>,
    pub names: ResourceNames,
}

/// The names of one deployment's resources, all derived from a prefix so
/// that several deployments (or test cases) can share an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceNames {
    pub prefix: String,
}

impl Default for ResourceNames {
    fn default() -> Self {
        Self {
            prefix: "ripcord".to_owned(),
        }
    }
}

impl ResourceNames {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// `ripcord-launch`, `ripcord-poll`, ...
    pub fn queue(&self, queue: QueueName) -> String {
        format!("{}-{}", self.prefix, queue.as_str())
    }

    /// `ripcord-launch-dlq`, ...
    pub fn dead_letter_queue(&self, queue: QueueName) -> String {
        format!("{}-{}-dlq", self.prefix, queue.as_str())
    }

    /// The DynamoDB table of executions, waves and triggers.
    pub fn table(&self) -> String {
        format!("{}-executions", self.prefix)
    }

    /// The EventBridge bus Ripcord publishes status changes on and receives
    /// runbook triggers from.
    pub fn event_bus(&self) -> String {
        format!("{}-events", self.prefix)
    }
}

/// How long one attempt of any call may take before it fails as a
/// transient `TimeoutError`. Above SQS' longest long poll (20 s). Without it
/// a connection that never answers would hang the step forever, its
/// message kept hidden by the visibility extension; with it the call fails,
/// and the state machine retries it (a StartRecovery or SendCommand whose
/// answer was lost is looked up by its tags before it is sent again).
pub const CALL_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(45);
/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The timeouts of every client (see [`CALL_ATTEMPT_TIMEOUT`]).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(CALL_ATTEMPT_TIMEOUT)
        .build()
}

/// The SDK configuration every client is built from.
pub async fn load_sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(attempts) = settings.max_attempts {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(attempts.max(1)));
    }
    loader.load().await
}

/// One client per service, built once and shared by the adapters.
#[derive(Clone, Debug)]
pub struct Clients {
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub drs: aws_sdk_drs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

impl Clients {
    /// DRS StartRecovery and SSM SendCommand are not idempotent: an SDK
    /// retry after a 5xx could start a second recovery job or run an action
    /// twice. Their clients never retry; the state machine does, after
    /// looking for the job or command by tag (invariant 2, docs/invariants.md).
    ///
    /// With `RIPCORD_RECORD_AWS_CALLS` set every client records its calls
    /// ([`crate::calls`]).
    pub fn new(config: &SdkConfig) -> Self {
        Self::observed(config, None)
    }

    /// Like [`Clients::new`], every client also telling `observer` how each
    /// of its calls was answered ([`crate::outcomes`]; `/healthz`).
    pub fn observed(config: &SdkConfig, observer: Option<Arc<dyn CallObserver>>) -> Self {
        let recorder = crate::calls::CallRecorder::from_env().map(SharedInterceptor::new);
        let outcomes = observer.map(|o| SharedInterceptor::new(CallOutcomes::new(o)));
        macro_rules! client {
            ($sdk:ident $(, $retry:expr)?) => {{
                let mut builder = $sdk::config::Builder::from(config);
                $(builder = builder.retry_config($retry);)?
                if let Some(recorder) = &recorder {
                    builder.push_interceptor(recorder.clone());
                }
                if let Some(outcomes) = &outcomes {
                    builder.push_interceptor(outcomes.clone());
                }
                $sdk::Client::from_conf(builder.build())
            }};
        }
        Self {
            sqs: client!(aws_sdk_sqs),
            dynamodb: client!(aws_sdk_dynamodb),
            drs: client!(aws_sdk_drs, RetryConfig::disabled()),
            ec2: client!(aws_sdk_ec2),
            ssm: client!(aws_sdk_ssm, RetryConfig::disabled()),
            eventbridge: client!(aws_sdk_eventbridge),
            cloudwatch: client!(aws_sdk_cloudwatch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_derive_from_the_prefix() {
        let names = ResourceNames::new("drill-7");
        assert_eq!(names.queue(QueueName::PostActions), "drill-7-post-actions");
        assert_eq!(
            names.dead_letter_queue(QueueName::Launch),
            "drill-7-launch-dlq"
        );
        assert_eq!(names.table(), "drill-7-executions");
        assert_eq!(names.event_bus(), "drill-7-events");
    }
}
