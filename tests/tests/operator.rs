//! Operator control drills (docs/status-model.md, "Operator control"): the
//! real engine on the simulator, an operator stepping in the way `ripcord
//! retry|skip|pause|resume` does (the same check first, then the event on
//! the launch queue), and the table the drill ends with.

use ripcord::event::Event;
use ripcord::ids::WaveNumber;
use ripcord::operator::{OperatorCommand, check};
use ripcord::ports::drs::{TAG_ATTEMPT, TAG_WAVE};
use ripcord::status::ExecutionView;
use ripcord::status_model::{ExecutionStatus, WaveStatus};
use ripcord_tests::{Drill, assert_drill_table, fixtures, recovery_jobs_per_wave};
use std::collections::BTreeMap;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);
const LEAD: &str = "dr-lead@example.com";

/// Recovery jobs the simulator created, per (wave, attempt) tag.
fn jobs_per_attempt(drill: &Drill) -> BTreeMap<(String, String), usize> {
    let mut jobs = BTreeMap::new();
    for call in drill.engine.simulator.start_recovery_calls() {
        if call.outcome.job_id().is_some() {
            let tag = |name: &str| call.tags.get(name).cloned().unwrap_or_default();
            *jobs.entry((tag(TAG_WAVE), tag(TAG_ATTEMPT))).or_default() += 1;
        }
    }
    jobs
}

/// Checks `command` against the records as the CLI and the API do, then
/// sends `event` as they do.
async fn operate(drill: &Drill, command: OperatorCommand, event: Event) {
    let store = drill.store();
    let execution = store.load_execution(drill.id).await.unwrap().unwrap();
    let waves = store.load_waves(drill.id).await.unwrap();
    let wave = command
        .wave()
        .and_then(|n| waves.iter().find(|w| w.number == n));
    if let Err(refusal) = check(&execution.record, wave, &command) {
        panic!("the operator command is refused: {refusal}");
    }
    drill.send(command.wave().map(|n| n.0), event).await;
}

async fn failed(drill: &Drill) -> ExecutionView {
    drill
        .wait_until("the drill to fail", LIMIT, |v, settled| {
            settled && v.status == ExecutionStatus::Failed
        })
        .await
}

/// Waits for the `n`th operator action to be decided.
async fn decided(drill: &Drill, n: usize) -> ExecutionView {
    drill
        .wait_for("the operator action", LIMIT, |v| {
            v.operator_actions.len() >= n
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_wave_retried_completes_and_the_waves_after_it_run() {
    let drill = Drill::start(
        "drill.yaml",
        fixtures().join("scenarios/app-server-fails-once.yaml"),
    )
    .await;
    let view = failed(&drill).await;
    assert_eq!(view.waves[1].status, WaveStatus::Failed);
    assert_eq!(view.waves[2].status, WaveStatus::Cancelled);

    // Retrying a wave that did not fail is refused, and changes nothing.
    let store = drill.store();
    let execution = store.load_execution(drill.id).await.unwrap().unwrap();
    let refused = check(
        &execution.record,
        None,
        &OperatorCommand::Retry {
            wave: WaveNumber(1),
            servers: vec![],
        },
    )
    .expect_err("wave 1 completed");
    assert!(
        refused.reason.contains("COMPLETED, not FAILED"),
        "{refused}"
    );

    let retry = OperatorCommand::Retry {
        wave: WaveNumber(2),
        servers: vec![],
    };
    let event = retry.event(LEAD, Some("capacity is back in us-east-1a".into()));
    operate(&drill, retry, event).await;
    decided(&drill, 1).await;
    let (view, drill) = drill.finish(LIMIT).await;
    // The two app servers that launched in attempt 1 keep their launch and
    // get their post-launch work now; pay-app-2 launches in attempt 2.
    assert_drill_table(
        &view,
        "
        execution COMPLETED
        wave databases COMPLETED
            pay-db-primary  COMPLETED  HEALTHY
            pay-db-replica  COMPLETED  HEALTHY
        wave app-tier COMPLETED
            pay-app-1       COMPLETED  HEALTHY
            pay-app-2       COMPLETED  HEALTHY
            pay-batch       COMPLETED  HEALTHY
        wave web-tier COMPLETED
            pay-web-1       COMPLETED  HEALTHY
            pay-web-2       COMPLETED  HEALTHY
        ",
    );
    assert_eq!(view.reason, None);
    assert_eq!(view.waves[1].attempt, 2);
    let app2 = &view.waves[1].servers[1];
    assert_eq!(app2.attempts.len(), 1, "{app2:?}");
    assert_eq!(
        app2.attempts[0].error_code.as_deref(),
        Some("LAUNCH_FAILED")
    );
    // One job per attempt (invariant 2): the retry launched only pay-app-2.
    let jobs = jobs_per_attempt(&drill);
    assert_eq!(jobs.get(&("2".into(), "1".into())), Some(&1), "{jobs:?}");
    assert_eq!(jobs.get(&("2".into(), "2".into())), Some(&1), "{jobs:?}");
    assert_eq!(jobs.values().sum::<usize>(), 4, "{jobs:?}");
    let action = &view.operator_actions[0];
    assert_eq!(
        (action.requested_by.as_str(), action.attempt),
        (LEAD, Some(2))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_wave_skipped_lets_the_next_wave_run_and_the_drill_completes_naming_it() {
    let drill = Drill::start("drill.yaml", "one-server-fails.yaml").await;
    failed(&drill).await;
    let skip = OperatorCommand::Skip {
        wave: WaveNumber(2),
        reason: "the app tier is checked by hand today".into(),
    };
    let event = skip.event(LEAD, None);
    operate(&drill, skip, event).await;
    decided(&drill, 1).await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_drill_table(
        &view,
        "
        execution COMPLETED
        wave databases COMPLETED
            pay-db-primary  COMPLETED  HEALTHY
            pay-db-replica  COMPLETED  HEALTHY
        wave app-tier SKIPPED
            pay-app-1       LAUNCHED   PENDING
            pay-app-2       FAILED     PENDING  LAUNCH_FAILED
            pay-batch       LAUNCHED   PENDING
        wave web-tier COMPLETED
            pay-web-1       COMPLETED  HEALTHY
            pay-web-2       COMPLETED  HEALTHY
        ",
    );
    assert_eq!(
        view.reason.as_deref(),
        Some("completed with wave 2 (app-tier) skipped by dr-lead@example.com")
    );
    assert!(
        view.waves[1]
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("checked by hand"),
        "{:?}",
        view.waves[1].reason
    );
    assert_eq!(recovery_jobs_per_wave(&drill.engine.simulator).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_drill_starts_no_wave_until_resumed() {
    let drill = Drill::start("drill.yaml", "happy-path.yaml").await;
    drill
        .wait_for("the databases to launch", LIMIT, |v| {
            v.waves[0].status == WaveStatus::Launching
        })
        .await;
    let event = OperatorCommand::Pause.event(LEAD, Some("the network team asks to wait".into()));
    operate(&drill, OperatorCommand::Pause, event).await;
    let view = decided(&drill, 1).await;
    assert!(view.paused.is_some());
    // The running wave goes on and completes; the next does not start.
    drill
        .wait_for("the databases to complete", LIMIT, |v| {
            v.waves[0].status == WaveStatus::Completed
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (view, _) = drill.view().await.unwrap();
    assert_eq!(view.status, ExecutionStatus::InProgress);
    assert_eq!(view.waves[1].status, WaveStatus::Pending);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator).get("2"),
        None
    );

    let event = OperatorCommand::Resume.event(LEAD, None);
    operate(&drill, OperatorCommand::Resume, event).await;
    decided(&drill, 2).await;
    let (view, _) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed);
    assert!(view.paused.is_none());
    let kinds: Vec<&str> = view
        .operator_actions
        .iter()
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(kinds, ["PAUSE", "RESUME"]);
}
