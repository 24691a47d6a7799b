//! Which backend a command works on: the embedded file (queues, store and
//! the simulated world in one SQLite file), or AWS (SQS, DynamoDB, and the
//! real DRS, EC2, SSM, EventBridge and CloudWatch through the official SDK).
//! The workers and the core never know which: they see [`Ports`].

use crate::call_log::CallLog;
use crate::ports::Ports;
use clap::ValueEnum;
use ripcord::capacity::Quotas;
use ripcord::ports::CallObserver;
use ripcord::ports::clock::{ScaledClock, SystemClock};
use ripcord::ports::{
    Clock, DeadLetters, ExecutionStore, SubmissionLog, TriggerLog, WorkQueue, WorkerHeartbeats,
};
use ripcord::time::Timestamp;
use ripcord_aws::{AwsSettings, Clients, ResourceNames, load_sdk_config};
use ripcord_embedded::{DEFAULT_WORLD, EmbeddedBackend, EmbeddedConfig};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// One SQLite file and the simulator (no AWS account needed).
    Embedded,
    /// SQS, DynamoDB, DRS, EC2, SSM, EventBridge and CloudWatch.
    Aws,
}

/// The options every command that reads or runs executions takes.
#[derive(Debug, Clone, clap::Args)]
pub struct BackendArgs {
    /// Where queues and executions live.
    #[arg(long, env = "RIPCORD_BACKEND", value_enum, default_value_t = BackendKind::Embedded)]
    pub backend: BackendKind,
    /// Embedded: the database file.
    #[arg(long, env = "RIPCORD_DB", default_value = "ripcord.db")]
    pub db: PathBuf,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub quotas: QuotaArgs,
}

/// The DRS quotas the capacity ledger admits launches against
/// (docs/capacity.md). Unset: AWS's defaults (20 concurrent jobs, 500
/// servers in active jobs, 100 servers per job), or on the simulator the
/// quotas of its scenario.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct QuotaArgs {
    /// DRS jobs that may be active at once in the account.
    #[arg(long, env = "RIPCORD_DRS_CONCURRENT_JOBS")]
    pub drs_concurrent_jobs: Option<u32>,
    /// Source servers in all active DRS jobs together.
    #[arg(long, env = "RIPCORD_DRS_SERVERS_IN_ACTIVE_JOBS")]
    pub drs_servers_in_active_jobs: Option<u32>,
    /// Source servers in one DRS job.
    #[arg(long, env = "RIPCORD_DRS_SERVERS_PER_JOB")]
    pub drs_servers_per_job: Option<u32>,
}

impl QuotaArgs {
    /// `base` with what these flags set.
    pub fn over(&self, base: Quotas) -> Quotas {
        Quotas {
            concurrent_jobs: self.drs_concurrent_jobs.unwrap_or(base.concurrent_jobs),
            servers_in_active_jobs: self
                .drs_servers_in_active_jobs
                .unwrap_or(base.servers_in_active_jobs),
            servers_per_job: self.drs_servers_per_job.unwrap_or(base.servers_per_job),
        }
    }
}

/// Where a deployment on AWS is and how to reach it.
#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// AWS: the prefix of the queue, table and event bus names
    /// (`ripcord aws bootstrap` creates them).
    #[arg(long, env = "RIPCORD_PREFIX", default_value = "ripcord")]
    pub prefix: String,
    /// AWS: the region (default: the standard chain, e.g. AWS_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS: one endpoint for every service (moto in tests). Per service,
    /// the SDK's AWS_ENDPOINT_URL_<SERVICE> variables (AWS_ENDPOINT_URL_DRS,
    /// AWS_ENDPOINT_URL_SSM, ...) apply.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// AWS: attempts per call the SDK makes for SQS, DynamoDB, EC2,
    /// EventBridge and CloudWatch (DRS and SSM calls are never retried by
    /// the SDK: the state machine retries them safely).
    #[arg(long, env = "RIPCORD_AWS_MAX_ATTEMPTS")]
    pub aws_max_attempts: Option<u32>,
}

impl AwsArgs {
    pub fn settings(&self) -> AwsSettings {
        AwsSettings {
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: self.aws_max_attempts,
            names: ResourceNames::new(self.prefix.clone()),
        }
    }
}

impl BackendArgs {
    pub fn aws_settings(&self) -> AwsSettings {
        self.aws.settings()
    }

    /// Where the executions are, for messages ("in ripcord.db", "in AWS
    /// (prefix ripcord)").
    pub fn describe(&self) -> String {
        match self.backend {
            BackendKind::Embedded => self.db.display().to_string(),
            BackendKind::Aws => format!("AWS (prefix {})", self.aws.prefix),
        }
    }
}

/// Ripcord on AWS: every port filled with an SDK adapter.
pub struct AwsBackend {
    pub ports: Ports,
    /// The SQS dead-letter queues (what `ripcord dlq` and health read).
    pub dead_letters: Arc<dyn DeadLetters>,
}

/// The SDK clients of `settings`, once a region is known (the standard
/// chain or `--region`).
pub async fn aws_clients(settings: &AwsSettings) -> anyhow::Result<Clients> {
    Ok(aws_clients_in_region(settings).await?.0)
}

/// The SDK clients of `settings` and the region they call.
pub async fn aws_clients_in_region(settings: &AwsSettings) -> anyhow::Result<(Clients, String)> {
    aws_clients_observed(settings, None).await
}

/// [`aws_clients_in_region`], each client telling `observer` how its calls
/// were answered.
async fn aws_clients_observed(
    settings: &AwsSettings,
    observer: Option<Arc<dyn CallObserver>>,
) -> anyhow::Result<(Clients, String)> {
    let config = load_sdk_config(settings).await;
    let Some(region) = config.region() else {
        anyhow::bail!(
            "no AWS region is configured; set AWS_REGION (or AWS_DEFAULT_REGION, a profile's region) or pass --region"
        );
    };
    Ok((Clients::observed(&config, observer), region.to_string()))
}

impl AwsBackend {
    pub async fn connect(settings: &AwsSettings, quotas: Quotas) -> anyhow::Result<AwsBackend> {
        let calls = Arc::new(CallLog::default());
        let (clients, region) =
            aws_clients_observed(settings, Some(calls.clone() as Arc<dyn CallObserver>)).await?;
        let names = &settings.names;
        let queue = Arc::new(ripcord_aws::sqs::SqsQueue::new(
            clients.sqs.clone(),
            names.clone(),
        ));
        let store = Arc::new(ripcord_aws::dynamodb::DynamoStore::new(
            clients.dynamodb.clone(),
            names.clone(),
        ));
        let ports = Ports {
            queue: queue.clone(),
            store: store.clone(),
            heartbeats: store.clone(),
            trigger_log: store.clone(),
            submissions: store.clone(),
            capacity: store,
            quotas,
            drs: Arc::new(ripcord_aws::drs::DrsService::new(clients.drs.clone())),
            ec2: Arc::new(ripcord_aws::ec2::Ec2Directory::new(clients.ec2.clone())),
            ssm: Arc::new(ripcord_aws::ssm::SsmCommands::new(clients.ssm.clone())),
            metrics: Arc::new(ripcord_aws::cloudwatch::CloudWatchMetrics::new(
                clients.cloudwatch.clone(),
            )),
            announcer: Arc::new(ripcord_aws::eventbridge::EventBridgeAnnouncer::new(
                clients.eventbridge.clone(),
                names.event_bus(),
            )),
            clock: Arc::new(SystemClock),
            describes: Default::default(),
            region,
            calls,
        };
        Ok(AwsBackend {
            ports,
            dead_letters: queue,
        })
    }
}

/// The queues and store a command reads, on either backend.
pub enum Backend {
    Embedded(EmbeddedBackend),
    Aws(Box<AwsBackend>),
}

impl Backend {
    /// Opens an existing backend: an embedded file must exist already (a
    /// typo in --db should not look like an empty history).
    pub async fn open_existing(args: &BackendArgs) -> anyhow::Result<Backend> {
        match args.backend {
            BackendKind::Embedded => {
                if !args.db.exists() {
                    anyhow::bail!(
                        "no Ripcord database at {}; pass --db with the file `ripcord run` used (or --backend aws)",
                        args.db.display()
                    );
                }
                Ok(Backend::Embedded(EmbeddedBackend::open(
                    &args.db,
                    EmbeddedConfig::default(),
                )?))
            }
            BackendKind::Aws => Ok(Backend::Aws(Box::new(
                AwsBackend::connect(&args.aws_settings(), args.quotas.over(Quotas::default()))
                    .await?,
            ))),
        }
    }

    pub fn store(&self) -> Arc<dyn ExecutionStore> {
        match self {
            Backend::Embedded(b) => b.store(),
            Backend::Aws(b) => b.ports.store.clone(),
        }
    }

    pub fn queue(&self) -> Arc<dyn WorkQueue> {
        match self {
            Backend::Embedded(b) => b.queue(),
            Backend::Aws(b) => b.ports.queue.clone(),
        }
    }

    pub fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        match self {
            Backend::Embedded(b) => b.dead_letters(),
            Backend::Aws(b) => b.dead_letters.clone(),
        }
    }

    pub fn heartbeats(&self) -> Arc<dyn WorkerHeartbeats> {
        match self {
            Backend::Embedded(b) => b.heartbeats(),
            Backend::Aws(b) => b.ports.heartbeats.clone(),
        }
    }

    pub fn submissions(&self) -> Arc<dyn SubmissionLog> {
        match self {
            Backend::Embedded(b) => b.submissions(),
            Backend::Aws(b) => b.ports.submissions.clone(),
        }
    }

    pub fn trigger_log(&self) -> Arc<dyn TriggerLog> {
        match self {
            Backend::Embedded(b) => b.trigger_log(),
            Backend::Aws(b) => b.ports.trigger_log.clone(),
        }
    }

    /// The time executions live in: on the embedded backend, the clock of
    /// the simulated world stored in the file (shared by `ripcord worker`
    /// processes), else real time.
    pub fn clock(&self) -> Arc<dyn Clock> {
        match self {
            Backend::Embedded(b) => Arc::new(WorldClock::new(b.clone())),
            Backend::Aws(_) => Arc::new(SystemClock),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock().now()
    }
}

/// The clock of the simulated world in an embedded file, once a worker has
/// created it; real time until then.
pub struct WorldClock {
    backend: EmbeddedBackend,
    found: OnceLock<ScaledClock>,
}

impl WorldClock {
    pub fn new(backend: EmbeddedBackend) -> Self {
        Self {
            backend,
            found: OnceLock::new(),
        }
    }

    fn world(&self) -> Option<&ScaledClock> {
        if let Some(clock) = self.found.get() {
            return Some(clock);
        }
        let world = self.backend.find_sim_world(DEFAULT_WORLD).ok()??;
        Some(self.found.get_or_init(|| world.clock()))
    }
}

impl Clock for WorldClock {
    fn now(&self) -> Timestamp {
        match self.world() {
            Some(clock) => clock.now(),
            None => chrono::Utc::now(),
        }
    }

    fn to_real(&self, simulated: Duration) -> Duration {
        match self.world() {
            Some(clock) => clock.to_real(simulated),
            None => simulated,
        }
    }

    fn scale(&self) -> f64 {
        self.world().map_or(1.0, |c| c.scale())
    }
}
