//! Every SDK call told to the process' call observer with how it was
//! answered (`ripcord_aws::outcomes`, docs/monitoring.md "Recent
//! outcomes"): against the stub, a success, a throttle (by its status and,
//! on awsJson, by its code alone), a 4xx the request caused, a 5xx, and a
//! connection refused, each classified as the adapters classify errors.

mod support;

use ripcord::ports::CallObserver;
use ripcord::ports::calls::{CallOutcome, Service};
use ripcord::time::Timestamp;
use serde_json::json;
use std::sync::{Arc, Mutex};
use support::{Protocol, Reply, Stub};

#[derive(Default)]
struct Seen(Mutex<Vec<(Service, CallOutcome, String)>>);

impl CallObserver for Seen {
    fn observed(
        &self,
        service: Service,
        outcome: CallOutcome,
        _at: Timestamp,
        error: Option<&str>,
    ) {
        self.0
            .lock()
            .unwrap()
            .push((service, outcome, error.unwrap_or_default().to_owned()));
    }
}

impl Seen {
    fn take(&self) -> Vec<(Service, CallOutcome, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[tokio::test]
async fn each_drs_call_is_told_with_its_outcome() {
    let stub = Stub::start(Protocol::RestJson1).await;
    let seen = Arc::new(Seen::default());
    let clients =
        support::observed_clients(&stub.url, Some(seen.clone() as Arc<dyn CallObserver>)).await;
    stub.push("DescribeJobs", Reply::ok(json!({ "items": [] })));
    stub.push(
        "DescribeJobs",
        Reply::rest_error(429, "ThrottlingException", "Rate exceeded"),
    );
    stub.push(
        "DescribeJobs",
        Reply::rest_error(400, "ValidationException", "bad filter"),
    );
    // Nothing scripted: the stub answers 500 InternalServerException.
    for _ in 0..4 {
        let _ = clients.drs.describe_jobs().send().await;
    }
    let seen_calls = seen.take();
    let outcomes: Vec<(Service, CallOutcome)> =
        seen_calls.iter().map(|(s, o, _)| (*s, *o)).collect();
    assert_eq!(
        outcomes,
        [
            (Service::Drs, CallOutcome::Succeeded),
            (Service::Drs, CallOutcome::Throttled),
            (Service::Drs, CallOutcome::Rejected),
            (Service::Drs, CallOutcome::ServerError),
        ]
    );
    assert!(seen_calls[0].2.is_empty());
    assert!(
        seen_calls[1]
            .2
            .contains("DescribeJobs failed: ThrottlingException"),
        "{seen_calls:?}"
    );
    assert!(
        seen_calls[2].2.contains("ValidationException"),
        "{seen_calls:?}"
    );

    // Nothing listens: the call never reached DRS.
    let refused = support::observed_clients(
        &support::closed_port_url().await,
        Some(seen.clone() as Arc<dyn CallObserver>),
    )
    .await;
    let _ = refused.drs.describe_jobs().send().await;
    let seen_calls = seen.take();
    assert_eq!(seen_calls.len(), 1, "{seen_calls:?}");
    assert_eq!(
        (seen_calls[0].0, seen_calls[0].1),
        (Service::Drs, CallOutcome::ServerError)
    );
    assert!(
        seen_calls[0].2.starts_with("drs DescribeJobs failed: "),
        "{seen_calls:?}"
    );
}

#[tokio::test]
async fn an_ssm_throttle_answered_400_is_known_by_its_code() {
    let stub = Stub::start(Protocol::AwsJson11).await;
    let seen = Arc::new(Seen::default());
    let clients =
        support::observed_clients(&stub.url, Some(seen.clone() as Arc<dyn CallObserver>)).await;
    stub.push(
        "DescribeInstanceInformation",
        Reply::json_error(400, "ThrottlingException", "Rate exceeded"),
    );
    stub.push(
        "DescribeInstanceInformation",
        Reply::ok(json!({ "InstanceInformationList": [] })),
    );
    for _ in 0..2 {
        let _ = clients.ssm.describe_instance_information().send().await;
    }
    let outcomes: Vec<(Service, CallOutcome)> =
        seen.take().iter().map(|(s, o, _)| (*s, *o)).collect();
    assert_eq!(
        outcomes,
        [
            (Service::Ssm, CallOutcome::Throttled),
            (Service::Ssm, CallOutcome::Succeeded),
        ]
    );
}
