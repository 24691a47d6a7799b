//! The test API (not AWS): `POST /sim-api/reset` starts a fresh simulated
//! world (new clock origin, no jobs, no commands, no reserved EC2 ids) with
//! the scenario in the body (YAML or JSON, the scenario file format) or, for
//! an empty body, the scenario the server started with; `GET /sim-api/calls`
//! reports what was asked of the simulator and the launch jobs' time spans; `GET /sim-api/metrics` lists
//! the metric data CloudWatch accepted since the last reset.

use crate::server::SimServer;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ripcord_sim::{LaunchTimeline, Operation, ScenarioSource, StartRecoveryCall};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where a scenario posted to reset is said to come from, in its errors.
const RESET_BODY: &str = "the /sim-api/reset body";

pub(crate) async fn reset(State(server): State<Arc<SimServer>>, body: Bytes) -> Response {
    let source = if body.iter().all(u8::is_ascii_whitespace) {
        server.settings.scenario.clone()
    } else {
        let text = match String::from_utf8(body.to_vec()) {
            Ok(t) => t,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({ "message": format!("{RESET_BODY} is not UTF-8: {e}") })),
                )
                    .into_response();
            }
        };
        match ScenarioSource::parse(text, RESET_BODY.to_owned()) {
            Ok(s) => s,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({ "message": e.to_string() })),
                )
                    .into_response();
            }
        }
    };
    let world = server.reset(source);
    let sim = &world.simulator;
    Json(json!({
        "scenario": world.scenario_name,
        "timeScale": sim.scenario().time_scale,
        "seed": sim.scenario().seed,
        "startedAt": sim.started_at().ok().map(super::wire::iso_time),
    }))
    .into_response()
}

/// The JSON of `GET /sim-api/calls` (the shape of `ripcord sim calls --json`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallsReport {
    scenario: String,
    calls: BTreeMap<Operation, u64>,
    faults_injected: Vec<FaultCount>,
    launch_results_pushed: usize,
    /// Of those, dropped on the way (`faults.drop_launch_results`).
    launch_results_dropped: usize,
    start_recovery_calls: Vec<StartRecoveryCall>,
    /// Every launch job, from its creation to its last server's end.
    launch_jobs: Vec<LaunchTimeline>,
}

#[derive(Serialize)]
struct FaultCount {
    operation: Operation,
    code: String,
    count: u64,
}

pub(crate) async fn calls(State(server): State<Arc<SimServer>>) -> Response {
    let world = server.world();
    let state = match world.simulator.world_snapshot() {
        Ok(s) => s,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "message": e.to_string() })),
            )
                .into_response();
        }
    };
    Json(CallsReport {
        scenario: world.scenario_name.clone(),
        calls: state.calls().clone(),
        faults_injected: state
            .faults_injected()
            .iter()
            .map(|((operation, code), count)| FaultCount {
                operation: *operation,
                code: code.clone(),
                count: *count,
            })
            .collect(),
        launch_results_pushed: state.pushed_count(),
        launch_results_dropped: state.dropped_count(),
        start_recovery_calls: state.start_recovery_calls().to_vec(),
        launch_jobs: state.launch_timeline(),
    })
    .into_response()
}

/// The JSON of `GET /sim-api/metrics`: every datum PutMetricData accepted
/// since the last reset, in the order received.
pub(crate) async fn metrics(State(server): State<Arc<SimServer>>) -> Response {
    let world = server.world();
    let data = world
        .metrics
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Json(json!({ "metricData": data })).into_response()
}
