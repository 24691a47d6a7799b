//! DRS capacity, shared by every launch of a deployment (docs/capacity.md).
//!
//! DRS refuses a StartRecovery beyond its quotas: concurrent jobs, servers
//! in all active jobs, servers in one job. A recovery that hits them is a
//! recovery failed by the orchestrator, so every launch first takes its
//! servers from one [`Ledger`] kept in the store and written conditionally:
//! a wave that does not fit waits in line, in a fixed order (recovery before
//! drill, then by execution start, then by wave), and starts when the
//! capacity it needs is free.
//!
//! The ledger is plain data and [`Ledger::admit`] a pure function of it, so
//! what two workers racing for the last servers can do is decided by the
//! store's conditional write alone: whoever saves second reads the first
//! one's hold and decides again. Holds and places in line expire, so a
//! holder that never comes back (a crash between the grant and its record,
//! a deleted execution) cannot keep capacity for ever.

use crate::ids::{ExecutionId, WaveNumber};
use crate::time::{Timestamp, after};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::time::Duration;

mod servers;
#[cfg(test)]
mod tests;

pub use servers::{BUSY_SHOWN, BusyServer, ServerClaim, ServerHold, describe_busy};

/// How long past its own time limit (a launch's timeout, an execution's)
/// a hold outlives a holder that never gave it back: a job may start late,
/// and the last look takes a poll.
pub const HOLD_MARGIN: Duration = Duration::from_secs(15 * 60);

/// The DRS quotas of the account a deployment launches in. The defaults
/// are AWS's documented defaults (docs/aws-facts.md).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quotas {
    /// Jobs that may be active at once.
    pub concurrent_jobs: u32,
    /// Source servers in all active jobs together.
    pub servers_in_active_jobs: u32,
    /// Source servers in one job.
    pub servers_per_job: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            concurrent_jobs: 20,
            servers_in_active_jobs: 500,
            servers_per_job: 100,
        }
    }
}

/// One launch: one attempt of one wave of one execution.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub execution_id: ExecutionId,
    pub wave: WaveNumber,
    pub attempt: u32,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "execution {} wave {} attempt {}",
            self.execution_id, self.wave, self.attempt
        )
    }
}

/// Where a launch stands in line: recoveries before drills, then the
/// execution that started first, then the lower wave.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Priority {
    pub recovery: bool,
    pub execution_started: Timestamp,
}

/// What a launch asks of the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub holder: Holder,
    pub servers: u32,
    pub priority: Priority,
    /// How long a grant lasts if it is never released: longer than the
    /// launch can take (its launch timeout and a margin).
    #[serde(with = "humantime_serde")]
    pub hold_for: Duration,
    /// How long a place in line lasts without being asked again: a few of
    /// the waiting wave's ticks, so a wave that stopped asking (cancelled,
    /// its execution deleted) stops holding up the ones behind it.
    #[serde(with = "humantime_serde")]
    pub wait_for: Duration,
}

/// Capacity a launch holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub holder: Holder,
    pub servers: u32,
    pub recovery: bool,
    pub granted_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A launch waiting in line.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Waiter {
    pub holder: Holder,
    pub servers: u32,
    pub priority: Priority,
    /// When it first asked.
    pub since: Timestamp,
    /// When its place lapses unless it asks again.
    pub expires_at: Timestamp,
}

impl Waiter {
    fn order(&self, other: &Waiter) -> Ordering {
        (
            !self.priority.recovery,
            self.priority.execution_started,
            &self.holder,
        )
            .cmp(&(
                !other.priority.recovery,
                other.priority.execution_started,
                &other.holder,
            ))
    }
}

/// The deployment's DRS capacity: what is held and who waits, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    pub holds: Vec<Hold>,
    /// In admission order.
    pub waiting: Vec<Waiter>,
    /// The quotas the last writer admitted against, for the views.
    #[serde(default)]
    pub quotas: Quotas,
    /// The servers each active execution holds (one server, one active
    /// execution).
    #[serde(default)]
    pub executions: Vec<ServerHold>,
}

/// Why a launch waits: the capacity in use when it last asked, and how
/// many launches are ahead of it in line.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityWait {
    pub servers_wanted: u32,
    pub servers_in_use: u32,
    pub servers_quota: u32,
    pub jobs_in_use: u32,
    pub jobs_quota: u32,
    /// Launches ahead of this one in line.
    pub ahead: u32,
}

impl std::fmt::Display for CapacityWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "waiting for DRS capacity: {} of {} servers in active jobs, {} of {} jobs, {} more wanted",
            self.servers_in_use,
            self.servers_quota,
            self.jobs_in_use,
            self.jobs_quota,
            self.servers_wanted
        )?;
        match self.ahead {
            0 => Ok(()),
            1 => write!(f, ", 1 wave ahead"),
            n => write!(f, ", {n} waves ahead"),
        }
    }
}

/// What the ledger answers a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The claim holds its servers until released (or until its hold expires).
    Granted,
    /// Not now: the claim keeps its place in line.
    Wait(CapacityWait),
    /// Never: the claim is bigger than a quota allows, however long it waits.
    TooBig(String),
}

/// What the ledger holds now, for the status, the dashboard and `/metrics`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityUsage {
    pub servers_in_use: u32,
    pub jobs_in_use: u32,
    pub waves_waiting: u32,
    pub servers_waiting: u32,
    pub quotas: Quotas,
}

/// The ledger as the API shows it (`GET /api/capacity`): what is in use
/// against which quotas, who holds, and who waits, in the order they will
/// be admitted. Lapsed entries are left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CapacityView {
    pub usage: CapacityUsage,
    pub holds: Vec<Hold>,
    pub waiting: Vec<Waiter>,
}

impl Ledger {
    /// What the ledger holds and who waits at `now`.
    pub fn view(&self, now: Timestamp) -> CapacityView {
        let mut live = self.clone();
        live.expire(now);
        CapacityView {
            usage: live.counts(),
            holds: live.holds,
            waiting: live.waiting,
        }
    }

    /// Takes `claim`'s servers if they fit behind everyone ahead of it in
    /// line; otherwise puts it in line (or keeps its place) and says why.
    /// Asking again for what is already held is granted again: a worker
    /// that crashed after a grant finds it.
    pub fn admit(&mut self, claim: &Claim, quotas: &Quotas, now: Timestamp) -> Admission {
        self.quotas = *quotas;
        self.expire(now);
        if self.holds.iter().any(|h| h.holder == claim.holder) {
            return Admission::Granted;
        }
        if let Some(reason) = too_big(claim.servers, quotas) {
            self.waiting.retain(|w| w.holder != claim.holder);
            return Admission::TooBig(reason);
        }
        let since = self
            .waiting
            .iter()
            .find(|w| w.holder == claim.holder)
            .map_or(now, |w| w.since);
        self.waiting.retain(|w| w.holder != claim.holder);
        let me = Waiter {
            holder: claim.holder.clone(),
            servers: claim.servers,
            priority: claim.priority,
            since,
            expires_at: after(now, claim.wait_for),
        };
        let place = self
            .waiting
            .iter()
            .position(|w| w.order(&me) == Ordering::Greater)
            .unwrap_or(self.waiting.len());
        self.waiting.insert(place, me);

        // Those ahead go first: each that fits is counted as admitted; the
        // first that does not fit stops everyone behind it.
        let (mut servers, mut jobs) = self.in_use();
        let mut blocked = false;
        for ahead in &self.waiting[..place] {
            if fits(servers, jobs, ahead.servers, quotas) {
                servers += ahead.servers;
                jobs += 1;
            } else {
                blocked = true;
                break;
            }
        }
        if !blocked && fits(servers, jobs, claim.servers, quotas) {
            self.waiting.remove(place);
            self.holds.push(Hold {
                holder: claim.holder.clone(),
                servers: claim.servers,
                recovery: claim.priority.recovery,
                granted_at: now,
                expires_at: after(now, claim.hold_for),
            });
            return Admission::Granted;
        }
        let (servers_in_use, jobs_in_use) = self.in_use();
        Admission::Wait(CapacityWait {
            servers_wanted: claim.servers,
            servers_in_use,
            servers_quota: quotas.servers_in_active_jobs,
            jobs_in_use,
            jobs_quota: quotas.concurrent_jobs,
            ahead: place as u32,
        })
    }

    /// Gives back what `holder` holds and its place in line. Releasing what
    /// is not held changes nothing.
    pub fn release(&mut self, holder: &Holder) -> bool {
        let before = self.holds.len() + self.waiting.len();
        self.holds.retain(|h| h.holder != *holder);
        self.waiting.retain(|w| w.holder != *holder);
        before != self.holds.len() + self.waiting.len()
    }

    /// Drops the holds, places in line and server holds that lapsed by
    /// `now`.
    pub fn expire(&mut self, now: Timestamp) {
        self.holds.retain(|h| h.expires_at > now);
        self.waiting.retain(|w| w.expires_at > now);
        self.executions.retain(|h| h.expires_at > now);
    }

    /// Servers and jobs held now.
    pub fn in_use(&self) -> (u32, u32) {
        (
            self.holds.iter().map(|h| h.servers).sum(),
            self.holds.len() as u32,
        )
    }

    /// What is held and waiting at `now` (lapsed entries not counted).
    pub fn usage(&self, now: Timestamp) -> CapacityUsage {
        let mut live = self.clone();
        live.expire(now);
        live.counts()
    }

    /// What is held and waiting, lapsed entries included.
    fn counts(&self) -> CapacityUsage {
        let (servers_in_use, jobs_in_use) = self.in_use();
        CapacityUsage {
            servers_in_use,
            jobs_in_use,
            waves_waiting: self.waiting.len() as u32,
            servers_waiting: self.waiting.iter().map(|w| w.servers).sum(),
            quotas: self.quotas,
        }
    }
}

fn fits(servers: u32, jobs: u32, more: u32, quotas: &Quotas) -> bool {
    jobs < quotas.concurrent_jobs && servers + more <= quotas.servers_in_active_jobs
}

/// Why `servers` can never be admitted under `quotas`, if so.
pub fn too_big(servers: u32, quotas: &Quotas) -> Option<String> {
    if servers > quotas.servers_per_job {
        Some(format!(
            "a wave of {servers} servers is more than the DRS quota of {} servers per job; \
             split the wave (plan option split_large_waves) or raise the quota",
            quotas.servers_per_job
        ))
    } else if servers > quotas.servers_in_active_jobs {
        Some(format!(
            "a wave of {servers} servers is more than the DRS quota of {} servers in all active jobs; \
             split the wave or raise the quota",
            quotas.servers_in_active_jobs
        ))
    } else if quotas.concurrent_jobs == 0 {
        Some("the DRS quota of concurrent jobs is 0; raise it".to_owned())
    } else {
        None
    }
}
