//! `ripcord healthcheck`: the container health check of a worker task. It
//! reads the liveness file the worker touches as it polls
//! ([`crate::liveness`]) and exits 0 if it is fresh, else 1 with why.

use crate::liveness;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

pub fn healthcheck(path: &Path, max_age: Duration) -> ExitCode {
    match liveness::check(path, max_age, SystemTime::now()) {
        Ok(age) => {
            println!(
                "alive: the worker polled its queue {} ago (within {})",
                humantime::format_duration(age),
                humantime::format_duration(max_age)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("unhealthy: {e}");
            ExitCode::FAILURE
        }
    }
}
