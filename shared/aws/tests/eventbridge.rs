//! The EventBridge announcer: against moto, an announcement reaches an SQS
//! queue through a rule on the deployment's bus with the right source,
//! detail-type and detail; against a stub speaking awsJson1_1, batches of
//! ten are sent in order and per-entry failures become errors.

mod support;

use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::plan::Mode;
use ripcord::ports::Announcer;
use ripcord::ports::announce::{Announcement, SOURCE};
use ripcord::service_error::ErrorClass;
use ripcord::status_model::{ExecutionStatus, WaveStatus};
use ripcord_aws::EventBridgeAnnouncer;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Protocol, Reply, Stub};

fn wave_changed(execution_id: ExecutionId, wave: u32) -> Announcement {
    Announcement::WaveStatusChanged {
        execution_id,
        wave: WaveNumber(wave),
        wave_name: format!("wave {wave}"),
        status: WaveStatus::Completed,
        reason: None,
        at: chrono::Utc::now(),
    }
}

fn execution_failed(execution_id: ExecutionId) -> Announcement {
    Announcement::ExecutionStatusChanged {
        execution_id,
        plan_name: "payments".to_owned(),
        mode: Mode::Drill,
        status: ExecutionStatus::Failed,
        reason: Some("wave 2: s-0000000000000000a failed to launch".to_owned()),
        at: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn announcements_reach_a_queue_through_a_rule_on_the_bus() {
    let Some(url) = ripcord_aws::testing::moto_url() else {
        return;
    };
    let clients = support::clients(&url).await;
    let bus = support::unique("ripcord-events");
    clients
        .eventbridge
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("CreateEventBus");
    let queue_url = clients
        .sqs
        .create_queue()
        .queue_name(support::unique("announcements"))
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a queue url");
    let queue_arn = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("a queue arn");
    clients
        .eventbridge
        .put_rule()
        .name("ripcord-announcements")
        .event_bus_name(&bus)
        .event_pattern(json!({ "source": [SOURCE] }).to_string())
        .send()
        .await
        .expect("PutRule");
    clients
        .eventbridge
        .put_targets()
        .rule("ripcord-announcements")
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(&queue_arn)
                .build()
                .expect("a target"),
        )
        .send()
        .await
        .expect("PutTargets");

    let announcer = EventBridgeAnnouncer::new(clients.eventbridge.clone(), bus.clone());
    let execution = ExecutionId::new_random();
    let sent = [wave_changed(execution, 1), execution_failed(execution)];
    announcer.announce(&sent).await.expect("PutEvents");

    let mut received: Vec<Value> = Vec::new();
    for _ in 0..10 {
        let out = clients
            .sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("ReceiveMessage");
        for m in out.messages() {
            received.push(serde_json::from_str(m.body().unwrap_or_default()).expect("an event"));
        }
        if received.len() >= sent.len() {
            break;
        }
    }
    assert_eq!(received.len(), 2, "{received:#?}");
    received.sort_by_key(|e| e["detail-type"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        received[0]["detail-type"],
        "Ripcord Execution Status Change"
    );
    assert_eq!(received[1]["detail-type"], "Ripcord Wave Status Change");
    for event in &received {
        assert_eq!(event["source"], SOURCE);
    }
    let detail: Announcement =
        serde_json::from_value(received[0]["detail"].clone()).expect("the announcement");
    assert_eq!(detail, sent[1]);
    let detail: Announcement =
        serde_json::from_value(received[1]["detail"].clone()).expect("the announcement");
    assert_eq!(detail, sent[0]);
}

async fn stubbed() -> (Stub, EventBridgeAnnouncer) {
    let stub = Stub::start(Protocol::AwsJson11).await;
    let clients = support::clients(&stub.url).await;
    (
        stub,
        EventBridgeAnnouncer::new(clients.eventbridge, "drill-7-events".to_owned()),
    )
}

/// Accepts every entry of a PutEvents call.
fn accept_all(body: &Value) -> Reply {
    let n = body["Entries"].as_array().map_or(0, Vec::len);
    let entries: Vec<Value> = (0..n)
        .map(|i| json!({ "EventId": format!("e-{i}") }))
        .collect();
    Reply::ok(json!({ "FailedEntryCount": 0, "Entries": entries }))
}

#[tokio::test]
async fn announcements_go_out_ten_at_a_time_in_order() {
    let (stub, announcer) = stubbed().await;
    stub.on("PutEvents", accept_all);
    let execution = ExecutionId::new_random();
    let sent: Vec<Announcement> = (1..=23).map(|w| wave_changed(execution, w)).collect();

    announcer.announce(&sent).await.expect("PutEvents");

    let requests = stub.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.headers["x-amz-target"] == "AWSEvents.PutEvents")
    );
    let batches: Vec<&Vec<Value>> = requests
        .iter()
        .map(|r| r.body["Entries"].as_array().unwrap())
        .collect();
    assert_eq!(
        batches.iter().map(|b| b.len()).collect::<Vec<_>>(),
        [10, 10, 3]
    );
    let published: Vec<Announcement> = batches
        .iter()
        .flat_map(|b| b.iter())
        .map(|entry| {
            assert_eq!(entry["Source"], SOURCE);
            assert_eq!(entry["DetailType"], "Ripcord Wave Status Change");
            assert_eq!(entry["EventBusName"], "drill-7-events");
            assert!(entry["Time"].is_number(), "{entry}");
            serde_json::from_str(entry["Detail"].as_str().unwrap()).unwrap()
        })
        .collect();
    assert_eq!(published, sent);
}

#[tokio::test]
async fn a_throttled_entry_is_a_retryable_error_and_stops_the_next_batches() {
    let (stub, announcer) = stubbed().await;
    stub.push(
        "PutEvents",
        Reply::ok(json!({
            "FailedEntryCount": 1,
            "Entries": [
                { "EventId": "e-0" },
                { "ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded" },
            ],
        })),
    );
    stub.on("PutEvents", accept_all);
    let execution = ExecutionId::new_random();
    let sent: Vec<Announcement> = (1..=12).map(|w| wave_changed(execution, w)).collect();

    let e = announcer.announce(&sent).await.unwrap_err();

    assert_eq!(
        (
            e.service.as_str(),
            e.operation.as_str(),
            e.code.as_str(),
            e.class
        ),
        (
            "events",
            "PutEvents",
            "ThrottlingException",
            ErrorClass::Throttling
        )
    );
    assert!(e.message.contains("1 of 10"), "{}", e.message);
    assert!(e.message.contains("Rate exceeded"), "{}", e.message);
    assert_eq!(
        stub.requests().len(),
        1,
        "the second batch waits for the retry"
    );
}

#[tokio::test]
async fn entry_failures_are_classified_by_their_worst_code() {
    let cases = [
        (
            vec!["InternalFailure"],
            ErrorClass::Transient,
            "InternalFailure",
        ),
        (
            vec!["InternalFailure", "ThrottlingException"],
            ErrorClass::Throttling,
            "ThrottlingException",
        ),
        (
            vec!["ThrottlingException", "NotAuthorizedForSourceException"],
            ErrorClass::Permanent,
            "NotAuthorizedForSourceException",
        ),
    ];
    for (codes, class, code) in cases {
        let (stub, announcer) = stubbed().await;
        let entries: Vec<Value> = codes
            .iter()
            .map(|c| json!({ "ErrorCode": c, "ErrorMessage": format!("{c} from the test") }))
            .collect();
        stub.push(
            "PutEvents",
            Reply::ok(json!({ "FailedEntryCount": entries.len(), "Entries": entries })),
        );
        let execution = ExecutionId::new_random();
        let sent: Vec<Announcement> = (1..=codes.len() as u32)
            .map(|w| wave_changed(execution, w))
            .collect();
        let e = announcer.announce(&sent).await.unwrap_err();
        assert_eq!((e.class, e.code.as_str()), (class, code), "{codes:?}");
    }
}

#[tokio::test]
async fn put_events_errors_are_mapped() {
    let (stub, announcer) = stubbed().await;
    stub.push(
        "PutEvents",
        Reply::json_error(
            400,
            "ResourceNotFoundException",
            "Event bus drill-7-events does not exist.",
        ),
    );
    let e = announcer
        .announce(&[execution_failed(ExecutionId::new_random())])
        .await
        .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.class),
        ("ResourceNotFoundException", ErrorClass::Permanent)
    );
    assert_eq!(e.message, "Event bus drill-7-events does not exist.");

    let url = support::closed_port_url().await;
    let clients = support::clients(&url).await;
    let announcer = EventBridgeAnnouncer::new(clients.eventbridge, "b".to_owned());
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        announcer.announce(&[execution_failed(ExecutionId::new_random())]),
    )
    .await
    .expect("no hang")
    .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.class),
        ("NetworkError", ErrorClass::Transient)
    );
}
