//! The [`ExecutionStore`] contract: all-or-nothing creation, conditional
//! (versioned) saves of executions and waves, wave order and the newest-first
//! listing. Run each suite on an empty store.

use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::plan::Mode;
use ripcord::ports::store::{CreateOutcome, ExecutionQuery, ExecutionStore, StoreError};
use ripcord::records::{ExecutionRecord, LaunchState, WaveRecord};
use ripcord::status_model::{ExecutionStatus, WaveStatus};
pub use ripcord::testing::sample_plan;
use ripcord::time::Timestamp;

pub(crate) fn at(rfc3339: &str) -> Timestamp {
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

    let page = store
        .list_executions(&ExecutionQuery::newest(10))
        .await
        .expect("list");
    assert_eq!(page.next, None, "everything fits on one page");
    let listed = page.items;
    let names: Vec<&str> = listed.iter().map(|s| s.plan_name.as_str()).collect();
    assert_eq!(names, vec!["newest", "newer", "middle", "oldest"]);
    let newer = created.iter().find(|e| e.plan_name == "newer").unwrap();
    assert_eq!(listed[1].id, newer.id);
    assert_eq!(listed[1].status, ExecutionStatus::InProgress);
    assert_eq!(listed[1].start_time, newer.start_time);

    let top = store
        .list_executions(&ExecutionQuery::newest(2))
        .await
        .expect("list");
    let names: Vec<&str> = top.items.iter().map(|s| s.plan_name.as_str()).collect();
    assert_eq!(names, vec!["newest", "newer"]);
    assert!(top.next.is_some(), "two more executions follow");
}

/// Pages follow one another with no execution shown twice or skipped, also
/// among executions that started at the same instant, and a status filter
/// pages the same way.
pub async fn list_pages_and_filters_by_status(store: &dyn ExecutionStore) {
    let same_instant = at("2025-03-01T12:00:00Z");
    let mut created = Vec::new();
    for i in 0..7 {
        let start = if i < 4 {
            same_instant
        } else {
            same_instant + chrono::TimeDelta::minutes(i)
        };
        let (mut execution, waves) = new_execution(&format!("plan-{i}"), 1, start);
        if i % 2 == 0 {
            execution.status = ExecutionStatus::Failed;
        }
        store
            .create_execution(&execution, &waves)
            .await
            .expect("create");
        created.push(execution);
    }

    let all = pages(store, None, 3).await;
    assert_eq!(all.len(), 7, "every execution exactly once: {all:?}");
    let mut ids: Vec<_> = all.iter().map(|s| s.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7, "no execution on two pages: {all:?}");
    assert!(
        all.windows(2).all(|w| w[0].start_time >= w[1].start_time),
        "newest first across pages: {all:?}"
    );

    let failed = pages(store, Some(ExecutionStatus::Failed), 2).await;
    let mut expected: Vec<_> = created
        .iter()
        .filter(|e| e.status == ExecutionStatus::Failed)
        .map(|e| e.id)
        .collect();
    let mut got: Vec<_> = failed.iter().map(|s| s.id).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "the FAILED ones, each once");
    assert!(failed.iter().all(|s| s.status == ExecutionStatus::Failed));

    let none = store
        .list_executions(&ExecutionQuery {
            status: Some(ExecutionStatus::Cancelled),
            limit: 5,
            after: None,
        })
        .await
        .expect("list");
    assert!(none.items.is_empty() && none.next.is_none());
}

/// Follows `next` until the last page; each page holds at most `limit`.
async fn pages(
    store: &dyn ExecutionStore,
    status: Option<ExecutionStatus>,
    limit: usize,
) -> Vec<ripcord::ports::store::ExecutionSummary> {
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..20 {
        let page = store
            .list_executions(&ExecutionQuery {
                status,
                limit,
                after,
            })
            .await
            .expect("list a page");
        assert!(page.items.len() <= limit, "a page holds at most {limit}");
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return all,
        }
    }
    panic!("more than 20 pages: the cursor does not advance");
}

/// Counts by status follow the saved statuses.
pub async fn counts_executions_by_status(store: &dyn ExecutionStore) {
    assert!(store.count_executions().await.expect("count").is_empty());
    for (i, status) in [
        ExecutionStatus::InProgress,
        ExecutionStatus::InProgress,
        ExecutionStatus::Completed,
    ]
    .into_iter()
    .enumerate()
    {
        let (mut execution, waves) = new_execution(
            "counted",
            1,
            at("2025-03-01T12:00:00Z") + chrono::TimeDelta::seconds(i as i64),
        );
        execution.status = status;
        store
            .create_execution(&execution, &waves)
            .await
            .expect("create");
        if i == 2 {
            let mut failed = execution.clone();
            failed.status = ExecutionStatus::Failed;
            store.save_execution(&failed, 1).await.expect("save");
        }
    }
    let mut counts = store.count_executions().await.expect("count");
    counts.sort_by_key(|(s, _)| format!("{s:?}"));
    assert_eq!(
        counts,
        vec![
            (ExecutionStatus::Failed, 1),
            (ExecutionStatus::InProgress, 2)
        ]
    );
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
    let listed = store
        .list_executions(&ExecutionQuery::newest(10))
        .await
        .expect("list")
        .items;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, ExecutionStatus::Failed);
}
