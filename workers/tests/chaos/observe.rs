//! Reading the store while the chaos run goes, as an outside observer
//! would: the execution records and their wave records, straight from the
//! database file (not from any worker). Every look checks invariant 1 as
//! it stands at that instant: an execution seen COMPLETED must have no
//! failed critical server and no wave that is not COMPLETED or SKIPPED
//! (an operator's skip). It also notes every wave seen waiting for DRS
//! capacity.

use super::stage::Stage;
use ripcord::ids::ExecutionId;
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::status_model::{ExecutionStatus, LaunchStatus, WaveStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// An execution and its waves as one look found them.
#[derive(Clone, Debug)]
pub struct Seen {
    pub execution: ExecutionRecord,
    pub waves: Vec<WaveRecord>,
}

impl Seen {
    pub fn ended(&self) -> bool {
        !matches!(
            self.execution.status,
            ExecutionStatus::Pending | ExecutionStatus::InProgress
        )
    }

    pub fn wave(&self, number: u32) -> Option<&WaveRecord> {
        self.waves.iter().find(|w| w.number.0 == number)
    }

    /// Why this look breaks invariant 1, if it does: a wave COMPLETED
    /// with a critical server that is not, or an execution COMPLETED with
    /// a wave neither COMPLETED nor SKIPPED (the waves are loaded after
    /// the execution, so they are at least as new).
    fn completed_wrongly(&self) -> Option<String> {
        for wave in &self.waves {
            if wave.status == WaveStatus::Skipped {
                continue;
            }
            if wave.status != WaveStatus::Completed {
                if self.execution.status == ExecutionStatus::Completed {
                    return Some(format!(
                        "execution {} seen COMPLETED while its wave {} is {:?}",
                        self.execution.id, wave.number.0, wave.status
                    ));
                }
                continue;
            }
            if let Some(s) = wave
                .servers
                .iter()
                .find(|s| s.plan.critical && s.launch_status != LaunchStatus::Completed)
            {
                return Some(format!(
                    "wave {} of execution {} seen COMPLETED while its critical server {} is {:?}",
                    wave.number.0, self.execution.id, s.plan.id, s.launch_status
                ));
            }
        }
        None
    }
}

/// Looks at the store, keeping the latest look at each execution and every
/// breach of invariant 1 seen.
pub struct Observer {
    stage: Arc<Stage>,
    pub latest: BTreeMap<ExecutionId, Seen>,
    pub looks: u64,
    pub breaches: Vec<String>,
    /// Executions looked at even once seen ended: the operator has yet to
    /// act on them (a FAILED one it retries or skips) or to see its act
    /// take.
    pub awaiting: BTreeSet<ExecutionId>,
    /// Every (execution, wave, attempt) seen WAITING for DRS capacity.
    pub waited: BTreeSet<(ExecutionId, u32, u32)>,
}

impl Observer {
    pub fn new(stage: Arc<Stage>) -> Self {
        Self {
            stage,
            latest: BTreeMap::new(),
            looks: 0,
            breaches: Vec::new(),
            awaiting: BTreeSet::new(),
            waited: BTreeSet::new(),
        }
    }

    /// One look at every execution in `ids` not seen ended yet.
    pub fn look(&mut self, ids: &[ExecutionId]) {
        self.look_at(ids, false);
    }

    /// The last look, at every execution in `ids`, ended or not: an
    /// execution ends before its waves hear of it (a cancel reaches the
    /// waves not started through messages of their own).
    pub fn look_again(&mut self, ids: &[ExecutionId]) {
        self.look_at(ids, true);
    }

    fn look_at(&mut self, ids: &[ExecutionId], all: bool) {
        for &id in ids {
            if !all && !self.awaiting.contains(&id) && self.latest.get(&id).is_some_and(Seen::ended)
            {
                continue;
            }
            let store = self.stage.store();
            let seen = self.stage.block_on(async {
                let execution = store.load_execution(id).await.ok()??.record;
                let waves = store.load_waves(id).await.ok()?;
                Some(Seen { execution, waves })
            });
            let Some(seen) = seen else {
                continue; // not created yet (its start is queued), or a busy file
            };
            if let Some(breach) = seen.completed_wrongly()
                && !self.breaches.contains(&breach)
            {
                self.breaches.push(breach);
            }
            for wave in seen
                .waves
                .iter()
                .filter(|w| w.status == WaveStatus::Waiting)
            {
                self.waited.insert((id, wave.number.0, wave.attempt));
            }
            self.latest.insert(id, seen);
        }
        self.looks += 1;
    }

    /// Whether every execution in `ids` was seen ended, with nothing left
    /// for the operator to do.
    pub fn all_ended(&self, ids: &[ExecutionId]) -> bool {
        ids.iter()
            .all(|id| !self.awaiting.contains(id) && self.latest.get(id).is_some_and(Seen::ended))
    }
}
