//! A model of the engine around `decide`, for the property tests: a queue
//! of delayed messages, a store of records, and a worker step that mirrors
//! the real one (journal check, decide, save, perform effects against the
//! model [`world::World`], send follow-ups, decide the results), with
//! faults and crashes injected where the schedule says. Every save is held
//! against the invariants of docs/invariants.md; a broken one panics with its name.

pub mod world;

use ripcord::event::{Envelope, Event, FollowUp};
use ripcord::ids::{EventId, ExecutionId, WaveNumber};
use ripcord::machine::transition::Transitions;
use ripcord::machine::{
    Change, CommandPurpose, Effect, ExecutionRecord, ExecutionStatus, LaunchStatus, State, Target,
    WaveRecord, WaveStatus, decide, target,
};
use ripcord::plan::HealthCheck;
use ripcord::service_error::{ErrorClass, ServiceError};
use ripcord::time::{Timestamp, after};
use std::collections::{BTreeSet, VecDeque};
use world::World;

/// Clock skew allowed when searching for a job or command by time (as the
/// worker does).
const SEARCH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// When every model run starts: 2025-01-06T08:00:00Z.
pub fn t0() -> Timestamp {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(2025, 1, 6, 8, 0, 0)
        .single()
        .expect("a valid instant")
}

/// How the first effect performed while handling a message fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// 429: nothing happened.
    Throttle,
    /// 500 after the call took effect (a job or command exists anyway).
    Ambiguous,
    /// 400: nothing happened, and retrying cannot help.
    Permanent,
}

/// Where a worker dies while handling a message. The message stays queued
/// and is delivered again later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// The record is saved; its effects are never performed, its
    /// follow-ups never sent.
    Saved,
    /// Saved and effects performed; the follow-ups are never sent and the
    /// effects' results are lost.
    Performed,
    /// Saved, effects performed, follow-ups sent; the results are lost.
    Sent,
}

#[derive(Clone, Debug)]
pub struct Queued {
    pub envelope: Envelope,
    pub due: Timestamp,
    order: u64,
}

pub struct Engine {
    pub execution_id: ExecutionId,
    pub now: Timestamp,
    pub execution: Option<ExecutionRecord>,
    pub waves: Vec<WaveRecord>,
    pub queue: Vec<Queued>,
    pub world: World,
    /// Every message delivered so far, for redeliveries.
    pub delivered: Vec<Envelope>,
    /// Events whose decision was saved.
    applied: BTreeSet<EventId>,
    sent: u64,
    next_external: u128,
    /// What happened, for the failure report.
    pub trace: Vec<String>,
}

/// A fault to inject into the next effect, used up once.
struct FaultSlot(Fault);

impl FaultSlot {
    fn take(&mut self) -> Fault {
        std::mem::replace(&mut self.0, Fault::None)
    }
}

impl Engine {
    pub fn new(execution_id: ExecutionId, world: World, now: Timestamp) -> Self {
        Self {
            execution_id,
            now,
            execution: None,
            waves: Vec::new(),
            queue: Vec::new(),
            world,
            delivered: Vec::new(),
            applied: BTreeSet::new(),
            sent: 0,
            next_external: 1,
            trace: Vec::new(),
        }
    }

    /// A fresh event from outside (CLI, EventBridge), with a stable id.
    pub fn external(&mut self, wave: Option<WaveNumber>, event: Event) -> Envelope {
        let id = EventId(uuid::Uuid::from_u128(
            0xE0E0_0000_0000_0000 + self.next_external,
        ));
        self.next_external += 1;
        let mut envelope = Envelope::new(self.execution_id, wave, event, self.now);
        envelope.event_id = id;
        envelope
    }

    pub fn enqueue(&mut self, envelope: Envelope, delay: std::time::Duration) {
        if matches!(envelope.event, Event::PublishMetrics {}) {
            return; // the metrics worker's, never decided
        }
        self.sent += 1;
        self.queue.push(Queued {
            due: after(self.now, delay),
            envelope,
            order: self.sent,
        });
    }

    fn send(&mut self, follow_ups: &[FollowUp]) {
        for f in follow_ups {
            self.enqueue(f.envelope.clone(), f.delay);
        }
    }

    /// Queue positions ordered by due time (then by send order).
    pub fn by_due(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.queue.len()).collect();
        idx.sort_by_key(|&i| (self.queue[i].due, self.queue[i].order));
        idx
    }

    /// Removes the message at queue position `i` and delivers it.
    pub fn deliver_at(&mut self, i: usize, fault: Fault) {
        let q = self.queue.remove(i);
        self.now = self.now.max(q.due);
        self.deliver(&q.envelope, fault, None);
    }

    /// Delivers a copy of the message at position `i`, leaving it queued.
    pub fn duplicate_at(&mut self, i: usize) {
        let q = self.queue[i].clone();
        self.now = self.now.max(q.due);
        self.deliver(&q.envelope, Fault::None, None);
    }

    /// Delivers the message at position `i` to a worker that dies at
    /// `crash` while handling the `depth`-th event of the step (0: the
    /// message itself, then its results in order). The message stays.
    pub fn crash_at(&mut self, i: usize, crash: CrashPoint, depth: usize) {
        let q = self.queue[i].clone();
        self.now = self.now.max(q.due);
        self.deliver(&q.envelope, Fault::None, Some((depth, crash)));
    }

    /// One worker step for `envelope` and the results of its effects.
    pub fn deliver(
        &mut self,
        envelope: &Envelope,
        fault: Fault,
        crash: Option<(usize, CrashPoint)>,
    ) {
        self.delivered.push(envelope.clone());
        let mut slot = FaultSlot(fault);
        let mut pending = VecDeque::from([envelope.clone()]);
        let mut depth = 0;
        let root = envelope.event_id;
        while let Some(e) = pending.pop_front() {
            let crash_here = crash.and_then(|(d, p)| (d == depth).then_some(p));
            let step_root = (depth > 0).then_some(root);
            let (results, crashed) = self.apply(&e, step_root, &mut slot, crash_here);
            if crashed {
                return;
            }
            pending.extend(results);
            depth += 1;
        }
    }

    fn load(&self, envelope: &Envelope) -> State {
        match (target(envelope), &self.execution) {
            (_, None) => State::Absent,
            (Target::Execution, Some(e)) => State::Execution(e.clone()),
            (Target::Wave(n), Some(_)) => State::Wave(
                self.waves
                    .get(n.index())
                    .unwrap_or_else(|| panic!("model: no wave {n}"))
                    .clone(),
            ),
        }
    }

    /// The serialized records, to compare before and after a duplicate.
    pub fn snapshot(&self) -> String {
        serde_json::to_string(&(&self.execution, &self.waves)).expect("records serialize")
    }

    /// Load → journal check → decide → save → perform effects → send, as
    /// `workers/src/step.rs` does; `root` is the queued message whose step
    /// decides this result inline. Returns the result events and whether
    /// the worker died.
    fn apply(
        &mut self,
        envelope: &Envelope,
        root: Option<EventId>,
        fault: &mut FaultSlot,
        crash: Option<CrashPoint>,
    ) -> (Vec<Envelope>, bool) {
        let state = self.load(envelope);
        let journal = match &state {
            State::Absent => None,
            State::Execution(e) => Some(&e.journal),
            State::Wave(w) => Some(&w.journal),
        };
        let entry = journal.and_then(|j| j.get(envelope.event_id)).cloned();
        // A redelivered message re-sends its whole step's follow-ups.
        let step_follow_ups = journal
            .map(|j| j.follow_ups_of_step(envelope.event_id))
            .unwrap_or_default();
        let was_applied = self.applied.contains(&envelope.event_id);
        self.trace.push(format!(
            "t+{}s {} {} wave {:?}{}",
            (self.now - t0()).num_seconds(),
            if was_applied { "redeliver" } else { "deliver" },
            envelope.event.type_name(),
            envelope.wave.map(|w| w.0),
            crash.map(|c| format!(" (crash {c:?})")).unwrap_or_default()
        ));
        if was_applied {
            // Invariant 4: the journal catches it and nothing changes.
            assert!(
                entry.is_some(),
                "invariant 4 broken: {} {} was applied before but the journal of its record does not hold it",
                envelope.event.type_name(),
                envelope.event_id
            );
            self.check_redecide(&state, envelope);
        }
        if entry.is_some() {
            let before = self.snapshot();
            let jobs = self.world.jobs.len();
            if crash != Some(CrashPoint::Saved) && root.is_none() {
                self.send(&step_follow_ups);
            }
            assert_eq!(
                self.snapshot(),
                before,
                "invariant 4 broken: a duplicate changed a record"
            );
            assert_eq!(
                self.world.jobs.len(),
                jobs,
                "invariant 4 broken: a duplicate started a job"
            );
            return (Vec::new(), crash.is_some());
        }
        let decision = decide(&state, envelope, self.now);
        assert!(
            decision.rejected.is_empty(),
            "never an invalid transition: deciding {} refused {:?}",
            envelope.event.type_name(),
            decision.rejected
        );
        let Some(change) = decision.change else {
            return (Vec::new(), crash.is_some());
        };
        self.save(change, envelope, root, &decision.follow_ups);
        self.applied.insert(envelope.event_id);
        if crash == Some(CrashPoint::Saved) {
            return (Vec::new(), true);
        }
        let mut results = Vec::new();
        for (index, effect) in decision.effects.iter().enumerate() {
            let event = perform(&mut self.world, effect, fault.take(), self.now);
            assert!(
                self.world.most_jobs_per_wave() <= 1,
                "invariant 2 broken: the world holds two jobs for one wave after {effect:?}"
            );
            results.push(envelope.caused(
                1000 + index,
                envelope.wave,
                event,
                envelope.attempt,
                self.now,
            ));
        }
        if crash == Some(CrashPoint::Performed) {
            return (Vec::new(), true);
        }
        self.send(&decision.follow_ups);
        if crash == Some(CrashPoint::Sent) {
            return (Vec::new(), true);
        }
        (results, false)
    }

    /// Invariant 4 at the level of `decide`: an event already applied,
    /// decided again against the state it produced, never starts a second
    /// job (nor calls StartRecovery without looking for the job first).
    fn check_redecide(&self, state: &State, envelope: &Envelope) {
        let again = decide(state, envelope, self.now);
        assert!(
            again.rejected.is_empty(),
            "never an invalid transition: deciding {} a second time refused {:?}",
            envelope.event.type_name(),
            again.rejected
        );
        for effect in &again.effects {
            if let Effect::StartRecovery {
                reconcile_since, ..
            } = effect
            {
                assert!(
                    reconcile_since.is_some(),
                    "invariant 4 broken: {} decided a second time calls StartRecovery again without looking for the job by tag first",
                    envelope.event.type_name()
                );
                let mut world = self.world.clone();
                perform(&mut world, effect, Fault::None, self.now);
                assert!(
                    world.most_jobs_per_wave() <= 1,
                    "invariant 2 broken: {} decided a second time starts a second job",
                    envelope.event.type_name()
                );
            }
        }
    }

    fn save(
        &mut self,
        change: Change,
        envelope: &Envelope,
        root: Option<EventId>,
        follow_ups: &[FollowUp],
    ) {
        let id = envelope.event_id;
        match change {
            Change::Create {
                mut execution,
                waves,
            } => {
                assert!(self.execution.is_none(), "model: created twice");
                execution
                    .journal
                    .record_caused(id, root, self.now, follow_ups.to_vec());
                for w in &waves {
                    self.check_wave(None, w);
                }
                self.check_execution(None, &execution, &waves);
                self.execution = Some(execution);
                self.waves = waves;
            }
            Change::Execution(mut execution) => {
                execution
                    .journal
                    .record_caused(id, root, self.now, follow_ups.to_vec());
                let old = self.execution.take();
                self.check_execution(old.as_ref(), &execution, &self.waves);
                self.execution = Some(execution);
            }
            Change::Wave(mut wave) => {
                wave.journal
                    .record_caused(id, root, self.now, follow_ups.to_vec());
                let i = wave.number.index();
                let old = self.waves[i].clone();
                self.check_wave(Some(&old), &wave);
                self.waves[i] = wave;
            }
        }
    }

    fn check_execution(
        &self,
        old: Option<&ExecutionRecord>,
        new: &ExecutionRecord,
        waves: &[WaveRecord],
    ) {
        if let Some(old) = old {
            assert!(
                !old.status.is_terminal() || old.status == new.status,
                "terminal states stay terminal: execution {:?} → {:?}",
                old.status,
                new.status
            );
            for (o, n) in old.waves.iter().zip(&new.waves) {
                assert!(
                    !o.status.is_terminal() || o.status == n.status,
                    "terminal states stay terminal: wave {} summary {:?} → {:?}",
                    o.number,
                    o.status,
                    n.status
                );
            }
        }
        if new.status == ExecutionStatus::Completed {
            for (s, w) in new.waves.iter().zip(waves) {
                assert!(
                    s.status == WaveStatus::Completed && w.status == WaveStatus::Completed,
                    "invariant 1 broken: execution COMPLETED with wave {} {:?} (record {:?})",
                    s.number,
                    s.status,
                    w.status
                );
            }
        }
    }

    fn check_wave(&self, old: Option<&WaveRecord>, new: &WaveRecord) {
        if let Some(old) = old {
            assert!(
                !old.status.is_terminal() || old.status == new.status,
                "terminal states stay terminal: wave {} {:?} → {:?}",
                new.number,
                old.status,
                new.status
            );
            for (o, n) in old.servers.iter().zip(&new.servers) {
                assert!(
                    !o.launch_status.is_terminal() || o.launch_status == n.launch_status,
                    "terminal states stay terminal: server {} {:?} → {:?}",
                    n.id(),
                    o.launch_status,
                    n.launch_status
                );
            }
        }
        for s in &new.servers {
            if !matches!(
                s.launch_status,
                LaunchStatus::Launched | LaunchStatus::Completed
            ) {
                continue;
            }
            let real = self.world.launched_instance(s.id(), self.now);
            assert!(
                real.is_some() && real == s.launched_instance_id,
                "invariant 1 broken: server {} is {:?} with instance {:?}, but the world launched {:?} (outcome {:?})",
                s.id(),
                s.launch_status,
                s.launched_instance_id,
                real,
                self.world.servers[s.id()].outcome
            );
            if s.launch_status == LaunchStatus::Completed {
                let spec = &self.world.servers[s.id()];
                let checks = &new.plan.health_checks;
                let has_command = checks
                    .iter()
                    .any(|c| matches!(c, HealthCheck::Command { .. }));
                assert!(
                    new.plan.post_launch.is_empty() || (spec.agent_online && spec.action_ok),
                    "invariant 1 broken: server {} COMPLETED though its post-launch actions cannot succeed ({spec:?})",
                    s.id()
                );
                assert!(
                    !has_command || spec.health_ok,
                    "invariant 1 broken: server {} COMPLETED though its health command fails",
                    s.id()
                );
                assert!(
                    !checks.contains(&HealthCheck::SsmAgentOnline) || spec.agent_online,
                    "invariant 1 broken: server {} COMPLETED though its SSM agent is offline",
                    s.id()
                );
            }
        }
        if new.status == WaveStatus::Completed {
            for s in new.servers.iter().filter(|s| s.plan.critical) {
                assert!(
                    s.launch_status == LaunchStatus::Completed && s.launched_instance_id.is_some(),
                    "invariant 1 broken: wave {} COMPLETED with critical server {} {:?}",
                    new.number,
                    s.id(),
                    s.launch_status
                );
            }
            assert!(
                new.servers
                    .iter()
                    .any(|s| s.launch_status == LaunchStatus::Completed),
                "invariant 1 broken: wave {} COMPLETED with no server completed",
                new.number
            );
        }
    }
}

fn fault_error(fault: Fault, service: &str, operation: &str) -> ServiceError {
    let code = match fault {
        Fault::Throttle => "ThrottlingException",
        Fault::Ambiguous => "InternalServerException",
        Fault::Permanent | Fault::None => "ValidationException",
    };
    ServiceError::from_code(service, operation, code, "injected by the model")
}

/// Performs one effect against the world, as the worker's effects do, and
/// returns the result event.
pub fn perform(world: &mut World, effect: &Effect, fault: Fault, now: Timestamp) -> Event {
    match effect {
        Effect::StartRecovery {
            tries,
            request,
            reconcile_since,
            start_if_missing,
        } => {
            let tries = *tries;
            if matches!(fault, Fault::Throttle | Fault::Permanent) {
                let error = fault_error(fault, "drs", "StartRecovery");
                return Event::RecoveryStartFailed { tries, error };
            }
            let found = reconcile_since.and_then(|since| {
                let mut jobs = world.find_jobs_by_tags(&request.tags, since - SEARCH_MARGIN, now);
                jobs.sort_by_key(|j| j.creation_time);
                jobs.into_iter().next()
            });
            let job = match found {
                Some(job) => Some(job),
                None if *start_if_missing => Some(world.start_recovery(request, now)),
                None => None,
            };
            match (job, fault) {
                (Some(_), Fault::Ambiguous) => Event::RecoveryStartFailed {
                    tries,
                    error: fault_error(fault, "drs", "StartRecovery"),
                },
                (Some(job), _) => Event::RecoveryJobStarted { tries, job },
                (None, _) => Event::RecoveryStartFailed {
                    tries,
                    error: ServiceError {
                        service: "ripcord".into(),
                        operation: "StartRecovery".into(),
                        class: ErrorClass::Permanent,
                        code: "LaunchCancelled".into(),
                        message: "cancelled before its job started; no job found by tag".into(),
                        retry_after: None,
                    },
                },
            }
        }
        Effect::ObserveWave {
            seq,
            job_id,
            awaiting,
        } => {
            let seq = *seq;
            if fault != Fault::None {
                let error = fault_error(fault, "drs", "DescribeJobs");
                return Event::PollFailed { seq, error };
            }
            match world.observe_wave(job_id, awaiting, now) {
                Some(observation) => Event::WaveObserved { seq, observation },
                None => {
                    panic!("model: the machine polls job {job_id}, which the world never started")
                }
            }
        }
        Effect::SendCommands {
            purpose,
            tries,
            requests,
            reconcile_since,
        } => {
            let tries = *tries;
            let sent = if matches!(fault, Fault::Throttle | Fault::Permanent) {
                Err(fault_error(fault, "ssm", "SendCommand"))
            } else {
                let mut ids = Vec::new();
                for request in requests {
                    let mut request = request.clone();
                    if let Some(since) = reconcile_since {
                        let found = world.find_commands(&request.comment, *since - SEARCH_MARGIN);
                        for c in &found {
                            if c.instance_ids
                                .iter()
                                .any(|i| request.instance_ids.contains(i))
                                && !ids.contains(&c.command_id)
                            {
                                ids.push(c.command_id.clone());
                            }
                        }
                        request
                            .instance_ids
                            .retain(|i| !found.iter().any(|c| c.instance_ids.contains(i)));
                        if request.instance_ids.is_empty() {
                            continue;
                        }
                    }
                    ids.push(world.send_command(&request, now).command_id);
                }
                if fault == Fault::Ambiguous {
                    Err(fault_error(fault, "ssm", "SendCommand"))
                } else {
                    Ok(ids)
                }
            };
            match (purpose, sent) {
                (CommandPurpose::Action(action), Ok(command_ids)) => Event::ActionSent {
                    action: *action,
                    tries,
                    command_ids,
                },
                (CommandPurpose::Action(action), Err(error)) => Event::ActionSendFailed {
                    action: *action,
                    tries,
                    error,
                },
                (CommandPurpose::HealthCheck, Ok(command_ids)) => {
                    Event::HealthCommandsSent { tries, command_ids }
                }
                (CommandPurpose::HealthCheck, Err(error)) => {
                    Event::HealthCommandsFailed { tries, error }
                }
            }
        }
        Effect::ObservePostLaunch {
            seq,
            command_ids,
            status_instance_ids,
            agent_instance_ids,
        } => {
            let seq = *seq;
            if fault != Fault::None {
                let error = fault_error(fault, "ssm", "ListCommandInvocations");
                return Event::PostLaunchCheckFailed { seq, error };
            }
            Event::PostLaunchObserved {
                seq,
                observation: world.observe_post_launch(
                    command_ids,
                    status_instance_ids,
                    agent_instance_ids,
                    now,
                ),
            }
        }
    }
}
