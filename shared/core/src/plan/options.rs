//! The plan's `options` block (poll intervals, retry policy, execution
//! timeout, RTO target, splitting large waves), and the duration values
//! every part of the plan writes (`30s`, `5m`, `1h 30m`).

use super::error::{ErrorList, Pos};
use super::model::{DEFAULT_EXECUTION_TIMEOUT, PlanOptions, PollIntervals, RetryPolicy};
use super::raw::{RawCleanup, RawOptions, Text};
use super::select::snapshot_choice;
use serde_saphyr::Spanned;
use std::time::Duration;

/// The plan's options, and whether large waves are to be split.
pub(super) fn options(
    raw: Option<&Spanned<RawOptions>>,
    errors: &mut ErrorList,
) -> (PlanOptions, bool) {
    let Some(raw) = raw.map(|r| &r.value) else {
        return (PlanOptions::default(), false);
    };
    let default_intervals = PollIntervals::default();
    let poll_intervals = match &raw.poll_intervals {
        None => default_intervals,
        Some(p) => PollIntervals {
            pending: duration(
                p.pending.as_ref(),
                "poll_intervals.pending",
                default_intervals.pending,
                errors,
            ),
            launching: duration(
                p.launching.as_ref(),
                "poll_intervals.launching",
                default_intervals.launching,
                errors,
            ),
            post_actions: duration(
                p.post_actions.as_ref(),
                "poll_intervals.post_actions",
                default_intervals.post_actions,
                errors,
            ),
        },
    };
    let default_retry = RetryPolicy::default();
    let retry = match &raw.retry {
        None => default_retry,
        Some(r) => {
            let base_delay = duration(
                r.base_delay.as_ref(),
                "retry.base_delay",
                default_retry.base_delay,
                errors,
            );
            let max_delay = duration(
                r.max_delay.as_ref(),
                "retry.max_delay",
                default_retry.max_delay,
                errors,
            );
            if max_delay < base_delay {
                let at = r
                    .max_delay
                    .as_ref()
                    .or(r.base_delay.as_ref())
                    .map_or(Pos::UNKNOWN, Pos::of);
                errors.push(
                    at,
                    format!(
                        "`retry.max_delay` ({}) is shorter than `retry.base_delay` ({}): make max_delay at least base_delay",
                        humantime::format_duration(max_delay),
                        humantime::format_duration(base_delay)
                    ),
                );
            }
            RetryPolicy {
                max_attempts: at_least_one(
                    r.max_attempts.as_ref(),
                    "retry.max_attempts",
                    "it counts the first try, so 1 means no retries",
                    default_retry.max_attempts,
                    errors,
                ),
                base_delay,
                max_delay,
                max_poll_errors: at_least_one(
                    r.max_poll_errors.as_ref(),
                    "retry.max_poll_errors",
                    "it is how many polls in a row may fail before the wave fails",
                    default_retry.max_poll_errors,
                    errors,
                ),
            }
        }
    };
    let options = PlanOptions {
        poll_intervals,
        retry,
        execution_timeout: duration(
            raw.execution_timeout.as_ref(),
            "execution_timeout",
            DEFAULT_EXECUTION_TIMEOUT,
            errors,
        ),
        rto_target: raw
            .rto_target
            .as_ref()
            .map(|t| duration(Some(t), "rto_target", Duration::ZERO, errors))
            .filter(|d| !d.is_zero()),
        busy_servers: raw.busy_servers.unwrap_or_default(),
        preflight: raw.preflight,
        max_replication_lag: raw
            .max_replication_lag
            .as_ref()
            .map(|t| duration(Some(t), "max_replication_lag", Duration::ZERO, errors)),
        ..PlanOptions::default()
    };
    let split = raw.split_large_waves.as_ref().is_some_and(|s| s.value);
    let options = PlanOptions {
        split_large_waves: split,
        recovery_snapshot: snapshot_choice(
            raw.recovery_snapshot.as_ref(),
            "options.recovery_snapshot",
            errors,
        ),
        cleanup_after: cleanup_after(raw.cleanup.as_ref(), errors),
        cleanup_previous: raw.cleanup_previous.as_ref().is_some_and(|c| c.value),
        ..options
    };
    (options, split)
}

/// `options.cleanup: { after: 2h }`; unset (or without `after`): keep.
fn cleanup_after(raw: Option<&Spanned<RawCleanup>>, errors: &mut ErrorList) -> Option<Duration> {
    let raw = raw?;
    let Some(after) = raw.value.after.as_ref() else {
        errors.push(
            Pos::of(raw),
            "`options.cleanup` has no `after`: write how long after the drill settles its recovery instances are terminated, e.g. `cleanup: { after: 2h }`, or remove `cleanup` to keep them",
        );
        return None;
    };
    Some(duration(
        Some(after),
        "options.cleanup.after",
        Duration::from_secs(1),
        errors,
    ))
}

fn at_least_one(
    value: Option<&Spanned<u32>>,
    field: &str,
    why: &str,
    default: u32,
    errors: &mut ErrorList,
) -> u32 {
    match value {
        None => default,
        Some(v) if v.value == 0 => {
            errors.push(
                Pos::of(v),
                format!("`{field}` is 0: it must be at least 1 ({why})"),
            );
            default
        }
        Some(v) => v.value,
    }
}

/// A duration such as `30s`, `5m` or `1h 30m`, longer than zero; `default`
/// when absent (or invalid, after recording the error).
/// The longest duration a plan may write: far past any drill, and well
/// inside what a timestamp can be moved by (`crate::time::after` would
/// otherwise leave a deadline at the start, timing out at once).
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

pub(super) fn duration(
    value: Option<&Text>,
    field: &str,
    default: Duration,
    errors: &mut ErrorList,
) -> Duration {
    let Some(value) = value else {
        return default;
    };
    match humantime::parse_duration(value.value.trim()) {
        Ok(d) if d.is_zero() => {
            errors.push(
                Pos::of(value),
                format!("`{field}` is zero: it must be longer than zero, e.g. `30s` or `5m`"),
            );
            default
        }
        Ok(d) if d > MAX_DURATION => {
            errors.push(
                Pos::of(value),
                format!(
                    "`{field}` is {}, longer than a plan's waits may be ({}): a timeout or interval is minutes, hours or days; check the unit",
                    humantime::format_duration(d),
                    humantime::format_duration(MAX_DURATION)
                ),
            );
            default
        }
        Ok(d) => d,
        Err(e) => {
            errors.push(
                Pos::of(value),
                format!(
                    "`{field}` is {}, which is not a duration ({e}): write a number and a unit, e.g. `30s`, `5m` or `1h 30m`",
                    crate::reason::quoted(&value.value)
                ),
            );
            default
        }
    }
}
