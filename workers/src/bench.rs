//! `ripcord bench`: measures the engine on this machine, end to end through
//! the embedded queues and store and the simulator, and prints figures.
//! Performance goals are met here, in figures, not in timed tests.

use crate::engine::LocalEngine;
use crate::worker::WorkerConfig;
use ripcord::event::Envelope;
use ripcord::ids::{ExecutionId, SourceServerId, WaveNumber};
use ripcord::plan::{
    DEFAULT_HEALTH_TIMEOUT, DEFAULT_LAUNCH_TIMEOUT, Mode, Plan, PlanOptions, ServerPlan, WavePlan,
};
use ripcord::ports::drs::TAG_WAVE;
use ripcord::ports::{ExecutionStore, QueueName};
use ripcord::status_model::ExecutionStatus;
use ripcord::status_model::LaunchStatus;
use ripcord::status_model::Transitions;
use ripcord_sim::Scenario;
use ripcord_sim::scenario::DurationRange;
use ripcord_sim::scenario::Operation;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A plan of `waves` waves of `per_wave` servers, each wave depending on
/// the previous one, with no actions or health checks.
pub fn chain_plan(waves: usize, per_wave: usize) -> Plan {
    chain_plan_from(0, waves, per_wave)
}

/// `count` chain plans with no server in common: executions at once may
/// not share a server (docs/capacity.md).
pub fn chain_plans(count: usize, waves: usize, per_wave: usize) -> Vec<Plan> {
    (0..count)
        .map(|i| chain_plan_from((i * waves * per_wave) as u64, waves, per_wave))
        .collect()
}

fn chain_plan_from(first: u64, waves: usize, per_wave: usize) -> Plan {
    let mut next_id = first;
    let waves = (0..waves)
        .map(|w| WavePlan {
            number: WaveNumber::from_index(w),
            name: format!("wave-{}", w + 1),
            servers: (0..per_wave)
                .map(|_| {
                    next_id += 1;
                    ServerPlan {
                        id: SourceServerId::parse(&format!("s-{next_id:017x}"))
                            .expect("well-formed id"),
                        hostname: None,
                        critical: true,
                        recovery_snapshot: None,
                    }
                })
                .collect(),
            depends_on: if w == 0 {
                vec![]
            } else {
                vec![WaveNumber::from_index(w - 1)]
            },
            post_launch: vec![],
            health_checks: vec![],
            launch_timeout: DEFAULT_LAUNCH_TIMEOUT,
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            wait_for_approval: false,
            select: None,
            recovery_snapshot: None,
        })
        .collect();
    Plan {
        name: "bench".into(),
        mode: Mode::Drill,
        region: "us-east-1".into(),
        waves,
        options: PlanOptions {
            poll_intervals: Default::default(),
            retry: Default::default(),
            execution_timeout: Duration::from_secs(24 * 3600),
            rto_target: None,
            busy_servers: Default::default(),
            ..Default::default()
        },
    }
}

/// What one benchmark run measured.
#[derive(Debug, Clone)]
pub struct RunFigures {
    /// The final status of each execution, in the order of the plans.
    pub statuses: Vec<ExecutionStatus>,
    pub wall: Duration,
    pub messages: u64,
    pub decided: u64,
    /// Per wave boundary: the last launch result of wave N (in the
    /// simulator) → the StartRecovery call of wave N+1. Only meaningful
    /// with a single execution.
    pub boundaries: Vec<Duration>,
    /// Calls the simulator answered, by operation.
    pub calls: BTreeMap<Operation, u64>,
    /// Servers that launched (LAUNCHED or COMPLETED in the records).
    pub launched: usize,
}

impl RunFigures {
    /// DescribeJobs (finding jobs by tag included), DescribeJobLogItems,
    /// DescribeRecoveryInstances and EC2 DescribeInstances per launched
    /// server: what a launch costs in the DRS and EC2 read quotas.
    pub fn describes_per_launched(&self) -> f64 {
        let n: u64 = DESCRIBE_OPERATIONS
            .iter()
            .map(|op| self.calls.get(op).copied().unwrap_or(0))
            .sum();
        n as f64 / self.launched.max(1) as f64
    }
}

/// The read calls a launch is observed with.
pub const DESCRIBE_OPERATIONS: [Operation; 4] = [
    Operation::DescribeJobs,
    Operation::DescribeJobLogItems,
    Operation::DescribeRecoveryInstances,
    Operation::DescribeInstances,
];

/// Runs `plans` at once, each as its own execution, on a fresh database
/// with `scenario`, until they all end.
pub async fn run_plans(
    plans: Vec<Plan>,
    scenario: Scenario,
    limit: Duration,
) -> anyhow::Result<RunFigures> {
    let dir = tempfile::tempdir()?;
    let engine = LocalEngine::open(&dir.path().join("bench.db"), scenario)?;
    let workers = engine.spawn_workers(&QueueName::ALL, WorkerConfig::default());
    let ports = engine.ports.clone();
    let mut ids = Vec::new();
    let mut starts = Vec::new();
    for plan in plans {
        let id = ExecutionId::new_random();
        let start = Envelope::start_execution(id, plan, "bench", false, ports.clock.now());
        starts.push(start.to_message(Duration::ZERO));
        ids.push(id);
    }
    let began = Instant::now();
    ports.queue.send(QueueName::Launch, starts).await?;
    let statuses = wait_until_ended(
        &*ports.store,
        &ids,
        began,
        limit,
        Duration::from_millis(2),
        || Ok(()),
    )
    .await?;
    let wall = began.elapsed();
    let mut launched = 0;
    for id in &ids {
        launched += ports
            .store
            .load_waves(*id)
            .await?
            .iter()
            .flat_map(|w| &w.servers)
            .filter(|s| {
                matches!(
                    s.launch_status,
                    LaunchStatus::Launched | LaunchStatus::Completed
                )
            })
            .count();
    }
    let messages = workers.telemetry.messages_settled();
    let decided = workers.telemetry.events_decided();
    workers.shutdown().await;
    Ok(RunFigures {
        statuses,
        wall,
        messages,
        decided,
        boundaries: wave_boundaries(&engine),
        calls: engine.simulator.calls(),
        launched,
    })
}

/// Looks at `ids` in `store` every `every` until each has ended, and
/// returns their final statuses; `between` runs on every round (and may
/// stop the wait with its error). Fails once `limit` has passed since
/// `began`.
pub async fn wait_until_ended(
    store: &dyn ExecutionStore,
    ids: &[ExecutionId],
    began: Instant,
    limit: Duration,
    every: Duration,
    mut between: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Vec<ExecutionStatus>> {
    let mut statuses = vec![None; ids.len()];
    while statuses.iter().any(Option::is_none) {
        for (i, id) in ids.iter().enumerate() {
            if statuses[i].is_none()
                && let Some(e) = store.load_execution(*id).await?
                && e.record.status.is_terminal()
            {
                statuses[i] = Some(e.record.status);
            }
        }
        between()?;
        if began.elapsed() > limit {
            anyhow::bail!("the benchmark executions did not end within {limit:?}");
        }
        tokio::time::sleep(every).await;
    }
    Ok(statuses.into_iter().flatten().collect())
}

fn wave_boundaries(engine: &LocalEngine) -> Vec<Duration> {
    let timeline = engine.simulator.launch_timeline();
    let calls = engine.simulator.start_recovery_calls();
    let wave_of = |tags: &std::collections::BTreeMap<String, String>| {
        tags.get(TAG_WAVE).and_then(|w| w.parse::<u32>().ok())
    };
    let mut out = Vec::new();
    for job in &timeline {
        let (Some(wave), Some(settled)) = (wave_of(&job.tags), job.last_settled) else {
            continue;
        };
        let next_start = calls
            .iter()
            .filter(|c| wave_of(&c.tags) == Some(wave + 1))
            .map(|c| c.at)
            .min();
        if let Some(next) = next_start {
            out.push((next - settled).to_std().unwrap_or_default());
        }
    }
    out
}

/// The scenario for engine-only figures: nothing takes simulated time.
pub fn instant_scenario() -> Scenario {
    Scenario {
        time_scale: 1.0,
        job_pending: Duration::ZERO,
        launch_duration: DurationRange {
            min: Duration::ZERO,
            max: Duration::ZERO,
        },
        ..Scenario::default()
    }
}

/// The scenario for wave-boundary figures: wall-clock time, launches of
/// 1–3 s, pushed launch results on or off.
pub fn boundary_scenario(push: bool) -> Scenario {
    Scenario {
        time_scale: 1.0,
        job_pending: Duration::ZERO,
        launch_duration: DurationRange {
            min: Duration::from_secs(1),
            max: Duration::from_secs(3),
        },
        push_launch_results: push,
        ..Scenario::default()
    }
}

/// The scenario for describe-call figures: the simulator's own launch
/// times (pending 10 s, launches of 2–5 min) with pushed results, on a
/// clock `time_scale` times real time.
pub fn describe_scenario(time_scale: f64) -> Scenario {
    Scenario {
        time_scale,
        ..Scenario::default()
    }
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let s: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        assert_eq!(percentile(&s, 50.0), Duration::from_millis(10));
        assert_eq!(percentile(&s, 99.0), Duration::from_millis(20));
        assert_eq!(percentile(&s, 0.0), Duration::from_millis(1));
    }

    #[test]
    fn chain_plans_have_the_asked_shape() {
        let p = chain_plan(40, 100);
        assert_eq!(p.server_count(), 4000);
        assert_eq!(p.waves[39].depends_on, vec![WaveNumber(39)]);
        let mut ids: Vec<_> = p
            .waves
            .iter()
            .flat_map(|w| &w.servers)
            .map(|s| s.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4000);
    }

    #[test]
    fn plans_run_at_once_share_no_server() {
        let plans = chain_plans(3, 2, 5);
        let mut ids: Vec<_> = plans
            .iter()
            .flat_map(|p| &p.waves)
            .flat_map(|w| &w.servers)
            .map(|s| s.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 30);
    }
}
