//! How DRS renders its answers: an operation's answer and its page token,
//! and a job (its ARN, type, initiator, participating servers and times).

use crate::server::SimServer;
use crate::wire::{ApiError, iso_time};
use axum::http::StatusCode;
use ripcord::ports::drs::RecoveryJob;
use ripcord_sim::{JobOrigin, Simulator};
use serde_json::{Value, json};

/// What an operation answers: a status and a JSON body, or an error.
pub(super) type Answer = Result<(StatusCode, Value), ApiError>;

/// `v` with the token of the next page, if there is one.
pub(super) fn with_token(mut v: Value, next: Option<String>) -> Value {
    if let Some(t) = next {
        v["nextToken"] = json!(t);
    }
    v
}

impl SimServer {
    pub(super) fn arn(&self, sim: &Simulator, resource: &str) -> String {
        format!(
            "arn:aws:drs:{}:{}:{resource}",
            sim.scenario().region,
            self.settings.account_id
        )
    }

    pub(super) fn job_json(&self, sim: &Simulator, job: &RecoveryJob, origin: JobOrigin) -> Value {
        let (kind, initiated_by) = match origin {
            JobOrigin::StartDrill => ("LAUNCH", "START_DRILL"),
            JobOrigin::StartRecovery => ("LAUNCH", "START_RECOVERY"),
            JobOrigin::TerminateRecoveryInstances => ("TERMINATE", "TERMINATE_RECOVERY_INSTANCES"),
        };
        let servers: Vec<Value> = job
            .participating_servers
            .iter()
            .map(|s| {
                let mut v = json!({
                    "sourceServerID": s.source_server_id.as_str(),
                    "launchStatus": s.launch_status,
                });
                if let Some(ri) = &s.recovery_instance_id {
                    v["recoveryInstanceID"] = json!(ri);
                }
                v
            })
            .collect();
        let mut v = json!({
            "jobID": job.job_id,
            "arn": self.arn(sim, &format!("job/{}", job.job_id)),
            "type": kind,
            "initiatedBy": initiated_by,
            "status": job.status,
            "participatingServers": servers,
            "tags": job.tags,
        });
        if let Some(t) = job.creation_time {
            v["creationDateTime"] = json!(iso_time(t));
        }
        if let Some(t) = job.end_time {
            v["endDateTime"] = json!(iso_time(t));
        }
        v
    }
}
