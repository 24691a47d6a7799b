//! `ripcord worker KIND`: one worker in its own process, on the embedded
//! backend, until Ctrl-C.

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
    let engine = LocalEngine::open(db, super::scenario(scenario)?)?;
    let workers = engine.spawn_workers(&[kind.queue()], WorkerConfig::default());
    eprintln!(
        "{} worker running on {}; Ctrl-C stops it",
        kind.queue(),
        db.display()
    );
    tokio::signal::ctrl_c().await?;
    workers.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
