//! `ripcord bench scale`: horizontal scaling. The same load (many
//! executions at once, on disjoint servers, several waves each) is run by
//! 1, 2, 4, ... `ripcord worker` *processes* per kind, on the embedded
//! backend (one SQLite file shared by every process, the simulated world
//! stored in it) or on AWS stand-ins (SQS, DynamoDB and EventBridge in moto,
//! DRS and SSM in `ripcord sim serve`). Each worker process serves its
//! Prometheus metrics on a free loopback port; the figures are read from
//! them (events decided) and from `/proc` (CPU time per process).

use crate::backend::{AwsBackend, aws_clients};
use crate::bench::{chain_plans, wait_until_ended};
use ripcord::capacity::Quotas;
use ripcord::event::Envelope;
use ripcord::ids::ExecutionId;
use ripcord::ports::clock::SystemClock;
use ripcord::ports::{Clock, ExecutionStore, QueueName, WorkQueue};
use ripcord::status_model::ExecutionStatus;
use ripcord_aws::ResourceNames;
use ripcord_aws::bootstrap::{BootstrapOptions, bootstrap};
use ripcord_embedded::{EmbeddedBackend, EmbeddedConfig};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod probe;

pub use probe::CpuTime;

/// The worker kinds, as `ripcord worker` names them.
pub const KINDS: [&str; 4] = ["launch", "poll", "post-actions", "metrics"];

/// What every run of one figure carries out: `executions` chain plans of
/// `waves` waves of `per_wave` servers, none sharing a server, started at
/// once, on a simulator running `time_scale` times real time.
#[derive(Clone, Copy, Debug)]
pub struct ScaleLoad {
    pub executions: usize,
    pub waves: usize,
    pub per_wave: usize,
    pub time_scale: f64,
    /// Real time each DRS, EC2 and SSM call of the simulator takes.
    pub call_latency: Duration,
}

impl ScaleLoad {
    pub fn servers(&self) -> usize {
        self.executions * self.waves * self.per_wave
    }

    /// The simulator's scenario: DRS and SSM take simulated minutes (so a
    /// step is mostly waiting), every launch succeeds and is pushed, and
    /// the DRS quotas are far above the load, so no wave waits for capacity
    /// and the workers, not DRS, are what the figure measures. With a
    /// `call_latency` every call waits like a real API's round trip.
    pub fn scenario_yaml(&self) -> String {
        format!(
            "seed: 7\ntime_scale: {}\ncall_latency: {}ms\njob_pending: 10s\nlaunch_duration: {{ min: 30s, max: 90s }}\n\
             push_launch_results: true\nquotas: {{ servers_per_job: 1000, concurrent_jobs: 100000, servers_in_active_jobs: 1000000 }}\n",
            self.time_scale,
            self.call_latency.as_millis()
        )
    }

    /// On AWS the workers' clock is real time, so the plans' poll intervals
    /// are the simulated ones divided by the time scale (at least 250 ms).
    fn plans(&self, real_time_workers: bool) -> Vec<ripcord::plan::Plan> {
        let mut plans = chain_plans(self.executions, self.waves, self.per_wave);
        if real_time_workers {
            for plan in &mut plans {
                let i = &mut plan.options.poll_intervals;
                for d in [&mut i.pending, &mut i.launching, &mut i.post_actions] {
                    *d = d.div_f64(self.time_scale).max(Duration::from_millis(250));
                }
            }
        }
        plans
    }
}

/// What `ripcord bench scale` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// `embedded`: one SQLite file shared by the worker processes; `aws`:
    /// moto (--moto-url) and `ripcord sim serve` (--sim-url).
    #[arg(long, value_enum, default_value_t = crate::backend::BackendKind::Embedded)]
    pub backend: crate::backend::BackendKind,
    /// Worker processes per kind, one run (or --runs runs) each.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub workers: Vec<usize>,
    /// Executions started at once (no two share a server).
    #[arg(long, default_value_t = 40)]
    pub executions: usize,
    /// Waves per execution, each after the last.
    #[arg(long, default_value_t = 3)]
    pub waves: usize,
    /// Servers per wave.
    #[arg(long, default_value_t = 5)]
    pub servers_per_wave: usize,
    /// Simulated seconds per real second (launches take 30–90 simulated s).
    #[arg(long, default_value_t = 60.0)]
    pub time_scale: f64,
    /// Real time every simulated DRS, EC2 and SSM call takes (e.g. 200ms,
    /// like the real APIs'), so the load waits on calls as in production
    /// instead of being bound by this machine's CPU. Default none.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub api_latency: Duration,
    /// Runs per worker count; the table shows the median by wall time.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// AWS: moto's URL (SQS, DynamoDB, EventBridge).
    #[arg(long, env = "RIPCORD_TEST_MOTO_URL")]
    pub moto_url: Option<String>,
    /// AWS: `ripcord sim serve`'s URL (DRS, SSM, CloudWatch).
    #[arg(long, env = "RIPCORD_TEST_SIM_URL")]
    pub sim_url: Option<String>,
    /// The longest one run may take.
    #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
    pub limit: Duration,
}

/// Where the workers keep their queues and executions.
#[derive(Clone, Debug)]
pub enum ScaleBackend {
    /// One new SQLite file per run.
    Embedded,
    /// moto at `moto` (SQS, DynamoDB, EventBridge) and `ripcord sim serve`
    /// at `sim` (DRS, SSM, CloudWatch); a new name prefix per run.
    Aws { moto: String, sim: String },
}

/// Waits for the embedded database file (zero on AWS), in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileWaits {
    /// Statements that met another process' write lock and slept.
    pub busy_retries: u64,
    pub busy_wait: f64,
    /// Tasks waiting for their process' one connection.
    pub connection_wait: f64,
    /// Rewrites of the simulated world stored in the file, the time they
    /// held the write lock, and the bytes written.
    pub world_writes: u64,
    pub world_write_time: f64,
    pub world_write_bytes: u64,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct ScaleFigures {
    pub workers_per_kind: usize,
    pub statuses: Vec<ExecutionStatus>,
    pub servers: usize,
    pub wall: Duration,
    /// Events decided by all worker processes together.
    pub decided: u64,
    /// Receives the worker processes made on their queues (on AWS, SQS
    /// ReceiveMessage requests, many of them empty long polls).
    pub receives: u64,
    /// The worker processes' waits for the embedded file, together.
    pub contention: FileWaits,
    /// CPU time of the worker processes, by kind (in [`KINDS`] order).
    pub cpu_by_kind: Vec<CpuTime>,
    /// CPU time of this process (queueing, watching the executions).
    pub bench_cpu: CpuTime,
}

impl ScaleFigures {
    pub fn completed(&self) -> bool {
        self.statuses
            .iter()
            .all(|s| *s == ExecutionStatus::Completed)
    }

    pub fn executions_per_minute(&self) -> f64 {
        self.statuses.len() as f64 * 60.0 / self.wall.as_secs_f64()
    }

    pub fn events_per_second(&self) -> f64 {
        self.decided as f64 / self.wall.as_secs_f64()
    }

    /// All worker processes' CPU time over the wall time, in cores.
    pub fn worker_cores(&self) -> f64 {
        self.cpu_by_kind.iter().map(|c| c.total()).sum::<f64>() / self.wall.as_secs_f64()
    }
}

/// Runs `load` with `workers_per_kind` worker processes of each kind,
/// started from the binary `exe`, and stops them once every execution has
/// ended (at most `limit`). Logs go into `logs`.
pub async fn run_scale(
    exe: &Path,
    backend: &ScaleBackend,
    load: ScaleLoad,
    workers_per_kind: usize,
    logs: &Path,
    limit: Duration,
) -> anyhow::Result<ScaleFigures> {
    let scenario = logs.join("scenario.yaml");
    std::fs::write(&scenario, load.scenario_yaml())?;
    let (env, ports) = match backend {
        ScaleBackend::Embedded => embedded_stage(logs, &scenario)?,
        ScaleBackend::Aws { moto, sim } => aws_stage(moto, sim, &load).await?,
    };
    let mut workers = WorkerProcesses::default();
    for kind in KINDS {
        for i in 0..workers_per_kind {
            let mut command = Command::new(exe);
            command.args(["worker", kind, "--metrics-addr", "127.0.0.1:0"]);
            env.apply(&mut command);
            workers.spawn(kind, command, &logs.join(format!("{kind}-{i}.log")))?;
        }
    }
    let result = drive(&ports, load, workers_per_kind, &mut workers, limit).await;
    workers.stop();
    result
}

async fn drive(
    ports: &StagePorts,
    load: ScaleLoad,
    workers_per_kind: usize,
    workers: &mut WorkerProcesses,
    limit: Duration,
) -> anyhow::Result<ScaleFigures> {
    let bench_before = CpuTime::of_process(std::process::id())?;
    let mut ids = Vec::new();
    let mut starts = Vec::new();
    for plan in load.plans(matches!(ports.kind, StageKind::Aws)) {
        let id = ExecutionId::new_random();
        let start = Envelope::start_execution(id, plan, "bench", false, ports.clock.now());
        starts.push(start.to_message(Duration::ZERO));
        ids.push(id);
    }
    let began = Instant::now();
    // SQS takes at most 10 messages per send.
    for batch in starts.chunks(10) {
        ports.queue.send(QueueName::Launch, batch.to_vec()).await?;
    }
    let statuses = wait_until_ended(
        &*ports.store,
        &ids,
        began,
        limit,
        Duration::from_millis(100),
        || workers.check_running(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}; the worker logs are in {}", workers.log_dir()))?;
    let wall = began.elapsed();
    let bench_cpu = CpuTime::of_process(std::process::id())?.since(bench_before);
    let Scraped {
        decided,
        receives,
        contention,
    } = workers.scrape().await?;
    Ok(ScaleFigures {
        workers_per_kind,
        statuses,
        servers: load.servers(),
        wall,
        decided,
        receives,
        contention,
        cpu_by_kind: KINDS.iter().map(|k| workers.cpu_of(k)).collect(),
        bench_cpu,
    })
}

enum StageKind {
    Embedded,
    Aws,
}

/// What this process queues the executions on and watches them in.
struct StagePorts {
    kind: StageKind,
    queue: Arc<dyn WorkQueue>,
    store: Arc<dyn ExecutionStore>,
    clock: Arc<dyn Clock>,
}

/// The command line and environment every worker process gets.
#[derive(Default)]
struct WorkerEnv {
    args: Vec<std::ffi::OsString>,
    vars: Vec<(&'static str, String)>,
}

impl WorkerEnv {
    fn apply(&self, command: &mut Command) {
        command.args(&self.args).env("RUST_LOG", "warn");
        for (k, v) in &self.vars {
            command.env(k, v);
        }
    }
}

fn embedded_stage(dir: &Path, scenario: &Path) -> anyhow::Result<(WorkerEnv, StagePorts)> {
    let db = dir.join("bench.db");
    let env = WorkerEnv {
        args: vec![
            "--backend".into(),
            "embedded".into(),
            "--db".into(),
            db.clone().into(),
            "--scenario".into(),
            scenario.into(),
        ],
        vars: vec![],
    };
    // This process creates the world, so its clock (stored in the file) is
    // the one every worker process continues.
    let source = ripcord_sim::ScenarioSource::load(scenario)?;
    let engine = crate::engine::LocalEngine::open_shared(&db, Some(&source))?;
    let backend = EmbeddedBackend::open(&db, EmbeddedConfig::default())?;
    Ok((
        env,
        StagePorts {
            kind: StageKind::Embedded,
            queue: backend.queue(),
            store: backend.store(),
            clock: engine.ports.clock.clone(),
        },
    ))
}

async fn aws_stage(
    moto: &str,
    sim: &str,
    load: &ScaleLoad,
) -> anyhow::Result<(WorkerEnv, StagePorts)> {
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        anyhow::bail!(
            "the AWS scale benchmark signs its calls to moto and the simulator: set AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test (any values; the benchmark only talks to --moto-url and --sim-url)"
        );
    }
    probe::http_post(sim, "/sim-api/reset", &load.scenario_yaml()).await?;
    let prefix = format!("bench{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let settings = ripcord_aws::AwsSettings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.to_owned()),
        max_attempts: None,
        names: ResourceNames::new(prefix.clone()),
    };
    let clients = aws_clients(&settings).await?;
    bootstrap(&clients, &settings.names, &BootstrapOptions::default()).await?;
    let quotas = Quotas {
        concurrent_jobs: 100_000,
        servers_in_active_jobs: 1_000_000,
        servers_per_job: 1000,
    };
    let backend = AwsBackend::connect(&settings, quotas).await?;
    let vars = vec![
        ("RIPCORD_BACKEND", "aws".to_owned()),
        ("RIPCORD_PREFIX", prefix),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", moto.to_owned()),
        ("AWS_ENDPOINT_URL_DRS", sim.to_owned()),
        ("AWS_ENDPOINT_URL_SSM", sim.to_owned()),
        ("AWS_ENDPOINT_URL_CLOUDWATCH", sim.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        (
            "RIPCORD_DRS_CONCURRENT_JOBS",
            quotas.concurrent_jobs.to_string(),
        ),
        (
            "RIPCORD_DRS_SERVERS_IN_ACTIVE_JOBS",
            quotas.servers_in_active_jobs.to_string(),
        ),
        (
            "RIPCORD_DRS_SERVERS_PER_JOB",
            quotas.servers_per_job.to_string(),
        ),
    ];
    Ok((
        WorkerEnv { args: vec![], vars },
        StagePorts {
            kind: StageKind::Aws,
            queue: backend.ports.queue.clone(),
            store: backend.ports.store.clone(),
            clock: Arc::new(SystemClock),
        },
    ))
}

/// What the worker processes' metrics said at the end of a run.
struct Scraped {
    decided: u64,
    receives: u64,
    contention: FileWaits,
}

/// The worker processes of one run, each with the address of its metrics.
#[derive(Default)]
struct WorkerProcesses {
    children: Vec<(&'static str, Child, String)>,
    logs: Vec<PathBuf>,
}

impl WorkerProcesses {
    /// Starts `command` (a `ripcord worker ... --metrics-addr 127.0.0.1:0`)
    /// with its stderr copied into `log`, and waits for the metrics address
    /// it prints.
    fn spawn(
        &mut self,
        kind: &'static str,
        mut command: Command,
        log: &Path,
    ) -> anyhow::Result<()> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start a {kind} worker process: {e}"))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut file = std::fs::File::create(log)?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("worker metrics at ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                let _ = writeln!(file, "{line}");
            }
        });
        self.logs.push(log.to_path_buf());
        let url = rx.recv_timeout(Duration::from_secs(60));
        match url {
            Ok(url) => {
                self.children.push((kind, child, url));
                Ok(())
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!(
                    "the {kind} worker process did not serve its metrics within 60 s; see {}",
                    log.display()
                )
            }
        }
    }

    fn log_dir(&self) -> String {
        self.logs
            .first()
            .and_then(|l| l.parent())
            .map_or_else(String::new, |d| d.display().to_string())
    }

    fn check_running(&mut self) -> anyhow::Result<()> {
        for (kind, child, _) in &mut self.children {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("a {kind} worker process ended ({status}) during the run");
            }
        }
        Ok(())
    }

    /// Events decided, receives and waits for the file, summed over the
    /// processes.
    async fn scrape(&self) -> anyhow::Result<Scraped> {
        let mut decided = 0.0;
        let mut receives = 0.0;
        let mut contention = FileWaits::default();
        for (_, _, url) in &self.children {
            let text = probe::http_get(url).await?;
            let sum = |name: &str| probe::counter_sum(&text, name);
            decided += sum("ripcord_worker_events_decided_total");
            receives += sum("ripcord_worker_polls_total");
            contention.busy_retries += sum("ripcord_embedded_busy_retries_total") as u64;
            contention.busy_wait += sum("ripcord_embedded_busy_wait_seconds_total");
            contention.connection_wait += sum("ripcord_embedded_connection_wait_seconds_total");
            contention.world_writes += sum("ripcord_embedded_sim_world_writes_total") as u64;
            contention.world_write_time += sum("ripcord_embedded_sim_world_write_seconds_total");
            contention.world_write_bytes +=
                sum("ripcord_embedded_sim_world_write_bytes_total") as u64;
        }
        Ok(Scraped {
            decided: decided as u64,
            receives: receives as u64,
            contention,
        })
    }

    fn cpu_of(&self, kind: &str) -> CpuTime {
        self.children
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .filter_map(|(_, c, _)| CpuTime::of_process(c.id()).ok())
            .fold(CpuTime::default(), CpuTime::plus)
    }

    fn stop(&mut self) {
        for (_, child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for WorkerProcesses {
    fn drop(&mut self) {
        self.stop();
    }
}
