//! The execution record's part of the state machine: creating an execution,
//! ordering its waves (dependencies and approval gates), and its own status.
//! A wave reports back with `WaveFinished`; the execution never looks inside
//! a wave, so workers on different waves never contend for one record.

use super::context::{Ctx, Outcome};
use super::decision::{Change, Effect};
use super::preflight::{self, Next};
use crate::capacity::{BusyServer, HOLD_MARGIN, describe_busy};
use crate::event::Event;
use crate::ids::WaveNumber;
use crate::plan::{BusyServers, Mode, Plan, PreflightMode};
use crate::records::{ExecutionRecord, OperatorActionKind, ServerClaimState};
use crate::status_model::{ExecutionStatus, WaveStatus};
use crate::status_model::{Transitions, operator_transition, transition};
use crate::time::after;
use std::time::Duration;

pub(crate) fn start(
    ctx: &mut Ctx<'_>,
    plan: &Plan,
    requested_by: &str,
    recovery_confirmed: bool,
) -> Outcome {
    let (mut execution, mut waves) =
        ExecutionRecord::new(ctx.envelope.execution_id, plan, requested_by, ctx.now);
    if plan.mode == Mode::Recovery && !recovery_confirmed {
        // Invariant 6: record the refusal so that it can be seen, start nothing.
        let reason = "refused: this plan is a real recovery (mode: recovery) and the request did not confirm it; \
                      run it again with --confirm-recovery if a real failover is intended";
        transition(
            &mut execution.status,
            ExecutionStatus::Failed,
            "execution",
            &mut ctx.rejected,
        );
        execution.end_time = Some(ctx.now);
        execution.reason = Some(reason.to_owned());
        for (summary, wave) in execution.waves.iter_mut().zip(waves.iter_mut()) {
            summary.status = WaveStatus::Cancelled;
            wave.status = WaveStatus::Cancelled;
            wave.reason = Some("not started: the recovery was not confirmed".to_owned());
        }
        return Outcome::Changed(Change::Create { execution, waves });
    }
    transition(
        &mut execution.status,
        ExecutionStatus::InProgress,
        "execution",
        &mut ctx.rejected,
    );
    // Pre-flight first; then, one server, one active execution: the waves
    // start once the execution holds every server of its plan.
    match plan.options.preflight_mode(plan.mode) {
        PreflightMode::Off => begin_claim(ctx, &mut execution),
        mode => preflight::begin(ctx, &mut execution, mode),
    }
    ctx.send(
        None,
        Event::ExecutionTimedOut {},
        execution.options.execution_timeout,
    );
    ctx.send(None, Event::PublishMetrics {}, Duration::ZERO);
    Outcome::Changed(Change::Create { execution, waves })
}

pub(crate) fn decide(ctx: &mut Ctx<'_>, execution: &ExecutionRecord, event: &Event) -> Outcome {
    let wave = ctx.envelope.wave;
    let before_reopening = execution
        .reopened_at
        .is_some_and(|at| ctx.envelope.created_at < at);
    match event {
        Event::ExecutionTimedOut {}
        | Event::ClaimServers { .. }
        | Event::ServersClaimed { .. }
        | Event::ServersBusy { .. }
            if before_reopening =>
        {
            Outcome::Ignored(format!(
                "this {} was sent before an operator reopened the execution",
                event.type_name()
            ))
        }
        Event::WaveFinished { status, attempt } => match wave {
            Some(n) => wave_finished(ctx, execution, n, *status, *attempt),
            None => Outcome::Ignored("WaveFinished without a wave number".into()),
        },
        Event::ApproveWave { approved_by } => match wave {
            Some(n) => approve(ctx, execution, n, approved_by),
            None => Outcome::Ignored("ApproveWave without a wave number".into()),
        },
        Event::CancelExecution {
            requested_by,
            reason,
        } => stop(
            ctx,
            execution,
            ExecutionStatus::Cancelled,
            format!("cancelled by {requested_by}: {reason}"),
        ),
        Event::ExecutionTimedOut {} => {
            let limit = humantime::format_duration(execution.options.execution_timeout);
            stop(
                ctx,
                execution,
                ExecutionStatus::Timeout,
                format!("the execution did not finish within its execution_timeout of {limit}"),
            )
        }
        Event::CheckPreflight { tries } => {
            let mut next = execution.clone();
            let then = preflight::tick(ctx, &mut next, *tries);
            after_preflight(ctx, next, then)
        }
        Event::PreflightChecked { report, .. } => {
            let mut next = execution.clone();
            let then = preflight::checked(&mut next, report);
            after_preflight(ctx, next, then)
        }
        Event::PreflightFailed {
            tries,
            error,
            throttled,
        } => {
            let mut next = execution.clone();
            let then = preflight::failed(&mut next, *tries, error, *throttled);
            after_preflight(ctx, next, then)
        }
        Event::ClaimServers { tries } => claim_tick(ctx, execution, *tries),
        Event::ServersClaimed { tries } => servers_claimed(ctx, execution, *tries),
        Event::ServersBusy { tries, busy } => servers_busy(ctx, execution, *tries, busy),
        Event::ServerClaimFailed { error, .. } => Outcome::Ignored(format!(
            "claiming the execution's servers failed: {error}; the next tick asks again"
        )),
        Event::ServersReleased { error: None } => {
            Outcome::Ignored("the execution's servers were given back".into())
        }
        Event::ServersReleased { error: Some(error) } => Outcome::Ignored(format!(
            "giving back the execution's servers failed: {error}; the hold lapses on its own"
        )),
        other => Outcome::Ignored(format!("{} is not an execution event", other.type_name())),
    }
}

fn wave_finished(
    ctx: &mut Ctx<'_>,
    execution: &ExecutionRecord,
    n: WaveNumber,
    status: WaveStatus,
    attempt: u32,
) -> Outcome {
    let Some(summary) = execution.waves.get(n.index()) else {
        return Outcome::Ignored(format!("the execution has no wave {n}"));
    };
    if attempt != summary.attempt {
        return Outcome::Ignored(format!(
            "attempt {attempt} of wave {n} ended; the wave is at attempt {}",
            summary.attempt
        ));
    }
    if summary.status == status {
        return Outcome::Ignored(format!("wave {n} is already {status:?}"));
    }
    if !summary.started || summary.status == WaveStatus::Skipped {
        // Its record ended an attempt the execution no longer waits for (a
        // cancel that reached it after an operator reopened the wave), or
        // an operator skipped it.
        return Outcome::Ignored(format!("wave {n} is {:?} for now", summary.status));
    }
    // A skip that reached the wave's record after it failed.
    let skipped_after_failing =
        status == WaveStatus::Skipped && summary.status == WaveStatus::Failed;
    if !skipped_after_failing && (!status.is_terminal() || summary.status.is_terminal()) {
        ctx.rejected.push(format!(
            "wave {n} summary: {:?} → {status:?} is not a valid transition",
            summary.status
        ));
        return Outcome::Ignored(format!("wave {n} cannot become {status:?}"));
    }
    let mut next = execution.clone();
    next.waves[n.index()].status = status;
    if skipped_after_failing {
        reopen(ctx, &mut next);
    }
    if status == WaveStatus::Failed && !next.status.is_terminal() {
        // A failure needs a human: start nothing new.
        let name = next.waves[n.index()].name.clone();
        cancel_unstarted(
            ctx,
            &mut next,
            &format!("not started: wave {n} ({name}) failed"),
        );
        if next.reason.is_none() {
            next.reason = Some(format!("wave {n} ({name}) failed"));
        }
    }
    if !next.status.is_terminal() {
        start_ready_waves(ctx, &mut next);
    }
    settle(ctx, &mut next);
    ctx.send(None, Event::PublishMetrics {}, Duration::ZERO);
    Outcome::Changed(Change::Execution(next))
}

fn approve(ctx: &mut Ctx<'_>, execution: &ExecutionRecord, n: WaveNumber, by: &str) -> Outcome {
    let Some(summary) = execution.waves.get(n.index()) else {
        return Outcome::Ignored(format!("the execution has no wave {n}"));
    };
    if execution.status.is_terminal() {
        return Outcome::Ignored(format!("the execution is {:?}", execution.status));
    }
    if !summary.wait_for_approval {
        return Outcome::Ignored(format!("wave {n} has no approval gate"));
    }
    if summary.approved_by.is_some() || summary.started {
        return Outcome::Ignored(format!("wave {n} is already approved"));
    }
    let mut next = execution.clone();
    next.waves[n.index()].approved_by = Some(by.to_owned());
    start_ready_waves(ctx, &mut next);
    Outcome::Changed(Change::Execution(next))
}

fn stop(
    ctx: &mut Ctx<'_>,
    execution: &ExecutionRecord,
    status: ExecutionStatus,
    reason: String,
) -> Outcome {
    let not_started = format!("not started: {reason}");
    stop_with(ctx, execution, status, reason, not_started)
}

/// Like [`stop`], with the reason the waves that never started get.
fn stop_with(
    ctx: &mut Ctx<'_>,
    execution: &ExecutionRecord,
    status: ExecutionStatus,
    reason: String,
    not_started: String,
) -> Outcome {
    if execution.status.is_terminal() {
        return Outcome::Ignored(format!("the execution is already {:?}", execution.status));
    }
    let mut next = execution.clone();
    transition(&mut next.status, status, "execution", &mut ctx.rejected);
    next.end_time = Some(ctx.now);
    next.reason = Some(reason.clone());
    cancel_unstarted(ctx, &mut next, &not_started);
    let active: Vec<WaveNumber> = next
        .waves
        .iter()
        .filter(|w| w.started && !w.status.is_terminal())
        .map(|w| w.number)
        .collect();
    for n in active {
        ctx.send(
            Some(n),
            Event::CancelWave {
                reason: reason.clone(),
            },
            Duration::ZERO,
        );
    }
    ctx.send(None, Event::PublishMetrics {}, Duration::ZERO);
    Outcome::Changed(Change::Execution(next))
}

fn after_preflight(ctx: &mut Ctx<'_>, mut next: ExecutionRecord, then: Next) -> Outcome {
    match then {
        Next::Claim => {
            begin_claim(ctx, &mut next);
            Outcome::Changed(Change::Execution(next))
        }
        // The findings are the execution's; each wave says only why it
        // never started, not the whole list again.
        Next::Fail(reason) => stop_with(
            ctx,
            &next,
            ExecutionStatus::Failed,
            reason,
            "not started: the execution's pre-flight found errors (see its reason and findings)"
                .to_owned(),
        ),
        Next::Ignore(reason) => Outcome::Ignored(reason),
        Next::Wait => Outcome::Changed(Change::Execution(next)),
    }
}

/// Starts claiming the servers of the execution's plan.
pub(crate) fn begin_claim(ctx: &mut Ctx<'_>, execution: &mut ExecutionRecord) {
    execution.server_claim = ServerClaimState::Claiming {
        tries: 1,
        reason: None,
        asked_at: Some(ctx.now),
    };
    claim_servers(ctx, execution, 1);
}

/// How often an execution asks again for its servers.
pub(crate) const CLAIM_TICK: Duration = Duration::from_secs(30);

/// Asks for the servers of `execution`'s plan at tick `tries`, and sends
/// the next tick: an answer lost to a crash is asked for again.
fn claim_servers(ctx: &mut Ctx<'_>, execution: &ExecutionRecord, tries: u32) {
    ctx.effect(Effect::ClaimServers {
        tries,
        execution_id: execution.id,
        recovery: execution.mode == Mode::Recovery,
        since: execution.start_time,
        expires_at: after(
            execution.reopened_at.unwrap_or(execution.start_time),
            execution.options.execution_timeout + HOLD_MARGIN,
        ),
    });
    ctx.send(None, Event::ClaimServers { tries: tries + 1 }, CLAIM_TICK);
}

fn claiming(execution: &ExecutionRecord, tries: Option<u32>) -> Result<(), String> {
    match &execution.server_claim {
        ServerClaimState::Claiming { tries: current, .. }
            if !execution.status.is_terminal() && tries.is_none_or(|t| t == *current) =>
        {
            Ok(())
        }
        _ => Err("the execution is not claiming its servers (or this tick is stale)".into()),
    }
}

fn claim_tick(ctx: &mut Ctx<'_>, execution: &ExecutionRecord, tries: u32) -> Outcome {
    if let Err(reason) = claiming(execution, Some(tries.saturating_sub(1))) {
        return Outcome::Ignored(reason);
    }
    let mut next = execution.clone();
    if let ServerClaimState::Claiming {
        tries: t, asked_at, ..
    } = &mut next.server_claim
    {
        *t = tries;
        *asked_at = Some(ctx.now);
    }
    claim_servers(ctx, &next, tries);
    Outcome::Changed(Change::Execution(next))
}

fn servers_claimed(ctx: &mut Ctx<'_>, execution: &ExecutionRecord, _tries: u32) -> Outcome {
    if let Err(reason) = claiming(execution, None) {
        return Outcome::Ignored(reason);
    }
    let mut next = execution.clone();
    next.server_claim = ServerClaimState::Claimed;
    start_ready_waves(ctx, &mut next);
    Outcome::Changed(Change::Execution(next))
}

fn servers_busy(
    ctx: &mut Ctx<'_>,
    execution: &ExecutionRecord,
    tries: u32,
    busy: &[BusyServer],
) -> Outcome {
    if let Err(reason) = claiming(execution, Some(tries)) {
        return Outcome::Ignored(reason);
    }
    let what = describe_busy(busy);
    match execution.options.busy_servers {
        BusyServers::Refuse => stop(
            ctx,
            execution,
            ExecutionStatus::Failed,
            format!(
                "refused: {what}; one server is in one active execution at a time. \
                 Wait for that execution to end or cancel it, or set options.busy_servers: wait \
                 to start once it has ended"
            ),
        ),
        BusyServers::Wait => {
            let reason = format!("waiting for servers: {what}");
            let mut next = execution.clone();
            if let ServerClaimState::Claiming { reason: r, .. } = &mut next.server_claim {
                if r.as_deref() == Some(reason.as_str()) {
                    return Outcome::Ignored("still waiting for the same servers".into());
                }
                *r = Some(reason);
            }
            Outcome::Changed(Change::Execution(next))
        }
    }
}

/// Gives back the servers `execution` holds once it has ended.
pub(crate) fn release_servers_when_done(ctx: &mut Ctx<'_>, execution: &mut ExecutionRecord) {
    let holds = matches!(
        execution.server_claim,
        ServerClaimState::Claiming { .. } | ServerClaimState::Claimed
    );
    if holds && execution.status.is_terminal() {
        ctx.effect(Effect::ReleaseServers {
            execution_id: execution.id,
        });
        execution.server_claim = ServerClaimState::Released;
    }
}

/// Sends StartWave for every wave whose dependencies are all COMPLETED (or
/// SKIPPED) and whose approval gate (if any) is open; RelaunchWave for a
/// wave's later attempt (a retry, or a wave reopened after one).
pub(crate) fn start_ready_waves(ctx: &mut Ctx<'_>, execution: &mut ExecutionRecord) {
    if matches!(execution.server_claim, ServerClaimState::Claiming { .. })
        || preflight::checking(execution)
        || execution.paused.is_some()
    {
        // No wave starts before the pre-flight has passed and the execution
        // holds its servers, nor while an operator has paused it.
        return;
    }
    let completed: Vec<bool> = execution
        .waves
        .iter()
        .map(|w| matches!(w.status, WaveStatus::Completed | WaveStatus::Skipped))
        .collect();
    for summary in execution.waves.iter_mut() {
        let ready = !summary.started
            && summary.status == WaveStatus::Pending
            && summary
                .depends_on
                .iter()
                .all(|d| completed.get(d.index()).copied().unwrap_or(false))
            && (!summary.wait_for_approval || summary.approved_by.is_some());
        if ready {
            summary.started = true;
            summary.started_at = Some(ctx.now);
            let event = match summary.attempt {
                1 => Event::StartWave {},
                attempt => Event::RelaunchWave {
                    attempt,
                    servers: summary.retry_servers.clone(),
                },
            };
            ctx.send(Some(summary.number), event, Duration::ZERO);
        }
    }
}

/// Marks every wave that was never started CANCELLED with `reason`. The
/// wave records learn of it through CancelWave.
fn cancel_unstarted(ctx: &mut Ctx<'_>, execution: &mut ExecutionRecord, reason: &str) {
    for summary in execution.waves.iter_mut() {
        if !summary.started && !summary.status.is_terminal() {
            summary.status = WaveStatus::Cancelled;
            ctx.send(
                Some(summary.number),
                Event::CancelWave {
                    reason: reason.to_owned(),
                },
                Duration::ZERO,
            );
        }
    }
}

/// Ends the execution once no wave is running or can still start.
pub(crate) fn settle(ctx: &mut Ctx<'_>, execution: &mut ExecutionRecord) {
    if execution.status.is_terminal() {
        return;
    }
    if !execution.waves.iter().all(|w| w.status.is_terminal()) {
        return;
    }
    let status = if execution
        .waves
        .iter()
        .all(|w| matches!(w.status, WaveStatus::Completed | WaveStatus::Skipped))
    {
        execution.reason = skipped_reason(execution);
        ExecutionStatus::Completed
    } else if execution
        .waves
        .iter()
        .any(|w| w.status == WaveStatus::Failed)
    {
        ExecutionStatus::Failed
    } else {
        ExecutionStatus::Cancelled
    };
    if transition(
        &mut execution.status,
        status,
        "execution",
        &mut ctx.rejected,
    ) {
        execution.end_time = Some(ctx.now);
    }
}

/// The reason a COMPLETED execution gives when waves were skipped: which,
/// and who skipped them (docs/status-model.md).
fn skipped_reason(execution: &ExecutionRecord) -> Option<String> {
    let skipped: Vec<String> = execution
        .waves
        .iter()
        .filter(|w| w.status == WaveStatus::Skipped)
        .map(|w| {
            let by = execution
                .operator_actions
                .iter()
                .rev()
                .find(|a| a.action == OperatorActionKind::Skip && a.wave == Some(w.number))
                .map(|a| format!(" by {}", a.requested_by))
                .unwrap_or_default();
            format!("wave {} ({}) skipped{by}", w.number, w.name)
        })
        .collect();
    (!skipped.is_empty()).then(|| format!("completed with {}", skipped.join(", ")))
}

/// After a retry or a skip: once no wave is FAILED, the waves a failure
/// cancelled before they started go back to PENDING (as their next
/// attempt); a FAILED execution that has a wave to run again, or no failed
/// wave left, goes back to IN_PROGRESS with a fresh execution timeout and
/// claims its servers again (the usual busy rules apply).
pub(crate) fn reopen(ctx: &mut Ctx<'_>, next: &mut ExecutionRecord) {
    if !matches!(
        next.status,
        ExecutionStatus::Failed | ExecutionStatus::InProgress
    ) {
        // Cancelled or timed out meanwhile: nothing goes on.
        return;
    }
    let any_failed = next.waves.iter().any(|w| w.status == WaveStatus::Failed);
    if !any_failed {
        for summary in next.waves.iter_mut() {
            if summary.status == WaveStatus::Cancelled && !summary.started {
                summary.status = WaveStatus::Pending;
                summary.attempt += 1;
            }
        }
    }
    let to_run = next.waves.iter().any(|w| !w.status.is_terminal());
    if next.status != ExecutionStatus::Failed || (any_failed && !to_run) {
        return;
    }
    operator_transition(
        &mut next.status,
        ExecutionStatus::InProgress,
        "execution",
        &mut ctx.rejected,
    );
    next.end_time = None;
    next.reason = None;
    if to_run {
        next.reopened_at = Some(ctx.now);
        ctx.send(
            None,
            Event::ExecutionTimedOut {},
            next.options.execution_timeout,
        );
        begin_claim(ctx, next);
    }
}
