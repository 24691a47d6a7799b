//! The [`DeadLetters`](ripcord::ports::DeadLetters) contract, with the
//! queue whose messages go dead: the receive limit, `dead_letter` with its
//! reason, replay by id or all, and depth by state. Run each suite on empty
//! queues.

use super::queue::{
    HIDDEN, Q, assert_nothing_visible, delayed, message, receive_hidden, receive_one,
};
use crate::timing::{QueueBackend, Timing};
use ripcord::ports::queue::{MAX_BODY_BYTES, QueueError, QueueName};
use ripcord::reason::MAX_REASON_BYTES;
use std::time::Duration;

/// A message received `max_receives` times without being deleted goes to
/// the dead-letter queue on the next receive, with a reason saying so.
/// `max_receives` is the adapter's configured limit.
pub async fn dead_letters_after_max_receives(
    queue: &dyn QueueBackend,
    t: Timing,
    max_receives: u32,
) {
    queue.send(Q, vec![message("poison")]).await.expect("send");
    let mut id = String::new();
    for n in 1..=max_receives {
        let m = receive_one(queue, t.ticks(1), t.ticks(15)).await;
        assert_eq!(m.receive_count, n);
        id = m.message_id;
    }
    // Long enough for the last visibility timeout to run out.
    let got = receive_hidden(queue, Q, 10, t.ticks(4)).await;
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
pub async fn dead_letter_keeps_the_reason(queue: &dyn QueueBackend, _t: Timing) {
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

/// A reason that quotes bad input is kept readable: control characters
/// escaped, at most `MAX_REASON_BYTES` (its start and end kept), and the
/// largest body Ripcord sends is dead-lettered whole beside it.
pub async fn dead_letter_reasons_are_kept_readable(queue: &dyn QueueBackend, _t: Timing) {
    let body = "z".repeat(MAX_BODY_BYTES);
    queue.send(Q, vec![message(&body)]).await.expect("send");
    let m = receive_one(queue, HIDDEN, Duration::ZERO).await;
    let reason = format!("unknown event type `\u{1}{}` (end)", "y".repeat(100_000));
    queue
        .dead_letter(Q, &m, &reason)
        .await
        .expect("dead_letter");
    let dead = queue.list_dead(Q).await.expect("list_dead");
    assert_eq!(dead.len(), 1, "{} dead messages", dead.len());
    let kept = &dead[0].reason;
    assert!(
        kept.len() <= MAX_REASON_BYTES,
        "a reason of {} bytes",
        kept.len()
    );
    assert!(
        kept.starts_with("unknown event type `\\u{1}yyy") && kept.ends_with("(end)"),
        "{kept}"
    );
    assert!(!kept.chars().any(|c| c.is_control()), "{kept:?}");
    assert!(dead[0].body == body, "the body was not kept whole");
}

/// Replay moves dead messages back, one by id or all, keeping their ids and
/// starting their receive count afresh; an unknown id is an error.
pub async fn replay_moves_dead_messages_back(queue: &dyn QueueBackend, t: Timing) {
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

/// Depth counts visible, delayed, in-flight and dead messages apart.
pub async fn depth_counts_each_state(queue: &dyn QueueBackend, t: Timing) {
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
