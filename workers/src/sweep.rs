//! The sweep (docs/architecture.md, "The sweep"): nothing stuck for ever.
//! Every `--sweep-every` (60 s) each metrics worker reads the IN_PROGRESS
//! executions and their waves, asks the core which running waves lost their
//! poll (`ripcord::machine::stalled_waves`: the next poll overdue past four
//! poll intervals, at least a minute), and sends each a `NudgeWave` on the
//! poll queue, whose decision re-arms the poll and announces `Ripcord Wave
//! Stuck`. Two metrics workers sweeping at once send the same nudge ids,
//! and the journal of the wave keeps the second from changing anything
//! (invariant 4).

use crate::ports::Ports;
use crate::telemetry::WorkerTelemetry;
use ripcord::event::FollowUp;
use ripcord::machine::{StalledWave, nudge_envelope, stalled_waves};
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
    /// Running waves whose poll was lost, each sent a nudge.
    pub nudged: Vec<StalledWave>,
}

/// One sweep: finds the running waves whose poll was lost and nudges them.
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
            let waves = ports.store.load_waves(summary.id).await?;
            sweep.executions += 1;
            sweep.nudged.extend(stalled_waves(&waves, now));
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
            wave = s.wave.0,
            status = ?s.status,
            poll = s.seq,
            overdue = %humantime::format_duration(Duration::from_secs(s.overdue.as_secs())),
            "a running wave's poll was lost; nudged it"
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
                telemetry.swept(sweep.nudged.len());
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
