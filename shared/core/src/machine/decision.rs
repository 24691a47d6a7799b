//! What `decide` returns: the new state of the one record the event is
//! about, the effects to perform, and the follow-up events to send. Effects
//! are data; the worker performs them after the new state is saved, so an
//! intent is always durable before the call it announces (invariant 2, docs/invariants.md).

use crate::capacity::{Claim, Holder};
use crate::cleanup::CleanupEffect;
use crate::event::FollowUp;
use crate::ids::ExecutionId;
use crate::ids::SourceServerId;
use crate::ports::drs::StartRecoveryRequest;
use crate::ports::ssm::SendCommandRequest;
use crate::records::{ExecutionRecord, WaveRecord};
use crate::time::Timestamp;

/// The record an event is decided against.
// One record moves once per decision; boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum State {
    /// No execution with this id exists (only StartExecution can act on it).
    Absent,
    Execution(ExecutionRecord),
    Wave(WaveRecord),
}

/// The new records to write.
// One record moves once per decision; boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Create an execution and its waves.
    Create {
        execution: ExecutionRecord,
        waves: Vec<WaveRecord>,
    },
    Execution(ExecutionRecord),
    Wave(WaveRecord),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decision {
    /// `None`: the event changes nothing (see `ignored`).
    pub change: Option<Change>,
    pub effects: Vec<Effect>,
    pub follow_ups: Vec<FollowUp>,
    /// Why the event changed nothing: stale, duplicate, or not applicable.
    pub ignored: Option<String>,
    /// Transitions that were asked for and refused as invalid; logged by
    /// the worker, never applied (docs/status-model.md).
    pub rejected: Vec<String>,
}

impl Decision {
    pub fn ignore(reason: impl Into<String>) -> Self {
        Self {
            ignored: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// A call the worker makes after saving; its outcome comes back to
/// `decide` as the result event named on each variant.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Asks the DRS capacity ledger for a wave's servers → `LaunchAdmitted`
    /// / `LaunchWaiting` / `LaunchRefused` / `AdmissionFailed`.
    Admit { tries: u32, claim: Claim },
    /// Gives back what a wave holds or waits for → `CapacityReleased`.
    ReleaseCapacity { holder: Holder },
    /// Takes the servers of an execution's plan (the worker reads them from
    /// its wave records) → `ServersClaimed` / `ServersBusy` /
    /// `ServerClaimFailed`.
    ClaimServers {
        tries: u32,
        execution_id: ExecutionId,
        recovery: bool,
        since: Timestamp,
        expires_at: Timestamp,
    },
    /// Runs the pre-flight checks of the execution's plan (the worker reads
    /// it from the records) → `PreflightChecked` / `PreflightFailed`.
    Preflight {
        tries: u32,
        execution_id: ExecutionId,
    },
    /// Gives back the servers an execution holds → `ServersReleased`.
    ReleaseServers { execution_id: ExecutionId },
    /// StartRecovery for one wave → `RecoveryJobStarted` / `RecoveryStartFailed`.
    /// With `reconcile_since`, first look for a job carrying the request's
    /// tags created since then and adopt it; start one only if none exists
    /// and `start_if_missing`.
    StartRecovery {
        tries: u32,
        request: StartRecoveryRequest,
        reconcile_since: Option<Timestamp>,
        start_if_missing: bool,
    },
    /// DescribeJobs (+ job log, recovery instances, EC2 details for servers
    /// that launched) → `WaveObserved` / `PollFailed`.
    ObserveWave {
        seq: u32,
        job_id: String,
        /// Servers whose launch is not yet settled in the record.
        awaiting: Vec<SourceServerId>,
        /// The job as DRS reported it at or after this time will do: a look
        /// at the deployment's jobs made since serves this poll too.
        fresh_since: Timestamp,
        /// Servers whose recovery instance and EC2 details to read now if
        /// DRS reports them launched. Once no awaited server is still
        /// launching, every launched one is read.
        details: Vec<SourceServerId>,
    },
    /// SendCommand in batches of ≤50 instances → `ActionSent` /
    /// `ActionSendFailed` (or the Health* pair for health commands).
    SendCommands {
        purpose: CommandPurpose,
        tries: u32,
        requests: Vec<SendCommandRequest>,
        reconcile_since: Option<Timestamp>,
    },
    /// Command invocations, EC2 status checks and SSM agent pings →
    /// `PostLaunchObserved` / `PostLaunchCheckFailed`.
    ObservePostLaunch {
        seq: u32,
        command_ids: Vec<String>,
        status_instance_ids: Vec<String>,
        agent_instance_ids: Vec<String>,
    },
    /// A call of a wave's drill clean-up → a `CleanupWave` step.
    Cleanup(CleanupEffect),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandPurpose {
    Action(usize),
    HealthCheck,
}
