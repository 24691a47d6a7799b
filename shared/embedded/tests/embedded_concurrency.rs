//! Two backends on one file, as two worker processes would open it: while
//! 1,000 messages are sent, both receive in a loop, and every message must
//! be taken exactly once between them.

use ripcord::ports::Receive;
use ripcord::ports::queue::{OutgoingMessage, QueueName};
use ripcord_embedded::{EmbeddedBackend, EmbeddedConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const MESSAGES: usize = 1_000;
const Q: QueueName = QueueName::Poll;

/// Receives and deletes until all messages are taken; returns the bodies it took.
fn receiver(backend: EmbeddedBackend, taken: Arc<AtomicUsize>) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let queue = backend.queue();
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut bodies = Vec::new();
        while taken.load(Ordering::SeqCst) < MESSAGES {
            assert!(Instant::now() < deadline, "receivers stalled at {taken:?}");
            let got = queue
                .receive(
                    Q,
                    Receive {
                        max: 10,
                        visibility: Duration::from_secs(300),
                        wait: Duration::from_millis(50),
                    },
                )
                .await
                .expect("receive");
            if got.is_empty() {
                continue;
            }
            let receipts: Vec<String> = got.iter().map(|m| m.receipt.clone()).collect();
            queue.delete(Q, &receipts).await.expect("delete");
            taken.fetch_add(got.len(), Ordering::SeqCst);
            bodies.extend(got.into_iter().map(|m| m.body));
        }
        bodies
    })
}

#[test]
fn two_backends_on_one_file_take_every_message_exactly_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ripcord.db");
    let first = EmbeddedBackend::open(&path, EmbeddedConfig::default()).expect("open");
    let second = EmbeddedBackend::open(&path, EmbeddedConfig::default()).expect("open again");
    let taken = Arc::new(AtomicUsize::new(0));

    let receivers = [first.clone(), second.clone()].map(|backend| {
        let taken = taken.clone();
        std::thread::spawn(move || receiver(backend, taken))
    });

    // Sent one by one from the first backend while both receive.
    let sender = first.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let queue = sender.queue();
        for i in 0..MESSAGES {
            let message = OutgoingMessage {
                body: format!("message {i}"),
                delay: Duration::ZERO,
                event_type: "PollWave".to_owned(),
                schema_version: 1,
            };
            queue.send(Q, vec![message]).await.expect("send");
        }
    });

    let per_receiver: Vec<Vec<String>> = receivers
        .into_iter()
        .map(|r| r.join().expect("a receiver panicked"))
        .collect();
    let mut times_taken: BTreeMap<String, usize> = BTreeMap::new();
    for body in per_receiver.iter().flatten() {
        *times_taken.entry(body.clone()).or_default() += 1;
    }
    let twice: Vec<_> = times_taken.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "taken more than once: {twice:?}");
    assert_eq!(
        times_taken.len(),
        MESSAGES,
        "some messages were never taken"
    );
    for i in 0..MESSAGES {
        assert!(
            times_taken.contains_key(&format!("message {i}")),
            "message {i} was lost"
        );
    }
    eprintln!(
        "taken by each backend: {:?}",
        per_receiver.iter().map(Vec::len).collect::<Vec<_>>()
    );

    let depth = runtime
        .block_on(second.dead_letters().depth(Q))
        .expect("depth");
    assert_eq!(
        (depth.visible, depth.delayed, depth.in_flight, depth.dead),
        (0, 0, 0, 0)
    );
}
