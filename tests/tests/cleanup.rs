//! Drill clean-up, as a drill engineer sees it: a finished drill's recovery
//! instances are terminated on request (or `options.cleanup.after` once it
//! has settled), every server ends TERMINATED, the drill keeps its status,
//! and nothing is terminated that the drill did not launch: a request while
//! the drill runs is refused, and an instance an earlier drill left stays.

use ripcord::event::Event;
use ripcord::ports::drs::RecoveryService;
use ripcord::status::{CleanupPhase, ExecutionView};
use ripcord::status_model::{CleanupStatus, ExecutionStatus, WaveStatus};
use ripcord_tests::{Drill, fixtures, inline_scenario};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

fn cleanup_request(by: &str) -> Event {
    Event::CleanupExecution {
        requested_by: by.into(),
        reason: "the drill is over".into(),
        confirm_recovery: false,
    }
}

fn cleaned(view: &ExecutionView) -> bool {
    view.cleanup
        .as_ref()
        .is_some_and(|c| c.status != CleanupPhase::InProgress)
}

/// Every server's (hostname, clean-up status).
fn cleanup_table(view: &ExecutionView) -> Vec<(String, Option<CleanupStatus>)> {
    view.waves
        .iter()
        .flat_map(|w| &w.servers)
        .map(|s| (s.hostname.clone(), s.cleanup.as_ref().map(|c| c.status)))
        .collect()
}

/// The recovery instances DRS still has for the drill's servers.
async fn live_instances(drill: &Drill, view: &ExecutionView) -> Vec<String> {
    let ids: Vec<_> = view
        .waves
        .iter()
        .flat_map(|w| &w.servers)
        .map(|s| s.source_server_id.clone())
        .collect();
    let sim = &drill.engine.simulator;
    let mut live: Vec<String> = sim
        .describe_recovery_instances_of_servers(&ids)
        .await
        .expect("describe")
        .into_iter()
        .map(|ri| ri.recovery_instance_id)
        .collect();
    live.sort();
    live
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_drill_is_cleaned_up_on_request_and_keeps_its_status() {
    let drill = Drill::start("drill.yaml", "happy-path.yaml").await;
    let finished = drill
        .wait_until("the drill to settle", LIMIT, |_, settled| settled)
        .await;
    assert_eq!(finished.status, ExecutionStatus::Completed);
    assert_eq!(live_instances(&drill, &finished).await.len(), 7);

    drill.send(None, cleanup_request("dr-engineer")).await;
    let view = drill.wait_for("the clean-up to end", LIMIT, cleaned).await;
    let cleanup = view.cleanup.clone().unwrap();
    assert_eq!(cleanup.status, CleanupPhase::Completed, "{cleanup:?}");
    assert_eq!((cleanup.terminated, cleanup.failed), (7, 0));
    assert_eq!(cleanup.requested_by, "dr-engineer");
    assert!(
        cleanup_table(&view)
            .iter()
            .all(|(_, s)| *s == Some(CleanupStatus::Terminated)),
        "{:?}",
        cleanup_table(&view)
    );
    assert!(live_instances(&drill, &view).await.is_empty());
    assert_eq!(
        view.status,
        ExecutionStatus::Completed,
        "the drill keeps its status"
    );
    assert_eq!(view.end_time, finished.end_time);

    // A second request changes nothing.
    drill.send(None, cleanup_request("someone-else")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (again, _) = drill.view().await.unwrap();
    assert_eq!(again.cleanup.unwrap().requested_by, "dr-engineer");
    drill.finish(LIMIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_with_cleanup_after_cleans_up_once_it_has_settled() {
    let scenario =
        inline_scenario("seed: 3\njob_pending: 10s\nlaunch_duration: { min: 2m, max: 3m }\n");
    let plan = fixtures().join("plans/cleanup-after.yaml");
    let drill = Drill::builder(plan, scenario).start().await;
    let settled = drill
        .wait_until("the drill to settle", LIMIT, |_, settled| settled)
        .await;
    assert!(
        settled.cleanup.is_none(),
        "kept until cleanup.after has passed"
    );
    let view = drill
        .wait_for("the automatic clean-up to end", LIMIT, cleaned)
        .await;
    let cleanup = view.cleanup.clone().unwrap();
    assert_eq!(cleanup.requested_by, "ripcord (cleanup.after 10m)");
    assert!(
        cleanup.requested_at >= settled.end_time.unwrap() + chrono::Duration::minutes(10),
        "{cleanup:?} {:?}",
        settled.end_time
    );
    assert_eq!((cleanup.terminated, cleanup.failed), (3, 0));
    assert!(live_instances(&drill, &view).await.is_empty());
    drill.finish(LIMIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_up_while_the_drill_runs_is_refused_and_changes_nothing() {
    let drill = Drill::start("drill.yaml", "happy-path.yaml").await;
    drill
        .wait_for("the databases to launch", LIMIT, |v| {
            v.waves[0].status == WaveStatus::Launching
        })
        .await;
    drill.send(None, cleanup_request("too-early")).await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed);
    assert!(view.cleanup.is_none(), "{:?}", view.cleanup);
    assert!(cleanup_table(&view).iter().all(|(_, s)| s.is_none()));
    assert_eq!(live_instances(&drill, &view).await.len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_an_earlier_drill_left_is_not_terminated() {
    let scenario = inline_scenario(
        "seed: 5\njob_pending: 10s\nlaunch_duration: { min: 2m, max: 3m }\nservers:\n  s-0d1b2c3d4e5f60011: { leftover_recovery_instance: true }\n",
    );
    let plan = fixtures().join("plans/cleanup-after.yaml");
    let drill = Drill::builder(plan, scenario).start().await;
    let settled = drill
        .wait_until("the drill to settle", LIMIT, |_, settled| settled)
        .await;
    let leftover: Vec<String> = live_instances(&drill, &settled)
        .await
        .into_iter()
        .filter(|ri| {
            !settled
                .waves
                .iter()
                .flat_map(|w| &w.servers)
                .any(|s| s.recovery_instance_id.as_ref() == Some(ri))
        })
        .collect();
    assert_eq!(leftover.len(), 1, "the earlier drill's instance is there");
    drill.send(None, cleanup_request("dr-engineer")).await;
    let view = drill.wait_for("the clean-up to end", LIMIT, cleaned).await;
    assert_eq!(view.cleanup.as_ref().unwrap().terminated, 3);
    assert_eq!(
        live_instances(&drill, &view).await,
        leftover,
        "only the drill's own instances are gone"
    );
    drill.finish(LIMIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_up_that_ended_with_failures_is_asked_again_and_retries_those_servers() {
    // DRS refuses every TerminateRecoveryInstances for the first 30
    // (simulated) minutes: the first clean-up ends FAILED.
    let scenario = inline_scenario(
        "seed: 5\njob_pending: 10s\nlaunch_duration: { min: 2m, max: 3m }\nfaults:\n  server_error_rate: 1.0\n  operations: [TerminateRecoveryInstances]\n  until: 30m\n",
    );
    let drill = Drill::builder("drill.yaml", scenario).start().await;
    drill
        .wait_until("the drill to settle", LIMIT, |_, settled| settled)
        .await;
    drill.send(None, cleanup_request("dr-engineer")).await;
    let first = drill.wait_for("the clean-up to end", LIMIT, cleaned).await;
    let cleanup = first.cleanup.clone().unwrap();
    assert_eq!(cleanup.status, CleanupPhase::Failed, "{cleanup:?}");
    assert_eq!((cleanup.terminated, cleanup.failed), (0, 7));
    assert_eq!(live_instances(&drill, &first).await.len(), 7);

    let sim = &drill.engine.simulator;
    let faults_end = sim.started_at().unwrap() + chrono::Duration::minutes(30);
    while sim.clock().now() < faults_end {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drill.send(None, cleanup_request("dr-engineer-2")).await;
    let view = drill
        .wait_for("the second clean-up to end", LIMIT, |v| {
            cleaned(v) && v.cleanup.as_ref().unwrap().requested_by == "dr-engineer-2"
        })
        .await;
    let cleanup = view.cleanup.clone().unwrap();
    assert_eq!(cleanup.status, CleanupPhase::Completed, "{cleanup:?}");
    assert_eq!((cleanup.terminated, cleanup.failed), (7, 0));
    assert!(live_instances(&drill, &view).await.is_empty());
    drill.finish(LIMIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_previous_terminates_earlier_drills_instances_but_never_a_recovery_s() {
    let scenario = inline_scenario(
        "seed: 5\njob_pending: 10s\nlaunch_duration: { min: 2m, max: 3m }\nservers:\n  s-0d1b2c3d4e5f60001: { leftover_recovery_instance: true }\n  s-0d1b2c3d4e5f60011: { leftover_recovery_instance: true }\n  s-0d1b2c3d4e5f60012: { leftover_recovery: true }\n",
    );
    let plan = fixtures().join("plans/cleanup-previous.yaml");
    let drill = Drill::builder(plan, scenario).start().await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed);
    let earlier: Vec<(String, Vec<String>)> = view
        .waves
        .iter()
        .flat_map(|w| &w.servers)
        .map(|s| {
            let lines = s.earlier_drill_instances.iter().map(|e| e.summary.clone());
            (s.hostname.clone(), lines.collect())
        })
        .collect();
    let terminated = |s: &str| format!("terminated s-0d1b2c3d4e5f600{s}'s leftover drill instance");
    assert!(
        earlier[0].1.len() == 1 && earlier[0].1[0].starts_with(&terminated("01")),
        "{earlier:?}"
    );
    assert!(
        earlier[1].1.len() == 1 && earlier[1].1[0].starts_with(&terminated("11")),
        "{earlier:?}"
    );
    assert!(
        earlier[2].1.is_empty(),
        "a recovery's instance is not ours to terminate: {earlier:?}"
    );
    let ours: Vec<_> = view
        .waves
        .iter()
        .flat_map(|w| &w.servers)
        .filter_map(|s| s.recovery_instance_id.clone())
        .collect();
    let live = live_instances(&drill, &view).await;
    let left: Vec<_> = live.iter().filter(|ri| !ours.contains(ri)).collect();
    assert_eq!(
        left.len(),
        1,
        "only the recovery's instance is left: {live:?}"
    );
    let instances = drill
        .engine
        .simulator
        .describe_recovery_instances(&[left[0].clone()])
        .await
        .unwrap();
    assert!(!instances[0].is_drill);
}
