//! What the tests that run `ripcord` as separate processes share: the
//! processes themselves, each logging into its own file, killed when the
//! test ends (also when it panics, and then the end of each log is
//! printed to show what went wrong).

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `ripcord` binary of this build.
pub const RIPCORD: &str = env!("CARGO_BIN_EXE_ripcord");

/// `ripcord worker KIND` on the embedded database `db` with `scenario`,
/// logging warnings.
pub fn embedded_worker(kind: &str, db: &Path, scenario: &Path) -> Command {
    let mut command = Command::new(RIPCORD);
    command
        .args(["worker", kind, "--db"])
        .arg(db)
        .arg("--scenario")
        .arg(scenario)
        .env("RUST_LOG", "warn");
    command
}

/// The simulator server at `sim` (`ripcord sim serve`) reset to the
/// scenario `text`: a new simulated world, every earlier call forgotten.
pub fn reset_simulator(sim: &str, text: &str) {
    let reset = reqwest::blocking::Client::new()
        .post(format!("{sim}/sim-api/reset"))
        .body(text.to_owned())
        .send()
        .expect("the simulator server answers");
    assert!(
        reset.status().is_success(),
        "simulator reset: {}",
        reset.status()
    );
}

/// The execution's status as `ripcord status --json` reads it from the
/// database (None until the launch worker has created it: while its start
/// is QUEUED).
pub fn status_in_db(db: &Path, id: &str) -> Option<serde_json::Value> {
    let output = Command::new(RIPCORD)
        .args(["status", id, "--json", "--db"])
        .arg(db)
        .output()
        .expect("ripcord status runs");
    output
        .status
        .success()
        .then(|| serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("status JSON"))
        .filter(|view| view["status"] != "QUEUED")
}

/// Whether a status view shows an execution that has ended.
pub fn has_ended(view: &serde_json::Value) -> bool {
    matches!(
        view["status"].as_str(),
        Some("COMPLETED" | "FAILED" | "CANCELLED" | "TIMEOUT")
    )
}

/// `ripcord start PLAN` on the embedded database `db`; returns the
/// execution id.
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

/// How many lines of each process' log a failing test prints.
const TAIL: usize = 60;

/// `ripcord` processes running for one test.
pub struct Processes {
    children: Vec<(String, Child)>,
    logs: PathBuf,
}

impl Processes {
    /// Processes whose logs go into `logs` (a directory the test owns).
    pub fn new(logs: &Path) -> Self {
        Self {
            children: Vec::new(),
            logs: logs.to_path_buf(),
        }
    }

    /// Starts `command`, its stderr into `<name>-<n>.log`; returns that
    /// name.
    pub fn spawn(&mut self, name: &str, mut command: Command) -> String {
        let name = format!("{name}-{}", self.children.len());
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(self.log_file(&name))
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        self.children.push((name.clone(), child));
        name
    }

    /// Starts `command`, a `ripcord serve`, and returns the base URL it
    /// prints on its first line (`listening on http://HOST:PORT`), waiting
    /// at most a minute for it.
    pub fn spawn_serve(&mut self, mut command: Command) -> String {
        let name = format!("serve-{}", self.children.len());
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(self.log_file(&name))
            .spawn()
            .expect("ripcord serve starts");
        let stdout = child.stdout.take().expect("stdout");
        self.children.push((name, child));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = std::io::BufReader::new(stdout);
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut stdout, &mut line);
            let _ = tx.send(line);
            // Read on, so later prints never meet a closed pipe.
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("serve prints its address within a minute");
        line.trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("serve's first line is {line:?}, not its address"))
            .to_owned()
    }

    /// The process id of the process `spawn` named `name`.
    pub fn pid(&self, name: &str) -> u32 {
        let (_, child) = self
            .children
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no process named {name}"));
        child.id()
    }

    /// Fails the test if a process has exited: each should run until
    /// killed.
    pub fn assert_running(&mut self) {
        for (name, child) in &mut self.children {
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("{name} exited early with {status}");
            }
        }
    }

    /// Appended to: a process restarted under the same name (a second
    /// `Processes` on the directory) keeps the first one's log before its
    /// own.
    fn log_file(&self, name: &str) -> std::fs::File {
        std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("{name}.log")))
            .expect("a log file")
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            return;
        }
        for (name, _) in &self.children {
            let log =
                std::fs::read_to_string(self.logs.join(format!("{name}.log"))).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(TAIL)..].join("\n");
            eprintln!(
                "--- {name} stderr (last {} of {} lines) ---\n{tail}",
                lines.len().min(TAIL),
                lines.len()
            );
        }
    }
}
