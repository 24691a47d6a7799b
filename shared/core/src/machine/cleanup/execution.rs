//! The execution's part of a drill clean-up: judge the request
//! ([`crate::cleanup::refusal`], the same judgement the CLI and the API
//! answer with), record who asked, when and why, fan it out to every wave,
//! and count what each wave reports. Announced when it starts and ends.
//! Also sends the automatic clean-up once the execution has settled
//! (`options.cleanup.after`).

use super::super::context::{Ctx, Outcome};
use super::super::decision::Change;
use super::refusal::{cleanup_refusal, settled};
use crate::cleanup::{CleanupStep, automatic_requester};
use crate::event::Event;
use crate::ids::WaveNumber;
use crate::plan::Mode;
use crate::records::{ExecutionCleanup, ExecutionRecord, WaveCleanupCount};
use crate::services::announce::Announcement;
use std::time::Duration;

pub(crate) fn request(
    ctx: &mut Ctx<'_>,
    execution: &ExecutionRecord,
    requested_by: &str,
    reason: &str,
    confirm_recovery: bool,
) -> Outcome {
    if let Err(refused) = cleanup_refusal(execution, confirm_recovery) {
        return Outcome::Ignored(format!("clean-up refused: {refused}"));
    }
    // A request (or a `cleanup.after` timer) from before an operator
    // reopened the execution belongs to the run that ended then; the new
    // run's end sends its own timer.
    if execution
        .reopened_at
        .is_some_and(|at| ctx.envelope.created_at < at)
    {
        return Outcome::Ignored(
            "this clean-up was asked for before an operator reopened the execution".into(),
        );
    }
    let mut next = execution.clone();
    // A request after one that ended with FAILED servers asks only the
    // waves that reported some; the others' counts stand.
    let (earlier, waves) = match next.cleanup.take() {
        None => (Vec::new(), Vec::new()),
        Some(mut before) => {
            let mut earlier = std::mem::take(&mut before.earlier);
            let waves = before.waves.iter().filter(|w| w.failed == 0).copied();
            let waves = waves.collect();
            earlier.push(before);
            (earlier, waves)
        }
    };
    let cleanup = ExecutionCleanup {
        requested_by: requested_by.to_owned(),
        reason: reason.to_owned(),
        requested_at: ctx.now,
        waves,
        ended_at: None,
        earlier,
    };
    for w in &next.waves {
        if cleanup.waves.iter().any(|c| c.wave == w.number) {
            continue;
        }
        let step = CleanupStep::Start {
            requested_by: requested_by.to_owned(),
            reason: reason.to_owned(),
            request: cleanup.request(),
        };
        ctx.send(Some(w.number), Event::CleanupWave { step }, Duration::ZERO);
    }
    next.cleanup = Some(cleanup);
    announce(ctx, &next);
    Outcome::Changed(Change::Execution(next))
}

pub(crate) fn wave_cleaned_up(
    ctx: &mut Ctx<'_>,
    execution: &ExecutionRecord,
    wave: Option<WaveNumber>,
    report: &Event,
) -> Outcome {
    let &Event::WaveCleanedUp {
        terminated,
        failed,
        request,
    } = report
    else {
        return Outcome::Ignored("not a clean-up report".into());
    };
    let Some(wave) = wave else {
        return Outcome::Ignored("WaveCleanedUp without a wave number".into());
    };
    let Some(cleanup) = &execution.cleanup else {
        return Outcome::Ignored("the execution has no clean-up".into());
    };
    if request != cleanup.request() {
        return Outcome::Ignored(format!("wave {wave} reported an earlier clean-up request"));
    }
    if cleanup.waves.iter().any(|w| w.wave == wave) {
        return Outcome::Ignored(format!("wave {wave} already reported its clean-up"));
    }
    let mut next = execution.clone();
    let c = next.cleanup.as_mut().expect("checked above");
    c.waves.push(WaveCleanupCount {
        wave,
        terminated,
        failed,
    });
    c.waves.sort_by_key(|w| w.wave);
    if c.waves.len() == next.waves.len() {
        c.ended_at = Some(ctx.now);
        announce(ctx, &next);
        // The metrics worker writes the drill report again, with it.
        ctx.send(None, Event::PublishMetrics {}, Duration::ZERO);
    }
    Outcome::Changed(Change::Execution(next))
}

fn announce(ctx: &mut Ctx<'_>, execution: &ExecutionRecord) {
    let Some(c) = &execution.cleanup else {
        return;
    };
    let announcement = Announcement::Cleanup {
        execution_id: execution.id,
        plan_name: execution.plan_name.clone(),
        requested_by: c.requested_by.clone(),
        reason: c.reason.clone(),
        ended: c.ended_at.is_some(),
        terminated: c.terminated(),
        failed: c.failed(),
        at: ctx.now,
    };
    ctx.send(None, Event::Announce { announcement }, Duration::ZERO);
}

/// Once the execution has settled, a drill with `options.cleanup.after`
/// sends its clean-up, delayed by that long (a durable delayed message).
pub(crate) fn schedule_when_settled(
    ctx: &mut Ctx<'_>,
    before: &ExecutionRecord,
    next: &ExecutionRecord,
) {
    let Some(after) = next.options.cleanup_after else {
        return;
    };
    if next.mode != Mode::Drill || settled(before) || !settled(next) {
        return;
    }
    let event = Event::CleanupExecution {
        requested_by: automatic_requester(after),
        reason: "the plan's options.cleanup.after".into(),
        confirm_recovery: false,
    };
    ctx.send(None, event, after);
}
