//! One chaos run from start to verdict: the workers started, the load
//! submitted, the faults done to the workers while an outside observer
//! reads the store and the operator acts (approvals, cancels, retries,
//! skips, pauses), then the dead letters read and replayed, the queues
//! drained, and the checks.

use super::cluster::Cluster;
use super::config::{ChaosConfig, Dice};
use super::load::ExecutionSpec;
use super::observe::Observer;
use super::operator::{Act, Operator, ripcord};
use super::stage::Stage;
use super::table::Row;
use super::verdict::{self, Findings};
use ripcord::ids::ExecutionId;
use ripcord::ports::QueueName;
use ripcord_sim::StartOutcome;
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
    /// Operator acts seen to take, and those the load asks for.
    pub acts_done: usize,
    pub acts_planned: usize,
    /// Operator commands tried again because the backend refused them.
    pub operator_retries: u64,
    /// The end of each worker's log (warnings), for a failure's message.
    pub tails: String,
    /// The quotas, and the most DRS held at once.
    pub capacity: verdict::CapacityUse,
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
    let mut operator = Operator::new(&load, config.pause_for, &mut observer);
    let mut dice = Dice::new(config.seed ^ 0x6b11);
    let mut next_kill = Instant::now() + config.kill_every;
    let mut next_freeze = Instant::now() + config.freeze_every / 2;
    while began.elapsed() < config.limit {
        observer.look(&ids);
        operator.act(&stage, &mut observer, &load);
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
        operator.act(&stage, &mut observer, &load);
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
    let capacity = verdict::check_capacity(
        &truth.start_calls,
        &truth.launch_jobs,
        config.quotas,
        &mut found,
    );
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
        retries: operator.took.get(&Act::Retry).copied().unwrap_or(0),
        skips: operator.took.get(&Act::Skip).copied().unwrap_or(0),
        pauses: operator.took.get(&Act::Pause).copied().unwrap_or(0),
        waves_waited: observer.waited.len(),
        over_admitted: found.over_admitted,
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
        acts_done: operator.done(),
        acts_planned: Operator::planned(&load),
        operator_retries: super::operator::retried_commands(),
        capacity,
        tails,
    }
}
