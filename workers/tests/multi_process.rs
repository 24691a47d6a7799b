//! A drill carried out by separate `ripcord worker` processes on one
//! database file: two launch workers, a poll, a post-actions and a metrics
//! worker, and `ripcord start` to queue the plan. They share the queues, the
//! store and the simulated world through the file; the drill completes only
//! if a job started by one process is seen by the others, and the stored
//! world shows one StartRecovery job per wave despite two launch workers.

use ripcord_sim::StartRecoveryCall;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod support;

use support::{Processes, RIPCORD, embedded_worker, start, status_in_db};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// `ripcord worker KIND` on `db` with `scenario`, and `extra` options.
fn worker(kind: &str, db: &Path, scenario: &Path, extra: &[&std::ffi::OsStr]) -> Command {
    let mut command = embedded_worker(kind, db, scenario);
    command.args(extra);
    command
}

fn ripcord(args: &[&str], db: &Path) -> Output {
    let output = Command::new(RIPCORD)
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("the ripcord binary runs");
    assert!(
        output.status.success(),
        "ripcord {args:?} failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(args: &[&str], db: &Path) -> serde_json::Value {
    let output = ripcord(args, db);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "ripcord {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A loopback address no one listens on now.
fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").to_string()
}

/// Starts `ripcord serve` on `db` (no workers of its own), reads /healthz
/// once its heartbeat-fed answer is healthy (or after 15 s), and stops it.
fn serve_health(db: &Path, logs: &Path) -> serde_json::Value {
    let mut serve = Processes::new(logs);
    let mut command = Command::new(RIPCORD);
    command.args(["serve", "--port", "0", "--db"]).arg(db);
    let url = serve.spawn_serve(command);
    let deadline = Instant::now() + Duration::from_secs(15);
    // `serve` is stopped when it drops, on the way out.
    loop {
        let health: serde_json::Value = reqwest::blocking::get(format!("{url}/healthz"))
            .and_then(|r| r.json())
            .expect("/healthz answers JSON");
        if health["status"] == "HEALTHY" || Instant::now() > deadline {
            break health;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn worker_processes_share_one_simulated_world() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ripcord.db");
    // 300x: the drill's ~15 simulated minutes take a few seconds.
    let scenario = examples().join("scenarios/happy-path.yaml");
    let mut workers = Processes::new(dir.path());
    for kind in ["launch", "launch", "post-actions"] {
        workers.spawn(kind, worker(kind, &db, &scenario, &[]));
    }
    // The poll worker serves its own Prometheus metrics.
    let metrics_addr = free_address();
    workers.spawn(
        "poll",
        worker(
            "poll",
            &db,
            &scenario,
            &["--metrics-addr".as_ref(), metrics_addr.as_ref()],
        ),
    );
    // The metrics worker also writes each drill report when it settles.
    let reports = dir.path().join("reports");
    workers.spawn(
        "metrics",
        worker(
            "metrics",
            &db,
            &scenario,
            &["--report-dir".as_ref(), reports.as_os_str()],
        ),
    );

    let plan = examples().join("drill.yaml");
    let id = start(&db, &plan);
    let id = id.as_str();
    assert_eq!(id.len(), 36, "start prints the execution id, got {id:?}");

    let deadline = Instant::now() + Duration::from_secs(120);
    let view = loop {
        workers.assert_running();
        // Until the launch worker has created the execution, status says so.
        if let Some(view) = status_in_db(&db, id)
            && matches!(
                view["status"].as_str(),
                Some("COMPLETED" | "FAILED" | "CANCELLED" | "TIMEOUT")
            )
        {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "execution {id} did not finish within 120 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    assert_eq!(view["status"], "COMPLETED", "{view:#}");

    // `ripcord serve` on the same file sees every worker process alive.
    let health = serve_health(&db, dir.path());
    assert_eq!(health["status"], "HEALTHY", "{health:#}");
    let live: Vec<u64> = health["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .map(|w| w["liveWorkers"].as_u64().expect("a count"))
        .collect();
    assert_eq!(
        live,
        [2, 1, 1, 1],
        "launch, poll, post-actions, metrics: {health:#}"
    );
    let metrics = reqwest::blocking::get(format!("http://{metrics_addr}/metrics"))
        .and_then(|r| r.text())
        .expect("the poll worker's metrics");
    let polled_done = metrics
        .lines()
        .find(|l| l.starts_with(r#"ripcord_worker_messages_total{queue="poll",outcome="done"}"#))
        .unwrap_or_else(|| panic!("no poll steps counted:\n{metrics}"));
    let count: f64 = polled_done.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count > 0.0, "{polled_done}");

    let waves = view["waves"].as_array().expect("waves");
    assert_eq!(waves.len(), 3);
    for wave in waves {
        assert_eq!(wave["status"], "COMPLETED", "{wave:#}");
        for server in wave["servers"].as_array().expect("servers") {
            assert_eq!(server["launchStatus"], "COMPLETED", "{server:#}");
        }
    }

    // One StartRecovery job per wave, although two launch workers ran.
    let world = json(&["sim", "calls", "--json"], &db);
    let calls: Vec<StartRecoveryCall> =
        serde_json::from_value(world["startRecoveryCalls"].clone()).expect("start calls");
    let mut jobs_per_wave: BTreeMap<String, usize> = BTreeMap::new();
    for call in &calls {
        assert_eq!(call.tags["ripcord:execution-id"], id);
        if call.outcome.job_id().is_some() {
            *jobs_per_wave
                .entry(call.tags["ripcord:wave"].clone())
                .or_default() += 1;
        }
    }
    let expected: BTreeMap<String, usize> = ["1", "2", "3"]
        .into_iter()
        .map(|w| (w.to_owned(), 1))
        .collect();
    assert_eq!(jobs_per_wave, expected, "{calls:#?}");
    // Every launched server's result was pushed once, by the poll worker.
    assert_eq!(world["launchResultsPushed"], 7, "{world:#}");

    for queue in ["launch", "poll", "post-actions", "metrics"] {
        let dead = json(&["dlq", "list", queue, "--json"], &db);
        assert_eq!(dead, serde_json::json!([]), "{queue} dead letters");
    }

    // The metrics worker wrote the settled execution's report.
    let report_file = reports.join(format!("{id}.json"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !report_file.exists() {
        workers.assert_running();
        assert!(
            Instant::now() < deadline,
            "the metrics worker wrote no report into {}",
            reports.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_file).expect("readable"))
            .expect("the report is JSON");
    assert_eq!(report["status"], "COMPLETED", "{report:#}");
    assert_eq!(report["settled"], true);
    for ext in ["md", "svg", "html"] {
        assert!(reports.join(format!("{id}.{ext}")).exists(), "{ext}");
    }
}

#[test]
fn start_refuses_an_unconfirmed_recovery_and_a_second_scenario() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ripcord.db");
    let drill = std::fs::read_to_string(examples().join("drill.yaml")).expect("example plan");
    let recovery = dir.path().join("recovery.yaml");
    std::fs::write(&recovery, drill.replace("mode: drill", "mode: recovery")).expect("write");

    let refused = Command::new(RIPCORD)
        .arg("start")
        .arg(&recovery)
        .arg("--db")
        .arg(&db)
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--confirm-recovery"));
    assert!(
        !db.exists(),
        "nothing was queued, not even a database created"
    );

    let scenarios = examples().join("scenarios");
    let plan = examples().join("drill.yaml");
    let start = |scenario: &str| {
        Command::new(RIPCORD)
            .arg("start")
            .arg(&plan)
            .arg("--scenario")
            .arg(scenarios.join(scenario))
            .arg("--db")
            .arg(&db)
            .output()
            .expect("runs")
    };
    assert!(start("happy-path.yaml").status.success());
    // The stored world keeps its scenario; another one is refused.
    let other = start("throttling-storm.yaml");
    assert_eq!(other.status.code(), Some(2));
    let message = String::from_utf8_lossy(&other.stderr);
    assert!(message.contains("happy-path.yaml"), "{message}");
    assert!(message.contains("same --scenario"), "{message}");
    let listed = ripcord(&["sim", "calls", "--json"], &db);
    let world: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert!(
        world["scenario"]
            .as_str()
            .unwrap()
            .ends_with("happy-path.yaml")
    );
}
