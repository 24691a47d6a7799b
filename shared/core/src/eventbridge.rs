//! Messages that arrive from EventBridge rather than from Ripcord itself: a
//! rule with an SQS target puts the whole EventBridge event on the queue.
//! Two kinds are Ripcord's business — runbook triggers on the launch queue
//! and DRS' own launch results on the poll queue — and are recognised here
//! by their `source` / `detail-type`; anything else is reported as such.

use crate::ids::SourceServerId;
use crate::time::Timestamp;
use crate::trigger::runbook::{
    DETAIL_TYPE as RUNBOOK_DETAIL_TYPE, RunbookTrigger, TriggerDetail, TriggerError,
};
use serde::Deserialize;

/// DRS' event when a server's launch ends, successfully or not.
pub const DRS_SOURCE: &str = "aws.drs";
pub const DRS_LAUNCH_RESULT: &str = "DRS Source Server Launch Result";

/// An EventBridge event as an SQS target receives it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EventBridgeEvent {
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub time: Option<Timestamp>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub detail: serde_json::Value,
}

impl EventBridgeEvent {
    /// The event in `body`, if the body is one (it has an id, a source and a
    /// detail-type); `None` for anything else, such as Ripcord's envelopes.
    pub fn parse(body: &str) -> Option<Self> {
        serde_json::from_str(body).ok()
    }
}

/// What an EventBridge event on one of Ripcord's queues is.
#[derive(Clone, Debug, PartialEq)]
pub enum Inbound {
    /// A runbook asks for an execution. Its detail may still be invalid:
    /// that is for the launch worker to record (by key) or dead-letter.
    Runbook(Result<RunbookTrigger, TriggerError>),
    DrsLaunchResult(Result<DrsLaunchResult, String>),
    /// Some other event a rule routed here by mistake.
    Other {
        source: String,
        detail_type: String,
    },
}

impl Inbound {
    pub fn classify(event: &EventBridgeEvent) -> Inbound {
        if event.detail_type == RUNBOOK_DETAIL_TYPE {
            Inbound::Runbook(RunbookTrigger::from_event(event))
        } else if event.source == DRS_SOURCE && event.detail_type == DRS_LAUNCH_RESULT {
            Inbound::DrsLaunchResult(DrsLaunchResult::from_event(event))
        } else {
            Inbound::Other {
                source: event.source.clone(),
                detail_type: event.detail_type.clone(),
            }
        }
    }
}

impl RunbookTrigger {
    /// The trigger a runbook's event carries: the event's envelope here,
    /// its detail checked by [`TriggerDetail::parse`].
    pub fn from_event(event: &EventBridgeEvent) -> Result<RunbookTrigger, TriggerError> {
        Ok(RunbookTrigger {
            detail: TriggerDetail::parse(&event.detail)?,
            event_id: event.id.clone(),
            source: event.source.clone(),
            account: event.account.clone(),
            time: event.time,
        })
    }
}

/// One server's launch result, as DRS announces it.
#[derive(Clone, Debug, PartialEq)]
pub struct DrsLaunchResult {
    pub event_id: String,
    pub job_id: String,
    pub source_server_id: SourceServerId,
    /// e.g. `DRILL_LAUNCH_SUCCEEDED`, `RECOVERY_LAUNCH_FAILED`.
    pub state: String,
}

impl DrsLaunchResult {
    /// Reads the job id from `detail.job-id` (DRS' spelling; `jobID` and
    /// `jobId` are accepted too) and the server from `detail.sourceServerID`
    /// or else the source-server ARN in `resources`.
    pub fn from_event(event: &EventBridgeEvent) -> Result<DrsLaunchResult, String> {
        let detail = &event.detail;
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| detail.get(*k).and_then(|v| v.as_str()))
                .map(str::to_owned)
        };
        let state = text(&["state"]).ok_or("the event has no detail.state")?;
        let job_id = text(&["job-id", "jobID", "jobId"]).ok_or("the event has no detail.job-id")?;
        let server = text(&["sourceServerID", "sourceServerId"])
            .or_else(|| {
                event.resources.iter().find_map(|arn| {
                    arn.rsplit_once(":source-server/")
                        .map(|(_, id)| id.to_owned())
                })
            })
            .ok_or(
                "the event names no source server (detail.sourceServerID or a source-server ARN)",
            )?;
        let source_server_id = SourceServerId::parse(&server)
            .map_err(|e| format!("the event's source server is not valid: {e}"))?;
        Ok(DrsLaunchResult {
            event_id: event.id.clone(),
            job_id,
            source_server_id,
            state,
        })
    }

    /// The state in the simulator's and the core's terms.
    pub fn succeeded(&self) -> bool {
        self.state.ends_with("SUCCEEDED")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> EventBridgeEvent {
        EventBridgeEvent::parse(&json.to_string()).expect("an EventBridge event")
    }

    #[test]
    fn a_drs_launch_result_names_its_job_and_server() {
        let e = event(serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "DRS Source Server Launch Result",
            "source": "aws.drs", "account": "111122223333", "time": "2026-03-01T10:00:00Z",
            "region": "us-east-1",
            "resources": ["arn:aws:drs:us-east-1:111122223333:source-server/s-0123456789abcdef0"],
            "detail": {"state": "DRILL_LAUNCH_FAILED", "job-id": "drsjob-0123456789abcdef0"}
        }));
        let Inbound::DrsLaunchResult(Ok(result)) = Inbound::classify(&e) else {
            panic!("a launch result");
        };
        assert_eq!(result.job_id, "drsjob-0123456789abcdef0");
        assert_eq!(result.source_server_id.as_str(), "s-0123456789abcdef0");
        assert!(!result.succeeded());
    }

    #[test]
    fn a_launch_result_without_a_job_is_an_error_and_others_are_other() {
        let e = event(serde_json::json!({
            "id": "e2", "detail-type": "DRS Source Server Launch Result", "source": "aws.drs",
            "detail": {"state": "DRILL_LAUNCH_SUCCEEDED", "sourceServerID": "s-0123456789abcdef0"}
        }));
        assert!(
            matches!(Inbound::classify(&e), Inbound::DrsLaunchResult(Err(m)) if m.contains("job-id"))
        );
        let e = event(serde_json::json!({
            "id": "e3", "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2", "detail": {}
        }));
        assert!(matches!(Inbound::classify(&e), Inbound::Other { .. }));
    }

    #[test]
    fn ripcord_envelopes_are_not_eventbridge_events() {
        let body = r#"{"eventId":"7d3c0a9e-4b1f-4c55-9a40-1f0e2d3c4b5a","type":"PublishMetrics"}"#;
        assert!(EventBridgeEvent::parse(body).is_none());
    }
}
