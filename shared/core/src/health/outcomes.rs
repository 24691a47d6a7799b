//! The judgement of recent outcomes (docs/monitoring.md, "Recent
//! outcomes"): per worker kind, how its steps ended over the last 5 and 15
//! minutes; per service the engine depends on, the last successful call and
//! the error rate. Each problem is one sentence with the figures and what
//! to do, e.g. "DRS is throttling us 40 % of the time (...)" or "DynamoDB
//! unreachable for 3m (last success 12:04:10 UTC) ...". The window and
//! every threshold are named here, in [`OutcomeThresholds`].

use super::level::{HealthLevel, human_seconds};
use crate::ports::QueueName;
use crate::ports::heartbeats::WorkerHeartbeat;
use crate::recent::{CallCounts, StepCounts};
use crate::services::calls::{Service, ServiceCalls};
use crate::time::{Timestamp, between};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The span rates are judged over: the last 5 minutes.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);
/// The longer span reported beside it: the last 15 minutes (all a
/// heartbeat keeps, [`crate::recent::KEPT_MINUTES`]).
pub const LONG_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Fewer calls (or steps) than this in the window are not judged by their
/// rates: one throttled call of two is no storm.
pub const MIN_SAMPLES: u64 = 10;
/// A service that throttles at least this share of calls degrades health.
pub const THROTTLED_SHARE: f64 = 0.20;
/// A service that fails at least this share of calls with a 5xx, a timeout
/// or a network error degrades health.
pub const SERVER_ERROR_SHARE: f64 = 0.10;
/// A service whose calls have all failed for this long, and still fail, is
/// unreachable: unhealthy if executions need it, else degraded.
pub const UNREACHABLE_AFTER: Duration = Duration::from_secs(3 * 60);
/// A worker kind whose steps gave up on a permanent error this often
/// degrades health.
pub const PERMANENT_SHARE: f64 = 0.20;

/// When recent outcomes count as a problem. One place for all of them:
/// docs/monitoring.md lists the same.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutcomeThresholds {
    pub window: Duration,
    pub long_window: Duration,
    pub min_samples: u64,
    pub throttled_share: f64,
    pub server_error_share: f64,
    pub unreachable_after: Duration,
    pub permanent_share: f64,
}

impl Default for OutcomeThresholds {
    fn default() -> Self {
        Self {
            window: WINDOW,
            long_window: LONG_WINDOW,
            min_samples: MIN_SAMPLES,
            throttled_share: THROTTLED_SHARE,
            server_error_share: SERVER_ERROR_SHARE,
            unreachable_after: UNREACHABLE_AFTER,
            permanent_share: PERMANENT_SHARE,
        }
    }
}

/// A worker kind's steps over the two windows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepWindows {
    #[serde(rename = "last5m")]
    pub last_5m: StepCounts,
    #[serde(rename = "last15m")]
    pub last_15m: StepCounts,
}

/// One service as `/healthz` reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServiceHealth {
    pub service: Service,
    /// How the problems name it ("DRS", "the simulated DRS").
    pub title: String,
    pub status: HealthLevel,
    /// The latest successful call of any process; absent if none succeeded
    /// within what the heartbeats remember.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_age_seconds: Option<f64>,
    /// Since when every call has failed (throttled or a server error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(rename = "last5m")]
    pub last_5m: CallCounts,
    #[serde(rename = "last15m")]
    pub last_15m: CallCounts,
    /// Throttled and server errors over all calls of the last 5 minutes,
    /// in percent.
    pub error_rate_percent: f64,
    /// Throttled calls over all calls of the last 5 minutes, in percent.
    pub throttled_percent: f64,
}

/// The steps of every worker of `kind`, summed.
pub fn steps_of_kind(
    kind: QueueName,
    heartbeats: &[WorkerHeartbeat],
    now: Timestamp,
    thresholds: &OutcomeThresholds,
) -> StepWindows {
    let mut windows = StepWindows::default();
    for beat in heartbeats.iter().filter(|h| h.kind == kind) {
        use crate::recent::Tally;
        windows
            .last_5m
            .add(&beat.steps.within(now, thresholds.window));
        windows
            .last_15m
            .add(&beat.steps.within(now, thresholds.long_window));
    }
    windows
}

/// What is wrong with a kind's recent steps, if anything. Throttled and
/// server-error steps are not judged here: the service lines say which
/// service caused them.
pub(super) fn judge_steps(
    kind: QueueName,
    steps: &StepWindows,
    thresholds: &OutcomeThresholds,
) -> Option<String> {
    let recent = &steps.last_5m;
    let window = human_seconds(thresholds.window.as_secs_f64());
    if recent.abandoned > 0 {
        return Some(format!(
            "{} {kind} step(s) abandoned in the last {window} (ran past the step timeout or panicked); the {kind} worker's log says which (\"did not finish in time\" or \"panicked\"), and their messages come back to be retried",
            recent.abandoned
        ));
    }
    let total = recent.total();
    if total >= thresholds.min_samples
        && recent.permanent as f64 / total as f64 >= thresholds.permanent_share
    {
        return Some(format!(
            "{} % of {kind} steps gave up on an error no retry helps ({} of {total}, last {window}); `ripcord status` shows the errors on the waves and servers, `ripcord dlq list {kind}` the dead letters",
            percent(recent.permanent, total),
            recent.permanent
        ));
    }
    None
}

/// Every service any process reported, merged across processes. Each
/// process' workers report the same record, so the latest heartbeat of
/// each process is taken.
pub fn merged_services(heartbeats: &[WorkerHeartbeat]) -> Vec<ServiceCalls> {
    let mut latest: BTreeMap<&str, &WorkerHeartbeat> = BTreeMap::new();
    for beat in heartbeats {
        if let Some(calls) = &beat.calls {
            let entry = latest.entry(calls.process.as_str()).or_insert(beat);
            if beat.last_poll > entry.last_poll {
                *entry = beat;
            }
        }
    }
    let mut merged: BTreeMap<Service, ServiceCalls> = BTreeMap::new();
    for beat in latest.values() {
        for calls in beat.calls.iter().flat_map(|c| &c.services) {
            merged
                .entry(calls.service)
                .and_modify(|m| m.merge(calls))
                .or_insert_with(|| calls.clone());
        }
    }
    merged.into_values().collect()
}

/// One service's figures and, if something is wrong, its level and the
/// sentence for `problems`.
pub fn judge_service(
    calls: &ServiceCalls,
    now: Timestamp,
    thresholds: &OutcomeThresholds,
) -> (ServiceHealth, Option<String>) {
    let last_5m = calls.recent.within(now, thresholds.window);
    let last_15m = calls.recent.within(now, thresholds.long_window);
    let window = human_seconds(thresholds.window.as_secs_f64());
    let title = calls.service.title();
    let total = last_5m.total();
    let last_success = calls.last_success.map_or_else(
        || "never".to_owned(),
        |t| t.format("%H:%M:%S UTC").to_string(),
    );
    let last_error = calls.last_error.as_deref().unwrap_or("no error text");
    let advice = advice(calls.service);

    let unreachable = match (calls.failing_since, calls.last_failure) {
        (Some(since), Some(last)) => {
            between(since, last) >= thresholds.unreachable_after
                && between(last, now) <= thresholds.window
        }
        _ => false,
    }
    .then(|| between(calls.failing_since.unwrap_or(now), now));

    let (level, problem) = if let Some(failing) = unreachable {
        let level = if calls.service.essential() {
            HealthLevel::Unhealthy
        } else {
            HealthLevel::Degraded
        };
        let what = if last_5m.server_errors > 0 {
            "unreachable"
        } else {
            "throttling every call"
        };
        let sentence = format!(
            "{title} {what} for {} (last success {last_success}; {} of {total} calls failed in the last {window}, the latest: {last_error}); {}",
            human_seconds(failing.as_secs_f64()),
            last_5m.throttled + last_5m.server_errors,
            advice.unreachable
        );
        (level, Some(sentence))
    } else if total >= thresholds.min_samples
        && last_5m.throttled_share() >= thresholds.throttled_share
    {
        let sentence = format!(
            "{title} is throttling us {} % of the time ({} of {total} calls, last {window}); Ripcord backs off and retries, so waves slow down: {}",
            percent(last_5m.throttled, total),
            last_5m.throttled,
            advice.throttled
        );
        (HealthLevel::Degraded, Some(sentence))
    } else if total >= thresholds.min_samples
        && last_5m.server_error_share() >= thresholds.server_error_share
    {
        let sentence = format!(
            "{title} failed {} % of calls with a 5xx, a timeout or a network error ({} of {total}, last {window}; the latest: {last_error}); Ripcord retries them: {}",
            percent(last_5m.server_errors, total),
            last_5m.server_errors,
            advice.unreachable
        );
        (HealthLevel::Degraded, Some(sentence))
    } else if total >= REJECTED_SAMPLES && last_5m.rejected == total {
        // Nothing a retry helps: every call refused (a wrong endpoint,
        // missing permissions); the work that needs it does not get done.
        let sentence = format!(
            "{title} refused every call ({total} of {total}, last {window}; the latest: {last_error}); retrying will not help: {}",
            advice.rejected
        );
        (HealthLevel::Degraded, Some(sentence))
    } else {
        (HealthLevel::Healthy, None)
    };

    let health = ServiceHealth {
        service: calls.service,
        title: title.to_owned(),
        status: level,
        last_success: calls.last_success,
        last_success_age_seconds: calls
            .last_success
            .map(|t| (between(t, now).as_secs_f64() * 10.0).round() / 10.0),
        failing_since: calls.failing_since,
        last_error: calls.last_error.clone(),
        error_rate_percent: rounded_percent(last_5m.error_share()),
        throttled_percent: rounded_percent(last_5m.throttled_share()),
        last_5m,
        last_15m,
    };
    (health, problem)
}

/// Calls in the window, all refused, that make a service refusing every
/// call: fewer than `min_samples`, as a refused call is rarely made often
/// (the metrics worker's PutMetricData comes once a minute).
const REJECTED_SAMPLES: u64 = 3;

/// What to do, per service.
struct Advice {
    throttled: &'static str,
    unreachable: &'static str,
    rejected: &'static str,
}

fn advice(service: Service) -> Advice {
    if service.is_simulated() {
        return Advice {
            throttled: "the simulator's scenario injects these (`faults.throttling_rate`)",
            unreachable: "the simulator's scenario injects these (`faults`), or the simulated world in the file cannot be read",
            rejected: "the simulator's scenario refuses these (a strict inventory, a quota), or a request is invalid; the workers' log has each",
        };
    }
    if service == Service::File {
        return Advice {
            throttled: "the file's write lock is contended; run fewer worker processes on it",
            unreachable: "check the disk and the file's permissions, and look for a worker process frozen while it held the file's write lock",
            rejected: "check the disk and the file's permissions",
        };
    }
    Advice {
        throttled: "run fewer executions at once, or ask AWS for a higher request rate (Service Quotas)",
        unreachable: "check the network path from the workers (VPC endpoints, NAT, security groups), their credentials, and the AWS Health Dashboard",
        rejected: "check the workers' permissions for it (infra/iam/) and its endpoint (AWS_ENDPOINT_URL_<SERVICE>, --endpoint-url)",
    }
}

fn percent(part: u64, total: u64) -> u64 {
    (part * 100 + total / 2).checked_div(total).unwrap_or(0)
}

fn rounded_percent(share: f64) -> f64 {
    (share * 1000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{HealthInput, HealthReport, HealthThresholds, assess};
    use crate::recent::{CallOutcome, Recent, StepClass};
    use crate::services::calls::ProcessCalls;
    use crate::testing;
    use chrono::TimeDelta;

    fn now() -> Timestamp {
        crate::recent::minute_of(testing::t0()) + TimeDelta::seconds(50)
    }

    /// A live worker of every kind; the poll worker's process reports
    /// `services`, its steps are `steps`.
    fn beats(services: Vec<ServiceCalls>, steps: Recent<StepCounts>) -> Vec<WorkerHeartbeat> {
        QueueName::ALL
            .into_iter()
            .map(|kind| WorkerHeartbeat {
                kind,
                worker_id: format!("host:1:{kind}:0"),
                started_at: now() - TimeDelta::hours(1),
                last_poll: now() - TimeDelta::seconds(2),
                messages: 0,
                stopped_at: None,
                steps: if kind == QueueName::Poll {
                    steps.clone()
                } else {
                    Recent::default()
                },
                calls: (kind == QueueName::Poll).then(|| ProcessCalls {
                    process: "host:1:0".to_owned(),
                    services: services.clone(),
                }),
            })
            .collect()
    }

    fn judge(heartbeats: &[WorkerHeartbeat]) -> HealthReport {
        let input = HealthInput {
            heartbeats,
            active: &[],
            queues: &[],
            now: now(),
            execution_now: now(),
        };
        assess(&input, &HealthThresholds::default())
    }

    /// `calls` calls to `service` in the last minute, `throttled` of them
    /// throttled, the rest successful.
    fn storm(service: Service, calls: u64, throttled: u64) -> ServiceCalls {
        let mut record = ServiceCalls::new(service);
        for i in 0..calls {
            let at = now() - TimeDelta::seconds(40) + TimeDelta::milliseconds(i as i64);
            if i < throttled {
                record.record(
                    CallOutcome::Throttled,
                    at,
                    Some("ThrottlingException: Rate exceeded"),
                );
            } else {
                record.record(CallOutcome::Succeeded, at, None);
            }
        }
        record
    }

    #[test]
    fn drs_throttling_at_the_threshold_degrades_and_just_under_it_does_not() {
        let report = judge(&beats(
            vec![storm(Service::Drs, 100, 20)],
            Recent::default(),
        ));
        assert_eq!(report.status, HealthLevel::Degraded, "{report:#?}");
        assert_eq!(
            report.problems,
            [
                "DRS is throttling us 20 % of the time (20 of 100 calls, last 5m); Ripcord backs off and retries, so waves slow down: run fewer executions at once, or ask AWS for a higher request rate (Service Quotas)"
            ]
        );
        let drs = &report.services[0];
        assert_eq!(
            (drs.service, drs.status),
            (Service::Drs, HealthLevel::Degraded)
        );
        assert_eq!(
            (drs.throttled_percent, drs.error_rate_percent),
            (20.0, 20.0)
        );
        assert_eq!(drs.last_5m.throttled, 20);

        let report = judge(&beats(
            vec![storm(Service::Drs, 100, 19)],
            Recent::default(),
        ));
        assert_eq!(report.status, HealthLevel::Healthy, "{:?}", report.problems);
        assert_eq!(report.services[0].throttled_percent, 19.0);

        let report = judge(&beats(vec![storm(Service::Drs, 50, 20)], Recent::default()));
        assert!(
            report.problems[0]
                .starts_with("DRS is throttling us 40 % of the time (20 of 50 calls, last 5m)"),
            "{:?}",
            report.problems
        );
    }

    #[test]
    fn too_few_calls_are_not_judged_and_a_service_never_called_is_not_listed() {
        let report = judge(&beats(
            vec![storm(Service::SimulatedDrs, 9, 9)],
            Recent::default(),
        ));
        assert_eq!(report.status, HealthLevel::Healthy, "{:?}", report.problems);
        assert_eq!(report.services.len(), 1, "only the service called");
        assert_eq!(report.services[0].service, Service::SimulatedDrs);
        assert_eq!(report.services[0].last_success, None);
        assert_eq!(report.services[0].throttled_percent, 100.0);

        let report = judge(&beats(
            vec![storm(Service::SimulatedDrs, 10, 9)],
            Recent::default(),
        ));
        assert!(
            report.problems[0].starts_with("the simulated DRS is throttling us 90 %")
                && report.problems[0].contains("`faults.throttling_rate`"),
            "{:?}",
            report.problems
        );
    }

    /// Successes until `ok_until` before now, then failures every 10 s from
    /// `fail_from` to `fail_until` before now.
    fn outage(service: Service, ok_until: i64, fail_from: i64, fail_until: i64) -> ServiceCalls {
        let mut record = ServiceCalls::new(service);
        record.record(
            CallOutcome::Succeeded,
            now() - TimeDelta::seconds(ok_until),
            None,
        );
        let mut at = fail_from;
        while at >= fail_until {
            record.record(
                CallOutcome::ServerError,
                now() - TimeDelta::seconds(at),
                Some("NetworkError: dispatch failure: connection refused"),
            );
            at -= 10;
        }
        record
    }

    #[test]
    fn a_service_failing_every_call_for_three_minutes_is_unreachable() {
        let dynamodb = outage(Service::DynamoDb, 200, 190, 5);
        let report = judge(&beats(vec![dynamodb], Recent::default()));
        assert_eq!(report.status, HealthLevel::Unhealthy, "{report:#?}");
        let last_success = (now() - TimeDelta::seconds(200)).format("%H:%M:%S UTC");
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(
            report.problems[0].starts_with(&format!(
                "DynamoDB unreachable for 3m 10s (last success {last_success}; "
            )) && report.problems[0].contains("the latest: NetworkError: dispatch failure")
                && report.problems[0].contains("check the network path from the workers"),
            "{}",
            report.problems[0]
        );
        let service = &report.services[0];
        assert_eq!(service.failing_since, Some(now() - TimeDelta::seconds(190)));
        assert_eq!(service.last_success_age_seconds, Some(200.0));

        // Failing for less than three minutes: a 5xx rate, not an outage.
        let report = judge(&beats(
            vec![outage(Service::DynamoDb, 180, 170, 5)],
            Recent::default(),
        ));
        assert_eq!(report.status, HealthLevel::Degraded, "{report:#?}");
        assert!(report.problems[0].starts_with("DynamoDB failed 94 % of calls with a 5xx"));

        // Long failing, but the last failure is older than the window: the
        // service has not been called since, nothing to judge.
        let report = judge(&beats(
            vec![outage(Service::DynamoDb, 700, 690, 310)],
            Recent::default(),
        ));
        assert_eq!(report.status, HealthLevel::Healthy, "{:?}", report.problems);
        assert_eq!(report.services[0].last_5m.total(), 0);
        assert_eq!(report.services[0].last_15m.total(), 40);

        // Announcements wait, executions do not: an EventBridge outage degrades.
        let report = judge(&beats(
            vec![outage(Service::EventBridge, 200, 190, 5)],
            Recent::default(),
        ));
        assert_eq!(report.status, HealthLevel::Degraded);
        assert!(report.problems[0].starts_with("EventBridge unreachable for 3m 10s"));
    }

    /// A service that refuses every call (here CloudWatch at an endpoint
    /// that does not speak its protocol, found in a new-user run whose
    /// metrics went to dead letters while /healthz said nothing of why).
    #[test]
    fn a_service_refusing_every_call_is_named_with_what_to_check() {
        let mut cloudwatch = ServiceCalls::new(Service::CloudWatch);
        for at in [240, 180, 120, 60] {
            cloudwatch.record(
                CallOutcome::Rejected,
                now() - TimeDelta::seconds(at),
                Some("cloudwatch PutMetricData failed: HTTP404: service error"),
            );
        }
        let report = judge(&beats(vec![cloudwatch.clone()], Recent::default()));
        assert_eq!(report.status, HealthLevel::Degraded, "{report:#?}");
        assert!(
            report.problems[0].starts_with("CloudWatch refused every call (4 of 4, last 5m; the latest: cloudwatch PutMetricData failed: HTTP404")
                && report.problems[0].contains("infra/iam/"),
            "{}",
            report.problems[0]
        );
        // One success among them: not every call.
        cloudwatch.record(CallOutcome::Succeeded, now() - TimeDelta::seconds(30), None);
        let report = judge(&beats(vec![cloudwatch], Recent::default()));
        assert_eq!(report.status, HealthLevel::Healthy, "{:?}", report.problems);
    }

    #[test]
    fn one_record_per_process_and_processes_add_up() {
        let mut heartbeats = beats(vec![storm(Service::Drs, 10, 2)], Recent::default());
        // The launch worker of the same process reports the same record.
        heartbeats[0].calls = heartbeats[1].calls.clone();
        let report = judge(&heartbeats);
        assert_eq!(
            report.services[0].last_5m.total(),
            10,
            "counted once per process"
        );
        // Another process adds its own calls.
        heartbeats[0].calls = Some(ProcessCalls {
            process: "host:2:0".to_owned(),
            services: vec![storm(Service::Drs, 10, 2)],
        });
        let report = judge(&heartbeats);
        assert_eq!(report.services[0].last_5m.total(), 20);
        assert_eq!(report.services[0].last_5m.throttled, 4);
    }

    #[test]
    fn abandoned_steps_and_permanent_failures_degrade_their_kind() {
        let mut steps = Recent::<StepCounts>::default();
        steps.add(now(), |c| c.count(StepClass::Abandoned));
        steps.add(now() - TimeDelta::minutes(10), |c| {
            c.count(StepClass::Throttled)
        });
        let report = judge(&beats(vec![], steps));
        assert_eq!(report.status, HealthLevel::Degraded);
        let poll = &report.workers[1];
        assert_eq!(poll.status, HealthLevel::Degraded);
        assert_eq!(
            (poll.steps.last_5m.abandoned, poll.steps.last_15m.throttled),
            (1, 1)
        );
        assert!(
            report.problems[0].starts_with("1 poll step(s) abandoned in the last 5m"),
            "{:?}",
            report.problems
        );

        let mut steps = Recent::<StepCounts>::default();
        for i in 0..10 {
            let class = if i < 2 {
                StepClass::Permanent
            } else {
                StepClass::Succeeded
            };
            steps.add(now(), |c| c.count(class));
        }
        let report = judge(&beats(vec![], steps.clone()));
        assert!(
            report.problems[0].starts_with("20 % of poll steps gave up"),
            "{:?}",
            report.problems
        );
        // One fewer permanent step is under the threshold.
        let mut fewer = Recent::<StepCounts>::default();
        for i in 0..10 {
            let class = if i < 1 {
                StepClass::Permanent
            } else {
                StepClass::Succeeded
            };
            fewer.add(now(), |c| c.count(class));
        }
        let report = judge(&beats(vec![], fewer));
        assert_eq!(report.status, HealthLevel::Healthy, "{:?}", report.problems);
    }
}
