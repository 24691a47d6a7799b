//! Runbook triggers and DRS launch-result events arriving from EventBridge,
//! on the embedded backend: a trigger starts one execution per idempotency
//! key, a duplicate starts nothing, a trigger from a source off the
//! allow-list or an unconfirmed recovery is refused with the reason recorded
//! and announced, and a trigger nobody can record goes to the DLQ.

use ripcord::ids::ExecutionId;
use ripcord::ports::announce::Announcement;
use ripcord::ports::queue::OutgoingMessage;
use ripcord::ports::store::ExecutionQuery;
use ripcord::ports::{ExecutionStore, QueueName};
use ripcord::status::{execution_status, is_settled};
use ripcord::status_model::ExecutionStatus;
use ripcord::trigger::{TriggerOutcome, TriggerPolicy, execution_id_for};
use ripcord_tests::{example_scenario, examples, recovery_jobs_per_wave};
use ripcord_workers::engine::LocalEngine;
use ripcord_workers::inbound::TriggerSettings;
use ripcord_workers::worker::WorkerConfig;
use std::time::{Duration, Instant};

const RUNBOOK: &str = "com.example.dr-runbook";
const ACCOUNT: &str = "111122223333";

fn trigger(event_id: &str, source: &str, detail: serde_json::Value) -> OutgoingMessage {
    let event = serde_json::json!({
        "version": "0", "id": event_id, "detail-type": "Ripcord Start Execution",
        "source": source, "account": ACCOUNT, "time": "2026-11-23T10:00:00Z",
        "region": "us-east-1", "resources": [], "detail": detail,
    });
    OutgoingMessage {
        body: event.to_string(),
        delay: Duration::ZERO,
        event_type: "EventBridge".into(),
        schema_version: 0,
    }
}

fn drill(key: &str) -> serde_json::Value {
    serde_json::json!({
        "plan": "drill", "mode": "drill", "requestedBy": "oncall@example.com",
        "idempotencyKey": key,
    })
}

struct Harness {
    _dir: tempfile::TempDir,
    engine: LocalEngine,
    workers: ripcord_workers::engine::Workers,
}

fn start() -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    // Slower than the example's 300x: at 300x an action's 5-minute timeout
    // is one real second, which a loaded machine running three of these
    // drills at once can miss (it did, once).
    let mut scenario = example_scenario("happy-path.yaml");
    scenario.time_scale = 60.0;
    let engine = LocalEngine::open(&dir.path().join("t.db"), scenario).expect("engine");
    let config = WorkerConfig {
        triggers: TriggerSettings {
            policy: TriggerPolicy {
                sources: vec![RUNBOOK.into()],
                accounts: vec![ACCOUNT.into()],
            },
            plans_dir: Some(examples()),
        },
        ..WorkerConfig::default()
    };
    let workers = engine.spawn_workers(&QueueName::ALL, config);
    Harness {
        _dir: dir,
        engine,
        workers,
    }
}

impl Harness {
    async fn send(&self, message: OutgoingMessage) {
        self.engine
            .ports
            .queue
            .send(QueueName::Launch, vec![message])
            .await
            .expect("send");
    }

    fn store(&self) -> &dyn ExecutionStore {
        self.engine.ports.store.as_ref()
    }

    async fn settled(&self, id: ExecutionId) -> ExecutionStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(e) = self.store().load_execution(id).await.expect("load") {
                let waves = self.store().load_waves(id).await.expect("waves");
                if is_settled(&e.record, &waves) {
                    let now = self.engine.ports.clock.now();
                    return execution_status(&e.record, &waves, now).status;
                }
            }
            assert!(Instant::now() < deadline, "execution {id} did not settle");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn trigger_recorded(&self, key: &str) -> ripcord::trigger::TriggerRecord {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(t) = self
                .engine
                .ports
                .trigger_log
                .load_trigger(key)
                .await
                .expect("load")
            {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "trigger {key} was never recorded"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn drained(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let d = self
                .engine
                .backend
                .dead_letters()
                .depth(QueueName::Launch)
                .await
                .expect("depth");
            // Timers (timeouts, launch checks) stay delayed; they are not the point.
            if d.visible + d.in_flight == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the launch queue never drained: {d:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn announced(&self) -> Vec<Announcement> {
        self.engine
            .backend
            .embedded_announcer()
            .announced()
            .expect("announcements")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_starts_one_execution_and_a_duplicate_starts_nothing() {
    let h = start();
    h.send(trigger("evt-1", RUNBOOK, drill("INC-4211-drill")))
        .await;
    let id = execution_id_for("INC-4211-drill");
    assert_eq!(h.settled(id).await, ExecutionStatus::Completed);
    let recorded = h.trigger_recorded("INC-4211-drill").await;
    assert_eq!(recorded.outcome, TriggerOutcome::Started);
    assert_eq!(recorded.execution_id, id);
    assert_eq!(recorded.requested_by.as_deref(), Some("oncall@example.com"));

    // The runbook fires again (a retry on its side): same key, new event.
    h.send(trigger("evt-2", RUNBOOK, drill("INC-4211-drill")))
        .await;
    h.drained().await;
    assert_eq!(
        h.store()
            .list_executions(&ExecutionQuery::newest(10))
            .await
            .expect("list")
            .items
            .len(),
        1
    );
    assert_eq!(
        h.engine
            .ports
            .trigger_log
            .list_triggers(10)
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        recovery_jobs_per_wave(&h.engine.simulator),
        [("1".into(), 1), ("2".into(), 1), ("3".into(), 1)].into()
    );
    // Every status change is announced (through the metrics queue).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let statuses: Vec<ExecutionStatus> = h
            .announced()
            .into_iter()
            .filter_map(|a| match a {
                Announcement::ExecutionStatusChanged { status, .. } => Some(status),
                _ => None,
            })
            .collect();
        if statuses.contains(&ExecutionStatus::Completed) {
            assert_eq!(
                statuses.first(),
                Some(&ExecutionStatus::InProgress),
                "{statuses:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "COMPLETED was never announced: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    h.workers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_off_the_allow_list_or_unconfirmed_are_refused_and_announced() {
    let h = start();
    h.send(trigger(
        "evt-3",
        "com.example.intruder",
        drill("k-intruder"),
    ))
    .await;
    let recovery = serde_json::json!({
        "plan": "drill", "mode": "recovery", "requestedBy": "oncall", "idempotencyKey": "k-recovery",
    });
    h.send(trigger("evt-4", RUNBOOK, recovery)).await;
    let intruder = h.trigger_recorded("k-intruder").await;
    assert_eq!(intruder.outcome, TriggerOutcome::Refused);
    let reason = intruder.reason.unwrap_or_default();
    assert!(
        reason.contains("com.example.intruder") && reason.contains("allow-list"),
        "{reason}"
    );
    let unconfirmed = h.trigger_recorded("k-recovery").await;
    assert_eq!(unconfirmed.outcome, TriggerOutcome::Refused);
    assert!(
        unconfirmed
            .reason
            .unwrap_or_default()
            .contains("confirmRecovery")
    );
    h.drained().await;
    // Nothing was started or launched.
    assert!(
        h.store()
            .list_executions(&ExecutionQuery::newest(10))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    assert!(h.engine.simulator.start_recovery_calls().is_empty());
    let refused: Vec<String> = h
        .announced()
        .into_iter()
        .filter_map(|a| match a {
            Announcement::TriggerRefused {
                idempotency_key, ..
            } => Some(idempotency_key),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused.contains(&"k-intruder".to_owned()) && refused.contains(&"k-recovery".to_owned())
    );
    h.workers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_without_a_key_goes_to_the_dead_letter_queue_with_its_reason() {
    let h = start();
    let keyless = serde_json::json!({"plan": "drill", "mode": "drill", "requestedBy": "x"});
    h.send(trigger("evt-5", RUNBOOK, keyless)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let dead = loop {
        let dead = h
            .engine
            .backend
            .dead_letters()
            .list_dead(QueueName::Launch)
            .await
            .expect("dlq");
        if !dead.is_empty() {
            break dead;
        }
        assert!(Instant::now() < deadline, "nothing was dead-lettered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].reason.contains("idempotencyKey"),
        "{}",
        dead[0].reason
    );
    assert!(
        h.engine
            .ports
            .trigger_log
            .list_triggers(10)
            .await
            .expect("list")
            .is_empty()
    );
    h.workers.shutdown().await;
}
