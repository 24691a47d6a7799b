//! The execution's pre-flight: after the start, before the servers are
//! claimed and any wave starts (docs/preflight.md). Its findings are kept
//! on the execution record; with `preflight: block` an error fails the
//! execution before anything launches.

use super::context::Ctx;
use super::decision::Effect;
use crate::event::Event;
use crate::plan::PreflightMode;
use crate::preflight::{PreflightReport, Severity};
use crate::records::{ExecutionRecord, PreflightState};
use crate::status_model::Transitions;
use std::time::Duration;

/// How long an execution waits for a pre-flight answer (or after a failed
/// read) before asking again.
pub const PREFLIGHT_TICK: Duration = Duration::from_secs(30);

/// What the execution does next.
pub(crate) enum Next {
    /// Go on: claim the servers.
    Claim,
    /// Fail the execution with this reason.
    Fail(String),
    /// Nothing changes.
    Ignore(String),
    /// The record changed; wait for the next tick.
    Wait,
}

/// Starts the pre-flight of `execution` in `mode` (not `Off`).
pub(crate) fn begin(ctx: &mut Ctx<'_>, execution: &mut ExecutionRecord, mode: PreflightMode) {
    execution.preflight = PreflightState::Checking {
        tries: 1,
        mode,
        last_error: None,
        throttled: 0,
        last_throttled: false,
        asked_at: Some(ctx.now),
    };
    ask(ctx, execution, 1);
}

fn ask(ctx: &mut Ctx<'_>, execution: &ExecutionRecord, tries: u32) {
    ctx.effect(Effect::Preflight {
        tries,
        execution_id: execution.id,
    });
    ctx.send(
        None,
        Event::CheckPreflight { tries: tries + 1 },
        PREFLIGHT_TICK,
    );
}

pub(crate) fn checking(execution: &ExecutionRecord) -> bool {
    matches!(execution.preflight, PreflightState::Checking { .. })
        && !execution.status.is_terminal()
}

/// The tick: ask again, unless the answer came or the tries ran out.
pub(crate) fn tick(ctx: &mut Ctx<'_>, execution: &mut ExecutionRecord, tries: u32) -> Next {
    let PreflightState::Checking {
        tries: current,
        mode,
        last_error,
        throttled,
        asked_at,
        ..
    } = &mut execution.preflight
    else {
        return Next::Ignore("the pre-flight is not running".into());
    };
    if execution.status.is_terminal() || tries != *current + 1 {
        return Next::Ignore(format!("pre-flight tick {tries} is stale"));
    }
    // Throttled tries do not count: throttling slows the pre-flight down,
    // it never fails a drill by itself (invariant 9); the execution's
    // timeout still bounds it (invariant 8).
    let limit = execution.options.retry.max_attempts;
    if tries > limit.saturating_add(*throttled) {
        let why = last_error
            .clone()
            .unwrap_or_else(|| "no answer came".to_owned());
        return match mode {
            PreflightMode::Block => Next::Fail(format!(
                "pre-flight could not run after {limit} tries: {why}. Nothing was launched; \
                 check the workers' DRS access (infra/iam/launch.json) and start again, \
                 or set options.preflight: warn to start without it"
            )),
            _ => {
                let report = unreadable(ctx, &why);
                execution.preflight = PreflightState::Done {
                    mode: *mode,
                    report,
                };
                Next::Claim
            }
        };
    }
    *current = tries;
    *asked_at = Some(ctx.now);
    ask(ctx, execution, tries);
    Next::Wait
}

fn unreadable(ctx: &Ctx<'_>, why: &str) -> PreflightReport {
    PreflightReport {
        checked_at: ctx.now,
        servers_checked: 0,
        findings: vec![crate::preflight::Finding {
            severity: Severity::Warning,
            check: crate::preflight::CheckName::Unchecked,
            wave: None,
            server: None,
            message: format!("pre-flight could not run: {why}"),
            what_to_do: "check the servers in the DRS console before relying on this run".into(),
        }],
    }
}

/// The findings came: keep them, then go on or fail.
pub(crate) fn checked(execution: &mut ExecutionRecord, report: &PreflightReport) -> Next {
    let PreflightState::Checking { mode, .. } = &execution.preflight else {
        return Next::Ignore("the pre-flight already has its answer".into());
    };
    if execution.status.is_terminal() {
        return Next::Ignore("the execution has ended".into());
    }
    let mode = *mode;
    execution.preflight = PreflightState::Done {
        mode,
        report: report.clone(),
    };
    let errors = report.count(Severity::Error);
    if mode == PreflightMode::Block && errors > 0 {
        let first = report
            .findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .map(|f| match &f.server {
                Some(s) => format!("{s}: {}", f.message),
                None => f.message.clone(),
            })
            .unwrap_or_default();
        return Next::Fail(format!(
            "pre-flight found {} ({first}); nothing was launched. Fix them (`ripcord preflight PLAN` \
             lists each with what to do) and start again, or set options.preflight: warn",
            report.summary()
        ));
    }
    Next::Claim
}

/// Reading DRS failed: note why; the tick asks again.
pub(crate) fn failed(
    execution: &mut ExecutionRecord,
    tries: u32,
    error: &str,
    was_throttled: bool,
) -> Next {
    match &mut execution.preflight {
        PreflightState::Checking {
            tries: current,
            last_error,
            throttled,
            last_throttled,
            ..
        } if *current == tries && !execution.status.is_terminal() => {
            *last_error = Some(error.to_owned());
            *last_throttled = was_throttled;
            if was_throttled {
                *throttled += 1;
            }
            Next::Wait
        }
        _ => Next::Ignore("a stale pre-flight failure".into()),
    }
}
