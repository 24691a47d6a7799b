//! A worker's liveness file, for container health checks (ECS, Kubernetes
//! exec probes): the worker touches it each time it writes its heartbeat,
//! that is while its receive loop turns, and `ripcord healthcheck` says
//! whether it was touched recently. A worker whose loop has stopped (wedged
//! on a call that never returns, a dead runtime) stops touching it, so its
//! container is replaced. The image has no shell: the check is the binary.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The environment variable naming the liveness file (`--liveness-file`).
pub const LIVENESS_FILE_VAR: &str = "RIPCORD_LIVENESS_FILE";

/// Why a liveness check failed.
#[derive(Debug, thiserror::Error)]
pub enum LivenessError {
    #[error(
        "{} does not exist: the worker has not polled its queue since it started (or writes its liveness file elsewhere: check --liveness-file / {LIVENESS_FILE_VAR})",
        path.display()
    )]
    Missing { path: PathBuf },
    #[error(
        "the worker last polled its queue {} ago (its liveness file {} is older than --max-age {}): its receive loop is stopped or wedged; replace the task and look at its last log lines",
        humantime::format_duration(*age),
        path.display(),
        humantime::format_duration(*max_age)
    )]
    Stale {
        path: PathBuf,
        age: Duration,
        max_age: Duration,
    },
    #[error("cannot read {}: {source}; check the path and the container user's permissions", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Marks the worker alive now: creates `path` if need be and sets its
/// modification time.
pub fn touch(path: &Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    file.set_modified(SystemTime::now())
}

/// How long ago `path` was touched, if within `max_age` of `now`.
pub fn check(path: &Path, max_age: Duration, now: SystemTime) -> Result<Duration, LivenessError> {
    let modified = match std::fs::metadata(path).and_then(|m| m.modified()) {
        Ok(modified) => modified,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LivenessError::Missing {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(LivenessError::Unreadable {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    // A file touched "in the future" (clock steps) counts as just touched.
    let age = now.duration_since(modified).unwrap_or_default();
    // Whole seconds: the sentence reads "3m 2s ago", not nanoseconds.
    let age = Duration::from_secs(age.as_secs());
    if age > max_age {
        return Err(LivenessError::Stale {
            path: path.to_path_buf(),
            age,
            max_age,
        });
    }
    Ok(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_touched_within_max_age_passes_and_an_older_one_fails_with_a_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live");
        let missing = check(&path, Duration::from_secs(120), SystemTime::now()).unwrap_err();
        assert!(
            missing.to_string().contains("has not polled its queue"),
            "{missing}"
        );
        touch(&path).unwrap();
        assert!(check(&path, Duration::from_secs(120), SystemTime::now()).is_ok());
        let later = SystemTime::now() + Duration::from_secs(181);
        let stale = check(&path, Duration::from_secs(120), later).unwrap_err();
        assert!(
            stale
                .to_string()
                .starts_with("the worker last polled its queue 3m 1s ago"),
            "{stale}"
        );
        // Touching again renews it.
        touch(&path).unwrap();
        assert!(check(&path, Duration::from_secs(120), SystemTime::now()).is_ok());
    }
}
