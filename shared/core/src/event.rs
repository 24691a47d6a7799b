//! The events workers pass each other, in a versioned envelope.
//!
//! Every message on a queue is one [`Envelope`] as JSON. Decoding never
//! panics: malformed JSON, an unknown type or an unsupported schema version
//! is a [`DecodeError`] and the message goes to the dead-letter queue with
//! that reason (invariant 5, docs/invariants.md).

use crate::capacity::{BusyServer, CapacityWait};
use crate::cleanup::CleanupStep;
pub use crate::decode::DecodeError;
use crate::decode::json_kind;
use crate::ids::{EventId, ExecutionId, SourceServerId, WaveNumber};
use crate::plan::Plan;
use crate::reason::{MAX_QUOTED_BYTES, MAX_REASON_BYTES, readable};
use crate::service_error::ServiceError;
use crate::services::announce::Announcement;
use crate::services::drs::RecoveryJob;
use crate::services::queue::{OutgoingMessage, QueueName};
use crate::status_model::WaveStatus;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub use crate::observation::{PostLaunchObservation, WaveObservation};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub event_id: EventId,
    pub execution_id: ExecutionId,
    /// The wave the event is about; `None` for execution-level events.
    pub wave: Option<WaveNumber>,
    pub schema_version: u32,
    /// 1 for a first try; retries of the same step count up.
    pub attempt: u32,
    pub created_at: Timestamp,
    #[serde(flatten)]
    pub event: Event,
}

/// Every event type. The tag is the `type` field of the envelope and the
/// payload its `detail` field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "detail", rename_all_fields = "camelCase")]
pub enum Event {
    // ---- execution record (launch queue) ----
    /// Creates the execution from a validated plan and starts its first waves.
    StartExecution {
        plan: Plan,
        requested_by: String,
        /// A `recovery` plan runs only when this is true (invariant 6, docs/invariants.md).
        recovery_confirmed: bool,
    },
    /// A wave reached a terminal status.
    WaveFinished {
        status: WaveStatus,
        /// The wave attempt that ended: a report of an earlier attempt is
        /// stale once a retry started the next.
        #[serde(default = "crate::records::first_attempt")]
        attempt: u32,
    },
    /// Opens a wave's approval gate.
    ApproveWave {
        approved_by: String,
    },
    CancelExecution {
        requested_by: String,
        reason: String,
    },
    // Operator control (docs/status-model.md, "Operator control"); whether
    // each applies is `crate::operator::check`.
    /// Relaunch the failed servers of a FAILED wave as its next attempt.
    RetryWave {
        requested_by: String,
        reason: Option<String>,
        /// The servers to relaunch; none: every failed one.
        servers: Vec<SourceServerId>,
    },
    /// End a FAILED, WAITING or never-started wave as SKIPPED.
    SkipWave {
        requested_by: String,
        reason: String,
    },
    /// Start no new wave until resumed.
    PauseExecution {
        requested_by: String,
        reason: Option<String>,
    },
    ResumeExecution {
        requested_by: String,
    },
    ExecutionTimedOut {},
    /// Ask the ledger again for the execution's servers (a tick).
    ClaimServers {
        tries: u32,
    },
    /// The execution holds every server of its plan: start the waves.
    ServersClaimed {
        tries: u32,
    },
    /// Other active executions hold some of its servers.
    ServersBusy {
        tries: u32,
        busy: Vec<BusyServer>,
    },
    /// The ledger could not be read or written; the next tick asks again.
    ServerClaimFailed {
        tries: u32,
        error: String,
    },
    /// The execution's servers were given back (`error`: they could not be,
    /// and the hold lapses on its own).
    ServersReleased {
        error: Option<String>,
    },
    /// Ask for the pre-flight again (a tick: an answer lost is asked for
    /// again, a failed one retried).
    CheckPreflight {
        tries: u32,
    },
    /// What pre-flight found (docs/preflight.md).
    PreflightChecked {
        tries: u32,
        report: crate::preflight::PreflightReport,
    },
    /// Pre-flight could not read DRS; the next tick asks again.
    /// `throttled`: DRS throttled the reads, which slows the pre-flight
    /// down but does not use up its tries (invariant 9).
    PreflightFailed {
        tries: u32,
        error: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        throttled: bool,
    },

    // ---- wave record: launch (launch queue) ----
    StartWave {},
    /// Try StartRecovery again (after a retryable failure).
    LaunchWave {
        tries: u32,
    },
    /// A launch intent without a job after a while: look for the job by tag.
    LaunchCheck {
        tries: u32,
    },
    RecoveryJobStarted {
        tries: u32,
        job: RecoveryJob,
    },
    RecoveryStartFailed {
        tries: u32,
        error: ServiceError,
    },
    LaunchTimedOut {
        job_id: String,
    },
    /// Stop starting anything in this wave; keep observing what runs.
    CancelWave {
        reason: String,
    },
    /// Start attempt `attempt` of the wave (a retry, or a wave reopened
    /// after one): applied only by the record at attempt `attempt - 1`.
    RelaunchWave {
        attempt: u32,
        /// The servers to relaunch; none: every failed one.
        servers: Vec<SourceServerId>,
    },
    /// An operator skipped the wave: it ends SKIPPED unless it is running.
    MarkWaveSkipped {
        reason: String,
    },

    // ---- wave record: DRS capacity (launch queue; docs/capacity.md) ----
    /// Ask the capacity ledger again: the tick of a wave in line.
    AdmitWave {
        tries: u32,
    },
    /// The ledger holds the wave's servers: launch.
    LaunchAdmitted {
        tries: u32,
    },
    /// No room yet: the wave keeps its place in line.
    LaunchWaiting {
        tries: u32,
        wait: CapacityWait,
    },
    /// More than a quota allows however long the wave waits.
    LaunchRefused {
        tries: u32,
        reason: String,
    },
    /// The ledger could not be read or written; the next tick asks again.
    AdmissionFailed {
        tries: u32,
        error: String,
    },
    /// What the wave held was given back (`error`: it could not be, and
    /// the hold expires on its own).
    CapacityReleased {
        error: Option<String>,
    },

    // ---- wave record: observation (poll queue) ----
    PollWave {
        seq: u32,
    },
    WaveObserved {
        seq: u32,
        observation: WaveObservation,
    },
    PollFailed {
        seq: u32,
        error: ServiceError,
    },
    /// The sweep found the wave's poll `seq`, due at `due`, overdue past
    /// its bound: its message was lost. Re-arms the poll if the wave is
    /// still exactly so (`machine/sweep.rs`); changes nothing otherwise.
    NudgeWave {
        seq: u32,
        due: Timestamp,
    },
    /// The sweep found another message lost, due at `due` (`crate::stall`):
    /// does what it would have done if the record is still exactly so.
    Nudge {
        stall: crate::stall::Stall,
        due: Timestamp,
    },
    /// A launch result pushed by DRS through EventBridge
    /// ("DRS Source Server Launch Result"): observe now, not at the next poll.
    LaunchResultPushed {
        source_server_id: SourceServerId,
        state: String,
    },

    // ---- wave record: post-launch (post-actions queue) ----
    RunAction {
        action: usize,
        tries: u32,
    },
    ActionSent {
        action: usize,
        tries: u32,
        command_ids: Vec<String>,
    },
    ActionSendFailed {
        action: usize,
        tries: u32,
        error: ServiceError,
    },
    RunHealthCommands {
        tries: u32,
    },
    HealthCommandsSent {
        tries: u32,
        command_ids: Vec<String>,
    },
    HealthCommandsFailed {
        tries: u32,
        error: ServiceError,
    },
    CheckPostLaunch {
        seq: u32,
    },
    PostLaunchObserved {
        seq: u32,
        observation: PostLaunchObservation,
    },
    PostLaunchCheckFailed {
        seq: u32,
        error: ServiceError,
    },

    // ---- drill clean-up (crate::cleanup) ----
    /// Terminate the recovery instances the execution launched (execution).
    CleanupExecution {
        requested_by: String,
        reason: String,
        confirm_recovery: bool,
    },
    /// One step of a wave's clean-up (wave; its queue is the step's).
    CleanupWave {
        step: CleanupStep,
    },
    /// A wave's clean-up ended (execution).
    WaveCleanedUp {
        terminated: u32,
        failed: u32,
        /// Which clean-up request it answers (0: the first).
        #[serde(default)]
        request: u32,
    },

    // ---- metrics queue ----
    PublishMetrics {},
    /// Tell the account (EventBridge on AWS) that a status changed.
    Announce {
        announcement: Announcement,
    },
}

impl Event {
    /// The `type` tag as written on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::StartExecution { .. } => "StartExecution",
            Event::WaveFinished { .. } => "WaveFinished",
            Event::ApproveWave { .. } => "ApproveWave",
            Event::CancelExecution { .. } => "CancelExecution",
            Event::RetryWave { .. } => "RetryWave",
            Event::SkipWave { .. } => "SkipWave",
            Event::PauseExecution { .. } => "PauseExecution",
            Event::ResumeExecution { .. } => "ResumeExecution",
            Event::RelaunchWave { .. } => "RelaunchWave",
            Event::MarkWaveSkipped { .. } => "MarkWaveSkipped",
            Event::ExecutionTimedOut {} => "ExecutionTimedOut",
            Event::ClaimServers { .. } => "ClaimServers",
            Event::ServersClaimed { .. } => "ServersClaimed",
            Event::ServersBusy { .. } => "ServersBusy",
            Event::ServerClaimFailed { .. } => "ServerClaimFailed",
            Event::ServersReleased { .. } => "ServersReleased",
            Event::CheckPreflight { .. } => "CheckPreflight",
            Event::PreflightChecked { .. } => "PreflightChecked",
            Event::PreflightFailed { .. } => "PreflightFailed",
            Event::StartWave {} => "StartWave",
            Event::LaunchWave { .. } => "LaunchWave",
            Event::LaunchCheck { .. } => "LaunchCheck",
            Event::RecoveryJobStarted { .. } => "RecoveryJobStarted",
            Event::RecoveryStartFailed { .. } => "RecoveryStartFailed",
            Event::LaunchTimedOut { .. } => "LaunchTimedOut",
            Event::CancelWave { .. } => "CancelWave",
            Event::AdmitWave { .. } => "AdmitWave",
            Event::LaunchAdmitted { .. } => "LaunchAdmitted",
            Event::LaunchWaiting { .. } => "LaunchWaiting",
            Event::LaunchRefused { .. } => "LaunchRefused",
            Event::AdmissionFailed { .. } => "AdmissionFailed",
            Event::CapacityReleased { .. } => "CapacityReleased",
            Event::PollWave { .. } => "PollWave",
            Event::WaveObserved { .. } => "WaveObserved",
            Event::PollFailed { .. } => "PollFailed",
            Event::NudgeWave { .. } => "NudgeWave",
            Event::Nudge { .. } => "Nudge",
            Event::LaunchResultPushed { .. } => "LaunchResultPushed",
            Event::RunAction { .. } => "RunAction",
            Event::ActionSent { .. } => "ActionSent",
            Event::ActionSendFailed { .. } => "ActionSendFailed",
            Event::RunHealthCommands { .. } => "RunHealthCommands",
            Event::HealthCommandsSent { .. } => "HealthCommandsSent",
            Event::HealthCommandsFailed { .. } => "HealthCommandsFailed",
            Event::CheckPostLaunch { .. } => "CheckPostLaunch",
            Event::PostLaunchObserved { .. } => "PostLaunchObserved",
            Event::PostLaunchCheckFailed { .. } => "PostLaunchCheckFailed",
            Event::CleanupExecution { .. } => "CleanupExecution",
            Event::CleanupWave { .. } => "CleanupWave",
            Event::WaveCleanedUp { .. } => "WaveCleanedUp",
            Event::PublishMetrics {} => "PublishMetrics",
            Event::Announce { .. } => "Announce",
        }
    }

    /// Every type this build knows, for error messages.
    pub const TYPE_NAMES: [&'static str; 52] = [
        "StartExecution",
        "WaveFinished",
        "ApproveWave",
        "CancelExecution",
        "RetryWave",
        "SkipWave",
        "PauseExecution",
        "ResumeExecution",
        "RelaunchWave",
        "MarkWaveSkipped",
        "ExecutionTimedOut",
        "ClaimServers",
        "ServersClaimed",
        "ServersBusy",
        "ServerClaimFailed",
        "ServersReleased",
        "CheckPreflight",
        "PreflightChecked",
        "PreflightFailed",
        "StartWave",
        "LaunchWave",
        "LaunchCheck",
        "RecoveryJobStarted",
        "RecoveryStartFailed",
        "LaunchTimedOut",
        "CancelWave",
        "AdmitWave",
        "LaunchAdmitted",
        "LaunchWaiting",
        "LaunchRefused",
        "AdmissionFailed",
        "CapacityReleased",
        "PollWave",
        "WaveObserved",
        "PollFailed",
        "NudgeWave",
        "Nudge",
        "LaunchResultPushed",
        "RunAction",
        "ActionSent",
        "ActionSendFailed",
        "RunHealthCommands",
        "HealthCommandsSent",
        "HealthCommandsFailed",
        "CheckPostLaunch",
        "PostLaunchObserved",
        "PostLaunchCheckFailed",
        "CleanupExecution",
        "CleanupWave",
        "WaveCleanedUp",
        "PublishMetrics",
        "Announce",
    ];

    /// The queue whose worker handles this event.
    pub fn queue(&self) -> QueueName {
        match self {
            Event::StartExecution { .. }
            | Event::WaveFinished { .. }
            | Event::ApproveWave { .. }
            | Event::CancelExecution { .. }
            | Event::RetryWave { .. }
            | Event::SkipWave { .. }
            | Event::PauseExecution { .. }
            | Event::ResumeExecution { .. }
            | Event::RelaunchWave { .. }
            | Event::MarkWaveSkipped { .. }
            | Event::ExecutionTimedOut {}
            | Event::ClaimServers { .. }
            | Event::ServersClaimed { .. }
            | Event::ServersBusy { .. }
            | Event::ServerClaimFailed { .. }
            | Event::ServersReleased { .. }
            | Event::CheckPreflight { .. }
            | Event::PreflightChecked { .. }
            | Event::PreflightFailed { .. }
            | Event::StartWave {}
            | Event::LaunchWave { .. }
            | Event::LaunchCheck { .. }
            | Event::RecoveryJobStarted { .. }
            | Event::RecoveryStartFailed { .. }
            | Event::LaunchTimedOut { .. }
            | Event::CancelWave { .. }
            | Event::AdmitWave { .. }
            | Event::LaunchAdmitted { .. }
            | Event::LaunchWaiting { .. }
            | Event::LaunchRefused { .. }
            | Event::AdmissionFailed { .. }
            | Event::CapacityReleased { .. }
            | Event::CleanupExecution { .. }
            | Event::WaveCleanedUp { .. } => QueueName::Launch,
            Event::CleanupWave { step } => step.queue(),
            Event::Nudge { stall, .. } => stall.queue(),
            Event::PollWave { .. }
            | Event::WaveObserved { .. }
            | Event::PollFailed { .. }
            | Event::NudgeWave { .. }
            | Event::LaunchResultPushed { .. } => QueueName::Poll,
            Event::RunAction { .. }
            | Event::ActionSent { .. }
            | Event::ActionSendFailed { .. }
            | Event::RunHealthCommands { .. }
            | Event::HealthCommandsSent { .. }
            | Event::HealthCommandsFailed { .. }
            | Event::CheckPostLaunch { .. }
            | Event::PostLaunchObserved { .. }
            | Event::PostLaunchCheckFailed { .. } => QueueName::PostActions,
            Event::PublishMetrics {} | Event::Announce { .. } => QueueName::Metrics,
        }
    }
}

impl Envelope {
    /// A new first-try event with a random id.
    pub fn new(
        execution_id: ExecutionId,
        wave: Option<WaveNumber>,
        event: Event,
        now: Timestamp,
    ) -> Self {
        Self {
            event_id: EventId::new_random(),
            execution_id,
            wave,
            schema_version: SCHEMA_VERSION,
            attempt: 1,
            created_at: now,
            event,
        }
    }

    /// The event that creates execution `id` from `plan`: how every
    /// execution starts (CLI, tests, benchmark, later a runbook trigger).
    pub fn start_execution(
        id: ExecutionId,
        plan: Plan,
        requested_by: &str,
        recovery_confirmed: bool,
        now: Timestamp,
    ) -> Self {
        let event = Event::StartExecution {
            plan,
            requested_by: requested_by.to_owned(),
            recovery_confirmed,
        };
        Self::new(id, None, event, now)
    }

    /// The `index`-th event caused by this one: its id is derived from this
    /// one's, so replaying the same decision yields the same ids.
    pub fn caused(
        &self,
        index: usize,
        wave: Option<WaveNumber>,
        event: Event,
        attempt: u32,
        now: Timestamp,
    ) -> Self {
        Self {
            event_id: self.event_id.derive(event.type_name(), index),
            execution_id: self.execution_id,
            wave,
            schema_version: SCHEMA_VERSION,
            attempt,
            created_at: now,
            event,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serializes")
    }

    pub fn to_message(&self, delay: Duration) -> OutgoingMessage {
        OutgoingMessage {
            body: self.to_json(),
            delay,
            event_type: self.event.type_name().to_owned(),
            schema_version: self.schema_version,
        }
    }

    /// Decodes a message body, telling exactly what is wrong with a bad one.
    pub fn decode(body: &str) -> Result<Self, DecodeError> {
        let raw: serde_json::Value = serde_json::from_str(body)
            .map_err(|e| DecodeError::MalformedJson(readable(&e.to_string(), MAX_QUOTED_BYTES)))?;
        let obj = raw
            .as_object()
            .ok_or(DecodeError::NotAnObject(json_kind(&raw)))?;
        // The field is absent, or there but of another type.
        let bad = |name: &'static str, expected: &'static str| match obj.get(name) {
            None => DecodeError::MissingField(name),
            Some(v) => DecodeError::BadField {
                field: name,
                expected,
                found: json_kind(v),
            },
        };
        let Some(version) = obj.get("schemaVersion").and_then(|v| v.as_u64()) else {
            return Err(bad("schemaVersion", "a whole number"));
        };
        if version != u64::from(SCHEMA_VERSION) {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let Some(ty) = obj.get("type").and_then(|v| v.as_str()) else {
            return Err(bad("type", "a string"));
        };
        if !Event::TYPE_NAMES.contains(&ty) {
            return Err(DecodeError::UnknownType(ty.to_owned()));
        }
        let ty = ty.to_owned();
        serde_json::from_value(raw).map_err(|e| DecodeError::InvalidDetail {
            event_type: ty,
            reason: readable(&e.to_string(), MAX_REASON_BYTES / 4),
        })
    }
}

/// An event to send after a decision is saved, with its delay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowUp {
    pub envelope: Envelope,
    #[serde(with = "humantime_serde")]
    pub delay: Duration,
}

impl FollowUp {
    pub fn queue(&self) -> QueueName {
        self.envelope.event.queue()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Envelope {
        Envelope::new(
            ExecutionId::new_random(),
            Some(WaveNumber(2)),
            Event::PollWave { seq: 7 },
            chrono::Utc::now(),
        )
    }

    #[test]
    fn envelopes_round_trip() {
        let env = sample();
        assert_eq!(Envelope::decode(&env.to_json()).unwrap(), env);
    }

    #[test]
    fn every_variant_name_is_listed() {
        let env = sample();
        assert!(Event::TYPE_NAMES.contains(&env.event.type_name()));
    }

    #[test]
    fn bad_messages_are_typed_errors() {
        assert!(matches!(
            Envelope::decode("{not json"),
            Err(DecodeError::MalformedJson(_))
        ));
        let mut v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        v["type"] = "LaunchNukes".into();
        assert_eq!(
            Envelope::decode(&v.to_string()),
            Err(DecodeError::UnknownType("LaunchNukes".into()))
        );
        v["type"] = "PollWave".into();
        v["schemaVersion"] = 99.into();
        assert!(matches!(
            Envelope::decode(&v.to_string()),
            Err(DecodeError::UnsupportedVersion { found: 99, .. })
        ));
        v["schemaVersion"] = 1.into();
        v["detail"] = serde_json::json!({"seq": "seven"});
        assert!(matches!(
            Envelope::decode(&v.to_string()),
            Err(DecodeError::InvalidDetail { .. })
        ));
    }
}
