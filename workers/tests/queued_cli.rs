//! `ripcord status ID` right after `ripcord start`, before any launch
//! worker has taken the start up: the execution is QUEUED, not yet started,
//! with when and by whom it was submitted and what to check; a truly
//! unknown id is still "no execution", with what to do; once a launch
//! worker runs, status shows the execution itself.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::{Processes, RIPCORD, embedded_worker, start, status_in_db};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn ripcord(args: &[&str], db: &std::path::Path) -> Output {
    Command::new(RIPCORD)
        .args(args)
        .arg("--db")
        .arg(db)
        .env("RIPCORD_REQUESTED_BY", "alice")
        .output()
        .expect("the ripcord binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_started_execution_is_queued_until_a_launch_worker_takes_it_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("queue.db");
    let plan = examples().join("drill.yaml");
    let started = ripcord(&["start", plan.to_str().unwrap()], &db);
    assert!(started.status.success(), "{}", text(&started.stderr));
    let id = text(&started.stdout).trim().to_owned();

    let status = ripcord(&["status", &id], &db);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let table = text(&status.stdout);
    assert!(
        table.contains(&format!("Execution {id}: QUEUED, not yet started")),
        "{table}"
    );
    assert!(table.contains(" by alice"), "{table}");
    assert!(table.contains("no launch worker has polled"), "{table}");
    assert!(table.contains("`ripcord worker launch`"), "{table}");

    let json = ripcord(&["status", &id, "--json"], &db);
    let view: serde_json::Value = serde_json::from_slice(&json.stdout).expect("status JSON");
    assert_eq!(view["status"], "QUEUED", "{view:#}");
    assert_eq!(view["executionId"], id.as_str());
    assert_eq!(view["planName"], "payments-drill");
    assert_eq!(view["requestedBy"], "alice");
    assert!(view["submittedAt"].is_string(), "{view:#}");

    // Nothing to cancel yet: refused, saying why.
    let cancel = ripcord(&["cancel", &id], &db);
    assert!(!cancel.status.success());
    assert!(
        text(&cancel.stderr).contains("is queued, not yet started"),
        "{}",
        text(&cancel.stderr)
    );

    // A truly unknown id is no execution, with what to do.
    let unknown = ripcord(&["status", "11111111-2222-4333-8444-555555555555"], &db);
    assert!(!unknown.status.success());
    let said = text(&unknown.stderr);
    assert!(
        said.contains("no execution 11111111-2222-4333-8444-555555555555"),
        "{said}"
    );
    assert!(
        said.contains("none was queued") && said.contains("ripcord list"),
        "{said}"
    );

    // A launch worker takes it up: status shows the execution, no longer queued.
    let mut processes = Processes::new(dir.path());
    let scenario = examples().join("scenarios/happy-path.yaml");
    processes.spawn("launch", embedded_worker("launch", &db, &scenario));
    let deadline = Instant::now() + Duration::from_secs(60);
    let view = loop {
        processes.assert_running();
        if let Some(view) = status_in_db(&db, &id) {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "the launch worker did not take the start up in 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ne!(view["status"], "QUEUED", "{view:#}");
    assert_eq!(view["requestedBy"], "alice", "{view:#}");
    assert!(view["waves"].is_array(), "{view:#}");
    // `start` as the other tests call it also lands in the same file.
    assert_eq!(start(&db, &plan).len(), 36);
}
