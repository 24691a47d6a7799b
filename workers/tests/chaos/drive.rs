//! One chaos run from start to verdict: the workers started, the load
//! submitted, the faults done to the workers while an outside observer
//! reads the store and plays the operator (approvals, cancels), then the
//! dead letters read and replayed, the queues drained, and the checks.

use super::cluster::Cluster;
use super::config::{ChaosConfig, Dice};
use super::load::{ExecutionSpec, Kind};
use super::observe::Observer;
use super::stage::Stage;
use super::table::Row;
use super::verdict::{self, Findings};
use ripcord::ids::ExecutionId;
use ripcord::ports::QueueName;
use ripcord::status_model::WaveStatus;
use ripcord_sim::StartOutcome;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUEUES: [QueueName; 4] = [
    QueueName::Launch,
    QueueName::Poll,
    QueueName::PostActions,
    QueueName::Metrics,
];

/// What a run came to.
pub struct Outcome {
    pub row: Row,
    pub found: Findings,
    /// The dead letters met before the replay, as (queue, reason).
    pub dead: Vec<(QueueName, String)>,
    /// Seconds under faults, store looks, steps abandoned and panics.
    pub chaos_wall: Duration,
    pub looks: u64,
    pub abandoned: u64,
    pub panicked: u64,
    /// Executions the operator acted on, and those it had to.
    pub operated: usize,
    pub gated: usize,
    /// Operator commands tried again because the backend refused them.
    pub operator_retries: u64,
    /// The end of each worker's log (warnings), for a failure's message.
    pub tails: String,
}

/// Operator commands that failed and were tried again (a frozen worker,
/// or the other processes' writes, held the database file's write lock
/// past the busy timeout).
static OPERATOR_RETRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `ripcord ARGS` on the stage, which must succeed, as an operator would
/// run it: tried again (up to 30 times, a second apart) when it fails, and
/// counted in [`OPERATOR_RETRIES`]. Its stdout.
fn ripcord(stage: &Stage, args: &[&str]) -> String {
    let mut tries = 0;
    loop {
        tries += 1;
        let output = stage.command(args).output().expect("ripcord runs");
        if output.status.success() {
            return String::from_utf8_lossy(&output.stdout).into_owned();
        }
        eprintln!(
            "ripcord {args:?} failed ({}), trying again: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
        OPERATOR_RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert!(
            tries < 30,
            "ripcord {args:?} failed {tries} times, last ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The operator's part: approves a gated execution's wave 2, or cancels a
/// `cancelled` one, once its wave 1 is COMPLETED.
fn operate(
    stage: &Stage,
    observer: &Observer,
    load: &[(ExecutionId, ExecutionSpec)],
    done: &mut BTreeSet<ExecutionId>,
) {
    for (id, spec) in load {
        if !spec.kind.gated() || done.contains(id) {
            continue;
        }
        let ready = observer.latest.get(id).is_some_and(|seen| {
            seen.wave(1)
                .is_some_and(|w| w.status == WaveStatus::Completed)
        });
        if !ready {
            continue;
        }
        let id_text = id.to_string();
        if spec.kind == Kind::Gated {
            ripcord(stage, &["approve", &id_text, "--wave", "2"]);
        } else {
            ripcord(
                stage,
                &[
                    "cancel",
                    &id_text,
                    "--reason",
                    "chaos: the harness cancels it",
                ],
            );
        }
        done.insert(*id);
    }
}

/// Waits (at most `bound`) until no queue has a message visible now or in
/// flight: every message due has been processed. Returns what is left.
fn settle_queues(stage: &Stage, bound: Duration) -> u64 {
    let deadline = Instant::now() + bound;
    loop {
        let left: u64 = QUEUES
            .iter()
            .map(|&q| {
                let d = stage
                    .block_on(stage.dead_letters().depth(q))
                    .expect("queue depths");
                d.visible + d.in_flight
            })
            .sum();
        if left == 0 || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Every dead letter, as (queue, reason), read straight from the queues.
fn dead_letters_now(stage: &Stage) -> Vec<(QueueName, String)> {
    QUEUES
        .iter()
        .flat_map(|&q| {
            stage
                .block_on(stage.dead_letters().list_dead(q))
                .expect("dead letters")
                .into_iter()
                .map(move |m| (q, m.reason))
        })
        .collect()
}

/// Runs `config`'s load on `stage` under its faults; logs and plans go
/// into `dir`.
pub fn run(
    config: &ChaosConfig,
    stage: Arc<Stage>,
    specs: Vec<ExecutionSpec>,
    dir: &Path,
) -> Outcome {
    let mut cluster = Cluster::start(config, stage.clone(), dir);
    let began = Instant::now();
    let scale = stage.real_time_workers().then_some(config.time_scale);
    let mut load: Vec<(ExecutionId, ExecutionSpec)> = Vec::new();
    for spec in specs {
        let plan = dir.join(format!("plan-{}.yaml", spec.index));
        std::fs::write(&plan, spec.plan_yaml(scale)).expect("plan written");
        let plan = plan.to_str().expect("a UTF-8 path");
        let id: ExecutionId = ripcord(&stage, &["start", plan])
            .trim()
            .parse()
            .expect("start prints the execution id");
        load.push((id, spec));
    }
    let ids: Vec<ExecutionId> = load.iter().map(|(id, _)| *id).collect();

    let mut observer = Observer::new(stage.clone());
    let mut dice = Dice::new(config.seed ^ 0x6b11);
    let mut operated = BTreeSet::new();
    let mut next_kill = Instant::now() + config.kill_every;
    let mut next_freeze = Instant::now() + config.freeze_every / 2;
    while began.elapsed() < config.limit {
        observer.look(&ids);
        operate(&stage, &observer, &load, &mut operated);
        if observer.all_ended(&ids) {
            break;
        }
        cluster.thaw(false);
        let now = Instant::now();
        if now >= next_kill {
            cluster.kill_one(&mut dice);
            next_kill = now + config.kill_every;
        }
        if now >= next_freeze {
            cluster.freeze_one(&mut dice, config.freeze_for);
            next_freeze = now + config.freeze_every;
        }
        cluster.assert_running();
        std::thread::sleep(Duration::from_millis(150));
    }
    cluster.thaw(true);
    let chaos_wall = began.elapsed();

    // Every message is processed or dead with its reason; replaying the
    // dead ones finishes what they held up.
    settle_queues(&stage, Duration::from_secs(10));
    let dead = dead_letters_now(&stage);
    let mut found = Findings::default();
    for (queue, reason) in &dead {
        if reason.trim().is_empty() {
            found
                .problems
                .push(format!("a dead letter on {queue} has no reason"));
        }
    }
    for queue in QUEUES {
        ripcord(&stage, &["dlq", "replay", queue.as_str(), "--all"]);
    }
    let replay_deadline = Instant::now() + stage.heal_bound();
    while !observer.all_ended(&ids) && Instant::now() < replay_deadline {
        observer.look(&ids);
        operate(&stage, &observer, &load, &mut operated);
        std::thread::sleep(Duration::from_millis(150));
    }
    let unprocessed = settle_queues(&stage, Duration::from_secs(15));
    let still_dead = dead_letters_now(&stage);
    observer.look_again(&ids);
    let wall = began.elapsed();

    // The checks, from the simulator's records, the store and the queues.
    let truth = stage.truth();
    verdict::check_jobs(&truth.start_calls, &observer.latest, &mut found);
    verdict::check_final_states(&load, &observer.latest, &mut found);
    if unprocessed > 0 {
        found.lost_events += unprocessed as usize;
        found.problems.push(format!(
            "{unprocessed} message(s) neither processed nor dead-lettered at the end"
        ));
    }
    if !still_dead.is_empty() {
        found.problems.push(format!(
            "dead letters left after the replay: {still_dead:?}"
        ));
    }
    found.problems.extend(observer.breaches.iter().cloned());

    let counts = super::logs::count(&cluster.log_files());
    let row = Row {
        backend: stage.name(),
        seed: config.seed,
        executions: load.len(),
        servers: load.iter().map(|(_, s)| s.servers.len()).sum(),
        kills: cluster.kills,
        freezes: cluster.freezes,
        redeliveries: counts.redeliveries,
        duplicates_caught: counts.duplicates_caught,
        throttles: truth.throttles,
        server_errors: truth.server_errors,
        ambiguous_starts: truth
            .start_calls
            .iter()
            .filter(|c| matches!(c.outcome, StartOutcome::CreatedDespiteError { .. }))
            .count() as u64,
        pushes: truth.pushed,
        pushes_dropped: truth.dropped,
        store_conflicts: counts.injected_conflicts,
        dead_letters: dead.len(),
        duplicate_jobs: found.duplicate_jobs + found.unrecorded_jobs,
        lost_events: found.lost_events,
        wrong_final_states: found.wrong_final_states,
        stuck: found.stuck,
        wall,
    };
    let tails = if found.clean() {
        String::new()
    } else {
        cluster.tails(15)
    };
    Outcome {
        row,
        found,
        dead,
        chaos_wall,
        looks: observer.looks,
        abandoned: counts.abandoned,
        panicked: counts.panicked,
        operated: operated.len(),
        gated: load.iter().filter(|(_, s)| s.kind.gated()).count(),
        operator_retries: OPERATOR_RETRIES.load(std::sync::atomic::Ordering::Relaxed),
        tails,
    }
}
