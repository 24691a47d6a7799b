//! Who started a drill is recorded from the OS, not from $USER alone: a
//! drill run from cron, systemd or a container (no USER, no LOGNAME) still
//! names a real user in its record and in the report an auditor receives;
//! `--requested-by` wins over it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RIPCORD: &str = env!("CARGO_BIN_EXE_ripcord");

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// `ripcord ARGS --db DB` with no USER, LOGNAME or RIPCORD_REQUESTED_BY.
fn ripcord_without_user(args: &[&str], db: &Path) -> Output {
    Command::new(RIPCORD)
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("RIPCORD_REQUESTED_BY")
        .output()
        .expect("the ripcord binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The OS user the tests run as, by `id -un` (the password database).
fn os_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id runs");
    text(&out.stdout).trim().to_owned()
}

#[test]
fn run_without_user_records_the_os_user_in_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("drill.db");
    let plan = examples().join("drill.yaml");
    let scenario = examples().join("scenarios/happy-path.yaml");
    let run = ripcord_without_user(
        &[
            "run",
            plan.to_str().unwrap(),
            "--scenario",
            scenario.to_str().unwrap(),
        ],
        &db,
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    let id = text(&run.stdout).lines().next().unwrap().trim().to_owned();
    let report = std::fs::read_to_string(dir.path().join(format!("reports/{id}.json"))).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let user = os_user();
    assert!(!user.is_empty() && user != "unknown");
    assert_eq!(report["requestedBy"], user.as_str(), "{report:#}");
    let md = std::fs::read_to_string(dir.path().join(format!("reports/{id}.md"))).unwrap();
    assert!(md.contains(&format!("| Started by | {user} |")), "{md}");
}

#[test]
fn start_records_the_os_user_and_the_flag_wins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("queue.db");
    let plan = examples().join("drill.yaml");
    let plan = plan.to_str().unwrap();
    let start = ripcord_without_user(&["start", plan], &db);
    assert!(start.status.success(), "{}", text(&start.stderr));
    let id = text(&start.stdout).trim().to_owned();
    let status = ripcord_without_user(&["status", &id, "--json"], &db);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let view: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(view["requestedBy"], os_user().as_str(), "{view:#}");

    let flagged = ripcord_without_user(&["start", plan, "--requested-by", "oncall-bot"], &db);
    assert!(flagged.status.success(), "{}", text(&flagged.stderr));
    let id = text(&flagged.stdout).trim().to_owned();
    let status = ripcord_without_user(&["status", &id, "--json"], &db);
    let view: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(view["requestedBy"], "oncall-bot", "{view:#}");
}
