//! One source server, one active execution: the servers each active
//! execution holds, in the same ledger as the launch capacity
//! (docs/capacity.md). An execution claims every server of its plan before
//! its first wave starts and gives them back when it ends; a second
//! execution wanting one of them is refused at its start, or waits
//! (the plan's `options.busy_servers`), so a drill never launches a server
//! a running recovery holds.

use super::Ledger;
use crate::ids::{ExecutionId, SourceServerId, WaveNumber};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::BTreeSet;

/// The servers one active execution holds, by wave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServerHold {
    pub execution_id: ExecutionId,
    pub recovery: bool,
    pub servers: BTreeMap<WaveNumber, Vec<SourceServerId>>,
    pub since: Timestamp,
    /// Past the execution's timeout and a margin: a hold its execution
    /// never gave back lapses.
    pub expires_at: Timestamp,
}

/// A server another active execution holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusyServer {
    pub source_server_id: SourceServerId,
    pub execution_id: ExecutionId,
    pub wave: WaveNumber,
    pub recovery: bool,
}

/// What the ledger answers an execution's claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerClaim {
    Claimed,
    /// Servers other active executions hold (the first ones found).
    Busy(Vec<BusyServer>),
}

/// How many busy servers an answer names at most.
pub const BUSY_SHOWN: usize = 20;

impl Ledger {
    /// Takes every server of `hold` for its execution, if no other active
    /// execution holds any of them; names those that do otherwise. Asking
    /// again for what the execution holds is granted again.
    pub fn claim_servers(&mut self, hold: &ServerHold, now: Timestamp) -> ServerClaim {
        self.expire(now);
        if self
            .executions
            .iter()
            .any(|h| h.execution_id == hold.execution_id)
        {
            return ServerClaim::Claimed;
        }
        let wanted: BTreeSet<&SourceServerId> = hold.servers.values().flatten().collect();
        let mut busy = self.busy_servers(&wanted, None);
        busy.truncate(BUSY_SHOWN);
        if !busy.is_empty() {
            return ServerClaim::Busy(busy);
        }
        self.executions.push(hold.clone());
        ServerClaim::Claimed
    }

    /// Every server of `wanted` that an active execution other than
    /// `except` holds (pre-flight names them all; a claim the first few).
    pub fn busy_servers(
        &self,
        wanted: &BTreeSet<&SourceServerId>,
        except: Option<ExecutionId>,
    ) -> Vec<BusyServer> {
        self.executions
            .iter()
            .filter(|other| Some(other.execution_id) != except)
            .flat_map(|other| {
                other.servers.iter().flat_map(move |(wave, servers)| {
                    servers.iter().map(move |s| BusyServer {
                        source_server_id: s.clone(),
                        execution_id: other.execution_id,
                        wave: *wave,
                        recovery: other.recovery,
                    })
                })
            })
            .filter(|b| wanted.contains(&b.source_server_id))
            .collect()
    }

    /// Gives back the servers `execution_id` holds.
    pub fn release_servers(&mut self, execution_id: ExecutionId) -> bool {
        let before = self.executions.len();
        self.executions.retain(|h| h.execution_id != execution_id);
        before != self.executions.len()
    }
}

/// "server s-… is in active execution … (wave 2 of a drill)", and how many
/// more, for the execution's reason.
pub fn describe_busy(busy: &[BusyServer]) -> String {
    let Some(first) = busy.first() else {
        return "no server is busy".to_owned();
    };
    let kind = if first.recovery {
        "a recovery"
    } else {
        "a drill"
    };
    let more = match busy.len() - 1 {
        0 => String::new(),
        n if busy.len() >= BUSY_SHOWN => format!(" (and {n} or more others)"),
        n => format!(" (and {n} more)"),
    };
    format!(
        "server {} is in active execution {} (wave {} of {kind}){more}",
        first.source_server_id, first.execution_id, first.wave
    )
}
