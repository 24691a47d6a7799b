//! A harness for scenario tests that read like drills: start a plan from
//! `examples/` on the embedded backend and the simulator (a scenario from
//! `examples/scenarios/`), steer it (cancel, approve), and wait for the
//! final table.

use ripcord::event::{Envelope, Event};
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::plan::load_plan;
use ripcord::ports::QueueName;
use ripcord::sim::load_scenario;
use ripcord::status::{ExecutionView, execution_status, is_settled};
use ripcord_workers::engine::{LocalEngine, Workers};
use ripcord_workers::worker::WorkerConfig;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The repository's `examples/` folder.
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

pub struct Drill {
    pub id: ExecutionId,
    pub engine: LocalEngine,
    workers: Option<Workers>,
    _dir: tempfile::TempDir,
}

impl Drill {
    /// Starts `plan` (a path under examples/) with `scenario` (a path under
    /// examples/scenarios/), all four workers running in this process.
    pub async fn start(plan: &str, scenario: &str) -> Drill {
        let plan = load_plan(&examples().join(plan)).expect("example plans are valid");
        let scenario = load_scenario(&examples().join("scenarios").join(scenario))
            .expect("example scenarios are valid");
        let dir = tempfile::tempdir().expect("a temp dir");
        let engine =
            LocalEngine::open(&dir.path().join("drill.db"), scenario).expect("database opens");
        let workers = engine.spawn_workers(&QueueName::ALL, WorkerConfig::default());
        let id = ExecutionId::new_random();
        let start = Envelope::new(
            id,
            None,
            Event::StartExecution {
                plan,
                requested_by: "scenario-test".into(),
                recovery_confirmed: false,
            },
            engine.ports.clock.now(),
        );
        engine
            .ports
            .queue
            .send(QueueName::Launch, vec![start.to_message(Duration::ZERO)])
            .await
            .expect("send");
        Drill {
            id,
            engine,
            workers: Some(workers),
            _dir: dir,
        }
    }

    /// The status view now, once the execution exists.
    pub async fn view(&self) -> Option<(ExecutionView, bool)> {
        let store = &self.engine.ports.store;
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
        let deadline = Instant::now() + limit;
        loop {
            if let Some((view, _)) = self.view().await
                && pred(&view)
            {
                return view;
            }
            if Instant::now() > deadline {
                let seen = self
                    .view()
                    .await
                    .map(|(v, _)| serde_json::to_string_pretty(&v).unwrap());
                panic!(
                    "timed out waiting for {what}; last view: {}",
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
        self.engine
            .ports
            .queue
            .send(QueueName::Launch, vec![envelope.to_message(Duration::ZERO)])
            .await
            .expect("send");
    }

    /// Waits until the execution has settled and stops the workers.
    pub async fn finish(mut self, limit: Duration) -> (ExecutionView, Drill) {
        let deadline = Instant::now() + limit;
        let view = loop {
            if let Some((view, true)) = self.view().await {
                break view;
            }
            if Instant::now() > deadline {
                let seen = self
                    .view()
                    .await
                    .map(|(v, _)| serde_json::to_string_pretty(&v).unwrap());
                panic!(
                    "the drill did not settle within {limit:?}; last view: {}",
                    seen.unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        if let Some(w) = self.workers.take() {
            w.shutdown().await;
        }
        (view, self)
    }
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
