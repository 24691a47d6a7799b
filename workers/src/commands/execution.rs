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
use ripcord::status_model::ExecutionStatus;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

pub async fn status(
    args: &BackendArgs,
    id: &str,
    json: bool,
    listing: render::Listing,
) -> anyhow::Result<ExitCode> {
    let id = parse_id(id)?;
    let backend = Backend::open_existing(args).await?;
    let store = backend.store();
    let Some(execution) = store.load_execution(id).await? else {
        let Some(queued) = queued_view(&backend, args, id).await? else {
            anyhow::bail!(
                "no execution {id} in {}, and none was queued there; `ripcord list` shows the executions there (check --db or --backend and --prefix)",
                args.describe()
            );
        };
        if json {
            println!("{}", serde_json::to_string_pretty(&queued)?);
        } else {
            print!("{}", crate::queued::text(&queued));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let waves = store.load_waves(id).await?;
    let view = execution_status(&execution.record, &waves, backend.now());
    if json {
        println!("{}", serde_json::to_string_pretty(&view)?);
    } else {
        print!(
            "{}",
            render::final_table(&view, std::io::stdout().is_terminal(), listing)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The view of `id` while its start is queued, if it was submitted.
async fn queued_view(
    backend: &Backend,
    args: &BackendArgs,
    id: ExecutionId,
) -> anyhow::Result<Option<ripcord::status::QueuedView>> {
    Ok(crate::queued::queued(
        &*backend.submissions(),
        &*backend.heartbeats(),
        id,
        &args.describe(),
        backend.now(),
    )
    .await?)
}

pub async fn list(
    args: &BackendArgs,
    status: Option<&str>,
    limit: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let status = match status {
        None => None,
        Some(name) => match serde_json::from_value::<ExecutionStatus>(serde_json::json!(
            name.to_ascii_uppercase()
        )) {
            Ok(s) => Some(s),
            Err(_) => {
                eprintln!(
                    "unknown status {name:?}; use one of {}",
                    ExecutionStatus::ALL
                        .iter()
                        .map(|s| status_name(*s))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Ok(ExitCode::from(2));
            }
        },
    };
    let backend = Backend::open_existing(args).await?;
    let rows = backend
        .store()
        .list_executions(&ExecutionQuery {
            status,
            ..ExecutionQuery::newest(limit.max(1))
        })
        .await?
        .items;
    if json {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|row| {
                serde_json::json!({
                    "executionId": row.id,
                    "planName": row.plan_name,
                    "status": row.status,
                    "startTime": row.start_time,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no executions in {}", args.describe());
    }
    for row in rows {
        println!(
            "{}  {:<11}  {}  {}",
            row.id,
            status_name(row.status),
            row.start_time.format("%Y-%m-%d %H:%M:%S"),
            row.plan_name
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A status as every other view writes it (`IN_PROGRESS`).
fn status_name(status: ExecutionStatus) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{status:?}"),
    }
}

/// Execution `id` as stored, or an error that says where to look.
pub(super) async fn existing(
    backend: &Backend,
    args: &BackendArgs,
    id: ExecutionId,
) -> anyhow::Result<ripcord::ports::store::Versioned<ripcord::records::ExecutionRecord>> {
    if let Some(execution) = backend.store().load_execution(id).await? {
        return Ok(execution);
    }
    if let Some(queued) = queued_view(backend, args, id).await? {
        anyhow::bail!(
            "execution {id} is queued, not yet started, so there is nothing to change yet: {}",
            queued.what_to_check
        );
    }
    anyhow::bail!(
        "no execution {id} in {}; `ripcord list` shows the ones there",
        args.describe()
    )
}

pub(super) async fn send(
    args: &BackendArgs,
    id: ExecutionId,
    wave: Option<WaveNumber>,
    event: Event,
) -> anyhow::Result<()> {
    let backend = Backend::open_existing(args).await?;
    existing(&backend, args, id).await?;
    let envelope = Envelope::new(id, wave, event, chrono::Utc::now());
    backend
        .queue()
        .send(QueueName::Launch, vec![envelope.to_message(Duration::ZERO)])
        .await?;
    warn_if_no_launch_worker(&backend, args).await;
    Ok(())
}

/// After a request was queued: when no launch worker polls the deployment
/// (`ripcord run` has ended, say), nothing applies it yet. Says so, and
/// what to start.
pub(super) async fn warn_if_no_launch_worker(backend: &Backend, args: &BackendArgs) {
    let wall_now = chrono::Utc::now();
    let Ok(beats) = backend.heartbeats().list_heartbeats(wall_now).await else {
        return;
    };
    let last_poll = beats
        .into_iter()
        .filter(|h| h.kind == QueueName::Launch && h.running())
        .map(|h| h.last_poll)
        .max();
    if last_poll.is_none_or(|poll| wall_now - poll > ripcord::status::LAUNCH_POLL_STALE) {
        eprintln!(
            "note: no launch worker is polling {} now, so the request waits on the launch queue until one does: \
             start one there (`ripcord worker launch` on the same database or deployment, or `ripcord serve --workers`)",
            args.describe()
        );
    }
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
