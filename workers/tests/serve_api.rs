//! `ripcord serve` over HTTP, against the embedded engine and the simulator
//! running in this process: a drill followed live through Server-Sent
//! Events from its first snapshot to `settled`, the approval gate and
//! cancel through the API, the write token, the JSON errors (never a 500),
//! paging, `/healthz` (with a throttling simulated DRS), `/metrics` and the
//! OpenAPI document.

use ripcord::ports::QueueName;
use ripcord::status::ExecutionView;
use ripcord::status_model::{ExecutionStatus, WaveStatus};
use ripcord_sim::Scenario;
use ripcord_workers::engine::{LocalEngine, Workers};
use ripcord_workers::serve::{self, ServeState, auth::Auth};
use ripcord_workers::worker::WorkerConfig;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "test-token-0123456789";

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn plan_text(name: &str) -> String {
    std::fs::read_to_string(examples().join(name)).expect("an example plan")
}

/// An example scenario (the happy path unless `file` names another),
/// slowed down so that a drill takes seconds and its waves can be seen
/// running.
fn scenario(file: Option<&str>, time_scale: f64) -> Scenario {
    let file = file.unwrap_or("happy-path.yaml");
    let mut s = ripcord_sim::load_scenario(&examples().join("scenarios").join(file))
        .expect("the example scenario");
    s.time_scale = time_scale;
    s
}

struct Api {
    base: String,
    http: reqwest::Client,
    workers: Option<Workers>,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

struct Options {
    time_scale: f64,
    token: Option<&'static str>,
    protect_reads: bool,
    workers: bool,
    /// The example scenario (default: the happy path).
    scenario: Option<&'static str>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            time_scale: 120.0,
            token: Some(TOKEN),
            protect_reads: false,
            workers: true,
            scenario: None,
        }
    }
}

impl Api {
    async fn start(options: Options) -> Api {
        let dir = tempfile::tempdir().expect("a temp dir");
        let engine = LocalEngine::open(
            &dir.path().join("serve.db"),
            scenario(options.scenario, options.time_scale),
        )
        .expect("the engine opens");
        let workers = options
            .workers
            .then(|| engine.spawn_workers(&QueueName::ALL, WorkerConfig::default()));
        let state = ServeState {
            telemetry: workers.as_ref().map(|w| w.telemetry.clone()),
            watch_every: Duration::from_millis(100),
            ..ServeState::new(
                &engine.ports,
                engine.backend.dead_letters(),
                Auth::new(options.token, options.protect_reads),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            serve::serve(listener, Arc::new(state), std::future::pending())
                .await
                .expect("the server runs");
        });
        Api {
            base,
            http: reqwest::Client::new(),
            workers,
            server,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).send().await.expect("GET");
        answer(r).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.post(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("POST")).await
    }

    async fn start_drill(&self, plan: &str) -> String {
        let (status, body) = self
            .post(
                "/api/executions",
                Some(TOKEN),
                Some(json!({ "plan": plan_text(plan), "requestedBy": "alice" })),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body["executionId"].as_str().expect("an id").to_owned()
    }

    async fn view(&self, id: &str) -> ExecutionView {
        let (status, body) = self.get(&format!("/api/executions/{id}")).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("the status view")
    }

    /// Waits until `done` holds for the execution's view.
    async fn until(
        &self,
        id: &str,
        what: &str,
        done: impl Fn(&ExecutionView) -> bool,
    ) -> ExecutionView {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let (status, body) = self.get(&format!("/api/executions/{id}")).await;
            if status == 200 {
                let view: ExecutionView = serde_json::from_value(body).expect("a view");
                if done(&view) {
                    return view;
                }
                assert!(
                    Instant::now() < deadline,
                    "{what} did not happen in 90 s: {view:#?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stop(self) {
        self.server.abort();
        if let Some(w) = self.workers {
            w.shutdown().await;
        }
    }
}

/// Status and JSON body; every answer of the API is JSON.
async fn answer(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.expect("a body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer {status} is not JSON ({e}): {text:?}"));
    (status, body)
}

/// Reads Server-Sent Events until the stream ends (or `limit` passes).
async fn read_events(mut response: reqwest::Response, limit: Duration) -> Vec<(String, Value)> {
    let deadline = Instant::now() + limit;
    let mut buffer = String::new();
    let mut events = Vec::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline.into(), response.chunk())
            .await
            .unwrap_or_else(|_| panic!("the stream did not end within {limit:?}; got {events:?}"))
            .expect("the stream reads");
        let Some(chunk) = chunk else {
            return events;
        };
        buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            // Keep-alive comments have neither.
            if let Some(name) = name {
                events.push((name, serde_json::from_str(&data).expect("JSON data")));
            }
        }
    }
}

/// Applies an `update` to the view a browser holds: top-level fields
/// replaced, waves merged by number.
fn merge(held: &mut ExecutionView, update: ExecutionView) {
    let mut update = update;
    let waves = std::mem::take(&mut update.waves);
    let mut merged = std::mem::take(&mut held.waves);
    for wave in waves {
        let slot = merged
            .iter_mut()
            .find(|w| w.wave_number == wave.wave_number)
            .expect("an update names a known wave");
        *slot = wave;
    }
    *held = ExecutionView {
        waves: merged,
        ..update
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_drill_is_followed_live_from_snapshot_to_settled() {
    let api = Api::start(Options::default()).await;
    let id = api.start_drill("drill.yaml").await;
    let response = api
        .http
        .get(api.url(&format!("/api/executions/{id}/events")))
        .send()
        .await
        .expect("GET events");
    // The StartExecution may not be decided yet: then the execution is not
    // in the store and the stream is refused; follow it once it is.
    let response = if response.status() == 404 {
        api.until(&id, "the execution is created", |_| true).await;
        api.http
            .get(api.url(&format!("/api/executions/{id}/events")))
            .send()
            .await
            .expect("GET events")
    } else {
        response
    };
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = read_events(response, Duration::from_secs(120)).await;

    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"snapshot"), "{names:?}");
    assert_eq!(names.last(), Some(&"settled"), "{names:?}");
    assert!(
        names[1..names.len() - 1].iter().all(|n| *n == "update"),
        "{names:?}"
    );
    assert!(names.len() >= 5, "several changes were pushed: {names:?}");

    // A browser that merges every update holds the final view.
    let mut held: ExecutionView = serde_json::from_value(events[0].1.clone()).unwrap();
    let mut seen_running = std::collections::BTreeSet::new();
    for (name, data) in &events[1..events.len() - 1] {
        assert_eq!(name, "update");
        let update: ExecutionView = serde_json::from_value(data.clone()).expect("an update");
        for w in &update.waves {
            if matches!(w.status, WaveStatus::Launching | WaveStatus::PostActions) {
                seen_running.insert(w.wave_number.0);
            }
        }
        merge(&mut held, update);
    }
    assert_eq!(
        seen_running,
        [1, 2, 3].into(),
        "each wave was pushed while it ran"
    );
    let stored = api.view(&id).await;
    assert_eq!(held.status, ExecutionStatus::Completed);
    assert_eq!(held.progress.percent_complete, 100.0);
    assert_eq!(
        ExecutionView {
            last_updated: stored.last_updated,
            ..held
        },
        stored,
        "the merged updates are the stored status"
    );

    // Its drill report, in each format.
    let (status, report) = api
        .get(&format!("/api/executions/{id}/report?format=json"))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["executionId"].as_str(),
        Some(id.as_str()),
        "{report}"
    );
    for (format, content_type, starts) in [
        ("html", "text/html", "<!DOCTYPE html>"),
        ("md", "text/markdown", "# "),
        ("svg", "image/svg+xml", "<svg"),
    ] {
        let r = api
            .http
            .get(api.url(&format!("/api/executions/{id}/report?format={format}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type)
        );
        let body = r.text().await.unwrap();
        assert!(
            body.trim_start().starts_with(starts),
            "{format}: {}",
            &body[..body.len().min(200)]
        );
    }
    let (status, body) = api
        .get(&format!("/api/executions/{id}/report?format=pdf"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_query"))
    );

    // Following a settled execution: its snapshot, then settled at once.
    let again = api
        .http
        .get(api.url(&format!("/api/executions/{id}/events")))
        .send()
        .await
        .unwrap();
    let events = read_events(again, Duration::from_secs(10)).await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["snapshot", "settled"]);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_approval_gate_and_cancel_work_through_the_api() {
    let api = Api::start(Options::default()).await;
    let gated = api.start_drill("approval-drill.yaml").await;
    let waiting = api
        .until(&gated, "wave 2 awaits approval", |v| {
            v.waves.len() == 2
                && v.waves[1].awaiting_approval
                && v.waves[0].status == WaveStatus::Completed
        })
        .await;
    assert_eq!(waiting.waves[1].status, WaveStatus::Pending);

    // Approving needs the token; wave 1 has no gate.
    let approve = format!("/api/executions/{gated}/waves/2/approve");
    let (status, body) = api.post(&approve, None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, body) = api
        .post(
            &format!("/api/executions/{gated}/waves/1/approve"),
            Some(TOKEN),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("invalid_transition")),
        "{body}"
    );
    let (status, body) = api
        .post(&approve, Some(TOKEN), Some(json!({ "approvedBy": "bob" })))
        .await;
    assert_eq!(status, 202, "{body}");
    let done = api
        .until(&gated, "the gated drill completes", |v| {
            v.status == ExecutionStatus::Completed
        })
        .await;
    assert_eq!(done.waves[1].approved_by.as_deref(), Some("bob"));
    assert_eq!(done.waves[1].status, WaveStatus::Completed);
    // Approving twice, or cancelling what ended, is an invalid transition.
    let (status, _) = api.post(&approve, Some(TOKEN), None).await;
    assert_eq!(status, 409);
    let (status, body) = api
        .post(
            &format!("/api/executions/{gated}/cancel"),
            Some(TOKEN),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("COMPLETED")
    );

    // Cancelling a drill that runs.
    let running = api.start_drill("drill.yaml").await;
    api.until(&running, "wave 1 launches", |v| {
        v.waves
            .first()
            .is_some_and(|w| w.status != WaveStatus::Pending)
    })
    .await;
    let (status, body) = api
        .post(
            &format!("/api/executions/{running}/cancel"),
            Some(TOKEN),
            Some(json!({ "reason": "game day over", "requestedBy": "carol" })),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let cancelled = api
        .until(&running, "the drill is cancelled", |v| {
            v.status == ExecutionStatus::Cancelled
        })
        .await;
    assert!(
        cancelled
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("game day over"),
        "{:?}",
        cancelled.reason
    );
    api.stop().await;
}

/// Operator control through the API: what applies is queued (202), what
/// does not is a 409 saying why and what to do, and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_retry_and_skip_are_checked_before_anything_is_queued() {
    let api = Api::start(Options::default()).await;
    let id = api.start_drill("drill.yaml").await;
    api.until(&id, "wave 1 starts", |v| {
        v.waves
            .first()
            .is_some_and(|w| w.status != WaveStatus::Pending)
    })
    .await;
    let path = |what: &str| format!("/api/executions/{id}/{what}");
    let (status, body) = api.post(&path("pause"), None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let pause = json!({ "reason": "network change window", "requestedBy": "dana" });
    let (status, body) = api.post(&path("pause"), Some(TOKEN), Some(pause)).await;
    assert_eq!(status, 202, "{body}");
    let paused = api
        .until(&id, "the pause is applied", |v| v.paused.is_some())
        .await;
    assert_eq!(paused.operator_actions[0].requested_by, "dana");
    let (status, body) = api.post(&path("pause"), Some(TOKEN), None).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ripcord resume"),
        "{body}"
    );

    // Wave 1 did not fail: no retry; it runs or ended: no skip; a skip needs a reason.
    let (status, body) = api.post(&path("waves/1/retry"), Some(TOKEN), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("invalid_transition")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not FAILED"),
        "{body}"
    );
    let (status, body) = api.post(&path("waves/9/retry"), Some(TOKEN), None).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = api.post(&path("waves/3/skip"), Some(TOKEN), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("reason_required")),
        "{body}"
    );

    let (status, body) = api.post(&path("resume"), Some(TOKEN), None).await;
    assert_eq!(status, 202, "{body}");
    let done = api
        .until(&id, "the drill completes", |v| {
            v.status == ExecutionStatus::Completed
        })
        .await;
    let kinds: Vec<&str> = done
        .operator_actions
        .iter()
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(kinds, ["PAUSE", "RESUME"]);
    let (status, body) = api.post(&path("resume"), Some(TOKEN), None).await;
    assert_eq!(status, 409, "{body}");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_4xx_never_a_500() {
    let api = Api::start(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let unknown = uuid::Uuid::new_v4();
    let post = |path: String, body: &'static str, content_type: &'static str| {
        api.http
            .post(api.url(&path))
            .bearer_auth(TOKEN)
            .header("content-type", content_type)
            .body(body)
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "not JSON",
            post("/api/executions".into(), "{plan:", "application/json"),
            400,
            "bad_json",
        ),
        (
            "wrong shape",
            post(
                "/api/executions".into(),
                r#"{"plan": 7}"#,
                "application/json",
            ),
            400,
            "bad_json",
        ),
        (
            "unknown field",
            post(
                "/api/executions".into(),
                r#"{"plan": "x", "plam": 1}"#,
                "application/json",
            ),
            400,
            "bad_json",
        ),
        (
            "not JSON at all",
            post("/api/executions".into(), "plan", "text/plain"),
            415,
            "bad_json",
        ),
        (
            "invalid plan",
            post(
                "/api/executions".into(),
                r#"{"plan": "name: x\nmode: drill\nregion: us-east-1\nwaves: []\n"}"#,
                "application/json",
            ),
            422,
            "invalid_plan",
        ),
        (
            "cancel unknown",
            post(
                format!("/api/executions/{unknown}/cancel"),
                "",
                "application/json",
            ),
            404,
            "not_found",
        ),
        (
            "cancel bad id",
            post(
                "/api/executions/not-a-uuid/cancel".into(),
                "",
                "application/json",
            ),
            404,
            "not_found",
        ),
        (
            "cancel bad body",
            post(
                format!("/api/executions/{unknown}/cancel"),
                "[1,",
                "application/json",
            ),
            400,
            "bad_json",
        ),
        (
            "approve unknown",
            post(
                format!("/api/executions/{unknown}/waves/1/approve"),
                "",
                "application/json",
            ),
            404,
            "not_found",
        ),
        (
            "get unknown",
            api.http.get(api.url(&format!("/api/executions/{unknown}"))),
            404,
            "not_found",
        ),
        (
            "events unknown",
            api.http
                .get(api.url(&format!("/api/executions/{unknown}/events"))),
            404,
            "not_found",
        ),
        (
            "bad status filter",
            api.http.get(api.url("/api/executions?status=DONE")),
            400,
            "bad_query",
        ),
        (
            "bad limit",
            api.http.get(api.url("/api/executions?limit=0")),
            400,
            "bad_request",
        ),
        (
            "bad cursor",
            api.http.get(api.url("/api/executions?cursor=zzz")),
            400,
            "bad_request",
        ),
        (
            "no such route",
            api.http.get(api.url("/api/nothing")),
            404,
            "not_found",
        ),
        (
            "wrong method",
            api.http.delete(api.url("/api/executions")),
            405,
            "method_not_allowed",
        ),
        (
            "wrong token",
            api.http
                .post(api.url("/api/executions"))
                .bearer_auth("nope")
                .json(&json!({"plan": "x"})),
            401,
            "unauthorized",
        ),
    ];
    for (what, request, want_status, want_code) in cases {
        let (status, body) = answer(request.send().await.expect(what)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (want_status, Some(want_code)),
            "{what}: {body}"
        );
        assert!(
            !body["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{what}: the error says what happened"
        );
    }

    // An invalid plan's problems come with line and column.
    let (status, body) = api
        .post(
            "/api/executions",
            Some(TOKEN),
            Some(json!({ "plan": "name: x\nmode: drill\nregion: us-east-1\nwaves:\n  - name: a\n    servers: [{ id: s-123 }]\n" })),
        )
        .await;
    assert_eq!(status, 422);
    let detail = &body["error"]["details"][0];
    assert_eq!(
        (detail["line"].as_u64(), detail["column"].as_u64()),
        (Some(6), Some(21)),
        "{body}"
    );

    // A real recovery needs its confirmation field.
    let recovery = plan_text("drill.yaml").replace("mode: drill", "mode: recovery");
    let (status, body) = api
        .post(
            "/api/executions",
            Some(TOKEN),
            Some(json!({ "plan": recovery })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("recovery_not_confirmed"))
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_refused_without_a_configured_token_and_reads_can_be_protected() {
    let open = Api::start(Options {
        token: None,
        workers: false,
        ..Options::default()
    })
    .await;
    let (status, body) = open
        .post(
            "/api/executions",
            Some("anything"),
            Some(json!({ "plan": plan_text("drill.yaml") })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("writes_disabled"))
    );
    assert_eq!(open.get("/api/executions").await.0, 200);
    open.stop().await;

    let protected = Api::start(Options {
        protect_reads: true,
        workers: false,
        ..Options::default()
    })
    .await;
    assert_eq!(protected.get("/api/executions").await.0, 401);
    let with_cookie = protected
        .http
        .get(protected.url("/api/executions"))
        .header("cookie", format!("ripcord_token={TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), 200);
    let with_bearer = protected
        .http
        .get(protected.url("/api/executions"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(with_bearer.status(), 200);
    // Health and metrics stay open for probes and scrapers.
    assert_ne!(protected.get("/healthz").await.0, 401);
    protected.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idempotency_key_starts_one_execution_and_pages_list_them_all() {
    let api = Api::start(Options::default()).await;
    let mut ids = Vec::new();
    // One drill after the other: DRS refuses a server already in an
    // active job, so drills of one plan cannot overlap.
    for key in ["k1", "k2", "k3", "k1"] {
        let response = api
            .http
            .post(api.url("/api/executions"))
            .bearer_auth(TOKEN)
            .header("idempotency-key", key)
            .json(&json!({ "plan": plan_text("drill.yaml") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.unwrap();
        let id = body["executionId"].as_str().unwrap().to_owned();
        let done = api
            .until(&id, "the drill completes", |v| {
                v.status == ExecutionStatus::Completed
            })
            .await;
        if ids.contains(&id) {
            // The repeated key started nothing: the first run's record.
            let first = api.view(&id).await;
            assert_eq!(first.start_time, done.start_time);
        }
        ids.push(id);
    }
    assert_eq!(ids[0], ids[3], "the same key, the same execution");
    assert_eq!(
        ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        3
    );

    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/executions?limit=2&cursor={c}"),
            None => "/api/executions?limit=2".to_owned(),
        };
        let (status, body) = api.get(&path).await;
        assert_eq!(status, 200, "{body}");
        let items = body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        listed.extend(
            items
                .iter()
                .map(|i| i["executionId"].as_str().unwrap().to_owned()),
        );
        match body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    listed.sort();
    let mut expected: Vec<String> = ids[..3].to_vec();
    expected.sort();
    assert_eq!(listed, expected, "three executions, each once");
    let (_, completed) = api.get("/api/executions?status=COMPLETED").await;
    assert_eq!(completed["items"].as_array().unwrap().len(), 3);
    let (_, failed) = api.get("/api/executions?status=FAILED").await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 0);

    // The metrics count them and the workers' steps.
    let metrics = api
        .http
        .get(api.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"ripcord_executions{status="COMPLETED"} 3"#),
        "{metrics}"
    );
    for name in [
        "ripcord_queue_messages{",
        "ripcord_worker_last_poll_age_seconds{",
        "ripcord_worker_step_seconds_bucket{",
        "ripcord_worker_messages_total{",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    assert!(metrics.trim_end().ends_with("# EOF"));
    // Nothing is stuck, and every kind of lost message the sweep heals is
    // listed, at 0 (docs/monitoring.md, "Nothing stuck for ever").
    assert!(metrics.contains("ripcord_stuck_executions 0"), "{metrics}");
    for kind in ripcord::machine::Lost::KINDS {
        let line = format!(r#"ripcord_lost_messages{{kind="{kind}"}} 0"#);
        assert!(metrics.contains(&line), "{line} missing from:\n{metrics}");
    }

    // Every launch gave its DRS capacity back; the quotas are the
    // simulator's.
    for line in [
        r#"ripcord_drs_capacity{what="servers_in_use"} 0"#,
        r#"ripcord_drs_capacity{what="servers_quota"} 500"#,
        r#"ripcord_drs_capacity{what="jobs_quota"} 20"#,
        r#"ripcord_drs_capacity{what="waves_waiting"} 0"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    let (status, capacity) = api.get("/api/capacity").await;
    assert_eq!(status, 200, "{capacity}");
    assert_eq!(capacity["usage"]["serversInUse"], 0, "{capacity}");
    assert_eq!(capacity["usage"]["quotas"]["serversInActiveJobs"], 500);
    assert_eq!(capacity["holds"], serde_json::json!([]));
    assert_eq!(capacity["waiting"], serde_json::json!([]));
    api.stop().await;
}

/// Pre-flight through the API: the same checks as `ripcord preflight`, on
/// this deployment's (simulated) DRS; it starts nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_checks_a_plan_against_drs_and_starts_nothing() {
    let api = Api::start(Options::default()).await;
    let drill = plan_text("drill.yaml");
    let (status, report) = api
        .post("/api/preflight", None, Some(json!({ "plan": drill })))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["serversChecked"], 7, "{report}");
    let checks: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        vec!["SNAPSHOT_AGE"],
        "only the recovery point: {report}"
    );

    // The simulator answers for any region: no region finding here (on
    // AWS the plan's region is checked against the deployment's).
    let elsewhere = drill.replace("region: us-east-1", "region: eu-west-1");
    let (status, report) = api
        .post("/api/preflight", None, Some(json!({ "plan": elsewhere })))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );

    let (status, body) = api
        .post("/api/preflight", None, Some(json!({ "plan": "waves: 3" })))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nothing was checked")),
        "{body}"
    );
    let (_, list) = api.get("/api/executions").await;
    assert_eq!(list["items"], json!([]), "pre-flight starts nothing");
    api.stop().await;
}

/// A plan selecting by tags no source server carries: a start is refused
/// (422) at the selector's line and column; pre-flight shows it as an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selection_of_no_server_is_refused_at_its_place_and_shown_by_preflight() {
    let api = Api::start(Options::default()).await;
    let plan = "name: x\nmode: drill\nregion: us-east-1\nwaves:\n  - name: app-tier\n    select: { tags: { app: nowhere } }\n";
    let (status, body) = api
        .post(
            "/api/executions",
            Some(TOKEN),
            Some(json!({ "plan": plan })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_plan")),
        "{body}"
    );
    let detail = &body["error"]["details"][0];
    assert_eq!(
        (detail["line"].as_u64(), detail["column"].as_u64()),
        (Some(6), Some(13)),
        "{body}"
    );
    assert!(
        detail["message"]
            .as_str()
            .is_some_and(|m| m.contains("select.tags {app: nowhere} matches no source server")),
        "{body}"
    );
    let (status, report) = api
        .post("/api/preflight", None, Some(json!({ "plan": plan })))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["findings"][0]["severity"], "ERROR", "{report}");
    assert_eq!(report["findings"][0]["check"], "SELECTION", "{report}");
    let (_, list) = api.get("/api/executions").await;
    assert_eq!(list["items"], json!([]), "nothing was started");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_reports_missing_workers_as_unhealthy_and_running_ones_as_healthy() {
    let idle = Api::start(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let (status, body) = idle.get("/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "UNHEALTHY");
    assert_eq!(body["problems"].as_array().unwrap().len(), 4, "{body}");
    idle.stop().await;

    let running = Api::start(Options::default()).await;
    // Each worker writes its first heartbeat after its first receive.
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let (status, body) = running.get("/healthz").await;
        if status == 200 {
            break body;
        }
        assert!(Instant::now() < deadline, "never healthy: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body["status"], "HEALTHY", "{body}");
    let kinds: Vec<&str> = body["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["launch", "poll", "post-actions", "metrics"]);
    assert!(body["workers"][0]["lastPollAgeSeconds"].as_f64().unwrap() < 60.0);
    assert_eq!(body["queues"][0]["dead"], 0);
    running.stop().await;
}

/// Steps of every worker kind throttled in the last 5 minutes.
fn throttled_steps(health: &Value) -> u64 {
    health["workers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["steps"]["last5m"]["throttled"].as_u64())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn healthz_says_the_simulated_drs_is_throttling_us_and_metrics_count_it() {
    // DRS, EC2 and SSM throttle 40 % of calls (examples/scenarios/throttling-storm.yaml).
    let api = Api::start(Options {
        scenario: Some("throttling-storm.yaml"),
        ..Options::default()
    })
    .await;
    let id = api.start_drill("drill.yaml").await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let body = loop {
        let (status, body) = api.get("/healthz").await;
        let throttled = body["problems"].as_array().into_iter().flatten().any(|p| {
            p.as_str()
                .is_some_and(|p| p.starts_with("the simulated DRS is throttling us"))
        });
        // Steps reach the heartbeats at their next write (every 5 s).
        if status == 200 && throttled && throttled_steps(&body) > 0 {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz never said the simulated DRS throttles: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body["status"], "DEGRADED", "{body:#}");
    let drs = body["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "simulated-drs")
        .unwrap_or_else(|| panic!("no simulated DRS in {body:#}"));
    assert_eq!(drs["status"], "DEGRADED", "{drs:#}");
    let throttled = drs["throttledPercent"].as_f64().unwrap();
    assert!((20.0..=70.0).contains(&throttled), "{drs:#}");
    assert!(drs["last5m"]["throttled"].as_u64().unwrap() >= 2, "{drs:#}");
    assert!(drs["lastSuccess"].is_string(), "{drs:#}");
    assert!(
        drs["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("ThrottlingException")),
        "{drs:#}"
    );
    // The embedded file answers every receive and heartbeat write.
    let file = body["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "file")
        .unwrap_or_else(|| panic!("no file in {body:#}"));
    assert_eq!(file["errorRatePercent"], 0.0, "{file:#}");
    // The steps that met the throttling were counted as such (waited for above).

    let metrics = api
        .http
        .get(api.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ratio = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"ripcord_service_error_ratio{service="simulated-drs"} "#))
        .unwrap_or_else(|| panic!("no error ratio for the simulated DRS: {metrics}"));
    assert!(ratio.parse::<f64>().unwrap() >= 0.2, "{ratio}");
    assert!(
        metrics.contains(r#"ripcord_service_recent_calls{service="simulated-drs",outcome="throttled",window="5m"}"#),
        "{metrics}"
    );
    assert!(
        metrics
            .contains(r#"ripcord_worker_recent_steps{kind="poll",class="throttled",window="15m"}"#),
        "{metrics}"
    );
    api.until(&id, "the drill settles", |v| {
        ripcord::status_model::Transitions::is_terminal(v.status)
    })
    .await;
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route_and_the_status_shape() {
    let api = Api::start(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let (status, doc) = api.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for path in [
        "/api/executions",
        "/api/executions/{id}",
        "/api/executions/{id}/events",
        "/api/executions/{id}/report",
        "/api/executions/{id}/cancel",
        "/api/executions/{id}/waves/{wave}/approve",
        "/api/executions/{id}/waves/{wave}/retry",
        "/api/executions/{id}/waves/{wave}/skip",
        "/api/executions/{id}/pause",
        "/api/executions/{id}/resume",
        "/api/capacity",
        "/api/preflight",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains(&path), "{path} is not in {paths:?}");
    }
    let view = &doc["components"]["schemas"]["ExecutionView"]["properties"];
    for field in [
        "executionId",
        "status",
        "waves",
        "progress",
        "estimatedCompletion",
        "waitingReason",
        "preflight",
        "paused",
        "operatorActions",
    ] {
        assert!(
            view.get(field).is_some(),
            "ExecutionView lacks {field}: {view}"
        );
    }
    let schemas = &doc["components"]["schemas"];
    let preflight = &schemas["PreflightView"]["properties"];
    for field in [
        "state",
        "mode",
        "summary",
        "checkedAt",
        "serversChecked",
        "findings",
    ] {
        assert!(
            preflight.get(field).is_some(),
            "PreflightView lacks {field}: {preflight}"
        );
    }
    let finding = &schemas["Finding"]["properties"];
    for field in ["severity", "check", "wave", "server", "message", "whatToDo"] {
        assert!(
            finding.get(field).is_some(),
            "Finding lacks {field}: {finding}"
        );
    }
    assert_eq!(preflight["checkedAt"]["format"], "date-time", "{preflight}");
    let server = &doc["components"]["schemas"]["ServerView"]["properties"];
    assert_eq!(server["launchStartTime"]["format"], "date-time", "{server}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    use ripcord_workers::serve::headers::{API_CSP, DASHBOARD_CSP, REPORT_CSP};

    let api = Api::start(Options::default()).await;
    let id = api.start_drill("drill.yaml").await;
    api.until(&id, "the execution exists", |_| true).await;
    let cases = [
        ("GET", "/".to_owned(), DASHBOARD_CSP),
        ("GET", format!("/executions/{id}"), DASHBOARD_CSP),
        ("GET", "/assets/app.js".to_owned(), DASHBOARD_CSP),
        ("GET", "/assets/app.css".to_owned(), DASHBOARD_CSP),
        ("GET", format!("/api/executions/{id}/report"), REPORT_CSP),
        (
            "GET",
            format!("/api/executions/{id}/report?format=svg"),
            API_CSP,
        ),
        (
            "GET",
            format!("/api/executions/{id}/report?format=md"),
            API_CSP,
        ),
        ("GET", format!("/api/executions/{id}"), API_CSP),
        ("GET", format!("/api/executions/{id}/events"), API_CSP),
        ("GET", "/api/executions".to_owned(), API_CSP),
        ("GET", "/api/openapi.json".to_owned(), API_CSP),
        ("GET", "/healthz".to_owned(), API_CSP),
        ("GET", "/metrics".to_owned(), API_CSP),
        // Errors too: unknown file and route, wrong method, no token.
        ("GET", "/assets/nothing.js".to_owned(), API_CSP),
        ("GET", "/nothing".to_owned(), API_CSP),
        ("DELETE", "/api/executions".to_owned(), API_CSP),
        ("POST", format!("/api/executions/{id}/cancel"), API_CSP),
    ];
    for (method, path, csp) in cases {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        // Only the headers are read: the event stream does not end.
        let response = api
            .http
            .request(method.clone(), api.url(&path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers = response.headers();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let what = format!("{method} {path} ({})", response.status());
        assert_eq!(header("x-content-type-options"), Some("nosniff"), "{what}");
        assert_eq!(header("referrer-policy"), Some("no-referrer"), "{what}");
        assert_eq!(header("content-security-policy"), Some(csp), "{what}");
    }

    // The dashboard's page runs under its policy as written: no inline
    // script or style, no style attribute (the browser tests fail on any
    // CSP violation the page reports).
    let (_, page) = ripcord_workers::serve::dashboard::ASSETS
        .iter()
        .find(|(name, _)| *name == "index.html")
        .expect("the page");
    assert!(!page.contains("<style"), "an inline <style> in index.html");
    assert!(!page.contains(" style="), "a style attribute in index.html");
    for script in page.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or("");
        assert!(tag.contains(" src="), "an inline <script> in index.html");
    }
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_no_launch_worker_took_up_is_queued_not_missing() {
    let api = Api::start(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let id = api.start_drill("drill.yaml").await;
    let (status, body) = api.get(&format!("/api/executions/{id}")).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "QUEUED", "{body}");
    assert_eq!(body["executionId"], id.as_str());
    assert_eq!(body["planName"], "payments-drill");
    assert_eq!(body["requestedBy"], "alice");
    assert!(body["submittedAt"].is_string(), "{body}");
    let check = body["whatToCheck"].as_str().expect("whatToCheck");
    assert!(
        check.contains("no launch worker has polled this deployment"),
        "{check}"
    );
    // A truly unknown id is still a 404.
    let unknown = uuid::Uuid::new_v4();
    let (status, body) = api.get(&format!("/api/executions/{unknown}")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    api.stop().await;
}

/// A drill's clean-up through the API: refused (409) while it runs, 401
/// without the token, accepted once it has settled and followed to every
/// instance TERMINATED, refused (409) a second time; a recovery's needs
/// `confirmRecovery` (422).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_drill_is_cleaned_up_through_the_api_and_a_running_one_is_refused() {
    let api = Api::start(Options::default()).await;
    let id = api.start_drill("approval-drill.yaml").await;
    let cleanup = format!("/api/executions/{id}/cleanup");
    api.until(&id, "wave 2 awaits approval", |v| {
        v.waves.len() == 2
            && v.waves[1].awaiting_approval
            && v.waves[0].status == WaveStatus::Completed
    })
    .await;
    let (status, body) = api.post(&cleanup, Some(TOKEN), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("execution_running")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancel it first")
    );
    let (status, _) = api
        .post(&format!("/api/executions/{id}/cancel"), Some(TOKEN), None)
        .await;
    assert_eq!(status, 202);
    api.until(&id, "the drill settles", |v| {
        v.status == ExecutionStatus::Cancelled
            && v.waves.iter().all(|w| w.status != WaveStatus::Launching)
    })
    .await;
    let (status, _) = api.post(&cleanup, None, None).await;
    assert_eq!(status, 401);
    // The summary may still be settling: retry a refusal for running waves.
    let mut answer = (0, Value::Null);
    for _ in 0..50 {
        answer = api
            .post(
                &cleanup,
                Some(TOKEN),
                Some(json!({ "requestedBy": "bob", "reason": "drill over" })),
            )
            .await;
        if answer.0 != 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answer.0, 202, "{}", answer.1);
    assert_eq!(answer.1["accepted"], "CleanupExecution");
    let done = api
        .until(&id, "the clean-up ends", |v| {
            v.cleanup.as_ref().is_some_and(|c| c.ended_at.is_some())
        })
        .await;
    let summary = done.cleanup.unwrap();
    assert_eq!(
        (
            summary.requested_by.as_str(),
            summary.terminated,
            summary.failed
        ),
        ("bob", 1, 0)
    );
    let (status, body) = api.post(&cleanup, Some(TOKEN), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("cleanup_already_requested"))
    );

    let recovery = plan_text("approval-drill.yaml")
        .replace("mode: drill", "mode: recovery")
        .replace("    wait_for_approval: true\n", "");
    let (status, body) = api
        .post(
            "/api/executions",
            Some(TOKEN),
            Some(json!({ "plan": recovery, "confirmRecovery": true })),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let recovered = body["executionId"].as_str().unwrap().to_owned();
    api.until(&recovered, "the recovery completes", |v| {
        v.status == ExecutionStatus::Completed
    })
    .await;
    let (status, body) = api
        .post(
            &format!("/api/executions/{recovered}/cleanup"),
            Some(TOKEN),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("recovery_not_confirmed")),
        "{body}"
    );
    assert!(
        api.view(&recovered).await.cleanup.is_none(),
        "nothing changed"
    );
}
