//! `ripcord retry`, `skip`, `pause` and `resume` on a drill that failed:
//! what does not apply exits non-zero with the reason and what to do, and
//! queues nothing; what applies is queued for the launch worker.

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
        .env("USER", "dr-lead")
        .output()
        .expect("the ripcord binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn operator_commands_that_do_not_apply_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("drill.db");
    let plan = examples().join("drill.yaml");
    let scenario = examples().join("scenarios/one-server-fails.yaml");
    let run = ripcord(
        &[
            "run",
            plan.to_str().unwrap(),
            "--scenario",
            scenario.to_str().unwrap(),
        ],
        &db,
    );
    let out = text(&run.stdout);
    let id = out.lines().next().expect("the id first").trim().to_owned();
    assert!(out.contains("FAILED"), "{out}");

    for (args, says) in [
        (
            vec!["retry", &id, "--wave", "1"],
            "wave 1 is COMPLETED, not FAILED",
        ),
        (
            vec![
                "retry",
                &id,
                "--wave",
                "2",
                "--server",
                "s-0a1b2c3d4e5f60011",
            ],
            "is LAUNCHED, not FAILED",
        ),
        (
            vec!["skip", &id, "--wave", "3", "--reason", "x"],
            "wave 3 is CANCELLED",
        ),
        (vec!["resume", &id], "is FAILED: it is over"),
        (vec!["pause", &id], "is FAILED: it is over"),
    ] {
        let o = ripcord(&args, &db);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("what to do: "), "{args:?}: {err}");
    }
    let status = ripcord(&["status", &id, "--json"], &db);
    let view: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(view["status"], "FAILED");
    assert!(view.get("operatorActions").is_none(), "{view}");

    let o = ripcord(
        &["retry", &id, "--wave", "2", "--reason", "capacity is back"],
        &db,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("retry requested for"),
        "{}",
        text(&o.stdout)
    );
    // `ripcord run` has ended: no launch worker polls this database, so
    // the retry waits on the queue, and the command says what to start.
    assert!(
        text(&o.stderr).contains("no launch worker is polling")
            && text(&o.stderr).contains("ripcord worker launch"),
        "{}",
        text(&o.stderr)
    );
}
