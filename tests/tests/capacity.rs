//! DRS capacity, drilled (docs/capacity.md): the real engine on the
//! simulator, checked against the simulator's own record of the jobs it
//! created and the calls it refused, not against Ripcord's records.

use ripcord::capacity::Quotas;
use ripcord::status_model::{ExecutionStatus, LaunchStatus, WaveStatus};
use ripcord_sim::{StartOutcome, peak_load};
use ripcord_tests::{Drill, examples, recovery_jobs_per_wave};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(240);

/// A drill plan of `waves` waves of `servers` servers each, none depending
/// on another: how a big estate's recovery is written.
fn parallel_plan(dir: &Path, waves: u32, servers: u32) -> PathBuf {
    let mut yaml = String::from(
        "name: parallel-estate\nmode: drill\nregion: us-east-1\n\
         options:\n  poll_intervals: { pending: 30s, launching: 5s, post_actions: 10s }\n\
         defaults:\n  launch_timeout: 45m\nwaves:\n",
    );
    for w in 1..=waves {
        yaml.push_str(&format!(
            "  - name: tier-{w}\n    depends_on: []\n    servers:\n"
        ));
        for s in 1..=servers {
            yaml.push_str(&format!(
                "      - {{ id: s-{:017x}, hostname: host-{w}-{s} }}\n",
                (u64::from(w) << 16) | u64::from(s)
            ));
        }
    }
    let path = dir.join("parallel.yaml");
    std::fs::write(&path, yaml).expect("write the plan");
    path
}

fn scenario(path: &str) -> ripcord_sim::Scenario {
    let file = examples().join("scenarios").join(path);
    ripcord_sim::load_scenario(&file).expect("a valid scenario")
}

fn refusals(drill: &Drill, code: &str) -> usize {
    drill
        .engine
        .simulator
        .start_recovery_calls()
        .iter()
        .filter(|c| matches!(&c.outcome, StartOutcome::Rejected { code: c } if c == code))
        .count()
}

/// Six waves of 100 servers at once against DRS' 500 servers in active
/// jobs: the sixth waits for room instead of failing, DRS is never asked
/// past its quota, and everything completes with one job per wave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_parallel_waves_of_a_hundred_complete_within_the_quota() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = parallel_plan(dir.path(), 6, 100);
    let drill = Drill::builder(&plan, scenario("happy-path.yaml"))
        .start()
        .await;
    let waiting = |view: &ripcord::status::ExecutionView| {
        view.waves
            .iter()
            .find(|w| w.status == WaveStatus::Waiting)
            .cloned()
    };
    let view = drill
        .wait_until(
            "a wave to wait for capacity, or the end",
            LIMIT,
            |view, settled| settled || waiting(view).is_some(),
        )
        .await;
    let wave = waiting(&view).expect("the sixth wave waits for capacity");
    let reason = wave.waiting_reason.unwrap_or_default();
    assert!(
        reason.starts_with("waiting for DRS capacity: 500 of 500 servers in active jobs"),
        "{reason}"
    );
    let (view, drill) = drill.finish(LIMIT).await;

    assert_eq!(view.status, ExecutionStatus::Completed, "{:?}", view.reason);
    let launched = view
        .waves
        .iter()
        .flat_map(|w| &w.servers)
        .filter(|s| s.launch_status == LaunchStatus::Completed)
        .count();
    assert_eq!(launched, 600);
    let sim = &drill.engine.simulator;
    assert_eq!(
        recovery_jobs_per_wave(sim),
        (1..=6)
            .map(|n| (n.to_string(), 1))
            .collect::<BTreeMap<_, _>>()
    );
    assert_eq!(refusals(&drill, "ServiceQuotaExceededException"), 0);
    let peak = peak_load(&sim.launch_timeline()).servers;
    assert!(peak <= 500, "{peak} servers were in active jobs at once");
    assert_eq!(peak, 500, "five waves ran at once");

    // The drill report says which wave waited, and how long.
    let store = drill.store();
    let execution = store
        .load_execution(drill.id)
        .await
        .unwrap()
        .unwrap()
        .record;
    let waves = store.load_waves(drill.id).await.unwrap();
    let report = ripcord::report::build(&execution, &waves);
    let waited: Vec<f64> = report
        .waves
        .iter()
        .filter_map(|w| w.capacity_wait_seconds)
        .collect();
    assert_eq!(waited.len(), 1, "one wave waited: {waited:?}");
    // It waited for the first of the five to finish: 2 to 5 minutes.
    assert!((100.0..=330.0).contains(&waited[0]), "{waited:?}");
    let markdown = ripcord::report::markdown::render(&report, None);
    assert!(markdown.contains(" for DRS capacity"), "{markdown}");
}

/// Jobs outside Ripcord fill the account: DRS refuses a launch Ripcord's
/// ledger admitted. The wave waits, with DRS' reason, instead of failing,
/// and completes once room frees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_drs_enforces_beyond_the_ledger_is_waited_out() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let plan = parallel_plan(dir.path(), 3, 50);
    let mut world = scenario("happy-path.yaml");
    // The account holds 100 servers in active jobs; Ripcord believes 500.
    world.quotas.servers_in_active_jobs = 100;
    let drill = Drill::builder(&plan, world)
        .ports(|mut ports| {
            ports.quotas = Quotas::default();
            ports
        })
        .start()
        .await;
    let refused = |view: &ripcord::status::ExecutionView| {
        view.waves.iter().any(|w| {
            w.status == WaveStatus::Waiting
                && w.waiting_reason.as_deref().is_some_and(|r| {
                    r.starts_with("DRS refused the launch: ServiceQuotaExceededException")
                })
        })
    };
    let view = drill
        .wait_until(
            "a wave sent back to wait, or the end",
            LIMIT,
            |view, settled| settled || refused(view),
        )
        .await;
    assert!(refused(&view), "no wave showed DRS' refusal: {view:?}");
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed, "{:?}", view.reason);
    assert!(refusals(&drill, "ServiceQuotaExceededException") >= 1);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        (1..=3)
            .map(|n| (n.to_string(), 1))
            .collect::<BTreeMap<_, _>>()
    );
}

/// Once `drill`'s execution holds its servers, starts a second execution
/// of `plan` on the same engine and waits until it settles; its final
/// status view.
async fn second_execution(drill: &Drill, plan: &Path) -> ripcord::status::ExecutionView {
    use ripcord::event::Envelope;
    use ripcord::ids::ExecutionId;
    use ripcord::ports::QueueName;
    use ripcord::status::{execution_status, is_settled};
    let id = ExecutionId::new_random();
    let mut plan = ripcord::plan::load_plan(plan).expect("a valid plan");
    // Pre-flight would name the busy servers too, but it reads the ledger
    // before the claim; what these tests prove is the claim itself, the
    // one check no race gets past.
    plan.options.preflight = Some(ripcord::plan::PreflightMode::Off);
    // The first execution holds its servers once a wave of it has started.
    drill
        .wait_for("the first execution to hold its servers", LIMIT, |view| {
            view.waves.iter().any(|w| w.status != WaveStatus::Pending)
        })
        .await;
    let ports = &drill.engine.ports;
    let start = Envelope::start_execution(id, plan, "second", false, ports.clock.now());
    ports
        .queue
        .send(QueueName::Launch, vec![start.to_message(Duration::ZERO)])
        .await
        .expect("send");
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        if let Some(execution) = ports.store.load_execution(id).await.expect("load") {
            let waves = ports.store.load_waves(id).await.expect("load waves");
            if is_settled(&execution.record, &waves) {
                return execution_status(&execution.record, &waves, ports.clock.now());
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the second execution never settled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A second drill of servers a running drill holds is refused at its
/// start, naming the other execution; the first completes untouched, and
/// the simulator made one job per wave of the first only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_execution_of_busy_servers_is_refused_by_default() {
    let plan = examples().join("drill.yaml");
    let drill = Drill::builder("drill.yaml", scenario("happy-path.yaml"))
        .start()
        .await;
    let second = second_execution(&drill, &plan).await;
    assert_eq!(second.status, ExecutionStatus::Failed);
    let reason = second.reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("refused: server s-0a1b2c3d4e5f6000")
            && reason.contains(&drill.id.to_string()),
        "{reason}"
    );
    assert!(
        second
            .waves
            .iter()
            .all(|w| w.status == WaveStatus::Cancelled),
        "{second:?}"
    );
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        (1..=3)
            .map(|n| (n.to_string(), 1))
            .collect::<BTreeMap<_, _>>()
    );
}

/// With `busy_servers: wait`, the second execution starts once the first
/// has ended, and completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_busy_servers_wait_a_second_execution_runs_after_the_first() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let text = std::fs::read_to_string(examples().join("drill.yaml")).expect("the example plan");
    let waiting = text.replacen("options:\n", "options:\n  busy_servers: wait\n", 1);
    let plan = dir.path().join("waiting.yaml");
    std::fs::write(&plan, waiting).expect("write the plan");
    let drill = Drill::builder("drill.yaml", scenario("happy-path.yaml"))
        .start()
        .await;
    let second = second_execution(&drill, &plan).await;
    assert_eq!(
        second.status,
        ExecutionStatus::Completed,
        "{:?}",
        second.reason
    );
    let first = drill.view().await.expect("the first execution").0;
    assert_eq!(first.status, ExecutionStatus::Completed);
    assert!(
        second.start_time <= first.end_time.expect("the first ended")
            && second.waves.iter().filter_map(|w| w.start_time).min() >= first.end_time,
        "the second's waves started after the first ended"
    );
    drill.finish(LIMIT).await;
}
