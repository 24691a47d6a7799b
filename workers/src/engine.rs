//! The engine on one machine: the embedded backend (queues and store in one
//! SQLite file) and the simulator for DRS, EC2 and SSM, on a scaled clock,
//! with the four workers running as tasks of this process.

use crate::ports::Ports;
use crate::push::QueueLaunchResultSink;
use crate::worker::{self, WorkerConfig, WorkerStats};
use ripcord::embedded::{EmbeddedBackend, EmbeddedConfig, EmbeddedError};
use ripcord::ports::clock::ScaledClock;
use ripcord::ports::{Clock, QueueName};
use ripcord::sim::{Scenario, Simulator};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct LocalEngine {
    pub ports: Ports,
    pub backend: EmbeddedBackend,
    pub simulator: Arc<Simulator>,
}

impl LocalEngine {
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
        let ports = decorate(Ports {
            queue: backend.queue(),
            store: backend.store(),
            drs: simulator.clone(),
            ec2: simulator.clone(),
            ssm: simulator.clone(),
            metrics: backend.metrics(),
            clock,
        });
        simulator.set_launch_result_sink(Arc::new(QueueLaunchResultSink {
            queue: ports.queue.clone(),
            clock: ports.clock.clone(),
        }));
        Ok(Self {
            ports,
            backend,
            simulator,
        })
    }

    /// Starts a worker per queue in `kinds`, and the simulator's pusher.
    pub fn spawn_workers(&self, kinds: &[QueueName], config: WorkerConfig) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let stats = Arc::new(WorkerStats::default());
        let handles: Vec<JoinHandle<()>> = kinds
            .iter()
            .map(|&kind| {
                let ports = self.ports.clone();
                tokio::spawn(worker::run(
                    ports,
                    kind,
                    config.clone(),
                    stats.clone(),
                    stopped.clone(),
                ))
            })
            .collect();
        let pusher = self.simulator.spawn_pusher();
        Workers {
            stats,
            stop,
            handles,
            pusher,
        }
    }
}

/// Running workers; `shutdown` stops them after the steps under way.
pub struct Workers {
    /// Counters of all the workers together.
    pub stats: Arc<WorkerStats>,
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
    pusher: JoinHandle<()>,
}

impl Workers {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.pusher.abort();
        for h in self.handles {
            let _ = h.await;
        }
    }
}
