//! Where a chaos run happens, and how the harness reaches it: the embedded
//! backend (one database file holding the queues, the store and the
//! simulated world), or AWS stand-ins (SQS, DynamoDB and EventBridge in
//! moto, DRS and SSM in `ripcord sim serve`, a fresh resource prefix). The
//! stage gives the `ripcord` commands their backend options, the harness its
//! own view of the store and the dead-letter queues, and the simulator's
//! record of what it was asked (its truth, not the workers').

use crate::support::RIPCORD;
use ripcord::capacity::Quotas;
use ripcord::ports::{DeadLetters, ExecutionStore};
use ripcord_embedded::{DEFAULT_WORLD, EmbeddedBackend, EmbeddedConfig, EmbeddedSimWorld};
use ripcord_sim::{LaunchTimeline, ScenarioSource, StartRecoveryCall};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// What the simulator says it was asked and did.
#[derive(Clone, Debug, Default)]
pub struct SimTruth {
    pub start_calls: Vec<StartRecoveryCall>,
    /// Every launch job, from its creation to its last server's end.
    pub launch_jobs: Vec<LaunchTimeline>,
    pub throttles: u64,
    pub server_errors: u64,
    pub pushed: usize,
    pub dropped: usize,
}

enum Place {
    Embedded {
        db: PathBuf,
        scenario: PathBuf,
        world: Arc<EmbeddedSimWorld>,
    },
    Aws {
        moto: String,
        sim: String,
        prefix: String,
    },
}

/// One run's backend, with a runtime for the harness' own calls to it.
pub struct Stage {
    place: Place,
    /// The quotas Ripcord's ledger admits against (every command's
    /// `RIPCORD_DRS_*`).
    quotas: Quotas,
    store: Arc<dyn ExecutionStore>,
    dead_letters: Arc<dyn DeadLetters>,
    runtime: tokio::runtime::Runtime,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime")
}

impl Stage {
    /// A new database file in `dir`, whose simulated world this process
    /// creates with `scenario` (so the world's clock starts here and every
    /// worker process continues it); Ripcord admits against `quotas`.
    pub fn embedded(dir: &Path, scenario: &Path, quotas: Quotas) -> Self {
        let db = dir.join("chaos.db");
        let backend = EmbeddedBackend::open(&db, EmbeddedConfig::default()).expect("the database");
        let source = ScenarioSource::load(scenario).expect("the scenario parses");
        let world = backend
            .open_sim_world(DEFAULT_WORLD, Some(&source))
            .expect("the simulated world")
            .world;
        Self {
            quotas,
            store: backend.store(),
            dead_letters: backend.dead_letters(),
            place: Place::Embedded {
                db,
                scenario: scenario.to_path_buf(),
                world,
            },
            runtime: runtime(),
        }
    }

    /// The simulator server at `sim` reset to `scenario`, and a new
    /// deployment (`ripcord aws bootstrap` under a fresh prefix) in moto;
    /// Ripcord admits against `quotas`.
    pub fn aws(moto: &str, sim: &str, scenario: &Path, quotas: Quotas) -> Self {
        let text = std::fs::read_to_string(scenario).expect("the scenario");
        crate::support::reset_simulator(sim, &text);
        let prefix = format!("chaos{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let place = Place::Aws {
            moto: moto.to_owned(),
            sim: sim.to_owned(),
            prefix: prefix.clone(),
        };
        let mut bootstrap = Command::new(RIPCORD);
        bootstrap.args(["aws", "bootstrap"]);
        Self::aws_env(&place, &mut bootstrap);
        let done = bootstrap.output().expect("ripcord aws bootstrap runs");
        assert!(
            done.status.success(),
            "ripcord aws bootstrap: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        let runtime = runtime();
        let settings = ripcord_aws::AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.to_owned()),
            max_attempts: None,
            names: ripcord_aws::ResourceNames::new(prefix),
        };
        let backend = runtime
            .block_on(ripcord_workers::backend::AwsBackend::connect(
                &settings,
                ripcord::capacity::Quotas::default(),
            ))
            .expect("the harness reaches moto");
        Self {
            quotas,
            store: backend.ports.store.clone(),
            dead_letters: backend.dead_letters.clone(),
            place,
            runtime,
        }
    }

    pub fn name(&self) -> &'static str {
        match self.place {
            Place::Embedded { .. } => "embedded",
            Place::Aws { .. } => "moto + sim serve",
        }
    }

    /// Whether the workers run on real time (AWS), so that the plans'
    /// poll intervals must be scaled down by hand.
    pub fn real_time_workers(&self) -> bool {
        matches!(self.place, Place::Aws { .. })
    }

    /// How long, once the faults stop and the dead letters are replayed,
    /// the executions still running may take to end: the longest timer
    /// that heals a crash (a launch intent whose StartRecovery was never
    /// made is looked at by its `LaunchCheck`, 120 s later) plus a margin.
    /// The workers' 120 s are simulated time on the file (12 s at the
    /// run's time scale) but real time on AWS.
    pub fn heal_bound(&self) -> std::time::Duration {
        match self.place {
            Place::Embedded { .. } => std::time::Duration::from_secs(30),
            Place::Aws { .. } => std::time::Duration::from_secs(150),
        }
    }

    fn aws_env(place: &Place, command: &mut Command) {
        let Place::Aws { moto, sim, prefix } = place else {
            return;
        };
        command
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", moto)
            .env("AWS_ENDPOINT_URL_DRS", sim)
            .env("AWS_ENDPOINT_URL_SSM", sim)
            .env("AWS_ENDPOINT_URL_CLOUDWATCH", sim)
            .env("RIPCORD_BACKEND", "aws")
            .env("RIPCORD_PREFIX", prefix)
            .env_remove("RIPCORD_DB");
    }

    /// `ripcord ARGS` on this stage's backend, admitting against the
    /// run's quotas (the simulator's own, which it enforces apart).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(RIPCORD);
        command
            .args(args)
            .env(
                "RIPCORD_DRS_CONCURRENT_JOBS",
                self.quotas.concurrent_jobs.to_string(),
            )
            .env(
                "RIPCORD_DRS_SERVERS_IN_ACTIVE_JOBS",
                self.quotas.servers_in_active_jobs.to_string(),
            )
            .env(
                "RIPCORD_DRS_SERVERS_PER_JOB",
                self.quotas.servers_per_job.to_string(),
            );
        match &self.place {
            Place::Embedded { db, .. } => {
                command.arg("--db").arg(db);
            }
            aws @ Place::Aws { .. } => Self::aws_env(aws, &mut command),
        }
        command
    }

    /// `ripcord worker KIND` on this stage (the scenario, on the file).
    pub fn worker(&self, kind: &str) -> Command {
        let mut command = self.command(&["worker", kind]);
        if let Place::Embedded { scenario, .. } = &self.place {
            command.arg("--scenario").arg(scenario);
        }
        command
    }

    pub fn store(&self) -> &Arc<dyn ExecutionStore> {
        &self.store
    }

    pub fn dead_letters(&self) -> &Arc<dyn DeadLetters> {
        &self.dead_letters
    }

    /// Runs one of the harness' own calls to the backend.
    pub fn block_on<F: std::future::Future>(&self, call: F) -> F::Output {
        self.runtime.block_on(call)
    }

    /// What the simulator was asked and did, from its own records.
    pub fn truth(&self) -> SimTruth {
        match &self.place {
            Place::Embedded { world, .. } => {
                let world = world.snapshot().expect("the simulated world");
                let injected = |code: &str| -> u64 {
                    world
                        .faults_injected()
                        .iter()
                        .filter(|((_, c), _)| c == code)
                        .map(|(_, n)| n)
                        .sum()
                };
                SimTruth {
                    start_calls: world.start_recovery_calls().to_vec(),
                    launch_jobs: world.launch_timeline(),
                    throttles: injected("ThrottlingException"),
                    server_errors: injected("InternalServerException"),
                    pushed: world.pushed_count(),
                    dropped: world.dropped_count(),
                }
            }
            Place::Aws { sim, .. } => {
                let calls: serde_json::Value =
                    reqwest::blocking::get(format!("{sim}/sim-api/calls"))
                        .and_then(|r| r.json())
                        .expect("the simulator's calls");
                let injected = |code: &str| -> u64 {
                    calls["faultsInjected"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|f| f["code"] == code)
                        .filter_map(|f| f["count"].as_u64())
                        .sum()
                };
                let count = |field: &str| calls[field].as_u64().unwrap_or(0) as usize;
                SimTruth {
                    start_calls: serde_json::from_value(calls["startRecoveryCalls"].clone())
                        .expect("StartRecovery calls"),
                    launch_jobs: serde_json::from_value(calls["launchJobs"].clone())
                        .expect("the launch jobs"),
                    throttles: injected("ThrottlingException"),
                    server_errors: injected("InternalServerException"),
                    pushed: count("launchResultsPushed"),
                    dropped: count("launchResultsDropped"),
                }
            }
        }
    }
}
