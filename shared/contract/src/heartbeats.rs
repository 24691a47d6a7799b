//! The [`WorkerHeartbeats`] contract: the latest heartbeat per worker,
//! none older than the retention. Run it on an empty store.

use ripcord::ports::QueueName;
use ripcord::ports::calls::{CallOutcome, ProcessCalls, Service, ServiceCalls};
use ripcord::ports::heartbeats::{WorkerHeartbeat, WorkerHeartbeats};
use ripcord::recent::{Recent, StepClass, StepCounts};
use ripcord::time::Timestamp;

/// A worker's heartbeat replaces its previous one; old ones are not listed.
pub async fn heartbeats_keep_the_latest_per_worker(store: &dyn WorkerHeartbeats) {
    // Real time: an adapter may also drop what its TTL has expired.
    let now = chrono::Utc::now();
    let beat = |id: &str, kind: QueueName, last_poll: Timestamp| WorkerHeartbeat {
        kind,
        worker_id: id.to_owned(),
        started_at: now - chrono::TimeDelta::days(3),
        last_poll,
        messages: 1,
        stopped_at: None,
        steps: Recent::default(),
        calls: None,
    };
    let early = beat(
        "host-1:launch",
        QueueName::Launch,
        now - chrono::TimeDelta::seconds(30),
    );
    // Its last heartbeat, written as it stopped cleanly, with its recent
    // steps and its process' calls (docs/monitoring.md).
    let mut steps = Recent::<StepCounts>::default();
    steps.add(now, |c| c.count(StepClass::Throttled));
    let mut drs = ServiceCalls::new(Service::Drs);
    drs.record(
        CallOutcome::Throttled,
        now,
        Some("ThrottlingException: Rate exceeded"),
    );
    let late = WorkerHeartbeat {
        messages: 5,
        stopped_at: Some(now),
        steps,
        calls: Some(ProcessCalls {
            process: "host-1:7:0".to_owned(),
            services: vec![drs],
        }),
        ..beat("host-1:launch", QueueName::Launch, now)
    };
    let poll = beat(
        "host-2:poll",
        QueueName::Poll,
        now - chrono::TimeDelta::seconds(2),
    );
    let gone = beat(
        "host-3:metrics",
        QueueName::Metrics,
        now - WorkerHeartbeat::RETENTION - chrono::TimeDelta::minutes(1),
    );
    for b in [&gone, &early, &poll, &late] {
        store.record_heartbeat(b).await.expect("record a heartbeat");
    }
    let mut listed = store.list_heartbeats(now).await.expect("list heartbeats");
    listed.sort_by(|a, b| a.worker_id.cmp(&b.worker_id));
    assert_eq!(
        listed,
        vec![late, poll],
        "the latest per worker, none older than a day"
    );
}
