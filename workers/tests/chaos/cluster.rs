//! The worker processes of a chaos run: started as `ripcord worker KIND`
//! on one database file, each logging into its own file (appended across
//! restarts), and the faults done to them: SIGKILL and a restart, SIGSTOP
//! past the visibility timeout and SIGCONT.

use super::config::{ChaosConfig, Dice};
use super::stage::Stage;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The log filter of every worker: warnings, and each step's start and end
/// (with the message's receive count) for the redelivery count.
pub const WORKER_LOG: &str = "warn,ripcord_workers::worker=debug";

/// One worker slot: a kind and the process now running in it.
struct Slot {
    kind: &'static str,
    index: usize,
    child: Child,
    /// When a frozen process is to be resumed.
    frozen_until: Option<Instant>,
}

impl Slot {
    fn log(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}-{}.log", self.kind, self.index))
    }
}

/// The worker processes, and what was done to them.
pub struct Cluster {
    stage: Arc<Stage>,
    logs: PathBuf,
    visibility: Duration,
    store_conflicts: f64,
    slots: Vec<Slot>,
    pub kills: usize,
    pub freezes: usize,
}

impl Cluster {
    /// Starts `config.workers` processes on `stage`, logging into `logs`.
    pub fn start(config: &ChaosConfig, stage: Arc<Stage>, logs: &Path) -> Self {
        let mut cluster = Self {
            stage,
            logs: logs.to_path_buf(),
            visibility: config.visibility,
            store_conflicts: config.store_conflicts,
            slots: Vec::new(),
            kills: 0,
            freezes: 0,
        };
        for (kind, count) in config.workers {
            for index in 0..count {
                let child = cluster.spawn(kind, index);
                cluster.slots.push(Slot {
                    kind,
                    index,
                    child,
                    frozen_until: None,
                });
            }
        }
        cluster
    }

    /// Every worker log file.
    pub fn log_files(&self) -> Vec<PathBuf> {
        self.slots.iter().map(|s| s.log(&self.logs)).collect()
    }

    fn spawn(&self, kind: &str, index: usize) -> Child {
        let log = self.logs.join(format!("{kind}-{index}.log"));
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("a worker log file");
        let mut command: Command = self.stage.worker(kind);
        command
            .arg("--visibility-timeout")
            .arg(format!("{}ms", self.visibility.as_millis()))
            .arg("--fault-store-conflicts")
            .arg(self.store_conflicts.to_string())
            .env("RUST_LOG", WORKER_LOG)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file);
        command
            .spawn()
            .unwrap_or_else(|e| panic!("a {kind} worker does not start: {e}"))
    }

    /// SIGKILLs a random worker that is not frozen, and starts a new
    /// process in its place.
    pub fn kill_one(&mut self, dice: &mut Dice) {
        let running: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].frozen_until.is_none())
            .collect();
        if running.is_empty() {
            return;
        }
        let i = running[dice.below(running.len())];
        let (kind, index) = (self.slots[i].kind, self.slots[i].index);
        let slot = &mut self.slots[i];
        let _ = slot.child.kill();
        let _ = slot.child.wait();
        self.kills += 1;
        let child = self.spawn(kind, index);
        self.slots[i].child = child;
    }

    /// SIGSTOPs a random worker until `now + freeze_for` (none if one is
    /// frozen already).
    pub fn freeze_one(&mut self, dice: &mut Dice, freeze_for: Duration) {
        if self.slots.iter().any(|s| s.frozen_until.is_some()) {
            return;
        }
        let i = dice.below(self.slots.len());
        signal(self.slots[i].child.id(), "-STOP");
        self.slots[i].frozen_until = Some(Instant::now() + freeze_for);
        self.freezes += 1;
    }

    /// SIGCONTs the workers whose freeze is over (all of them with `all`).
    pub fn thaw(&mut self, all: bool) {
        let now = Instant::now();
        for slot in &mut self.slots {
            if slot.frozen_until.is_some_and(|until| all || until <= now) {
                signal(slot.child.id(), "-CONT");
                slot.frozen_until = None;
            }
        }
    }

    /// Fails the run if a worker exited by itself.
    pub fn assert_running(&mut self) {
        for slot in &mut self.slots {
            if let Some(status) = slot.child.try_wait().expect("wait") {
                panic!(
                    "the {} worker {} exited by itself ({status}); its log: {}",
                    slot.kind,
                    slot.index,
                    slot.log(&self.logs).display()
                );
            }
        }
    }

    /// The last lines of every worker's log.
    pub fn tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for slot in &self.slots {
            let path = slot.log(&self.logs);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let all: Vec<&str> = text.lines().filter(|l| !l.contains("DEBUG")).collect();
            let tail = &all[all.len().saturating_sub(lines)..];
            out.push_str(&format!(
                "--- {} (warnings, last {}) ---\n{}\n",
                path.display(),
                tail.len(),
                tail.join("\n")
            ));
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.thaw(true);
        for slot in &mut self.slots {
            let _ = slot.child.kill();
            let _ = slot.child.wait();
        }
    }
}

/// `kill SIGNAL PID`.
fn signal(pid: u32, which: &str) {
    let status = Command::new("kill")
        .arg(which)
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {which} {pid} failed");
}
