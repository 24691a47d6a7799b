//! A launch result as DRS announces it ("DRS Source Server Launch Result"),
//! and where the simulator's pusher hands it: the [`LaunchResultSink`] the
//! simulator holds and `push.rs` feeds.

use async_trait::async_trait;
use ripcord::ids::SourceServerId;
use std::collections::BTreeMap;

pub const LAUNCH_SUCCEEDED: &str = "LAUNCH_SUCCEEDED";
pub const LAUNCH_FAILED: &str = "LAUNCH_FAILED";

/// Receives launch results pushed by the simulator.
#[async_trait]
pub trait LaunchResultSink: Send + Sync {
    /// `tags` are the job's tags; `state` is `LAUNCH_SUCCEEDED` or `LAUNCH_FAILED`.
    async fn launch_result(
        &self,
        tags: &BTreeMap<String, String>,
        source_server_id: &SourceServerId,
        state: &str,
    );

    /// The whole result, job id and drill flag included (what DRS' event
    /// carries). The pusher calls this; by default it hands the tags, the
    /// server and the state to [`Self::launch_result`].
    async fn launch_result_detail(&self, result: &LaunchResult) {
        self.launch_result(&result.tags, &result.source_server_id, result.state)
            .await;
    }
}

/// One launch result ready to push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchResult {
    pub job_id: String,
    pub is_drill: bool,
    /// The job's tags.
    pub tags: BTreeMap<String, String>,
    pub source_server_id: SourceServerId,
    /// [`LAUNCH_SUCCEEDED`] or [`LAUNCH_FAILED`].
    pub state: &'static str,
}
