//! The health gauges the deployment's alarms watch (docs/monitoring.md),
//! on the embedded backend, where the metrics sink is a table: `ripcord
//! serve --workers` publishes StuckExecutions, WorkerPollAge per kind and
//! LongestCapacityWait every `--health-metrics-every`, dimension
//! `Deployment` = the name prefix, and ServiceErrorRate (the worst service,
//! and per `Service` called: here the simulator's), and its metrics worker
//! adds FailedServers with only that dimension for each execution it reports.

use ripcord_embedded::{EmbeddedBackend, EmbeddedConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{Processes, RIPCORD, start, status_in_db};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The latest value of each (metric, dimensions) published with only the
/// `Deployment` dimension or it and `WorkerKind` or `Service`.
fn deployment_gauges(db: &Path, deployment: &str) -> BTreeMap<String, f64> {
    let backend = EmbeddedBackend::open(db, EmbeddedConfig::default()).expect("the database");
    let mut latest = BTreeMap::new();
    for stored in backend.stored_metrics(None).expect("the metrics table") {
        let d = stored.datum;
        if d.dimensions.get("Deployment").map(String::as_str) != Some(deployment) {
            continue;
        }
        let key = match d
            .dimensions
            .get("WorkerKind")
            .or_else(|| d.dimensions.get("Service"))
        {
            Some(kind) => format!("{}/{kind}", d.name),
            None => d.name.clone(),
        };
        assert_eq!(stored.namespace, "DRS/Orchestration");
        latest.insert(key, d.value);
    }
    latest
}

#[test]
fn serve_publishes_the_health_gauges_and_the_metrics_worker_the_deployment_s_failed_servers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ripcord.db");
    let mut processes = Processes::new(dir.path());
    let mut serve = Command::new(RIPCORD);
    serve
        .args([
            "serve",
            "--port",
            "0",
            "--workers",
            "--health-metrics-every",
            "1s",
            "--db",
        ])
        .arg(&db)
        .arg("--scenario")
        .arg(examples().join("scenarios/happy-path.yaml"))
        .env("RIPCORD_PREFIX", "drill-7")
        .env("RUST_LOG", "warn");
    processes.spawn_serve(serve);
    let id = start(&db, &examples().join("drill.yaml"));

    let deadline = Instant::now() + Duration::from_secs(120);
    let gauges = loop {
        processes.assert_running();
        let settled = status_in_db(&db, &id).is_some_and(|v| v["status"] == "COMPLETED");
        let gauges = deployment_gauges(&db, "drill-7");
        if settled
            && gauges.contains_key("FailedServers")
            && gauges.contains_key("ServiceErrorRate/simulated-drs")
            && gauges.len() >= 8
        {
            break gauges;
        }
        assert!(
            Instant::now() < deadline,
            "no COMPLETED drill and eight gauges within 120 s: {gauges:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(gauges["StuckExecutions"], 0.0, "{gauges:?}");
    assert_eq!(gauges["LongestCapacityWait"], 0.0, "{gauges:?}");
    assert_eq!(gauges["FailedServers"], 0.0, "{gauges:?}");
    // The happy path's simulator injects no faults.
    assert_eq!(gauges["ServiceErrorRate"], 0.0, "{gauges:?}");
    assert_eq!(gauges["ServiceErrorRate/simulated-drs"], 0.0, "{gauges:?}");
    for kind in ["launch", "poll", "post-actions", "metrics"] {
        let age = gauges[&format!("WorkerPollAge/{kind}")];
        assert!(
            age < 60.0,
            "the {kind} workers polled {age} s ago: {gauges:?}"
        );
    }
}
