//! The SQS adapter beyond the contract, against moto: delays chained past
//! SQS's 900 s, dead messages SQS moved itself (RedrivePolicy) and those
//! `dead_letter` moved, and how SQS errors map to `QueueError`.
//!
//! Needs `RIPCORD_TEST_MOTO_URL`; see `ripcord_aws::testing`.

use aws_sdk_sqs::types::MessageSystemAttributeName;
use ripcord::ports::DeadLetters;
use ripcord::ports::Receive;
use ripcord::ports::queue::{OutgoingMessage, QueueError, QueueName, WorkQueue};
use ripcord_aws::sqs::{
    ATTR_DEAD_AT, ATTR_FAILURE_REASON, ATTR_NOT_BEFORE, ATTR_RECEIVE_COUNT, ATTR_SOURCE_QUEUE,
};
use ripcord_aws::testing::{MotoHandle, moto};
use ripcord_aws::{BootstrapOptions, ResourceNames, SqsQueue, bootstrap};
use std::time::{Duration, Instant};

const Q: QueueName = QueueName::Poll;
const HIDDEN: Duration = Duration::from_secs(600);

async fn deployment(max_receive_count: u32) -> Option<MotoHandle> {
    let moto = moto().await?;
    let options = BootstrapOptions {
        max_receive_count,
        ..BootstrapOptions::default()
    };
    bootstrap(&moto.clients, &moto.names, &options)
        .await
        .expect("bootstrap");
    Some(moto)
}

fn message(body: &str, delay: Duration) -> OutgoingMessage {
    OutgoingMessage {
        body: body.to_owned(),
        delay,
        event_type: "PollWave".to_owned(),
        schema_version: 2,
    }
}

async fn url(moto: &MotoHandle, name: &str) -> String {
    moto.clients
        .sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .expect("queue url")
        .queue_url
        .expect("a url")
}

/// A raw receive, attributes and all, as another consumer would see it.
async fn raw_receive(moto: &MotoHandle, name: &str) -> Vec<aws_sdk_sqs::types::Message> {
    moto.clients
        .sqs
        .receive_message()
        .queue_url(url(moto, name).await)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default()
}

fn attr(m: &aws_sdk_sqs::types::Message, key: &str) -> Option<String> {
    m.message_attributes()?
        .get(key)?
        .string_value()
        .map(str::to_owned)
}

/// A delay longer than SQS allows (here a 1 s cap stands for 900 s) is sent
/// with the cap and a not-before time; the early copy is sent on with what
/// is left, never handed out, and arrives after the whole delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delay_beyond_the_cap_is_chained() {
    let Some(moto) = deployment(5).await else {
        return;
    };
    let queue = SqsQueue::new(moto.clients.sqs.clone(), moto.names.clone())
        .with_max_delay(Duration::from_secs(1));
    let sent_at = Instant::now();
    queue
        .send(Q, vec![message("poll wave 3", Duration::from_secs(5))])
        .await
        .unwrap();

    // After the capped delay SQS shows it, with the time it is really due.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let early = raw_receive(&moto, &moto.names.queue(Q)).await;
    assert_eq!(early.len(), 1, "{early:?}");
    let not_before = attr(&early[0], ATTR_NOT_BEFORE).expect("a not-before attribute");
    let not_before = chrono::DateTime::parse_from_rfc3339(&not_before).unwrap();
    let due_in = not_before.to_utc() - chrono::Utc::now();
    assert!(
        due_in > chrono::Duration::seconds(2) && due_in <= chrono::Duration::seconds(4),
        "due in {due_in}"
    );
    assert_eq!(attr(&early[0], "event-type").as_deref(), Some("PollWave"));

    // The adapter does not hand it out early, however often it looks.
    let got = queue
        .receive(
            Q,
            Receive {
                max: 10,
                visibility: HIDDEN,
                wait: Duration::from_secs(2),
            },
        )
        .await
        .unwrap();
    assert!(got.is_empty(), "handed out early: {got:?}");
    let got = queue
        .receive(
            Q,
            Receive {
                max: 10,
                visibility: HIDDEN,
                wait: Duration::from_secs(15),
            },
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "poll wave 3");
    assert_eq!(got[0].event_type.as_deref(), Some("PollWave"));
    assert!(
        sent_at.elapsed() >= Duration::from_secs(5),
        "arrived after {:?}",
        sent_at.elapsed()
    );
    // Only one copy ever exists.
    let depth = queue.depth(Q).await.unwrap();
    assert_eq!((depth.visible, depth.delayed, depth.in_flight), (0, 0, 1));
}

/// A message SQS moved to the DLQ itself (maxReceiveCount) is listed with
/// the limit as its reason, and replayed by the id the worker saw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redriven_messages_list_and_replay_by_id() {
    let Some(moto) = deployment(2).await else {
        return;
    };
    let queue = SqsQueue::new(moto.clients.sqs.clone(), moto.names.clone());
    queue
        .send(Q, vec![message("poison", Duration::ZERO)])
        .await
        .unwrap();
    queue
        .send(Q, vec![message("healthy", Duration::ZERO)])
        .await
        .unwrap();
    let mut poison_id = String::new();
    for _ in 0..2 {
        let got = queue
            .receive(
                Q,
                Receive {
                    max: 10,
                    visibility: Duration::from_secs(1),
                    wait: Duration::from_secs(5),
                },
            )
            .await
            .unwrap();
        for m in got {
            if m.body == "poison" {
                poison_id = m.message_id.clone();
            } else {
                queue.delete(Q, &[m.receipt]).await.unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(!poison_id.is_empty());
    let got = queue
        .receive(
            Q,
            Receive {
                max: 10,
                visibility: HIDDEN,
                wait: Duration::from_secs(2),
            },
        )
        .await
        .unwrap();
    assert!(got.is_empty(), "{got:?}");

    let dead = queue.list_dead(Q).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message_id, poison_id);
    assert_eq!(
        dead[0].reason,
        "received 2 times without being deleted (limit 2)"
    );
    assert_eq!(dead[0].receive_count, 2);
    assert!(!dead[0].dead_at.is_empty());
    // Listing twice shows the same: the list does not hide or consume.
    assert_eq!(queue.list_dead(Q).await.unwrap(), dead);

    assert_eq!(queue.replay_dead(Q, Some(&poison_id)).await.unwrap(), 1);
    let back = queue
        .receive(
            Q,
            Receive {
                max: 10,
                visibility: HIDDEN,
                wait: Duration::from_secs(5),
            },
        )
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].message_id, poison_id);
    assert_eq!(back[0].body, "poison");
    assert_eq!(back[0].receive_count, 1);
    assert_eq!(back[0].event_type.as_deref(), Some("PollWave"));
    assert!(queue.list_dead(Q).await.unwrap().is_empty());
}

/// `dead_letter` writes why, from where, after how many receives and when
/// on the DLQ message, and `replay_dead` right after a list finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_records_why_on_the_dead_message() {
    let Some(moto) = deployment(5).await else {
        return;
    };
    let queue = SqsQueue::new(moto.clients.sqs.clone(), moto.names.clone());
    queue
        .send(Q, vec![message("{bad", Duration::ZERO)])
        .await
        .unwrap();
    let m = queue
        .receive(
            Q,
            Receive {
                max: 1,
                visibility: HIDDEN,
                wait: Duration::from_secs(5),
            },
        )
        .await
        .unwrap()
        .remove(0);
    queue
        .dead_letter(Q, &m, "malformed message: expected a JSON envelope")
        .await
        .unwrap();

    let raw = raw_receive(&moto, &moto.names.dead_letter_queue(Q)).await;
    assert_eq!(raw.len(), 1);
    assert_eq!(
        attr(&raw[0], ATTR_FAILURE_REASON).as_deref(),
        Some("malformed message: expected a JSON envelope")
    );
    assert_eq!(attr(&raw[0], ATTR_SOURCE_QUEUE), Some(moto.names.queue(Q)));
    assert_eq!(attr(&raw[0], ATTR_RECEIVE_COUNT).as_deref(), Some("1"));
    assert!(attr(&raw[0], ATTR_DEAD_AT).is_some());

    let dead = queue.list_dead(Q).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id, m.message_id);
    assert_eq!(queue.replay_dead(Q, None).await.unwrap(), 1);
    let back = queue
        .receive(
            Q,
            Receive {
                max: 1,
                visibility: HIDDEN,
                wait: Duration::from_secs(5),
            },
        )
        .await
        .unwrap();
    assert_eq!(back[0].message_id, m.message_id);
}

/// A deployment that was never bootstrapped says so and what to run.
#[tokio::test]
async fn a_missing_queue_says_to_bootstrap() {
    let Some(moto) = moto().await else {
        return;
    };
    let names = ResourceNames::new(format!("{}-absent", moto.names.prefix));
    let queue = SqsQueue::new(moto.clients.sqs.clone(), names.clone());
    let error = queue
        .send(QueueName::Launch, vec![message("x", Duration::ZERO)])
        .await
        .unwrap_err();
    match &error {
        QueueError::Missing { name, .. } => assert_eq!(name, &names.queue(QueueName::Launch)),
        other => panic!("expected Missing, got {other:?}"),
    }
    assert!(
        error.to_string().contains("ripcord aws bootstrap"),
        "{error}"
    );
}

/// A receipt SQS no longer accepts is a StaleReceipt, not a service error.
#[tokio::test]
async fn an_invalid_receipt_is_stale() {
    let Some(moto) = deployment(5).await else {
        return;
    };
    let queue = SqsQueue::new(moto.clients.sqs.clone(), moto.names.clone());
    queue
        .send(Q, vec![message("work", Duration::ZERO)])
        .await
        .unwrap();
    let m = queue
        .receive(
            Q,
            Receive {
                max: 1,
                visibility: HIDDEN,
                wait: Duration::from_secs(5),
            },
        )
        .await
        .unwrap()
        .remove(0);
    queue
        .delete(Q, std::slice::from_ref(&m.receipt))
        .await
        .unwrap();
    // Deleted: its receipt holds nothing any more.
    match queue.extend_visibility(Q, &m.receipt, HIDDEN).await {
        Err(QueueError::StaleReceipt(_)) => {}
        other => panic!("expected StaleReceipt, got {other:?}"),
    }
    match queue
        .extend_visibility(Q, "not-a-receipt-handle", HIDDEN)
        .await
    {
        Err(QueueError::StaleReceipt(_)) => {}
        other => panic!("expected StaleReceipt, got {other:?}"),
    }
    // A stale delete is not an error.
    queue.delete(Q, &[m.receipt]).await.unwrap();
}
