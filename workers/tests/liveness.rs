//! The container health check of a worker task: `ripcord worker KIND
//! --liveness-file PATH` touches PATH as it polls its queue, and `ripcord
//! healthcheck` passes while it does. A worker whose loop has stopped (here
//! frozen with SIGSTOP, as a process wedged on a call that never returns)
//! stops touching it, and the check fails with a sentence saying why.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod support;

use support::{Processes, RIPCORD, embedded_worker};

fn healthcheck(file: &Path, max_age: &str) -> Output {
    Command::new(RIPCORD)
        .args(["healthcheck", "--max-age", max_age, "--liveness-file"])
        .arg(file)
        .output()
        .expect("ripcord healthcheck runs")
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {sig} {pid} failed");
}

#[test]
fn a_polling_worker_passes_the_healthcheck_and_a_wedged_one_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ripcord-live");
    let scenario =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/scenarios/happy-path.yaml");

    let never = healthcheck(&file, "120s");
    assert_eq!(never.status.code(), Some(1));
    let said = String::from_utf8_lossy(&never.stderr);
    assert!(
        said.contains("has not polled its queue since it started"),
        "{said}"
    );

    let mut processes = Processes::new(dir.path());
    let mut command = embedded_worker("poll", &dir.path().join("ripcord.db"), &scenario);
    command.env("RIPCORD_LIVENESS_FILE", &file);
    let name = processes.spawn("poll", command);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !file.exists() {
        processes.assert_running();
        assert!(
            Instant::now() < deadline,
            "the worker never touched {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let alive = healthcheck(&file, "8s");
    assert!(
        alive.status.success(),
        "{}",
        String::from_utf8_lossy(&alive.stderr)
    );
    assert!(
        String::from_utf8_lossy(&alive.stdout).starts_with("alive: the worker polled its queue")
    );

    // Its heartbeat is due every 5 s: it keeps the file fresh while it runs.
    std::thread::sleep(Duration::from_secs(10));
    assert!(
        healthcheck(&file, "8s").status.success(),
        "a running worker keeps its file fresh"
    );

    let pid = processes.pid(&name);
    signal(pid, "-STOP");
    std::thread::sleep(Duration::from_secs(11));
    let wedged = healthcheck(&file, "8s");
    signal(pid, "-CONT");
    assert_eq!(wedged.status.code(), Some(1));
    let said = String::from_utf8_lossy(&wedged.stderr);
    assert!(
        said.starts_with("unhealthy: the worker last polled its queue")
            && said.contains("its receive loop is stopped or wedged"),
        "{said}"
    );
}
