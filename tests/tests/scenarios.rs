//! Scenario tests: each example scenario is a drill with a known ending.
//! They run the real engine (embedded queues and store, the four workers,
//! the simulator on a fast clock) and assert the final status of every
//! server, wave and the execution: the table a drill ends with.
//!
//! The expected tables follow from the plan (`examples/drill.yaml` and
//! `examples/approval-drill.yaml`) and the scenario file named in each test.
//! In `drill.yaml` every wave has health checks, so a server that completed
//! is HEALTHY; a server whose checks never ran (it failed before them, or
//! its wave never got that far) is still PENDING. `approval-drill.yaml` has
//! no health checks at all.

use ripcord::event::Event;
use ripcord::status_model::{ExecutionStatus, WaveStatus};
use ripcord_tests::{Drill, assert_drill_table, examples, fixtures, recovery_jobs_per_wave, wire};
use std::collections::BTreeMap;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// Recovery jobs the simulator created, per wave number.
fn jobs_per_wave(drill: &Drill) -> BTreeMap<String, usize> {
    recovery_jobs_per_wave(&drill.engine.simulator)
}

fn one_job_per_wave(waves: u32) -> BTreeMap<String, usize> {
    (1..=waves).map(|n| (n.to_string(), 1)).collect()
}

fn contains(text: &Option<String>, part: &str) -> bool {
    text.as_deref().unwrap_or("").contains(part)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path() {
    let drill = Drill::start("drill.yaml", "happy-path.yaml").await;
    let (view, drill) = drill.finish(LIMIT).await;
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
    assert_eq!(view.progress.percent_complete, 100.0);
    for server in view.waves.iter().flat_map(|w| &w.servers) {
        assert!(server.launched_instance_id.is_some(), "{server:?}");
        assert!(server.private_ip_address.is_some(), "{server:?}");
    }
    let actions = &view.waves[1].post_actions;
    assert_eq!(actions.len(), 1);
    assert_eq!(wire(&actions[0].status), "SUCCESS");
    assert_eq!(jobs_per_wave(&drill), one_job_per_wave(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_fails() {
    let drill = Drill::start("drill.yaml", "one-server-fails.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    // The app tier fails as soon as its job has ended: the servers that
    // launched stay LAUNCHED (no post-launch work runs in a failed wave).
    assert_drill_table(
        &view,
        "
        execution FAILED
        wave databases COMPLETED
            pay-db-primary  COMPLETED  HEALTHY
            pay-db-replica  COMPLETED  HEALTHY
        wave app-tier FAILED
            pay-app-1       LAUNCHED   PENDING
            pay-app-2       FAILED     PENDING  LAUNCH_FAILED
            pay-batch       LAUNCHED   PENDING
        wave web-tier CANCELLED
            pay-web-1       PENDING    PENDING
            pay-web-2       PENDING    PENDING
        ",
    );
    let failed = &view.waves[1].servers[1];
    assert!(
        contains(&failed.error_message, "InsufficientInstanceCapacity"),
        "the DRS rawError is kept: {failed:?}"
    );
    assert!(contains(&view.waves[1].reason, "pay-app-2"), "{view:#?}");
    assert!(contains(&view.reason, "app-tier"), "{:?}", view.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_completed_with_failed_servers_is_a_failure() {
    let drill = Drill::start("drill.yaml", "job-completed-with-failures.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    assert_drill_table(
        &view,
        "
        execution FAILED
        wave databases FAILED
            pay-db-primary  FAILED   PENDING  CONVERSION_FAIL
            pay-db-replica  FAILED   PENDING  NOT_LAUNCHED
        wave app-tier CANCELLED
            pay-app-1       PENDING  PENDING
            pay-app-2       PENDING  PENDING
            pay-batch       PENDING  PENDING
        wave web-tier CANCELLED
            pay-web-1       PENDING  PENDING
            pay-web-2       PENDING  PENDING
        ",
    );
    let replica = &view.waves[0].servers[1];
    assert!(
        contains(
            &replica.error_message,
            "ended (COMPLETED) without launching"
        ),
        "{replica:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_storm_still_completes_with_one_job_per_wave() {
    let drill = Drill::start("drill.yaml", "throttling-storm.yaml").await;
    let (view, drill) = drill.finish(LIMIT).await;
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
    assert_eq!(
        jobs_per_wave(&drill),
        one_job_per_wave(3),
        "exactly one recovery job per wave (invariant 2), whatever the faults"
    );
    let faults = drill.engine.simulator.faults_injected();
    let throttled: u64 = faults
        .iter()
        .filter(|((_, code), _)| code == "ThrottlingException")
        .map(|(_, n)| n)
        .sum();
    assert!(
        throttled >= 20,
        "the storm should have throttled many calls: {faults:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssm_action_fails() {
    let drill = Drill::start("drill.yaml", "ssm-action-fails.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    // The action fails on every app server, so their health checks never run.
    assert_drill_table(
        &view,
        "
        execution FAILED
        wave databases COMPLETED
            pay-db-primary  COMPLETED  HEALTHY
            pay-db-replica  COMPLETED  HEALTHY
        wave app-tier FAILED
            pay-app-1       FAILED     PENDING  ACTION_FAILED
            pay-app-2       FAILED     PENDING  ACTION_FAILED
            pay-batch       FAILED     PENDING  ACTION_FAILED
        wave web-tier CANCELLED
            pay-web-1       PENDING    PENDING
            pay-web-2       PENDING    PENDING
        ",
    );
    let action = &view.waves[1].post_actions[0];
    assert_eq!(wire(&action.status), "FAILED");
    let app1 = &view.waves[1].servers[0];
    assert!(
        contains(&app1.error_message, "point-at-dr-database"),
        "{app1:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_times_out() {
    let drill = Drill::start("drill.yaml", "action-times-out.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    assert_drill_table(
        &view,
        "
        execution FAILED
        wave databases COMPLETED
            pay-db-primary  COMPLETED  HEALTHY
            pay-db-replica  COMPLETED  HEALTHY
        wave app-tier FAILED
            pay-app-1       FAILED     PENDING  ACTION_TIMEOUT
            pay-app-2       FAILED     PENDING  ACTION_TIMEOUT
            pay-batch       FAILED     PENDING  ACTION_TIMEOUT
        wave web-tier CANCELLED
            pay-web-1       PENDING    PENDING
            pay-web-2       PENDING    PENDING
        ",
    );
    let action = &view.waves[1].post_actions[0];
    assert_eq!(wire(&action.status), "TIMEOUT", "{action:?}");
    let app1 = &view.waves[1].servers[0];
    assert!(
        contains(&app1.error_message, "within its timeout of 5m"),
        "{app1:?}"
    );
    assert!(contains(&view.reason, "app-tier"), "{:?}", view.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_times_out() {
    let drill = Drill::start("drill.yaml", "health-check-timeout.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    assert_drill_table(
        &view,
        "
        execution FAILED
        wave databases COMPLETED
            pay-db-primary  COMPLETED  HEALTHY
            pay-db-replica  COMPLETED  HEALTHY
        wave app-tier COMPLETED
            pay-app-1       COMPLETED  HEALTHY
            pay-app-2       COMPLETED  HEALTHY
            pay-batch       COMPLETED  HEALTHY
        wave web-tier FAILED
            pay-web-1       COMPLETED  HEALTHY
            pay-web-2       FAILED     TIMEOUT  HEALTH_CHECK_TIMEOUT
        ",
    );
    let web2 = &view.waves[2].servers[1];
    assert!(
        contains(&web2.error_message, "health_timeout of 15m"),
        "{web2:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_server_fails_without_failing_its_wave() {
    let drill = Drill::start("drill.yaml", "optional-server-fails.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
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
            pay-batch       FAILED     PENDING  LAUNCH_FAILED
        wave web-tier COMPLETED
            pay-web-1       COMPLETED  HEALTHY
            pay-web-2       COMPLETED  HEALTHY
        ",
    );
    assert_eq!(view.progress.failed_servers, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_wave() {
    let drill = Drill::start("drill.yaml", "cancel-mid-wave.yaml").await;
    drill
        .wait_for("the app tier to launch", LIMIT, |v| {
            v.waves[1].status == WaveStatus::Launching
        })
        .await;
    drill
        .send(
            None,
            Event::CancelExecution {
                requested_by: "scenario-test".into(),
                reason: "drill aborted".into(),
            },
        )
        .await;
    let (view, drill) = drill.finish(LIMIT).await;
    // The running job was observed to its end, so the app servers' status
    // is true; nothing runs on them after a cancel.
    assert_drill_table(
        &view,
        "
        execution CANCELLED
        wave databases COMPLETED
            pay-db-primary  COMPLETED  HEALTHY
            pay-db-replica  COMPLETED  HEALTHY
        wave app-tier CANCELLED
            pay-app-1       LAUNCHED   PENDING
            pay-app-2       LAUNCHED   PENDING
            pay-batch       LAUNCHED   PENDING
        wave web-tier CANCELLED
            pay-web-1       PENDING    PENDING
            pay-web-2       PENDING    PENDING
        ",
    );
    assert!(contains(&view.reason, "drill aborted"), "{:?}", view.reason);
    assert_eq!(
        jobs_per_wave(&drill).get("3"),
        None,
        "no wave starts after a cancel"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_gate_holds_the_wave_until_approved() {
    let drill = Drill::start("approval-drill.yaml", "approval-gate.yaml").await;
    let view = drill
        .wait_for("wave 1 done and wave 2 awaiting approval", LIMIT, |v| {
            v.waves[0].status == WaveStatus::Completed && v.waves[1].awaiting_approval
        })
        .await;
    assert_eq!(view.status, ExecutionStatus::InProgress);
    assert_eq!(view.waves[1].status, WaveStatus::Pending);
    // Give the engine time (a simulated half hour) to (wrongly) start it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        jobs_per_wave(&drill).get("2"),
        None,
        "a gated wave must not launch"
    );
    drill
        .send(
            Some(2),
            Event::ApproveWave {
                approved_by: "dr-lead".into(),
            },
        )
        .await;
    let (view, drill) = drill.finish(LIMIT).await;
    // The plan has no health checks: servers complete once launched, NOT_CHECKED.
    assert_drill_table(
        &view,
        "
        execution COMPLETED
        wave databases COMPLETED
            crm-db      COMPLETED  NOT_CHECKED
        wave application COMPLETED
            crm-app-1   COMPLETED  NOT_CHECKED
            crm-app-2   COMPLETED  NOT_CHECKED
        ",
    );
    assert_eq!(view.waves[1].approved_by.as_deref(), Some("dr-lead"));
    assert_eq!(jobs_per_wave(&drill), one_job_per_wave(2));
}

/// A fixture, not an example: an execution_timeout shorter than a wave's
/// launches. The execution ends TIMEOUT with the reason; the wave that was
/// launching is observed to the end of its job and CANCELLED (its servers'
/// status stays true), and the next wave never starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_times_out() {
    let drill = Drill::start(
        fixtures().join("plans/short-execution-timeout.yaml"),
        fixtures().join("scenarios/slow-app-launch.yaml"),
    )
    .await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_drill_table(
        &view,
        "
        execution TIMEOUT
        wave databases COMPLETED
            inv-db     COMPLETED  HEALTHY
        wave app CANCELLED
            inv-app-1  LAUNCHED   NOT_CHECKED
            inv-app-2  LAUNCHED   NOT_CHECKED
        wave web CANCELLED
            inv-web-1  PENDING    NOT_CHECKED
        ",
    );
    assert_eq!(
        view.reason.as_deref(),
        Some("the execution did not finish within its execution_timeout of 8m"),
    );
    assert!(
        contains(&view.waves[2].reason, "execution_timeout of 8m"),
        "{:?}",
        view.waves[2].reason
    );
    assert_eq!(
        jobs_per_wave(&drill),
        one_job_per_wave(2),
        "no wave starts after the timeout"
    );
}

/// Every scenario file in examples/scenarios has a test above.
#[test]
fn every_example_scenario_is_tested() {
    let tested = [
        "happy-path.yaml",
        "one-server-fails.yaml",
        "job-completed-with-failures.yaml",
        "throttling-storm.yaml",
        "ssm-action-fails.yaml",
        "action-times-out.yaml",
        "health-check-timeout.yaml",
        "optional-server-fails.yaml",
        "cancel-mid-wave.yaml",
        "approval-gate.yaml",
    ];
    let mut files: Vec<String> = std::fs::read_dir(examples().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut tested: Vec<String> = tested.iter().map(|s| s.to_string()).collect();
    tested.sort();
    assert_eq!(
        files, tested,
        "add a scenario test for each new example scenario"
    );
}
