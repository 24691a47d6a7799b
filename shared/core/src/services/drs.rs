//! What Ripcord needs of AWS Elastic Disaster Recovery: start one recovery
//! job per wave, find a job again by its tags, and read the per-server truth
//! (participating servers, job log, recovery instances), plus the facts a
//! pre-flight reads before a drill (source servers with their tags, lag and
//! leftover recovery instance; point-in-time snapshots).

use crate::ids::SourceServerId;
use crate::services::values::service_values;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Tag keys put on every recovery job, so a job can be found again after a
/// crash instead of being launched twice (invariant 2, docs/invariants.md).
pub const TAG_EXECUTION: &str = "ripcord:execution-id";
pub const TAG_WAVE: &str = "ripcord:wave";
pub const TAG_ATTEMPT: &str = "ripcord:attempt";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRecoveryRequest {
    pub source_servers: Vec<SourceServerId>,
    pub is_drill: bool,
    pub tags: BTreeMap<String, String>,
    /// The point-in-time snapshot (`pit-…`, from DescribeRecoverySnapshots)
    /// to launch each server from; a server not in the map launches from
    /// its latest data. Every key must be one of `source_servers`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recovery_snapshots: BTreeMap<SourceServerId, String>,
}

/// A DRS job's own status: only whether it is still running. COMPLETED
/// says nothing about whether any server launched (invariant 1; docs/aws-facts.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Pending,
    Started,
    Completed,
}

/// A participating server's `launchStatus` as DRS reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DrsLaunchStatus {
    Pending,
    InProgress,
    Launched,
    Failed,
    Terminated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipatingServer {
    pub source_server_id: SourceServerId,
    pub recovery_instance_id: Option<String>,
    pub launch_status: DrsLaunchStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryJob {
    pub job_id: String,
    pub status: JobStatus,
    pub creation_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub participating_servers: Vec<ParticipatingServer>,
    pub tags: BTreeMap<String, String>,
}

service_values! {
    /// The `event` of a DescribeJobLogItems line.
    pub enum JobLogEvent {
        JobStart = "JOB_START",
        ServerSkipped = "SERVER_SKIPPED",
        CleanupStart = "CLEANUP_START",
        CleanupEnd = "CLEANUP_END",
        CleanupFail = "CLEANUP_FAIL",
        SnapshotStart = "SNAPSHOT_START",
        SnapshotEnd = "SNAPSHOT_END",
        SnapshotFail = "SNAPSHOT_FAIL",
        UsingPreviousSnapshot = "USING_PREVIOUS_SNAPSHOT",
        UsingPreviousSnapshotFailed = "USING_PREVIOUS_SNAPSHOT_FAILED",
        ConversionStart = "CONVERSION_START",
        ConversionEnd = "CONVERSION_END",
        ConversionFail = "CONVERSION_FAIL",
        LaunchStart = "LAUNCH_START",
        LaunchFailed = "LAUNCH_FAILED",
        JobCancel = "JOB_CANCEL",
        JobEnd = "JOB_END",
        DeployNetworkConfigurationStart = "DEPLOY_NETWORK_CONFIGURATION_START",
        DeployNetworkConfigurationEnd = "DEPLOY_NETWORK_CONFIGURATION_END",
        DeployNetworkConfigurationFailed = "DEPLOY_NETWORK_CONFIGURATION_FAILED",
        UpdateNetworkConfigurationStart = "UPDATE_NETWORK_CONFIGURATION_START",
        UpdateNetworkConfigurationEnd = "UPDATE_NETWORK_CONFIGURATION_END",
        UpdateNetworkConfigurationFailed = "UPDATE_NETWORK_CONFIGURATION_FAILED",
        UpdateLaunchTemplateStart = "UPDATE_LAUNCH_TEMPLATE_START",
        UpdateLaunchTemplateEnd = "UPDATE_LAUNCH_TEMPLATE_END",
        UpdateLaunchTemplateFailed = "UPDATE_LAUNCH_TEMPLATE_FAILED",
        NetworkRecoveryFail = "NETWORK_RECOVERY_FAIL",
    }
}

impl JobLogEvent {
    /// Whether this event reports a failure for its server.
    pub fn is_failure(&self) -> bool {
        match self {
            Self::CleanupFail
            | Self::SnapshotFail
            | Self::UsingPreviousSnapshotFailed
            | Self::ConversionFail
            | Self::LaunchFailed
            | Self::DeployNetworkConfigurationFailed
            | Self::UpdateNetworkConfigurationFailed
            | Self::UpdateLaunchTemplateFailed
            | Self::NetworkRecoveryFail => true,
            // DRS adds events; every failure it has named so far ends so,
            // and missing one would leave a failed server looking pending.
            Self::Other(event) => event.ends_with("_FAIL") || event.ends_with("_FAILED"),
            _ => false,
        }
    }
}

/// One line of DescribeJobLogItems.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobLogItem {
    pub event: JobLogEvent,
    pub event_time: Option<Timestamp>,
    pub source_server_id: Option<SourceServerId>,
    pub target_instance_id: Option<String>,
    pub raw_error: Option<String>,
}

impl JobLogItem {
    /// Whether this log event reports a failure for its server.
    pub fn is_failure(&self) -> bool {
        self.event.is_failure()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryInstance {
    pub recovery_instance_id: String,
    pub ec2_instance_id: Option<String>,
    pub ec2_instance_state: Option<String>,
    pub job_id: Option<String>,
    pub source_server_id: SourceServerId,
    pub is_drill: bool,
    pub point_in_time_snapshot: Option<Timestamp>,
}

service_values! {
    /// DescribeSourceServers' `lastLaunchResult`: how the server's latest
    /// launch (drill or recovery) ended.
    pub enum LastLaunchResult {
        NotStarted = "NOT_STARTED",
        Pending = "PENDING",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
    }
}

/// DescribeSourceServers' view of one server, for a pre-flight check and
/// for selecting servers by tag (DRS filters by id only, so tags are
/// matched client-side).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceServer {
    pub source_server_id: SourceServerId,
    pub hostname: Option<String>,
    /// CONTINUOUS is healthy; STALLED, DISCONNECTED, PAUSED, ... are not.
    pub data_replication_state: String,
    /// `dataReplicationInfo.lagDuration` as DRS sends it (ISO-8601, e.g.
    /// `PT5M30S`); [`SourceServer::lag`] reads it.
    pub lag_duration: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `recoveryInstanceId`: the recovery instance an earlier launch left
    /// for this server, while it exists.
    #[serde(default)]
    pub recovery_instance_id: Option<String>,
    #[serde(default)]
    pub last_launch_result: Option<LastLaunchResult>,
}

impl SourceServer {
    /// How far replication is behind: `None` when DRS sent no lag, an error
    /// when it sent one Ripcord cannot read (a check must not take an
    /// unreadable lag for no lag).
    pub fn lag(&self) -> Result<Option<Duration>, LagDurationError> {
        self.lag_duration
            .as_deref()
            .map(parse_iso8601_duration)
            .transpose()
    }
}

/// Why a DRS `lagDuration` could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "DRS reported the replication lag `{value}`, which is not an ISO-8601 duration Ripcord reads ({reason}); \
     expected the form PnDTnHnMnS, e.g. PT5M30S; report this with the source server id"
)]
pub struct LagDurationError {
    pub value: String,
    pub reason: &'static str,
}

/// Parses an ISO-8601 duration of days, hours, minutes and seconds
/// (`P1DT2H`, `PT5M30S`, `PT0.5S`, weeks `P2W`). Years and months have no
/// fixed length, so they are refused, as are negative and empty durations.
pub fn parse_iso8601_duration(value: &str) -> Result<Duration, LagDurationError> {
    let fail = |reason| LagDurationError {
        value: value.to_owned(),
        reason,
    };
    let rest = value
        .strip_prefix('P')
        .ok_or_else(|| fail("it does not start with P"))?;
    let (date, time) = match rest.split_once('T') {
        Some((_, "")) => return Err(fail("nothing follows T")),
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    if date.is_empty() && time.is_none() {
        return Err(fail("it holds no amount"));
    }
    let mut total = 0.0_f64;
    for (part, units) in [(date, "WD"), (time.unwrap_or(""), "HMS")] {
        let mut number = String::new();
        let mut last_unit = None;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                number.push(if c == ',' { '.' } else { c });
                continue;
            }
            let Some(position) = units.find(c) else {
                return Err(fail(match c {
                    'Y' | 'M' => "years and months have no fixed length",
                    '-' => "it is negative",
                    _ => "it holds an unknown unit",
                }));
            };
            if last_unit.is_some_and(|last| position <= last) {
                return Err(fail("its units are out of order or repeated"));
            }
            last_unit = Some(position);
            let amount: f64 = number
                .parse()
                .map_err(|_| fail("a unit has no number, or a malformed one"))?;
            let unit_seconds = match c {
                'W' => 7.0 * 86_400.0,
                'D' => 86_400.0,
                'H' => 3_600.0,
                'M' => 60.0,
                _ => 1.0,
            };
            total += amount * unit_seconds;
            number.clear();
        }
        if !number.is_empty() {
            return Err(fail("a number has no unit"));
        }
    }
    Duration::try_from_secs_f64(total).map_err(|_| fail("it is out of range"))
}

/// One point-in-time snapshot of a source server (DescribeRecoverySnapshots):
/// what StartRecovery can launch from instead of the latest data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoverySnapshot {
    /// `pit-` and 17 letters or digits.
    pub snapshot_id: String,
    pub source_server_id: SourceServerId,
    /// When DRS planned to take it.
    pub expected_timestamp: Timestamp,
    /// When it was actually taken, if DRS says.
    pub timestamp: Option<Timestamp>,
}

impl RecoverySnapshot {
    /// The point in time the snapshot holds: when it was taken, or when it
    /// was due if DRS does not say.
    pub fn taken_at(&self) -> Timestamp {
        self.timestamp.unwrap_or(self.expected_timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(value: &str) -> f64 {
        parse_iso8601_duration(value)
            .unwrap_or_else(|e| panic!("{e}"))
            .as_secs_f64()
    }

    #[test]
    fn lag_durations_as_drs_sends_them_parse() {
        assert_eq!(secs("PT0S"), 0.0);
        assert_eq!(secs("PT5M30S"), 330.0);
        assert_eq!(secs("PT1H"), 3_600.0);
        assert_eq!(secs("P1DT2H3M4S"), 93_784.0);
        assert_eq!(secs("P2W"), 1_209_600.0);
        assert_eq!(secs("P1D"), 86_400.0);
        assert_eq!(secs("PT0.5S"), 0.5);
        assert_eq!(secs("PT1,25S"), 1.25);
        assert_eq!(secs("PT90M"), 5_400.0);
    }

    #[test]
    fn unreadable_lag_durations_are_errors_that_say_why() {
        for (value, reason) in [
            ("", "does not start with P"),
            ("5M", "does not start with P"),
            ("P", "holds no amount"),
            ("PT", "nothing follows T"),
            ("P1M", "no fixed length"),
            ("P1Y", "no fixed length"),
            ("-PT5M", "does not start with P"),
            ("PT-5M", "negative"),
            ("PT5", "number has no unit"),
            ("PTS", "unit has no number"),
            ("PT5S5M", "out of order"),
            ("PT5X", "unknown unit"),
            ("PT1.2.3S", "unit has no number"),
        ] {
            let e = parse_iso8601_duration(value).unwrap_err();
            assert!(e.reason.contains(reason), "{value}: {e}");
            assert!(
                e.to_string().contains("PT5M30S"),
                "says what to expect: {e}"
            );
        }
    }

    #[test]
    fn a_source_server_reads_its_lag() {
        let mut server = SourceServer {
            source_server_id: SourceServerId::parse("s-1234567890abcdef0").unwrap(),
            hostname: None,
            data_replication_state: "CONTINUOUS".to_owned(),
            lag_duration: Some("PT2M".to_owned()),
            tags: BTreeMap::new(),
            recovery_instance_id: None,
            last_launch_result: None,
        };
        assert_eq!(server.lag(), Ok(Some(Duration::from_secs(120))));
        server.lag_duration = None;
        assert_eq!(server.lag(), Ok(None));
        server.lag_duration = Some("soon".to_owned());
        assert!(server.lag().is_err());
    }

    #[test]
    fn values_stored_before_the_new_fields_still_read() {
        let server: SourceServer = serde_json::from_value(serde_json::json!({
            "sourceServerId": "s-1234567890abcdef0",
            "hostname": "db-1",
            "dataReplicationState": "CONTINUOUS",
            "lagDuration": "PT0S",
        }))
        .unwrap();
        assert!(server.tags.is_empty());
        assert_eq!(server.recovery_instance_id, None);
        let request: StartRecoveryRequest = serde_json::from_value(serde_json::json!({
            "sourceServers": ["s-1234567890abcdef0"],
            "isDrill": true,
            "tags": {},
        }))
        .unwrap();
        assert!(request.recovery_snapshots.is_empty());
        let old = serde_json::to_value(&request).unwrap();
        assert!(old.get("recoverySnapshots").is_none(), "{old}");
    }
}
