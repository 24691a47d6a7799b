//! Ripcord on the AWS wire protocols: the four workers run as separate
//! `ripcord worker --backend aws` processes against SQS, DynamoDB,
//! EventBridge, EC2 and CloudWatch in moto, and DRS and SSM served by
//! `ripcord sim serve` (the simulator speaking restJson1 and awsJson1_1).
//! Nothing here is embedded: every message, record and call crosses HTTP
//! through the official SDK clients.
//!
//! The services are started outside the tests (`.ci/run` does it) and
//! named by `RIPCORD_TEST_MOTO_URL` and `RIPCORD_TEST_SIM_URL`; without them
//! the tests say they are skipped, unless `RIPCORD_REQUIRE_AWS_TESTS=1`.
//! The tests reset moto and the simulator, so they run one at a time.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const RIPCORD: &str = env!("CARGO_BIN_EXE_ripcord");
const RUNBOOK: &str = "com.example.dr-runbook";
/// moto's account.
const ACCOUNT: &str = "123456789012";

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
    dir: tempfile::TempDir,
    workers: Vec<(String, Child)>,
    http: reqwest::blocking::Client,
    _serial: MutexGuard<'static, ()>,
}

fn required(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().trim_end_matches('/').to_owned()),
        _ => {
            if std::env::var("RIPCORD_REQUIRE_AWS_TESTS").is_ok_and(|v| v == "1") {
                panic!("{var} is not set but RIPCORD_REQUIRE_AWS_TESTS=1 (see .ci/run)");
            }
            eprintln!("skipped: {var} is not set (.ci/run starts moto and `ripcord sim serve`)");
            None
        }
    }
}

impl Stage {
    fn new(scenario_file: &str) -> Option<Stage> {
        let moto = required("RIPCORD_TEST_MOTO_URL")?;
        let sim = required("RIPCORD_TEST_SIM_URL")?;
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
        let text = std::fs::read_to_string(scenario(scenario_file)).expect("scenario");
        ok(
            http.post(format!("{sim}/sim-api/reset")).body(text).send(),
            "simulator reset",
        );
        let prefix = format!("it{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let stage = Stage {
            moto,
            sim,
            prefix,
            dir: tempfile::tempdir().expect("temp dir"),
            workers: Vec::new(),
            http,
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
            .env("RUST_LOG", "warn,ripcord=info,ripcord_workers=info")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &self.moto)
            .env("AWS_ENDPOINT_URL_DRS", &self.sim)
            .env("AWS_ENDPOINT_URL_SSM", &self.sim)
            .env("RIPCORD_BACKEND", "aws")
            .env("RIPCORD_PREFIX", &self.prefix)
            .env("RIPCORD_PLANS_DIR", fixtures())
            .env("RIPCORD_TRIGGER_SOURCES", RUNBOOK)
            .env("RIPCORD_TRIGGER_ACCOUNTS", ACCOUNT)
            .env("RIPCORD_VISIBILITY_TIMEOUT", "2s")
            .env("RIPCORD_RECEIVE_WAIT", "1s")
            .stdin(Stdio::null());
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
            let name = format!("{kind}-{}", self.workers.len());
            let log = std::fs::File::create(self.dir.path().join(format!("{name}.log")))
                .expect("log file");
            let child = self
                .command(&["worker", kind])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("the ripcord binary starts");
            self.workers.push((name, child));
        }
    }

    fn spawn_all(&mut self) {
        // Two launch workers: still one recovery job per wave.
        self.spawn(&["launch", "launch", "poll", "post-actions", "metrics"]);
    }

    fn assert_running(&mut self) {
        for (name, child) in &mut self.workers {
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("worker {name} exited early with {status}");
            }
        }
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
            }
            assert!(
                Instant::now() < deadline,
                "execution {id} did not finish in {limit:?}"
            );
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
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let settings = self.settings();
            let config = ripcord_aws::testing::test_sdk_config(&settings).await;
            let client = aws_sdk_eventbridge::Client::new(&config);
            let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(settings.names.event_bus())
                .source(source)
                .detail_type("Ripcord Start Execution")
                .detail(detail.to_string())
                .build();
            let out = client
                .put_events()
                .entries(entry)
                .send()
                .await
                .expect("PutEvents");
            assert_eq!(out.failed_entry_count, 0, "{out:?}");
        });
    }

    /// Sends `body` as is to one of the deployment's queues.
    fn send_raw(&self, queue: &str, body: &str) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let config = ripcord_aws::testing::test_sdk_config(&self.settings()).await;
            let sqs = aws_sdk_sqs::Client::new(&config);
            let url = sqs
                .get_queue_url()
                .queue_name(format!("{}-{queue}", self.prefix))
                .send()
                .await
                .expect("GetQueueUrl")
                .queue_url
                .expect("a queue URL");
            sqs.send_message()
                .queue_url(url)
                .message_body(body)
                .send()
                .await
                .expect("SendMessage");
        });
    }

    fn settings(&self) -> ripcord_aws::AwsSettings {
        ripcord_aws::AwsSettings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(self.moto.clone()),
            max_attempts: Some(1),
            names: ripcord_aws::ResourceNames::new(self.prefix.clone()),
        }
    }

    fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            aws_sdk_dynamodb::Client::new(
                &ripcord_aws::testing::test_sdk_config(&self.settings()).await,
            )
        })
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

impl Drop for Stage {
    fn drop(&mut self) {
        for (_, child) in &mut self.workers {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for (name, _) in &self.workers {
                let log = std::fs::read_to_string(self.dir.path().join(format!("{name}.log")))
                    .unwrap_or_default();
                eprintln!("--- worker {name} stderr ---\n{log}");
            }
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

#[test]
fn happy_path_on_sqs_dynamodb_and_the_drs_wire_protocol() {
    let Some(mut stage) = Stage::new("happy-path.yaml") else {
        return;
    };
    stage.spawn_all();
    let id = stage.start("aws-drill.yaml");
    let view = stage.settled(&id, LIMIT);
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    for server in servers(&view) {
        assert_eq!(server["launchStatus"], "COMPLETED", "{server:#}");
        // Looked up in EC2 (moto), where the simulator launched it.
        assert!(
            server["privateIp"].is_string(),
            "no EC2 details: {server:#}"
        );
    }
    let expected = [
        ("1".to_owned(), 1),
        ("2".to_owned(), 1),
        ("3".to_owned(), 1),
    ]
    .into();
    assert_eq!(stage.jobs_per_wave(&id), expected);
    for queue in ["launch", "poll", "post-actions", "metrics"] {
        assert_eq!(
            stage.json(&["dlq", "list", queue, "--json"]),
            serde_json::json!([]),
            "{queue}"
        );
    }
}

#[test]
fn a_completed_job_with_failed_servers_fails_on_aws_too() {
    let Some(mut stage) = Stage::new("job-completed-with-failures.yaml") else {
        return;
    };
    stage.spawn_all();
    let id = stage.start("aws-drill.yaml");
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
    let expected = [
        ("1".to_owned(), 1),
        ("2".to_owned(), 1),
        ("3".to_owned(), 1),
    ]
    .into();
    assert_eq!(stage.jobs_per_wave(&id), expected);
    let faults = stage.sim_calls()["faultsInjected"].clone();
    assert!(
        faults
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["code"] == "ThrottlingException")),
        "the storm threw nothing: {faults:#}"
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

    // The same key again, and a source off the allow-list.
    stage.put_trigger(RUNBOOK, drill("INC-7-drill"));
    stage.put_trigger("com.example.intruder", drill("INC-8-drill"));
    let refused = stage.wait_for("the refusal", LIMIT, |s| {
        let triggers = s.json(&["triggers", "--json"]);
        triggers
            .as_array()?
            .iter()
            .find(|t| t["idempotencyKey"] == "INC-8-drill")
            .cloned()
    });
    assert_eq!(refused["outcome"], "REFUSED");
    assert!(
        refused["reason"]
            .as_str()
            .is_some_and(|r| r.contains("com.example.intruder"))
    );
    // Let the duplicate be handled, then count: one trigger per key, one
    // execution, three recovery jobs in all.
    stage.wait_for("the launch queue to drain", LIMIT, |s| {
        let out = s.ripcord(&["dlq", "list", "launch", "--json"]);
        out.status.success().then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    let triggers = stage.json(&["triggers", "--json"]);
    assert_eq!(triggers.as_array().map(Vec::len), Some(2), "{triggers:#}");
    let list = String::from_utf8(stage.ripcord_ok(&["list"]).stdout).expect("utf-8");
    assert_eq!(list.lines().count(), 1, "{list}");
    let expected = [
        ("1".to_owned(), 1),
        ("2".to_owned(), 1),
        ("3".to_owned(), 1),
    ]
    .into();
    assert_eq!(stage.jobs_per_wave(&id), expected);
}

#[test]
fn poison_messages_land_in_the_dlq_and_a_replay_completes_the_execution() {
    let Some(mut stage) = Stage::new("happy-path.yaml") else {
        return;
    };
    // The store is gone (an operator error): the start fails on every
    // receive until SQS moves it to the launch DLQ.
    let table = format!("{}-executions", stage.prefix);
    let dynamodb = stage.dynamodb();
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(dynamodb.delete_table().table_name(&table).send())
        .expect("DeleteTable");
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
    let expected = [
        ("1".to_owned(), 1),
        ("2".to_owned(), 1),
        ("3".to_owned(), 1),
    ]
    .into();
    assert_eq!(stage.jobs_per_wave(&id), expected);
}
