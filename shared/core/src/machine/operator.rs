//! Operator events on the execution record (docs/status-model.md,
//! "Operator control"): `RetryWave`, `SkipWave`, `PauseExecution`,
//! `ResumeExecution`. Whether one applies is `crate::operator::check`, the
//! same function the CLI and the API call before sending it; a duplicate
//! finds the record already changed and is ignored with the reason. Each
//! applied action is kept on the record and announced.

use super::context::{Ctx, Outcome};
use super::decision::Change;
use super::execution::{reopen, settle, start_ready_waves};
use crate::event::Event;
use crate::operator::{OperatorCommand, check};
use crate::ports::announce::Announcement;
use crate::records::{ExecutionRecord, OperatorAction, Pause};
use crate::status_model::{Transitions, WaveStatus};
use std::time::Duration;

/// Decides an operator event on `execution`.
pub(crate) fn decide(ctx: &mut Ctx<'_>, execution: &ExecutionRecord, event: &Event) -> Outcome {
    let Some(command) = OperatorCommand::from_event(ctx.envelope.wave, event) else {
        return Outcome::Ignored(format!(
            "{} without the wave it is about",
            event.type_name()
        ));
    };
    if let Err(refusal) = check(execution, None, &command) {
        return Outcome::Ignored(refusal.to_string());
    }
    let (requested_by, reason) = match event {
        Event::RetryWave {
            requested_by,
            reason,
            ..
        }
        | Event::PauseExecution {
            requested_by,
            reason,
        } => (requested_by.clone(), reason.clone()),
        Event::SkipWave {
            requested_by,
            reason,
        } => (requested_by.clone(), Some(reason.clone())),
        Event::ResumeExecution { requested_by } => (requested_by.clone(), None),
        _ => unreachable!("from_event knows only operator events"),
    };
    let mut action = OperatorAction {
        action: command.kind(),
        requested_by: requested_by.clone(),
        at: ctx.now,
        wave: command.wave(),
        attempt: None,
        servers: Vec::new(),
        reason: reason.clone(),
    };
    let mut next = execution.clone();
    match &command {
        OperatorCommand::Retry { wave, servers } => {
            let summary = &mut next.waves[wave.index()];
            summary.status = WaveStatus::Pending;
            summary.started = false;
            summary.attempt += 1;
            summary.retry_servers = servers.clone();
            action.attempt = Some(summary.attempt);
            action.servers = servers.clone();
            reopen(ctx, &mut next);
        }
        OperatorCommand::Skip { wave, reason } => {
            let summary = &mut next.waves[wave.index()];
            // A wave in line for capacity is skipped by its own record,
            // which reports back with WaveFinished.
            if summary.status == WaveStatus::Failed || !summary.started {
                summary.status = WaveStatus::Skipped;
            }
            let event = Event::MarkWaveSkipped {
                reason: format!("skipped by {requested_by}: {reason}"),
            };
            ctx.send(Some(*wave), event, Duration::ZERO);
            reopen(ctx, &mut next);
        }
        OperatorCommand::Pause => {
            next.paused = Some(Pause {
                requested_by,
                at: ctx.now,
                reason,
            });
        }
        OperatorCommand::Resume => next.paused = None,
    }
    let announcement = Announcement::OperatorAction {
        execution_id: next.id,
        plan_name: next.plan_name.clone(),
        action: action.clone(),
        at: ctx.now,
    };
    next.operator_actions.push(action);
    if !next.status.is_terminal() {
        start_ready_waves(ctx, &mut next);
    }
    settle(ctx, &mut next);
    ctx.send(None, Event::Announce { announcement }, Duration::ZERO);
    ctx.send(None, Event::PublishMetrics {}, Duration::ZERO);
    Outcome::Changed(Change::Execution(next))
}
