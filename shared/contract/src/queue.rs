//! The [`WorkQueue`] contract: delays, visibility timeouts, receive counts,
//! dead-letter queues and replay, receipts, batches and depth. Run each
//! suite on empty queues.

use super::Timing;
use ripcord::ports::queue::{OutgoingMessage, QueueError, QueueName, ReceivedMessage, WorkQueue};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const Q: QueueName = QueueName::Launch;
/// Long enough that nothing reappears while a suite runs.
const HIDDEN: Duration = Duration::from_secs(600);

fn message(body: &str) -> OutgoingMessage {
    OutgoingMessage {
        body: body.to_owned(),
        delay: Duration::ZERO,
        event_type: "ContractTest".to_owned(),
        schema_version: 1,
    }
}

fn delayed(body: &str, delay: Duration) -> OutgoingMessage {
    OutgoingMessage {
        delay,
        ..message(body)
    }
}

/// Receives exactly one message, waiting up to `wait` for it.
async fn receive_one(
    queue: &dyn WorkQueue,
    visibility: Duration,
    wait: Duration,
) -> ReceivedMessage {
    let mut got = queue
        .receive(Q, 1, visibility, wait)
        .await
        .expect("receive");
    assert_eq!(
        got.len(),
        1,
        "expected one message within {wait:?}, got {got:?}"
    );
    got.remove(0)
}

async fn assert_nothing_visible(queue: &dyn WorkQueue, why: &str) {
    let got = queue
        .receive(Q, 10, HIDDEN, Duration::ZERO)
        .await
        .expect("receive");
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

/// A message received `max_receives` times without being deleted goes to
/// the dead-letter queue on the next receive, with a reason saying so.
/// `max_receives` is the adapter's configured limit.
pub async fn dead_letters_after_max_receives(queue: &dyn WorkQueue, t: Timing, max_receives: u32) {
    queue.send(Q, vec![message("poison")]).await.expect("send");
    let mut id = String::new();
    for n in 1..=max_receives {
        let m = receive_one(queue, t.ticks(1), t.ticks(15)).await;
        assert_eq!(m.receive_count, n);
        id = m.message_id;
    }
    // Long enough for the last visibility timeout to run out.
    let got = queue
        .receive(Q, 10, HIDDEN, t.ticks(4))
        .await
        .expect("receive");
    assert!(
        got.is_empty(),
        "a message received {max_receives} times was handed out again: {got:?}"
    );
    let dead = queue.list_dead(Q).await.expect("list_dead");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message_id, id);
    assert_eq!(dead[0].body, "poison");
    assert_eq!(dead[0].receive_count, max_receives);
    assert_eq!(
        dead[0].reason,
        format!("received {max_receives} times without being deleted (limit {max_receives})")
    );
    assert_eq!(queue.depth(Q).await.expect("depth").dead, 1);
}

/// `dead_letter` moves a received message to the DLQ with its reason and
/// takes it off the queue.
pub async fn dead_letter_keeps_the_reason(queue: &dyn WorkQueue, _t: Timing) {
    queue
        .send(Q, vec![message("{not json")])
        .await
        .expect("send");
    let m = receive_one(queue, HIDDEN, Duration::ZERO).await;
    let reason = "malformed message: expected a JSON envelope";
    queue.dead_letter(Q, &m, reason).await.expect("dead_letter");

    assert_nothing_visible(queue, "a dead-lettered message was still on its queue").await;
    let dead = queue.list_dead(Q).await.expect("list_dead");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message_id, m.message_id);
    assert_eq!(dead[0].body, "{not json");
    assert_eq!(dead[0].reason, reason);
    assert_eq!(dead[0].receive_count, 1);
    assert_eq!(dead[0].event_type.as_deref(), Some("ContractTest"));
    assert!(!dead[0].dead_at.is_empty());
    assert!(
        queue
            .list_dead(QueueName::Poll)
            .await
            .expect("list_dead")
            .is_empty(),
        "a dead message showed up in another queue's DLQ"
    );
}

/// Replay moves dead messages back, one by id or all, keeping their ids and
/// starting their receive count afresh; an unknown id is an error.
pub async fn replay_moves_dead_messages_back(queue: &dyn WorkQueue, t: Timing) {
    queue.send(Q, vec![message("first")]).await.expect("send");
    queue.send(Q, vec![message("second")]).await.expect("send");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let m = receive_one(queue, HIDDEN, t.ticks(15)).await;
        queue
            .dead_letter(Q, &m, "handler failed")
            .await
            .expect("dead_letter");
        ids.push((m.body.clone(), m.message_id.clone()));
    }
    ids.sort();
    let (first_id, second_id) = (ids[0].1.clone(), ids[1].1.clone());

    match queue.replay_dead(Q, Some("no-such-message")).await {
        Err(QueueError::NoSuchDeadMessage { .. }) => {}
        other => panic!("replaying an unknown id must be NoSuchDeadMessage, got {other:?}"),
    }

    assert_eq!(
        queue
            .replay_dead(Q, Some(&first_id))
            .await
            .expect("replay one"),
        1
    );
    let dead = queue.list_dead(Q).await.expect("list_dead");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id, second_id);
    let replayed = receive_one(queue, HIDDEN, t.ticks(15)).await;
    assert_eq!(replayed.message_id, first_id);
    assert_eq!(replayed.body, "first");
    assert_eq!(
        replayed.receive_count, 1,
        "replay must reset the receive count"
    );

    assert_eq!(queue.replay_dead(Q, None).await.expect("replay all"), 1);
    assert!(queue.list_dead(Q).await.expect("list_dead").is_empty());
    let replayed = receive_one(queue, HIDDEN, t.ticks(15)).await;
    assert_eq!(replayed.message_id, second_id);
    assert_eq!(replayed.receive_count, 1);
    assert_eq!(queue.replay_dead(Q, None).await.expect("replay empty"), 0);
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
pub async fn extend_visibility_keeps_it_hidden(queue: &dyn WorkQueue, t: Timing) {
    queue
        .send(Q, vec![message("slow work")])
        .await
        .expect("send");
    let m = receive_one(queue, t.ticks(2), Duration::ZERO).await;
    queue
        .extend_visibility(Q, &m.receipt, t.ticks(8))
        .await
        .expect("extend");
    let got = queue
        .receive(Q, 1, HIDDEN, t.ticks(4))
        .await
        .expect("receive");
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
pub async fn batch_of_ten(queue: &dyn WorkQueue, t: Timing) {
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
        let got = queue
            .receive(Q, 10, HIDDEN, t.ticks(2))
            .await
            .expect("receive");
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

/// Depth counts visible, delayed, in-flight and dead messages apart.
pub async fn depth_counts_each_state(queue: &dyn WorkQueue, t: Timing) {
    queue
        .send(Q, vec![message("now"), delayed("later", t.ticks(60))])
        .await
        .expect("send");
    let depth = queue.depth(Q).await.expect("depth");
    assert_eq!(
        (depth.visible, depth.delayed, depth.in_flight, depth.dead),
        (1, 1, 0, 0)
    );
    let m = receive_one(queue, HIDDEN, Duration::ZERO).await;
    assert_eq!(m.body, "now");
    let depth = queue.depth(Q).await.expect("depth");
    assert_eq!(
        (depth.visible, depth.delayed, depth.in_flight, depth.dead),
        (0, 1, 1, 0)
    );
    queue.dead_letter(Q, &m, "test").await.expect("dead_letter");
    let depth = queue.depth(Q).await.expect("depth");
    assert_eq!(
        (depth.visible, depth.delayed, depth.in_flight, depth.dead),
        (0, 1, 0, 1)
    );
}

/// Queues are separate: a message sent to one is not received from another.
pub async fn queues_are_separate(queue: &dyn WorkQueue, t: Timing) {
    queue
        .send(QueueName::Poll, vec![message("for the poll worker")])
        .await
        .expect("send");
    let got = queue
        .receive(QueueName::Launch, 10, HIDDEN, t.ticks(1))
        .await
        .expect("receive");
    assert!(got.is_empty(), "the launch queue returned {got:?}");
    let got = queue
        .receive(QueueName::Poll, 10, HIDDEN, t.ticks(15))
        .await
        .expect("receive");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "for the poll worker");
}

/// A receive waiting on an empty queue returns as soon as a message is
/// sent, not at the end of its wait.
pub async fn waiting_receive_wakes_on_send(queue: &dyn WorkQueue, t: Timing) {
    let started = Instant::now();
    let (got, sent) = tokio::join!(queue.receive(Q, 1, HIDDEN, t.ticks(30)), async {
        tokio::time::sleep(t.ticks(1)).await;
        queue.send(Q, vec![message("wake up")]).await
    });
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
