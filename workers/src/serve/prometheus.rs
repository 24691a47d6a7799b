//! `GET /metrics` in the Prometheus (OpenMetrics) text format: executions
//! by status, each active execution's server counts, stuck executions
//! (a running wave's poll lost, what the sweep re-arms), queue and dead-letter
//! depths, each worker kind's last poll age, the recent step outcomes and
//! service calls the heartbeats carry (`outcome_metrics.rs`), and — for
//! workers running in this process — step latencies, outcomes and retries.

use super::AppState;
use super::error::ApiError;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use ripcord::ports::QueueName;
use ripcord::status::execution_status;
use ripcord::status_model::ExecutionStatus;
use std::sync::atomic::AtomicU64;

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerLabels {
    execution_id: String,
    plan: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CapacityLabels {
    what: &'static str,
}

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The metrics text as of now.
pub async fn render(state: &AppState) -> Result<String, ApiError> {
    let mut registry = Registry::with_prefix("ripcord");

    let executions = Family::<StatusLabels, Gauge>::default();
    let counts = state.store.count_executions().await?;
    for status in ExecutionStatus::ALL {
        let n = counts
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n);
        executions
            .get_or_create(&StatusLabels {
                status: status.as_str(),
            })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    registry.register(
        "executions",
        "Executions in the store, by status",
        executions,
    );

    let servers = Family::<ServerLabels, Gauge>::default();
    let percent = Family::<ServerLabels, FloatGauge>::default();
    let now = state.clock.now();
    let (mut stuck, mut stalled) = (0_i64, 0_i64);
    let lost_messages = Family::<KindLabels, Gauge>::default();
    for kind in ripcord::machine::Lost::KINDS {
        lost_messages.get_or_create(&KindLabels { kind }).set(0);
    }
    for (execution, waves) in super::health::active_executions(state).await? {
        let lost = ripcord::machine::stalled(&execution, &waves, now);
        stuck += i64::from(!lost.is_empty());
        stalled +=
            i64::try_from(lost.iter().filter(|s| s.lost.on_wave()).count()).unwrap_or(i64::MAX);
        for s in &lost {
            lost_messages
                .get_or_create(&KindLabels {
                    kind: s.lost.kind(),
                })
                .inc();
        }
        let view = execution_status(&execution, &waves, now);
        let p = view.progress;
        let labels = |state: &'static str| ServerLabels {
            execution_id: view.execution_id.to_string(),
            plan: view.plan_name.clone(),
            state,
        };
        for (name, n) in [
            ("total", p.total_servers),
            ("launched", p.launched_servers),
            ("completed", p.completed_servers),
            ("failed", p.failed_servers),
        ] {
            servers
                .get_or_create(&labels(name))
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        percent
            .get_or_create(&labels("completed"))
            .set(p.percent_complete);
    }
    registry.register(
        "active_execution_servers",
        "Servers of each active execution: total, launched (LAUNCHED or COMPLETED), completed and failed",
        servers,
    );
    let stuck_executions: Gauge = Gauge::default();
    stuck_executions.set(stuck);
    registry.register(
        "stuck_executions",
        "Active executions with a record whose next message (a wave's poll, StartWave, capacity tick, launch check or WaveFinished, the pre-flight or server-claim tick) is overdue past its bound: it was lost; the metrics workers' sweep re-arms it",
        stuck_executions,
    );
    let stalled_waves: Gauge = Gauge::default();
    stalled_waves.set(stalled);
    registry.register(
        "stalled_waves",
        "Wave records of those executions whose next message (poll, StartWave, capacity tick, launch check, post-launch retry) is overdue past its bound",
        stalled_waves,
    );
    registry.register(
        "lost_messages",
        "Messages overdue past their bound in active executions, by what was lost: poll, start, admission, launch, post_launch_retry, wave_finished, preflight, claim",
        lost_messages,
    );
    registry.register(
        "active_execution_percent_complete",
        "completedServers / totalServers * 100 of each active execution",
        percent,
    );

    let queues = Family::<QueueLabels, Gauge>::default();
    for (queue, depth) in super::health::queue_depths(state).await? {
        for (name, n) in [
            ("visible", depth.visible),
            ("delayed", depth.delayed),
            ("in_flight", depth.in_flight),
            ("dead", depth.dead),
        ] {
            queues
                .get_or_create(&QueueLabels {
                    queue: queue.as_str(),
                    state: name,
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    registry.register(
        "queue_messages",
        "Messages per work queue: visible, delayed, in flight, and dead (in its dead-letter queue)",
        queues,
    );

    let poll_age = Family::<KindLabels, FloatGauge>::default();
    let wall = chrono::Utc::now();
    let heartbeats = state.heartbeats.list_heartbeats(wall).await?;
    for kind in QueueName::ALL {
        if let Some(last) = heartbeats
            .iter()
            .filter(|h| h.kind == kind)
            .map(|h| h.last_poll)
            .max()
        {
            let age = (wall - last).num_milliseconds().max(0) as f64 / 1000.0;
            poll_age
                .get_or_create(&KindLabels {
                    kind: kind.as_str(),
                })
                .set(age);
        }
    }
    registry.register(
        "worker_last_poll_age_seconds",
        "Seconds since any worker of the kind last polled its queue (from the heartbeats in the store)",
        poll_age,
    );
    super::outcome_metrics::register(&mut registry, &heartbeats, wall, &state.thresholds.outcomes);

    let capacity = Family::<CapacityLabels, Gauge>::default();
    let usage = state.capacity.load_ledger().await?.record.usage(now);
    for (what, n) in [
        ("servers_in_use", usage.servers_in_use),
        ("servers_quota", usage.quotas.servers_in_active_jobs),
        ("jobs_in_use", usage.jobs_in_use),
        ("jobs_quota", usage.quotas.concurrent_jobs),
        ("waves_waiting", usage.waves_waiting),
        ("servers_waiting", usage.servers_waiting),
    ] {
        capacity
            .get_or_create(&CapacityLabels { what })
            .set(i64::from(n));
    }
    registry.register(
        "drs_capacity",
        "The DRS capacity ledger: servers and jobs held by launches against their quotas, and the waves (and their servers) waiting in line",
        capacity,
    );

    if let Some(telemetry) = &state.telemetry {
        telemetry.register(&mut registry);
    }
    let mut text = String::new();
    encode(&mut text, &registry)
        .map_err(|e| ApiError::unavailable(format!("could not encode the metrics: {e}")))?;
    Ok(text)
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, content_type = "application/openmetrics-text", description = "Prometheus metrics"),
        (status = 503, description = "The backend cannot be read", body = super::error::ErrorBody),
    )
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    match render(&state).await {
        Ok(text) => (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The `/metrics` of a `ripcord worker --metrics-addr` process: its own
/// workers' telemetry only (the deployment's gauges come from `ripcord
/// serve`).
pub fn worker_router(telemetry: crate::telemetry::WorkerTelemetry) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let telemetry = telemetry.clone();
            async move {
                let mut registry = Registry::with_prefix("ripcord");
                telemetry.register(&mut registry);
                let mut text = String::new();
                match encode(&mut text, &registry) {
                    Ok(()) => (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], text)
                        .into_response(),
                    Err(e) => ApiError::unavailable(format!("could not encode the metrics: {e}"))
                        .into_response(),
                }
            }
        }),
    )
}
