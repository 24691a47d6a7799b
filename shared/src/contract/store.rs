//! The [`ExecutionStore`] contract: all-or-nothing creation, conditional
//! (versioned) saves of executions and waves, wave order and the newest-first
//! listing. Run each suite on an empty store.

use crate::ids::{ExecutionId, SourceServerId, WaveNumber};
use crate::machine::{ExecutionRecord, ExecutionStatus, LaunchState, WaveRecord, WaveStatus};
use crate::plan::{
    ActionPlan, DEFAULT_ACTION_TIMEOUT, DEFAULT_EXECUTION_TIMEOUT, DEFAULT_HEALTH_TIMEOUT,
    DEFAULT_LAUNCH_TIMEOUT, HealthCheck, Mode, Plan, PlanOptions, PollIntervals, RetryPolicy,
    ServerPlan, WavePlan,
};
use crate::ports::store::{CreateOutcome, ExecutionStore, StoreError};
use crate::time::Timestamp;
use crate::trigger::{TriggerOutcome, TriggerRecord};
use std::collections::BTreeMap;

/// A drill plan of `waves` waves of three servers each, every wave after
/// the first depending on the one before, with an action and health checks
/// so that every part of the records is stored.
pub fn sample_plan(name: &str, waves: u32) -> Plan {
    let waves = (1..=waves)
        .map(|n| WavePlan {
            number: WaveNumber(n),
            name: format!("wave {n}"),
            servers: (0..3)
                .map(|s| ServerPlan {
                    id: SourceServerId::parse(&format!("s-{:017x}", n * 16 + s))
                        .expect("a well-formed source server id"),
                    hostname: Some(format!("app-{n}-{s}")),
                    critical: s != 2,
                })
                .collect(),
            depends_on: if n > 1 {
                vec![WaveNumber(n - 1)]
            } else {
                vec![]
            },
            post_launch: vec![ActionPlan {
                name: "start services".to_owned(),
                document: "AWS-RunShellScript".to_owned(),
                parameters: BTreeMap::from([(
                    "commands".to_owned(),
                    vec!["systemctl start app".to_owned()],
                )]),
                timeout: DEFAULT_ACTION_TIMEOUT,
            }],
            health_checks: vec![
                HealthCheck::Ec2StatusOk,
                HealthCheck::Command {
                    command: "curl -fsS localhost:8080/health".to_owned(),
                },
            ],
            launch_timeout: DEFAULT_LAUNCH_TIMEOUT,
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            wait_for_approval: n == 2,
        })
        .collect();
    Plan {
        name: name.to_owned(),
        mode: Mode::Drill,
        region: "us-east-1".to_owned(),
        waves,
        options: PlanOptions {
            poll_intervals: PollIntervals::default(),
            retry: RetryPolicy::default(),
            execution_timeout: DEFAULT_EXECUTION_TIMEOUT,
            rto_target: None,
        },
    }
}

fn at(rfc3339: &str) -> Timestamp {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .expect("a valid time")
        .to_utc()
}

fn new_execution(
    plan_name: &str,
    waves: u32,
    start: Timestamp,
) -> (ExecutionRecord, Vec<WaveRecord>) {
    ExecutionRecord::new(
        ExecutionId::new_random(),
        &sample_plan(plan_name, waves),
        "tester",
        start,
    )
}

/// A created execution and its waves load back equal, at version 1.
pub async fn created_execution_loads_at_version_one(store: &dyn ExecutionStore) {
    let (execution, waves) = new_execution("payments", 2, at("2025-03-01T10:00:00.123456789Z"));
    let outcome = store
        .create_execution(&execution, &waves)
        .await
        .expect("create");
    assert_eq!(outcome, CreateOutcome::Created);

    let loaded = store
        .load_execution(execution.id)
        .await
        .expect("load")
        .expect("the created execution");
    assert_eq!(loaded.version, 1);
    assert_eq!(loaded.record, execution);
    for wave in &waves {
        let loaded = store
            .load_wave(execution.id, wave.number)
            .await
            .expect("load_wave")
            .expect("the created wave");
        assert_eq!(loaded.version, 1);
        assert_eq!(&loaded.record, wave);
    }
}

/// Unknown executions and waves load as None.
pub async fn missing_records_load_as_none(store: &dyn ExecutionStore) {
    let id = ExecutionId::new_random();
    assert!(store.load_execution(id).await.expect("load").is_none());
    assert!(
        store
            .load_wave(id, WaveNumber(1))
            .await
            .expect("load_wave")
            .is_none()
    );
    assert!(store.load_waves(id).await.expect("load_waves").is_empty());
}

/// Creating an id twice answers AlreadyExists and writes nothing.
pub async fn create_twice_is_already_exists(store: &dyn ExecutionStore) {
    let (execution, waves) = new_execution("payments", 2, at("2025-03-01T10:00:00Z"));
    store
        .create_execution(&execution, &waves)
        .await
        .expect("create");

    // Same id, different content and one more wave.
    let (mut again, _) = new_execution("other plan", 3, at("2025-03-02T10:00:00Z"));
    again.id = execution.id;
    let again_waves: Vec<WaveRecord> = sample_plan("other plan", 3)
        .waves
        .iter()
        .map(|w| WaveRecord::new(execution.id, w, Mode::Drill, &again.options))
        .collect();
    let outcome = store
        .create_execution(&again, &again_waves)
        .await
        .expect("second create");
    assert_eq!(outcome, CreateOutcome::AlreadyExists);

    let loaded = store
        .load_execution(execution.id)
        .await
        .expect("load")
        .unwrap();
    assert_eq!(
        loaded.record, execution,
        "the second create overwrote the execution"
    );
    assert_eq!(loaded.version, 1);
    let stored_waves = store.load_waves(execution.id).await.expect("load_waves");
    assert_eq!(stored_waves, waves, "the second create wrote waves");
}

/// A save with the version read succeeds and bumps it; a save with an older
/// version is a VersionConflict and changes nothing.
pub async fn stale_execution_save_is_a_conflict(store: &dyn ExecutionStore) {
    let (execution, waves) = new_execution("payments", 1, at("2025-03-01T10:00:00Z"));
    store
        .create_execution(&execution, &waves)
        .await
        .expect("create");

    let mut running = execution.clone();
    running.status = ExecutionStatus::InProgress;
    assert_eq!(store.save_execution(&running, 1).await.expect("save"), 2);

    let mut stale = execution.clone();
    stale.status = ExecutionStatus::Cancelled;
    match store.save_execution(&stale, 1).await {
        Err(StoreError::VersionConflict { expected: 1, .. }) => {}
        other => panic!("a save at a stale version must be VersionConflict, got {other:?}"),
    }
    let loaded = store
        .load_execution(execution.id)
        .await
        .expect("load")
        .unwrap();
    assert_eq!(loaded.version, 2);
    assert_eq!(loaded.record.status, ExecutionStatus::InProgress);

    let mut done = loaded.record.clone();
    done.status = ExecutionStatus::Completed;
    assert_eq!(store.save_execution(&done, 2).await.expect("save"), 3);
}

/// Waves are saved conditionally on their own versions, independently of
/// the execution's and of each other's.
pub async fn stale_wave_save_is_a_conflict(store: &dyn ExecutionStore) {
    let (execution, waves) = new_execution("payments", 2, at("2025-03-01T10:00:00Z"));
    store
        .create_execution(&execution, &waves)
        .await
        .expect("create");

    let mut launching = waves[0].clone();
    launching.status = WaveStatus::Launching;
    launching.launch = LaunchState::Requested {
        tries: 1,
        since: at("2025-03-01T10:00:01Z"),
        requested_at: at("2025-03-01T10:00:01Z"),
        reconcile: false,
        throttled: 0,
    };
    assert_eq!(store.save_wave(&launching, 1).await.expect("save_wave"), 2);

    let mut stale = waves[0].clone();
    stale.status = WaveStatus::Failed;
    match store.save_wave(&stale, 1).await {
        Err(StoreError::VersionConflict { expected: 1, .. }) => {}
        other => panic!("a wave save at a stale version must be VersionConflict, got {other:?}"),
    }
    let loaded = store
        .load_wave(execution.id, WaveNumber(1))
        .await
        .expect("load_wave")
        .unwrap();
    assert_eq!(loaded.version, 2);
    assert_eq!(loaded.record, launching);

    // The other wave and the execution kept their own versions.
    let other = store
        .load_wave(execution.id, WaveNumber(2))
        .await
        .expect("load_wave")
        .unwrap();
    assert_eq!(other.version, 1);
    assert_eq!(
        store.save_wave(&other.record, 1).await.expect("save_wave"),
        2
    );
    let loaded = store
        .load_execution(execution.id)
        .await
        .expect("load")
        .unwrap();
    assert_eq!(loaded.version, 1);
}

/// A save of a record that was never created is a conflict, not a create.
pub async fn save_of_missing_record_is_a_conflict(store: &dyn ExecutionStore) {
    let (execution, waves) = new_execution("payments", 1, at("2025-03-01T10:00:00Z"));
    assert!(matches!(
        store.save_execution(&execution, 1).await,
        Err(StoreError::VersionConflict { .. })
    ));
    assert!(matches!(
        store.save_wave(&waves[0], 1).await,
        Err(StoreError::VersionConflict { .. })
    ));
    assert!(
        store
            .load_execution(execution.id)
            .await
            .expect("load")
            .is_none()
    );
}

/// `load_waves` returns the waves in wave order whatever order they were
/// written in, and only that execution's.
pub async fn load_waves_in_wave_order(store: &dyn ExecutionStore) {
    let (execution, waves) = new_execution("payments", 4, at("2025-03-01T10:00:00Z"));
    let mut shuffled = waves.clone();
    shuffled.reverse();
    shuffled.swap(0, 1);
    store
        .create_execution(&execution, &shuffled)
        .await
        .expect("create");
    let (other, other_waves) = new_execution("other", 2, at("2025-03-01T10:00:00Z"));
    store
        .create_execution(&other, &other_waves)
        .await
        .expect("create");

    let loaded = store.load_waves(execution.id).await.expect("load_waves");
    let numbers: Vec<u32> = loaded.iter().map(|w| w.number.0).collect();
    assert_eq!(numbers, vec![1, 2, 3, 4]);
    assert_eq!(loaded, waves);
}

/// `list_executions` is newest first by start time and honours its limit.
pub async fn list_is_newest_first(store: &dyn ExecutionStore) {
    let starts = [
        ("middle", "2025-03-01T10:00:00Z"),
        ("newest", "2025-03-01T12:30:00.5Z"),
        ("oldest", "2025-02-28T23:59:59Z"),
        ("newer", "2025-03-01T12:30:00Z"),
    ];
    let mut created = Vec::new();
    for (name, start) in starts {
        let (mut execution, waves) = new_execution(name, 1, at(start));
        if name == "newer" {
            execution.status = ExecutionStatus::InProgress;
        }
        store
            .create_execution(&execution, &waves)
            .await
            .expect("create");
        created.push(execution);
    }

    let listed = store.list_executions(10).await.expect("list");
    let names: Vec<&str> = listed.iter().map(|s| s.plan_name.as_str()).collect();
    assert_eq!(names, vec!["newest", "newer", "middle", "oldest"]);
    let newer = created.iter().find(|e| e.plan_name == "newer").unwrap();
    assert_eq!(listed[1].id, newer.id);
    assert_eq!(listed[1].status, ExecutionStatus::InProgress);
    assert_eq!(listed[1].start_time, newer.start_time);

    let top = store.list_executions(2).await.expect("list");
    let names: Vec<&str> = top.iter().map(|s| s.plan_name.as_str()).collect();
    assert_eq!(names, vec!["newest", "newer"]);
}

/// The listing shows an execution's status as last saved.
pub async fn list_shows_saved_status(store: &dyn ExecutionStore) {
    let (execution, waves) = new_execution("payments", 1, at("2025-03-01T10:00:00Z"));
    store
        .create_execution(&execution, &waves)
        .await
        .expect("create");
    let mut failed = execution.clone();
    failed.status = ExecutionStatus::Failed;
    failed.reason = Some("wave 1 failed".to_owned());
    store.save_execution(&failed, 1).await.expect("save");
    let listed = store.list_executions(10).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, ExecutionStatus::Failed);
}

fn trigger(key: &str, outcome: TriggerOutcome, received: &str) -> TriggerRecord {
    TriggerRecord {
        idempotency_key: key.to_owned(),
        outcome,
        execution_id: ExecutionId::new_random(),
        reason: (outcome == TriggerOutcome::Refused).then(|| "source not allowed".to_owned()),
        event_id: format!("event-{key}"),
        source: "com.example.runbook".to_owned(),
        account: Some("123456789012".to_owned()),
        requested_by: Some("oncall".to_owned()),
        mode: Some(Mode::Drill),
        plan: Some("payments.yaml".to_owned()),
        received_at: at(received),
    }
}

/// The first trigger with an idempotency key is kept; a second one with the
/// same key writes nothing, whatever it says.
pub async fn first_trigger_with_a_key_wins(store: &dyn ExecutionStore) {
    let first = trigger(
        "drill-2025-03",
        TriggerOutcome::Started,
        "2025-03-01T10:00:00Z",
    );
    assert_eq!(
        store.record_trigger(&first).await.expect("record"),
        CreateOutcome::Created
    );
    let second = trigger(
        "drill-2025-03",
        TriggerOutcome::Refused,
        "2025-03-01T10:05:00Z",
    );
    assert_eq!(
        store.record_trigger(&second).await.expect("record again"),
        CreateOutcome::AlreadyExists
    );
    let kept = store
        .load_trigger("drill-2025-03")
        .await
        .expect("load")
        .expect("the trigger is kept");
    assert_eq!(kept, first);
    assert!(store.load_trigger("other").await.expect("load").is_none());
}

/// Triggers list newest first, up to the limit.
pub async fn triggers_list_newest_first(store: &dyn ExecutionStore) {
    for (key, time) in [
        ("older", "2025-03-01T09:00:00Z"),
        ("newest", "2025-03-01T11:00:00Z"),
        ("newer", "2025-03-01T10:00:00Z"),
    ] {
        let t = trigger(key, TriggerOutcome::Started, time);
        store.record_trigger(&t).await.expect("record");
    }
    let keys: Vec<String> = store
        .list_triggers(2)
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.idempotency_key)
        .collect();
    assert_eq!(keys, vec!["newest", "newer"]);
}
