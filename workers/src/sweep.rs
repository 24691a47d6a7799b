//! The sweep (docs/architecture.md, "The sweep"): nothing stuck for ever.
//! Every `--sweep-every` (60 s) each metrics worker reads the IN_PROGRESS
//! executions and their waves, asks the core which records lost the one
//! message that would have moved them on (`ripcord::machine::stalled`: a
//! running wave's poll, a wave's StartWave, capacity tick or launch check,
//! a wave's WaveFinished, the pre-flight or server-claim tick, each
//! overdue past its bound), and sends each its nudge (`NudgeWave` on the
//! poll queue, `Nudge` on the launch queue), whose decision re-arms the
//! record and announces `Ripcord Wave Stuck` or `Ripcord Execution Stuck`.
//! Two metrics workers sweeping at once send the same nudge ids, and the
//! record's journal keeps the second from changing anything (invariant 4).

use crate::ports::Ports;
use crate::telemetry::WorkerTelemetry;
use ripcord::event::FollowUp;
use ripcord::machine::{Stalled, nudge_envelope, stalled};
use ripcord::ports::queue::QueueError;
use ripcord::ports::store::{ExecutionQuery, StoreError};
use ripcord::status_model::ExecutionStatus;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{debug, warn};

/// Executions one store read lists; the sweep pages through them all.
const PAGE: usize = 200;

/// Why a sweep did not finish; the next one tries again.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("the sweep could not read the executions: {0}")]
    Store(#[from] StoreError),
    #[error("the sweep could not send its nudges: {0}")]
    Queue(#[from] QueueError),
}

/// What one sweep found and nudged.
#[derive(Debug, Default)]
pub struct Sweep {
    /// IN_PROGRESS executions read.
    pub executions: usize,
    /// Records whose one message was lost, each sent a nudge.
    pub nudged: Vec<Stalled>,
}

/// One sweep: finds the records whose one message was lost and nudges them.
pub async fn sweep_once(ports: &Ports) -> Result<Sweep, SweepError> {
    let now = ports.clock.now();
    let mut sweep = Sweep::default();
    let mut query = ExecutionQuery {
        status: Some(ExecutionStatus::InProgress),
        limit: PAGE,
        after: None,
    };
    loop {
        let page = ports.store.list_executions(&query).await?;
        for summary in &page.items {
            let Some(execution) = ports.store.load_execution(summary.id).await? else {
                continue;
            };
            let waves = ports.store.load_waves(summary.id).await?;
            sweep.executions += 1;
            sweep.nudged.extend(stalled(&execution.record, &waves, now));
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    let nudges: Vec<FollowUp> = sweep
        .nudged
        .iter()
        .map(|stalled| FollowUp {
            envelope: nudge_envelope(stalled, now),
            delay: Duration::ZERO,
        })
        .collect();
    crate::step::send(ports, &nudges).await?;
    for s in &sweep.nudged {
        warn!(
            execution_id = %s.execution_id,
            wave = s.wave.map(|w| w.0),
            lost = ?s.lost,
            overdue = %humantime::format_duration(Duration::from_secs(s.overdue.as_secs())),
            "a record's next message was lost; nudged it"
        );
    }
    Ok(sweep)
}

/// Sweeps every `every` until `shutdown` turns true. A failed sweep is
/// logged and the next one tried.
pub async fn run(
    ports: Ports,
    every: Duration,
    telemetry: WorkerTelemetry,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        match sweep_once(&ports).await {
            Ok(sweep) => {
                telemetry.swept(&sweep.nudged);
                debug!(
                    executions = sweep.executions,
                    nudged = sweep.nudged.len(),
                    "swept"
                );
            }
            Err(e) => warn!(error = %e, "the sweep failed; the next one tries again"),
        }
    }
}
