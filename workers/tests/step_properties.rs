//! Property tests of the worker step: random plans run through the real
//! step (`ripcord_workers::step::handle`, the function the workers run) on
//! in-memory ports over a model world (DRS, EC2, SSM), under a random
//! schedule of reordered, duplicated and redelivered messages, crashes
//! between any two port calls of a step, throttling, ambiguous 5xx answers,
//! pushed launch results, approvals and cancellations. The store checks the
//! invariants of docs/invariants.md on every save, the harness what a
//! redelivery may do (see `model`); after the schedule the queue is drained
//! and the execution must have ended, every wave with it.

mod model;

use model::ports::{CrashAt, Fault};
use model::world::{LaunchOutcome, ServerSpec, World};
use model::{Delivery, Engine, t0};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use ripcord::event::{Envelope, Event};
use ripcord::ids::{ExecutionId, SourceServerId, WaveNumber};
use ripcord::plan::{
    ActionPlan, HealthCheck, Mode, Plan, PlanOptions, PollIntervals, RetryPolicy, ServerPlan,
    WavePlan,
};
use ripcord::ports::drs::RecoveryInstance;
use ripcord::status_model::Transitions;
use ripcord::status_model::{CleanupStatus, ExecutionStatus, LaunchStatus, WaveStatus};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug)]
struct ServerGen {
    critical: bool,
    outcome: LaunchOutcome,
    agent_online: bool,
    action_ok: bool,
    health_ok: bool,
}

#[derive(Clone, Debug)]
struct WaveGen {
    servers: Vec<ServerGen>,
    /// Bit d: depends on wave d+1 (only bits below this wave's index count).
    deps: u8,
    approval: bool,
    actions: usize,
    ec2_check: bool,
    agent_check: bool,
    command_check: bool,
}

/// One step of the schedule. Picks count from the message due soonest.
#[derive(Clone, Debug)]
enum Op {
    Deliver {
        pick: u8,
        fault: Fault,
    },
    /// Any queued message, however far in the future (time jumps there).
    DeliverAny {
        pick: u16,
    },
    /// A second copy of a queued message; the original stays queued.
    Duplicate {
        pick: u8,
    },
    /// A message delivered earlier comes again (at-least-once delivery).
    Redeliver {
        pick: u16,
    },
    /// The worker dies before the `call`-th port call of the step (after
    /// its last one, before deleting the message, if it makes fewer).
    Crash {
        pick: u8,
        call: u8,
    },
    /// The worker dies right after the `nth` call of the step to
    /// `STAGE_ENDS[stage]`: between two stages of the step.
    CrashAfter {
        pick: u8,
        stage: u8,
        nth: u8,
    },
    Push {
        wave: u8,
        server: u8,
    },
    Cancel,
    /// An operator asks for the drill's clean-up (refused while it runs).
    Cleanup,
    Approve {
        wave: u8,
    },
    /// An operator's retry, skip, pause or resume (`kind` 0..4), sent
    /// whether or not it applies: the machine ignores what does not.
    Operate {
        kind: u8,
        wave: u8,
    },
    Advance {
        secs: u64,
    },
}

#[derive(Clone, Debug)]
struct Scenario {
    waves: Vec<WaveGen>,
    ops: Vec<Op>,
    /// `options.cleanup_previous`: earlier drills' leftovers go first.
    cleanup_previous: bool,
}

fn outcome() -> impl Strategy<Value = LaunchOutcome> {
    prop_oneof![
        40 => (10u64..240).prop_map(|after_secs| LaunchOutcome::Launches { after_secs }),
        3 => (10u64..200).prop_map(|after_secs| LaunchOutcome::Fails { after_secs }),
        1 => (10u64..200).prop_map(|after_secs| LaunchOutcome::Dropped { after_secs }),
        1 => Just(LaunchOutcome::Stuck),
    ]
}

fn server() -> impl Strategy<Value = ServerGen> {
    (
        prop::bool::weighted(0.8),
        outcome(),
        prop::bool::weighted(0.95),
        prop::bool::weighted(0.93),
        prop::bool::weighted(0.93),
    )
        .prop_map(
            |(critical, outcome, agent_online, action_ok, health_ok)| ServerGen {
                critical,
                outcome,
                agent_online,
                action_ok,
                health_ok,
            },
        )
}

fn wave() -> impl Strategy<Value = WaveGen> {
    (
        prop::collection::vec(server(), 1..=5),
        any::<u8>(),
        prop::bool::weighted(0.25),
        0usize..=2,
        any::<bool>(),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(servers, deps, approval, actions, ec2_check, agent_check, command_check)| WaveGen {
                servers,
                deps,
                approval,
                actions,
                ec2_check,
                agent_check,
                command_check,
            },
        )
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        30 => Just(Fault::None),
        3 => Just(Fault::Throttle),
        3 => Just(Fault::Ambiguous),
        1 => Just(Fault::Permanent),
    ]
}

/// The port calls that end a stage of a step (its load, its save, an
/// effect's call, its sends): a crash right after one lands between two
/// stages.
const STAGE_ENDS: [&str; 10] = [
    "load_execution",
    "load_wave",
    "create_execution",
    "save_execution",
    "save_wave",
    "find_jobs_by_tags",
    "start_recovery",
    "describe_jobs",
    "send_command",
    "send",
];

/// How deep into a step a crash may hit.
#[derive(Clone, Copy, Debug)]
struct CrashDepth {
    /// The last port call of a step a crash may hit. The delivered
    /// message's own load, save, effects and sends take the first few; the
    /// results decided inline after it the later ones.
    calls: u8,
    /// The last call to one stage end a crash may follow (1: the
    /// message's own; more: the results decided inline).
    nth: u8,
}

fn op(depth: CrashDepth) -> impl Strategy<Value = Op> {
    prop_oneof![
        60 => (0u8..4, fault()).prop_map(|(pick, fault)| Op::Deliver { pick, fault }),
        1 => any::<u16>().prop_map(|pick| Op::DeliverAny { pick }),
        4 => (0u8..6).prop_map(|pick| Op::Duplicate { pick }),
        4 => any::<u16>().prop_map(|pick| Op::Redeliver { pick }),
        3 => (0u8..6, 1..=depth.calls).prop_map(|(pick, call)| Op::Crash { pick, call }),
        6 => (0u8..6, 0..STAGE_ENDS.len() as u8, 1..=depth.nth)
            .prop_map(|(pick, stage, nth)| Op::CrashAfter { pick, stage, nth }),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(wave, server)| Op::Push { wave, server }),
        1 => Just(Op::Cancel),
        1 => Just(Op::Cleanup),
        2 => any::<u8>().prop_map(|wave| Op::Approve { wave }),
        3 => (0u8..4, any::<u8>()).prop_map(|(kind, wave)| Op::Operate { kind, wave }),
        4 => (1u64..300).prop_map(|secs| Op::Advance { secs }),
    ]
}

fn scenario(depth: CrashDepth) -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(wave(), 1..=4),
        prop::collection::vec(op(depth), 0..60),
        prop::bool::ANY,
    )
        .prop_map(|(waves, ops, cleanup_previous)| Scenario {
            waves,
            ops,
            cleanup_previous,
        })
}

fn execution_id() -> ExecutionId {
    "0b5e8a2c-1d3f-4a6b-8c9d-0e1f2a3b4c5d"
        .parse()
        .expect("a valid uuid")
}

fn server_id(n: usize) -> SourceServerId {
    SourceServerId::parse(&format!("s-{:017x}", 0xa000 + n)).expect("a valid source server id")
}

/// The plan a scenario runs, and the world's view of its servers.
fn build(s: &Scenario) -> (Plan, Vec<ServerSpec>) {
    let mut specs = Vec::new();
    let mut waves = Vec::new();
    for (i, w) in s.waves.iter().enumerate() {
        let mut servers = Vec::new();
        for g in &w.servers {
            let id = server_id(specs.len());
            servers.push(ServerPlan {
                id: id.clone(),
                hostname: Some(format!("host-{}", specs.len())),
                critical: g.critical,
                recovery_snapshot: None,
            });
            specs.push(ServerSpec {
                id,
                outcome: g.outcome,
                agent_online: g.agent_online,
                action_ok: g.action_ok,
                health_ok: g.health_ok,
            });
        }
        let mut health_checks = Vec::new();
        if w.ec2_check {
            health_checks.push(HealthCheck::Ec2StatusOk);
        }
        if w.agent_check {
            health_checks.push(HealthCheck::SsmAgentOnline);
        }
        if w.command_check {
            health_checks.push(HealthCheck::Command {
                command: "curl -fsS http://localhost/health".to_owned(),
            });
        }
        waves.push(WavePlan {
            number: WaveNumber::from_index(i),
            name: format!("wave-{}", i + 1),
            servers,
            depends_on: (0..i)
                .filter(|d| w.deps & (1 << d) != 0)
                .map(WaveNumber::from_index)
                .collect(),
            post_launch: (0..w.actions)
                .map(|a| ActionPlan {
                    name: format!("configure-{a}"),
                    document: "Ripcord-Configure".to_owned(),
                    parameters: BTreeMap::new(),
                    timeout: Duration::from_secs(300),
                })
                .collect(),
            health_checks,
            launch_timeout: Duration::from_secs(20 * 60),
            health_timeout: Duration::from_secs(10 * 60),
            wait_for_approval: w.approval,
            select: None,
            recovery_snapshot: None,
        });
    }
    let plan = Plan {
        name: "property-drill".to_owned(),
        mode: Mode::Drill,
        region: "us-east-1".to_owned(),
        waves,
        options: PlanOptions {
            poll_intervals: PollIntervals {
                pending: Duration::from_secs(30),
                launching: Duration::from_secs(10),
                post_actions: Duration::from_secs(10),
            },
            retry: RetryPolicy::default(),
            execution_timeout: Duration::from_secs(24 * 3600),
            rto_target: None,
            busy_servers: Default::default(),
            cleanup_previous: s.cleanup_previous,
            ..Default::default()
        },
    };
    (plan, specs)
}

/// Crash points within the delivered event's own calls (load, save, its
/// effects' calls, its sends) and the first result decided inline.
const CRASH_IN_FIRST_EVENT: CrashDepth = CrashDepth { calls: 8, nth: 1 };

/// Crash points anywhere in a step, down to the late inline results.
const CRASH_ANYWHERE: CrashDepth = CrashDepth { calls: 40, nth: 3 };

/// Deliveries the drain may make before the execution counts as stuck.
const DRAIN_CAP: usize = 5_000;

fn start(s: &Scenario) -> Engine {
    let (plan, specs) = build(s);
    let mut world = World::new(specs);
    // Every fourth server's instance is shown under another drill's job
    // by the time of a clean-up, which must leave it alone.
    world.taken_over = world.servers.keys().skip(1).step_by(4).cloned().collect();
    // Every third server has an earlier drill's instance still running,
    // every fifth a real recovery's: only the former may be terminated,
    // and only with options.cleanup_previous (invariant 14).
    world.cleanup_previous = s.cleanup_previous;
    let servers: Vec<SourceServerId> = world.servers.keys().cloned().collect();
    for (n, id) in servers.iter().enumerate() {
        if n % 3 == 0 || n % 5 == 2 {
            world.leftovers.push(RecoveryInstance {
                recovery_instance_id: format!("i-0ea1{n:013x}"),
                ec2_instance_id: Some(format!("i-0ea2{n:013x}")),
                ec2_instance_state: Some("running".to_owned()),
                job_id: Some("drsjob-earlier-launch".to_owned()),
                source_server_id: id.clone(),
                is_drill: n % 3 == 0,
                point_in_time_snapshot: None,
            });
        }
    }
    let mut engine = Engine::new(execution_id(), world, t0());
    let start = engine.external(
        None,
        Event::StartExecution {
            plan,
            requested_by: "proptest".to_owned(),
            recovery_confirmed: false,
        },
    );
    engine.deliver(&start, Fault::None, None);
    engine
}

/// How far apart in due time two messages may be and still be delivered
/// out of order by a `Deliver` (queues are not FIFO, but neither do they
/// hold a message back for many minutes; `DeliverAny` does that).
const REORDER_WINDOW: chrono::Duration = chrono::Duration::seconds(30);

/// The `pick`-th of the messages due first (within [`REORDER_WINDOW`] of
/// the earliest, or of now).
fn near(engine: &Engine, pick: usize) -> Option<usize> {
    let order = engine.by_due();
    let queue = engine.queue();
    let first = queue.get(*order.first()?)?.due.max(engine.now());
    let window: Vec<usize> = order
        .into_iter()
        .filter(|&i| queue[i].due <= first + REORDER_WINDOW)
        .collect();
    (!window.is_empty()).then(|| window[pick % window.len()])
}

fn run_op(engine: &mut Engine, op: &Op) {
    let waves = engine.waves();
    match *op {
        Op::Deliver { pick, fault } => {
            if let Some(i) = near(engine, pick.into()) {
                engine.deliver_at(i, fault);
            }
        }
        Op::DeliverAny { pick } => {
            let queued = engine.queue().len();
            if queued > 0 {
                let i = usize::from(pick) % queued;
                engine.deliver_at(i, Fault::None);
            }
        }
        Op::Duplicate { pick } => {
            if let Some(i) = near(engine, pick.into()) {
                engine.duplicate_at(i);
            }
        }
        Op::Redeliver { pick } => {
            if !engine.delivered.is_empty() {
                let e = engine.delivered[usize::from(pick) % engine.delivered.len()].clone();
                engine.deliver(&e, Fault::None, None);
            }
        }
        Op::CrashAfter { pick, stage, nth } => {
            if let Some(i) = near(engine, pick.into()) {
                let stage = STAGE_ENDS[usize::from(stage) % STAGE_ENDS.len()];
                engine.crash_at(i, CrashAt::After(stage, nth.into()));
            }
        }
        Op::Crash { pick, call } => {
            if let Some(i) = near(engine, pick.into()) {
                // A step with fewer calls ends; the worker dies before the delete.
                engine.crash_at(i, CrashAt::Call(call.into()));
            }
        }
        Op::Push { wave, server } => {
            let w = usize::from(wave) % waves.len();
            let servers = &waves[w].servers;
            let id = servers[usize::from(server) % servers.len()].id().clone();
            let e = engine.external(
                Some(WaveNumber::from_index(w)),
                Event::LaunchResultPushed {
                    source_server_id: id,
                    state: "LAUNCHED".to_owned(),
                },
            );
            engine.enqueue(e, Duration::ZERO);
        }
        Op::Cancel => {
            let e = engine.external(
                None,
                Event::CancelExecution {
                    requested_by: "proptest".to_owned(),
                    reason: "the schedule cancelled it".to_owned(),
                },
            );
            engine.enqueue(e, Duration::ZERO);
        }
        Op::Cleanup => request_cleanup(engine, "the schedule cleans up"),
        Op::Approve { wave } => {
            let w = usize::from(wave) % waves.len();
            approve(engine, w);
        }
        Op::Operate { kind, wave } => {
            let w = WaveNumber::from_index(usize::from(wave) % waves.len());
            let by = "proptest".to_owned();
            let (wave, event) = match kind {
                0 => (
                    Some(w),
                    Event::RetryWave {
                        requested_by: by,
                        reason: None,
                        servers: vec![],
                    },
                ),
                1 => (
                    Some(w),
                    Event::SkipWave {
                        requested_by: by,
                        reason: "the schedule skipped it".to_owned(),
                    },
                ),
                2 => (
                    None,
                    Event::PauseExecution {
                        requested_by: by,
                        reason: None,
                    },
                ),
                _ => (None, Event::ResumeExecution { requested_by: by }),
            };
            let e = engine.external(wave, event);
            engine.enqueue(e, Duration::ZERO);
        }
        Op::Advance { secs } => engine.advance(Duration::from_secs(secs)),
    }
}

/// Why the clean-up requested once the schedule has drained is asked for.
const AFTER_THE_DRILL: &str = "the drill is over";

fn request_cleanup(engine: &mut Engine, reason: &str) {
    let e = engine.external(
        None,
        Event::CleanupExecution {
            requested_by: "proptest".to_owned(),
            reason: reason.to_owned(),
            confirm_recovery: false,
        },
    );
    engine.enqueue(e, Duration::ZERO);
}

/// Once the drill has ended, a clean-up (refused while one runs; after one
/// that ended with FAILED servers, it retries them) ends with every
/// server's instance TERMINATED or FAILED:
/// a taken-over one FAILED (not ours). One requested after the schedule
/// (no faults, no time jumps) leaves every other launched one gone; one the
/// schedule requested may have met injected errors and time jumps.
fn check_cleaned_up(engine: &mut Engine) {
    request_cleanup(engine, AFTER_THE_DRILL);
    drain(engine);
    let execution = engine.execution().expect("the execution exists");
    let cleanup = execution
        .cleanup
        .expect("a settled drill's clean-up is recorded");
    assert!(
        cleanup.ended_at.is_some(),
        "liveness broken: the clean-up did not end: {cleanup:?}\nwaves: {:#?}\n{}",
        engine
            .waves()
            .iter()
            .map(|w| (
                w.number,
                w.status,
                w.cleanup.clone(),
                w.servers
                    .iter()
                    .map(|s| (s.recovery_instance_id.clone(), s.cleanup.clone()))
                    .collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>(),
        engine.trace[engine.trace.len().saturating_sub(60)..].join("\n")
    );
    let now = engine.now();
    let world = engine.shared.world().clone();
    for wave in engine.waves() {
        // cleanup_previous runs to its end before a wave gets in line.
        let launched = wave.launch != ripcord::records::LaunchState::NotStarted;
        if world.cleanup_previous && launched {
            let l = wave.leftovers.as_ref().expect("the leftovers went first");
            assert!(l.ended_at.is_some(), "wave {}: {l:?}", wave.number);
        }
        for s in &wave.servers {
            let status = s.cleanup.as_ref().map(|c| c.status);
            // A schedule that held the clean-up's messages back past its
            // time limit (DeliverAny jumps time) ends it FAILED with
            // CLEANUP_TIMEOUT, for an instance the world still has.
            let timed_out = s.cleanup.as_ref().is_some_and(|c| {
                c.reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with("CLEANUP_TIMEOUT"))
            }) && s
                .recovery_instance_id
                .as_deref()
                .is_some_and(|ri| !world.is_terminated(ri, now))
                && cleanup.requested_at + chrono::Duration::minutes(20) <= now;
            let expected = match &s.recovery_instance_id {
                None => None,
                Some(_) if world.taken_over.contains(s.id()) || timed_out => {
                    Some(CleanupStatus::Failed)
                }
                Some(_) if cleanup.reason != AFTER_THE_DRILL => {
                    assert!(
                        status.is_some_and(|c| c.is_terminal()),
                        "liveness broken: server {} clean-up {:?}",
                        s.id(),
                        s.cleanup
                    );
                    status
                }
                Some(_) => Some(CleanupStatus::Terminated),
            };
            assert_eq!(
                status,
                expected,
                "server {} clean-up: {:?}",
                s.id(),
                s.cleanup
            );
        }
    }
}

fn approve(engine: &mut Engine, w: usize) {
    let e = engine.external(
        Some(WaveNumber::from_index(w)),
        Event::ApproveWave {
            approved_by: "proptest".to_owned(),
        },
    );
    engine.enqueue(e, Duration::ZERO);
}

/// Approves every gate, then delivers every message in due order with
/// effects succeeding until the queue is empty. The execution timeout must
/// never be what ends it: every wave has its own bounded timeouts.
fn drain(engine: &mut Engine) {
    let gated: Vec<usize> = engine
        .execution()
        .iter()
        .flat_map(|e| e.waves.iter())
        .filter(|w| w.wait_for_approval && w.approved_by.is_none())
        .map(|w| w.number.index())
        .collect();
    for w in gated {
        approve(engine, w);
    }
    // A timeout the schedule itself reached (its delivery crashed, so it
    // is still queued) may end the execution: only one that falls due
    // during the drain says the execution got stuck.
    let drain_started = engine.now();
    for _ in 0..DRAIN_CAP {
        unblock(engine);
        let Some(&i) = engine.by_due().first() else {
            return;
        };
        let execution = engine.execution();
        let running = execution.as_ref().is_some_and(|e| !e.status.is_terminal());
        assert!(
            !(running
                && engine.queue()[i].due > drain_started
                && matches!(
                    engine.queue()[i].envelope.event,
                    Event::ExecutionTimedOut {}
                )),
            "liveness broken: the execution was still {:?} at its execution_timeout; waves: {:?} (the execution sees {:?})\n{}",
            execution.as_ref().map(|e| e.status),
            engine.waves().iter().map(|w| w.status).collect::<Vec<_>>(),
            execution.as_ref().map(|e| e
                .waves
                .iter()
                .map(|w| (w.status, w.started, w.attempt))
                .collect::<Vec<_>>()),
            engine.trace.join("\n")
        );
        engine.deliver_at(i, Fault::None);
    }
    let tail = engine.trace.len().saturating_sub(40);
    panic!(
        "liveness broken: the queue did not drain in {DRAIN_CAP} deliveries; last steps:\n{}",
        engine.trace[tail..].join("\n")
    );
}

/// An operator resumes a paused execution and approves the gates a retry
/// or a skip reopened (an approval sent while the execution had failed was
/// ignored), unless one is already on its way.
fn unblock(engine: &mut Engine) {
    let Some(execution) = engine.execution().filter(|e| !e.status.is_terminal()) else {
        return;
    };
    let queued = |engine: &Engine, pick: &dyn Fn(&Envelope) -> bool| {
        engine.queue().iter().any(|m| pick(&m.envelope))
    };
    if execution.paused.is_some()
        && !queued(engine, &|e| {
            matches!(e.event, Event::ResumeExecution { .. })
        })
    {
        let e = engine.external(
            None,
            Event::ResumeExecution {
                requested_by: "proptest".to_owned(),
            },
        );
        engine.enqueue(e, Duration::ZERO);
    }
    for w in execution.waves.iter().filter(|w| {
        w.wait_for_approval && w.approved_by.is_none() && w.status == WaveStatus::Pending
    }) {
        let n = w.number;
        if !queued(engine, &|e| {
            e.wave == Some(n) && matches!(e.event, Event::ApproveWave { .. })
        }) {
            approve(engine, n.index());
        }
    }
}

fn check_ended(engine: &Engine) {
    let execution = engine.execution().expect("the execution exists");
    assert!(
        execution.status.is_terminal(),
        "liveness broken: the execution is {:?} after draining",
        execution.status
    );
    for (summary, wave) in execution.waves.iter().zip(&engine.waves()) {
        // A retry (or a reopening) cancelled before its RelaunchWave was
        // sent leaves the record as its last attempt ended.
        let never_relaunched =
            summary.status == WaveStatus::Cancelled && wave.attempt < summary.attempt;
        assert!(
            wave.status.is_terminal() && (summary.status == wave.status || never_relaunched),
            "liveness broken: wave {} is {:?} (the execution sees {:?}) after draining\n{}",
            wave.number,
            wave.status,
            summary.status,
            engine.trace.join("\n")
        );
        for s in &wave.servers {
            assert!(
                wave.status == WaveStatus::Cancelled || s.launch_status != LaunchStatus::Launching,
                "liveness broken: server {} is still LAUNCHING in a {:?} wave",
                s.id(),
                wave.status
            );
        }
    }
}

fn run(s: &Scenario) -> Engine {
    let mut engine = start(s);
    for op in &s.ops {
        run_op(&mut engine, op);
    }
    drain(&mut engine);
    check_ended(&engine);
    check_cleaned_up(&mut engine);
    engine
}

/// 128 cases (some twenty seconds in debug); `PROPTEST_CASES` raises it.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(128),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_schedule_keeps_the_invariants_and_ends(s in scenario(CRASH_IN_FIRST_EVENT)) {
        let engine = run(&s);
        // Invariant 2, once more over the whole run: one job per attempt.
        let execution = engine.execution_id.to_string();
        let world = engine.shared.world();
        for w in &engine.waves() {
            for attempt in 1..=w.attempt {
                let jobs = world.jobs_for(&execution, &w.number.to_string(), &attempt.to_string());
                prop_assert!(
                    jobs <= 1,
                    "invariant 2 broken: wave {} attempt {attempt} has {jobs} jobs",
                    w.number
                );
            }
        }
    }
}

// ---- fixed scenarios: the harness itself is not vacuous ----

fn clean_wave(servers: usize) -> WaveGen {
    WaveGen {
        servers: (0..servers)
            .map(|i| ServerGen {
                critical: true,
                outcome: LaunchOutcome::Launches {
                    after_secs: 30 + 10 * i as u64,
                },
                agent_online: true,
                action_ok: true,
                health_ok: true,
            })
            .collect(),
        deps: 0b1111,
        approval: false,
        actions: 1,
        ec2_check: true,
        agent_check: true,
        command_check: true,
    }
}

#[test]
fn a_clean_drill_completes_with_one_job_per_wave() {
    let s = Scenario {
        cleanup_previous: false,
        waves: vec![clean_wave(2), clean_wave(3)],
        ops: vec![],
    };
    let engine = run(&s);
    let execution = engine.execution().unwrap();
    assert_eq!(execution.status, ExecutionStatus::Completed);
    assert_eq!(engine.shared.world().jobs.len(), 2);
    assert!(
        engine
            .waves()
            .iter()
            .flat_map(|w| &w.servers)
            .all(|s| s.launch_status == LaunchStatus::Completed)
    );
}

#[test]
fn a_failed_wave_retried_twice_over_with_a_crash_completes_with_one_job_per_attempt() {
    let mut first = clean_wave(2);
    first.servers[1].outcome = LaunchOutcome::Fails { after_secs: 40 };
    let s = Scenario {
        waves: vec![first, clean_wave(2)],
        ops: vec![],
        cleanup_previous: false,
    };
    // Not `run`: it cleans the drill up at the end, and a cleaned-up drill
    // is not retried (docs/status-model.md, "Operator control").
    let mut engine = start(&s);
    drain(&mut engine);
    check_ended(&engine);
    assert_eq!(engine.execution().unwrap().status, ExecutionStatus::Failed);
    // The retry is delivered twice, and the worker deciding it first dies
    // right after saving.
    run_op(&mut engine, &Op::Operate { kind: 0, wave: 0 });
    run_op(&mut engine, &Op::Duplicate { pick: 0 });
    let save_execution = STAGE_ENDS
        .iter()
        .position(|s| *s == "save_execution")
        .unwrap() as u8;
    run_op(
        &mut engine,
        &Op::CrashAfter {
            pick: 0,
            stage: save_execution,
            nth: 1,
        },
    );
    drain(&mut engine);
    check_ended(&engine);
    let execution = engine.execution().unwrap();
    assert_eq!(execution.status, ExecutionStatus::Completed);
    assert_eq!(
        execution.operator_actions.len(),
        1,
        "the duplicate is ignored"
    );
    let id = engine.execution_id.to_string();
    let world = engine.shared.world();
    let jobs = |wave: &str, attempt: &str| world.jobs_for(&id, wave, attempt);
    assert_eq!((jobs("1", "1"), jobs("1", "2")), (1, 1));
    assert_eq!(
        (jobs("2", "1"), jobs("2", "2")),
        (0, 1),
        "wave 2 ran once, reopened"
    );
    assert_eq!(world.jobs.len(), 3);
    drop(world);
    // Cleaned up now, it terminates only what its jobs launched
    // (invariant 14), and a retry after that is ignored.
    check_cleaned_up(&mut engine);
    run_op(&mut engine, &Op::Operate { kind: 0, wave: 0 });
    drain(&mut engine);
    assert_eq!(engine.execution().unwrap().operator_actions.len(), 1);
}

#[test]
fn an_ambiguous_5xx_and_a_lost_result_still_make_one_job() {
    let s = Scenario {
        cleanup_previous: false,
        waves: vec![clean_wave(2)],
        ops: vec![
            // StartWave's StartRecovery answers 500 after creating the job.
            Op::Deliver {
                pick: 0,
                fault: Fault::Ambiguous,
            },
        ],
    };
    let mut engine = start(&s);
    for op in &s.ops {
        run_op(&mut engine, op);
    }
    // The retry finds the job by its tags, but its worker dies right after:
    // the job is never decided from this step.
    engine.advance(Duration::from_secs(400));
    let i = engine.by_due()[0];
    let crashed = engine.crash_at(i, CrashAt::After("find_jobs_by_tags", 1));
    assert!(matches!(crashed, Delivery::Crashed), "{crashed:?}");
    drain(&mut engine);
    check_ended(&engine);
    assert_eq!(engine.shared.world().jobs.len(), 1, "{:#?}", engine.trace);
    assert_eq!(
        engine.execution().unwrap().status,
        ExecutionStatus::Completed
    );
}

#[test]
fn a_job_that_completes_without_a_server_fails_the_wave() {
    let mut wave = clean_wave(2);
    wave.servers[1].outcome = LaunchOutcome::Dropped { after_secs: 60 };
    let engine = run(&Scenario {
        cleanup_previous: false,
        waves: vec![wave],
        ops: vec![],
    });
    let waves = engine.waves();
    assert_eq!(waves[0].status, WaveStatus::Failed);
    assert_eq!(engine.execution().unwrap().status, ExecutionStatus::Failed);
    assert_eq!(
        waves[0].servers[1].error_code.as_deref(),
        Some("CONVERSION_FAIL")
    );
}

/// Found by the property test: cancelling an execution while a wave's
/// post-launch action runs left the wave in POST_ACTIONS for ever, checking
/// every 10 s, because a cancelled wave no longer ended its running action.
#[test]
fn a_wave_cancelled_while_its_action_runs_ends_cancelled() {
    let mut first = clean_wave(1);
    (
        first.actions,
        first.ec2_check,
        first.agent_check,
        first.command_check,
    ) = (0, false, false, false);
    first.servers[0].outcome = LaunchOutcome::Launches { after_secs: 10 };
    let mut second = clean_wave(1);
    (second.ec2_check, second.agent_check, second.command_check) = (false, false, false);
    second.servers[0].outcome = LaunchOutcome::Launches { after_secs: 10 };
    let mut engine = start(&Scenario {
        cleanup_previous: false,
        waves: vec![first, second],
        ops: vec![],
    });
    // Run until wave 2's action is running, then cancel.
    while engine.waves()[1].actions[0].status != ripcord::status_model::ActionStatus::Running {
        let i = engine.by_due()[0];
        engine.deliver_at(i, Fault::None);
    }
    run_op(&mut engine, &Op::Cancel);
    drain(&mut engine);
    check_ended(&engine);
    assert_eq!(engine.waves()[1].status, WaveStatus::Cancelled);
}

/// Found by the property test with crashes inside a step (below): the
/// worker decides the results of a message's effects inline; if it dies
/// after saving a result's decision but before sending that decision's
/// follow-ups, they are lost for good. Redelivering the message only
/// re-sends the message's own journaled follow-ups, and the result is never
/// decided again. Here the lost follow-up is the wave's WaveFinished: the
/// wave record is COMPLETED, the execution never hears of it and hangs
/// until its execution_timeout. The fix is in the worker step
/// (workers/src/step.rs): a redelivery re-sends the follow-ups of every
/// event its step decided.
#[test]
fn a_crash_after_saving_an_inline_result_loses_nothing() {
    let mut wave = clean_wave(1);
    (
        wave.actions,
        wave.ec2_check,
        wave.agent_check,
        wave.command_check,
    ) = (0, false, false, false);
    let mut engine = start(&Scenario {
        cleanup_previous: false,
        waves: vec![wave],
        ops: vec![],
    });
    // Run until the poll that will see the server LAUNCHED is next.
    loop {
        let i = engine.by_due()[0];
        let q = engine.queue()[i].clone();
        if matches!(q.envelope.event, Event::PollWave { .. })
            && q.due >= t0() + chrono::Duration::seconds(25)
        {
            // Its WaveObserved (decided inline) completes the wave; the
            // worker dies right after saving that (the wave's second save
            // in this step), before sending its follow-ups.
            let crashed = engine.crash_at(i, CrashAt::After("save_wave", 2));
            assert!(matches!(crashed, Delivery::Crashed), "{crashed:?}");
            break;
        }
        engine.deliver_at(i, Fault::None);
    }
    assert_eq!(engine.waves()[0].status, WaveStatus::Completed);
    drain(&mut engine);
    check_ended(&engine);
}

proptest! {
    #![proptest_config(config())]

    /// As above, with crashes also deep inside the results a step decides
    /// inline.
    #[test]
    fn crashes_inside_a_step_keep_the_invariants_and_end(s in scenario(CRASH_ANYWHERE)) {
        run(&s);
    }
}

/// The AWS worker stall (issue 14): a poll's look at DRS is throttled, and
/// the save of its result (decided inline, re-arming the poll after a
/// backoff) lands in DynamoDB but its answer is lost; the SDK retries the
/// write, whose condition now fails. The step loaded the wave again, found
/// the result journaled, took it for a duplicate and sent nothing: the
/// re-armed poll was never sent, the message was deleted, and the wave sat
/// LAUNCHING with no DescribeJobs and no error until its launch timeout.
/// The fix is in the worker step (workers/src/step.rs): an event found
/// journaled re-sends its journaled follow-ups, inline results too.
#[test]
fn a_lost_answer_to_an_inline_result_s_save_still_re_arms_the_poll() {
    let mut wave = clean_wave(1);
    (
        wave.actions,
        wave.ec2_check,
        wave.agent_check,
        wave.command_check,
    ) = (0, false, false, false);
    let mut engine = start(&Scenario {
        cleanup_previous: false,
        waves: vec![wave],
        ops: vec![],
    });
    // Run until the first poll of the launching wave is next.
    loop {
        let i = engine.by_due()[0];
        if matches!(engine.queue()[i].envelope.event, Event::PollWave { .. }) {
            // Its DescribeJobs is throttled; the PollFailed decided inline
            // is the wave's second save in this step.
            engine.lose_answer_at(i, Fault::Throttle, "save_wave", 2);
            break;
        }
        engine.deliver_at(i, Fault::None);
    }
    drain(&mut engine);
    check_ended(&engine);
    let waves = engine.waves();
    assert_eq!(
        waves[0].status,
        WaveStatus::Completed,
        "{:#?}",
        engine.trace
    );
    assert!(
        !waves[0].launch_timed_out,
        "the poll chain died: only the launch timeout's last look saw the server launched\n{}",
        engine.trace.join("\n")
    );
}
