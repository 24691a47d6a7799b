//! `ripcord start PLAN`: validates a plan and enqueues its StartExecution on
//! the launch queue of the database, prints the execution id and returns.
//! The `ripcord worker` processes running on the same file carry it out.

use ripcord::embedded::{DEFAULT_WORLD, EmbeddedBackend, EmbeddedConfig};
use ripcord::event::Envelope;
use ripcord::ids::ExecutionId;
use ripcord::ports::{Clock, QueueName};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub async fn start(
    plan_path: &Path,
    scenario: Option<&Path>,
    db: &Path,
    confirm_recovery: bool,
    requested_by: &str,
) -> anyhow::Result<ExitCode> {
    let plan = match super::startable_plan(plan_path, confirm_recovery) {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let scenario = super::scenario_source(scenario)?;
    let backend = EmbeddedBackend::open(db, EmbeddedConfig::default())?;
    // With --scenario the world is created with it (or checked against the
    // stored one); without, an existing world only lends its clock.
    let world = match &scenario {
        Some(s) => Some(backend.open_sim_world(DEFAULT_WORLD, Some(s))?),
        None => backend.find_sim_world(DEFAULT_WORLD)?,
    };
    let now = match &world {
        Some(w) => w.clock().now(),
        None => chrono::Utc::now(),
    };
    let id = ExecutionId::new_random();
    let start = Envelope::start_execution(id, plan, requested_by, confirm_recovery, now);
    backend
        .queue()
        .send(QueueName::Launch, vec![start.to_message(Duration::ZERO)])
        .await?;
    println!("{id}");
    eprintln!(
        "execution {id} queued on {}; `ripcord worker` processes on this file run it (`ripcord status {id} --db {}` shows it)",
        db.display(),
        db.display()
    );
    Ok(ExitCode::SUCCESS)
}
