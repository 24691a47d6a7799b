//! What a scenario says each server and each command does: how a launch
//! ends, status checks, the SSM agent, replication (state, lag, snapshots),
//! its tags, a recovery instance left from an earlier drill, and the rules
//! that decide a command's result.

use ripcord::ids::SourceServerId;
use ripcord::ports::drs::JobLogEvent;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// How a server's launch ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaunchOutcome {
    #[default]
    Launched,
    LaunchFailed,
    /// Stays IN_PROGRESS; its job never completes.
    Stuck,
    /// Stays PENDING while its job ends COMPLETED.
    NotLaunched,
}

/// The job-log event that reports a failed launch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailureEvent {
    #[default]
    LaunchFailed,
    ConversionFail,
    SnapshotFail,
}

impl FailureEvent {
    /// The job-log event DRS writes for this failure.
    pub fn job_log_event(self) -> JobLogEvent {
        match self {
            Self::LaunchFailed => JobLogEvent::LaunchFailed,
            Self::ConversionFail => JobLogEvent::ConversionFail,
            Self::SnapshotFail => JobLogEvent::SnapshotFail,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusChecks {
    #[default]
    Ok,
    Impaired,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentBehaviour {
    #[default]
    Online,
    Never,
}

/// DRS `dataReplicationState`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReplicationState {
    Stopped,
    Initiating,
    InitialSync,
    Backlog,
    CreatingSnapshot,
    #[default]
    Continuous,
    Paused,
    Rescan,
    Stalled,
    Disconnected,
}

impl ReplicationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stopped => "STOPPED",
            Self::Initiating => "INITIATING",
            Self::InitialSync => "INITIAL_SYNC",
            Self::Backlog => "BACKLOG",
            Self::CreatingSnapshot => "CREATING_SNAPSHOT",
            Self::Continuous => "CONTINUOUS",
            Self::Paused => "PAUSED",
            Self::Rescan => "RESCAN",
            Self::Stalled => "STALLED",
            Self::Disconnected => "DISCONNECTED",
        }
    }
}

/// Whether DRS keeps point-in-time snapshots of a server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotsMode {
    /// On the scenario's `snapshots` schedule.
    #[default]
    Taken,
    /// None at all (e.g. its initial sync never finished).
    None,
}

/// One entry under `servers:`; unset fields come from `default`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerEntry {
    pub outcome: Option<LaunchOutcome>,
    pub event: Option<FailureEvent>,
    pub error: Option<String>,
    #[serde(with = "humantime_serde")]
    pub launch_duration: Option<Duration>,
    pub instance_type: Option<String>,
    pub status_checks: Option<StatusChecks>,
    pub ssm_agent: Option<AgentBehaviour>,
    pub replication: Option<ReplicationState>,
    pub hostname: Option<String>,
    pub public_ip: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(with = "humantime_serde")]
    pub replication_lag: Option<Duration>,
    #[serde(with = "humantime_serde")]
    pub newest_snapshot_age: Option<Duration>,
    pub snapshots: Option<SnapshotsMode>,
    pub leftover_recovery_instance: Option<bool>,
    pub times: Option<u32>,
    pub leftover_recovery: Option<bool>,
}

/// A server's behaviour with every field decided. Serialized as part of a
/// stored simulated world (each job keeps the specs of its servers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSpec {
    pub outcome: LaunchOutcome,
    pub event: FailureEvent,
    pub error: String,
    #[serde(with = "humantime_serde")]
    pub launch_duration: Option<Duration>,
    pub instance_type: String,
    pub status_checks: StatusChecks,
    pub ssm_agent: AgentBehaviour,
    pub replication: ReplicationState,
    pub hostname: Option<String>,
    pub public_ip: bool,
    // The fields below came later: a stored world's specs lack them.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The lag DescribeSourceServers reports; `None`: `PT0S` while
    /// CONTINUOUS, `PT1H` otherwise.
    #[serde(default, with = "humantime_serde")]
    pub replication_lag: Option<Duration>,
    /// The age of the newest snapshot when the simulator starts; `None`:
    /// the scenario's `snapshots.newest_age`.
    #[serde(default, with = "humantime_serde")]
    pub newest_snapshot_age: Option<Duration>,
    #[serde(default)]
    pub snapshots: SnapshotsMode,
    #[serde(default)]
    pub leftover_recovery_instance: bool,
    /// `outcome` applies to the server's first `times` launches; later
    /// ones launch (a failure an operator's retry gets past). `None`: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Like `leftover_recovery_instance`, from a real recovery (not a drill).
    #[serde(default)]
    pub leftover_recovery: bool,
}

impl ServerSpec {
    /// The behaviour of the server's launch after `earlier` launches.
    pub fn for_launch(mut self, earlier: usize) -> Self {
        if self.times.is_some_and(|n| earlier >= n as usize) {
            self.outcome = LaunchOutcome::Launched;
        }
        self
    }
}

impl Default for ServerSpec {
    fn default() -> Self {
        Self {
            outcome: LaunchOutcome::Launched,
            event: FailureEvent::LaunchFailed,
            error: "Recovery instance failed to launch".to_owned(),
            launch_duration: None,
            instance_type: "t3.medium".to_owned(),
            status_checks: StatusChecks::Ok,
            ssm_agent: AgentBehaviour::Online,
            replication: ReplicationState::Continuous,
            hostname: None,
            public_ip: false,
            tags: BTreeMap::new(),
            replication_lag: None,
            newest_snapshot_age: None,
            snapshots: SnapshotsMode::Taken,
            leftover_recovery_instance: false,
            times: None,
            leftover_recovery: false,
        }
    }
}

impl ServerEntry {
    pub(super) fn over(&self, base: &ServerSpec) -> ServerSpec {
        ServerSpec {
            outcome: self.outcome.unwrap_or(base.outcome),
            event: self.event.unwrap_or(base.event),
            error: self.error.clone().unwrap_or_else(|| base.error.clone()),
            launch_duration: self.launch_duration.or(base.launch_duration),
            instance_type: self
                .instance_type
                .clone()
                .unwrap_or_else(|| base.instance_type.clone()),
            status_checks: self.status_checks.unwrap_or(base.status_checks),
            ssm_agent: self.ssm_agent.unwrap_or(base.ssm_agent),
            replication: self.replication.unwrap_or(base.replication),
            hostname: self.hostname.clone().or_else(|| base.hostname.clone()),
            public_ip: self.public_ip.unwrap_or(base.public_ip),
            tags: self.tags.clone().unwrap_or_else(|| base.tags.clone()),
            replication_lag: self.replication_lag.or(base.replication_lag),
            newest_snapshot_age: self.newest_snapshot_age.or(base.newest_snapshot_age),
            snapshots: self.snapshots.unwrap_or(base.snapshots),
            leftover_recovery_instance: self
                .leftover_recovery_instance
                .unwrap_or(base.leftover_recovery_instance),
            times: self.times.or(base.times),
            leftover_recovery: self.leftover_recovery.unwrap_or(base.leftover_recovery),
        }
    }
}

/// `servers:`: a `default` entry plus entries keyed by source server id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Servers {
    pub default: ServerSpec,
    pub by_id: BTreeMap<SourceServerId, ServerEntry>,
}

// Written by hand so that each key is checked where it stands (a bad id is
// reported at its own line) while the entries keep their own line numbers.
impl<'de> Deserialize<'de> for Servers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ServersVisitor;
        impl<'de> Visitor<'de> for ServersVisitor {
            type Value = Servers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of `default` and source server ids to server behaviour")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Servers, A::Error> {
                let mut servers = Servers::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "default" {
                        let entry: ServerEntry = map.next_value()?;
                        servers.default = entry.over(&ServerSpec::default());
                    } else {
                        let id = SourceServerId::parse(&key).map_err(|e| {
                            de::Error::custom(format!("{e}, or `default` for unlisted servers"))
                        })?;
                        let entry: ServerEntry = map.next_value()?;
                        if servers.by_id.insert(id, entry).is_some() {
                            return Err(de::Error::custom(format!(
                                "server {key} is listed twice; keep one entry"
                            )));
                        }
                    }
                }
                Ok(servers)
            }
        }
        deserializer.deserialize_map(ServersVisitor)
    }
}

/// How an SSM invocation ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandStatus {
    #[default]
    Success,
    Failed,
    TimedOut,
    Cancelled,
}

/// One rule under `commands:`; the first rule whose matchers all hold wins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommandRule {
    /// A source server id or an EC2 instance id.
    pub server: Option<String>,
    pub document: Option<String>,
    /// A substring of any parameter value (e.g. the shell commands).
    pub contains: Option<String>,
    pub status: Option<CommandStatus>,
    pub exit_code: Option<i32>,
    pub output: Option<String>,
    pub error: Option<String>,
    #[serde(with = "humantime_serde")]
    pub duration: Option<Duration>,
}
