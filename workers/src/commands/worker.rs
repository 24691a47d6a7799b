//! `ripcord worker KIND`: one worker in its own process, on the embedded
//! backend and the simulated world stored in the same file, until Ctrl-C.
//! Any number of worker processes of any kind may share one file.

use crate::cli::WorkerKind;
use crate::engine::LocalEngine;
use crate::worker::WorkerConfig;
use std::path::Path;
use std::process::ExitCode;

pub async fn worker(
    kind: WorkerKind,
    scenario: Option<&Path>,
    db: &Path,
) -> anyhow::Result<ExitCode> {
    let scenario = super::scenario_source(scenario)?;
    let engine = LocalEngine::open_shared(db, scenario.as_ref())?;
    let workers = engine.spawn_workers(&[kind.queue()], WorkerConfig::default());
    eprintln!(
        "{} worker running on {} (simulator: {}); Ctrl-C stops it",
        kind.queue(),
        db.display(),
        engine.stored_scenario.as_deref().unwrap_or("in memory")
    );
    tokio::signal::ctrl_c().await?;
    workers.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
