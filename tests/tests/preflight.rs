//! Pre-flight, drilled (docs/preflight.md): the real engine on a simulator
//! whose servers are not all ready. A drill is stopped before anything
//! launches, with a finding per problem; told to warn, it goes on and keeps
//! them. What launched is read from the simulator's own call log.

use ripcord::plan::PreflightMode;
use ripcord::preflight::PreflightReport;
use ripcord::records::PreflightState;
use ripcord::status_model::ExecutionStatus;
use ripcord_tests::{Drill, examples, inline_scenario};
use std::path::PathBuf;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// The example drill with `options` lines added.
fn drill_plan(dir: &tempfile::TempDir, options: &str) -> PathBuf {
    let text = std::fs::read_to_string(examples().join("drill.yaml")).expect("the example");
    let text = text.replacen("options:\n", &format!("options:\n{options}"), 1);
    let path = dir.path().join("drill.yaml");
    std::fs::write(&path, text).expect("the plan is written");
    path
}

/// An estate with one of each problem: replication stalled with an old
/// snapshot, lag past the plan's limit, a drill instance left running, and
/// a server DRS does not know (strict inventory; pay-web-2 is not listed).
const NOT_READY: &str = "strict_inventory: true
servers:
  s-0a1b2c3d4e5f60001: { replication: STALLED, newest_snapshot_age: 3h }
  s-0a1b2c3d4e5f60002: { leftover_recovery_instance: true }
  s-0a1b2c3d4e5f60011: { replication_lag: 40m }
  s-0a1b2c3d4e5f60012: {}
  s-0a1b2c3d4e5f60013: {}
  s-0a1b2c3d4e5f60021: {}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drill_of_servers_not_ready_is_stopped_before_anything_launches() {
    let dir = tempfile::tempdir().unwrap();
    let plan = drill_plan(&dir, "  max_replication_lag: 30m\n");
    let drill = Drill::builder(&plan, inline_scenario(NOT_READY))
        .start()
        .await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Failed);
    let reason = view.reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("pre-flight found 4 errors, 2 warnings, 1 note"),
        "{reason}"
    );
    assert!(
        drill.engine.simulator.start_recovery_calls().is_empty(),
        "nothing was launched"
    );
    let (report, _) = kept_findings(&drill).await;
    // Ids come from the seeded simulator; snapshot ages depend on how long
    // the run took, so they are left out.
    let findings: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity != ripcord::preflight::Severity::Info)
        .map(|f| {
            format!(
                "{:?} {:?} {} {}: {}",
                f.severity,
                f.check,
                f.wave.as_deref().unwrap_or("-"),
                f.server.as_ref().map_or("-".to_owned(), |s| s.to_string()),
                without_age(&f.message)
            )
        })
        .collect();
    insta::assert_yaml_snapshot!("blocked_drill_findings", findings);
}

/// The pre-flight report the execution record keeps, and its mode.
async fn kept_findings(drill: &Drill) -> (PreflightReport, PreflightMode) {
    let record = drill
        .store()
        .load_execution(drill.id)
        .await
        .unwrap()
        .expect("the execution")
        .record;
    match record.preflight {
        PreflightState::Done { report, mode } => (report, mode),
        other => panic!("the findings are kept: {other:?}"),
    }
}

/// "the newest recovery snapshot is <age> old, …".
fn without_age(message: &str) -> String {
    match (message.find(" is "), message.find(" old")) {
        (Some(a), Some(b)) if message.starts_with("the newest") && a < b => {
            format!("{} is <age>{}", &message[..a], &message[b..])
        }
        _ => message.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn told_to_warn_a_drill_goes_on_and_keeps_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let plan = drill_plan(&dir, "  preflight: warn\n");
    let scenario = inline_scenario("servers:\n  s-0a1b2c3d4e5f60012: { replication: STALLED }\n");
    let drill = Drill::builder(&plan, scenario).start().await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed, "{:?}", view.reason);
    let (report, mode) = kept_findings(&drill).await;
    assert_eq!(mode, PreflightMode::Warn);
    assert_eq!(
        report.count(ripcord::preflight::Severity::Error),
        1,
        "{report:#?}"
    );
    assert_eq!(
        drill.engine.simulator.start_recovery_calls().len(),
        3,
        "one job per wave"
    );
}

/// A busy account throttles a third of a 600-server plan's snapshot reads:
/// pre-flight reads each throttled one again (after DRS' Retry-After), so
/// it checks the servers instead of leaving some 200 of them UNCHECKED.
/// One try each left about 180 unchecked; four leave a handful at most.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_snapshot_reads_are_read_again_so_the_servers_are_checked() {
    let plan = ripcord_tests::fixtures().join("plans/six-hundred-servers.yaml");
    let scenario = inline_scenario(
        "faults: { throttling_rate: 0.33, retry_after: 20ms }\nservers:\n  default: { outcome: launched }\n",
    );
    let drill = Drill::builder(&plan, scenario).start().await;
    drill
        .wait_until("pre-flight to finish", LIMIT, |view, _| {
            view.preflight
                .as_ref()
                .is_some_and(|p| p.state == ripcord::status::PreflightPhase::Done)
        })
        .await;
    drill
        .send(
            None,
            ripcord::event::Event::CancelExecution {
                requested_by: "test".into(),
                reason: "only pre-flight was wanted".into(),
            },
        )
        .await;
    let (_, drill) = drill.finish(LIMIT).await;
    let (report, _) = kept_findings(&drill).await;
    let unchecked: usize = report
        .findings
        .iter()
        .filter_map(|f| {
            let rest = f
                .message
                .strip_prefix("not checked: the recovery snapshots of ")?;
            rest.split(' ').next()?.parse::<usize>().ok()
        })
        .sum();
    let throttled: u64 = drill
        .engine
        .simulator
        .faults_injected()
        .iter()
        .filter(|((op, code), _)| {
            *op == ripcord_sim::Operation::DescribeRecoverySnapshots
                && code == "ThrottlingException"
        })
        .map(|(_, n)| n)
        .sum();
    assert!(
        unchecked < 30,
        "{unchecked} of 600 servers' snapshots left unchecked: {report:#?}"
    );
    assert!(throttled > 0, "the scenario throttled nothing");
}
