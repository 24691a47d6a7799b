//! The simulator: a scenario, a clock and the world it changes. The DRS,
//! EC2 and SSM ports are implemented on it in `drs/`, `ec2.rs` and
//! `ssm.rs`; every call goes through [`Simulator::call`], which waits its
//! latency (if set), counts it, draws its fault and runs it on the world at
//! the clock's `now`, and tells the process' call observer, if one is set,
//! how it was answered (`/healthz`, as "the simulated DRS").

use crate::launch_results::LaunchResultSink;
use crate::scenario::{Operation, Scenario};
use crate::state::{SimState, StartRecoveryCall};
use crate::timeline::LaunchTimeline;
use crate::world_store::{InMemoryWorld, SimWorldError, SimWorldStore};
use ripcord::ports::Clock;
use ripcord::ports::calls::{CallObserver, CallOutcome, Service};
use ripcord::service_error::{ErrorClass, ServiceError};
use ripcord::time::Timestamp;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The simulated DRS account, its EC2 instances and SSM.
pub struct Simulator {
    pub(crate) scenario: Scenario,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) world: Arc<dyn SimWorldStore>,
    pub(crate) sink: Mutex<Option<Arc<dyn LaunchResultSink>>>,
    /// Wakes the pusher when a job is created or a sink is set.
    pub(crate) wake: tokio::sync::Notify,
    /// Told how each call was answered.
    observer: Mutex<Option<Arc<dyn CallObserver>>>,
}

impl Simulator {
    /// A simulator whose world lives in this process' memory.
    pub fn new(scenario: Scenario, clock: Arc<dyn Clock>) -> Arc<Self> {
        let world = Arc::new(InMemoryWorld::new(SimState::new(&scenario, clock.now())));
        Self::with_world(scenario, clock, world)
    }

    /// A simulator on a world kept by `world` (e.g. in a database file that
    /// other processes share). `clock` must agree with theirs.
    pub fn with_world(
        scenario: Scenario,
        clock: Arc<dyn Clock>,
        world: Arc<dyn SimWorldStore>,
    ) -> Arc<Self> {
        Arc::new(Self {
            scenario,
            clock,
            world,
            sink: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            observer: Mutex::new(None),
        })
    }

    /// Tells `observer` how each call is answered from now on, as a call to
    /// the simulated service ([`Service::SimulatedDrs`], ...).
    pub fn observe_calls(&self, observer: Arc<dyn CallObserver>) {
        *self.observer.lock().unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }

    fn tell_observer<T>(&self, operation: Operation, result: &Result<T, ServiceError>) {
        let observer = self
            .observer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let (Some(observer), Some(service)) = (observer, Service::simulated(operation.service()))
        else {
            return;
        };
        // Wall-clock time, like the heartbeats that carry it, whatever the
        // simulated clock's scale.
        let at = chrono::Utc::now();
        match result {
            Ok(_) => observer.observed(service, CallOutcome::Succeeded, at, None),
            Err(e) => observer.observed(
                service,
                CallOutcome::of_error(e.class),
                at,
                Some(&e.to_string()),
            ),
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The clock every simulated time is read from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// A copy of the whole world as it is now.
    pub fn world_snapshot(&self) -> Result<SimState, SimWorldError> {
        self.read(SimState::clone)
    }

    /// When the simulated world started (simulated time).
    pub fn started_at(&self) -> Result<Timestamp, SimWorldError> {
        self.read(|st| st.started_at)
    }

    /// How many times each operation was called (faulted calls included).
    /// Panics if a shared world cannot be read; [`Self::world_snapshot`] doesn't.
    pub fn calls(&self) -> BTreeMap<Operation, u64> {
        self.read_or_panic(|st| st.calls.clone())
    }

    /// How many faults were injected, per operation and error code.
    pub fn faults_injected(&self) -> BTreeMap<(Operation, String), u64> {
        self.read_or_panic(|st| st.faults_injected.clone())
    }

    /// How many times one operation was called.
    pub fn call_count(&self, operation: Operation) -> u64 {
        self.read_or_panic(|st| st.calls.get(&operation).copied().unwrap_or(0))
    }

    /// Every StartRecovery call, in order, with what it came to.
    pub fn start_recovery_calls(&self) -> Vec<StartRecoveryCall> {
        self.read_or_panic(|st| st.start_calls.clone())
    }

    /// Each launch job with when its last server settles (launched or
    /// failed; `None` while a stuck server keeps it open): what a benchmark
    /// measures the engine's reaction against.
    pub fn launch_timeline(&self) -> Vec<LaunchTimeline> {
        self.read_or_panic(SimState::launch_timeline)
    }

    /// Reads the world without changing it.
    pub(crate) fn read<T>(&self, mut f: impl FnMut(&SimState) -> T) -> Result<T, SimWorldError> {
        let mut out = None;
        self.world.update(&mut |st| {
            out = Some(f(st));
            false
        })?;
        out.ok_or_else(|| SimWorldError::Storage("the world store skipped a read".to_owned()))
    }

    pub(crate) fn read_or_panic<T>(&self, f: impl FnMut(&SimState) -> T) -> T {
        self.read(f)
            .unwrap_or_else(|e| panic!("reading the simulated world failed: {e}"))
    }

    /// Runs one call that may change the world: counts it, reads the
    /// clock, draws its fault, and hands all three to `body`, alone on the world.
    pub(crate) async fn call<T>(
        &self,
        operation: Operation,
        body: impl FnMut(&mut SimState, Timestamp, Option<ServiceError>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        self.wait_call_latency().await;
        let result = self.run_call(operation, true, body);
        self.tell_observer(operation, &result);
        result
    }

    /// Runs one call that only reads the world, like [`Self::call`]: a
    /// store that shares the world keeps its count (and the fault
    /// generator, if a fault was drawn) but does not rewrite the rest.
    pub(crate) async fn call_read<T>(
        &self,
        operation: Operation,
        mut body: impl FnMut(&SimState, Timestamp, Option<ServiceError>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        self.wait_call_latency().await;
        let result = self.run_call(operation, false, |st, now, fault| body(st, now, fault));
        self.tell_observer(operation, &result);
        result
    }

    /// The scenario's `call_latency`, in real time (like a real API call's
    /// round trip, whatever the time scale), waited before the call takes
    /// any lock on the world: never inside a shared file's write transaction.
    async fn wait_call_latency(&self) {
        let latency = self.scenario.call_latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    fn run_call<T>(
        &self,
        operation: Operation,
        writes: bool,
        mut body: impl FnMut(&mut SimState, Timestamp, Option<ServiceError>) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut out = None;
        let stored = self.world.update(&mut |st| {
            // Read inside: another process' call ordered before this one
            // must not see a later time than this one does.
            let now = self.clock.now();
            *st.calls.entry(operation).or_default() += 1;
            let elapsed = ripcord::time::between(st.started_at, now);
            let generator = (!writes).then(|| st.faults.clone());
            let fault = st.faults.draw(&self.scenario.faults, operation, elapsed);
            if let Some(f) = &fault {
                *st.faults_injected
                    .entry((operation, f.code.clone()))
                    .or_default() += 1;
            }
            out = Some(body(st, now, fault));
            writes || generator.is_some_and(|g| g != st.faults)
        });
        match (stored, out) {
            (Ok(()), Some(result)) => result,
            (Err(e), _) => Err(Self::world_error(operation, &e.to_string())),
            (Ok(()), None) => Err(Self::world_error(
                operation,
                "the world store did not run the call",
            )),
        }
    }

    /// A simulator whose world cannot be reached answers like a DRS outage:
    /// a retryable 500.
    pub(crate) fn world_error(operation: Operation, reason: &str) -> ServiceError {
        ServiceError {
            class: ErrorClass::Transient,
            ..Self::error(operation, crate::faults::INTERNAL_SERVER, reason)
        }
    }

    pub(crate) fn error(
        operation: Operation,
        code: &str,
        message: impl AsRef<str>,
    ) -> ServiceError {
        ServiceError::from_code(
            operation.service(),
            operation.as_str(),
            code,
            message.as_ref(),
        )
    }
}
