//! `ripcord cleanup ID`: terminate the recovery instances a settled drill
//! launched. The request is judged first by the same function the engine
//! applies (`machine::cleanup_refusal`): a running execution, an
//! unconfirmed recovery or a second clean-up is refused with the reason
//! (exit 3, as every command that does not apply; nothing sent). Otherwise the request goes to the launch queue;
//! with `--wait` the command follows it to its end (exit 1 if an instance
//! could not be terminated).

use super::inputs::parse_id;
use crate::backend::{Backend, BackendArgs};
use ripcord::event::{Envelope, Event};
use ripcord::machine::cleanup_refusal;
use ripcord::ports::QueueName;
use ripcord::status::{CleanupPhase, CleanupView, cleanup_view};
use std::process::ExitCode;
use std::time::Duration;

pub struct CleanupArgs<'a> {
    pub id: &'a str,
    pub requested_by: &'a str,
    pub reason: &'a str,
    pub confirm_recovery: bool,
    pub wait: Option<Duration>,
}

pub async fn cleanup(args: &BackendArgs, request: CleanupArgs<'_>) -> anyhow::Result<ExitCode> {
    let id = parse_id(request.id)?;
    let backend = Backend::open_existing(args).await?;
    let store = backend.store();
    let execution = super::execution::existing(&backend, args, id).await?;
    if let Err(refused) = cleanup_refusal(&execution.record, request.confirm_recovery) {
        eprintln!("clean-up refused: {refused}");
        return Ok(ExitCode::from(super::operator::REFUSED));
    }
    let event = Event::CleanupExecution {
        requested_by: request.requested_by.to_owned(),
        reason: request.reason.to_owned(),
        confirm_recovery: request.confirm_recovery,
    };
    let envelope = Envelope::new(id, None, event, chrono::Utc::now());
    backend
        .queue()
        .send(QueueName::Launch, vec![envelope.to_message(Duration::ZERO)])
        .await?;
    println!(
        "clean-up of {id} requested by {}: the launch worker terminates the recovery instances the drill launched",
        request.requested_by
    );
    let Some(limit) = request.wait else {
        println!("follow it with `ripcord status {id}` (or run this with --wait)");
        return Ok(ExitCode::SUCCESS);
    };
    let deadline = tokio::time::Instant::now() + limit;
    let mut last = String::new();
    loop {
        let view = match store.load_execution(id).await? {
            Some(e) => cleanup_view(&e.record, &store.load_waves(id).await?),
            None => None,
        };
        if let Some(view) = &view {
            let line = progress_line(view);
            if line != last {
                println!("{line}");
                last = line;
            }
            match view.status {
                CleanupPhase::Completed => return Ok(ExitCode::SUCCESS),
                CleanupPhase::Failed => return Ok(ExitCode::from(1)),
                CleanupPhase::InProgress => {}
            }
        }
        if tokio::time::Instant::now() > deadline {
            eprintln!(
                "the clean-up has not ended after {}; is a launch worker running (`ripcord worker launch`, `ripcord worker poll`)? `ripcord status {id}` shows it",
                humantime::format_duration(limit)
            );
            return Ok(ExitCode::from(1));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `clean-up IN_PROGRESS: 3 terminating, 4 terminated, 0 failed`.
pub fn progress_line(view: &CleanupView) -> String {
    let status = serde_json::to_value(view.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "clean-up {status}: {} terminating, {} terminated, {} failed",
        view.terminating, view.terminated, view.failed
    )
}
