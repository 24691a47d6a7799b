//! The health of a deployment (for `/healthz`; docs/monitoring.md):
//! how long ago each kind of worker last polled its queue, which executions
//! look stuck, what waits in the dead-letter queues, and from the recent
//! outcomes the heartbeats carry, how each kind's steps ended and how each
//! service the engine calls answered ([`outcomes`]). Pure: the caller
//! reads the heartbeats, the active executions and the queue depths, and
//! passes the time.

mod level;
pub mod outcomes;

use crate::ids::{ExecutionId, WaveNumber};
use crate::ports::QueueName;
use crate::ports::dead_letters::QueueDepth;
use crate::ports::heartbeats::WorkerHeartbeat;
use crate::records::{ExecutionRecord, WaveRecord};
use crate::status_model::{ExecutionStatus, WaveStatus};
use crate::time::Timestamp;
pub use level::HealthLevel;
use level::human_seconds;
pub use outcomes::{OutcomeThresholds, ServiceHealth, StepWindows};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// When a worker kind or an execution counts as unwell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HealthThresholds {
    /// A worker kind whose latest poll is older than this is unhealthy
    /// (default five minutes; docs/monitoring.md).
    pub poll_age: Duration,
    /// An active execution with nothing decided for this long is stuck. Any
    /// running wave is polled at least every 30 s (the PENDING interval), so
    /// a quiet quarter of an hour means no worker is moving it.
    pub stuck_after: Duration,
    /// When recent step outcomes and service errors count as a problem.
    pub outcomes: OutcomeThresholds,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            poll_age: Duration::from_secs(5 * 60),
            stuck_after: Duration::from_secs(15 * 60),
            outcomes: OutcomeThresholds::default(),
        }
    }
}

/// The whole answer of `/healthz`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    pub status: HealthLevel,
    pub checked_at: Timestamp,
    /// One entry per worker kind, in queue order.
    pub workers: Vec<WorkerKindHealth>,
    pub stuck_executions: Vec<StuckExecution>,
    /// Active executions waiting only for a wave's approval (not stuck).
    pub awaiting_approval: Vec<ExecutionId>,
    pub queues: Vec<QueueHealth>,
    /// Each service the workers' processes called, by what they report with
    /// their heartbeats (docs/monitoring.md, "Recent outcomes").
    #[serde(default)]
    pub services: Vec<ServiceHealth>,
    /// Each problem in a sentence, with what to do.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WorkerKindHealth {
    pub kind: QueueName,
    pub status: HealthLevel,
    /// The latest poll of any worker of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_poll: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_poll_age_seconds: Option<f64>,
    /// Workers of this kind that polled within the poll-age threshold.
    pub live_workers: usize,
    /// How this kind's steps ended, over the last 5 and 15 minutes.
    #[serde(default)]
    pub steps: StepWindows,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StuckExecution {
    pub execution_id: ExecutionId,
    pub plan_name: String,
    pub status: ExecutionStatus,
    pub start_time: Timestamp,
    /// When anything was last decided for it.
    pub last_activity: Timestamp,
    pub idle_seconds: f64,
    /// The waves that were running when it went quiet.
    pub running_waves: Vec<WaveNumber>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QueueHealth {
    pub queue: QueueName,
    #[serde(flatten)]
    pub depth: QueueDepth,
}

/// An active execution as the store holds it.
pub struct ActiveExecution<'a> {
    pub execution: &'a ExecutionRecord,
    pub waves: &'a [WaveRecord],
}

/// What `/healthz` reads, gathered by the caller.
pub struct HealthInput<'a> {
    pub heartbeats: &'a [WorkerHeartbeat],
    /// The PENDING and IN_PROGRESS executions.
    pub active: &'a [ActiveExecution<'a>],
    pub queues: &'a [(QueueName, QueueDepth)],
    /// Wall-clock now: heartbeats are in wall-clock time.
    pub now: Timestamp,
    /// Now on the executions' clock (simulated on the embedded backend).
    pub execution_now: Timestamp,
}

/// Judges the deployment's health.
pub fn assess(input: &HealthInput<'_>, thresholds: &HealthThresholds) -> HealthReport {
    let mut problems = Vec::new();
    let workers: Vec<WorkerKindHealth> = QueueName::ALL
        .into_iter()
        .map(|kind| {
            let mut health = worker_kind_health(kind, input.heartbeats, input.now, thresholds);
            if let Some(problem) = outcomes::judge_steps(kind, &health.steps, &thresholds.outcomes)
            {
                problems.push(problem);
                health.status = health.status.max(HealthLevel::Degraded);
            }
            if health.live_workers == 0 {
                problems.push(match health.last_poll_age_seconds {
                    Some(age) => format!(
                        "no {kind} worker has polled for {}; start `ripcord worker {kind}` (or check why it stopped)",
                        human_seconds(age)
                    ),
                    None => format!(
                        "no {kind} worker has ever polled; start `ripcord worker {kind}`"
                    ),
                });
            }
            health
        })
        .collect();

    let mut stuck_executions = Vec::new();
    let mut awaiting_approval = Vec::new();
    for active in input.active {
        let execution = active.execution;
        if waits_only_for_approval(active) {
            awaiting_approval.push(execution.id);
            continue;
        }
        let last = last_activity(execution, active.waves);
        let idle = (input.execution_now - last).to_std().unwrap_or_default();
        if idle >= thresholds.stuck_after {
            problems.push(format!(
                "execution {} ({}) has had nothing decided for {}; check the workers' logs and the dead-letter queues (`ripcord dlq list`)",
                execution.id,
                execution.plan_name,
                human_seconds(idle.as_secs_f64())
            ));
            stuck_executions.push(StuckExecution {
                execution_id: execution.id,
                plan_name: execution.plan_name.clone(),
                status: execution.status,
                start_time: execution.start_time,
                last_activity: last,
                idle_seconds: idle.as_secs_f64(),
                running_waves: active
                    .waves
                    .iter()
                    .filter(|w| matches!(w.status, WaveStatus::Launching | WaveStatus::PostActions))
                    .map(|w| w.number)
                    .collect(),
            });
        }
    }

    let queues: Vec<QueueHealth> = input
        .queues
        .iter()
        .map(|&(queue, depth)| {
            if depth.dead > 0 {
                problems.push(format!(
                    "{} message(s) in the {queue} dead-letter queue; `ripcord dlq list {queue}` shows why, `ripcord dlq replay {queue} --all` retries them",
                    depth.dead
                ));
            }
            QueueHealth { queue, depth }
        })
        .collect();

    let services: Vec<ServiceHealth> = outcomes::merged_services(input.heartbeats)
        .iter()
        .map(|calls| {
            let (health, problem) = outcomes::judge_service(calls, input.now, &thresholds.outcomes);
            problems.extend(problem);
            health
        })
        .collect();

    let status = if !stuck_executions.is_empty() || queues.iter().any(|q| q.depth.dead > 0) {
        HealthLevel::Degraded
    } else {
        HealthLevel::Healthy
    };
    let status = workers
        .iter()
        .map(|w| w.status)
        .chain(services.iter().map(|s| s.status))
        .fold(status, HealthLevel::max);
    HealthReport {
        status,
        checked_at: input.now,
        workers,
        stuck_executions,
        awaiting_approval,
        queues,
        services,
        problems,
    }
}

fn worker_kind_health(
    kind: QueueName,
    heartbeats: &[WorkerHeartbeat],
    now: Timestamp,
    thresholds: &HealthThresholds,
) -> WorkerKindHealth {
    let of_kind = heartbeats.iter().filter(|h| h.kind == kind);
    let age = |h: &WorkerHeartbeat| (now - h.last_poll).to_std().unwrap_or_default();
    let live_workers = of_kind
        .clone()
        .filter(|h| age(h) <= thresholds.poll_age)
        .count();
    let last_poll = of_kind.map(|h| h.last_poll).max();
    let last_poll_age = last_poll.map(|t| (now - t).to_std().unwrap_or_default());
    WorkerKindHealth {
        kind,
        status: if live_workers > 0 {
            HealthLevel::Healthy
        } else {
            HealthLevel::Unhealthy
        },
        last_poll,
        last_poll_age_seconds: last_poll_age.map(|a| (a.as_secs_f64() * 10.0).round() / 10.0),
        live_workers,
        steps: outcomes::steps_of_kind(kind, heartbeats, now, &thresholds.outcomes),
    }
}

/// The latest instant anything was decided for an execution: its journals,
/// else its start (a fresh execution has decided nothing yet).
pub fn last_activity(execution: &ExecutionRecord, waves: &[WaveRecord]) -> Timestamp {
    waves
        .iter()
        .flat_map(|w| [w.journal.last_at(), w.last_observed_at])
        .chain([execution.journal.last_at()])
        .flatten()
        .chain([execution.start_time])
        .max()
        .unwrap_or(execution.start_time)
}

/// Nothing runs and a wave that could start waits for its approval: the
/// execution is idle by design.
fn waits_only_for_approval(active: &ActiveExecution<'_>) -> bool {
    let summaries = &active.execution.waves;
    let running = summaries
        .iter()
        .any(|w| matches!(w.status, WaveStatus::Launching | WaveStatus::PostActions));
    !running
        && summaries.iter().any(|w| {
            w.wait_for_approval && w.approved_by.is_none() && w.status == WaveStatus::Pending
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use chrono::TimeDelta;

    fn beat(kind: QueueName, id: &str, last_poll: Timestamp) -> WorkerHeartbeat {
        WorkerHeartbeat {
            kind,
            worker_id: id.to_owned(),
            started_at: last_poll - TimeDelta::hours(1),
            last_poll,
            messages: 0,
            stopped_at: None,
            steps: Default::default(),
            calls: None,
        }
    }

    fn all_kinds(now: Timestamp) -> Vec<WorkerHeartbeat> {
        QueueName::ALL
            .into_iter()
            .map(|k| beat(k, &format!("host:1:{k}"), now - TimeDelta::seconds(3)))
            .collect()
    }

    /// `assess` with the default thresholds.
    fn judge(
        heartbeats: &[WorkerHeartbeat],
        active: &[ActiveExecution<'_>],
        queues: &[(QueueName, QueueDepth)],
        now: Timestamp,
        execution_now: Timestamp,
    ) -> HealthReport {
        let input = HealthInput {
            heartbeats,
            active,
            queues,
            now,
            execution_now,
        };
        assess(&input, &HealthThresholds::default())
    }

    fn no_queues() -> Vec<(QueueName, QueueDepth)> {
        QueueName::ALL
            .into_iter()
            .map(|q| (q, QueueDepth::default()))
            .collect()
    }

    #[test]
    fn every_kind_polling_and_nothing_stuck_is_healthy() {
        let now = testing::t0();
        let beats = all_kinds(now);
        let queues = no_queues();
        let report = judge(&beats, &[], &queues, now, now);
        assert_eq!(report.status, HealthLevel::Healthy, "{report:#?}");
        assert!(report.problems.is_empty());
        assert_eq!(report.workers.len(), 4);
        assert_eq!(report.workers[0].last_poll_age_seconds, Some(3.0));
    }

    #[test]
    fn a_kind_silent_past_the_poll_age_is_unhealthy_with_its_age() {
        let now = testing::t0();
        let mut beats = all_kinds(now);
        beats.retain(|b| b.kind != QueueName::Poll);
        beats.push(beat(QueueName::Poll, "old", now - TimeDelta::minutes(6)));
        let queues = no_queues();
        let report = judge(&beats, &[], &queues, now, now);
        assert_eq!(report.status, HealthLevel::Unhealthy);
        let poll = &report.workers[1];
        assert_eq!(poll.kind, QueueName::Poll);
        assert_eq!(poll.status, HealthLevel::Unhealthy);
        assert_eq!(poll.live_workers, 0);
        assert_eq!(poll.last_poll_age_seconds, Some(360.0));
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].contains("no poll worker has polled for 6m"));
    }

    #[test]
    fn a_quiet_running_execution_is_stuck_and_dead_letters_degrade() {
        let f = testing::mid_drill();
        let now = f.now + TimeDelta::minutes(20);
        let beats = all_kinds(now);
        let mut queues = no_queues();
        queues[2].1.dead = 2;
        let active = [ActiveExecution {
            execution: &f.execution,
            waves: &f.waves,
        }];
        let report = judge(&beats, &active, &queues, now, now);
        assert_eq!(report.status, HealthLevel::Degraded, "{report:#?}");
        assert_eq!(report.stuck_executions.len(), 1);
        let stuck = &report.stuck_executions[0];
        assert_eq!(stuck.execution_id, f.execution.id);
        assert_eq!(stuck.last_activity, last_activity(&f.execution, &f.waves));
        assert!(stuck.idle_seconds >= 15.0 * 60.0);
        assert_eq!(stuck.running_waves, vec![WaveNumber(2)]);
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        assert!(report.problems[1].contains("2 message(s) in the post-actions dead-letter queue"));

        // The same execution, recently active, is not stuck.
        let report = judge(
            &beats,
            &active,
            &no_queues(),
            now,
            last_activity(&f.execution, &f.waves) + TimeDelta::minutes(1),
        );
        assert_eq!(report.status, HealthLevel::Healthy, "{report:#?}");
    }

    #[test]
    fn an_execution_waiting_for_approval_is_not_stuck() {
        let mut f = testing::fresh();
        f.execution.status = ExecutionStatus::InProgress;
        f.execution.waves[0].wait_for_approval = true;
        let now = f.now + TimeDelta::hours(3);
        let beats = all_kinds(now);
        let queues = no_queues();
        let active = [ActiveExecution {
            execution: &f.execution,
            waves: &f.waves,
        }];
        let report = judge(&beats, &active, &queues, now, now);
        assert!(report.stuck_executions.is_empty(), "{report:#?}");
        assert_eq!(report.awaiting_approval, vec![f.execution.id]);
        assert_eq!(report.status, HealthLevel::Healthy);
    }
}
