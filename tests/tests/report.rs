//! The drill report's numbers against a drill whose durations are known:
//! the real engine (embedded queues and store, the four workers) runs a
//! plan on a simulator scenario with fixed times, and the report built from
//! the records must show them.
//!
//! The scenario: every DRS job stays PENDING 10 s, every launch then takes
//! exactly 60 s (min = max), EC2 status checks pass 40 s after launch, SSM
//! agents come online 20 s after launch, every command takes 20 s.
//! - wave `db` (health check ec2_status_ok): healthy 10 + 60 + 40 = 110 s
//!   after its launch started;
//! - wave `app` (action `configure`, health check ssm_agent_online): agent
//!   online at 90 s, the action sent then and done 20 s later, healthy at
//!   the next check: 110 s after its launch started, which is after wave
//!   `db` ended, so at least 220 s after the execution started.
//!
//! Tolerance. The engine records an instant when it observes a change, so
//! a recorded instant can only be late, never early (the lower bounds are
//! the true values), and is late by at most the observation interval of
//! its phase (launching 2 s, post-actions 3 s) plus what the machine adds
//! to each step: processing and queue delivery, up to [`STEP_SLACK_REAL`]
//! of real time, which the simulated clock stretches by the time scale.
//! Each bound below adds one interval or slack per observation or message
//! hop on the path to the instant it checks.

use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::report::{self, RtoOutcome};
use ripcord::status_model::{ExecutionStatus, LaunchStatus};
use ripcord_tests::{Drill, inline_scenario};
use std::time::Duration;

const SCALE: f64 = 8.0;
/// Real time a loaded 2-core machine may add to one step or message hop.
const STEP_SLACK_REAL: f64 = 0.3;
const SLACK: f64 = STEP_SLACK_REAL * SCALE;
const LAUNCHING: f64 = 2.0;
const POST_ACTIONS: f64 = 3.0;

/// Job pending + launch duration.
const LAUNCH: f64 = 70.0;
/// Launch start → healthy, in both waves.
const TO_HEALTHY: f64 = 110.0;

const PLAN: &str = r#"
name: timed-drill
mode: drill
region: eu-west-1
options:
  poll_intervals: { pending: 2s, launching: 2s, post_actions: 3s }
  rto_target: 5m
waves:
  - name: db
    servers:
      - { id: s-0000000000000a001, hostname: db-1 }
      - { id: s-0000000000000a002, hostname: db-2 }
    health_checks: [ec2_status_ok]
  - name: app
    servers:
      - { id: s-0000000000000b001, hostname: app-1 }
      - { id: s-0000000000000b002, hostname: app-2 }
    post_launch:
      - name: configure
        document: AWS-RunShellScript
        parameters: { commands: ["configure-app --dr"] }
        timeout: 5m
    health_checks: [ssm_agent_online]
"#;

const SCENARIO: &str = r#"
seed: 7
time_scale: 8
job_pending: 10s
launch_duration: { min: 60s, max: 60s }
ssm_agent_delay: 20s
status_check_delay: 40s
command_duration: 20s
"#;

fn within(what: &str, value: Option<f64>, low: f64, high: f64) -> f64 {
    let v = value.unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (low..=high).contains(&v),
        "{what}: {v} s is not within [{low}, {high}] s"
    );
    v
}

async fn timed_drill() -> (ExecutionRecord, Vec<WaveRecord>) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = dir.path().join("timed-drill.yaml");
    std::fs::write(&plan, PLAN).expect("the plan is written");
    let scenario = inline_scenario(SCENARIO);
    assert_eq!(scenario.time_scale, SCALE);
    let drill = Drill::builder(plan.to_str().expect("utf-8"), scenario)
        .start()
        .await;
    let (view, drill) = drill.finish(Duration::from_secs(120)).await;
    assert_eq!(view.status, ExecutionStatus::Completed, "{view:#?}");
    let store = drill.store();
    let execution = store.load_execution(drill.id).await.unwrap().unwrap();
    let waves = store.load_waves(drill.id).await.unwrap();
    (execution.record, waves)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_measures_the_known_durations_of_a_drill() {
    let (execution, waves) = timed_drill().await;
    let r = report::build(&execution, &waves);
    // Shown on failure (or with --nocapture): the figures measured.
    for w in &r.waves {
        let launches: Vec<_> = w.servers.iter().map(|s| s.launch_seconds).collect();
        eprintln!(
            "wave {}: RTO {:?}, launches {launches:?}",
            w.name, w.rto.measured_seconds
        );
    }
    assert!(r.settled);
    assert_eq!(r.region, "eu-west-1");
    assert_eq!(r.requested_by, "scenario-test");
    assert_eq!(r.servers.completed, 4);
    assert!(r.failures.is_empty(), "{:#?}", r.failures);

    for wave in &r.waves {
        let wave_start = r
            .waves
            .iter()
            .find(|w| w.wave_number == wave.wave_number)
            .and_then(|w| w.start_time)
            .expect("the wave started");
        for s in &wave.servers {
            let what = format!("{} launch time", s.hostname);
            assert_eq!(s.launch_status, LaunchStatus::Completed);
            // The start is recorded as the job is created (a step's
            // processing at most later, shortening the measure by as much).
            within(
                &what,
                s.launch_seconds,
                LAUNCH - SLACK,
                LAUNCH + LAUNCHING + SLACK,
            );
            let start = s.launch_start_time.expect("a launch start");
            let to_healthy = s
                .healthy_time
                .map(|h| (h - start).num_milliseconds() as f64 / 1e3);
            // Launch observed (≤ 2 s + slack), then up to three post-launch
            // observations (agent → action sent, action done, healthy).
            within(
                &format!("{} launch start → healthy", s.hostname),
                to_healthy,
                TO_HEALTHY - SLACK,
                TO_HEALTHY + LAUNCHING + 3.0 * POST_ACTIONS + 4.0 * SLACK,
            );
            assert_eq!(
                s.time_to_healthy_seconds,
                s.healthy_time
                    .map(|h| (h - r.start_time).num_milliseconds() as f64 / 1e3),
                "time to healthy counts from the execution's start"
            );
            // The RPO indicator: the simulator's snapshots are 5 s to 5 min
            // older than the StartRecovery call.
            assert!(s.point_in_time_snapshot.is_some(), "{s:?}");
            within(
                &format!("{} snapshot age", s.hostname),
                s.snapshot_age_seconds,
                5.0,
                300.0 + SLACK,
            );
        }
        assert!(wave_start >= r.start_time);
    }

    let (db, app) = (&r.waves[0], &r.waves[1]);
    // StartExecution → StartWave → StartRecovery: two hops before wave db's
    // launch starts.
    let db_rto = within(
        "wave db RTO",
        db.rto.measured_seconds,
        TO_HEALTHY - SLACK,
        TO_HEALTHY + LAUNCHING + POST_ACTIONS + 6.0 * SLACK,
    );
    // WaveFinished → execution → StartWave → StartRecovery after db ended,
    // then app's own launch and three post-launch observations.
    let app_rto = within(
        "wave app RTO",
        app.rto.measured_seconds,
        2.0 * TO_HEALTHY - 2.0 * SLACK,
        2.0 * TO_HEALTHY + 2.0 * LAUNCHING + 4.0 * POST_ACTIONS + 13.0 * SLACK,
    );
    assert!(app_rto - db_rto >= TO_HEALTHY - SLACK);
    assert_eq!(r.rto.measured_seconds, Some(app_rto), "the last wave ready");
    assert_eq!(r.rto.ready_time, app.rto.ready_time);

    // The action ran 20 s (observed at the 3 s post-actions interval).
    let configure = &app.actions[0];
    within(
        "action configure",
        configure.duration_seconds,
        20.0 - SLACK,
        20.0 + POST_ACTIONS + 2.0 * SLACK,
    );
    assert_eq!(configure.invocations.len(), 2);

    // Against the plan's 5 m target: met, by target - measured.
    assert_eq!(r.rto_target_seconds, Some(300.0));
    assert_eq!(r.rto.outcome, RtoOutcome::Met);
    let margin = r.rto.margin_seconds.expect("a margin");
    assert!((margin - (300.0 - app_rto)).abs() < 1e-6, "{margin}");

    // The same records against a 3 m target, between the two waves: wave
    // db met it (ready within ~2 m), wave app and the drill missed it by
    // measured - target.
    let mut stricter = execution.clone();
    stricter.options.rto_target = Some(Duration::from_secs(180));
    let r = report::build(&stricter, &waves);
    let outcomes: Vec<RtoOutcome> = r.waves.iter().map(|w| w.rto.outcome).collect();
    assert_eq!(outcomes, [RtoOutcome::Met, RtoOutcome::Missed]);
    assert_eq!(r.rto.outcome, RtoOutcome::Missed);
    let margin = r.rto.margin_seconds.expect("a margin");
    assert!((margin - (180.0 - app_rto)).abs() < 1e-6, "{margin}");
    assert!(r.rto.summary.starts_with("missed by "), "{}", r.rto.summary);
    let md = report::markdown::render(&r, None);
    assert!(md.contains(&r.rto.summary), "{md}");
    assert!(report::html::render(&r).contains("RTO target 3m 0s"));
}
