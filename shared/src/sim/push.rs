//! Launch-result push: DRS emits a "DRS Source Server Launch Result" event
//! through EventBridge when a server's launch ends, which lets Ripcord learn
//! of it before its next poll. The pusher is a tokio task that sleeps until
//! the next server reaches a terminal launch state and hands the result to a
//! [`LaunchResultSink`], once per server per job. `stuck` servers never end
//! and `not_launched` servers never launch, so neither is ever pushed: only
//! polling finds those out.

use super::Simulator;
use super::drs::LaunchPlan;
use super::scenario::LaunchOutcome;
use crate::ids::SourceServerId;
use crate::time::Timestamp;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

pub const LAUNCH_SUCCEEDED: &str = "LAUNCH_SUCCEEDED";
pub const LAUNCH_FAILED: &str = "LAUNCH_FAILED";

/// The longest real time the pusher sleeps before looking again, so a clock
/// that jumps (a test's manual clock) is noticed soon.
const MAX_NAP: Duration = Duration::from_millis(200);

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
}

/// One launch result ready to push.
struct LaunchResult {
    tags: BTreeMap<String, String>,
    source_server_id: SourceServerId,
    state: &'static str,
}

/// What the pusher should do next.
enum Next {
    Push(Vec<LaunchResult>),
    WaitUntil(Timestamp),
    Idle,
}

fn pushed_state(s: &LaunchPlan) -> Option<&'static str> {
    match s.spec.outcome {
        LaunchOutcome::Launched => Some(LAUNCH_SUCCEEDED),
        LaunchOutcome::LaunchFailed => Some(LAUNCH_FAILED),
        LaunchOutcome::Stuck | LaunchOutcome::NotLaunched => None,
    }
}

impl Simulator {
    /// Where launch results go; replaces an earlier sink.
    pub fn set_launch_result_sink(&self, sink: Arc<dyn LaunchResultSink>) {
        *self.sink.lock().unwrap_or_else(PoisonError::into_inner) = Some(sink);
        self.wake.notify_one();
    }

    /// Starts the pusher. With `push_launch_results: false` in the scenario
    /// the task ends at once. Abort the handle to stop it.
    pub fn spawn_pusher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let sim = Arc::clone(self);
        tokio::spawn(async move {
            if !sim.scenario.push_launch_results {
                return;
            }
            loop {
                match sim.next_push() {
                    Next::Push(results) => {
                        let sink = sim
                            .sink
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .clone();
                        if let Some(sink) = sink {
                            for r in results {
                                sink.launch_result(&r.tags, &r.source_server_id, r.state)
                                    .await;
                            }
                        }
                    }
                    Next::WaitUntil(t) => {
                        let wait = crate::time::between(sim.clock.now(), t);
                        let nap = sim.clock.to_real(wait).min(MAX_NAP) + Duration::from_millis(1);
                        tokio::select! {
                            () = tokio::time::sleep(nap) => {}
                            () = sim.wake.notified() => {}
                        }
                    }
                    Next::Idle => {
                        tokio::select! {
                            () = tokio::time::sleep(MAX_NAP) => {}
                            () = sim.wake.notified() => {}
                        }
                    }
                }
            }
        })
    }

    /// The results due now (marked as pushed), or when the next one is due.
    fn next_push(&self) -> Next {
        if self
            .sink
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
        {
            return Next::Idle;
        }
        let mut st = self.lock();
        let now = self.clock.now();
        let mut due = Vec::new();
        let mut next: Option<Timestamp> = None;
        for (j, job) in st.jobs.iter().enumerate() {
            for (s, server) in job.launch_servers().iter().enumerate() {
                let Some(state) = pushed_state(server) else {
                    continue;
                };
                if st.pushed.contains(&(j, s)) {
                    continue;
                }
                if server.ends_at <= now {
                    due.push((
                        (j, s),
                        server.ends_at,
                        LaunchResult {
                            tags: job.tags.clone(),
                            source_server_id: server.source_server_id.clone(),
                            state,
                        },
                    ));
                } else {
                    next = Some(next.map_or(server.ends_at, |n| n.min(server.ends_at)));
                }
            }
        }
        if due.is_empty() {
            return next.map_or(Next::Idle, Next::WaitUntil);
        }
        due.sort_by_key(|(_, at, _)| *at);
        st.pushed.extend(due.iter().map(|(key, _, _)| *key));
        Next::Push(due.into_iter().map(|(_, _, r)| r).collect())
    }
}
