//! `ripcord run` writes the drill report when the drill is over, and
//! `ripcord report` prints or writes it again from the database; unknown
//! ids and missing databases are refused with what to do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RIPCORD: &str = env!("CARGO_BIN_EXE_ripcord");

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn ripcord(args: &[&str], db: &Path) -> Output {
    Command::new(RIPCORD)
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("the ripcord binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn run_writes_the_report_and_report_prints_it_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("drill.db");
    let plan = examples().join("drill.yaml");
    let scenario = examples().join("scenarios/happy-path.yaml");
    let run = ripcord(
        &[
            "run",
            plan.to_str().unwrap(),
            "--scenario",
            scenario.to_str().unwrap(),
        ],
        &db,
    );
    assert!(run.status.success(), "{}{}", stdout(&run), stderr(&run));
    let out = stdout(&run);
    let id = out.lines().next().expect("the id first").trim().to_owned();
    assert!(out.contains("Measured RTO: "), "{out}");
    // Default: `reports` beside the database.
    let reports = dir.path().join("reports");
    for ext in ["md", "svg", "html", "json"] {
        let path = reports.join(format!("{id}.{ext}"));
        assert!(path.exists(), "{} is missing", path.display());
        assert!(out.contains(&path.display().to_string()), "{out}");
    }
    let written = std::fs::read_to_string(reports.join(format!("{id}.json"))).unwrap();
    let report: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(report["schemaVersion"], 1);
    assert_eq!(report["status"], "COMPLETED");
    assert_eq!(report["planName"], "payments-drill");
    assert!(report["rto"]["measuredSeconds"].as_f64().unwrap() > 0.0);
    // The example plan's 30 m target holds for the happy path.
    assert_eq!(report["rto"]["outcome"], "MET", "{report:#}");

    // `ripcord report` reads the same records: the same JSON.
    let again = ripcord(&["report", &id, "--format", "json"], &db);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again), written);

    // Markdown to a file: its timeline beside it.
    let md = dir.path().join("drill report.md");
    let to_file = ripcord(
        &[
            "report",
            &id,
            "--format",
            "md",
            "--output",
            md.to_str().unwrap(),
        ],
        &db,
    );
    assert!(to_file.status.success(), "{}", stderr(&to_file));
    let svg = dir.path().join("drill report.svg");
    assert!(svg.exists());
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("](drill%20report.svg)"), "{text}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg "));

    let html = ripcord(&["report", &id, "--format", "html"], &db);
    assert!(stdout(&html).starts_with("<!DOCTYPE html>"));

    // `ripcord list` names statuses as every other view does, and filters
    // like the API.
    let list = stdout(&ripcord(&["list"], &db));
    assert!(list.starts_with(&format!("{id}  COMPLETED ")), "{list}");
    let done = ripcord(&["list", "--status", "completed", "--json"], &db);
    let items: serde_json::Value = serde_json::from_str(&stdout(&done)).unwrap();
    assert_eq!(items[0]["executionId"], id.as_str(), "{items:#}");
    assert_eq!(items[0]["status"], "COMPLETED", "{items:#}");
    let running = ripcord(&["list", "--status", "IN_PROGRESS", "--json"], &db);
    assert_eq!(stdout(&running).trim(), "[]");
    let wrong = ripcord(&["list", "--status", "DONE"], &db);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("IN_PROGRESS"), "{}", stderr(&wrong));
}

#[test]
fn report_refuses_unknown_ids_and_missing_databases() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("none.db");
    let missing = ripcord(&["report", "3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f"], &db);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no Ripcord database"),
        "{}",
        stderr(&missing)
    );

    let bad = ripcord(&["report", "yesterday"], &db);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("is not an execution id"),
        "{}",
        stderr(&bad)
    );

    // An existing database without that execution.
    let plan = examples().join("drill.yaml");
    let started = ripcord(&["start", plan.to_str().unwrap()], &db);
    assert!(started.status.success(), "{}", stderr(&started));
    let unknown = ripcord(&["report", "3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f"], &db);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("ripcord list"),
        "{}",
        stderr(&unknown)
    );
}
