//! `ripcord start PLAN`: validates a plan and enqueues its StartExecution on
//! the launch queue, prints the execution id and returns. The workers on
//! the same backend (`ripcord worker` processes on the same file, or on AWS)
//! carry it out.

use crate::backend::{AwsBackend, BackendArgs, BackendKind};
use crate::engine::LocalEngine;
use ripcord::capacity::Quotas;
use ripcord::event::Envelope;
use ripcord::ids::ExecutionId;
use ripcord::ports::{Clock, QueueName};
use ripcord_embedded::{DEFAULT_WORLD, EmbeddedBackend, EmbeddedConfig};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub async fn start(
    plan_path: &Path,
    scenario: Option<&Path>,
    args: &BackendArgs,
    confirm_recovery: bool,
    requested_by: &str,
) -> anyhow::Result<ExitCode> {
    let plan = match super::inputs::startable_plan(plan_path, confirm_recovery) {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let id = ExecutionId::new_random();
    match args.backend {
        BackendKind::Embedded => {
            let scenario = super::inputs::scenario_source(scenario)?;
            // Selections are resolved against the simulated DRS in the file
            // (created with --scenario, or the default one, as pre-flight does).
            let plan = if plan.needs_resolution() {
                let engine = LocalEngine::open_shared(&args.db, scenario.as_ref())?;
                match super::inputs::resolved_plan(&*engine.ports.drs, plan, plan_path).await {
                    Ok(plan) => plan,
                    Err(code) => return Ok(code),
                }
            } else {
                plan
            };
            let backend = EmbeddedBackend::open(&args.db, EmbeddedConfig::default())?;
            // With --scenario the world is created with it (or checked
            // against the stored one); without, an existing world only lends
            // its clock.
            let world = match &scenario {
                Some(s) => Some(backend.open_sim_world(DEFAULT_WORLD, Some(s))?),
                None => backend.find_sim_world(DEFAULT_WORLD)?,
            };
            let now = match &world {
                Some(w) => w.clock().now(),
                None => chrono::Utc::now(),
            };
            let start = Envelope::start_execution(id, plan, requested_by, confirm_recovery, now);
            backend
                .queue()
                .send(QueueName::Launch, vec![start.to_message(Duration::ZERO)])
                .await?;
            crate::queued::mark_submitted(&*backend.submissions(), &start).await;
        }
        BackendKind::Aws => {
            if scenario.is_some() {
                anyhow::bail!(
                    "--scenario applies to the embedded simulator; on AWS the DRS endpoint decides (point AWS_ENDPOINT_URL_DRS at `ripcord sim serve` to simulate)"
                );
            }
            let backend =
                AwsBackend::connect(&args.aws_settings(), args.quotas.over(Quotas::default()))
                    .await?;
            let plan =
                match super::inputs::resolved_plan(&*backend.ports.drs, plan, plan_path).await {
                    Ok(plan) => plan,
                    Err(code) => return Ok(code),
                };
            let start = Envelope::start_execution(
                id,
                plan,
                requested_by,
                confirm_recovery,
                chrono::Utc::now(),
            );
            backend
                .ports
                .queue
                .send(QueueName::Launch, vec![start.to_message(Duration::ZERO)])
                .await?;
            crate::queued::mark_submitted(&*backend.ports.submissions, &start).await;
        }
    }
    println!("{id}");
    eprintln!(
        "execution {id} queued in {}; the workers there run it (`ripcord status {id}` shows it)",
        args.describe()
    );
    Ok(ExitCode::SUCCESS)
}
