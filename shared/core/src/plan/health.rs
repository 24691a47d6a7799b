//! A wave's `health_checks`: `ec2_status_ok`, `ssm_agent_online` or
//! `{ command: "..." }`, each unknown name an error with the ones allowed.

use super::error::{ErrorList, Pos};
use super::model::HealthCheck;
use super::raw::{RawHealthCheck, RawWave};

pub(super) fn health_checks(wave: &RawWave, errors: &mut ErrorList) -> Vec<HealthCheck> {
    let mut checks = Vec::new();
    for entry in wave.health_checks.iter().flatten() {
        match &entry.value {
            RawHealthCheck::Named(name) => match name.as_str() {
                "ec2_status_ok" => checks.push(HealthCheck::Ec2StatusOk),
                "ssm_agent_online" => checks.push(HealthCheck::SsmAgentOnline),
                other => errors.push(
                    Pos::of(entry),
                    format!(
                        "unknown health check `{other}`: use `ec2_status_ok`, `ssm_agent_online` or `{{ command: \"...\" }}`"
                    ),
                ),
            },
            RawHealthCheck::Command(check) => match &check.command {
                None => errors.push(
                    Pos::of(entry),
                    "this health check has no `command`: write `{ command: \"...\" }` with a shell command that exits 0 when healthy",
                ),
                Some(c) if c.value.trim().is_empty() => errors.push(
                    Pos::of(c),
                    "this health check's `command` is empty: give a shell command that exits 0 when healthy",
                ),
                Some(c) => checks.push(HealthCheck::Command {
                    command: c.value.clone(),
                }),
            },
        }
    }
    checks
}
