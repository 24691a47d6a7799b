//! `ripcord status`, `list`, `cancel` and `approve`: reading an execution
//! from the embedded store, and sending it events through the launch queue
//! (a running `ripcord run` or `ripcord worker launch` picks them up).

use super::parse_id;
use crate::render;
use ripcord::embedded::{EmbeddedBackend, EmbeddedConfig};
use ripcord::event::{Envelope, Event};
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::QueueName;
use ripcord::status::execution_status;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

fn open(db: &Path) -> anyhow::Result<EmbeddedBackend> {
    if !db.exists() {
        anyhow::bail!(
            "no Ripcord database at {}; pass --db with the file `ripcord run` used",
            db.display()
        );
    }
    Ok(EmbeddedBackend::open(db, EmbeddedConfig::default())?)
}

pub async fn status(db: &Path, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let id = parse_id(id)?;
    let backend = open(db)?;
    let store = backend.store();
    let Some(execution) = store.load_execution(id).await? else {
        anyhow::bail!(
            "no execution {id} in {}; `ripcord list` shows the ones there",
            db.display()
        );
    };
    let waves = store.load_waves(id).await?;
    let view = execution_status(&execution.record, &waves, now(&backend));
    if json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!(
            "{}",
            render::final_table(&view, std::io::stdout().is_terminal())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The time executions in `backend` live in: the simulated clock of the
/// world stored there (shared by `ripcord worker` processes), else real time.
fn now(backend: &EmbeddedBackend) -> ripcord::time::Timestamp {
    use ripcord::ports::Clock;
    match backend.find_sim_world(ripcord::embedded::DEFAULT_WORLD) {
        Ok(Some(world)) => world.clock().now(),
        _ => chrono::Utc::now(),
    }
}

pub async fn list(db: &Path) -> anyhow::Result<ExitCode> {
    let backend = open(db)?;
    let rows = backend.store().list_executions(100).await?;
    if rows.is_empty() {
        println!("no executions in {}", db.display());
    }
    for row in rows {
        println!(
            "{}  {:<11}  {}  {}",
            row.id,
            format!("{:?}", row.status).to_uppercase(),
            row.start_time.format("%Y-%m-%d %H:%M:%S"),
            row.plan_name
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn send(
    db: &Path,
    id: ExecutionId,
    wave: Option<WaveNumber>,
    event: Event,
) -> anyhow::Result<()> {
    let backend = open(db)?;
    if backend.store().load_execution(id).await?.is_none() {
        anyhow::bail!(
            "no execution {id} in {}; `ripcord list` shows the ones there",
            db.display()
        );
    }
    let envelope = Envelope::new(id, wave, event, chrono::Utc::now());
    backend
        .queue()
        .send(QueueName::Launch, vec![envelope.to_message(Duration::ZERO)])
        .await?;
    Ok(())
}

pub async fn cancel(db: &Path, id: &str, by: &str, reason: &str) -> anyhow::Result<ExitCode> {
    let id = parse_id(id)?;
    let event = Event::CancelExecution {
        requested_by: by.to_owned(),
        reason: reason.to_owned(),
    };
    send(db, id, None, event).await?;
    println!("cancel requested for {id}; the launch worker applies it (see `ripcord status {id}`)");
    Ok(ExitCode::SUCCESS)
}

pub async fn approve(db: &Path, id: &str, wave: u32, by: &str) -> anyhow::Result<ExitCode> {
    let id = parse_id(id)?;
    let event = Event::ApproveWave {
        approved_by: by.to_owned(),
    };
    send(db, id, Some(WaveNumber(wave)), event).await?;
    println!("wave {wave} of {id} approved by {by}");
    Ok(ExitCode::SUCCESS)
}
