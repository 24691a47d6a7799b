//! The engine on one machine: the embedded backend (queues and store in one
//! SQLite file) and the simulator for DRS, EC2 and SSM, on a scaled clock,
//! with the workers running as tasks of this process.
//!
//! [`LocalEngine::open`] keeps the simulated world in this process' memory
//! (`ripcord run`, the tests). [`LocalEngine::open_shared`] keeps it in the
//! database file, so several `ripcord worker` processes on one file share
//! one simulated DRS account and one simulated clock.

use crate::backend::QuotaArgs;
use crate::call_log::CallLog;
use crate::ports::Ports;
use crate::push::QueueLaunchResultSink;
use crate::telemetry::WorkerTelemetry;
use crate::worker::{self, WorkerConfig};
use ripcord::ports::calls::Service;
use ripcord::ports::clock::ScaledClock;
use ripcord::ports::{Clock, QueueName};
use ripcord_embedded::{DEFAULT_WORLD, EmbeddedBackend, EmbeddedConfig, EmbeddedError};
use ripcord_sim::{Scenario, ScenarioSource, SimWorldError, Simulator};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error(transparent)]
    World(#[from] SimWorldError),
}

pub struct LocalEngine {
    pub ports: Ports,
    pub backend: EmbeddedBackend,
    pub simulator: Arc<Simulator>,
    /// For a world stored in the database: where its scenario came from.
    pub stored_scenario: Option<String>,
}

impl LocalEngine {
    /// The engine with the DRS quotas `overrides` sets (the scenario's
    /// otherwise): what its capacity ledger admits launches against.
    pub fn with_quotas(mut self, overrides: &QuotaArgs) -> Self {
        self.ports.quotas = overrides.over(self.ports.quotas);
        self
    }

    /// Opens (or creates) the database at `db` and starts a simulator for
    /// `scenario` on a clock running `scenario.time_scale` times real time.
    pub fn open(db: &Path, scenario: Scenario) -> Result<Self, EmbeddedError> {
        Self::open_with(db, scenario, |ports| ports)
    }

    /// Like [`LocalEngine::open`], with the workers' ports passed through
    /// `decorate` first (tests wrap them to inject faults or record calls).
    /// The simulator's pushed launch results go through the decorated queue.
    pub fn open_with(
        db: &Path,
        scenario: Scenario,
        decorate: impl FnOnce(Ports) -> Ports,
    ) -> Result<Self, EmbeddedError> {
        let backend = EmbeddedBackend::open(db, EmbeddedConfig::default())?;
        let clock: Arc<dyn Clock> =
            Arc::new(ScaledClock::new(chrono::Utc::now(), scenario.time_scale));
        let simulator = Simulator::new(scenario, clock.clone());
        Ok(Self::assemble(backend, simulator, clock, decorate))
    }

    /// Opens (or creates) the database at `db` and the simulated world
    /// stored in it. The first process to open the file creates the world
    /// with `scenario` (or the built-in one); later processes run the stored
    /// scenario, and one that asks for a different scenario is refused.
    pub fn open_shared(db: &Path, scenario: Option<&ScenarioSource>) -> Result<Self, EngineError> {
        let backend = EmbeddedBackend::open(db, EmbeddedConfig::default())?;
        let opened = backend.open_sim_world(DEFAULT_WORLD, scenario)?;
        let clock: Arc<dyn Clock> = Arc::new(opened.clock());
        let simulator =
            Simulator::with_world(opened.scenario.scenario, clock.clone(), opened.world);
        Ok(Self {
            stored_scenario: Some(opened.scenario.file),
            ..Self::assemble(backend, simulator, clock, |ports| ports)
        })
    }

    fn assemble(
        backend: EmbeddedBackend,
        simulator: Arc<Simulator>,
        clock: Arc<dyn Clock>,
        decorate: impl FnOnce(Ports) -> Ports,
    ) -> Self {
        let quotas = simulator.scenario().quotas.into();
        // The simulator answers for whatever region a plan names: no
        // region to check plans against (docs/preflight.md).
        let region = String::new();
        let ports = decorate(Ports {
            queue: backend.queue(),
            store: backend.store(),
            heartbeats: backend.heartbeats(),
            trigger_log: backend.trigger_log(),
            submissions: backend.submissions(),
            capacity: backend.capacity(),
            quotas,
            drs: simulator.clone(),
            ec2: simulator.clone(),
            ssm: simulator.clone(),
            metrics: backend.metrics(),
            announcer: backend.announcer(),
            clock,
            describes: Default::default(),
            region,
            calls: Arc::new(CallLog::with_ports_service(Service::File)),
        });
        simulator.observe_calls(ports.calls.clone());
        simulator.set_launch_result_sink(Arc::new(QueueLaunchResultSink {
            queue: ports.queue.clone(),
            clock: ports.clock.clone(),
        }));
        Self {
            ports,
            backend,
            simulator,
            stored_scenario: None,
        }
    }

    /// Starts a worker per queue in `kinds`, and, with a poll worker, the
    /// simulator's launch-result pusher. The pushed results go to the poll
    /// queue, so the process that polls pushes; with several such processes
    /// on one stored world, the world's record of what was pushed makes each
    /// result go out once.
    pub fn spawn_workers(&self, kinds: &[QueueName], config: WorkerConfig) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let telemetry = WorkerTelemetry::default();
        let handles: Vec<JoinHandle<()>> = kinds
            .iter()
            .map(|&kind| {
                let ports = self.ports.clone();
                tokio::spawn(worker::run(
                    ports,
                    kind,
                    config.clone(),
                    telemetry.clone(),
                    stopped.clone(),
                ))
            })
            .collect();
        let pusher = kinds
            .contains(&QueueName::Poll)
            .then(|| self.simulator.spawn_pusher());
        Workers {
            telemetry,
            stop,
            handles,
            pusher,
        }
    }
}

/// Running workers; `shutdown` stops them after the steps under way.
pub struct Workers {
    /// The metrics of all the workers together.
    pub telemetry: WorkerTelemetry,
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
    pusher: Option<JoinHandle<()>>,
}

impl Workers {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Some(pusher) = self.pusher {
            pusher.abort();
        }
        for h in self.handles {
            let _ = h.await;
        }
    }
}
