//! The recent outcomes of `/healthz` as Prometheus gauges (docs/monitoring.md,
//! "Recent outcomes"), from the heartbeats `GET /metrics` reads: each worker
//! kind's steps by class, and each service's calls by outcome, over the last
//! 5 and 15 minutes; each service's error ratio over the last 5 minutes and
//! the age of its last successful call.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use ripcord::health::outcomes::{
    OutcomeThresholds, StepWindows, judge_service, merged_services, steps_of_kind,
};
use ripcord::ports::QueueName;
use ripcord::ports::heartbeats::WorkerHeartbeat;
use ripcord::recent::{CallCounts, StepCounts};
use ripcord::time::Timestamp;
use std::sync::atomic::AtomicU64;

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    kind: &'static str,
    class: &'static str,
    window: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    service: &'static str,
    outcome: &'static str,
    window: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: &'static str,
}

fn by_class(c: &StepCounts) -> [(&'static str, u64); 5] {
    [
        ("succeeded", c.succeeded),
        ("throttled", c.throttled),
        ("server_error", c.server_errors),
        ("permanent", c.permanent),
        ("abandoned", c.abandoned),
    ]
}

fn by_outcome(c: &CallCounts) -> [(&'static str, u64); 4] {
    [
        ("succeeded", c.succeeded),
        ("throttled", c.throttled),
        ("server_error", c.server_errors),
        ("rejected", c.rejected),
    ]
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Registers the gauges of `heartbeats` at wall-clock `now`.
pub fn register(
    registry: &mut Registry,
    heartbeats: &[WorkerHeartbeat],
    now: Timestamp,
    thresholds: &OutcomeThresholds,
) {
    let steps = Family::<StepLabels, Gauge>::default();
    for kind in QueueName::ALL {
        let StepWindows { last_5m, last_15m } = steps_of_kind(kind, heartbeats, now, thresholds);
        for (window, counts) in [("5m", &last_5m), ("15m", &last_15m)] {
            for (class, n) in by_class(counts) {
                steps
                    .get_or_create(&StepLabels {
                        kind: kind.as_str(),
                        class,
                        window,
                    })
                    .set(count(n));
            }
        }
    }
    registry.register(
        "worker_recent_steps",
        "Steps of every worker of the kind over the window, by how they ended: succeeded, throttled, server_error (5xx, network, store or queue failure), permanent (an error no retry helps, or dead-lettered), abandoned (step timeout or panic)",
        steps,
    );

    let calls = Family::<CallLabels, Gauge>::default();
    let ratio = Family::<ServiceLabels, FloatGauge>::default();
    let last_success = Family::<ServiceLabels, FloatGauge>::default();
    for merged in merged_services(heartbeats) {
        let (health, _) = judge_service(&merged, now, thresholds);
        let service = health.service.as_str();
        for (window, counts) in [("5m", &health.last_5m), ("15m", &health.last_15m)] {
            for (outcome, n) in by_outcome(counts) {
                calls
                    .get_or_create(&CallLabels {
                        service,
                        outcome,
                        window,
                    })
                    .set(count(n));
            }
        }
        ratio
            .get_or_create(&ServiceLabels { service })
            .set(health.last_5m.error_share());
        if let Some(age) = health.last_success_age_seconds {
            last_success
                .get_or_create(&ServiceLabels { service })
                .set(age);
        }
    }
    registry.register(
        "service_recent_calls",
        "Calls of every worker process to the service over the window, by how they were answered: succeeded, throttled, server_error (5xx, timeout, network), rejected (another 4xx)",
        calls,
    );
    registry.register(
        "service_error_ratio",
        "Throttled and server-error calls over all calls to the service in the last 5 minutes (0 to 1)",
        ratio,
    );
    registry.register(
        "service_last_success_age_seconds",
        "Seconds since any worker process last had a call to the service answered with success",
        last_success,
    );
}
