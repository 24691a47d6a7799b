//! Where pushed launch results go: DRS' "Source Server Launch Result"
//! events (here, the simulator's) become `LaunchResultPushed` events on the
//! poll queue, addressed by the job's Ripcord tags.

use async_trait::async_trait;
use ripcord::event::{Envelope, Event};
use ripcord::ids::{ExecutionId, SourceServerId, WaveNumber};
use ripcord::ports::drs::{TAG_EXECUTION, TAG_WAVE};
use ripcord::ports::{Clock, QueueName, WorkQueue};
use ripcord_sim::LaunchResultSink;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tracing::warn;

pub struct QueueLaunchResultSink {
    pub queue: Arc<dyn WorkQueue>,
    pub clock: Arc<dyn Clock>,
}

/// The execution and wave a job's tags name, if they are Ripcord's.
pub fn addressed(tags: &BTreeMap<String, String>) -> Option<(ExecutionId, WaveNumber)> {
    let execution = tags.get(TAG_EXECUTION)?.parse().ok()?;
    let wave = tags.get(TAG_WAVE)?.parse().ok()?;
    Some((execution, WaveNumber(wave)))
}

#[async_trait]
impl LaunchResultSink for QueueLaunchResultSink {
    async fn launch_result(
        &self,
        tags: &BTreeMap<String, String>,
        source_server_id: &SourceServerId,
        state: &str,
    ) {
        let Some((execution, wave)) = addressed(tags) else {
            return; // not a job Ripcord started
        };
        let event = Event::LaunchResultPushed {
            source_server_id: source_server_id.clone(),
            state: state.to_owned(),
        };
        let envelope = Envelope::new(execution, Some(wave), event, self.clock.now());
        let message = envelope.to_message(Duration::ZERO);
        if let Err(e) = self.queue.send(QueueName::Poll, vec![message]).await {
            warn!(execution_id = %execution, wave = wave.0, error = %e, "a pushed launch result was lost; polling will catch it");
        }
    }
}
