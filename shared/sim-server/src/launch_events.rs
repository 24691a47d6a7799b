//! Launch results to EventBridge: with `--events-endpoint`, the simulator's
//! pusher hands each server's launch result to this sink, which publishes
//! it on the default bus in DRS' own shape (source `aws.drs`, detail-type
//! "DRS Source Server Launch Result", the source server's ARN as resource,
//! and a detail `{state, job-id, sourceServerID}`), so an EventBridge rule
//! can route it to Ripcord's queue as it would in AWS.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use ripcord::ids::SourceServerId;
use ripcord_sim::LaunchResult;
use ripcord_sim::LaunchResultSink;
use serde_json::json;
use std::collections::BTreeMap;

pub const EVENT_SOURCE: &str = "aws.drs";
pub const DETAIL_TYPE: &str = "DRS Source Server Launch Result";

pub(crate) struct EventBridgeLaunchResults {
    client: aws_sdk_eventbridge::Client,
    region: String,
    account_id: String,
}

impl EventBridgeLaunchResults {
    pub(crate) fn new(client: aws_sdk_eventbridge::Client, region: &str, account_id: &str) -> Self {
        Self {
            client,
            region: region.to_owned(),
            account_id: account_id.to_owned(),
        }
    }

    /// The event DRS emits for this result.
    fn entry(&self, result: &LaunchResult) -> PutEventsRequestEntry {
        let mode = if result.is_drill { "DRILL" } else { "RECOVERY" };
        let server = result.source_server_id.as_str();
        let detail = json!({
            "state": format!("{mode}_{}", result.state),
            "job-id": result.job_id,
            "sourceServerID": server,
        });
        PutEventsRequestEntry::builder()
            .source(EVENT_SOURCE)
            .detail_type(DETAIL_TYPE)
            .resources(format!(
                "arn:aws:drs:{}:{}:source-server/{server}",
                self.region, self.account_id
            ))
            .detail(detail.to_string())
            .build()
    }
}

#[async_trait]
impl LaunchResultSink for EventBridgeLaunchResults {
    /// A result without its job cannot become DRS' event (whose state names
    /// drill or recovery); the pusher always calls `launch_result_detail`.
    async fn launch_result(
        &self,
        _tags: &BTreeMap<String, String>,
        source_server_id: &SourceServerId,
        state: &str,
    ) {
        tracing::warn!(%source_server_id, state, "launch result without its job not published to EventBridge");
    }

    async fn launch_result_detail(&self, result: &LaunchResult) {
        let sent = self
            .client
            .put_events()
            .entries(self.entry(result))
            .send()
            .await;
        // A lost event is what DRS can do too: polling still finds the result.
        match sent {
            Ok(out) if out.failed_entry_count() > 0 => {
                let reason = out
                    .entries()
                    .iter()
                    .filter_map(|e| e.error_message())
                    .collect::<Vec<_>>()
                    .join("; ");
                tracing::warn!(source_server_id = %result.source_server_id, reason, "EventBridge refused a launch-result event");
            }
            Ok(_) => {
                tracing::debug!(source_server_id = %result.source_server_id, job_id = %result.job_id, "launch result published");
            }
            Err(e) => {
                let e = ripcord_aws::error::service_error("events", "PutEvents", e);
                tracing::warn!(error = %e, "publishing a launch result to EventBridge failed; check --events-endpoint");
            }
        }
    }
}
