//! `ripcord dlq list|show|replay QUEUE`, on either backend.

use crate::backend::{Backend, BackendArgs};
use crate::cli::WorkerKind;
use ripcord::ports::dead_letters::DeadMessage;
use std::process::ExitCode;

async fn dead(args: &BackendArgs, queue: WorkerKind) -> anyhow::Result<Vec<DeadMessage>> {
    let backend = Backend::open_existing(args).await?;
    Ok(backend.dead_letters().list_dead(queue.queue()).await?)
}

pub async fn list(args: &BackendArgs, queue: WorkerKind, json: bool) -> anyhow::Result<ExitCode> {
    let dead = dead(args, queue).await?;
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

pub async fn show(args: &BackendArgs, queue: WorkerKind, id: &str) -> anyhow::Result<ExitCode> {
    let dead = dead(args, queue).await?;
    let Some(m) = dead.into_iter().find(|m| m.message_id == id) else {
        anyhow::bail!(
            "no dead message {id} in the {} dead-letter queue; `ripcord dlq list {}` shows what is there",
            queue.queue(),
            queue.queue()
        );
    };
    let body = serde_json::from_str::<serde_json::Value>(&m.body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| m.body.clone());
    println!(
        "message:   {}\nqueue:     {}\ntype:      {}\nreceives:  {}\ndead since {}\nreason:    {}\nbody:\n{body}",
        m.message_id,
        queue.queue(),
        m.event_type.as_deref().unwrap_or("?"),
        m.receive_count,
        m.dead_at,
        m.reason
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn replay(
    args: &BackendArgs,
    queue: WorkerKind,
    id: Option<&str>,
    all: bool,
) -> anyhow::Result<ExitCode> {
    let backend = Backend::open_existing(args).await?;
    let id = if all { None } else { id };
    let moved = backend
        .dead_letters()
        .replay_dead(queue.queue(), id)
        .await?;
    println!(
        "{moved} message(s) moved back to the {} queue",
        queue.queue()
    );
    Ok(ExitCode::SUCCESS)
}
