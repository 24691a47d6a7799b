//! `ripcord dlq list|replay QUEUE`.

use crate::cli::WorkerKind;
use ripcord::embedded::{EmbeddedBackend, EmbeddedConfig};
use std::path::Path;
use std::process::ExitCode;

pub async fn list(db: &Path, queue: WorkerKind, json: bool) -> anyhow::Result<ExitCode> {
    let backend = EmbeddedBackend::open(db, EmbeddedConfig::default())?;
    let dead = backend.queue().list_dead(queue.queue()).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&dead)?);
        return Ok(ExitCode::SUCCESS);
    }
    if dead.is_empty() {
        println!("the {} dead-letter queue is empty", queue.queue());
    }
    for m in dead {
        println!(
            "{}  type={}  receives={}  dead since {}\n  reason: {}\n  body: {}",
            m.message_id,
            m.event_type.as_deref().unwrap_or("?"),
            m.receive_count,
            m.dead_at,
            m.reason,
            m.body
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn replay(
    db: &Path,
    queue: WorkerKind,
    id: Option<&str>,
    all: bool,
) -> anyhow::Result<ExitCode> {
    let backend = EmbeddedBackend::open(db, EmbeddedConfig::default())?;
    let id = if all { None } else { id };
    let moved = backend.queue().replay_dead(queue.queue(), id).await?;
    println!(
        "{moved} message(s) moved back to the {} queue",
        queue.queue()
    );
    Ok(ExitCode::SUCCESS)
}
