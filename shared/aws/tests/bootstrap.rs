//! `bootstrap` against moto: everything is created once, a second run
//! creates nothing and changes nothing, and the queues, redrive, table
//! and rules are as the adapters expect.
//!
//! Needs `RIPCORD_TEST_MOTO_URL`; see `ripcord_aws::testing`.

use aws_sdk_sqs::types::QueueAttributeName;
use ripcord::ports::QueueName;
use ripcord::ports::Receive;
use ripcord_aws::testing::moto;
use ripcord_aws::{BootstrapOptions, bootstrap};

#[tokio::test]
async fn bootstrap_twice_creates_once() {
    let Some(moto) = moto().await else {
        return;
    };
    let options = BootstrapOptions {
        max_receive_count: 4,
        ..BootstrapOptions::default()
    };
    let first = bootstrap(&moto.clients, &moto.names, &options)
        .await
        .expect("first bootstrap");
    // 4 queues + 4 DLQs, the table and its TTL, the bus, two rules.
    assert_eq!(first.created.len(), 13, "{first}");
    assert!(first.existing.is_empty(), "{first}");
    let second = bootstrap(&moto.clients, &moto.names, &options)
        .await
        .expect("second bootstrap");
    assert!(second.created.is_empty(), "{second}");
    let mut again = second.existing.clone();
    let mut created = first.created.clone();
    again.sort();
    created.sort();
    assert_eq!(again, created);

    // Each queue sends its dead to its own DLQ after 4 receives.
    for queue in QueueName::ALL {
        let url = moto
            .clients
            .sqs
            .get_queue_url()
            .queue_name(moto.names.queue(queue))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let attrs = moto
            .clients
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        let redrive: serde_json::Value =
            serde_json::from_str(&attrs[&QueueAttributeName::RedrivePolicy]).unwrap();
        assert_eq!(
            redrive["maxReceiveCount"].to_string().trim_matches('"'),
            "4"
        );
        assert!(
            redrive["deadLetterTargetArn"]
                .as_str()
                .unwrap()
                .ends_with(&moto.names.dead_letter_queue(queue)),
            "{redrive}"
        );
        assert_eq!(attrs[&QueueAttributeName::VisibilityTimeout], "60");
    }

    // The table answers on its three indexes.
    let table = moto
        .clients
        .dynamodb
        .describe_table()
        .table_name(moto.names.table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let mut indexes: Vec<&str> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    indexes.sort();
    assert_eq!(indexes, ["by-received", "by-start", "by-status"]);

    // Runbook triggers reach the launch queue; DRS results the poll queue.
    for (rule, bus, queue) in [
        (
            format!("{}-start-execution", moto.names.prefix),
            moto.names.event_bus(),
            QueueName::Launch,
        ),
        (
            format!("{}-drs-launch-result", moto.names.prefix),
            "default".to_owned(),
            QueueName::Poll,
        ),
    ] {
        let targets = moto
            .clients
            .eventbridge
            .list_targets_by_rule()
            .rule(&rule)
            .event_bus_name(&bus)
            .send()
            .await
            .unwrap();
        let arns: Vec<&str> = targets.targets().iter().map(|t| t.arn()).collect();
        assert_eq!(arns.len(), 1, "{rule}: {arns:?}");
        assert!(
            arns[0].ends_with(&format!(":{}", moto.names.queue(queue))),
            "{arns:?}"
        );
    }
}

/// A runbook's start request put on the Ripcord bus arrives on the launch
/// queue, whatever its source (the worker checks the allow-list).
#[tokio::test]
async fn a_start_request_on_the_bus_reaches_the_launch_queue() {
    use ripcord::ports::WorkQueue;
    let Some(moto) = moto().await else {
        return;
    };
    bootstrap(&moto.clients, &moto.names, &BootstrapOptions::default())
        .await
        .unwrap();
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(moto.names.event_bus())
        .source("com.example.not-allowed")
        .detail_type("Ripcord Start Execution")
        .detail(r#"{"plan":"payments.yaml","idempotencyKey":"k-1"}"#)
        .build();
    let out = moto
        .clients
        .eventbridge
        .put_events()
        .entries(entry)
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_entry_count(), 0);
    let queue = ripcord_aws::SqsQueue::new(moto.clients.sqs.clone(), moto.names.clone());
    let got = queue
        .receive(
            QueueName::Launch,
            Receive {
                max: 10,
                visibility: std::time::Duration::from_secs(60),
                wait: std::time::Duration::from_secs(5),
            },
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].body.contains("k-1"), "{}", got[0].body);
    assert!(got[0].body.contains("com.example.not-allowed"));
}
