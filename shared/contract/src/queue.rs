//! The [`WorkQueue`] contract: delays, visibility timeouts, receive counts,
//! receipts and batches (dead letters are [`crate::dead_letters`]). Run each
//! suite on empty queues.

use crate::timing::{QueueBackend, Timing};
use ripcord::ports::Receive;
use ripcord::ports::queue::{
    MAX_BODY_BYTES, OutgoingMessage, QueueError, QueueName, ReceivedMessage, WorkQueue,
};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

pub(crate) const Q: QueueName = QueueName::Launch;
/// Long enough that nothing reappears while a suite runs.
pub(crate) const HIDDEN: Duration = Duration::from_secs(600);

pub(crate) fn message(body: &str) -> OutgoingMessage {
    OutgoingMessage {
        body: body.to_owned(),
        delay: Duration::ZERO,
        event_type: "ContractTest".to_owned(),
        schema_version: 1,
    }
}

pub(crate) fn delayed(body: &str, delay: Duration) -> OutgoingMessage {
    OutgoingMessage {
        delay,
        ..message(body)
    }
}

/// Receives exactly one message, waiting up to `wait` for it.
pub(crate) async fn receive_one(
    queue: &dyn WorkQueue,
    visibility: Duration,
    wait: Duration,
) -> ReceivedMessage {
    let mut got = queue
        .receive(
            Q,
            Receive {
                max: 1,
                visibility,
                wait,
            },
        )
        .await
        .expect("receive");
    assert_eq!(
        got.len(),
        1,
        "expected one message within {wait:?}, got {got:?}"
    );
    got.remove(0)
}

/// Up to `max` messages of `from` received within `wait`, each hidden for
/// longer than any test runs.
pub(crate) async fn receive_hidden(
    queue: &dyn WorkQueue,
    from: QueueName,
    max: usize,
    wait: Duration,
) -> Vec<ReceivedMessage> {
    queue
        .receive(
            from,
            Receive {
                max,
                visibility: HIDDEN,
                wait,
            },
        )
        .await
        .expect("receive")
}

pub(crate) async fn assert_nothing_visible(queue: &dyn WorkQueue, why: &str) {
    let got = receive_hidden(queue, Q, 10, Duration::ZERO).await;
    assert!(got.is_empty(), "{why}, but received {got:?}");
}

/// A delayed message stays invisible until its delay has passed.
pub async fn delay_is_respected(queue: &dyn WorkQueue, t: Timing) {
    let sent_at = Instant::now();
    queue
        .send(Q, vec![delayed("later", t.ticks(3))])
        .await
        .expect("send");
    assert_nothing_visible(queue, "a message delayed 3 ticks was visible at once").await;
    let m = receive_one(queue, HIDDEN, t.ticks(15)).await;
    assert_eq!(m.body, "later");
    assert_eq!(m.event_type.as_deref(), Some("ContractTest"));
    // Millisecond rounding and two clocks: allow a hair of slack.
    let waited = sent_at.elapsed();
    assert!(
        waited + Duration::from_millis(10) >= t.ticks(3),
        "a message delayed {:?} was received after {waited:?}",
        t.ticks(3)
    );
}

/// A received message is hidden for its visibility timeout, then is
/// received again with a new receipt.
pub async fn visibility_hides_then_reshows(queue: &dyn WorkQueue, t: Timing) {
    queue.send(Q, vec![message("work")]).await.expect("send");
    let first = receive_one(queue, t.ticks(3), Duration::ZERO).await;
    assert_nothing_visible(
        queue,
        "a received message was visible within its visibility timeout",
    )
    .await;
    let second = receive_one(queue, HIDDEN, t.ticks(15)).await;
    assert_eq!(second.message_id, first.message_id);
    assert_eq!(second.body, "work");
    assert_ne!(
        second.receipt, first.receipt,
        "each receive needs a fresh receipt"
    );
}

/// Each receive of an undeleted message counts, this one included.
pub async fn receive_count_increments(queue: &dyn WorkQueue, t: Timing) {
    queue.send(Q, vec![message("counted")]).await.expect("send");
    for expected in 1..=3 {
        let m = receive_one(queue, t.ticks(1), t.ticks(15)).await;
        assert_eq!(m.receive_count, expected, "receive number {expected}");
    }
}

/// Deleting with a receipt from before the message was received again does
/// not delete it from its new holder.
pub async fn stale_receipt_delete_spares_the_new_holder(queue: &dyn WorkQueue, t: Timing) {
    queue
        .send(Q, vec![message("contested")])
        .await
        .expect("send");
    let old = receive_one(queue, t.ticks(1), Duration::ZERO).await;
    let new = receive_one(queue, t.ticks(3), t.ticks(15)).await;
    assert_eq!(new.message_id, old.message_id);
    assert_eq!(new.receive_count, 2);

    queue
        .delete(Q, std::slice::from_ref(&old.receipt))
        .await
        .expect("a stale delete is not an error");
    // Still there: it comes back when the new holder's timeout runs out.
    let again = receive_one(queue, HIDDEN, t.ticks(15)).await;
    assert_eq!(again.message_id, old.message_id);
    assert_eq!(again.receive_count, 3);
}

/// Extending visibility with a stale receipt is refused and changes nothing.
pub async fn extend_with_stale_receipt_is_refused(queue: &dyn WorkQueue, t: Timing) {
    queue
        .send(Q, vec![message("contested")])
        .await
        .expect("send");
    let old = receive_one(queue, t.ticks(1), Duration::ZERO).await;
    let new = receive_one(queue, t.ticks(2), t.ticks(15)).await;
    match queue.extend_visibility(Q, &old.receipt, HIDDEN).await {
        Err(QueueError::StaleReceipt(_)) => {}
        other => panic!("extending a stale receipt must be StaleReceipt, got {other:?}"),
    }
    // The new holder's short timeout was not extended.
    let again = receive_one(queue, HIDDEN, t.ticks(15)).await;
    assert_eq!(again.message_id, new.message_id);
    assert_eq!(again.receive_count, 3);
}

/// Extending visibility keeps a message hidden past its first timeout.
pub async fn extend_visibility_keeps_it_hidden(queue: &dyn QueueBackend, t: Timing) {
    queue
        .send(Q, vec![message("slow work")])
        .await
        .expect("send");
    let m = receive_one(queue, t.ticks(2), Duration::ZERO).await;
    queue
        .extend_visibility(Q, &m.receipt, t.ticks(8))
        .await
        .expect("extend");
    let got = receive_hidden(queue, Q, 1, t.ticks(4)).await;
    assert!(
        got.is_empty(),
        "an extended message reappeared early: {got:?}"
    );
    queue
        .delete(Q, std::slice::from_ref(&m.receipt))
        .await
        .expect("delete");
    assert_eq!(queue.depth(Q).await.expect("depth").in_flight, 0);
}

/// Ten messages sent in one batch are all received, none twice, in batches
/// of at most ten, and deleted in one call.
pub async fn batch_of_ten(queue: &dyn QueueBackend, t: Timing) {
    let bodies: BTreeSet<String> = (0..10).map(|i| format!("message {i}")).collect();
    queue
        .send(Q, bodies.iter().map(|b| message(b)).collect())
        .await
        .expect("send");
    let mut received = Vec::new();
    for _ in 0..20 {
        if received.len() == 10 {
            break;
        }
        let got = receive_hidden(queue, Q, 10, t.ticks(2)).await;
        assert!(got.len() <= 10, "asked for at most 10, got {}", got.len());
        received.extend(got);
    }
    let got_bodies: Vec<&str> = received.iter().map(|m| m.body.as_str()).collect();
    let unique: BTreeSet<String> = got_bodies.iter().map(|b| b.to_string()).collect();
    assert_eq!(got_bodies.len(), 10, "received {got_bodies:?}");
    assert_eq!(unique, bodies, "every message exactly once");

    let receipts: Vec<String> = received.iter().map(|m| m.receipt.clone()).collect();
    queue.delete(Q, &receipts).await.expect("delete");
    let depth = queue.depth(Q).await.expect("depth");
    assert_eq!(
        (depth.visible, depth.delayed, depth.in_flight),
        (0, 0, 0),
        "{depth:?}"
    );
}

/// A body up to `MAX_BODY_BYTES` is carried whole, three of them sent at
/// once too (over SQS's 1 MiB for one batch together); a body over it is
/// refused with [`QueueError::TooLarge`], and nothing of its batch is sent.
pub async fn large_messages_are_carried_and_oversized_ones_refused(
    queue: &dyn QueueBackend,
    t: Timing,
) {
    let large = |c: char| c.to_string().repeat(MAX_BODY_BYTES);
    let bodies: BTreeSet<String> = ['a', 'b', 'c'].into_iter().map(large).collect();
    queue
        .send(Q, bodies.iter().map(|b| message(b)).collect())
        .await
        .expect("three messages of the largest body, in one send");
    let mut received = Vec::new();
    for _ in 0..10 {
        if received.len() == 3 {
            break;
        }
        received.extend(receive_hidden(queue, Q, 10, t.ticks(2)).await);
    }
    let got: BTreeSet<String> = received.iter().map(|m| m.body.clone()).collect();
    assert!(got == bodies, "the large bodies did not come back whole");
    let receipts: Vec<String> = received.iter().map(|m| m.receipt.clone()).collect();
    queue.delete(Q, &receipts).await.expect("delete");

    let oversized = "x".repeat(MAX_BODY_BYTES + 1);
    let refused = queue
        .send(Q, vec![message("small"), message(&oversized)])
        .await;
    match refused {
        Err(QueueError::TooLarge {
            queue: q, bytes, ..
        }) => {
            assert_eq!((q, bytes), (Q, MAX_BODY_BYTES + 1));
        }
        other => panic!("an oversized message was not refused as too large: {other:?}"),
    }
    let text = refused.expect_err("refused").to_string();
    assert!(text.contains("nothing was sent"), "{text}");
    assert_nothing_visible(queue, "a batch with an oversized message was partly sent").await;
}

/// Queues are separate: a message sent to one is not received from another.
pub async fn queues_are_separate(queue: &dyn WorkQueue, t: Timing) {
    queue
        .send(QueueName::Poll, vec![message("for the poll worker")])
        .await
        .expect("send");
    let got = receive_hidden(queue, QueueName::Launch, 10, t.ticks(1)).await;
    assert!(got.is_empty(), "the launch queue returned {got:?}");
    let got = receive_hidden(queue, QueueName::Poll, 10, t.ticks(15)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "for the poll worker");
}

/// A receive waiting on an empty queue returns as soon as a message is
/// sent, not at the end of its wait.
pub async fn waiting_receive_wakes_on_send(queue: &dyn WorkQueue, t: Timing) {
    let started = Instant::now();
    let (got, sent) = tokio::join!(
        queue.receive(
            Q,
            Receive {
                max: 1,
                visibility: HIDDEN,
                wait: t.ticks(30)
            }
        ),
        async {
            tokio::time::sleep(t.ticks(1)).await;
            queue.send(Q, vec![message("wake up")]).await
        }
    );
    sent.expect("send");
    let got = got.expect("receive");
    assert_eq!(got.len(), 1, "the waiting receive missed the message");
    assert_eq!(got[0].body, "wake up");
    let took = started.elapsed();
    assert!(
        took < t.ticks(10),
        "the waiting receive took {took:?} for a message sent after {:?}",
        t.ticks(1)
    );
}
