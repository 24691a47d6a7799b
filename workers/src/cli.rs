//! The command line: what each `ripcord` command takes.

use crate::backend::BackendArgs;
use crate::operator_args::{PauseArgs, ResumeArgs, RetryArgs, SkipArgs};
use crate::reports::ReportFormat;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Ripcord orchestrates AWS Elastic Disaster Recovery drills and recoveries,
/// wave by wave. Locally it runs on an embedded database and a simulator.
#[derive(Debug, Parser)]
#[command(name = "ripcord", version, propagate_version = true)]
pub struct Cli {
    /// Log format on stderr (the level comes from RUST_LOG, default `warn`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The embedded database: queues and execution store in one SQLite file.
#[derive(Debug, clap::Args, Clone)]
pub struct DbArg {
    /// The database file.
    #[arg(long, env = "RIPCORD_DB", default_value = "ripcord.db")]
    pub db: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a plan end to end on this machine (embedded backend + simulator):
    /// prints the execution id, shows live progress, prints a final table,
    /// exits 0 only when the execution COMPLETED.
    Run {
        plan: PathBuf,
        /// Simulator scenario (outcomes, durations, faults, time scale).
        #[arg(long)]
        scenario: Option<PathBuf>,
        #[command(flatten)]
        db: DbArg,
        /// Required to run a plan with `mode: recovery` (a real failover).
        #[arg(long)]
        confirm_recovery: bool,
        /// Who starts the execution (recorded and reported). Default: the
        /// OS user; on AWS the caller's ARN (STS) follows it.
        #[arg(long, env = "RIPCORD_REQUESTED_BY")]
        requested_by: Option<String>,
        /// Where the drill report (Markdown with its SVG timeline, HTML,
        /// JSON) is written when the execution settles: <dir>/<id>.md, ...
        /// Default: `reports` beside the database file.
        #[arg(long, env = "RIPCORD_REPORT_DIR")]
        report_dir: Option<PathBuf>,
        /// List every server in the final table (large waves are otherwise
        /// summarised: counts, grouped failures, servers needing attention).
        #[arg(long)]
        all: bool,
    },
    /// Queue a plan for `ripcord worker` processes running on the same
    /// database, print the execution id, and return (exit 0). Checks the
    /// plan first and refuses an unconfirmed real recovery (exit 2).
    Start {
        plan: PathBuf,
        /// Simulator scenario. The simulated world stored in the database
        /// is created with it if there is none yet; if there is one, it
        /// must run the same scenario (a different one is refused). Without
        /// --scenario the stored world's scenario applies, or the one the
        /// first `ripcord worker` brings.
        #[arg(long)]
        scenario: Option<PathBuf>,
        #[command(flatten)]
        backend: BackendArgs,
        /// Required to start a plan with `mode: recovery` (a real failover).
        #[arg(long)]
        confirm_recovery: bool,
        /// Who starts the execution (recorded and reported). Default: the
        /// OS user; on AWS the caller's ARN (STS) follows it.
        #[arg(long, env = "RIPCORD_REQUESTED_BY")]
        requested_by: Option<String>,
    },
    /// Check a plan file and report every problem with file:line:column.
    Validate { plan: PathBuf },
    /// Check a plan against DRS before launching it: each server exists and
    /// replicates (lag against max_replication_lag), its newest snapshot's
    /// age, servers held by other executions, recovery instances left by
    /// earlier drills, quota headroom, the region. Exit 1 if any finding is
    /// an error (a drill would not start), 2 if the plan is invalid.
    Preflight {
        plan: PathBuf,
        /// Simulator scenario (embedded backend), as for `ripcord start`.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Print the findings as JSON (the shape of POST /api/preflight).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Show an execution's status (table, or the JSON of the status API).
    Status {
        id: String,
        #[arg(long)]
        json: bool,
        /// List every server (large waves are otherwise summarised).
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// The drill report of an execution: plan, mode, who started it,
    /// start/end, per server launch time and time to healthy, actions and
    /// their outputs, failures with reasons, measured RTO per wave and
    /// overall against the plan's rto_target, the point-in-time snapshot
    /// used (RPO indicator), and the timeline (SVG, in the HTML; beside the
    /// Markdown file with --output).
    Report {
        id: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
        /// Write the report to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// List executions, newest first.
    List {
        /// Only executions with this status (PENDING, IN_PROGRESS,
        /// COMPLETED, FAILED, CANCELLED, TIMEOUT), as the API's `status`.
        #[arg(long)]
        status: Option<String>,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print the rows as JSON (the items of GET /api/executions).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Cancel an execution: no new wave starts; running launches are
    /// observed to their end so every server's status stays true.
    Cancel {
        id: String,
        #[arg(long, default_value = "cancelled from the command line")]
        reason: String,
        /// Who cancels (recorded and reported); default as for `start`.
        #[arg(long, env = "RIPCORD_REQUESTED_BY")]
        requested_by: Option<String>,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Terminate the recovery instances a settled drill launched (refused
    /// while it runs, and for a recovery without --confirm-recovery).
    Cleanup {
        id: String,
        #[arg(long, default_value = "cleaned up from the command line")]
        reason: String,
        /// Who cleans up (recorded and reported); default as for `start`.
        #[arg(long, env = "RIPCORD_REQUESTED_BY")]
        requested_by: Option<String>,
        /// Needed to clean up a `mode: recovery` execution: it terminates
        /// the recovered production instances.
        #[arg(long)]
        confirm_recovery: bool,
        /// Follow the clean-up to its end, at most this long (e.g. `30m`).
        #[arg(long, num_args = 0..=1, default_missing_value = "1h", value_parser = humantime::parse_duration)]
        wait: Option<std::time::Duration>,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Open a wave's approval gate (`wait_for_approval: true`).
    Approve {
        id: String,
        /// The wave's number (as `ripcord status` shows it).
        #[arg(long)]
        wave: u32,
        /// Who approves (recorded and reported); default as for `start`.
        /// `--requested-by`, as every other command spells it, works too.
        #[arg(long, visible_alias = "requested-by", env = "RIPCORD_REQUESTED_BY")]
        approved_by: Option<String>,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Relaunch the failed servers of a FAILED wave as its next attempt,
    /// then run the waves that depend on it.
    Retry(RetryArgs),
    /// End a FAILED, WAITING or not started wave as SKIPPED so that the
    /// waves depending on it run.
    Skip(SkipArgs),
    /// Start no new wave until resumed; running waves go on.
    Pause(PauseArgs),
    /// Start the waves that became ready while paused.
    Resume(ResumeArgs),
    /// Run one worker (launch, poll, post-actions or metrics) until Ctrl-C.
    /// Worker processes on one database share its queues, its store and one
    /// simulated world (DRS, EC2, SSM and the simulated clock) kept in the
    /// file; `ripcord start` queues executions for them. The poll worker
    /// also pushes simulated launch results (each one once, however many
    /// poll workers run).
    Worker {
        #[arg(value_enum)]
        kind: WorkerKind,
        /// Simulator scenario. The first process on a database creates the
        /// simulated world with it (or with the built-in scenario if none is
        /// given); later processes run the stored scenario, and one given a
        /// different --scenario is refused. Use a new --db file to change it.
        #[arg(long)]
        scenario: Option<PathBuf>,
        #[command(flatten)]
        backend: BackendArgs,
        #[command(flatten)]
        triggers: TriggerArgs,
        /// How long a received message stays hidden from other workers; it
        /// is extended while its step runs, so this bounds how soon the
        /// message of a crashed worker is taken again (default: 30 s, on
        /// AWS 60 s).
        #[arg(long, env = "RIPCORD_VISIBILITY_TIMEOUT", value_parser = humantime::parse_duration)]
        visibility_timeout: Option<std::time::Duration>,
        /// Longest wait of one receive when the queue is empty (default: 1 s,
        /// on AWS 20 s: SQS long polling).
        #[arg(long, env = "RIPCORD_RECEIVE_WAIT", value_parser = humantime::parse_duration)]
        receive_wait: Option<std::time::Duration>,
        /// The longest one step may run before it is given up as if the
        /// worker had crashed, so its message goes to another worker
        /// (default: 5 min).
        #[arg(long, env = "RIPCORD_STEP_TIMEOUT", value_parser = humantime::parse_duration)]
        step_timeout: Option<std::time::Duration>,
        /// Metrics worker: how often it sweeps for records whose next
        /// message (a wave's poll, StartWave, capacity tick or launch
        /// check, a WaveFinished, the pre-flight or claim tick) is overdue
        /// past its bound and re-arms them (default: 60 s; 0 turns it off).
        #[arg(long, env = "RIPCORD_SWEEP_EVERY", value_parser = humantime::parse_duration)]
        sweep_every: Option<std::time::Duration>,
        /// Serve this process' worker metrics (step latencies, outcomes,
        /// retries, polls) in the Prometheus format at http://ADDR/metrics.
        #[arg(long, env = "RIPCORD_METRICS_ADDR")]
        metrics_addr: Option<std::net::SocketAddr>,
        /// Metrics worker: also write each execution's drill report (<id>.md,
        /// .svg, .html, .json) into this directory when it settles.
        #[arg(long, env = "RIPCORD_REPORT_DIR")]
        report_dir: Option<PathBuf>,
        /// Touch this file each time the worker polls its queue (with its
        /// heartbeat), for `ripcord healthcheck` in a container.
        #[arg(long, env = "RIPCORD_LIVENESS_FILE")]
        liveness_file: Option<PathBuf>,
        /// Fault injection, for chaos tests only (never in a deployment):
        /// answer this share (0.0 to 1.0) of the store's conditional saves
        /// with a version conflict, without writing, as if another worker
        /// had saved the record first. Default 0: off.
        #[arg(long, env = "RIPCORD_FAULT_STORE_CONFLICTS", value_parser = crate::fault_injection::parse_fraction, hide_short_help = true)]
        fault_store_conflicts: Option<f64>,
    },
    /// Exit 0 if the worker's liveness file was touched within --max-age,
    /// else 1 with why: a container health check (the image has no shell).
    Healthcheck {
        #[arg(long, env = "RIPCORD_LIVENESS_FILE")]
        liveness_file: PathBuf,
        #[arg(long, default_value = "6m", value_parser = humantime::parse_duration)]
        max_age: std::time::Duration,
    },
    /// Serve the executions over HTTP until Ctrl-C: the dashboard at `/`,
    /// the API under `/api` (its OpenAPI document at /api/openapi.json),
    /// live status as Server-Sent Events, `/healthz` and Prometheus
    /// `/metrics`. Prints `listening on http://HOST:PORT` first.
    ///
    /// Writes (start, cancel, approve) need `Authorization: Bearer <token>`
    /// with the token in RIPCORD_API_TOKEN; without it the server takes no
    /// writes. Reads are open unless --protect-reads.
    Serve {
        /// The port to listen on (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The address to listen on (0.0.0.0 for every interface).
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[command(flatten)]
        backend: BackendArgs,
        /// Embedded only: also run the four workers in this process on the
        /// file's simulated world (a whole local deployment in one command).
        #[arg(long)]
        workers: bool,
        /// With --workers: the simulator scenario (as for `ripcord worker`).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Reads need the token too (bearer header, or the `ripcord_token`
        /// cookie the dashboard sets). /healthz and /metrics stay open.
        #[arg(long, env = "RIPCORD_API_PROTECT_READS")]
        protect_reads: bool,
        /// /healthz: a worker kind whose last poll is older is unhealthy.
        #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
        poll_age: std::time::Duration,
        /// /healthz: an active execution with nothing decided for this long
        /// is stuck.
        #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
        stuck_after: std::time::Duration,
        /// Publish the health gauges the alarms watch (StuckExecutions,
        /// WorkerPollAge, LongestCapacityWait) this often; 0 disables.
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        health_metrics_every: std::time::Duration,
    },
    /// Measure the engine on this machine and print the figures: events/s,
    /// wall time of a large plan, wave-boundary delays, DRS describe calls
    /// per launched server.
    Bench(BenchArgs),
    /// Dead-letter queues: list what failed and why, replay it.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Runbook triggers received (EventBridge "Ripcord Start Execution"),
    /// newest first: what each started or why it was refused.
    Triggers {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// AWS resources: `ripcord aws bootstrap` creates the queues, DLQs,
    /// table, event bus and rules a deployment needs (idempotent).
    Aws {
        #[command(subcommand)]
        command: AwsCommand,
    },
    /// The simulated world stored in a database (shared by `ripcord worker`
    /// processes).
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

/// How the launch worker judges runbook triggers.
#[derive(Debug, Clone, clap::Args)]
pub struct TriggerArgs {
    /// Directory of the plans triggers may name (`<dir>/<plan>.yaml`).
    #[arg(long, env = "RIPCORD_PLANS_DIR")]
    pub plans_dir: Option<PathBuf>,
    /// EventBridge sources allowed to start executions (comma-separated).
    /// None by default: every trigger is refused until this is set.
    #[arg(long, env = "RIPCORD_TRIGGER_SOURCES", value_delimiter = ',')]
    pub trigger_sources: Vec<String>,
    /// Accounts allowed to send triggers (comma-separated; empty: any).
    #[arg(long, env = "RIPCORD_TRIGGER_ACCOUNTS", value_delimiter = ',')]
    pub trigger_accounts: Vec<String>,
}

impl TriggerArgs {
    pub fn settings(&self) -> crate::inbound::TriggerSettings {
        crate::inbound::TriggerSettings {
            policy: ripcord::trigger::TriggerPolicy {
                sources: self.trigger_sources.clone(),
                accounts: self.trigger_accounts.clone(),
            },
            plans_dir: self.plans_dir.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AwsCommand {
    /// Create (or check) the resources of one deployment: 4 queues with
    /// their DLQs, the DynamoDB table, the event bus and the EventBridge
    /// rules for runbook triggers and DRS launch results.
    Bootstrap {
        #[command(flatten)]
        aws: crate::backend::AwsArgs,
        /// Receives before SQS moves a message to its DLQ.
        #[arg(long, default_value_t = 5)]
        max_receive_count: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the simulator over HTTP in DRS' and SSM's real wire protocols,
    /// so the AWS SDKs (and boto3) talk to it unchanged: point them at
    /// http://HOST:PORT (e.g. AWS_ENDPOINT_URL_DRS and AWS_ENDPOINT_URL_SSM),
    /// with any credentials. Runs until Ctrl-C.
    ///
    /// DRS (restJson1): StartRecovery, DescribeJobs, DescribeJobLogItems,
    /// DescribeRecoveryInstances, DescribeSourceServers,
    /// DescribeRecoverySnapshots, TerminateRecoveryInstances. SSM (awsJson1_1): SendCommand,
    /// ListCommandInvocations, GetCommandInvocation, ListCommands,
    /// DescribeInstanceInformation. Lists are paginated (--page-size).
    ///
    /// Without --scenario the default inventory is served: twelve source
    /// servers that all launch fine and no others, s-aaaa0000000000001 to
    /// s-aaaa0000000000012 (hostnames web-01..web-04, app-01..app-04, db-01,
    /// db-02, cache-01, queue-01).
    ///
    /// Test API: POST /sim-api/reset (body: a scenario in YAML or JSON, or
    /// empty for the one the server started with) starts a fresh simulated
    /// world; GET /sim-api/calls shows the calls made, faults injected and
    /// every StartRecovery call.
    Serve {
        /// The port to listen on (0: any free port, printed at start).
        #[arg(long)]
        port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Simulator scenario (outcomes, durations, faults).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Simulated seconds per real second (overrides the scenario's time_scale).
        #[arg(long)]
        time_scale: Option<f64>,
        /// Seed of ids, durations and faults (overrides the scenario's seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Real time every DRS, EC2 and SSM call takes, e.g. 200ms, like a
        /// real API's (overrides the scenario's call_latency, also after resets).
        #[arg(long, value_parser = humantime::parse_duration)]
        call_latency: Option<std::time::Duration>,
        /// Items per page when a request sets no maxResults.
        #[arg(long, default_value_t = ripcord_sim_server::DEFAULT_PAGE_SIZE)]
        page_size: usize,
        /// An EC2 endpoint (moto) where every launched recovery instance
        /// also runs, so that the instance ids DRS and SSM report exist in EC2.
        #[arg(long)]
        ec2_endpoint: Option<String>,
        /// An EventBridge endpoint (moto) where each launch result is
        /// published on the default bus as DRS' "DRS Source Server Launch
        /// Result" event.
        #[arg(long)]
        events_endpoint: Option<String>,
    },
    /// Calls made to the simulator: counts per operation, faults injected,
    /// launch results pushed, and every StartRecovery call with its outcome.
    Calls {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WorkerKind {
    Launch,
    Poll,
    PostActions,
    Metrics,
}

impl WorkerKind {
    pub fn queue(self) -> ripcord::ports::QueueName {
        use ripcord::ports::QueueName;
        match self {
            WorkerKind::Launch => QueueName::Launch,
            WorkerKind::Poll => QueueName::Poll,
            WorkerKind::PostActions => QueueName::PostActions,
            WorkerKind::Metrics => QueueName::Metrics,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// The dead messages of a queue's DLQ, with reasons and receive counts.
    List {
        #[arg(value_enum)]
        queue: WorkerKind,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// One dead message in full (its body pretty-printed).
    Show {
        #[arg(value_enum)]
        queue: WorkerKind,
        id: String,
        #[command(flatten)]
        backend: BackendArgs,
    },
    /// Move dead messages back to their queue (receive from the DLQ, send
    /// to the queue, then delete): replaying an event that was already
    /// processed changes nothing.
    Replay {
        #[arg(value_enum)]
        queue: WorkerKind,
        /// One message by id.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        id: Option<String>,
        /// Every dead message of the queue.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        backend: BackendArgs,
    },
}

/// What `ripcord bench` measures.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub mode: Option<BenchMode>,
    #[arg(long, default_value_t = 4000)]
    pub servers: usize,
    #[arg(long, default_value_t = 40)]
    pub waves: usize,
    /// Wave boundaries to measure (at least 20 for a p99).
    #[arg(long, default_value_t = 20)]
    pub boundaries: usize,
    /// Skip the polling-only boundary run (it takes about a minute).
    #[arg(long)]
    pub skip_poll: bool,
    /// Simulated seconds per real second for the describe-call runs
    /// (simulated launches take 2–5 minutes).
    #[arg(long, default_value_t = 200.0)]
    pub time_scale: f64,
    /// Run only the describe-call figures ([5] and [6]).
    #[arg(long)]
    pub describes_only: bool,
}

/// `ripcord bench` figures other than the in-process ones.
#[derive(Debug, Subcommand)]
pub enum BenchMode {
    /// Horizontal scaling: the same load run by 1, 2, 4... `ripcord worker`
    /// processes per kind (docs/architecture.md, README "Horizontal scaling").
    Scale(crate::bench_scale::ScaleArgs),
}
