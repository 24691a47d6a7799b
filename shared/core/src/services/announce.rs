//! Announcements: what Ripcord tells the rest of the account as it happens
//! — an execution or a wave changed status, a trigger was refused — so that
//! runbooks, chat bots and dashboards can follow without polling. On AWS
//! they are EventBridge events (source `ripcord`) on the configured bus.

use crate::ids::{ExecutionId, WaveNumber};
use crate::operator_action::OperatorAction;
use crate::plan::Mode;
use crate::status_model::{ExecutionStatus, WaveStatus};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The EventBridge `source` of every announcement.
pub const SOURCE: &str = "ripcord";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Announcement {
    ExecutionStatusChanged {
        execution_id: ExecutionId,
        plan_name: String,
        mode: Mode,
        status: ExecutionStatus,
        reason: Option<String>,
        at: Timestamp,
    },
    WaveStatusChanged {
        execution_id: ExecutionId,
        wave: WaveNumber,
        wave_name: String,
        status: WaveStatus,
        reason: Option<String>,
        at: Timestamp,
    },
    /// An operator retried, skipped, paused or resumed (docs/status-model.md).
    OperatorAction {
        execution_id: ExecutionId,
        plan_name: String,
        action: OperatorAction,
        at: Timestamp,
    },
    TriggerRefused {
        idempotency_key: String,
        execution_id: ExecutionId,
        source: String,
        account: Option<String>,
        reason: String,
        at: Timestamp,
    },
    /// A drill clean-up started (`ended` false) or ended; who asked, why,
    /// and at its end how many instances were terminated or failed.
    Cleanup {
        execution_id: ExecutionId,
        plan_name: String,
        requested_by: String,
        reason: String,
        ended: bool,
        terminated: u32,
        failed: u32,
        at: Timestamp,
    },
    /// Before a drill's wave launched (`options.cleanup_previous`), what
    /// became of the drill instances earlier drills left for its servers:
    /// one line each ("terminated s-…'s leftover drill instance i-… from
    /// an earlier drill").
    EarlierDrillInstances {
        execution_id: ExecutionId,
        wave: WaveNumber,
        wave_name: String,
        lines: Vec<String>,
        at: Timestamp,
    },
    /// The one message that would have moved a wave on (its next poll, its
    /// StartWave, its capacity tick, its launch check) was overdue past
    /// its bound, lost: the sweep re-armed it (docs/monitoring.md,
    /// "Nothing stuck for ever").
    WaveStuck {
        execution_id: ExecutionId,
        wave: WaveNumber,
        wave_name: String,
        status: WaveStatus,
        /// When the lost message was due.
        overdue_since: Timestamp,
        /// Which message was lost ("poll 7", "StartWave", "AdmitWave 3").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lost: Option<String>,
        at: Timestamp,
    },
    /// The one message that would have moved an execution on (a wave's
    /// WaveFinished, its pre-flight or server-claim tick) was overdue past
    /// its bound, lost: the sweep re-armed it.
    ExecutionStuck {
        execution_id: ExecutionId,
        plan_name: String,
        /// The wave whose WaveFinished was lost, if that was it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wave: Option<WaveNumber>,
        /// Which message was lost ("WaveFinished Completed (attempt 1)").
        lost: String,
        overdue_since: Timestamp,
        at: Timestamp,
    },
}

impl Announcement {
    /// The EventBridge `detail-type`.
    pub fn detail_type(&self) -> &'static str {
        match self {
            Announcement::ExecutionStatusChanged { .. } => "Ripcord Execution Status Change",
            Announcement::WaveStatusChanged { .. } => "Ripcord Wave Status Change",
            Announcement::TriggerRefused { .. } => "Ripcord Trigger Refused",
            Announcement::Cleanup { ended: false, .. } => "Ripcord Cleanup Started",
            Announcement::Cleanup { ended: true, .. } => "Ripcord Cleanup Finished",
            Announcement::OperatorAction { .. } => "Ripcord Operator Action",
            Announcement::EarlierDrillInstances { .. } => "Ripcord Earlier Drill Instances",
            Announcement::WaveStuck { .. } => "Ripcord Wave Stuck",
            Announcement::ExecutionStuck { .. } => "Ripcord Execution Stuck",
        }
    }

    pub fn execution_id(&self) -> ExecutionId {
        match self {
            Announcement::ExecutionStatusChanged { execution_id, .. }
            | Announcement::WaveStatusChanged { execution_id, .. }
            | Announcement::TriggerRefused { execution_id, .. }
            | Announcement::Cleanup { execution_id, .. }
            | Announcement::EarlierDrillInstances { execution_id, .. }
            | Announcement::WaveStuck { execution_id, .. }
            | Announcement::ExecutionStuck { execution_id, .. } => *execution_id,
            Announcement::OperatorAction { execution_id, .. } => *execution_id,
        }
    }
}
