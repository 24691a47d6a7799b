//! The scenario file: how the simulated DRS, EC2 and SSM behave in one run.
//!
//! A scenario is YAML; every field is optional and an empty file means "every
//! server launches, every command succeeds". Unknown fields are errors, reported
//! with `file:line:column`. The same seed gives the same run: launch times,
//! ids, addresses and injected faults all come from one seeded generator.
//!
//! ```yaml
//! seed: 42                  # RNG seed (default 0): same seed, same run
//! time_scale: 60            # simulated seconds per real second, for the CLI's clock (default 60)
//! call_latency: 200ms       # real time every DRS, EC2 and SSM call takes, like a real API's (default 0s)
//! region: us-east-1         # instances get availability zone `<region>a` (default us-east-1)
//! job_pending: 10s          # a new job (and its servers) stays PENDING this long (default 10s)
//! launch_duration: { min: 2m, max: 5m }  # per-server launch time after pending, uniform (default 2m..5m)
//! terminate_duration: 1m    # TerminateRecoveryInstances takes this long after pending (default 1m)
//! push_launch_results: true # push a launch result per server, as DRS does via EventBridge (default true)
//! ssm_agent_delay: 30s      # after launch, the SSM agent comes Online after this (default 30s)
//! status_check_delay: 60s   # EC2 status checks are `initializing` this long after launch (default 60s)
//! command_duration: 5s      # SSM invocations run this long, then finish (default 5s)
//! strict_inventory: false   # true: only servers listed under `servers` exist (default false)
//! snapshots:                # DRS point-in-time snapshots of every server
//!   every: 10m              # one snapshot every this long (default 10m)
//!   newest_age: 2m          # the newest is this old when the simulator starts (default 2m)
//!   retention: 1d           # older ones are gone (default 1d; at most 10,000 per server)
//! quotas:                   # DRS service quotas, answered with ServiceQuotaExceededException
//!   servers_per_job: 100           # (default 100; the API itself allows 1-200)
//!   concurrent_jobs: 20            # jobs PENDING or STARTED at once (default 20)
//!   servers_in_active_jobs: 500    # servers in all active jobs together (default 500)
//! faults:
//!   throttling_rate: 0.05   # fraction of calls answered ThrottlingException (429) (default 0)
//!   server_error_rate: 0.01 # fraction answered InternalServerException (500) (default 0)
//!   retry_after: 1s         # the Retry-After a throttled call carries (default 1s)
//!   operations: [StartRecovery, DescribeJobs]  # which operations may fault (default all)
//!   ambiguous_start: false  # a StartRecovery answered 500 creates its job anyway (default false)
//!   drop_launch_results: 0.0 # fraction of pushed launch results lost on the way (default 0): only polling finds those
//!   from: 0s                # fault window, simulated time since the simulator started
//!   until: 10m              # (default: always)
//! servers:                  # per-server behaviour; unlisted servers use `default`
//!   default: { outcome: launched }
//!   s-1234567890abcdef0: { outcome: launch_failed, event: CONVERSION_FAIL, error: "Failed to convert boot volume" }
//!   s-1234567890abcdef1: { outcome: stuck }         # stays IN_PROGRESS; its job never completes
//!   s-1234567890abcdef2: { outcome: launched, launch_duration: 20m, instance_type: m5.large, status_checks: impaired, ssm_agent: never }
//!   s-1234567890abcdef3: { outcome: not_launched }  # its job ends COMPLETED while it is still PENDING
//!   s-1234567890abcdef4: { replication: STALLED, hostname: db-1, public_ip: true }
//!   s-1234567890abcdef5: { tags: { app: billing, tier: db }, replication_lag: 5m30s }
//!   s-1234567890abcdef6: { newest_snapshot_age: 3h, replication: STALLED }  # stale: no snapshot for 3h
//!   s-1234567890abcdef7: { snapshots: none, leftover_recovery_instance: true }
//! commands:                 # SSM outcomes, first matching rule wins; default Success, exit 0, output "ok"
//!   - { server: s-1234567890abcdef0, document: AWS-RunShellScript, contains: "pg_isready", status: Failed, exit_code: 2, output: "no response" }
//!   - { document: Restart-App, status: TimedOut }
//!   - { contains: "curl", duration: 10m }   # takes long: lets action timeouts fire
//! ```
//!
//! Server fields: `outcome` (`launched`, `launch_failed`, `stuck`, `not_launched`),
//! `event` (the job-log failure event: `LAUNCH_FAILED`, `CONVERSION_FAIL`,
//! `SNAPSHOT_FAIL`), `error` (its rawError), `launch_duration` (fixed, instead of
//! the range), `instance_type` (default t3.medium), `status_checks` (`ok`,
//! `impaired`), `ssm_agent` (`online`, `never`), `replication` (a DRS
//! dataReplicationState, default CONTINUOUS), `hostname`, `public_ip`, `tags`
//! (DescribeSourceServers' tags, default none), `replication_lag` (reported as
//! `lagDuration`, e.g. `PT5M30S`; unset: `PT0S` while CONTINUOUS, `PT1H`
//! otherwise; a launch from the latest data has its point in time this long
//! before the launch, unset: a seeded 5 s to 5 min), `newest_snapshot_age`
//! (overrides `snapshots.newest_age`), `snapshots` (`taken`, default, or
//! `none`), `leftover_recovery_instance` (`true`: the account starts with a
//! running drill recovery instance of this server, and its EC2 instance, from a
//! launch a day before the simulator started; listed servers only),
//! `leftover_recovery` (the same from a real recovery, not a drill), `times`
//! (`outcome` holds for the server's first `times` launches, later ones
//! launch: a failure a retry gets past; default every launch). A listed
//! server takes every field it does not set from `default`.
//!
//! Snapshots: server by server, the expected times are the newest's (its age
//! back from the simulator's start) plus or minus whole `every`s, kept for
//! `retention` back from now; each is taken (`timestamp`) a seeded 1-20 s
//! after its expected time. A CONTINUOUS server keeps taking them as simulated
//! time goes on; any other replication state took its last one at the newest
//! age, so `{ replication: STALLED, newest_snapshot_age: 3h }` is a stale
//! server. Snapshot ids (`pit-` and 17 hex digits) follow from the seed, the
//! server and the expected time. StartRecovery's `recoverySnapshotID` must be
//! a snapshot the server holds at that moment (ValidationException
//! otherwise); the recovery instance's `pointInTimeSnapshotDateTime` is that
//! snapshot's `timestamp`.
//!
//! Command rule fields: matchers `server` (source server id or EC2 instance id),
//! `document` (exact name), `contains` (a substring of any parameter value);
//! results `status` (`Success`, `Failed`, `TimedOut`, `Cancelled`), `exit_code`,
//! `output`, `error`, `duration`. An invocation that would outlast the
//! command's own timeout ends TimedOut when the timeout runs out, as SSM does.
//!
//! Operation names for `faults.operations`: StartRecovery, DescribeJobs (also
//! used to find jobs by tag), DescribeJobLogItems, DescribeRecoveryInstances,
//! DescribeSourceServers, DescribeRecoverySnapshots,
//! TerminateRecoveryInstances, DescribeInstances,
//! DescribeInstanceStatus, SendCommand, ListCommandInvocations, ListCommands,
//! DescribeInstanceInformation.

mod behaviour;

pub use behaviour::{
    AgentBehaviour, CommandRule, CommandStatus, FailureEvent, LaunchOutcome, ReplicationState,
    ServerEntry, ServerSpec, Servers, SnapshotsMode, StatusChecks,
};
use ripcord::ids::SourceServerId;
use ripcord::reason::readable;
use serde::de;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// Why a scenario file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(
        "{file}:{line}:{column}: {message}\n  fix this line of the scenario file (its fields are described in the `ripcord_sim::scenario` docs)"
    )]
    Invalid {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("cannot read the scenario file {file}: {source}; check the path and its permissions")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

/// The whole scenario file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    pub seed: u64,
    #[serde(deserialize_with = "positive_scale")]
    pub time_scale: f64,
    /// Real time (not scaled) every call waits before it reaches the world.
    #[serde(with = "humantime_serde")]
    pub call_latency: Duration,
    pub region: String,
    #[serde(with = "humantime_serde")]
    pub job_pending: Duration,
    pub launch_duration: DurationRange,
    #[serde(with = "humantime_serde")]
    pub terminate_duration: Duration,
    pub push_launch_results: bool,
    #[serde(with = "humantime_serde")]
    pub ssm_agent_delay: Duration,
    #[serde(with = "humantime_serde")]
    pub status_check_delay: Duration,
    #[serde(with = "humantime_serde")]
    pub command_duration: Duration,
    pub strict_inventory: bool,
    pub snapshots: SnapshotSchedule,
    pub quotas: Quotas,
    pub faults: Faults,
    pub servers: Servers,
    pub commands: Vec<CommandRule>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            seed: 0,
            time_scale: 60.0,
            call_latency: Duration::ZERO,
            region: "us-east-1".to_owned(),
            job_pending: Duration::from_secs(10),
            launch_duration: DurationRange {
                min: Duration::from_secs(120),
                max: Duration::from_secs(300),
            },
            terminate_duration: Duration::from_secs(60),
            push_launch_results: true,
            ssm_agent_delay: Duration::from_secs(30),
            status_check_delay: Duration::from_secs(60),
            command_duration: Duration::from_secs(5),
            strict_inventory: false,
            snapshots: SnapshotSchedule::default(),
            quotas: Quotas::default(),
            faults: Faults::default(),
            servers: Servers::default(),
            commands: Vec::new(),
        }
    }
}

impl Scenario {
    /// The behaviour of one server: its own entry over `default`.
    pub fn server(&self, id: &SourceServerId) -> ServerSpec {
        let base = &self.servers.default;
        match self.servers.by_id.get(id) {
            Some(own) => own.over(base),
            None => base.clone(),
        }
    }

    /// Whether the server exists in this scenario's DRS account.
    pub fn knows_server(&self, id: &SourceServerId) -> bool {
        !self.strict_inventory || self.servers.by_id.contains_key(id)
    }

    /// The server's hostname: its own, or `host-` and the id's last 6 digits.
    pub fn hostname(&self, id: &SourceServerId) -> String {
        self.server(id)
            .hostname
            .unwrap_or_else(|| format!("host-{}", &id.as_str()[13..]))
    }
}

/// `snapshots:`: when DRS takes each server's point-in-time snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSnapshotSchedule")]
pub struct SnapshotSchedule {
    #[serde(with = "humantime_serde")]
    pub every: Duration,
    #[serde(with = "humantime_serde")]
    pub newest_age: Duration,
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
}

impl Default for SnapshotSchedule {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(600),
            newest_age: Duration::from_secs(120),
            retention: Duration::from_secs(86_400),
        }
    }
}

/// The most snapshots one server holds (retention / every), so that
/// listing them stays cheap.
pub const MAX_SNAPSHOTS_PER_SERVER: u128 = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSnapshotSchedule {
    #[serde(with = "humantime_serde")]
    every: Duration,
    #[serde(with = "humantime_serde")]
    newest_age: Duration,
    #[serde(with = "humantime_serde")]
    retention: Duration,
}

impl Default for RawSnapshotSchedule {
    fn default() -> Self {
        let d = SnapshotSchedule::default();
        Self {
            every: d.every,
            newest_age: d.newest_age,
            retention: d.retention,
        }
    }
}

impl TryFrom<RawSnapshotSchedule> for SnapshotSchedule {
    type Error = String;
    fn try_from(r: RawSnapshotSchedule) -> Result<Self, String> {
        if r.every < Duration::from_secs(1) {
            return Err("snapshots.every must be at least 1s, e.g. 10m".to_owned());
        }
        if r.retention.as_millis() / r.every.as_millis() > MAX_SNAPSHOTS_PER_SERVER {
            return Err(format!(
                "snapshots.retention ({}) over snapshots.every ({}) keeps more than {MAX_SNAPSHOTS_PER_SERVER} snapshots per server; shorten retention or take them less often",
                humantime::format_duration(r.retention),
                humantime::format_duration(r.every)
            ));
        }
        Ok(Self {
            every: r.every,
            newest_age: r.newest_age,
            retention: r.retention,
        })
    }
}

/// A uniform range of durations, `{ min: 2m, max: 5m }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRange")]
pub struct DurationRange {
    #[serde(with = "humantime_serde")]
    pub min: Duration,
    #[serde(with = "humantime_serde")]
    pub max: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    #[serde(with = "humantime_serde")]
    min: Duration,
    #[serde(with = "humantime_serde")]
    max: Duration,
}

impl TryFrom<RawRange> for DurationRange {
    type Error = String;
    fn try_from(r: RawRange) -> Result<Self, String> {
        if r.min > r.max {
            return Err(format!(
                "min ({}) is longer than max ({}); swap them",
                humantime::format_duration(r.min),
                humantime::format_duration(r.max)
            ));
        }
        Ok(Self {
            min: r.min,
            max: r.max,
        })
    }
}

fn positive_scale<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let scale = f64::deserialize(deserializer)?;
    if scale.is_finite() && scale > 0.0 {
        Ok(scale)
    } else {
        Err(de::Error::custom(format!(
            "time_scale {scale} must be a positive number of simulated seconds per real second, e.g. 60"
        )))
    }
}

/// A fraction of calls, 0.0 to 1.0.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64")]
pub struct Fraction(pub f64);

impl TryFrom<f64> for Fraction {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!(
                "{v} is not a fraction of calls; use a number from 0.0 to 1.0"
            ))
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    pub servers_per_job: usize,
    pub concurrent_jobs: usize,
    pub servers_in_active_jobs: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            servers_per_job: 100,
            concurrent_jobs: 20,
            servers_in_active_jobs: 500,
        }
    }
}

impl From<Quotas> for ripcord::capacity::Quotas {
    fn from(q: Quotas) -> Self {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            concurrent_jobs: narrow(q.concurrent_jobs),
            servers_in_active_jobs: narrow(q.servers_in_active_jobs),
            servers_per_job: narrow(q.servers_per_job),
        }
    }
}

/// The simulated operations, by their AWS names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Operation {
    StartRecovery,
    DescribeJobs,
    DescribeJobLogItems,
    DescribeRecoveryInstances,
    DescribeSourceServers,
    DescribeRecoverySnapshots,
    TerminateRecoveryInstances,
    DescribeInstances,
    DescribeInstanceStatus,
    SendCommand,
    ListCommandInvocations,
    ListCommands,
    DescribeInstanceInformation,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartRecovery => "StartRecovery",
            Self::DescribeJobs => "DescribeJobs",
            Self::DescribeJobLogItems => "DescribeJobLogItems",
            Self::DescribeRecoveryInstances => "DescribeRecoveryInstances",
            Self::DescribeSourceServers => "DescribeSourceServers",
            Self::DescribeRecoverySnapshots => "DescribeRecoverySnapshots",
            Self::TerminateRecoveryInstances => "TerminateRecoveryInstances",
            Self::DescribeInstances => "DescribeInstances",
            Self::DescribeInstanceStatus => "DescribeInstanceStatus",
            Self::SendCommand => "SendCommand",
            Self::ListCommandInvocations => "ListCommandInvocations",
            Self::ListCommands => "ListCommands",
            Self::DescribeInstanceInformation => "DescribeInstanceInformation",
        }
    }

    /// The service name errors carry: `drs`, `ec2` or `ssm`.
    pub fn service(self) -> &'static str {
        match self {
            Self::StartRecovery
            | Self::DescribeJobs
            | Self::DescribeJobLogItems
            | Self::DescribeRecoveryInstances
            | Self::DescribeSourceServers
            | Self::DescribeRecoverySnapshots
            | Self::TerminateRecoveryInstances => "drs",
            Self::DescribeInstances | Self::DescribeInstanceStatus => "ec2",
            Self::SendCommand
            | Self::ListCommandInvocations
            | Self::ListCommands
            | Self::DescribeInstanceInformation => "ssm",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error injection: a seeded share of calls fails, within a time window.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    pub throttling_rate: Fraction,
    pub server_error_rate: Fraction,
    #[serde(with = "humantime_serde")]
    pub retry_after: Duration,
    /// None: every operation may fault.
    pub operations: Option<Vec<Operation>>,
    pub ambiguous_start: bool,
    /// The share of pushed launch results that never arrive (an EventBridge
    /// rule or target that loses them); not bound to `operations` or the window.
    pub drop_launch_results: Fraction,
    #[serde(with = "humantime_serde")]
    pub from: Option<Duration>,
    #[serde(with = "humantime_serde")]
    pub until: Option<Duration>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            throttling_rate: Fraction(0.0),
            server_error_rate: Fraction(0.0),
            retry_after: Duration::from_secs(1),
            operations: None,
            ambiguous_start: false,
            drop_launch_results: Fraction(0.0),
            from: None,
            until: None,
        }
    }
}

/// Parses a scenario from YAML text; `file` names it in errors.
pub fn parse_scenario(source: &str, file: &str) -> Result<Scenario, ScenarioError> {
    // A file of comments only is a valid "all defaults" scenario.
    let has_content = source
        .lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with('#') && l != "---");
    if !has_content {
        return Ok(Scenario::default());
    }
    serde_saphyr::from_str::<Scenario>(source).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        ScenarioError::Invalid {
            file: readable(file, 256),
            line,
            column,
            // A scenario may hold anything: what the message quotes of it
            // is kept short and printable.
            message: readable(
                &plain_message(&e.without_snippet().to_string(), line, column),
                1024,
            ),
        }
    })
}

/// The parser's message without the position it appends (it is already in
/// front), with an example where the parser only names the expected type.
fn plain_message(message: &str, line: u64, column: u64) -> String {
    let suffix = format!(" at line {line}, column {column}");
    let message = message.strip_suffix(&suffix).unwrap_or(message);
    if message.ends_with("expected a duration") {
        format!("{message} such as 10s, 2m or 1h30m")
    } else {
        message.to_owned()
    }
}

/// Reads and parses a scenario file.
pub fn load_scenario(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        file: file.clone(),
        source,
    })?;
    parse_scenario(&text, &file)
}

/// A scenario together with the text it was parsed from, so that it can be
/// stored with a shared simulated world and parsed again by every process
/// that opens that world.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioSource {
    /// Where the text came from (a path), for messages.
    pub file: String,
    pub text: String,
    pub scenario: Scenario,
}

impl ScenarioSource {
    /// The name of the built-in scenario (no `--scenario`).
    pub const DEFAULT_NAME: &'static str = "the default scenario";

    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            file: file.clone(),
            source,
        })?;
        Self::parse(text, file)
    }

    /// Parses scenario text; `file` names it in errors.
    pub fn parse(text: String, file: String) -> Result<Self, ScenarioError> {
        let scenario = parse_scenario(&text, &file)?;
        Ok(Self {
            file,
            text,
            scenario,
        })
    }

    /// The built-in scenario: every server launches, every command succeeds.
    pub fn builtin() -> Self {
        Self {
            file: Self::DEFAULT_NAME.to_owned(),
            text: String::new(),
            scenario: Scenario::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
seed: 42
time_scale: 120
region: eu-west-1
job_pending: 10s
launch_duration: { min: 2m, max: 5m }
terminate_duration: 90s
push_launch_results: true
ssm_agent_delay: 30s
status_check_delay: 60s
command_duration: 5s
strict_inventory: true
snapshots: { every: 5m, newest_age: 1m, retention: 12h }
quotas: { servers_per_job: 50 }
faults:
  throttling_rate: 0.1
  server_error_rate: 0.05
  operations: [StartRecovery, DescribeJobs]
  ambiguous_start: true
  drop_launch_results: 0.25
  from: 0s
  until: 10m
servers:
  default: { outcome: launched, instance_type: t3.large }
  s-1234567890abcdef0: { outcome: launch_failed, event: CONVERSION_FAIL, error: "Failed to convert boot volume" }
  s-1234567890abcdef1: { outcome: stuck }
  s-1234567890abcdef2: { outcome: launched, launch_duration: 20m, instance_type: m5.large, status_checks: impaired, ssm_agent: never }
  s-1234567890abcdef3: { outcome: not_launched, replication: STALLED }
  s-1234567890abcdef4: { tags: { app: billing, tier: db }, replication_lag: 5m30s, newest_snapshot_age: 3h, leftover_recovery_instance: true }
  s-1234567890abcdef5: { snapshots: none }
commands:
  - { server: s-1234567890abcdef0, document: AWS-RunShellScript, contains: "pg_isready", status: Failed, exit_code: 2, output: "no response" }
  - { document: Restart-App, status: TimedOut }
  - { contains: "curl", duration: 10m }
"#;

    fn id(s: &str) -> SourceServerId {
        SourceServerId::parse(s).unwrap()
    }

    #[test]
    fn the_full_example_parses() {
        let s = parse_scenario(FULL, "full.yaml").unwrap();
        assert_eq!(s.seed, 42);
        assert_eq!(s.time_scale, 120.0);
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.launch_duration.min, Duration::from_secs(120));
        assert_eq!(s.launch_duration.max, Duration::from_secs(300));
        assert_eq!(s.terminate_duration, Duration::from_secs(90));
        assert!(s.strict_inventory);
        assert_eq!(s.quotas.servers_per_job, 50);
        assert_eq!(
            s.quotas.concurrent_jobs, 20,
            "unset quota keeps its default"
        );
        assert_eq!(s.faults.throttling_rate, Fraction(0.1));
        assert_eq!(
            s.faults.operations,
            Some(vec![Operation::StartRecovery, Operation::DescribeJobs])
        );
        assert_eq!(s.faults.until, Some(Duration::from_secs(600)));
        assert_eq!(s.faults.drop_launch_results, Fraction(0.25));
        let failed = s.server(&id("s-1234567890abcdef0"));
        assert_eq!(failed.outcome, LaunchOutcome::LaunchFailed);
        assert_eq!(failed.event, FailureEvent::ConversionFail);
        assert_eq!(failed.error, "Failed to convert boot volume");
        assert_eq!(failed.instance_type, "t3.large", "taken from default");
        let slow = s.server(&id("s-1234567890abcdef2"));
        assert_eq!(slow.launch_duration, Some(Duration::from_secs(1200)));
        assert_eq!(slow.instance_type, "m5.large");
        assert_eq!(slow.status_checks, StatusChecks::Impaired);
        assert_eq!(slow.ssm_agent, AgentBehaviour::Never);
        assert_eq!(
            s.server(&id("s-1234567890abcdef3")).replication,
            ReplicationState::Stalled
        );
        assert_eq!(
            s.server(&id("s-00000000000000000")).outcome,
            LaunchOutcome::Launched
        );
        assert!(
            !s.knows_server(&id("s-00000000000000000")),
            "strict inventory"
        );
        assert_eq!(
            s.snapshots,
            SnapshotSchedule {
                every: Duration::from_secs(300),
                newest_age: Duration::from_secs(60),
                retention: Duration::from_secs(12 * 3600),
            }
        );
        let tagged = s.server(&id("s-1234567890abcdef4"));
        assert_eq!(tagged.tags.get("app").map(String::as_str), Some("billing"));
        assert_eq!(tagged.replication_lag, Some(Duration::from_secs(330)));
        assert_eq!(
            tagged.newest_snapshot_age,
            Some(Duration::from_secs(3 * 3600))
        );
        assert!(tagged.leftover_recovery_instance);
        assert_eq!(tagged.snapshots, SnapshotsMode::Taken);
        assert_eq!(
            s.server(&id("s-1234567890abcdef5")).snapshots,
            SnapshotsMode::None
        );
        assert!(!failed.leftover_recovery_instance && failed.tags.is_empty());
        assert_eq!(s.commands.len(), 3);
        assert_eq!(s.commands[0].status, Some(CommandStatus::Failed));
        assert_eq!(s.commands[0].exit_code, Some(2));
        assert_eq!(s.commands[2].duration, Some(Duration::from_secs(600)));
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        let s = parse_scenario("# nothing here\n\n", "empty.yaml").unwrap();
        assert_eq!(s, Scenario::default());
        assert_eq!(s.job_pending, Duration::from_secs(10));
        assert!(s.push_launch_results);
    }

    fn invalid(source: &str) -> (u64, u64, String) {
        match parse_scenario(source, "bad.yaml") {
            Err(ScenarioError::Invalid {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected an invalid-scenario error, got {other:?}"),
        }
    }

    #[test]
    fn an_unknown_field_is_reported_at_its_line_and_column() {
        let (line, column, message) = invalid("seed: 1\njob_pendin: 10s\n");
        assert_eq!((line, column), (2, 1), "{message}");
        assert!(message.contains("job_pendin"), "{message}");
        let err = parse_scenario("seed: 1\njob_pendin: 10s\n", "bad.yaml").unwrap_err();
        assert!(
            err.to_string().starts_with("bad.yaml:2:1: unknown field"),
            "{err}"
        );
        assert!(
            !message.contains("at line"),
            "position given once: {message}"
        );
    }

    #[test]
    fn an_unknown_server_field_is_reported_where_it_stands() {
        let (line, _, message) = invalid(
            "servers:\n  default: { outcome: launched }\n  s-1234567890abcdef0:\n    outcom: stuck\n",
        );
        assert_eq!(line, 4, "{message}");
        assert!(message.contains("outcom"), "{message}");
    }

    #[test]
    fn a_bad_server_id_is_reported() {
        let (line, _, message) = invalid("servers:\n  i-1234567890abcdef0: { outcome: stuck }\n");
        assert_eq!(line, 2, "{message}");
        assert!(message.contains("not a DRS source server id"), "{message}");
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        let (line, _, message) = invalid("faults:\n  throttling_rate: 1.5\n");
        assert_eq!(line, 2, "{message}");
        assert!(message.contains("0.0 to 1.0"), "{message}");
        let (_, _, message) = invalid("launch_duration: { min: 5m, max: 2m }\n");
        assert!(message.contains("swap"), "{message}");
        let (_, _, message) = invalid("servers:\n  default: { outcome: exploded }\n");
        assert!(message.contains("exploded"), "{message}");
        let (_, _, message) = invalid("time_scale: 0\n");
        assert!(message.contains("positive"), "{message}");
        let (_, _, message) = invalid("snapshots: { every: 0s }\n");
        assert!(message.contains("at least 1s"), "{message}");
        let (_, _, message) = invalid("snapshots: { every: 1s, retention: 7d }\n");
        assert!(message.contains("shorten retention"), "{message}");
        let (_, _, message) = invalid("servers:\n  default: { snapshots: sometimes }\n");
        assert!(message.contains("sometimes"), "{message}");
        let (_, _, message) = invalid("job_pending: 10 parsecs\n");
        assert!(message.ends_with("such as 10s, 2m or 1h30m"), "{message}");
    }
}
