//! `decide(state, event, now) -> Decision`: the whole state machine as a
//! pure function. No I/O, no clock, no randomness: the caller passes the
//! time, jitter comes from event ids, and effects are returned as data.

use super::context::{Ctx, Handover, Outcome, WaveOutcome};
use super::decision::{Change, Decision, State};
use super::{cleanup, execution, launch, operator, post_launch, relaunch, sweep};
use crate::event::{Envelope, Event};
use crate::ids::WaveNumber;
use crate::ports::announce::Announcement;
use crate::records::WaveRecord;
use crate::time::Timestamp;
use std::time::Duration;

/// Which record an event is decided against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Execution,
    Wave(WaveNumber),
}

/// The record `envelope` is about. Wave events without a wave number are
/// malformed and are reported by [`decide`] as ignored. An execution
/// event is the execution's whatever wave its envelope names: the result
/// of an effect inherits its cause's wave, so the answer to the server
/// claim of a `RetryWave { wave: 1 }` carries wave 1 and must still reach
/// the execution (else the claim waits for its next tick, 30 s later).
pub fn target(envelope: &Envelope) -> Target {
    match (&envelope.event, envelope.wave) {
        (
            Event::StartExecution { .. }
            | Event::WaveFinished { .. }
            | Event::ApproveWave { .. }
            | Event::CancelExecution { .. }
            | Event::RetryWave { .. }
            | Event::SkipWave { .. }
            | Event::PauseExecution { .. }
            | Event::ResumeExecution { .. }
            | Event::ExecutionTimedOut {}
            | Event::ClaimServers { .. }
            | Event::ServersClaimed { .. }
            | Event::ServersBusy { .. }
            | Event::ServerClaimFailed { .. }
            | Event::ServersReleased { .. }
            | Event::CheckPreflight { .. }
            | Event::PreflightChecked { .. }
            | Event::PreflightFailed { .. }
            | Event::CleanupExecution { .. }
            | Event::WaveCleanedUp { .. }
            | Event::PublishMetrics {}
            | Event::Announce { .. },
            _,
        ) => Target::Execution,
        (Event::Nudge { stall, .. }, _) if !stall.on_wave() => Target::Execution,
        (_, Some(n)) => Target::Wave(n),
        (_, None) => Target::Execution,
    }
}

/// Decides what `envelope` does to `state` at `now`.
pub fn decide(state: &State, envelope: &Envelope, now: Timestamp) -> Decision {
    let mut ctx = Ctx::new(envelope, now);
    let change = match (state, &envelope.event) {
        (
            State::Absent,
            Event::StartExecution {
                plan,
                requested_by,
                recovery_confirmed,
            },
        ) => execution::start(&mut ctx, plan, requested_by, *recovery_confirmed),
        (State::Absent, _) => {
            return Decision::ignore(format!(
                "no execution {} exists; a {} event cannot apply to it",
                envelope.execution_id,
                envelope.event.type_name()
            ));
        }
        (State::Execution(_), Event::StartExecution { .. }) => {
            return Decision::ignore("the execution exists already (duplicate start)");
        }
        (
            State::Execution(exec),
            Event::CleanupExecution {
                requested_by,
                reason,
                confirm_recovery,
            },
        ) => cleanup::request(&mut ctx, exec, requested_by, reason, *confirm_recovery),
        (State::Execution(exec), Event::WaveCleanedUp { .. }) => {
            cleanup::wave_cleaned_up(&mut ctx, exec, envelope.wave, &envelope.event)
        }
        (State::Execution(exec), event) => match execution_event(&mut ctx, exec, event) {
            Outcome::Changed(Change::Execution(mut next)) => {
                execution::release_servers_when_done(&mut ctx, &mut next);
                cleanup::schedule_when_settled(&mut ctx, exec, &next);
                Outcome::Changed(Change::Execution(next))
            }
            other => other,
        },
        (State::Wave(wave), event) => match decide_wave(&mut ctx, wave, event) {
            WaveOutcome::Changed(mut next, then) => {
                if let Some(handover) = then {
                    hand_over(&mut ctx, &mut next, handover);
                }
                launch::release_when_done(&mut ctx, &mut next);
                Outcome::Changed(Change::Wave(next))
            }
            WaveOutcome::Ignored(reason) => Outcome::Ignored(reason),
        },
    };
    if let Outcome::Changed(change) = &change {
        announce_status_change(&mut ctx, state, change);
    }
    ctx.finish(change)
}

/// Hands an execution event to operator control or the execution's part.
fn execution_event(
    ctx: &mut Ctx<'_>,
    execution: &crate::records::ExecutionRecord,
    event: &Event,
) -> Outcome {
    match event {
        Event::RetryWave { .. }
        | Event::SkipWave { .. }
        | Event::PauseExecution { .. }
        | Event::ResumeExecution { .. } => operator::decide(ctx, execution, event),
        Event::Nudge { stall, due } => sweep::nudge_execution(ctx, execution, stall, *due),
        _ => execution::decide(ctx, execution, event),
    }
}

/// Every status change of an execution or a wave is announced (EventBridge
/// on AWS), through the metrics queue so that it is sent at least once.
fn announce_status_change(ctx: &mut Ctx<'_>, before: &State, change: &Change) {
    let at = ctx.now;
    let execution = match (before, change) {
        (_, Change::Create { execution, .. }) => Some(execution),
        (State::Execution(prev), Change::Execution(next)) if prev.status != next.status => {
            Some(next)
        }
        (State::Wave(prev), Change::Wave(next)) if prev.status != next.status => {
            let announcement = Announcement::WaveStatusChanged {
                execution_id: next.execution_id,
                wave: next.number,
                wave_name: next.name.clone(),
                status: next.status,
                reason: next.reason.clone(),
                at,
            };
            ctx.send(
                Some(next.number),
                Event::Announce { announcement },
                Duration::ZERO,
            );
            None
        }
        _ => None,
    };
    if let Some(execution) = execution {
        let announcement = Announcement::ExecutionStatusChanged {
            execution_id: execution.id,
            plan_name: execution.plan_name.clone(),
            mode: execution.mode,
            status: execution.status,
            reason: execution.reason.clone(),
            at,
        };
        ctx.send(None, Event::Announce { announcement }, Duration::ZERO);
    }
}

/// Runs on `wave` what the phase that decided it handed it on to.
fn hand_over(ctx: &mut Ctx<'_>, wave: &mut WaveRecord, handover: Handover) {
    match handover {
        Handover::EnterPostLaunch => post_launch::enter(ctx, wave),
        Handover::AdvancePostLaunch => post_launch::advance(ctx, wave),
        Handover::SettleCancelled => post_launch::settle_cancelled(ctx, wave),
        Handover::CleanUpPrevious => cleanup::clean_up_previous(ctx, wave),
        Handover::GetInLine => launch::get_in_line(ctx, wave),
    }
}

/// Hands a wave event to the phase that handles it.
fn decide_wave(ctx: &mut Ctx<'_>, wave: &WaveRecord, event: &Event) -> WaveOutcome {
    let earlier_attempt = wave
        .attempt_started_at
        .is_some_and(|at| ctx.envelope.created_at < at);
    match event {
        Event::RelaunchWave { attempt, servers } => {
            relaunch::relaunch(ctx, wave, *attempt, servers)
        }
        Event::MarkWaveSkipped { reason } => relaunch::mark_skipped(ctx, wave, reason),
        _ if earlier_attempt => WaveOutcome::Ignored(format!(
            "this {} was sent for an earlier attempt of wave {} (now at attempt {})",
            event.type_name(),
            wave.number,
            wave.attempt
        )),
        Event::StartWave {} => launch::start_wave(ctx, wave),
        Event::LaunchWave { tries } => launch::retry_launch(ctx, wave, *tries),
        Event::LaunchCheck { tries } => launch::check_launch(ctx, wave, *tries),
        Event::RecoveryJobStarted { tries, job } => launch::job_started(ctx, wave, *tries, job),
        Event::RecoveryStartFailed { tries, error } => {
            launch::launch_failed(ctx, wave, *tries, error)
        }
        Event::LaunchTimedOut { job_id } => launch::timed_out(ctx, wave, job_id),
        Event::CancelWave { reason } => launch::cancel(ctx, wave, reason),
        Event::AdmitWave { tries } => launch::admit_tick(ctx, wave, *tries),
        Event::LaunchAdmitted { .. } => launch::admitted(ctx, wave),
        Event::LaunchWaiting { tries, wait } => launch::waiting(ctx, wave, *tries, wait),
        Event::LaunchRefused { tries, reason } => launch::refused(ctx, wave, *tries, reason),
        Event::AdmissionFailed { error, .. } => WaveOutcome::Ignored(format!(
            "asking for DRS capacity failed: {error}; the next tick asks again"
        )),
        Event::CapacityReleased { error: None } => {
            WaveOutcome::Ignored("the wave's DRS capacity was given back".into())
        }
        Event::CapacityReleased { error: Some(error) } => WaveOutcome::Ignored(format!(
            "giving back the wave's DRS capacity failed: {error}; the hold expires on its own"
        )),
        Event::PollWave { seq } => launch::poll(ctx, wave, *seq),
        Event::WaveObserved { observation, .. } => launch::observed(ctx, wave, observation),
        Event::PollFailed { error, .. } => launch::poll_failed(ctx, wave, error),
        Event::NudgeWave { seq, due } => sweep::nudge_poll(ctx, wave, *seq, *due),
        Event::Nudge { stall, due } => sweep::nudge_wave(ctx, wave, stall, *due),
        Event::LaunchResultPushed {
            source_server_id, ..
        } => launch::pushed(ctx, wave, source_server_id),
        Event::RunAction { action, tries } => post_launch::run_action(wave, *action, *tries),
        Event::ActionSent {
            action,
            tries,
            command_ids,
        } => post_launch::action_sent(ctx, wave, *action, *tries, command_ids),
        Event::ActionSendFailed {
            action,
            tries,
            error,
        } => post_launch::action_send_failed(ctx, wave, *action, *tries, error),
        Event::RunHealthCommands { tries } => post_launch::run_health_commands(wave, *tries),
        Event::HealthCommandsSent { tries, command_ids } => {
            post_launch::health_commands_sent(ctx, wave, *tries, command_ids)
        }
        Event::HealthCommandsFailed { tries, error } => {
            post_launch::health_commands_failed(ctx, wave, *tries, error)
        }
        Event::CheckPostLaunch { seq } => post_launch::check(ctx, wave, *seq),
        Event::PostLaunchObserved { observation, .. } => {
            post_launch::observed(ctx, wave, observation)
        }
        Event::PostLaunchCheckFailed { error, .. } => post_launch::check_failed(ctx, wave, error),
        Event::CleanupWave { step } => cleanup::decide_wave(ctx, wave, step),
        Event::StartExecution { .. }
        | Event::CleanupExecution { .. }
        | Event::WaveCleanedUp { .. }
        | Event::WaveFinished { .. }
        | Event::ApproveWave { .. }
        | Event::CancelExecution { .. }
        | Event::RetryWave { .. }
        | Event::SkipWave { .. }
        | Event::PauseExecution { .. }
        | Event::ResumeExecution { .. }
        | Event::ExecutionTimedOut {}
        | Event::ClaimServers { .. }
        | Event::ServersClaimed { .. }
        | Event::ServersBusy { .. }
        | Event::ServerClaimFailed { .. }
        | Event::ServersReleased { .. }
        | Event::CheckPreflight { .. }
        | Event::PreflightChecked { .. }
        | Event::PreflightFailed { .. }
        | Event::PublishMetrics {}
        | Event::Announce { .. } => WaveOutcome::Ignored(format!(
            "{} is an execution event, not a wave event",
            event.type_name()
        )),
    }
}
