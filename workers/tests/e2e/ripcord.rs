//! The Ripcord processes of the dashboard's browser tests: `ripcord serve`
//! (with its workers, or alone on a given port), one `ripcord worker` of
//! each kind (`start` and `status` are in the shared `support`).
//! They run as [`Processes`]: killed when their value is dropped, the end
//! of each log printed when a test panics.

use crate::support::{Processes, RIPCORD, embedded_worker};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The write token every `ripcord serve` here is given.
pub const TOKEN: &str = "e2e-token";

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn artifact(name: &str) -> PathBuf {
    workspace().join("target/test-artifacts").join(name)
}

/// `ripcord serve` on a database. Killed when dropped; on a panic the end
/// of its log is printed.
pub struct Serve {
    _process: Processes,
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
        let mut command = Command::new(RIPCORD);
        command
            .arg("serve")
            .args(args)
            .arg("--db")
            .arg(db)
            .env("RUST_LOG", "warn")
            .env("RIPCORD_API_TOKEN", TOKEN);
        let mut process = Processes::new(dir);
        let base = process.spawn_serve(command);
        Serve {
            _process: process,
            base,
        }
    }

    pub fn port(&self) -> u16 {
        let port = self.base.rsplit(':').next().and_then(|p| p.parse().ok());
        port.unwrap_or_else(|| panic!("no port in {}", self.base))
    }
}

/// One `ripcord worker` process of each kind on a database, killed when
/// dropped; on a panic the end of each log is printed.
pub struct Workers {
    _processes: Processes,
}

impl Workers {
    pub fn start(db: &Path, scenario: &Path, dir: &Path) -> Workers {
        let mut workers = Processes::new(dir);
        for kind in ["launch", "poll", "post-actions", "metrics"] {
            workers.spawn(kind, embedded_worker(kind, db, scenario));
        }
        Workers {
            _processes: workers,
        }
    }
}
