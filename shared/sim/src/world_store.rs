//! Where the simulated world lives: the port the [`Simulator`](super::Simulator)
//! keeps its mutable state ([`SimState`]: jobs, commands, terminations,
//! generators, call counts) behind.
//!
//! [`InMemoryWorld`] is the default: one process, one world, a mutex. The
//! embedded backend's `EmbeddedSimWorld` keeps the world in the database file
//! instead, so several `ripcord worker` processes see one simulated DRS
//! account: a job started by one process is polled by another.

use crate::state::SimState;
use std::sync::{Mutex, PoisonError};

/// Why the simulated world could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SimWorldError {
    #[error(
        "the simulated world could not be read or written: {0}; check that the database file is reachable and not locked by a hung process"
    )]
    Storage(String),
    #[error(
        "the simulated world {world} is unreadable: {reason}; it was written by an incompatible ripcord; use a new --db file"
    )]
    Corrupt { world: String, reason: String },
    #[error(
        "the simulated world in {db} runs {stored}, but this process was given {requested}, which differs; start every process on this database with the same --scenario (or none, to use the stored one), or use a new --db file"
    )]
    ScenarioMismatch {
        db: String,
        stored: String,
        requested: String,
    },
    #[error(
        "the scenario stored with the simulated world in {db} no longer parses: {source}; use a new --db file"
    )]
    StoredScenario {
        db: String,
        #[source]
        source: super::ScenarioError,
    },
    #[error(
        "no simulated world in {db}; `ripcord worker` or `ripcord start --scenario` creates one"
    )]
    NoWorld { db: String },
}

/// Holds a simulated world and runs every simulator call on it alone.
pub trait SimWorldStore: Send + Sync {
    /// Runs `call` on the current state with no other call on the same
    /// world (in this process or any other) in between. `call` returns
    /// whether it changed the state other than its call counts
    /// ([`SimState::calls`], [`SimState::faults_injected`]): a store keeps
    /// every change to the counts, but writes the rest of an unchanged
    /// state back only if it returns true (most calls only read).
    /// `call` may run again if the store has to retry, so it must compute
    /// its answer from the state it is given.
    fn update(&self, call: &mut dyn FnMut(&mut SimState) -> bool) -> Result<(), SimWorldError>;
}

/// A world in this process' memory: today's behaviour, and the fast path
/// `ripcord run` and the tests use.
pub struct InMemoryWorld {
    state: Mutex<SimState>,
}

impl InMemoryWorld {
    pub fn new(state: SimState) -> Self {
        Self {
            state: Mutex::new(state),
        }
    }
}

impl SimWorldStore for InMemoryWorld {
    fn update(&self, call: &mut dyn FnMut(&mut SimState) -> bool) -> Result<(), SimWorldError> {
        // A panic inside a call leaves a state that is still well-formed
        // (every change is a push or an insert), so a poisoned lock is taken over.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        call(&mut state);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Simulator;
    use crate::test_support::{scenario, server, start, t0};
    use ripcord::ports::clock::ManualClock;
    use ripcord::ports::drs::RecoveryService;
    use ripcord::ports::ssm::CommandRunner;
    use std::sync::Arc;

    /// An in-memory world that remembers what each call said it changed,
    /// and when (tokio's clock) each call reached it.
    pub(super) struct Recording {
        world: InMemoryWorld,
        changed: Mutex<Vec<bool>>,
        pub(super) reached: Mutex<Vec<tokio::time::Instant>>,
    }

    impl SimWorldStore for Recording {
        fn update(&self, call: &mut dyn FnMut(&mut SimState) -> bool) -> Result<(), SimWorldError> {
            self.reached
                .lock()
                .unwrap()
                .push(tokio::time::Instant::now());
            self.world.update(&mut |st| {
                let changed = call(st);
                self.changed.lock().unwrap().push(changed);
                changed
            })
        }
    }

    pub(super) fn recording(yaml: &str) -> (Arc<Simulator>, Arc<Recording>) {
        let scenario = scenario(yaml);
        let store = Arc::new(Recording {
            world: InMemoryWorld::new(SimState::new(&scenario, t0())),
            changed: Mutex::new(Vec::new()),
            reached: Mutex::new(Vec::new()),
        });
        let clock = Arc::new(ManualClock::new(t0()));
        (Simulator::with_world(scenario, clock, store.clone()), store)
    }

    #[tokio::test]
    async fn a_call_that_only_reads_says_the_world_is_unchanged() {
        // A store that shares the world rewrites it only for calls that
        // say so; the counts are kept apart, so a read says "unchanged".
        let (sim, store) = recording("seed: 1\n");
        let job = sim.start_recovery(&start(&[server(1)], 1)).await.unwrap();
        sim.describe_jobs(&[job.job_id]).await.unwrap();
        sim.list_command_invocations("none").await.unwrap_err();
        assert_eq!(*store.changed.lock().unwrap(), [true, false, false]);
        assert_eq!(sim.calls().values().sum::<u64>(), 3);
    }

    #[tokio::test]
    async fn a_read_that_draws_a_fault_says_the_world_changed() {
        // Drawing a fault moves the stored fault generator.
        let (sim, store) = recording("seed: 1\nfaults: { throttling_rate: 0.5 }\n");
        sim.describe_jobs(&[]).await.ok();
        assert_eq!(*store.changed.lock().unwrap(), [true]);
    }
}

#[cfg(test)]
mod latency_tests {
    use super::tests::recording;
    use ripcord::ports::drs::RecoveryService;
    use std::time::Duration;

    #[tokio::test]
    async fn a_call_waits_its_latency_before_it_reaches_the_world() {
        // The wait is outside the store (a world shared through a file is
        // not locked while calls wait), so two calls wait side by side.
        let latency = Duration::from_millis(500);
        let (sim, store) = recording("call_latency: 500ms\n");
        let began = tokio::time::Instant::now();
        let (a, b) = tokio::join!(sim.describe_jobs(&[]), sim.describe_jobs(&[]));
        a.unwrap();
        b.unwrap();
        let took = began.elapsed();
        assert!(took >= latency && took < 2 * latency, "{took:?}");
        let reached = store.reached.lock().unwrap();
        assert_eq!(reached.len(), 2);
        assert!(reached.iter().all(|t| *t - began >= latency));
    }
}
