//! A harness for scenario tests that read like drills: start a plan from
//! `examples/` on the embedded backend and the simulator (a scenario from
//! `examples/scenarios/`, or one written inline), steer it (cancel,
//! approve), and wait for the final table.
//!
//! - [`fuzz`]: bad input made on purpose (proptest strategies) for the fuzz tests.
//! - [`faults`]: port decorators that inject queue and store failures.
//! - [`recording`]: a queue decorator that records what workers sent and acked.
//! - [`manual`]: a drill whose messages the test delivers one at a time.
//! - [`template`]: the CloudFormation template `infra/ripcord.yaml`, read.

pub mod faults;
pub mod fuzz;
pub mod manual;
pub mod recording;
pub mod template;

use ripcord::event::{Envelope, Event};
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::plan::load_plan;
use ripcord::ports::{DeadLetters, ExecutionStore, QueueName, WorkQueue};
use ripcord::status::{ExecutionView, execution_status, is_settled};
use ripcord_sim::{Scenario, load_scenario};
use ripcord_workers::engine::{LocalEngine, Workers};
use ripcord_workers::ports::Ports;
use ripcord_workers::worker::WorkerConfig;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The repository's `examples/` folder.
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Plans and scenarios that test the engine but are no examples to follow:
/// `tests/fixtures/`.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A scenario from `examples/scenarios/`.
pub fn example_scenario(name: &str) -> Scenario {
    load_scenario(&examples().join("scenarios").join(name)).expect("example scenarios are valid")
}

/// A scenario written inline in a test: saved to a file and loaded the way
/// `ripcord run --scenario` loads one.
pub fn inline_scenario(yaml: &str) -> Scenario {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, yaml).expect("the scenario is written");
    match load_scenario(&path) {
        Ok(s) => s,
        Err(e) => panic!("the inline scenario is invalid: {e}"),
    }
}

type Decorate = Box<dyn FnOnce(Ports) -> Ports + Send>;

/// The time scale every scenario test runs at (simulated seconds per real
/// second), whatever its scenario file says: the files say 300 so that
/// `ripcord run` shows them quickly, but on a loaded 2-core machine 300x
/// turns the drill plan's 5-minute action timeout into one real second, and
/// a worker that waits its turn for a second times the action out. At 60x
/// the tightest margin in the scenarios is 5 real seconds.
pub const SCENARIO_TIME_SCALE: f64 = 60.0;

/// A drill being set up: worker settings, decorated ports, its execution id.
pub struct DrillBuilder {
    plan: PathBuf,
    scenario: Scenario,
    id: ExecutionId,
    config: WorkerConfig,
    decorate: Decorate,
}

impl DrillBuilder {
    /// The id the execution will have (known before it starts, so faults
    /// can target it).
    pub fn id(&self) -> ExecutionId {
        self.id
    }

    pub fn worker_config(mut self, config: WorkerConfig) -> Self {
        self.config = config;
        self
    }

    /// Passes the workers' ports through `decorate` (fault injection,
    /// recording). The test's own reads and sends bypass it.
    pub fn ports(mut self, decorate: impl FnOnce(Ports) -> Ports + Send + 'static) -> Self {
        self.decorate = Box::new(decorate);
        self
    }

    /// The workers' store fails on `faults`' schedule.
    pub fn store_faults(self, faults: &Arc<faults::StoreFaults>) -> Self {
        let faults = faults.clone();
        self.ports(move |p| Ports {
            store: faults.wrap(p.store),
            ..p
        })
    }

    /// The workers' queues fail on `faults`' schedule.
    pub fn queue_faults(self, faults: &Arc<faults::QueueFaults>) -> Self {
        let faults = faults.clone();
        self.ports(move |p| Ports {
            queue: faults.wrap(p.queue),
            ..p
        })
    }

    /// Starts the workers and sends StartExecution.
    pub async fn start(self) -> Drill {
        let plan = match load_plan(&self.plan) {
            Ok(plan) => plan,
            Err(e) => panic!("the plan {} is invalid: {e}", self.plan.display()),
        };
        let dir = tempfile::tempdir().expect("a temp dir");
        let engine =
            LocalEngine::open_with(&dir.path().join("drill.db"), self.scenario, self.decorate)
                .expect("database opens");
        // Resolved as `ripcord run` resolves it: once, before the start.
        let file = self.plan.display().to_string();
        let plan = match ripcord_workers::select::resolve(&*engine.ports.drs, plan, &file).await {
            Ok(resolved) => resolved.plan,
            Err(e) => panic!("the plan {file} cannot be resolved: {e}"),
        };
        let workers = engine.spawn_workers(&QueueName::ALL, self.config.clone());
        let now = engine.ports.clock.now();
        let start = Envelope::start_execution(self.id, plan, "scenario-test", false, now);
        engine
            .backend
            .queue()
            .send(QueueName::Launch, vec![start.to_message(Duration::ZERO)])
            .await
            .expect("send");
        Drill {
            id: self.id,
            engine,
            config: self.config,
            workers: Some(workers),
            _dir: dir,
        }
    }
}

pub struct Drill {
    pub id: ExecutionId,
    pub engine: LocalEngine,
    config: WorkerConfig,
    workers: Option<Workers>,
    _dir: tempfile::TempDir,
}

impl Drill {
    /// Starts `plan` (a path under examples/, or an absolute path such as
    /// one under [`fixtures`]) with `scenario` (a path under
    /// examples/scenarios/, or an absolute path), all four workers running
    /// in this process, at [`SCENARIO_TIME_SCALE`].
    pub async fn start(plan: impl AsRef<Path>, scenario: impl AsRef<Path>) -> Drill {
        let path = examples().join("scenarios").join(scenario);
        let scenario = match load_scenario(&path) {
            Ok(s) => s,
            Err(e) => panic!("the scenario {} is invalid: {e}", path.display()),
        };
        Drill::builder(plan, scenario).start().await
    }

    /// A drill of `plan` (a path under examples/, or an absolute path) on
    /// `scenario` at [`SCENARIO_TIME_SCALE`], with the default worker
    /// settings and undecorated ports until told otherwise.
    pub fn builder(plan: impl AsRef<Path>, mut scenario: Scenario) -> DrillBuilder {
        scenario.time_scale = SCENARIO_TIME_SCALE;
        DrillBuilder {
            plan: examples().join(plan),
            scenario,
            id: ExecutionId::new_random(),
            config: WorkerConfig::default(),
            decorate: Box::new(|ports| ports),
        }
    }

    /// The store as the test reads it, without the workers' decorators.
    pub fn store(&self) -> Arc<dyn ExecutionStore> {
        self.engine.backend.store()
    }

    /// The queues as the test uses them, without the workers' decorators.
    pub fn queue(&self) -> Arc<dyn WorkQueue> {
        self.engine.backend.queue()
    }

    /// The embedded file the drill runs on (queues, store, simulated world).
    pub fn database(&self) -> PathBuf {
        self._dir.path().join("drill.db")
    }

    /// The dead-letter queues, as `ripcord dlq` reads them.
    pub fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        self.engine.backend.dead_letters()
    }

    /// Starts the workers again after [`Drill::finish`] stopped them.
    pub fn resume(&mut self) {
        if self.workers.is_none() {
            self.workers = Some(
                self.engine
                    .spawn_workers(&QueueName::ALL, self.config.clone()),
            );
        }
    }

    /// The metrics of the running workers (none after [`Drill::finish`]).
    pub fn telemetry(&self) -> Option<ripcord_workers::telemetry::WorkerTelemetry> {
        self.workers.as_ref().map(|w| w.telemetry.clone())
    }

    /// The status view now, once the execution exists.
    pub async fn view(&self) -> Option<(ExecutionView, bool)> {
        let store = self.store();
        let execution = store.load_execution(self.id).await.expect("load")?;
        let waves = store.load_waves(self.id).await.expect("load waves");
        let view = execution_status(&execution.record, &waves, self.engine.ports.clock.now());
        Some((view, is_settled(&execution.record, &waves)))
    }

    /// Waits until `pred` holds for the status view, or panics after `limit`.
    pub async fn wait_for(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&ExecutionView) -> bool,
    ) -> ExecutionView {
        self.wait_until(what, limit, |view, _| pred(view)).await
    }

    /// Waits until `pred` holds for the status view and whether the
    /// execution is settled, or panics after `limit` with the last view.
    pub async fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&ExecutionView, bool) -> bool,
    ) -> ExecutionView {
        let deadline = Instant::now() + limit;
        loop {
            let seen = self.view().await;
            if let Some((view, settled)) = &seen
                && pred(view, *settled)
            {
                return view.clone();
            }
            if Instant::now() > deadline {
                let seen = seen.map(|(v, _)| serde_json::to_string_pretty(&v).unwrap());
                panic!(
                    "timed out waiting for {what} ({limit:?}); last view: {}",
                    seen.unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends an event to the execution (or one of its waves) as the CLI does.
    pub async fn send(&self, wave: Option<u32>, event: Event) {
        let envelope = Envelope::new(
            self.id,
            wave.map(WaveNumber),
            event,
            self.engine.ports.clock.now(),
        );
        self.queue()
            .send(QueueName::Launch, vec![envelope.to_message(Duration::ZERO)])
            .await
            .expect("send");
    }

    /// Waits until the execution has settled and stops the workers.
    pub async fn finish(mut self, limit: Duration) -> (ExecutionView, Drill) {
        let view = self
            .wait_until("the drill to settle", limit, |_, settled| settled)
            .await;
        if let Some(w) = self.workers.take() {
            w.shutdown().await;
        }
        (view, self)
    }
}

/// The final table of a drill, the way a scenario test states it: the
/// execution's status, then each wave's status and, under it, one row per
/// server: hostname (or id), launchStatus, healthStatus and the errorCode
/// when there is one.
///
/// ```text
/// execution FAILED
/// wave databases COMPLETED
///   pay-db-primary COMPLETED HEALTHY
/// wave app-tier FAILED
///   pay-app-2 FAILED PENDING LAUNCH_FAILED
/// ```
pub fn drill_table(view: &ExecutionView) -> Vec<Vec<String>> {
    let mut rows = vec![vec!["execution".to_owned(), wire(&view.status)]];
    for wave in &view.waves {
        rows.push(vec![
            "wave".to_owned(),
            wave.name.clone(),
            wire(&wave.status),
        ]);
        for s in &wave.servers {
            let mut row = vec![
                String::new(),
                s.hostname.clone(),
                wire(&s.launch_status),
                wire(&s.health_status),
            ];
            row.extend(s.error_code.clone());
            rows.push(row);
        }
    }
    rows
}

/// Asserts that the drill ended as `expected` says, a [`drill_table`] with
/// any spacing (server rows indented). On a mismatch it prints both whole
/// tables and the rows that differ.
#[track_caller]
pub fn assert_drill_table(view: &ExecutionView, expected: &str) {
    let expected: Vec<Vec<String>> = expected
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cells = line.split_whitespace().map(str::to_owned);
            if line.trim_start().starts_with("execution") || line.trim_start().starts_with("wave ")
            {
                cells.collect()
            } else {
                std::iter::once(String::new()).chain(cells).collect()
            }
        })
        .collect();
    let actual = drill_table(view);
    if actual == expected {
        return;
    }
    let differing: Vec<String> = (0..actual.len().max(expected.len()))
        .filter(|&i| actual.get(i) != expected.get(i))
        .map(|i| {
            let show = |row: Option<&Vec<String>>| row.map_or("(none)".to_owned(), |r| r.join(" "));
            format!(
                "  row {}: expected `{}`, got `{}`",
                i + 1,
                show(expected.get(i)).trim(),
                show(actual.get(i)).trim()
            )
        })
        .collect();
    panic!(
        "the drill did not end as expected\n\nexpected:\n{}\nactual:\n{}\ndiffering rows:\n{}\n\nexecution reason: {:?}\nwave reasons: {:?}",
        render_table(&expected),
        render_table(&actual),
        differing.join("\n"),
        view.reason,
        view.waves
            .iter()
            .map(|w| (w.name.as_str(), w.reason.as_deref()))
            .collect::<Vec<_>>(),
    );
}

/// Aligned columns, server rows indented under their wave.
fn render_table(rows: &[Vec<String>]) -> String {
    let servers: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r.len() > 1 && r[0].is_empty())
        .collect();
    let width = |col: usize| {
        servers
            .iter()
            .map(|r| r.get(col).map_or(0, String::len))
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (1..5).map(width).collect();
    let mut out = String::new();
    for row in rows {
        if row.first().is_some_and(String::is_empty) {
            out.push_str("   ");
            for (i, cell) in row[1..].iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                out.push_str(&format!(" {cell:w$}"));
            }
        } else {
            out.push_str("  ");
            out.push_str(&row.join(" "));
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out
}

/// One row per server: "wave/hostname STATUS [errorCode]", in wave order:
/// the expected final table of a scenario test.
pub fn server_table(view: &ExecutionView) -> Vec<String> {
    view.waves
        .iter()
        .flat_map(|w| {
            w.servers.iter().map(move |s| {
                let mut row = format!("{}/{} {}", w.name, s.hostname, wire(&s.launch_status));
                if let Some(code) = &s.error_code {
                    row.push_str(&format!(" [{code}]"));
                }
                row
            })
        })
        .collect()
}

/// "wave STATUS" per wave.
pub fn wave_table(view: &ExecutionView) -> Vec<String> {
    view.waves
        .iter()
        .map(|w| format!("{} {}", w.name, wire(&w.status)))
        .collect()
}

/// A status as the JSON shows it (`LAUNCHED`, `POST_ACTIONS`, ...).
pub fn wire<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Recovery jobs the simulator created, per wave tag ("1", "2", ...),
/// whatever their callers were told: invariant 2's count (docs/invariants.md).
pub fn recovery_jobs_per_wave(simulator: &ripcord_sim::Simulator) -> BTreeMap<String, usize> {
    let mut jobs = BTreeMap::new();
    for call in simulator.start_recovery_calls() {
        if call.outcome.job_id().is_some() {
            let wave = call
                .tags
                .get(ripcord::ports::drs::TAG_WAVE)
                .cloned()
                .unwrap_or_default();
            *jobs.entry(wave).or_default() += 1;
        }
    }
    jobs
}
