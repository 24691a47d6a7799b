//! The CLI's commands: the binary's edge, where errors become messages
//! (anyhow) and outcomes become exit codes.

mod aws;
mod bench;
pub(crate) mod bench_scale;
mod cleanup;
mod dlq;
mod execution;
mod healthcheck;
mod inputs;
mod operator;
mod preflight;
mod report;
pub(crate) mod requester;
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
            all,
        } => {
            let report_dir = report_dir.unwrap_or_else(|| run::default_report_dir(&db.db));
            let requested_by = requester::requester(requested_by.as_deref(), None).await;
            run::run(
                &plan,
                scenario.as_deref(),
                &db.db,
                confirm_recovery,
                &requested_by,
                &report_dir,
                listing(all),
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
            let requested_by = requester::requester(requested_by.as_deref(), Some(&backend)).await;
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
        Command::Preflight {
            plan,
            scenario,
            json,
            backend,
        } => preflight::preflight_command(&plan, scenario.as_deref(), &backend, json).await,
        Command::Status {
            id,
            json,
            all,
            backend,
        } => execution::status(&backend, &id, json, listing(all)).await,
        Command::Report {
            id,
            format,
            output,
            backend,
        } => report::report(&backend, &id, format, output.as_deref()).await,
        Command::List {
            status,
            limit,
            json,
            backend,
        } => execution::list(&backend, status.as_deref(), limit, json).await,
        Command::Cancel {
            id,
            reason,
            requested_by,
            backend,
        } => {
            let by = requester::requester(requested_by.as_deref(), Some(&backend)).await;
            execution::cancel(&backend, &id, &by, &reason).await
        }
        Command::Cleanup {
            id,
            reason,
            requested_by,
            confirm_recovery,
            wait,
            backend,
        } => {
            let by = requester::requester(requested_by.as_deref(), Some(&backend)).await;
            let request = cleanup::CleanupArgs {
                id: &id,
                requested_by: &by,
                reason: &reason,
                confirm_recovery,
                wait,
            };
            cleanup::cleanup(&backend, request).await
        }
        Command::Approve {
            id,
            wave,
            approved_by,
            backend,
        } => {
            let by = requester::requester(approved_by.as_deref(), Some(&backend)).await;
            execution::approve(&backend, &id, wave, &by).await
        }
        Command::Retry(args) => operator::operate(args.operation()?).await,
        Command::Skip(args) => operator::operate(args.operation()).await,
        Command::Pause(args) => operator::operate(args.operation()).await,
        Command::Resume(args) => operator::operate(args.operation()).await,
        Command::Worker {
            kind,
            scenario,
            backend,
            triggers,
            visibility_timeout,
            receive_wait,
            step_timeout,
            sweep_every,
            metrics_addr,
            report_dir,
            liveness_file,
            fault_store_conflicts,
        } => {
            let timing = worker::Timing {
                visibility: visibility_timeout,
                wait: receive_wait,
                step_timeout,
                sweep_every,
                metrics_addr,
                faults: crate::fault_injection::FaultKnobs {
                    store_conflicts: fault_store_conflicts.unwrap_or(0.0),
                },
            };
            worker::worker(
                kind,
                scenario.as_deref(),
                &backend,
                &triggers,
                timing,
                report_dir,
                liveness_file,
            )
            .await
        }
        Command::Healthcheck {
            liveness_file,
            max_age,
        } => Ok(healthcheck::healthcheck(&liveness_file, max_age)),
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
            health_metrics_every,
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
                    ..Default::default()
                },
                health_metrics_every,
            })
            .await
        }
        Command::Aws { command } => match command {
            AwsCommand::Bootstrap {
                aws,
                max_receive_count,
            } => aws::bootstrap_command(&aws, max_receive_count).await,
        },
        Command::Bench(args) => bench::bench(args).await,
        Command::Sim { command } => match command {
            SimCommand::Calls { json, db } => sim::calls(&db.db, json),
            SimCommand::Serve {
                port,
                host,
                scenario,
                time_scale,
                seed,
                call_latency,
                page_size,
                ec2_endpoint,
                events_endpoint,
            } => {
                let config = ripcord_sim_server::SimServerConfig {
                    scenario: inputs::scenario_source(scenario.as_deref())?,
                    time_scale,
                    seed,
                    call_latency,
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

/// `--all`: every server in the final table; without it large waves are
/// summarised.
fn listing(all: bool) -> crate::render::Listing {
    if all {
        crate::render::Listing::All
    } else {
        crate::render::Listing::Summary
    }
}
