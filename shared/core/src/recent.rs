//! Recent outcomes, counted per minute over the last quarter of an hour:
//! how a worker's steps ended, and how a process' calls to each service it
//! depends on were answered (docs/monitoring.md, "Recent outcomes"). A
//! window keeps at most [`KEPT_MINUTES`] minutes, so it is small enough to
//! ride in every heartbeat; windows of several workers or processes merge
//! by adding their minutes, and `/healthz` reads the sums of the last 5 and
//! 15 minutes ([`Recent::within`]).

use crate::service_error::ErrorClass;
use crate::time::Timestamp;
use chrono::{DurationRound, TimeDelta};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Minutes a window keeps, counting the newest: the longest span reported.
pub const KEPT_MINUTES: i64 = 15;

/// Counts that add up (one minute's, or a window's sum).
pub trait Tally: Default + Clone {
    fn add(&mut self, other: &Self);
}

/// How one worker step ended, by the class `/healthz` reports. Ordered by
/// severity: a step counts once, in its worst class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepClass {
    /// The step ended and its effects were answered.
    Succeeded,
    /// An effect was throttled; the state machine retries it later.
    Throttled,
    /// An effect met a 5xx, a timeout or a network error, or the step
    /// failed on the store or the queue and its message comes back.
    ServerError,
    /// An effect got an error no retry helps (a 4xx the step gives up on),
    /// or the message was dead-lettered.
    Permanent,
    /// The step ran past the step timeout or panicked (invariant 10).
    Abandoned,
}

impl StepClass {
    /// The class of a step whose effect met an error of `class`.
    pub fn of_error(class: ErrorClass) -> StepClass {
        match class {
            ErrorClass::Throttling => StepClass::Throttled,
            ErrorClass::Transient => StepClass::ServerError,
            ErrorClass::Permanent => StepClass::Permanent,
        }
    }
}

/// Steps per [`StepClass`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepCounts {
    pub succeeded: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub permanent: u64,
    pub abandoned: u64,
}

impl StepCounts {
    pub fn count(&mut self, class: StepClass) {
        *match class {
            StepClass::Succeeded => &mut self.succeeded,
            StepClass::Throttled => &mut self.throttled,
            StepClass::ServerError => &mut self.server_errors,
            StepClass::Permanent => &mut self.permanent,
            StepClass::Abandoned => &mut self.abandoned,
        } += 1;
    }

    pub fn total(&self) -> u64 {
        self.succeeded + self.throttled + self.server_errors + self.permanent + self.abandoned
    }
}

impl Tally for StepCounts {
    fn add(&mut self, o: &Self) {
        self.succeeded += o.succeeded;
        self.throttled += o.throttled;
        self.server_errors += o.server_errors;
        self.permanent += o.permanent;
        self.abandoned += o.abandoned;
    }
}

/// How one call to a service was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallOutcome {
    Succeeded,
    /// Throttling (429, ThrottlingException, RequestLimitExceeded, ...).
    Throttled,
    /// A 5xx, a timeout or a network error: the service did not answer.
    ServerError,
    /// Any other error answer (a 4xx: validation, not found, a conditional
    /// write that lost, access denied): the service answered.
    Rejected,
}

impl CallOutcome {
    /// How a call that failed with an error of `class` counts.
    pub fn of_error(class: ErrorClass) -> CallOutcome {
        match class {
            ErrorClass::Throttling => CallOutcome::Throttled,
            ErrorClass::Transient => CallOutcome::ServerError,
            ErrorClass::Permanent => CallOutcome::Rejected,
        }
    }

    /// Whether the call failed for the service's sake (throttled, 5xx,
    /// network), not for the request's: what error rates count.
    pub fn is_failure(self) -> bool {
        matches!(self, CallOutcome::Throttled | CallOutcome::ServerError)
    }
}

/// Calls per [`CallOutcome`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallCounts {
    pub succeeded: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub rejected: u64,
}

impl CallCounts {
    pub fn count(&mut self, outcome: CallOutcome) {
        *match outcome {
            CallOutcome::Succeeded => &mut self.succeeded,
            CallOutcome::Throttled => &mut self.throttled,
            CallOutcome::ServerError => &mut self.server_errors,
            CallOutcome::Rejected => &mut self.rejected,
        } += 1;
    }

    pub fn total(&self) -> u64 {
        self.succeeded + self.throttled + self.server_errors + self.rejected
    }

    /// The share of calls throttled (0 without calls).
    pub fn throttled_share(&self) -> f64 {
        share(self.throttled, self.total())
    }

    /// The share of calls that met a 5xx, a timeout or a network error.
    pub fn server_error_share(&self) -> f64 {
        share(self.server_errors, self.total())
    }

    /// Throttled and server errors together: the service's error rate.
    pub fn error_share(&self) -> f64 {
        share(self.throttled + self.server_errors, self.total())
    }
}

impl Tally for CallCounts {
    fn add(&mut self, o: &Self) {
        self.succeeded += o.succeeded;
        self.throttled += o.throttled;
        self.server_errors += o.server_errors;
        self.rejected += o.rejected;
    }
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}

/// One minute's counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Minute<C> {
    /// The start of the minute (wall-clock, UTC).
    pub minute: Timestamp,
    #[serde(flatten)]
    pub counts: C,
}

/// Counts per minute, oldest first, at most [`KEPT_MINUTES`] of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Recent<C> {
    minutes: Vec<Minute<C>>,
}

impl<C> Default for Recent<C> {
    fn default() -> Self {
        Self {
            minutes: Vec::new(),
        }
    }
}

/// The start of the minute `at` falls in.
pub fn minute_of(at: Timestamp) -> Timestamp {
    at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at)
}

impl<C: Tally> Recent<C> {
    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty()
    }

    pub fn minutes(&self) -> &[Minute<C>] {
        &self.minutes
    }

    /// Counts something that happened `at` in its minute, and forgets the
    /// minutes more than [`KEPT_MINUTES`] before the newest.
    pub fn add(&mut self, at: Timestamp, count: impl FnOnce(&mut C)) {
        let minute = minute_of(at);
        let index = match self.minutes.binary_search_by_key(&minute, |m| m.minute) {
            Ok(i) => i,
            Err(i) => {
                self.minutes.insert(
                    i,
                    Minute {
                        minute,
                        counts: C::default(),
                    },
                );
                i
            }
        };
        count(&mut self.minutes[index].counts);
        self.forget_old();
    }

    /// Adds another window's minutes to this one (the same minute adds up).
    pub fn merge(&mut self, other: &Recent<C>) {
        for m in &other.minutes {
            self.add(m.minute, |c| c.add(&m.counts));
        }
    }

    /// The sum of the minutes within `span` of `now`: the minute `now` is
    /// in and the whole minutes before it, `span` rounded up to minutes (so
    /// "the last 5 minutes" is between 4 and 5 minutes of counts). Minutes
    /// after `now` (another host's clock a little ahead) count too.
    pub fn within(&self, now: Timestamp, span: Duration) -> C {
        let minutes = (span.as_secs().div_ceil(60) as i64).max(1);
        let from = minute_of(now) - TimeDelta::minutes(minutes - 1);
        let mut sum = C::default();
        for m in self.minutes.iter().filter(|m| m.minute >= from) {
            sum.add(&m.counts);
        }
        sum
    }

    fn forget_old(&mut self) {
        if let Some(newest) = self.minutes.last().map(|m| m.minute) {
            let oldest_kept = newest - TimeDelta::minutes(KEPT_MINUTES - 1);
            self.minutes.retain(|m| m.minute >= oldest_kept);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn at(minutes: i64, seconds: i64) -> Timestamp {
        minute_of(testing::t0()) + TimeDelta::minutes(minutes) + TimeDelta::seconds(seconds)
    }

    #[test]
    fn counts_fall_in_their_minute_and_the_window_sums_the_last_minutes() {
        let mut steps = Recent::<StepCounts>::default();
        steps.add(at(0, 10), |c| c.count(StepClass::Succeeded));
        steps.add(at(0, 50), |c| c.count(StepClass::Throttled));
        steps.add(at(3, 0), |c| c.count(StepClass::Abandoned));
        steps.add(at(6, 59), |c| c.count(StepClass::Succeeded));
        assert_eq!(steps.minutes().len(), 3);
        // At 6:59, the last 5 minutes are minutes 2..=6.
        let last5 = steps.within(at(6, 59), Duration::from_secs(300));
        assert_eq!(
            (last5.succeeded, last5.abandoned, last5.throttled),
            (1, 1, 0)
        );
        // A minute later minute 3 is still in, minute 2 is the edge.
        let last5 = steps.within(at(7, 30), Duration::from_secs(300));
        assert_eq!(last5.total(), 2);
        let last5 = steps.within(at(8, 0), Duration::from_secs(300));
        assert_eq!(last5.total(), 1, "minute 3 has left the window");
        let last15 = steps.within(at(6, 59), Duration::from_secs(900));
        assert_eq!(last15.total(), 4);
    }

    #[test]
    fn a_window_keeps_only_the_last_quarter_hour() {
        let mut calls = Recent::<CallCounts>::default();
        for minute in 0..40 {
            calls.add(at(minute, 0), |c| c.count(CallOutcome::Succeeded));
        }
        assert_eq!(calls.minutes().len(), KEPT_MINUTES as usize);
        assert_eq!(calls.minutes()[0].minute, at(25, 0));
        // A late count for a forgotten minute is forgotten at once.
        calls.add(at(1, 0), |c| c.count(CallOutcome::Rejected));
        assert_eq!(calls.minutes().len(), KEPT_MINUTES as usize);
        assert_eq!(
            calls.within(at(39, 0), Duration::from_secs(3600)).rejected,
            0
        );
    }

    #[test]
    fn windows_merge_minute_by_minute() {
        let mut a = Recent::<CallCounts>::default();
        let mut b = Recent::<CallCounts>::default();
        a.add(at(0, 0), |c| c.count(CallOutcome::Throttled));
        b.add(at(0, 30), |c| c.count(CallOutcome::Succeeded));
        b.add(at(1, 0), |c| c.count(CallOutcome::ServerError));
        a.merge(&b);
        assert_eq!(a.minutes().len(), 2);
        let sum = a.within(at(1, 0), Duration::from_secs(300));
        assert_eq!(sum.total(), 3);
        assert!((sum.error_share() - 2.0 / 3.0).abs() < 1e-9);
        assert!((sum.throttled_share() - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_window_reads_back_from_its_json() {
        let mut steps = Recent::<StepCounts>::default();
        steps.add(at(2, 0), |c| c.count(StepClass::Permanent));
        let json = serde_json::to_value(&steps).unwrap();
        assert_eq!(json[0]["permanent"], 1);
        assert_eq!(json[0]["serverErrors"], 0);
        let back: Recent<StepCounts> = serde_json::from_value(json).unwrap();
        assert_eq!(back, steps);
    }
}
