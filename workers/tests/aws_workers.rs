//! Ripcord on the AWS wire protocols: the four workers run as separate
//! `ripcord worker --backend aws` processes against SQS, DynamoDB,
//! EventBridge, EC2 and CloudWatch in moto, and DRS and SSM served by
//! `ripcord sim serve` (the simulator speaking restJson1 and awsJson1_1).
//! Nothing here is embedded: every message, record and call crosses HTTP
//! through the official SDK clients.
//!
//! The services are started outside the tests (`scripts/test` does it) and
//! named by `RIPCORD_TEST_MOTO_URL` and `RIPCORD_TEST_SIM_URL`; without them
//! the tests say they are skipped, unless `RIPCORD_REQUIRE_AWS_TESTS=1`.
//! The tests reset moto and the simulator, so they run one at a time.
//!
//! CloudWatch is the simulator's too: `aws-sdk-cloudwatch` speaks Smithy
//! RPC v2 CBOR, which moto 5.2.5 does not.

mod support;

use ripcord::ports::WorkerHeartbeats;
use ripcord_aws::calls::{RECORD_CALLS_VAR, granted_actions, not_granted};
use ripcord_aws::testing::{MOTO_URL_VAR, SIM_URL_VAR, stand_in_url, test_sdk_config};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use support::{Processes, RIPCORD};

const RUNBOOK: &str = "com.example.dr-runbook";

static SERIAL: Mutex<()> = Mutex::new(());

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/scenarios")
        .join(name)
}

/// One test's stage: moto and the simulator reset, the deployment's
/// resources bootstrapped under a fresh prefix, worker processes that are
/// killed (and whose logs are printed on failure) when it is dropped.
struct Stage {
    moto: String,
    sim: String,
    prefix: String,
    /// Before `logs`: fields drop in order, and the processes' logs live
    /// there, with the AWS calls each kind of process made.
    processes: Processes,
    logs: tempfile::TempDir,
    http: reqwest::blocking::Client,
    /// For the test's own SDK calls (moto) and its SDK configuration.
    runtime: tokio::runtime::Runtime,
    sdk: aws_config::SdkConfig,
    /// The DRS servers-in-active-jobs quota the workers admit against
    /// (RIPCORD_DRS_SERVERS_IN_ACTIVE_JOBS), if not the default.
    quotas: Option<u32>,
    _serial: MutexGuard<'static, ()>,
}

impl Stage {
    fn new(scenario_file: &str) -> Option<Stage> {
        let text = std::fs::read_to_string(scenario(scenario_file)).expect("scenario");
        Self::with_scenario_text(&text)
    }

    /// A stage whose simulator runs the scenario `text`.
    fn with_scenario_text(text: &str) -> Option<Stage> {
        let moto = stand_in_url(MOTO_URL_VAR)?;
        let sim = stand_in_url(SIM_URL_VAR)?;
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let http = reqwest::blocking::Client::new();
        let ok = |r: reqwest::Result<reqwest::blocking::Response>, what: &str| {
            let r = r.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(r.status().is_success(), "{what}: {}", r.status());
        };
        ok(
            http.post(format!("{moto}/moto-api/reset")).send(),
            "moto reset",
        );
        support::reset_simulator(&sim, text);
        let prefix = format!("it{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let sdk = runtime.block_on(test_sdk_config(&ripcord_aws::AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.clone()),
            max_attempts: Some(1),
            names: ripcord_aws::ResourceNames::new(prefix.clone()),
        }));
        let dir = tempfile::tempdir().expect("temp dir");
        let stage = Stage {
            moto,
            sim,
            prefix,
            processes: Processes::new(dir.path()),
            logs: dir,
            http,
            runtime,
            sdk,
            quotas: None,
            _serial: serial,
        };
        stage.ripcord_ok(&["aws", "bootstrap"]);
        Some(stage)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(RIPCORD);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "RUST_LOG",
                // Debug: each step's start and end, and why an event changed
                // nothing. Printed (the end of each log) only on failure.
                std::env::var("RIPCORD_TEST_WORKER_LOG")
                    .unwrap_or_else(|_| "warn,ripcord=info,ripcord_workers=debug".to_owned()),
            )
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &self.moto)
            .env("AWS_ENDPOINT_URL_DRS", &self.sim)
            .env("AWS_ENDPOINT_URL_SSM", &self.sim)
            .env("AWS_ENDPOINT_URL_CLOUDWATCH", &self.sim)
            .env("RIPCORD_BACKEND", "aws")
            .env("RIPCORD_PREFIX", &self.prefix)
            .env("RIPCORD_PLANS_DIR", fixtures())
            // No account allow-list: moto's SQS targets drop the event's
            // `account` (its default input template lacks it), where
            // EventBridge delivers the whole event. The account check is
            // tested on the embedded backend (tests/tests/triggers.rs).
            .env("RIPCORD_TRIGGER_SOURCES", RUNBOOK)
            .env("RIPCORD_VISIBILITY_TIMEOUT", "2s")
            .env("RIPCORD_RECEIVE_WAIT", "1s")
            // A step stuck in a call is given up (and logged) well inside
            // the tests' limits.
            .env("RIPCORD_STEP_TIMEOUT", "30s")
            .stdin(Stdio::null());
        if let Some(servers) = self.quotas {
            c.env("RIPCORD_DRS_SERVERS_IN_ACTIVE_JOBS", servers.to_string());
        }
        c
    }

    fn ripcord(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .expect("the ripcord binary runs")
    }

    fn ripcord_ok(&self, args: &[&str]) -> Output {
        let output = self.ripcord(args);
        assert!(
            output.status.success(),
            "ripcord {args:?} failed with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let output = self.ripcord_ok(args);
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "ripcord {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    fn spawn(&mut self, kinds: &[&str]) {
        for kind in kinds {
            let mut command = self.command(&["worker", kind]);
            command.env(RECORD_CALLS_VAR, self.calls_file(kind));
            self.processes.spawn(kind, command);
        }
    }

    /// Starts `ripcord serve --backend aws` (killed with the workers);
    /// returns its base URL.
    fn serve(&mut self) -> String {
        let mut command = self.command(&["serve", "--port", "0", "--health-metrics-every", "1s"]);
        command.env(RECORD_CALLS_VAR, self.calls_file("serve"));
        self.processes.spawn_serve(command)
    }

    /// Where the processes of `kind` record their AWS calls.
    fn calls_file(&self, kind: &str) -> PathBuf {
        self.logs.path().join(format!("aws-calls-{kind}.txt"))
    }

    /// The AWS calls the processes of `kind` made (`service:Operation`).
    fn calls(&self, kind: &str) -> BTreeSet<String> {
        std::fs::read_to_string(self.calls_file(kind))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Each kind's recorded calls need no action beyond its policy in
    /// infra/iam (`ripcord_aws::calls::required_actions` maps the calls
    /// whose IAM action has another name).
    fn assert_calls_within_policies(&self) {
        for kind in ["launch", "poll", "post-actions", "metrics", "serve"] {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../infra/iam")
                .join(format!("{kind}.json"));
            let policy: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("a policy"))
                    .expect("a policy is JSON");
            let calls = self.calls(kind);
            let missing = not_granted(calls.iter().map(String::as_str), &granted_actions(&policy));
            assert!(
                missing.is_empty(),
                "the {kind} processes made AWS calls infra/iam/{kind}.json does not allow: {missing:?} (all their calls: {calls:?}); grant them there and in the README's IAM table"
            );
        }
    }

    fn spawn_all(&mut self) {
        // Two launch workers: still one recovery job per wave.
        self.spawn(&["launch", "launch", "poll", "post-actions", "metrics"]);
    }

    fn assert_running(&mut self) {
        self.processes.assert_running();
    }

    fn start(&self, plan: &str) -> String {
        let plan = fixtures().join(plan);
        let out = self.ripcord_ok(&["start", plan.to_str().expect("utf-8")]);
        let id = String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned();
        assert_eq!(id.len(), 36, "start prints the execution id, got {id:?}");
        id
    }

    /// Waits until `id` ends; returns its status JSON.
    fn settled(&mut self, id: &str, limit: Duration) -> serde_json::Value {
        let deadline = Instant::now() + limit;
        let mut last = serde_json::Value::Null;
        loop {
            self.assert_running();
            let status = self.ripcord(&["status", id, "--json"]);
            if status.status.success() {
                let view: serde_json::Value =
                    serde_json::from_slice(&status.stdout).expect("status --json is JSON");
                if matches!(
                    view["status"].as_str(),
                    Some("COMPLETED" | "FAILED" | "CANCELLED" | "TIMEOUT")
                ) {
                    return view;
                }
                last = view;
            }
            if Instant::now() >= deadline {
                let dead: Vec<serde_json::Value> = ["launch", "poll", "post-actions", "metrics"]
                    .iter()
                    .map(|q| {
                        let out = self.ripcord(&["dlq", "list", q, "--json"]);
                        serde_json::from_slice(&out.stdout).unwrap_or_default()
                    })
                    .collect();
                panic!(
                    "execution {id} did not finish in {limit:?}\nlast status: {last:#}\nqueues (visible, in flight, delayed):\n{}\nworkers' last polls (now {}):\n{}\ndead letters (launch, poll, post-actions, metrics): {dead:#?}\nsimulator: {:#}",
                    self.queue_counts(),
                    chrono::Utc::now(),
                    self.heartbeats(),
                    self.sim_calls()
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn sim_calls(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/sim-api/calls", self.sim))
            .send()
            .and_then(|r| r.json())
            .expect("simulator calls")
    }

    /// Jobs started per wave of `id`, from the simulator's record of calls.
    fn jobs_per_wave(&self, id: &str) -> std::collections::BTreeMap<String, usize> {
        let calls = self.sim_calls();
        let mut jobs = std::collections::BTreeMap::new();
        for call in calls["startRecoveryCalls"].as_array().expect("calls") {
            let tags = &call["tags"];
            if tags["ripcord:execution-id"] == id && call["outcome"].to_string().contains("drsjob-")
            {
                *jobs
                    .entry(tags["ripcord:wave"].as_str().expect("wave tag").to_owned())
                    .or_default() += 1;
            }
        }
        jobs
    }

    fn put_trigger(&self, source: &str, detail: serde_json::Value) {
        let client = aws_sdk_eventbridge::Client::new(&self.sdk);
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(ripcord_aws::ResourceNames::new(self.prefix.clone()).event_bus())
            .source(source)
            .detail_type("Ripcord Start Execution")
            .detail(detail.to_string())
            .build();
        let out = self
            .runtime
            .block_on(client.put_events().entries(entry).send())
            .expect("PutEvents");
        assert_eq!(out.failed_entry_count, 0, "{out:?}");
    }

    fn queue_url(&self, queue: &str) -> String {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        self.runtime
            .block_on(
                sqs.get_queue_url()
                    .queue_name(format!("{}-{queue}", self.prefix))
                    .send(),
            )
            .expect("GetQueueUrl")
            .queue_url
            .expect("a queue URL")
    }

    /// Sends `body` as is to one of the deployment's queues.
    fn send_raw(&self, queue: &str, body: &str) {
        self.try_send_raw(queue, body).expect("SendMessage");
    }

    /// Sends `body` as is; SQS's error, if it refuses it.
    fn try_send_raw(&self, queue: &str, body: &str) -> Result<(), String> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let url = self.queue_url(queue);
        self.runtime
            .block_on(sqs.send_message().queue_url(url).message_body(body).send())
            .map(|_| ())
            .map_err(|e| format!("{:?}", aws_sdk_sqs::error::DisplayErrorContext(e)))
    }

    /// Some of SQS's counts of one of the deployment's queues.
    fn queue_attributes(
        &self,
        queue: &str,
        names: &[aws_sdk_sqs::types::QueueAttributeName],
    ) -> Result<std::collections::HashMap<aws_sdk_sqs::types::QueueAttributeName, String>, String>
    {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let url = self.queue_url(queue);
        self.runtime
            .block_on(
                sqs.get_queue_attributes()
                    .queue_url(url)
                    .set_attribute_names(Some(names.to_vec()))
                    .send(),
            )
            .map(|out| out.attributes.unwrap_or_default())
            .map_err(|e| e.to_string())
    }

    /// Messages in one of the deployment's queues waiting or being handled
    /// (not delayed ones: timers such as the execution timeout wait there).
    fn queue_depth(&self, queue: &str) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        self.queue_attributes(
            queue,
            &[
                A::ApproximateNumberOfMessages,
                A::ApproximateNumberOfMessagesNotVisible,
            ],
        )
        .expect("GetQueueAttributes")
        .values()
        .map(|n| n.parse::<u64>().expect("a count"))
        .sum()
    }

    /// Every queue's visible, in-flight and delayed counts, for a failure
    /// message: where the messages of a stalled execution are.
    fn queue_counts(&self) -> String {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        ["launch", "poll", "post-actions", "metrics"]
            .iter()
            .map(|queue| {
                let counts = self
                    .queue_attributes(
                        queue,
                        &[
                            A::ApproximateNumberOfMessages,
                            A::ApproximateNumberOfMessagesNotVisible,
                            A::ApproximateNumberOfMessagesDelayed,
                        ],
                    )
                    .map(|a| format!("{a:?}"))
                    .unwrap_or_else(|e| format!("unreadable: {e}"));
                format!("{queue}: {counts}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Each worker's last poll from its heartbeat, for a failure message:
    /// whether a stalled worker still polls.
    fn heartbeats(&self) -> String {
        let store = ripcord_aws::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            ripcord_aws::ResourceNames::new(self.prefix.clone()),
        );
        match self
            .runtime
            .block_on(store.list_heartbeats(chrono::Utc::now()))
        {
            Ok(beats) => beats
                .iter()
                .map(|b| {
                    format!(
                        "{}: last poll {}, {} messages",
                        b.worker_id, b.last_poll, b.messages
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("unreadable: {e}"),
        }
    }

    fn delete_table(&self) {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.sdk);
        self.runtime
            .block_on(
                dynamodb
                    .delete_table()
                    .table_name(format!("{}-executions", self.prefix))
                    .send(),
            )
            .expect("DeleteTable");
    }

    /// The private IP moto gives EC2 instance `id`.
    fn ec2_private_ip(&self, id: &str) -> Option<String> {
        let ec2 = aws_sdk_ec2::Client::new(&self.sdk);
        let out = self
            .runtime
            .block_on(ec2.describe_instances().instance_ids(id).send())
            .expect("DescribeInstances");
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(id))
            .and_then(|i| i.private_ip_address().map(str::to_owned))
    }

    /// The metric data the simulator's CloudWatch accepted.
    fn metric_data(&self) -> Vec<serde_json::Value> {
        let body: serde_json::Value = self
            .http
            .get(format!("{}/sim-api/metrics", self.sim))
            .send()
            .and_then(|r| r.json())
            .expect("simulator metrics");
        body["metricData"].as_array().cloned().unwrap_or_default()
    }

    fn wait_for<T>(
        &mut self,
        what: &str,
        limit: Duration,
        mut probe: impl FnMut(&Stage) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            self.assert_running();
            if let Some(found) = probe(self) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{what} did not happen within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Every test checks its processes' AWS calls against their policies.
impl Drop for Stage {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_calls_within_policies();
        }
    }
}

fn servers(view: &serde_json::Value) -> Vec<&serde_json::Value> {
    view["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .flat_map(|w| w["servers"].as_array().expect("servers"))
        .collect()
}

const LIMIT: Duration = Duration::from_secs(180);

/// What `jobs_per_wave` finds for the three-wave fixture plan when
/// invariant 2 (docs/invariants.md) holds: exactly one recovery job per wave.
fn one_job_per_wave() -> std::collections::BTreeMap<String, usize> {
    [
        ("1".to_owned(), 1),
        ("2".to_owned(), 1),
        ("3".to_owned(), 1),
    ]
    .into()
}

#[test]
fn happy_path_on_sqs_dynamodb_and_the_drs_wire_protocol() {
    let Some(mut stage) = Stage::new("happy-path.yaml") else {
        return;
    };
    stage.spawn_all();
    let id = stage.start("aws-drill.yaml");
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    // Who started it: the OS user, then the caller's ARN (STS, in moto).
    let by = view["requestedBy"].as_str().expect("requestedBy");
    assert!(by.ends_with(')') && by.contains(" (arn:aws:"), "{by}");
    for server in servers(&view) {
        assert_eq!(server["launchStatus"], "COMPLETED", "{server:#}");
        // Looked up in EC2 (moto), where the simulator launched it.
        let instance = server["launchedInstanceId"].as_str().expect("an instance");
        assert_eq!(
            server["privateIpAddress"].as_str().map(str::to_owned),
            stage.ec2_private_ip(instance),
            "{server:#}"
        );
    }
    assert_eq!(stage.jobs_per_wave(&id), one_job_per_wave());
    for queue in ["launch", "poll", "post-actions", "metrics"] {
        assert_eq!(
            stage.json(&["dlq", "list", queue, "--json"]),
            serde_json::json!([]),
            "{queue}"
        );
    }
    // The metrics worker's PutMetricData, through CloudWatch's CBOR protocol.
    let data = stage.wait_for("the final metrics", LIMIT, |s| {
        let data = s.metric_data();
        data.iter()
            .any(|d| {
                d["metricName"] == "CompletedServers"
                    && d["value"] == 7.0
                    && d["dimensions"]["ExecutionId"] == id.as_str()
            })
            .then_some(data)
    });
    assert!(
        data.iter().all(|d| d["namespace"] == "DRS/Orchestration"),
        "{data:#?}"
    );
    for name in ["TotalServers", "PercentComplete", "LaunchDuration"] {
        assert!(data.iter().any(|d| d["metricName"] == name), "no {name}");
    }

    // `ripcord serve` on the same deployment: DynamoDB's indexes, the
    // workers' heartbeats and SQS's queue depths behind the API.
    let url = stage.serve();
    let get = |path: &str| -> serde_json::Value {
        reqwest::blocking::get(format!("{url}{path}"))
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    };
    let completed = get("/api/executions?status=COMPLETED&limit=1");
    assert_eq!(
        completed["items"][0]["executionId"],
        id.as_str(),
        "{completed:#}"
    );
    let mut served = get(&format!("/api/executions/{id}"));
    let mut stored = stage.json(&["status", &id, "--json"]);
    served["lastUpdated"] = serde_json::Value::Null;
    stored["lastUpdated"] = serde_json::Value::Null;
    assert_eq!(
        served, stored,
        "the API shows what `ripcord status --json` shows"
    );
    let health = stage.wait_for("a healthy deployment", LIMIT, |_| {
        let health = get("/healthz");
        (health["status"] == "HEALTHY").then_some(health)
    });
    assert_eq!(health["workers"][0]["liveWorkers"], 2, "{health:#}");
    // The worker processes report their calls with their heartbeats: the
    // SDK's DynamoDB, SQS and DRS (the simulator server) all answered.
    for service in ["dynamodb", "sqs", "drs"] {
        let calls = health["services"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["service"] == service)
            .unwrap_or_else(|| panic!("no {service} calls in /healthz: {health:#}"));
        assert!(calls["lastSuccess"].is_string(), "{calls:#}");
        assert_eq!(calls["status"], "HEALTHY", "{calls:#}");
    }
    let report = get(&format!("/api/executions/{id}/report?format=json"));
    assert_eq!(report["executionId"], id.as_str(), "{report:#}");
    let metrics = reqwest::blocking::get(format!("{url}/metrics"))
        .and_then(|r| r.text())
        .expect("/metrics");
    assert!(
        metrics.contains(r#"ripcord_executions{status="COMPLETED"} 1"#),
        "{metrics}"
    );
    // The health gauges the alarms watch, published by serve through
    // CloudWatch's protocol, and the deployment-wide FailedServers.
    let gauges = stage.wait_for("the health gauges", LIMIT, |s| {
        let data = s.metric_data();
        let deployment =
            |d: &&serde_json::Value| d["dimensions"]["Deployment"] == s.prefix.as_str();
        let poll_ages: Vec<f64> = data
            .iter()
            .filter(deployment)
            .filter(|d| d["metricName"] == "WorkerPollAge")
            .filter_map(|d| d["value"].as_f64())
            .collect();
        (poll_ages.len() >= 4).then_some((poll_ages, data))
    });
    let (poll_ages, data) = gauges;
    assert!(poll_ages.iter().all(|age| *age < 60.0), "{poll_ages:?}");
    for (name, value) in [
        ("StuckExecutions", 0.0),
        ("LongestCapacityWait", 0.0),
        ("FailedServers", 0.0),
        ("ServiceErrorRate", 0.0),
    ] {
        assert!(
            data.iter().any(|d| d["metricName"] == name
                && d["value"] == value
                && d["dimensions"] == serde_json::json!({"Deployment": stage.prefix})),
            "no {name} = {value} for the deployment: {data:#?}"
        );
    }
    // Each kind's calls were recorded (and are checked against its policy
    // when the stage drops).
    for (kind, call) in [
        ("launch", "drs:StartRecovery"),
        ("poll", "drs:DescribeJobs"),
        ("post-actions", "sqs:ReceiveMessage"),
        ("metrics", "cloudwatch:PutMetricData"),
        ("serve", "dynamodb:Query"),
    ] {
        let calls = stage.calls(kind);
        assert!(calls.contains(call), "{kind} made no {call}: {calls:?}");
    }
}

#[test]
fn a_completed_job_with_failed_servers_fails_on_aws_too() {
    let Some(mut stage) = Stage::new("job-completed-with-failures.yaml") else {
        return;
    };
    let id = stage.start("aws-drill.yaml");
    // No launch worker yet: the start is QUEUED (its marker in DynamoDB).
    let queued = stage.json(&["status", &id, "--json"]);
    assert_eq!(queued["status"], "QUEUED", "{queued:#}");
    stage.spawn_all();
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "FAILED", "{view:#}");
    let wave = &view["waves"][0];
    assert_eq!(wave["status"], "FAILED", "{wave:#}");
    let failed: Vec<&serde_json::Value> = wave["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .collect();
    assert!(
        failed.iter().all(|s| s["launchStatus"] == "FAILED"),
        "{wave:#}"
    );
    // DescribeJobLogItems' rawError, through the wire.
    assert!(
        failed.iter().any(|s| s["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("unsupported kernel"))),
        "{wave:#}"
    );
}

#[test]
fn throttling_slows_the_drill_down_but_it_completes_with_one_job_per_wave() {
    let Some(mut stage) = Stage::new("throttling-storm.yaml") else {
        return;
    };
    stage.spawn_all();
    let id = stage.start("aws-drill.yaml");
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    assert_eq!(stage.jobs_per_wave(&id), one_job_per_wave());
    let faults = stage.sim_calls()["faultsInjected"].clone();
    assert!(
        faults
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["code"] == "ThrottlingException")),
        "the storm threw nothing: {faults:#}"
    );
    // The workers' SDK clients saw the throttles: `/healthz` counts them
    // for DRS, with the latest error, from the heartbeats in DynamoDB.
    let url = stage.serve();
    let health: serde_json::Value = reqwest::blocking::get(format!("{url}/healthz"))
        .and_then(|r| r.json())
        .expect("/healthz");
    let drs = health["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["service"] == "drs")
        .unwrap_or_else(|| panic!("no DRS calls in /healthz: {health:#}"));
    assert!(
        drs["last15m"]["throttled"].as_u64().unwrap_or(0) > 0,
        "{drs:#}"
    );
    assert!(
        drs["last15m"]["succeeded"].as_u64().unwrap_or(0) > 0,
        "{drs:#}"
    );
}

#[test]
fn eventbridge_triggers_start_once_per_key_and_refusals_are_recorded() {
    let Some(mut stage) = Stage::new("happy-path.yaml") else {
        return;
    };
    stage.spawn_all();
    let drill = |key: &str| {
        serde_json::json!({
            "plan": "aws-drill", "mode": "drill", "requestedBy": "runbook@example.com",
            "idempotencyKey": key,
        })
    };
    stage.put_trigger(RUNBOOK, drill("INC-7-drill"));
    let id = stage.wait_for("the trigger's execution", LIMIT, |s| {
        let triggers = s.json(&["triggers", "--json"]);
        triggers.as_array()?.first()?["executionId"]
            .as_str()
            .map(str::to_owned)
    });
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    assert_eq!(view["requestedBy"], "runbook@example.com");

    // The same key again, a source off the allow-list, and a recovery
    // without its confirmation.
    stage.put_trigger(RUNBOOK, drill("INC-7-drill"));
    stage.put_trigger("com.example.intruder", drill("INC-8-drill"));
    let mut recovery = drill("INC-9-recovery");
    recovery["mode"] = "recovery".into();
    stage.put_trigger(RUNBOOK, recovery);
    for (key, why) in [
        ("INC-8-drill", "com.example.intruder"),
        ("INC-9-recovery", "confirmRecovery"),
    ] {
        let refused = stage.wait_for("the refusal", LIMIT, |s| {
            let triggers = s.json(&["triggers", "--json"]);
            triggers
                .as_array()?
                .iter()
                .find(|t| t["idempotencyKey"] == key)
                .cloned()
        });
        assert_eq!(refused["outcome"], "REFUSED", "{refused:#}");
        assert!(
            refused["reason"].as_str().is_some_and(|r| r.contains(why)),
            "{refused:#}"
        );
    }
    // Once the duplicate is handled (the launch queue is empty), count: one
    // trigger per key, one execution, three recovery jobs in all.
    stage.wait_for("the launch queue to drain", LIMIT, |s| {
        (s.queue_depth("launch") == 0).then_some(())
    });
    let triggers = stage.json(&["triggers", "--json"]);
    assert_eq!(triggers.as_array().map(Vec::len), Some(3), "{triggers:#}");
    let list = String::from_utf8(stage.ripcord_ok(&["list"]).stdout).expect("utf-8");
    assert_eq!(list.lines().count(), 1, "{list}");
    assert_eq!(stage.jobs_per_wave(&id), one_job_per_wave());
}

#[test]
fn poison_messages_land_in_the_dlq_and_a_replay_completes_the_execution() {
    let Some(mut stage) = Stage::new("happy-path.yaml") else {
        return;
    };
    // The store is gone (an operator error): the start fails on every
    // receive until SQS moves it to the launch DLQ.
    stage.delete_table();
    stage.spawn_all();
    let id = stage.start("aws-drill.yaml");
    let dead = stage.wait_for("the start to be dead-lettered", LIMIT, |s| {
        let dead = s.json(&["dlq", "list", "launch", "--json"]);
        (dead.as_array()?.len() == 1).then_some(dead)
    });
    let message = &dead[0];
    assert!(
        message["body"].as_str().is_some_and(|b| b.contains(&id)),
        "{message:#}"
    );
    assert!(
        message["receiveCount"].as_u64().is_some_and(|n| n >= 5),
        "{message:#}"
    );
    // A message no worker can read goes straight to the DLQ, with why.
    stage.send_raw("poll", "{\"not\": \"an event\"}");
    let poll_dead = stage.wait_for("the unreadable message to be dead-lettered", LIMIT, |s| {
        let dead = s.json(&["dlq", "list", "poll", "--json"]);
        (dead.as_array()?.len() == 1).then_some(dead)
    });
    let reason = poll_dead[0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        !reason.is_empty() && poll_dead[0]["receiveCount"] == 1,
        "{poll_dead:#}"
    );

    // Fixed: the table is back; replay.
    stage.ripcord_ok(&["aws", "bootstrap"]);
    let shown = stage.ripcord_ok(&[
        "dlq",
        "show",
        "launch",
        message["messageId"].as_str().expect("id"),
    ]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains(&id));
    stage.ripcord_ok(&["dlq", "replay", "launch", "--all"]);
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    assert_eq!(
        stage.json(&["dlq", "list", "launch", "--json"]),
        serde_json::json!([])
    );
    assert_eq!(stage.jobs_per_wave(&id), one_job_per_wave());
}

/// Bad messages on each of the four SQS queues land in that queue's DLQ
/// with the reason while the workers complete a drill (invariant 5):
/// garbage, a truncated envelope, an envelope of another schema version,
/// and a body SQS carries but Ripcord never sends (over `MAX_BODY_BYTES`,
/// under SQS's 1 MiB: its dead letter keeps as much of it as fits beside
/// the reason). A body over SQS's 1 MiB cannot be put on a queue at all:
/// SQS refuses the send, and Ripcord's own sends refuse it first
/// (`shared/contract/src/queue.rs::large_messages_are_carried_and_oversized_ones_refused`).
#[test]
fn bad_messages_on_every_queue_land_in_its_dlq_with_the_reason_while_a_drill_completes() {
    use ripcord::event::{Envelope, Event};
    use ripcord::ports::queue::{MAX_BODY_BYTES, MAX_MESSAGE_BYTES};
    let Some(mut stage) = Stage::new("happy-path.yaml") else {
        return;
    };
    stage.spawn_all();
    let id = stage.start("aws-drill.yaml");
    let valid = Envelope::new(
        id.parse().expect("an execution id"),
        Some(ripcord::ids::WaveNumber(1)),
        Event::PollWave { seq: 0 },
        chrono::Utc::now(),
    );
    let text = valid.to_json();
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    json["schemaVersion"] = 2.into();
    let wrong_version = json.to_string();
    json["schemaVersion"] = 1.into();
    json["padding"] = "x".repeat(MAX_MESSAGE_BYTES - text.len() - 100).into();
    let oversized = json.to_string();
    assert!(oversized.len() > MAX_BODY_BYTES && oversized.len() <= MAX_MESSAGE_BYTES);
    let cases = [
        (
            "garbage",
            "garbage \u{fffd} ]] not JSON".to_owned(),
            "malformed JSON",
        ),
        (
            "truncated",
            text[..text.len() / 2].to_owned(),
            "malformed JSON: EOF while parsing",
        ),
        (
            "wrong version",
            wrong_version,
            "schema version 2 is not supported",
        ),
        (
            "oversized",
            oversized.clone(),
            "bytes a Ripcord message may be, so it was not read",
        ),
    ];
    let queues = ["launch", "poll", "post-actions", "metrics"];
    for queue in queues {
        for (_, body, _) in &cases {
            stage.send_raw(queue, body);
        }
    }
    let refused = stage
        .try_send_raw("launch", &"y".repeat(MAX_MESSAGE_BYTES + 1))
        .expect_err("SQS refuses a body over 1 MiB");
    assert!(
        refused.contains("Message must be shorter than"),
        "{refused}"
    );

    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    for queue in queues {
        let dead = stage.wait_for(
            &format!("the {queue} DLQ to hold the bad messages"),
            LIMIT,
            |s| {
                let dead = s.json(&["dlq", "list", queue, "--json"]);
                (dead.as_array()?.len() >= cases.len()).then_some(dead)
            },
        );
        let dead = dead.as_array().expect("a list");
        assert_eq!(
            dead.len(),
            cases.len(),
            "only the bad messages are dead on {queue}"
        );
        for (what, body, expected) in &cases {
            let found = dead
                .iter()
                .find(|d| {
                    let kept = d["body"].as_str().unwrap_or_default();
                    !kept.is_empty() && body.starts_with(kept)
                })
                .unwrap_or_else(|| panic!("the {what} message is not in the {queue} DLQ"));
            let reason = found["reason"].as_str().unwrap_or_default();
            assert!(
                reason.contains(expected),
                "the {what} message's reason on the {queue} DLQ should say {expected:?}: {reason}"
            );
            assert_eq!(
                found["receiveCount"], 1,
                "{what} on {queue}: dead-lettered at once"
            );
        }
    }
    assert_eq!(stage.jobs_per_wave(&id), one_job_per_wave());
    stage.assert_calls_within_policies();
}

/// The simulator for the capacity test: DRS takes eight servers in active
/// jobs, and launches take a few seconds of real time.
const TIGHT_QUOTA: &str = "seed: 11
time_scale: 10
job_pending: 5s
launch_duration: { min: 10s, max: 30s }
quotas: { servers_in_active_jobs: 8 }
";

/// Two launch workers admit waves from one DRS capacity ledger in DynamoDB
/// (conditional writes): three parallel waves of four against a quota of
/// eight never make DRS refuse a launch for its quota (the simulator would,
/// had the workers over-admitted), the third wave waits, and all complete
/// with one job per wave. The ledger ends empty.
#[test]
fn two_launch_workers_share_one_capacity_ledger() {
    let Some(mut stage) = Stage::with_scenario_text(TIGHT_QUOTA) else {
        return;
    };
    stage.quotas = Some(8);
    stage.spawn_all();
    let id = stage.start("parallel-quota.yaml");
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    let calls = stage.sim_calls();
    let refused: Vec<&serde_json::Value> = calls["startRecoveryCalls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["outcome"].to_string().contains("ServiceQuotaExceeded"))
        .collect();
    assert!(
        refused.is_empty(),
        "DRS refused launches for its quota: {refused:#?}"
    );
    assert_eq!(stage.jobs_per_wave(&id), one_job_per_wave());
    let url = stage.serve();
    let capacity: serde_json::Value = reqwest::blocking::get(format!("{url}/api/capacity"))
        .and_then(|r| r.json())
        .expect("/api/capacity");
    assert_eq!(capacity["usage"]["serversInUse"], 0, "{capacity:#}");
    assert_eq!(capacity["holds"], serde_json::json!([]), "{capacity:#}");
}

/// Drill clean-up on AWS: `ripcord cleanup --wait` against DynamoDB and SQS
/// (moto), DRS' TerminateRecoveryInstances through the wire protocol (the
/// simulator, which terminates the mirrored instances in moto's EC2).
#[test]
fn a_drill_is_cleaned_up_through_the_drs_wire_protocol() {
    let Some(mut stage) = Stage::new("happy-path.yaml") else {
        return;
    };
    stage.spawn_all();
    let id = stage.start("aws-drill.yaml");
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    let out = stage.ripcord_ok(&["cleanup", &id, "--requested-by", "aws-test", "--wait", "3m"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("clean-up COMPLETED"), "{text}");
    let cleaned = stage.json(&["status", &id, "--json"]);
    assert_eq!(cleaned["status"], "COMPLETED");
    // On AWS the caller's identity from STS follows the name given.
    let by = cleaned["cleanup"]["requestedBy"]
        .as_str()
        .unwrap_or_default();
    assert!(by.starts_with("aws-test (arn:aws:"), "{cleaned:#}");
    for server in servers(&cleaned) {
        assert_eq!(server["cleanup"]["status"], "TERMINATED", "{server:#}");
    }
    let terminations = stage.sim_calls()["calls"]["TerminateRecoveryInstances"].clone();
    assert_eq!(terminations, 3, "one call per wave: {terminations}");
}

/// `options.cleanup_previous` on AWS: the earlier drill's instance of one
/// server is found by source server and terminated through the DRS wire
/// protocol before the wave launches; the other server's leftover, a real
/// recovery's, is left alone.
#[test]
fn cleanup_previous_terminates_an_earlier_drill_s_instance_through_the_drs_wire_protocol() {
    let text = std::fs::read_to_string(scenario("happy-path.yaml")).expect("scenario")
        + "servers:\n  s-0a1b2c3d4e5f60001: { leftover_recovery_instance: true }\n  s-0a1b2c3d4e5f60002: { leftover_recovery: true }\n";
    let Some(mut stage) = Stage::with_scenario_text(&text) else {
        return;
    };
    stage.spawn_all();
    let id = stage.start("aws-cleanup-previous.yaml");
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    let servers = servers(&view);
    let earlier = &servers[0]["earlierDrillInstances"];
    assert_eq!(earlier[0]["status"], "TERMINATED", "{view:#}");
    assert!(
        earlier[0]["summary"].as_str().is_some_and(
            |s| s.starts_with("terminated s-0a1b2c3d4e5f60001's leftover drill instance")
        ),
        "{earlier:#}"
    );
    assert!(
        servers[1].get("earlierDrillInstances").is_none(),
        "{view:#}"
    );
    let terminations = stage.sim_calls()["calls"]["TerminateRecoveryInstances"].clone();
    assert_eq!(terminations, 1, "one call for the wave: {terminations}");
}
