//! `ripcord status`, `list`, `cancel` and `approve`: reading an execution
//! from the store, and sending it events through the launch queue (the
//! launch worker — of `ripcord run`, `ripcord worker launch`, or on AWS —
//! picks them up).

use super::inputs::parse_id;
use crate::backend::{Backend, BackendArgs};
use crate::render;
use ripcord::event::{Envelope, Event};
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::QueueName;
use ripcord::ports::store::ExecutionQuery;
use ripcord::status::execution_status;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

pub async fn status(args: &BackendArgs, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let id = parse_id(id)?;
    let backend = Backend::open_existing(args).await?;
    let store = backend.store();
    let Some(execution) = store.load_execution(id).await? else {
        anyhow::bail!(
            "no execution {id} in {}; `ripcord list` shows the ones there",
            args.describe()
        );
    };
    let waves = store.load_waves(id).await?;
    let view = execution_status(&execution.record, &waves, backend.now());
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

pub async fn list(args: &BackendArgs) -> anyhow::Result<ExitCode> {
    let backend = Backend::open_existing(args).await?;
    let rows = backend
        .store()
        .list_executions(&ExecutionQuery::newest(100))
        .await?
        .items;
    if rows.is_empty() {
        println!("no executions in {}", args.describe());
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
    args: &BackendArgs,
    id: ExecutionId,
    wave: Option<WaveNumber>,
    event: Event,
) -> anyhow::Result<()> {
    let backend = Backend::open_existing(args).await?;
    if backend.store().load_execution(id).await?.is_none() {
        anyhow::bail!(
            "no execution {id} in {}; `ripcord list` shows the ones there",
            args.describe()
        );
    }
    let envelope = Envelope::new(id, wave, event, chrono::Utc::now());
    backend
        .queue()
        .send(QueueName::Launch, vec![envelope.to_message(Duration::ZERO)])
        .await?;
    Ok(())
}

pub async fn cancel(
    args: &BackendArgs,
    id: &str,
    by: &str,
    reason: &str,
) -> anyhow::Result<ExitCode> {
    let id = parse_id(id)?;
    let event = Event::CancelExecution {
        requested_by: by.to_owned(),
        reason: reason.to_owned(),
    };
    send(args, id, None, event).await?;
    println!("cancel requested for {id}; the launch worker applies it (see `ripcord status {id}`)");
    Ok(ExitCode::SUCCESS)
}

pub async fn approve(
    args: &BackendArgs,
    id: &str,
    wave: u32,
    by: &str,
) -> anyhow::Result<ExitCode> {
    let id = parse_id(id)?;
    let event = Event::ApproveWave {
        approved_by: by.to_owned(),
    };
    send(args, id, Some(WaveNumber(wave)), event).await?;
    println!("wave {wave} of {id} approved by {by}");
    Ok(ExitCode::SUCCESS)
}
