//! The chaos run (issue 14): real `ripcord worker` processes (3 launch, 2
//! poll, 2 post-actions, 2 metrics) carry out a mixed load while a random
//! worker is SIGKILLed and restarted every few seconds, another is
//! SIGSTOPped past its visibility timeout and resumed, the simulated DRS,
//! EC2 and SSM throttle and answer 500s (a StartRecovery 500 still creates
//! its job), pushed launch results are dropped, and the store answers a
//! share of conditional saves with a conflict. The simulator and Ripcord's
//! capacity ledger share DRS quotas tight enough that waves wait, and an
//! operator approves, cancels, retries, skips, pauses and resumes through
//! the CLI. The checks read the simulator's own records (its calls, its
//! jobs over time), the store and the queues, never the workers' claims;
//! each run prints its table.
//!
//! On the embedded file always; on SQS, DynamoDB and EventBridge in moto
//! with DRS and SSM in `ripcord sim serve` when `RIPCORD_TEST_MOTO_URL` and
//! `RIPCORD_TEST_SIM_URL` name them (`scripts/test` does), skipped
//! otherwise unless `RIPCORD_REQUIRE_AWS_TESTS=1`.
//!
//! CI-sized by default; `RIPCORD_CHAOS_EXECUTIONS`, `RIPCORD_CHAOS_SEED`,
//! ... make it larger (`chaos/config.rs`, README "Chaos run").
//! `RIPCORD_CHAOS_LOGS=DIR` keeps the scenario, the plans, the database and
//! every worker's log there (a failed run keeps its temporary directory).

// The harness' modules sit in `chaos/`, beside this file of the same name.
#[path = "chaos/mod.rs"]
mod chaos;
mod support;

use chaos::config::ChaosConfig;
use chaos::drive::{self, Outcome};
use chaos::load;
use chaos::stage::Stage;
use ripcord_aws::testing::{MOTO_URL_VAR, SIM_URL_VAR, stand_in_url};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One run at a time: each takes both cores of a CI machine.
static SERIAL: Mutex<()> = Mutex::new(());

/// Where a run keeps its files: `RIPCORD_CHAOS_LOGS/<backend>`, or a
/// temporary directory kept only when the run fails.
enum RunDir {
    Kept(PathBuf),
    Temporary(tempfile::TempDir),
}

impl RunDir {
    fn new(backend: &str) -> Self {
        match std::env::var_os("RIPCORD_CHAOS_LOGS") {
            Some(dir) => {
                let dir = PathBuf::from(dir).join(backend);
                assert!(
                    !dir.exists(),
                    "{} holds an earlier run; name a new RIPCORD_CHAOS_LOGS directory",
                    dir.display()
                );
                std::fs::create_dir_all(&dir).expect("RIPCORD_CHAOS_LOGS can be created");
                Self::Kept(dir)
            }
            None => Self::Temporary(tempfile::tempdir().expect("a temporary directory")),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Self::Kept(dir) => dir,
            Self::Temporary(dir) => dir.path(),
        }
    }

    /// Keeps the files for a failure's post-mortem; returns where.
    fn keep(self) -> PathBuf {
        match self {
            Self::Kept(dir) => dir,
            Self::Temporary(dir) => dir.keep(),
        }
    }
}

/// Prints the run's table; fails with every problem found (and where the
/// logs are) unless the checks came out clean, and unless the run did what
/// it claims (workers killed and frozen, faults injected).
fn report(config: &ChaosConfig, outcome: Outcome, dir: RunDir) {
    let Outcome {
        row,
        found,
        dead,
        chaos_wall,
        looks,
        abandoned,
        panicked,
        acts_done,
        acts_planned,
        operator_retries,
        tails,
        capacity,
    } = outcome;
    println!(
        "chaos run on {}, seed {} (RIPCORD_CHAOS_SEED={} gives the same load, scenario and victims; process timing varies): {:.1} s under faults, {looks} looks at the store, {abandoned} steps abandoned, {panicked} panics, {operator_retries} operator commands tried again, dead letters {dead:?}\ncapacity: {capacity}\n\n{}",
        row.backend,
        row.seed,
        row.seed,
        chaos_wall.as_secs_f64(),
        row.render()
    );
    if !found.clean() {
        let kept = dir.keep();
        panic!(
            "the chaos run on {} (seed {}) found {} problem(s):\n{}\n\nthe scenario, the plans, the database (embedded) and every worker's log are in {}\n{tails}",
            row.backend,
            row.seed,
            found.problems.len(),
            found.problems.join("\n"),
            kept.display()
        );
    }
    // The run must have done what it claims, or it proves nothing.
    assert!(row.kills > 0 && row.freezes > 0, "{row:?}");
    assert!(row.throttles > 0 && row.server_errors > 0, "{row:?}");
    assert!(
        row.pushes_dropped > 0 || config.drop_launch_results == 0.0,
        "{row:?}"
    );
    assert!(
        row.store_conflicts > 0 || config.store_conflicts == 0.0,
        "{row:?}"
    );
    assert_eq!(
        acts_done, acts_planned,
        "every operator act the load asks for (approve, cancel, retry, skip, pause, resume) took"
    );
    // Tight quotas: waves waited for capacity (given enough executions
    // to contend).
    assert!(
        row.waves_waited > 0 || config.executions < 4,
        "no wave waited for DRS capacity under {capacity}"
    );
}

/// Writes the run's scenario into `dir`; returns its path and the load.
fn prepare(config: &ChaosConfig, dir: &Path) -> (PathBuf, Vec<load::ExecutionSpec>) {
    let specs = load::executions(config);
    let scenario = dir.join("scenario.yaml");
    std::fs::write(&scenario, load::scenario_yaml(config, &specs)).expect("scenario written");
    (scenario, specs)
}

#[test]
fn a_chaos_run_on_the_embedded_file_loses_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let config = ChaosConfig::from_env();
    let dir = RunDir::new("embedded");
    let (scenario, specs) = prepare(&config, dir.path());
    let stage = Arc::new(Stage::embedded(dir.path(), &scenario, config.quotas));
    let outcome = drive::run(&config, stage, specs, dir.path());
    report(&config, outcome, dir);
}

#[test]
fn a_chaos_run_on_sqs_and_dynamodb_loses_nothing() {
    let Some(moto) = stand_in_url(MOTO_URL_VAR) else {
        return;
    };
    let Some(sim) = stand_in_url(SIM_URL_VAR) else {
        return;
    };
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let config = ChaosConfig::from_env();
    let dir = RunDir::new("aws");
    let (scenario, specs) = prepare(&config, dir.path());
    let stage = Arc::new(Stage::aws(&moto, &sim, &scenario, config.quotas));
    let outcome = drive::run(&config, stage, specs, dir.path());
    report(&config, outcome, dir);
}
