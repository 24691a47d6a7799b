//! The deployment's health as gauges for CloudWatch alarms
//! (docs/monitoring.md): `ripcord serve` publishes them every
//! `--health-metrics-every` (60 s) from the same assessment `/healthz`
//! answers with, through the metrics sink (CloudWatch on AWS, the metrics
//! table on the embedded backend), namespace `DRS/Orchestration`,
//! dimension `Deployment` = the name prefix:
//!
//! - `StuckExecutions` (Count): active executions nothing moved for
//!   `--stuck-after`.
//! - `WorkerPollAge` (Seconds, also `WorkerKind`): since any worker of the
//!   kind last polled; [`NEVER_POLLED`] for a kind never seen.
//! - `LongestCapacityWait` (Seconds): the longest any wave has waited in
//!   the DRS capacity line (docs/capacity.md), 0 if none waits.
//! - `ServiceErrorRate` (Percent): the share of calls to a service that
//!   were throttled or met a 5xx, a timeout or a network error in the last
//!   5 minutes; with `Service` per service called in that time, and without
//!   it the worst of them (0 if none was called), the series the alarm
//!   watches.
//!
//! An alarm on a gauge that stops arriving (serve down) treats the missing
//! data as breaching for the first two.

use super::AppState;
use super::error::ApiError;
use ripcord::capacity::CapacityView;
use ripcord::health::HealthReport;
use ripcord::ports::metrics::{MetricDatum, MetricUnit};
use ripcord::ports::{MetricsSink, QueueName};
use ripcord::service_error::ServiceError;
use ripcord::time::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tracing::{debug, warn};

/// How often `ripcord serve` publishes the gauges by default.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);
/// The poll age of a worker kind no heartbeat mentions: a day, far above
/// any alarm threshold (the heartbeats of a day are kept).
pub const NEVER_POLLED: f64 = 86_400.0;

#[derive(Debug, thiserror::Error)]
pub enum GaugeError {
    #[error("could not assess the deployment's health: {}", .0.message)]
    Assess(ApiError),
    #[error("could not publish the health gauges: {0}")]
    Publish(#[from] ServiceError),
}

/// The gauges of `report` and the capacity line `capacity`, at `now` (the
/// executions' clock, which the line's `since` is on).
pub fn gauges(
    report: &HealthReport,
    capacity: &CapacityView,
    deployment: &str,
    now: Timestamp,
) -> Vec<MetricDatum> {
    let datum = |name: &str, value: f64, unit: MetricUnit, extra: Option<(&str, &str)>| {
        let mut dimensions = BTreeMap::from([("Deployment".to_owned(), deployment.to_owned())]);
        if let Some((dimension, value)) = extra {
            dimensions.insert(dimension.to_owned(), value.to_owned());
        }
        MetricDatum {
            name: name.to_owned(),
            value,
            unit,
            dimensions,
            timestamp: report.checked_at,
        }
    };
    let longest_wait = capacity
        .waiting
        .iter()
        .map(|w| (now - w.since).num_seconds().max(0) as f64)
        .fold(0.0, f64::max);
    let mut data = vec![
        datum(
            "StuckExecutions",
            report.stuck_executions.len() as f64,
            MetricUnit::Count,
            None,
        ),
        datum(
            "LongestCapacityWait",
            longest_wait,
            MetricUnit::Seconds,
            None,
        ),
    ];
    for kind in QueueName::ALL {
        let age = report
            .workers
            .iter()
            .find(|w| w.kind == kind)
            .and_then(|w| w.last_poll_age_seconds)
            .unwrap_or(NEVER_POLLED);
        data.push(datum(
            "WorkerPollAge",
            age,
            MetricUnit::Seconds,
            Some(("WorkerKind", kind.as_str())),
        ));
    }
    let called: Vec<_> = report
        .services
        .iter()
        .filter(|s| s.last_5m.total() > 0)
        .collect();
    let worst = called
        .iter()
        .map(|s| s.error_rate_percent)
        .fold(0.0, f64::max);
    data.push(datum("ServiceErrorRate", worst, MetricUnit::Percent, None));
    for service in called {
        data.push(datum(
            "ServiceErrorRate",
            service.error_rate_percent,
            MetricUnit::Percent,
            Some(("Service", service.service.as_str())),
        ));
    }
    data
}

/// Assesses the deployment once and publishes its gauges.
pub async fn publish(
    state: &AppState,
    sink: &dyn MetricsSink,
    deployment: &str,
) -> Result<usize, GaugeError> {
    let report = super::health::report(state)
        .await
        .map_err(GaugeError::Assess)?;
    let ledger = state
        .capacity
        .load_ledger()
        .await
        .map_err(|e| GaugeError::Assess(e.into()))?;
    let now = state.clock.now();
    let data = gauges(&report, &ledger.record.view(now), deployment, now);
    sink.put_metrics(&data).await?;
    Ok(data.len())
}

/// Publishes the gauges now and then every `every` while the process runs;
/// a failed round is logged and the next one tried (an alarm on missing
/// data notices a serve that cannot publish at all).
pub fn spawn(state: AppState, sink: Arc<dyn MetricsSink>, deployment: String, every: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match publish(&state, &*sink, &deployment).await {
                Ok(n) => debug!(gauges = n, %deployment, "health gauges published"),
                Err(e) => warn!(error = %e, %deployment, "health gauges not published this round"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::capacity::{CapacityUsage, Holder, Priority, Waiter};
    use ripcord::health::WorkerKindHealth;
    use ripcord::ids::{ExecutionId, WaveNumber};

    fn at(seconds: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn each_gauge_comes_from_the_assessment_with_the_deployment_dimension() {
        let report: HealthReport = serde_json::from_value(serde_json::json!({
            "status": "DEGRADED",
            "checkedAt": at(0),
            "workers": [],
            "stuckExecutions": [],
            "awaitingApproval": [],
            "queues": [],
            "services": [
                service("drs", 40.0, 50),
                service("dynamodb", 2.5, 400),
                // Called long ago, not in the last 5 minutes: no series.
                service("ssm", 0.0, 0),
            ],
            "problems": [],
        }))
        .expect("a report");
        let report = HealthReport {
            workers: vec![WorkerKindHealth {
                last_poll: Some(at(-42)),
                last_poll_age_seconds: Some(42.0),
                live_workers: 1,
                ..report_worker(QueueName::Poll)
            }],
            ..report
        };
        let capacity = CapacityView {
            usage: CapacityUsage::default(),
            holds: Vec::new(),
            waiting: vec![waiter(at(-300)), waiter(at(-90))],
        };
        let data = gauges(&report, &capacity, "drill-7", at(0));
        let value = |name: &str, kind: Option<&str>| {
            data.iter()
                .find(|d| {
                    d.name == name
                        && d.dimensions["Deployment"] == "drill-7"
                        && d.dimensions.get("WorkerKind").map(String::as_str) == kind
                })
                .map(|d| d.value)
        };
        assert_eq!(value("StuckExecutions", None), Some(0.0));
        assert_eq!(value("LongestCapacityWait", None), Some(300.0));
        assert_eq!(value("WorkerPollAge", Some("poll")), Some(42.0));
        assert_eq!(value("WorkerPollAge", Some("launch")), Some(NEVER_POLLED));
        assert_eq!(
            value("WorkerPollAge", Some("post-actions")),
            Some(NEVER_POLLED)
        );
        assert_eq!(value("WorkerPollAge", Some("metrics")), Some(NEVER_POLLED));
        let rate = |service: Option<&str>| {
            data.iter()
                .find(|d| {
                    d.name == "ServiceErrorRate"
                        && d.dimensions.get("Service").map(String::as_str) == service
                })
                .map(|d| (d.value, d.unit))
        };
        assert_eq!(
            rate(None),
            Some((40.0, MetricUnit::Percent)),
            "the worst service"
        );
        assert_eq!(rate(Some("drs")), Some((40.0, MetricUnit::Percent)));
        assert_eq!(rate(Some("dynamodb")), Some((2.5, MetricUnit::Percent)));
        assert_eq!(rate(Some("ssm")), None);
        assert_eq!(data.len(), 9);
    }

    fn service(name: &str, error_rate: f64, calls: u64) -> serde_json::Value {
        serde_json::json!({
            "service": name, "title": name, "status": "HEALTHY",
            "last5m": { "succeeded": calls, "throttled": 0, "serverErrors": 0, "rejected": 0 },
            "last15m": { "succeeded": calls, "throttled": 0, "serverErrors": 0, "rejected": 0 },
            "errorRatePercent": error_rate, "throttledPercent": error_rate,
        })
    }

    fn report_worker(kind: QueueName) -> WorkerKindHealth {
        serde_json::from_value(serde_json::json!({
            "kind": kind.as_str(), "status": "UNHEALTHY", "liveWorkers": 0,
        }))
        .expect("a worker kind's health")
    }

    fn waiter(since: Timestamp) -> Waiter {
        Waiter {
            holder: Holder {
                execution_id: ExecutionId::new_random(),
                wave: WaveNumber(1),
                attempt: 1,
            },
            servers: 1,
            priority: Priority {
                recovery: false,
                execution_started: at(-400),
            },
            since,
            expires_at: at(600),
        }
    }
}
