//! `ripcord run PLAN`: the whole engine in this process on the embedded
//! backend and the simulator. Prints the execution id first, shows live
//! progress, prints the final table, writes the drill report (Markdown
//! with its SVG timeline, HTML, JSON) into the report directory and prints
//! the paths, and exits 0 only on COMPLETED.

use crate::engine::LocalEngine;
use crate::render::{self, LiveProgress};
use crate::worker::WorkerConfig;
use ripcord::event::{Envelope, Event};
use ripcord::ids::ExecutionId;
use ripcord::ports::QueueName;
use ripcord::status::{execution_status, is_settled};
use ripcord::status_model::ExecutionStatus;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub async fn run(
    plan_path: &Path,
    scenario: Option<&Path>,
    db: &Path,
    confirm_recovery: bool,
    requested_by: &str,
    report_dir: &Path,
    listing: render::Listing,
) -> anyhow::Result<ExitCode> {
    let plan = match super::inputs::startable_plan(plan_path, confirm_recovery) {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let began = std::time::Instant::now();
    let engine = LocalEngine::open(db, super::inputs::scenario(scenario)?)?;
    let plan = match super::inputs::resolved_plan(&*engine.ports.drs, plan, plan_path).await {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let workers = engine.spawn_workers(&QueueName::ALL, WorkerConfig::default());
    let ports = engine.ports.clone();

    let id = ExecutionId::new_random();
    println!("{id}");
    let now = ports.clock.now();
    let start = Envelope::start_execution(id, plan, requested_by, confirm_recovery, now);
    ports
        .queue
        .send(QueueName::Launch, vec![start.to_message(Duration::ZERO)])
        .await?;

    let mut progress = LiveProgress::for_stdout();
    let mut cancel_sent = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let (view, report) = loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = &mut ctrl_c, if !cancel_sent => {
                cancel_sent = true;
                eprintln!("\ncancelling {id}: no new wave starts; running launches are observed to their end (Ctrl-C again to quit now)");
                let cancel = Envelope::new(id, None, Event::CancelExecution {
                    requested_by: requested_by.to_owned(),
                    reason: "interrupted (Ctrl-C)".to_owned(),
                }, ports.clock.now());
                ports.queue.send(QueueName::Launch, vec![cancel.to_message(Duration::ZERO)]).await?;
                tokio::spawn(async {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        std::process::exit(130);
                    }
                });
            }
        }
        let Some(execution) = ports.store.load_execution(id).await? else {
            continue;
        };
        let waves = ports.store.load_waves(id).await?;
        let view = execution_status(&execution.record, &waves, ports.clock.now());
        progress.update(&view)?;
        if is_settled(&execution.record, &waves) {
            break (view, ripcord::report::build(&execution.record, &waves));
        }
    };
    progress.finish()?;
    workers.shutdown().await;
    print!(
        "{}",
        render::final_table(&view, std::io::stdout().is_terminal(), listing)
    );
    // The drill is over whatever the report's fate: a report that cannot
    // be written is said, not fatal.
    match crate::reports::write_all(&report, report_dir) {
        Ok(paths) => {
            println!("\nMeasured RTO: {}\nDrill report:", report.rto.summary);
            for path in paths {
                println!("  {}", path.display());
            }
        }
        Err(e) => eprintln!(
            "\nwarning: {e}; `ripcord report {id} --db {}` prints it",
            db.display()
        ),
    }
    let scale = ports.clock.scale();
    if scale != 1.0 {
        println!(
            "\nTimes are simulated ({scale}× real time); this run took {:.1} s of wall-clock time.",
            began.elapsed().as_secs_f64()
        );
    }
    Ok(if view.status == ExecutionStatus::Completed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `reports` beside the database file (in the working directory for a
/// bare file name).
pub fn default_report_dir(db: &Path) -> PathBuf {
    match db.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("reports"),
        _ => PathBuf::from("reports"),
    }
}
