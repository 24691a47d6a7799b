//! `ripcord cleanup`: a recovery is refused without --confirm-recovery
//! (exit 3, nothing sent), a drill's clean-up is followed with --wait to
//! every instance terminated (with workers on the same database), and a
//! second request is refused.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{Processes, RIPCORD, embedded_worker};

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

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `ripcord run PLAN` (a drill, or with --confirm-recovery a recovery of
/// the same servers) to its end; its execution id.
fn run(db: &Path, plan: &Path, scenario: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "run",
        plan.to_str().unwrap(),
        "--scenario",
        scenario.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = ripcord(&args, db);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .expect("the id first")
        .trim()
        .to_owned()
}

#[test]
fn cleanup_refuses_a_recovery_then_cleans_a_drill_up_and_refuses_a_second_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("drill.db");
    let scenario = examples().join("scenarios/happy-path.yaml");
    let drill_plan = examples().join("approval-drill.yaml");
    let recovery_plan = dir.path().join("recovery.yaml");
    let recovery = std::fs::read_to_string(&drill_plan)
        .unwrap()
        .replace("mode: drill", "mode: recovery")
        .replace("    wait_for_approval: true\n", "");
    std::fs::write(&recovery_plan, recovery).unwrap();

    let recovered = run(&db, &recovery_plan, &scenario, &["--confirm-recovery"]);
    let refused = ripcord(&["cleanup", &recovered], &db);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    assert!(
        text(&refused).contains("--confirm-recovery"),
        "{}",
        text(&refused)
    );

    let drill = run(&db, &examples().join("drill.yaml"), &scenario, &[]);
    let mut workers = Processes::new(dir.path());
    for kind in ["launch", "poll", "metrics"] {
        workers.spawn(kind, embedded_worker(kind, &db, &scenario));
    }
    let cleaned = ripcord(
        &["cleanup", &drill, "--requested-by", "carol", "--wait", "2m"],
        &db,
    );
    assert!(cleaned.status.success(), "{}", text(&cleaned));
    assert!(
        text(&cleaned).contains("clean-up COMPLETED: 0 terminating, 7 terminated, 0 failed"),
        "{}",
        text(&cleaned)
    );
    let status = ripcord(&["status", &drill], &db);
    assert!(
        text(&status).contains("Clean-up: COMPLETED by carol"),
        "{}",
        text(&status)
    );
    let again = ripcord(&["cleanup", &drill], &db);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert!(text(&again).contains("already"), "{}", text(&again));
}
