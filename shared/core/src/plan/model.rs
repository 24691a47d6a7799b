//! The validated recovery plan: what `ripcord validate` accepts and what an
//! execution runs. Produced only by [`super::parse_plan`], so every value here
//! has passed validation (ids well formed, waves a DAG, no server twice).

use crate::ids::{SourceServerId, WaveNumber};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// DRS' quota of servers in one StartRecovery job.
pub const MAX_SERVERS_PER_WAVE: usize = 100;

/// The most waves one plan may have, after splitting: an execution and its
/// waves are created in one DynamoDB transaction of at most 100 items
/// (docs/aws-facts.md, DynamoDB), so both backends accept the same plans.
pub const MAX_WAVES_PER_PLAN: usize = 99;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `isDrill: true`: instances are launched beside production for a rehearsal.
    Drill,
    /// A real failover. Never starts without an explicit confirmation.
    Recovery,
}

impl Mode {
    pub fn is_drill(self) -> bool {
        matches!(self, Mode::Drill)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub mode: Mode,
    pub region: String,
    pub waves: Vec<WavePlan>,
    pub options: PlanOptions,
}

impl Plan {
    pub fn wave(&self, n: WaveNumber) -> Option<&WavePlan> {
        self.waves.get(n.index())
    }
    pub fn server_count(&self) -> usize {
        self.waves.iter().map(|w| w.servers.len()).sum()
    }
    /// Whether submitting the plan needs DRS first: a wave selects servers
    /// by tags, or launches from a snapshot before a time.
    pub fn needs_resolution(&self) -> bool {
        self.waves.iter().any(|w| {
            w.select.as_ref().is_some_and(|s| s.resolved.is_none())
                || (matches!(w.recovery_snapshot, Some(SnapshotChoice::Before { .. }))
                    && w.servers.iter().any(|s| s.recovery_snapshot.is_none()))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WavePlan {
    pub number: WaveNumber,
    pub name: String,
    pub servers: Vec<ServerPlan>,
    /// Waves that must be COMPLETED before this one starts. Resolved from the
    /// plan's `depends_on` (names), defaulting to the previous wave.
    pub depends_on: Vec<WaveNumber>,
    pub post_launch: Vec<ActionPlan>,
    pub health_checks: Vec<HealthCheck>,
    #[serde(with = "humantime_serde")]
    pub launch_timeout: Duration,
    /// How long all health checks of a server may take before it is TIMEOUT.
    #[serde(with = "humantime_serde")]
    pub health_timeout: Duration,
    /// When true the wave waits, PENDING, for `ripcord approve` before launch.
    pub wait_for_approval: bool,
    /// `select: { tags: ... }`: DRS source servers this wave takes by their
    /// tags, resolved once when the execution is submitted (`ripcord::selection`)
    /// into `servers`; kept so that pre-flight and the records can say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<TagSelector>,
    /// Which point-in-time snapshot the wave's servers launch from: the
    /// wave's `recovery_snapshot`, else the plan's `options.recovery_snapshot`;
    /// unset: the latest data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_snapshot: Option<SnapshotChoice>,
}

/// A wave's `select: { tags: {k: v, ...} }`: every DRS source server whose
/// tags include all of these. Where it was written stays with it, so that
/// resolving it (at submission, against DRS) can point at it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagSelector {
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub line: u64,
    #[serde(default)]
    pub column: u64,
    /// How many servers it selected, once resolved (`None` before): a
    /// resolved plan is not resolved again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<usize>,
}

impl TagSelector {
    /// `{app: payments, tier: db}`, as the plan writes it.
    pub fn describe(&self) -> String {
        let pairs: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{{{}}}", pairs.join(", "))
    }

    /// Whether a server with `tags` is selected: it carries every one.
    pub fn matches(&self, tags: &BTreeMap<String, String>) -> bool {
        self.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
    }
}

/// `recovery_snapshot: latest | { before: <RFC 3339 time> }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SnapshotChoice {
    /// DRS' default: each server launches from its latest data.
    Latest,
    /// Each server launches from its newest snapshot taken at or before
    /// `before`, chosen at submission; `line` and `column` say where the
    /// choice was written.
    Before {
        before: Timestamp,
        #[serde(default)]
        line: u64,
        #[serde(default)]
        column: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerPlan {
    pub id: SourceServerId,
    pub hostname: Option<String>,
    /// An optional server (`critical: false`) may fail without failing its wave.
    pub critical: bool,
    /// The point-in-time snapshot chosen for it at submission (its wave's
    /// `recovery_snapshot: { before }`): StartRecovery's `recoverySnapshotID`.
    /// Kept in the records, so a retried launch uses the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_snapshot: Option<ChosenSnapshot>,
}

/// A DRS point-in-time snapshot chosen for one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenSnapshot {
    /// `pit-` and 17 letters or digits.
    pub id: String,
    /// The point in time it holds.
    pub taken_at: Timestamp,
}

/// An SSM document run on every launched server of a wave after launch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionPlan {
    pub name: String,
    pub document: String,
    pub parameters: BTreeMap<String, Vec<String>>,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

/// A gate a launched server must pass before its wave is COMPLETED.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HealthCheck {
    /// EC2 DescribeInstanceStatus: instance and system status `ok`.
    Ec2StatusOk,
    /// SSM DescribeInstanceInformation: PingStatus `Online`.
    SsmAgentOnline,
    /// AWS-RunShellScript with this command must exit 0.
    Command { command: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanOptions {
    pub poll_intervals: PollIntervals,
    pub retry: RetryPolicy,
    #[serde(with = "humantime_serde")]
    pub execution_timeout: Duration,
    /// The recovery time objective: how soon after the start every wave
    /// should be done. The drill report measures RTO against it.
    #[serde(
        default,
        with = "humantime_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub rto_target: Option<Duration>,
    /// What a start does when another active execution holds one of its
    /// servers (docs/capacity.md).
    #[serde(default)]
    pub busy_servers: BusyServers,
    /// What pre-flight findings do to a start (docs/preflight.md); unset:
    /// block for a drill, warn for a recovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<PreflightMode>,
    /// The most replication lag (and snapshot age) pre-flight accepts: the
    /// data loss the plan can live with.
    #[serde(
        default,
        with = "humantime_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_replication_lag: Option<Duration>,
    /// `options.split_large_waves`: a wave over [`MAX_SERVERS_PER_WAVE`]
    /// is split into parts, at parsing or, for a wave selecting by tags,
    /// when the selection is resolved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub split_large_waves: bool,
    /// The plan's `options.recovery_snapshot`, for waves that set none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_snapshot: Option<SnapshotChoice>,
    /// `options.cleanup.after`: how long after a drill settled its recovery
    /// instances are terminated; unset: they are kept.
    #[serde(
        default,
        with = "humantime_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub cleanup_after: Option<Duration>,
    /// `options.cleanup_previous`: before each wave of a drill launches,
    /// terminate the drill instances earlier drills left for its servers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cleanup_previous: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            poll_intervals: PollIntervals::default(),
            retry: RetryPolicy::default(),
            execution_timeout: DEFAULT_EXECUTION_TIMEOUT,
            rto_target: None,
            busy_servers: BusyServers::default(),
            preflight: None,
            max_replication_lag: None,
            split_large_waves: false,
            recovery_snapshot: None,
            cleanup_after: None,
            cleanup_previous: false,
        }
    }
}

impl PlanOptions {
    /// The plan's pre-flight mode, or the default for its `mode`: a drill
    /// blocks on errors, a recovery only records them (in a disaster the
    /// source may be down).
    pub fn preflight_mode(&self, mode: Mode) -> PreflightMode {
        self.preflight.unwrap_or(match mode {
            Mode::Drill => PreflightMode::Block,
            Mode::Recovery => PreflightMode::Warn,
        })
    }
}

/// What pre-flight findings do to a start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PreflightMode {
    /// An error fails the execution before any wave launches.
    Block,
    /// Findings are recorded; the execution goes on.
    Warn,
    /// No pre-flight.
    Off,
}

/// What an execution does when another active execution holds one of its
/// source servers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusyServers {
    /// Fail at the start, naming the other execution and its wave.
    #[default]
    Refuse,
    /// Start no wave until the other execution has ended.
    Wait,
}

/// Adaptive poll intervals by wave phase (docs/architecture.md, "Delayed messages").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollIntervals {
    /// While the DRS job is PENDING (no server has started launching).
    #[serde(with = "humantime_serde")]
    pub pending: Duration,
    /// While servers are launching. Pushed launch results end a wave as
    /// soon as its last one arrives, so this is the safety net; without
    /// pushes (no `aws.drs` rule), lower it to end waves sooner.
    #[serde(with = "humantime_serde")]
    pub launching: Duration,
    /// While post-launch actions and health checks run.
    #[serde(with = "humantime_serde")]
    pub post_actions: Duration,
}

impl Default for PollIntervals {
    fn default() -> Self {
        Self {
            pending: Duration::from_secs(30),
            launching: Duration::from_secs(15),
            post_actions: Duration::from_secs(10),
        }
    }
}

/// Capped exponential backoff with full jitter for retryable errors, as
/// delayed messages. `max_attempts` counts the first try.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub base_delay: Duration,
    #[serde(with = "humantime_serde")]
    pub max_delay: Duration,
    /// Consecutive failed polls of a wave that fail it (default five; docs/monitoring.md).
    pub max_poll_errors: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            max_poll_errors: 5,
        }
    }
}

pub const DEFAULT_LAUNCH_TIMEOUT: Duration = Duration::from_secs(60 * 60);
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(15 * 60);
pub const DEFAULT_ACTION_TIMEOUT: Duration = Duration::from_secs(10 * 60);
pub const DEFAULT_EXECUTION_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);
