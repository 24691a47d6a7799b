//! One DescribeJobs for all the jobs a worker process watches.
//!
//! A poll asks for its wave's job as fresh as its due time. If a look at
//! DRS made at or after that time already holds the job, the poll is
//! served from it; otherwise the watch describes every job it watches (the
//! asked one included) in one call per 1,000 ids, and that answer serves
//! every poll due by the time it was made. Polls are due on a tick shared
//! by all waves (`machine::wave::next_tick`), so every wave polled in a tick
//! costs the process one DescribeJobs together, not one each.
//!
//! One look at a time: a poll waits for a look in flight and is then
//! served by it if it is fresh enough. A failed look is answered to every
//! poll it would have served, so a throttled DRS is not asked again by each
//! of them.

use super::MAX_JOB_IDS_PER_DESCRIBE;
use ripcord::ports::Clock;
use ripcord::ports::drs::{RecoveryJob, RecoveryService};
use ripcord::service_error::ServiceError;
use ripcord::time::Timestamp;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::Mutex;

/// A job nobody asked for in this long is no longer described.
pub const WATCH_IDLE: Duration = Duration::from_secs(600);

#[derive(Default)]
pub struct JobWatch {
    state: Mutex<WatchState>,
}

#[derive(Default)]
struct WatchState {
    jobs: BTreeMap<String, Watched>,
    /// When the last look at DRS began, if it failed, and why.
    failed: Option<(Timestamp, ServiceError)>,
}

struct Watched {
    /// `None` until described, or when the last look did not find it.
    job: Option<RecoveryJob>,
    /// When the look that described it began.
    described: Option<Timestamp>,
    wanted: Timestamp,
}

impl JobWatch {
    /// The job as DRS reported it at or after `fresh_since`; `None` if DRS
    /// does not know it.
    pub async fn job(
        &self,
        drs: &dyn RecoveryService,
        clock: &dyn Clock,
        job_id: &str,
        fresh_since: Timestamp,
    ) -> Result<Option<RecoveryJob>, ServiceError> {
        let mut state = self.state.lock().await;
        let now = clock.now();
        state
            .jobs
            .retain(|_, w| ripcord::time::between(w.wanted, now) < WATCH_IDLE);
        let watched = state.jobs.entry(job_id.to_owned()).or_insert(Watched {
            job: None,
            described: None,
            wanted: now,
        });
        watched.wanted = now;
        if watched.described.is_some_and(|at| at >= fresh_since) {
            return Ok(watched.job.clone());
        }
        if let Some((at, error)) = &state.failed
            && *at >= fresh_since
        {
            return Err(error.clone());
        }
        let began = clock.now();
        let ids: Vec<String> = state.jobs.keys().cloned().collect();
        let mut found = Vec::new();
        for chunk in ids.chunks(MAX_JOB_IDS_PER_DESCRIBE) {
            match drs.describe_jobs(chunk).await {
                Ok(jobs) => found.extend(jobs),
                Err(error) => {
                    state.failed = Some((began, error.clone()));
                    return Err(error);
                }
            }
        }
        state.failed = None;
        for watched in state.jobs.values_mut() {
            watched.job = None;
            watched.described = Some(began);
        }
        for job in found {
            if let Some(watched) = state.jobs.get_mut(&job.job_id) {
                watched.job = Some(job);
            }
        }
        Ok(state.jobs.get(job_id).and_then(|w| w.job.clone()))
    }

    /// The tags of a job: from any earlier look (a job's tags never
    /// change), else from a fresh one. What a pushed launch result is
    /// addressed by.
    pub async fn tags(
        &self,
        drs: &dyn RecoveryService,
        clock: &dyn Clock,
        job_id: &str,
    ) -> Result<Option<BTreeMap<String, String>>, ServiceError> {
        {
            let state = self.state.lock().await;
            if let Some(job) = state.jobs.get(job_id).and_then(|w| w.job.as_ref()) {
                return Ok(Some(job.tags.clone()));
            }
        }
        let job = self.job(drs, clock, job_id, clock.now()).await?;
        Ok(job.map(|j| j.tags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::ids::SourceServerId;
    use ripcord::ports::clock::ManualClock;
    use ripcord::ports::drs::StartRecoveryRequest;
    use ripcord_sim::Simulator;
    use ripcord_sim::scenario::{Operation, Scenario};
    use std::sync::Arc;

    async fn two_jobs() -> (Arc<Simulator>, Arc<ManualClock>, String, String) {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let sim = Simulator::new(Scenario::default(), clock.clone());
        let mut ids = Vec::new();
        for n in 1..=2 {
            let request = StartRecoveryRequest {
                source_servers: vec![SourceServerId::parse(&format!("s-{n:017x}")).unwrap()],
                is_drill: true,
                tags: [("n".to_owned(), n.to_string())].into(),
                recovery_snapshots: Default::default(),
            };
            ids.push(sim.start_recovery(&request).await.unwrap().job_id);
        }
        (sim, clock, ids.remove(0), ids.remove(0))
    }

    #[tokio::test]
    async fn polls_due_by_a_look_share_it_and_later_ones_look_again() {
        let (sim, clock, a, b) = two_jobs().await;
        let watch = JobWatch::default();
        let due = clock.now();
        // Both jobs are watched once asked for.
        watch.job(&*sim, &*clock, &a, due).await.unwrap().unwrap();
        watch.job(&*sim, &*clock, &b, due).await.unwrap().unwrap();
        let before = sim.call_count(Operation::DescribeJobs);
        clock.advance(std::time::Duration::from_secs(15));
        let tick = clock.now();
        // The first poll of the tick describes both; the second is served.
        assert!(watch.job(&*sim, &*clock, &a, tick).await.unwrap().is_some());
        assert!(watch.job(&*sim, &*clock, &b, tick).await.unwrap().is_some());
        assert_eq!(sim.call_count(Operation::DescribeJobs), before + 1);
        // A poll due after that look needs a new one.
        clock.advance(std::time::Duration::from_secs(1));
        watch.job(&*sim, &*clock, &b, clock.now()).await.unwrap();
        assert_eq!(sim.call_count(Operation::DescribeJobs), before + 2);
        // Tags never change: a pushed result is addressed without a call.
        let tags = watch.tags(&*sim, &*clock, &a).await.unwrap().unwrap();
        assert_eq!(tags.get("n").map(String::as_str), Some("1"));
        assert_eq!(sim.call_count(Operation::DescribeJobs), before + 2);
    }

    #[tokio::test]
    async fn an_unknown_job_is_none_and_idle_jobs_are_no_longer_described() {
        let (sim, clock, a, _) = two_jobs().await;
        let watch = JobWatch::default();
        assert!(
            watch
                .job(&*sim, &*clock, "drsjob-00000000000000000", clock.now())
                .await
                .unwrap()
                .is_none()
        );
        clock.advance(WATCH_IDLE + std::time::Duration::from_secs(1));
        watch.job(&*sim, &*clock, &a, clock.now()).await.unwrap();
        let state = watch.state.lock().await;
        assert_eq!(state.jobs.keys().collect::<Vec<_>>(), vec![&a]);
    }
}
