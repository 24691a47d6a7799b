//! Scenario tests: each example scenario is a drill with a known ending.
//! They run the real engine (embedded queues and store, the four workers,
//! the simulator on a fast clock) and assert the final status of every
//! server, wave and the execution.

use ripcord::event::Event;
use ripcord::machine::{ExecutionStatus, WaveStatus};
use ripcord::ports::drs::TAG_WAVE;
use ripcord_tests::{Drill, examples, server_table, wave_table};
use std::collections::BTreeMap;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(90);

/// Recovery jobs the simulator created, per wave number.
fn jobs_per_wave(drill: &Drill) -> BTreeMap<String, usize> {
    let mut jobs = BTreeMap::new();
    for call in drill.engine.simulator.start_recovery_calls() {
        if call.outcome.job_id().is_some() {
            let wave = call.tags.get(TAG_WAVE).cloned().unwrap_or_default();
            *jobs.entry(wave).or_default() += 1;
        }
    }
    jobs
}

fn rows(rows: &[&str]) -> Vec<String> {
    rows.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path() {
    let drill = Drill::start("drill.yaml", "happy-path.yaml").await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed, "{view:#?}");
    assert_eq!(
        wave_table(&view),
        rows(&[
            "databases COMPLETED",
            "app-tier COMPLETED",
            "web-tier COMPLETED"
        ])
    );
    assert_eq!(
        server_table(&view),
        rows(&[
            "databases/pay-db-primary COMPLETED",
            "databases/pay-db-replica COMPLETED",
            "app-tier/pay-app-1 COMPLETED",
            "app-tier/pay-app-2 COMPLETED",
            "app-tier/pay-batch COMPLETED",
            "web-tier/pay-web-1 COMPLETED",
            "web-tier/pay-web-2 COMPLETED",
        ])
    );
    assert_eq!(view.progress.percent_complete, 100.0);
    for server in view.waves.iter().flat_map(|w| &w.servers) {
        assert!(server.launched_instance_id.is_some(), "{server:?}");
        assert!(server.private_ip_address.is_some(), "{server:?}");
    }
    let actions = &view.waves[1].post_actions;
    assert_eq!(actions.len(), 1);
    assert_eq!(ripcord_tests::wire(&actions[0].status), "SUCCESS");
    assert_eq!(
        jobs_per_wave(&drill),
        BTreeMap::from([("1".into(), 1), ("2".into(), 1), ("3".into(), 1)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_fails() {
    let drill = Drill::start("drill.yaml", "one-server-fails.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Failed);
    assert_eq!(
        wave_table(&view),
        rows(&[
            "databases COMPLETED",
            "app-tier FAILED",
            "web-tier CANCELLED"
        ])
    );
    assert_eq!(
        server_table(&view),
        rows(&[
            "databases/pay-db-primary COMPLETED",
            "databases/pay-db-replica COMPLETED",
            "app-tier/pay-app-1 LAUNCHED",
            "app-tier/pay-app-2 FAILED [LAUNCH_FAILED]",
            "app-tier/pay-batch LAUNCHED",
            "web-tier/pay-web-1 PENDING",
            "web-tier/pay-web-2 PENDING",
        ])
    );
    let failed = &view.waves[1].servers[1];
    assert!(
        failed
            .error_message
            .as_deref()
            .unwrap_or("")
            .contains("InsufficientInstanceCapacity"),
        "the DRS rawError is kept: {failed:?}"
    );
    assert!(
        view.waves[1]
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("pay-app-2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_completed_with_failed_servers_is_a_failure() {
    let drill = Drill::start("drill.yaml", "job-completed-with-failures.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Failed);
    assert_eq!(
        wave_table(&view),
        rows(&[
            "databases FAILED",
            "app-tier CANCELLED",
            "web-tier CANCELLED"
        ])
    );
    assert_eq!(
        server_table(&view)[..2],
        rows(&[
            "databases/pay-db-primary FAILED [CONVERSION_FAIL]",
            "databases/pay-db-replica FAILED [NOT_LAUNCHED]",
        ])
    );
    let replica = &view.waves[0].servers[1];
    assert!(
        replica
            .error_message
            .as_deref()
            .unwrap_or("")
            .contains("ended (COMPLETED) without launching"),
        "{replica:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_storm_still_completes_with_one_job_per_wave() {
    let drill = Drill::start("drill.yaml", "throttling-storm.yaml").await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(
        view.status,
        ExecutionStatus::Completed,
        "{}",
        serde_json::to_string_pretty(&view).unwrap()
    );
    assert!(server_table(&view).iter().all(|r| r.ends_with("COMPLETED")));
    assert_eq!(
        jobs_per_wave(&drill),
        BTreeMap::from([("1".into(), 1), ("2".into(), 1), ("3".into(), 1)]),
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
    assert_eq!(view.status, ExecutionStatus::Failed);
    assert_eq!(
        wave_table(&view),
        rows(&[
            "databases COMPLETED",
            "app-tier FAILED",
            "web-tier CANCELLED"
        ])
    );
    assert_eq!(
        server_table(&view)[2..5],
        rows(&[
            "app-tier/pay-app-1 FAILED [ACTION_FAILED]",
            "app-tier/pay-app-2 FAILED [ACTION_FAILED]",
            "app-tier/pay-batch FAILED [ACTION_FAILED]",
        ])
    );
    let action = &view.waves[1].post_actions[0];
    assert_eq!(ripcord_tests::wire(&action.status), "FAILED");
    let app1 = &view.waves[1].servers[0];
    assert!(
        app1.error_message
            .as_deref()
            .unwrap_or("")
            .contains("point-at-dr-database"),
        "{app1:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_times_out() {
    let drill = Drill::start("drill.yaml", "health-check-timeout.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Failed);
    assert_eq!(
        wave_table(&view),
        rows(&[
            "databases COMPLETED",
            "app-tier COMPLETED",
            "web-tier FAILED"
        ])
    );
    assert_eq!(
        server_table(&view)[5..],
        rows(&[
            "web-tier/pay-web-1 COMPLETED",
            "web-tier/pay-web-2 FAILED [HEALTH_CHECK_TIMEOUT]"
        ])
    );
    assert_eq!(
        ripcord_tests::wire(&view.waves[2].servers[1].health_status),
        "TIMEOUT"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_server_fails_without_failing_its_wave() {
    let drill = Drill::start("drill.yaml", "optional-server-fails.yaml").await;
    let (view, _) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed);
    assert_eq!(
        wave_table(&view),
        rows(&[
            "databases COMPLETED",
            "app-tier COMPLETED",
            "web-tier COMPLETED"
        ])
    );
    assert_eq!(
        server_table(&view)[4],
        "app-tier/pay-batch FAILED [LAUNCH_FAILED]"
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
    assert_eq!(view.status, ExecutionStatus::Cancelled);
    assert!(
        view.reason
            .as_deref()
            .unwrap_or("")
            .contains("drill aborted")
    );
    assert_eq!(
        wave_table(&view),
        rows(&[
            "databases COMPLETED",
            "app-tier CANCELLED",
            "web-tier CANCELLED"
        ])
    );
    // The running job was observed to its end: its servers' status is true.
    assert_eq!(
        server_table(&view)[2..],
        rows(&[
            "app-tier/pay-app-1 LAUNCHED",
            "app-tier/pay-app-2 LAUNCHED",
            "app-tier/pay-batch LAUNCHED",
            "web-tier/pay-web-1 PENDING",
            "web-tier/pay-web-2 PENDING",
        ])
    );
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
    assert_eq!(view.waves[1].status, WaveStatus::Pending);
    // Give the engine time to (wrongly) start it.
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    let (view, _) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed);
    assert_eq!(view.waves[1].approved_by.as_deref(), Some("dr-lead"));
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
