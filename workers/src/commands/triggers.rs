//! `ripcord triggers`: the runbook triggers received, newest first.

use crate::backend::{Backend, BackendArgs};
use ripcord::trigger::TriggerOutcome;
use std::process::ExitCode;

pub async fn list(args: &BackendArgs, json: bool) -> anyhow::Result<ExitCode> {
    let backend = Backend::open_existing(args).await?;
    let triggers = backend.trigger_log().list_triggers(100).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&triggers)?);
        return Ok(ExitCode::SUCCESS);
    }
    if triggers.is_empty() {
        println!("no runbook triggers received in {}", args.describe());
    }
    for t in triggers {
        let outcome = match t.outcome {
            TriggerOutcome::Started => format!("STARTED  {}", t.execution_id),
            TriggerOutcome::Refused => "REFUSED".to_owned(),
        };
        println!(
            "{}  {}  key={}  source={}  account={}  plan={}  by={}",
            t.received_at.format("%Y-%m-%d %H:%M:%S"),
            outcome,
            t.idempotency_key,
            t.source,
            t.account.as_deref().unwrap_or("-"),
            t.plan.as_deref().unwrap_or("-"),
            t.requested_by.as_deref().unwrap_or("-"),
        );
        if let Some(reason) = t.reason {
            println!("  reason: {reason}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
