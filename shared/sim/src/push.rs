//! Launch-result push: DRS emits a "DRS Source Server Launch Result" event
//! through EventBridge when a server's launch ends, which lets Ripcord learn
//! of it before its next poll. The pusher is a tokio task that sleeps until
//! the next server reaches a terminal launch state and hands the result to a
//! [`LaunchResultSink`], once per server per job. `stuck` servers never end
//! and `not_launched` servers never launch, so neither is ever pushed: only
//! polling finds those out.
//!
//! Which results went out is part of the simulated world, so pushers in
//! several processes sharing one world push each result once between them.
//! With `faults.drop_launch_results` a seeded share of them is marked pushed
//! but never handed to the sink (counted in the world): a lost event, which
//! only the engine's polling can make up for.

use crate::jobs::LaunchPlan;
pub use crate::launch_results::{LAUNCH_FAILED, LAUNCH_SUCCEEDED, LaunchResult, LaunchResultSink};
use crate::scenario::LaunchOutcome;
use crate::simulator::Simulator;
use ripcord::time::Timestamp;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// The longest real time the pusher sleeps before looking again, so a clock
/// that jumps (a test's manual clock) is noticed soon.
const MAX_NAP: Duration = Duration::from_millis(200);

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
                                sink.launch_result_detail(&r).await;
                            }
                        }
                    }
                    Next::WaitUntil(t) => {
                        let wait = ripcord::time::between(sim.clock.now(), t);
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
        let mut next = Next::Idle;
        let stored = self.world.update(&mut |st| {
            next = due_results(st, self.clock.now(), &self.scenario.faults);
            matches!(next, Next::Push(_))
        });
        if let Err(e) = stored {
            tracing::warn!(error = %e, "the pusher cannot reach the simulated world; polling will find the results");
            return Next::Idle;
        }
        next
    }
}

/// The results due at `now` (marked as pushed; those `faults` drops left
/// out), or when the next one is due.
fn due_results(
    st: &mut crate::state::SimState,
    now: Timestamp,
    faults: &crate::scenario::Faults,
) -> Next {
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
                        job_id: job.id.clone(),
                        is_drill: matches!(
                            job.kind,
                            crate::jobs::JobKind::Launch { is_drill: true, .. }
                        ),
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
    let mut delivered = Vec::with_capacity(due.len());
    for (_, _, result) in due {
        if st.faults.drops_push(faults) {
            st.pushes_dropped += 1;
            tracing::debug!(job_id = %result.job_id, source_server_id = %result.source_server_id, "a pushed launch result was dropped (faults.drop_launch_results)");
        } else {
            delivered.push(result);
        }
    }
    Next::Push(delivered)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{server, start, t0, wave_tags};
    use super::*;
    use crate::parse_scenario;
    use async_trait::async_trait;
    use ripcord::ids::SourceServerId;
    use ripcord::ports::clock::ScaledClock;
    use ripcord::ports::drs::RecoveryService;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// (job tags, server, state) as pushed.
    type Pushed = (BTreeMap<String, String>, SourceServerId, String);

    #[derive(Default)]
    struct Recorder {
        results: Mutex<Vec<Pushed>>,
    }

    #[async_trait]
    impl LaunchResultSink for Recorder {
        async fn launch_result(
            &self,
            tags: &BTreeMap<String, String>,
            source_server_id: &SourceServerId,
            state: &str,
        ) {
            self.results.lock().unwrap().push((
                tags.clone(),
                source_server_id.clone(),
                state.to_owned(),
            ));
        }
    }

    const SCENARIO: &str = r#"
job_pending: 10s
launch_duration: { min: 1m, max: 5m }
servers:
  s-1234567890abcdef0: { outcome: launch_failed }
  s-1234567890abcdef1: { outcome: stuck }
  s-1234567890abcdef3: { outcome: not_launched }
"#;

    #[tokio::test]
    async fn each_terminal_server_is_pushed_exactly_once() {
        // 3000x: the 5m10s of the drill take about 0.1 s.
        let clock = Arc::new(ScaledClock::new(t0(), 3000.0));
        let sim = Simulator::new(parse_scenario(SCENARIO, "push.yaml").unwrap(), clock);
        let recorder = Arc::new(Recorder::default());
        sim.set_launch_result_sink(recorder.clone());
        // Two pushers: a result must still go out once.
        let pushers = [sim.spawn_pusher(), sim.spawn_pusher()];
        let wave1 = [server(0), server(1), server(2), server(3)];
        sim.start_recovery(&start(&wave1, 1)).await.unwrap();
        sim.start_recovery(&start(&[server(4), server(5)], 2))
            .await
            .unwrap();

        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while recorder.results.lock().unwrap().len() < 4 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Another 10 simulated minutes: nothing more may come.
        tokio::time::sleep(Duration::from_millis(200)).await;
        for p in pushers {
            p.abort();
        }

        let mut results = recorder.results.lock().unwrap().clone();
        results.sort_by(|a, b| a.1.cmp(&b.1));
        let expected = [
            (wave_tags(1), server(0), LAUNCH_FAILED),
            (wave_tags(1), server(2), LAUNCH_SUCCEEDED),
            (wave_tags(2), server(4), LAUNCH_SUCCEEDED),
            (wave_tags(2), server(5), LAUNCH_SUCCEEDED),
        ]
        .map(|(t, s, st)| (t, s, st.to_owned()));
        assert_eq!(results, expected);
    }

    #[tokio::test]
    async fn dropped_results_are_counted_and_never_delivered() {
        let clock = Arc::new(ScaledClock::new(t0(), 3000.0));
        let scenario = format!("{SCENARIO}faults: {{ drop_launch_results: 1.0 }}\n");
        let sim = Simulator::new(parse_scenario(&scenario, "push.yaml").unwrap(), clock);
        let recorder = Arc::new(Recorder::default());
        sim.set_launch_result_sink(recorder.clone());
        let pusher = sim.spawn_pusher();
        // Servers 0 (fails) and 2 (launches) end; 1 is stuck, 3 never launches.
        let wave = [server(0), server(1), server(2), server(3)];
        sim.start_recovery(&start(&wave, 1)).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while sim.world_snapshot().unwrap().dropped_count() < 2
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        pusher.abort();
        let world = sim.world_snapshot().unwrap();
        assert_eq!((world.pushed_count(), world.dropped_count()), (2, 2));
        assert!(recorder.results.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn nothing_is_pushed_when_the_scenario_says_so() {
        let clock = Arc::new(ScaledClock::new(t0(), 3000.0));
        let scenario = format!("{SCENARIO}push_launch_results: false\n");
        let sim = Simulator::new(parse_scenario(&scenario, "push.yaml").unwrap(), clock);
        let recorder = Arc::new(Recorder::default());
        sim.set_launch_result_sink(recorder.clone());
        let pusher = sim.spawn_pusher();
        sim.start_recovery(&start(&[server(2)], 1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(pusher.is_finished());
        assert!(recorder.results.lock().unwrap().is_empty());
    }
}
