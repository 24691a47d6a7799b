//! EventBridge events on Ripcord's queues (see `ripcord::eventbridge`).
//! On the launch queue, a runbook trigger starts one execution per
//! idempotency key, or is refused with the reason recorded under its key and
//! announced. On the poll queue, DRS' own launch result becomes a
//! `LaunchResultPushed` for the wave whose job it is, so the result is seen
//! before the next poll.

use crate::ports::Ports;
use crate::push::addressed;
use crate::step::{self, Failure, Handled, Report};
use ripcord::event::{Envelope, Event};
use ripcord::eventbridge::{DrsLaunchResult, EventBridgeEvent, Inbound};
use ripcord::ids::EventId;
use ripcord::plan::{Plan, load_plan};
use ripcord::ports::announce::Announcement;
use ripcord::ports::queue::QueueName;
use ripcord::ports::store::CreateOutcome;
use ripcord::trigger::{
    RunbookTrigger, TriggerError, TriggerOutcome, TriggerPolicy, TriggerRecord, Verdict,
    execution_id_for,
};
use ripcord_sim::push::{LAUNCH_FAILED, LAUNCH_SUCCEEDED};
use std::path::{Path, PathBuf};
use tracing::{info, warn};
use uuid::Uuid;

/// How the launch worker judges runbook triggers.
#[derive(Clone, Debug, Default)]
pub struct TriggerSettings {
    pub policy: TriggerPolicy,
    /// Where plans named by triggers live: `<dir>/<name>.yaml`.
    pub plans_dir: Option<PathBuf>,
}

/// Where a trigger came from, as its record keeps it.
struct Origin<'a> {
    event_id: &'a str,
    source: &'a str,
    account: Option<&'a str>,
}

impl<'a> From<&'a EventBridgeEvent> for Origin<'a> {
    fn from(e: &'a EventBridgeEvent) -> Self {
        Self {
            event_id: &e.id,
            source: &e.source,
            account: e.account.as_deref(),
        }
    }
}

impl<'a> From<&'a RunbookTrigger> for Origin<'a> {
    fn from(t: &'a RunbookTrigger) -> Self {
        Self {
            event_id: &t.event_id,
            source: &t.source,
            account: t.account.as_deref(),
        }
    }
}

/// A handled inbound event: it decided nothing of the state machine's.
fn done(handled: Handled) -> Report {
    Report {
        handled,
        decided: 0,
        effects: ripcord::recent::StepClass::Succeeded,
    }
}

/// Handles one EventBridge event received on `queue`.
pub async fn handle(
    ports: &Ports,
    queue: QueueName,
    settings: &TriggerSettings,
    event: &EventBridgeEvent,
) -> Result<Report, Failure> {
    match (Inbound::classify(event), queue) {
        (Inbound::Runbook(trigger), QueueName::Launch) => {
            runbook(ports, settings, event, trigger).await
        }
        (Inbound::DrsLaunchResult(Ok(result)), QueueName::Poll) => {
            launch_result(ports, &result).await
        }
        (Inbound::DrsLaunchResult(Err(reason)), _) => Err(Failure::Poison(format!(
            "a DRS launch result Ripcord cannot read: {reason}"
        ))),
        (
            Inbound::Other {
                source,
                detail_type,
            },
            _,
        ) => Err(Failure::Poison(format!(
            "an EventBridge event Ripcord does not handle (source {source:?}, detail-type {detail_type:?}); check the rule that routes it to the {queue} queue"
        ))),
        (_, queue) => Err(Failure::Poison(format!(
            "a {:?} event arrived on the {queue} queue; runbook triggers belong on the launch queue and DRS launch results on the poll queue",
            event.detail_type
        ))),
    }
}

async fn runbook(
    ports: &Ports,
    settings: &TriggerSettings,
    event: &EventBridgeEvent,
    trigger: Result<RunbookTrigger, TriggerError>,
) -> Result<Report, Failure> {
    let trigger = match trigger {
        Ok(t) => t,
        Err(TriggerError::InvalidDetail {
            reason,
            idempotency_key: Some(key),
        }) => {
            let reason = format!("the trigger's detail is invalid: {reason}");
            return refuse(ports, event, &key, None, reason).await;
        }
        // Without a key there is nothing to record it under.
        Err(e) => return Err(Failure::Poison(e.to_string())),
    };
    let plan = load_named_plan(settings.plans_dir.as_deref(), &trigger.detail.plan);
    match settings.policy.judge(&trigger, plan) {
        Verdict::Refuse(reason) => {
            let key = trigger.detail.idempotency_key.clone();
            refuse(ports, event, &key, Some(&trigger), reason).await
        }
        Verdict::Start {
            plan,
            recovery_confirmed,
        } => {
            // Selections are resolved once, here: the execution records the
            // servers and snapshots it got.
            let file = format!("{}.yaml", trigger.detail.plan);
            match crate::select::resolve(&*ports.drs, plan, &file).await {
                Ok(resolved) => start(ports, &trigger, resolved.plan, recovery_confirmed).await,
                Err(crate::select::SelectError::Plan(errors)) => {
                    let key = trigger.detail.idempotency_key.clone();
                    let reason = format!("the plan's selections cannot be resolved: {errors}");
                    refuse(ports, event, &key, Some(&trigger), reason).await
                }
                Err(drs) => Err(Failure::retry(drs)),
            }
        }
    }
}

/// The plan a trigger names, read from the plans directory.
pub fn load_named_plan(dir: Option<&Path>, name: &str) -> Result<Plan, String> {
    let dir = dir.ok_or_else(|| {
        "no plans directory is configured for the launch worker (set RIPCORD_PLANS_DIR or --plans-dir)"
            .to_owned()
    })?;
    let path = ["yaml", "yml"]
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no plan {name}.yaml in {}", dir.display()))?;
    load_plan(&path).map_err(|e| format!("the plan does not validate: {e}"))
}

fn record(
    origin: Origin<'_>,
    key: &str,
    trigger: Option<&RunbookTrigger>,
    outcome: TriggerOutcome,
    reason: Option<String>,
    now: ripcord::time::Timestamp,
) -> TriggerRecord {
    let detail = trigger.map(|t| &t.detail);
    TriggerRecord {
        idempotency_key: key.to_owned(),
        outcome,
        execution_id: execution_id_for(key),
        reason,
        event_id: origin.event_id.to_owned(),
        source: origin.source.to_owned(),
        account: origin.account.map(str::to_owned),
        requested_by: detail.map(|d| d.requested_by.clone()),
        mode: detail.map(|d| d.mode),
        plan: detail.map(|d| d.plan.clone()),
        received_at: now,
    }
}

async fn start(
    ports: &Ports,
    trigger: &RunbookTrigger,
    plan: Plan,
    recovery_confirmed: bool,
) -> Result<Report, Failure> {
    let key = &trigger.detail.idempotency_key;
    let now = ports.clock.now();
    let id = execution_id_for(key);
    let started = record(
        trigger.into(),
        key,
        Some(trigger),
        TriggerOutcome::Started,
        None,
        now,
    );
    if ports
        .trigger_log
        .record_trigger(&started)
        .await
        .map_err(Failure::retry)?
        == CreateOutcome::AlreadyExists
    {
        let first = ports
            .trigger_log
            .load_trigger(key)
            .await
            .map_err(Failure::retry)?;
        match first {
            Some(first) if first.outcome == TriggerOutcome::Refused => {
                info!(idempotency_key = %key, "a trigger with this key was refused before; this one starts nothing");
                return Ok(done(Handled::Ignored(format!(
                    "idempotency key {key} was refused before: {}",
                    first.reason.unwrap_or_default()
                ))));
            }
            // Started before: send the start again (a crash may have come
            // between the record and the start); it is a no-op if it ran.
            _ => {
                info!(idempotency_key = %key, execution_id = %id, "a trigger with this key started an execution before; nothing new starts")
            }
        }
    }
    let mut envelope = Envelope::start_execution(
        id,
        plan,
        &trigger.detail.requested_by,
        recovery_confirmed,
        now,
    );
    // One start event per key: a duplicate is found in the journal.
    envelope.event_id = EventId(Uuid::new_v5(&id.0, b"runbook-trigger-start"));
    let report = step::handle(ports, envelope).await?;
    if report.handled == Handled::Applied {
        info!(idempotency_key = %key, execution_id = %id, source = %trigger.source, "execution started by a runbook trigger");
    }
    Ok(report)
}

async fn refuse(
    ports: &Ports,
    event: &EventBridgeEvent,
    key: &str,
    trigger: Option<&RunbookTrigger>,
    reason: String,
) -> Result<Report, Failure> {
    let now = ports.clock.now();
    let refused = record(
        event.into(),
        key,
        trigger,
        TriggerOutcome::Refused,
        Some(reason.clone()),
        now,
    );
    warn!(idempotency_key = %key, source = %event.source, %reason, "runbook trigger refused");
    let first = match ports
        .trigger_log
        .record_trigger(&refused)
        .await
        .map_err(Failure::retry)?
    {
        CreateOutcome::Created => refused,
        CreateOutcome::AlreadyExists => match ports
            .trigger_log
            .load_trigger(key)
            .await
            .map_err(Failure::retry)?
        {
            // A redelivery of this very event: announce again (the first
            // announcement may not have gone out).
            Some(first) if first.event_id == event.id => first,
            _ => {
                return Ok(done(Handled::Ignored(format!(
                    "idempotency key {key} was used before; this trigger starts nothing"
                ))));
            }
        },
    };
    let announcement = Announcement::TriggerRefused {
        idempotency_key: key.to_owned(),
        execution_id: first.execution_id,
        source: first.source.clone(),
        account: first.account.clone(),
        reason: first.reason.clone().unwrap_or(reason),
        at: now,
    };
    ports
        .announcer
        .announce(&[announcement])
        .await
        .map_err(Failure::retry)?;
    Ok(done(Handled::Applied))
}

async fn launch_result(ports: &Ports, result: &DrsLaunchResult) -> Result<Report, Failure> {
    let tags = ports
        .describes
        .jobs
        .tags(&*ports.drs, &*ports.clock, &result.job_id)
        .await
        .map_err(|e| {
            if e.class.is_retryable() {
                Failure::Retry(e.to_string())
            } else {
                Failure::Poison(e.to_string())
            }
        })?;
    let Some((execution, wave)) = tags.as_ref().and_then(addressed) else {
        return Ok(done(Handled::Ignored(format!(
            "job {} is not one Ripcord started",
            result.job_id
        ))));
    };
    let state = if result.succeeded() {
        LAUNCH_SUCCEEDED
    } else {
        LAUNCH_FAILED
    };
    let event = Event::LaunchResultPushed {
        source_server_id: result.source_server_id.clone(),
        state: state.to_owned(),
    };
    let mut envelope = Envelope::new(execution, Some(wave), event, ports.clock.now());
    // The same EventBridge event always makes the same envelope.
    envelope.event_id = EventId(Uuid::new_v5(&execution.0, result.event_id.as_bytes()));
    Ok(step::handle(ports, envelope).await?)
}
