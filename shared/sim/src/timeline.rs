//! What the simulated DRS account held over time, from its own job
//! records: each launch job from its creation to the end of its last
//! server, and the most jobs and servers it ever had active at once. A
//! check of the engine's capacity ledger reads these (docs/capacity.md),
//! never the engine's own records.

use crate::jobs::JobKind;
use crate::state::SimState;
use ripcord::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A launch job's timeline, see [`SimState::launch_timeline`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchTimeline {
    pub job_id: String,
    pub tags: BTreeMap<String, String>,
    pub created: Timestamp,
    /// When its last server settles (launched or failed): the job is
    /// active until then. `None` while a stuck server keeps it open.
    pub last_settled: Option<Timestamp>,
    /// The source servers in the job: what it counts against the quota of
    /// servers in active jobs while it is active.
    pub servers: usize,
}

impl SimState {
    /// Each launch job with when its last server settles: what a benchmark
    /// measures the engine's reaction against, and what a capacity check
    /// adds up.
    pub fn launch_timeline(&self) -> Vec<LaunchTimeline> {
        self.jobs
            .iter()
            .filter(|j| matches!(j.kind, JobKind::Launch { .. }))
            .map(|j| LaunchTimeline {
                job_id: j.id.clone(),
                tags: j.tags.clone(),
                created: j.created,
                last_settled: j
                    .launch_servers()
                    .iter()
                    .map(|s| s.terminal_at())
                    .collect::<Option<Vec<_>>>()
                    .and_then(|t| t.into_iter().max()),
                servers: j.server_ids().len(),
            })
            .collect()
    }
}

/// The most launch jobs, and the most servers in launch jobs, active at
/// one instant (the two DRS quotas a StartRecovery is checked against).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeakLoad {
    pub jobs: usize,
    pub servers: usize,
}

/// The peaks of `timeline`. A job is active from its creation until its
/// last server settled; at one instant, jobs ending free their place before
/// new ones count (as DRS checks a StartRecovery).
pub fn peak_load(timeline: &[LaunchTimeline]) -> PeakLoad {
    let mut changes: Vec<(Timestamp, i64, i64)> = Vec::new();
    for job in timeline {
        changes.push((job.created, 1, job.servers as i64));
        if let Some(end) = job.last_settled {
            changes.push((end, -1, -(job.servers as i64)));
        }
    }
    changes.sort_by_key(|&(at, jobs, _)| (at, jobs));
    let (mut jobs, mut servers) = (0i64, 0i64);
    let mut peak = PeakLoad::default();
    for (_, dj, ds) in changes {
        jobs += dj;
        servers += ds;
        peak.jobs = peak.jobs.max(jobs as usize);
        peak.servers = peak.servers.max(servers as usize);
    }
    peak
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(created: i64, ended: Option<i64>, servers: usize) -> LaunchTimeline {
        let at = |s: i64| Timestamp::from_timestamp(1_800_000_000 + s, 0).expect("a time");
        LaunchTimeline {
            job_id: format!("drsjob-{created}"),
            tags: BTreeMap::new(),
            created: at(created),
            last_settled: ended.map(at),
            servers,
        }
    }

    #[test]
    fn the_peaks_count_jobs_overlapping_in_time_and_free_a_place_at_its_end() {
        let timeline = [
            job(0, Some(10), 3),
            job(5, Some(20), 3),
            // Starts as the first ends: the two do not overlap.
            job(10, Some(30), 4),
            job(40, None, 1),
        ];
        assert_eq!(
            peak_load(&timeline),
            PeakLoad {
                jobs: 2,
                servers: 7
            }
        );
        assert_eq!(peak_load(&[]), PeakLoad::default());
    }
}
