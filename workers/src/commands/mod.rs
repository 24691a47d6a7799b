//! The CLI's commands: the binary's edge, where errors become messages
//! (anyhow) and outcomes become exit codes.

mod aws;
mod bench;
mod dlq;
mod execution;
mod report;
mod run;
mod serve;
mod sim;
mod start;
mod triggers;
mod validate;
mod worker;

use crate::cli::{AwsCommand, Command, DlqCommand, SimCommand};
use std::process::ExitCode;

pub async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run {
            plan,
            scenario,
            db,
            confirm_recovery,
            requested_by,
            report_dir,
        } => {
            let report_dir = report_dir.unwrap_or_else(|| run::default_report_dir(&db.db));
            run::run(
                &plan,
                scenario.as_deref(),
                &db.db,
                confirm_recovery,
                &requested_by,
                &report_dir,
            )
            .await
        }
        Command::Start {
            plan,
            scenario,
            backend,
            confirm_recovery,
            requested_by,
        } => {
            start::start(
                &plan,
                scenario.as_deref(),
                &backend,
                confirm_recovery,
                &requested_by,
            )
            .await
        }
        Command::Validate { plan } => validate::validate(&plan),
        Command::Status { id, json, backend } => execution::status(&backend, &id, json).await,
        Command::Report {
            id,
            format,
            output,
            backend,
        } => report::report(&backend, &id, format, output.as_deref()).await,
        Command::List { backend } => execution::list(&backend).await,
        Command::Cancel {
            id,
            reason,
            requested_by,
            backend,
        } => execution::cancel(&backend, &id, &requested_by, &reason).await,
        Command::Approve {
            id,
            wave,
            approved_by,
            backend,
        } => execution::approve(&backend, &id, wave, &approved_by).await,
        Command::Worker {
            kind,
            scenario,
            backend,
            triggers,
            visibility_timeout,
            receive_wait,
            step_timeout,
            metrics_addr,
            report_dir,
        } => {
            let timing = worker::Timing {
                visibility: visibility_timeout,
                wait: receive_wait,
                step_timeout,
                metrics_addr,
            };
            worker::worker(
                kind,
                scenario.as_deref(),
                &backend,
                &triggers,
                timing,
                report_dir,
            )
            .await
        }
        Command::Triggers { json, backend } => triggers::list(&backend, json).await,
        Command::Serve {
            port,
            host,
            backend,
            workers,
            scenario,
            protect_reads,
            poll_age,
            stuck_after,
        } => {
            serve::serve(serve::ServeOptions {
                host,
                port,
                backend,
                workers,
                scenario,
                protect_reads,
                thresholds: ripcord::health::HealthThresholds {
                    poll_age,
                    stuck_after,
                },
            })
            .await
        }
        Command::Aws { command } => match command {
            AwsCommand::Bootstrap {
                aws,
                max_receive_count,
            } => aws::bootstrap_command(&aws, max_receive_count).await,
        },
        Command::Bench {
            servers,
            waves,
            boundaries,
            skip_poll,
        } => bench::bench(servers, waves, boundaries, skip_poll).await,
        Command::Sim { command } => match command {
            SimCommand::Calls { json, db } => sim::calls(&db.db, json),
            SimCommand::Serve {
                port,
                host,
                scenario,
                time_scale,
                seed,
                page_size,
                ec2_endpoint,
                events_endpoint,
            } => {
                let config = ripcord_sim_server::SimServerConfig {
                    scenario: scenario_source(scenario.as_deref())?,
                    time_scale,
                    seed,
                    page_size,
                    ec2_endpoint,
                    events_endpoint,
                    ..Default::default()
                };
                sim::serve(&host, port, config).await
            }
        },
        Command::Dlq { command } => match command {
            DlqCommand::List {
                queue,
                json,
                backend,
            } => dlq::list(&backend, queue, json).await,
            DlqCommand::Show { queue, id, backend } => dlq::show(&backend, queue, &id).await,
            DlqCommand::Replay {
                queue,
                id,
                all,
                backend,
            } => dlq::replay(&backend, queue, id.as_deref(), all).await,
        },
    }
}

/// Loads and checks a plan that may be started: its errors, or a real
/// recovery without `--confirm-recovery`, are reported on stderr and give
/// exit code 2 (nothing is started).
fn startable_plan(
    path: &std::path::Path,
    confirm_recovery: bool,
) -> Result<ripcord::plan::Plan, ExitCode> {
    let plan = match ripcord::plan::load_plan(path) {
        Ok(p) => p,
        Err(errors) => {
            eprintln!("{errors}");
            return Err(ExitCode::from(2));
        }
    };
    if plan.mode == ripcord::plan::Mode::Recovery && !confirm_recovery {
        eprintln!(
            "{}: this plan is a real recovery (mode: recovery). Nothing was started.\n\
             Re-run with --confirm-recovery if a real failover is intended, or use mode: drill to rehearse.",
            path.display()
        );
        return Err(ExitCode::from(2));
    }
    Ok(plan)
}

/// Loads a scenario file with its text (for a world stored in the database).
fn scenario_source(
    path: Option<&std::path::Path>,
) -> anyhow::Result<Option<ripcord_sim::ScenarioSource>> {
    Ok(match path {
        Some(p) => Some(ripcord_sim::ScenarioSource::load(p)?),
        None => None,
    })
}

/// Loads a scenario file, or the default scenario.
fn scenario(path: Option<&std::path::Path>) -> anyhow::Result<ripcord_sim::Scenario> {
    Ok(match path {
        Some(p) => ripcord_sim::load_scenario(p)?,
        None => ripcord_sim::Scenario::default(),
    })
}

fn parse_id(id: &str) -> anyhow::Result<ripcord::ids::ExecutionId> {
    id.parse()
        .map_err(|_| anyhow::anyhow!("`{id}` is not an execution id (a UUID, as `ripcord run` printed it; `ripcord list` shows them)"))
}
