//! How many messages a second the embedded queue moves through send,
//! receive and delete. Ignored by default; run it with
//! `cargo test -p ripcord --release --test embedded_throughput -- --ignored --nocapture`.
//! It prints numbers and asserts only that every message went through once.

use ripcord::ports::Receive;
use ripcord::ports::queue::{OutgoingMessage, QueueName};
use ripcord_embedded::{EmbeddedBackend, EmbeddedConfig};
use std::time::{Duration, Instant};

const MESSAGES: usize = 10_000;
const Q: QueueName = QueueName::Poll;

fn body(i: usize) -> String {
    // About the size of a real PollWave envelope.
    format!(
        r#"{{"eventId":"{:032x}","executionId":"7f9c2ba4-e88f-4e8a-9d5b-4c1b2f0a6e11","type":"PollWave","schemaVersion":1,"wave":3,"seq":{i}}}"#,
        i
    )
}

/// Sends, receives and deletes `MESSAGES` messages `batch` at a time.
async fn run(batch: usize) -> f64 {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let backend = EmbeddedBackend::open(&dir.path().join("bench.db"), EmbeddedConfig::default())
        .expect("open");
    let queue = backend.queue();
    let started = Instant::now();
    for chunk in (0..MESSAGES).collect::<Vec<_>>().chunks(batch) {
        let messages = chunk
            .iter()
            .map(|i| OutgoingMessage {
                body: body(*i),
                delay: Duration::ZERO,
                event_type: "PollWave".to_owned(),
                schema_version: 1,
            })
            .collect();
        queue.send(Q, messages).await.expect("send");
    }
    let sent = started.elapsed();
    let mut taken = 0;
    while taken < MESSAGES {
        let got = queue
            .receive(
                Q,
                Receive {
                    max: batch,
                    visibility: Duration::from_secs(60),
                    wait: Duration::ZERO,
                },
            )
            .await
            .expect("receive");
        assert!(!got.is_empty(), "the queue ran dry after {taken} messages");
        let receipts: Vec<String> = got.iter().map(|m| m.receipt.clone()).collect();
        queue.delete(Q, &receipts).await.expect("delete");
        taken += got.len();
    }
    let total = started.elapsed();
    assert_eq!(taken, MESSAGES);
    let depth = backend.dead_letters().depth(Q).await.expect("depth");
    assert_eq!((depth.visible, depth.in_flight), (0, 0));
    let rate = MESSAGES as f64 / total.as_secs_f64();
    println!(
        "batch {batch:>2}: {MESSAGES} messages sent in {sent:?}, sent+received+deleted in {total:?}: {rate:.0} messages/s"
    );
    rate
}

#[tokio::test]
#[ignore = "a measurement, not a check; run with --ignored --nocapture"]
async fn send_receive_delete_throughput() {
    for batch in [1, 10] {
        run(batch).await;
    }
}
