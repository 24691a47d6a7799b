//! The Ripcord processes of the dashboard's browser tests: `ripcord serve`
//! (with its workers, or alone on a given port), one `ripcord worker` of
//! each kind, and the CLI commands the tests run (`start`, `status`).
//! Every process is killed when its value is dropped, and prints its
//! stderr when a test panics.

use serde_json::Value;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const RIPCORD: &str = env!("CARGO_BIN_EXE_ripcord");

/// The write token every `ripcord serve` here is given.
pub const TOKEN: &str = "e2e-token";

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn artifact(name: &str) -> PathBuf {
    workspace().join("target/test-artifacts").join(name)
}

/// `ripcord serve` on a database. Killed when dropped; on a panic its
/// stderr (of every start on this directory) is printed.
pub struct Serve {
    child: Child,
    log: PathBuf,
    pub base: String,
}

impl Serve {
    /// `ripcord serve --port 0 --workers`: the API, the dashboard and the
    /// four workers in one process.
    pub fn start(db: &Path, scenario: &Path, dir: &Path) -> Serve {
        let mut args: Vec<OsString> = vec!["--port".into(), "0".into(), "--workers".into()];
        args.extend(["--scenario".into(), scenario.into()]);
        Serve::spawn(db, &args, dir)
    }

    /// `ripcord serve --port PORT` alone (the workers run in their own
    /// processes); port 0 picks a free one.
    pub fn alone(db: &Path, port: u16, dir: &Path) -> Serve {
        Serve::spawn(db, &["--port".into(), port.to_string().into()], dir)
    }

    fn spawn(db: &Path, args: &[OsString], dir: &Path) -> Serve {
        let log = dir.join("serve.log");
        let stderr = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let mut child = Command::new(RIPCORD)
            .arg("serve")
            .args(args)
            .arg("--db")
            .arg(db)
            .env("RUST_LOG", "warn")
            .env("RIPCORD_API_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the ripcord binary starts");
        // It prints `listening on http://HOST:PORT` first.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                }
            }
        });
        let mut serve = Serve {
            child,
            log,
            base: String::new(),
        };
        serve.base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("`ripcord serve` prints the URL it listens on");
        serve
    }

    pub fn port(&self) -> u16 {
        let port = self.base.rsplit(':').next().and_then(|p| p.parse().ok());
        port.unwrap_or_else(|| panic!("no port in {}", self.base))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- ripcord serve stderr ---\n{log}");
        }
    }
}

/// One `ripcord worker` process of each kind on a database, killed when
/// dropped; on a panic their stderr is printed.
pub struct Workers {
    children: Vec<(&'static str, Child)>,
    dir: PathBuf,
}

impl Workers {
    pub fn start(db: &Path, scenario: &Path, dir: &Path) -> Workers {
        let children = ["launch", "poll", "post-actions", "metrics"]
            .into_iter()
            .map(|kind| {
                let log = std::fs::File::create(dir.join(format!("worker-{kind}.log")))
                    .expect("log file");
                let child = Command::new(RIPCORD)
                    .args(["worker", kind, "--db"])
                    .arg(db)
                    .arg("--scenario")
                    .arg(scenario)
                    .env("RUST_LOG", "warn")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .expect("the ripcord binary starts");
                (kind, child)
            })
            .collect();
        Workers {
            children,
            dir: dir.to_path_buf(),
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            for (kind, _) in &self.children {
                let log = std::fs::read_to_string(self.dir.join(format!("worker-{kind}.log")))
                    .unwrap_or_default();
                eprintln!("--- ripcord worker {kind} stderr ---\n{log}");
            }
        }
    }
}

/// The execution's status as `ripcord status --json` reads it from the
/// database (None until the launch worker has created it).
pub fn status_in_db(db: &Path, id: &str) -> Option<Value> {
    let output = Command::new(RIPCORD)
        .args(["status", id, "--json", "--db"])
        .arg(db)
        .output()
        .expect("ripcord status runs");
    output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).expect("status JSON"))
}

/// `ripcord start PLAN`; returns the execution id.
pub fn start(db: &Path, plan: &Path) -> String {
    let output = Command::new(RIPCORD)
        .arg("start")
        .arg(plan)
        .arg("--db")
        .arg(db)
        .output()
        .expect("ripcord start runs");
    assert!(
        output.status.success(),
        "ripcord start failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}
