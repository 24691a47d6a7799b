//! The `/healthz` answer of a deployment in trouble, as JSON, held to a
//! snapshot (docs/monitoring.md): every worker kind polling, the poll
//! workers' steps throttled and one abandoned, DRS throttling 40 % of the
//! calls, DynamoDB unreachable for 3 minutes, SQS fine, EventBridge called
//! only before the window; each problem one sentence with what to do.

use chrono::{TimeDelta, TimeZone, Utc};
use ripcord::health::{HealthInput, HealthLevel, HealthThresholds, assess};
use ripcord::ports::QueueName;
use ripcord::ports::calls::{CallOutcome, ProcessCalls, Service, ServiceCalls};
use ripcord::ports::dead_letters::QueueDepth;
use ripcord::ports::heartbeats::WorkerHeartbeat;
use ripcord::recent::{Recent, StepClass, StepCounts};
use ripcord::time::Timestamp;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2025, 3, 14, 12, 7, 40)
        .single()
        .unwrap()
}

fn ago(seconds: i64) -> Timestamp {
    now() - TimeDelta::seconds(seconds)
}

/// `n` calls answered `outcome`, one a second, the last `last` seconds ago.
fn calls(record: &mut ServiceCalls, n: i64, last: i64, outcome: CallOutcome, error: Option<&str>) {
    for i in (0..n).rev() {
        record.record(outcome, ago(last + i), error);
    }
}

fn services() -> Vec<ServiceCalls> {
    let mut drs = ServiceCalls::new(Service::Drs);
    calls(&mut drs, 30, 40, CallOutcome::Succeeded, None);
    calls(
        &mut drs,
        20,
        10,
        CallOutcome::Throttled,
        Some("drs DescribeJobs failed: ThrottlingException: Rate exceeded"),
    );
    let mut dynamodb = ServiceCalls::new(Service::DynamoDb);
    calls(&mut dynamodb, 5, 210, CallOutcome::Succeeded, None);
    calls(
        &mut dynamodb,
        190,
        3,
        CallOutcome::ServerError,
        Some(
            "dynamodb GetItem failed: dispatch failure: io error: Connection refused (os error 111)",
        ),
    );
    let mut sqs = ServiceCalls::new(Service::Sqs);
    calls(&mut sqs, 60, 1, CallOutcome::Succeeded, None);
    let mut eventbridge = ServiceCalls::new(Service::EventBridge);
    calls(&mut eventbridge, 3, 600, CallOutcome::Succeeded, None);
    vec![drs, dynamodb, sqs, eventbridge]
}

#[test]
fn healthz_of_a_deployment_in_trouble_says_why() {
    let heartbeats: Vec<WorkerHeartbeat> = QueueName::ALL
        .into_iter()
        .map(|kind| {
            let mut steps = Recent::<StepCounts>::default();
            if kind == QueueName::Poll {
                for i in 0..12 {
                    steps.add(ago(20 + i), |c| c.count(StepClass::Succeeded));
                }
                for i in 0..8 {
                    steps.add(ago(5 + i), |c| c.count(StepClass::Throttled));
                }
                steps.add(ago(400), |c| c.count(StepClass::ServerError));
                steps.add(ago(30), |c| c.count(StepClass::Abandoned));
            }
            WorkerHeartbeat {
                kind,
                worker_id: format!("ip-10-0-1-7:1:{kind}:0"),
                started_at: ago(3600),
                last_poll: ago(2),
                messages: 40,
                stopped_at: None,
                steps,
                calls: Some(ProcessCalls {
                    process: format!("ip-10-0-1-7:{kind}"),
                    services: if kind == QueueName::Poll {
                        services()
                    } else {
                        Vec::new()
                    },
                }),
            }
        })
        .collect();
    let queues: Vec<(QueueName, QueueDepth)> = QueueName::ALL
        .into_iter()
        .map(|q| (q, QueueDepth::default()))
        .collect();
    let report = assess(
        &HealthInput {
            heartbeats: &heartbeats,
            active: &[],
            queues: &queues,
            now: now(),
            execution_now: now(),
        },
        &HealthThresholds::default(),
    );
    assert_eq!(report.status, HealthLevel::Unhealthy, "DynamoDB is needed");
    insta::assert_json_snapshot!("healthz_in_trouble", report);
}
