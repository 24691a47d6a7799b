//! Fuzzing the API's JSON bodies (invariant 5, docs/invariants.md): every
//! route of `ripcord serve` that takes a body, driven in-process through
//! the router (`tower::ServiceExt::oneshot`, no socket) on the embedded
//! engine and the simulator, with broken and random bodies and content
//! types. The properties: never a 5xx (the engine is right here, so the
//! backend is never at fault), every answer JSON, every error a code and a
//! readable message. Valid bodies are accepted (202) or refused for what
//! the execution is (409, 422).
//!
//! A few hundred requests by default; `PROPTEST_CASES=5000 cargo test -p
//! ripcord-tests --test fuzz_api` sends more.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use ripcord::event::Envelope;
use ripcord::ids::ExecutionId;
use ripcord::plan::parse_plan;
use ripcord::ports::queue::MAX_BODY_BYTES;
use ripcord_sim::Scenario;
use ripcord_tests::examples;
use ripcord_tests::fuzz::{assert_readable, bad_text, config, mutated, mutated_json};
use ripcord_workers::engine::LocalEngine;
use ripcord_workers::serve::{self, ServeState, auth::Auth};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

const TOKEN: &str = "fuzz-token-0123456789";

/// The router over one engine whose execution exists (its start decided,
/// no worker running), built once for every case.
struct Api {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    execution: ExecutionId,
    _dir: tempfile::TempDir,
    _engine: LocalEngine,
}

fn plan_text() -> String {
    std::fs::read_to_string(examples().join("approval-drill.yaml")).expect("the example plan")
}

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        // Under target/: a static is never dropped, so the directory stays.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temp dir");
        let (engine, execution, router) = runtime.block_on(async {
            let engine = LocalEngine::open(&dir.path().join("fuzz.db"), Scenario::default())
                .expect("the engine opens");
            let plan = parse_plan(&plan_text(), "approval-drill.yaml").expect("a valid plan");
            let start = Envelope::start_execution(
                ExecutionId::new_random(),
                plan,
                "fuzz",
                false,
                engine.ports.clock.now(),
            );
            let execution = start.execution_id;
            ripcord_workers::step::handle(&engine.ports, start)
                .await
                .expect("the execution starts");
            let state = ServeState::new(
                &engine.ports,
                engine.backend.dead_letters(),
                Auth::new(Some(TOKEN), false),
            );
            let router = serve::router(Arc::new(state));
            (engine, execution, router)
        });
        Api {
            runtime,
            router,
            execution,
            _dir: dir,
            _engine: engine,
        }
    })
}

/// The routes that take a body, each with a valid body to break.
fn routes(id: ExecutionId) -> Vec<(String, serde_json::Value)> {
    let full = serde_json::json!({
        "plan": plan_text(), "planFile": "p.yaml", "confirmRecovery": false, "requestedBy": "alice"
    });
    vec![
        ("/api/executions".to_owned(), full.clone()),
        (
            "/api/preflight".to_owned(),
            serde_json::json!({ "plan": plan_text(), "planFile": "p.yaml" }),
        ),
        (
            format!("/api/executions/{id}/cancel"),
            serde_json::json!({ "reason": "window closed", "requestedBy": "bob" }),
        ),
        (
            format!("/api/executions/{id}/cleanup"),
            serde_json::json!({ "reason": "done", "requestedBy": "bob", "confirmRecovery": false }),
        ),
        (
            format!("/api/executions/{id}/waves/2/approve"),
            serde_json::json!({ "approvedBy": "carol" }),
        ),
        (
            format!("/api/executions/{id}/waves/1/retry"),
            serde_json::json!({ "servers": ["s-0b1b2c3d4e5f60001"], "reason": "flaky", "requestedBy": "dan" }),
        ),
        (
            format!("/api/executions/{id}/waves/1/skip"),
            serde_json::json!({ "reason": "not needed", "requestedBy": "dan" }),
        ),
        (
            format!("/api/executions/{id}/pause"),
            serde_json::json!({ "reason": "look first", "requestedBy": "erin" }),
        ),
        (
            format!("/api/executions/{id}/resume"),
            serde_json::json!({ "requestedBy": "erin" }),
        ),
    ]
}

/// A request: one route, a body of any kind, a content type.
fn request() -> impl Strategy<Value = (String, Vec<u8>, Option<&'static str>)> {
    let routes = routes(api().execution);
    let content_type = prop_oneof![
        8 => Just(Some("application/json")),
        1 => Just(Some("text/plain")),
        1 => Just(Some("application/json; charset=latin1")),
        1 => Just(None),
    ];
    let body = prop::sample::select(routes).prop_flat_map(|(path, valid)| {
        let text = valid.to_string();
        let plan_broken = valid.get("plan").is_some().then(|| {
            let valid = valid.clone();
            mutated(plan_text()).prop_map(move |plan| {
                let mut v = valid.clone();
                v["plan"] = plan.into();
                v.to_string()
            })
        });
        let bodies = match plan_broken {
            Some(plan) => prop_oneof![
                2 => mutated_json(valid.clone()),
                2 => bad_text(vec![text.clone()]),
                2 => plan,
                1 => Just(text),
            ]
            .boxed(),
            None => prop_oneof![
                2 => mutated_json(valid.clone()),
                2 => bad_text(vec![text.clone()]),
                1 => Just(text),
                1 => Just(String::new()),
            ]
            .boxed(),
        };
        (Just(path), bodies)
    });
    (body, content_type).prop_map(|((path, body), ct)| (path, body.into_bytes(), ct))
}

/// Sends one POST; returns the status and the body as JSON.
fn post(path: &str, body: Vec<u8>, content_type: Option<&str>) -> (StatusCode, serde_json::Value) {
    let api = api();
    let mut request = Request::post(path).header("authorization", format!("Bearer {TOKEN}"));
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let request = request.body(Body::from(body)).expect("a request");
    api.runtime.block_on(async {
        let response = api
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .expect("the body reads");
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{path} answered {status} with no JSON ({e}): {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(400)])
            )
        });
        (status, json)
    })
}

/// The property of every answer.
fn check_answer(path: &str, status: StatusCode, body: &serde_json::Value) {
    assert!(
        !status.is_server_error(),
        "{path} answered {status}: {body:#}"
    );
    if status.is_client_error() {
        let code = body["error"]["code"].as_str().unwrap_or_default();
        assert!(
            !code.is_empty(),
            "{path} answered {status} without a code: {body:#}"
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert_readable(&format!("{path} {status} {code}"), message, 4096);
    } else {
        // 202 for a write queued, 200 for a pre-flight report.
        assert!(
            status == StatusCode::ACCEPTED || status == StatusCode::OK,
            "{path} answered {status}: {body:#}"
        );
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn bad_bodies_get_json_4xx_with_a_readable_message_never_a_5xx(
        (path, body, content_type) in request()
    ) {
        let (status, answer) = post(&path, body, content_type);
        check_answer(&path, status, &answer);
    }
}

/// A plan the body limit lets through but no queue would carry (its start
/// message over SQS's 1 MiB) is a 413 that says what to do, not a 503.
#[test]
fn a_plan_too_large_to_queue_is_a_413_that_says_what_to_do() {
    let servers: String = (0..9_000)
        .map(|n| {
            format!(
                "      - {{ id: s-{n:017}, hostname: {} }}\n",
                "h".repeat(100)
            )
        })
        .collect();
    let waves: String = servers
        .lines()
        .collect::<Vec<_>>()
        .chunks(100)
        .enumerate()
        .map(|(i, chunk)| format!("  - name: w{i}\n    servers:\n{}\n", chunk.join("\n")))
        .collect();
    let plan = format!(
        "name: huge\nmode: drill\nregion: us-east-1\noptions: {{ split_large_waves: true }}\nwaves:\n{waves}"
    );
    assert!(
        plan.len() > MAX_BODY_BYTES && plan.len() < 2 * 1024 * 1024,
        "{} bytes",
        plan.len()
    );
    let body = serde_json::json!({ "plan": plan }).to_string().into_bytes();
    let (status, answer) = post("/api/executions", body, Some("application/json"));
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer:#}");
    assert_eq!(answer["error"]["code"], "too_large_to_queue", "{answer:#}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("split it into smaller plans"), "{message}");
    check_answer("/api/executions", status, &answer);
}

/// Found by the fuzz property above: a body with a 40 KB unknown field came
/// back as one 40 KB error line repeating it (`fuzz_api.proptest-regressions`
/// keeps that input). The error now quotes it short.
#[test]
fn regression_a_long_unknown_field_is_quoted_short() {
    let field = "{a: ".repeat(10_000);
    let body = format!("{{\"{field}requestedBy\": \"x\"}}").into_bytes();
    let path = format!("/api/executions/{}/resume", api().execution);
    let (status, answer) = post(&path, body, Some("application/json"));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer:#}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("unknown field"), "{message}");
    assert!(message.len() < 1024, "a message of {} bytes", message.len());
    check_answer(&path, status, &answer);
}
