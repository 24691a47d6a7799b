//! Bad messages on every queue (invariant 5, docs/invariants.md), on the
//! embedded backend: garbage, a truncated envelope, an envelope of another
//! schema version and one too large for any queue, put on each of the four
//! queues (launch, poll, post-actions, metrics) of a running drill, land in
//! that queue's dead-letter queue with the reason, and the workers keep
//! serving the drill: it completes as it would have, one job per wave.
//! (The same on SQS in moto: `workers/tests/aws_workers.rs`.)

use ripcord::event::{Envelope, Event};
use ripcord::ids::WaveNumber;
use ripcord::ports::QueueName;
use ripcord::ports::queue::{MAX_BODY_BYTES, OutgoingMessage, QueueError};
use ripcord::reason::MAX_REASON_BYTES;
use ripcord::status_model::ExecutionStatus;
use ripcord_tests::{Drill, recovery_jobs_per_wave};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

/// Puts `body` on `queue` as another program would write it into the
/// file: past the adapter, which refuses a body this large.
fn write_into_the_file(drill: &Drill, queue: QueueName, body: &str) {
    let db = rusqlite::Connection::open(drill.database()).expect("the drill's file opens");
    db.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    db.execute(
        "INSERT INTO messages (queue, message_id, body, event_type, schema_version, visible_at)
         VALUES (?1, ?2, ?3, NULL, 1, 0)",
        rusqlite::params![queue.as_str(), uuid::Uuid::new_v4().to_string(), body],
    )
    .expect("the message is written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_on_every_queue_land_in_its_dlq_with_the_reason_while_the_drill_completes() {
    let drill = Drill::start("drill.yaml", "happy-path.yaml").await;
    drill
        .wait_for("the execution to exist", LIMIT, |_| true)
        .await;
    // A stale poll of wave 1: harmless, were it ever processed.
    let valid = Envelope::new(
        drill.id,
        Some(WaveNumber(1)),
        Event::PollWave { seq: 0 },
        drill.engine.ports.clock.now(),
    );
    let mut json: serde_json::Value = serde_json::from_str(&valid.to_json()).unwrap();
    json["schemaVersion"] = 2.into();
    let wrong_version = json.to_string();
    json["schemaVersion"] = 1.into();
    json["padding"] = "x".repeat(MAX_BODY_BYTES).into();
    let oversized = json.to_string();
    let text = valid.to_json();
    let cases: [(&str, String, &str); 4] = [
        (
            "garbage",
            "\u{1}\u{7f}garbage ]] \u{0}".to_owned(),
            "malformed JSON: expected value at line 1 column 1",
        ),
        (
            "truncated",
            text[..text.len() / 2].to_owned(),
            "malformed JSON: EOF while parsing",
        ),
        (
            "wrong version",
            wrong_version,
            "schema version 2 is not supported (this build reads version 1)",
        ),
        (
            "oversized",
            oversized.clone(),
            "bytes a Ripcord message may be, so it was not read",
        ),
    ];

    let queue = drill.queue();
    for name in QueueName::ALL {
        for (what, body, _) in &cases {
            if *what == "oversized" {
                // No adapter sends it: the send is refused, saying so.
                let refused = queue
                    .send(
                        name,
                        vec![OutgoingMessage {
                            body: body.clone(),
                            delay: Duration::ZERO,
                            event_type: "PollWave".into(),
                            schema_version: 1,
                        }],
                    )
                    .await;
                assert!(
                    matches!(refused, Err(QueueError::TooLarge { .. })),
                    "the {name} queue took an oversized message: {refused:?}"
                );
                write_into_the_file(&drill, name, body);
            } else {
                queue
                    .send(
                        name,
                        vec![OutgoingMessage {
                            body: body.clone(),
                            delay: Duration::ZERO,
                            event_type: "unknown".into(),
                            schema_version: 1,
                        }],
                    )
                    .await
                    .expect("send");
            }
        }
    }

    let deadline = Instant::now() + LIMIT;
    for name in QueueName::ALL {
        let dead = loop {
            let dead = drill.dead_letters().list_dead(name).await.expect("list");
            if dead.len() >= cases.len() || Instant::now() > deadline {
                break dead;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let reasons: BTreeMap<&str, &str> = cases
            .iter()
            .map(|(what, body, _)| {
                let found = dead
                    .iter()
                    .find(|d| d.body == *body)
                    .unwrap_or_else(|| panic!("the {what} message never reached the {name} DLQ"));
                (*what, found.reason.as_str())
            })
            .collect();
        for (what, _, expected) in &cases {
            let reason = reasons[what];
            assert!(
                reason.contains(expected),
                "the {what} message's reason on the {name} DLQ should say {expected:?}: {reason:?}"
            );
            assert!(reason.len() <= MAX_REASON_BYTES, "{reason}");
        }
        assert_eq!(
            dead.len(),
            cases.len(),
            "only the bad messages are dead on {name}"
        );
    }

    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed, "{view:#?}");
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        BTreeMap::from([("1".into(), 1), ("2".into(), 1), ("3".into(), 1)])
    );
}
