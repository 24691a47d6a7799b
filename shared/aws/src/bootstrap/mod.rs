//! `ripcord aws bootstrap`: creates what one deployment needs, and only
//! what is missing, so running it again is harmless:
//! - the four work queues, each with its dead-letter queue (RedrivePolicy);
//! - the DynamoDB table with its indexes (on demand) and TTL on `expiresAt`;
//! - the Ripcord event bus and two rules feeding the queues ([`rules`]);
//! - each fed queue's policy letting EventBridge send from its rule.
//!
//! What it creates is public ([`rules`], [`INDEXES`], [`BootstrapOptions`]'s
//! defaults, ...): `tests/tests/template.rs` checks that the CloudFormation
//! template `infra/ripcord.yaml` makes the same.
//!
//! Existing queues get the configured attributes again (visibility,
//! redrive), so a changed `max_receive_count` takes effect.

use crate::config::{Clients, ResourceNames};
use crate::error::service_error;
use aws_sdk_eventbridge::types::{RuleState, Target};
use aws_sdk_sqs::types::QueueAttributeName;
use ripcord::ports::QueueName;
use ripcord::service_error::ServiceError;
use std::time::Duration;

mod report;
mod table;

pub use report::{BootstrapError, BootstrapReport};
use report::{failed, request};
use table::table;
pub use table::{INDEXES, IndexLayout, KEY_ATTRIBUTES, TABLE_KEY, TTL_ATTRIBUTE};

/// The detail-type of a runbook's start request on the Ripcord bus.
pub const START_EXECUTION_DETAIL_TYPE: &str = "Ripcord Start Execution";
/// The DRS event that tells of a launch before the next poll.
pub const DRS_LAUNCH_RESULT_DETAIL_TYPE: &str = "DRS Source Server Launch Result";

/// The id of each rule's one target, its queue.
pub const RULE_TARGET_ID: &str = "ripcord-queue";

/// An EventBridge rule that feeds a work queue.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleLayout {
    pub name: String,
    /// The bus it listens on (`default` for DRS' own events).
    pub bus: String,
    pub pattern: serde_json::Value,
    pub queue: QueueName,
}

/// The deployment's two rules: runbook triggers ("Ripcord Start
/// Execution", any source: the launch worker checks the allow-list, so
/// refused triggers are recorded) on its bus → launch queue; DRS launch
/// results on the default bus → poll queue.
pub fn rules(names: &ResourceNames) -> [RuleLayout; 2] {
    [
        RuleLayout {
            name: format!("{}-start-execution", names.prefix),
            bus: names.event_bus(),
            pattern: serde_json::json!({ "detail-type": [START_EXECUTION_DETAIL_TYPE] }),
            queue: QueueName::Launch,
        },
        RuleLayout {
            name: format!("{}-drs-launch-result", names.prefix),
            bus: "default".to_owned(),
            pattern: serde_json::json!({
                "source": ["aws.drs"],
                "detail-type": [DRS_LAUNCH_RESULT_DETAIL_TYPE],
            }),
            queue: QueueName::Poll,
        },
    ]
}

/// The statement of a fed queue's policy: EventBridge may send to it from
/// its rule only (moto does not check it; AWS drops the events without it).
pub fn rule_may_send(queue_arn: &str, rule_arn: &str) -> serde_json::Value {
    serde_json::json!({
        "Sid": "ripcord-eventbridge",
        "Effect": "Allow",
        "Principal": { "Service": "events.amazonaws.com" },
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": { "ArnEquals": { "aws:SourceArn": rule_arn } },
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootstrapOptions {
    /// Receives of a message before SQS moves it to the DLQ.
    pub max_receive_count: u32,
    /// The queues' default visibility timeout (workers extend it as they go).
    pub visibility_timeout: Duration,
    /// How long dead messages are kept (SQS allows at most 14 days).
    pub dead_letter_retention: Duration,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            max_receive_count: 5,
            visibility_timeout: Duration::from_secs(60),
            dead_letter_retention: Duration::from_secs(14 * 24 * 3600),
        }
    }
}

/// Creates what is missing of the deployment named by `names`.
pub async fn bootstrap(
    clients: &Clients,
    names: &ResourceNames,
    options: &BootstrapOptions,
) -> Result<BootstrapReport, BootstrapError> {
    let mut report = BootstrapReport::default();
    let mut queue_arns = Vec::new();
    for queue in QueueName::ALL {
        let arn = queue_with_dead_letters(clients, names, options, queue, &mut report).await?;
        queue_arns.push((queue, arn));
    }
    table(clients, names, &mut report).await?;

    event_bus(clients, &names.event_bus(), &mut report).await?;
    for rule in rules(names) {
        let queue_arn = queue_arns
            .iter()
            .find(|(name, _)| *name == rule.queue)
            .map(|(_, arn)| arn.clone())
            .unwrap_or_default();
        let rule_arn = rule_to_queue(clients, &rule, &queue_arn, &mut report).await?;
        allow_rule_to_send(clients, &names.queue(rule.queue), &queue_arn, &rule_arn).await?;
    }
    Ok(report)
}

async fn queue_url(clients: &Clients, name: &str) -> Result<Option<String>, BootstrapError> {
    match clients.sqs.get_queue_url().queue_name(name).send().await {
        Ok(out) => Ok(out.queue_url),
        Err(e) => {
            let e = service_error("sqs", "GetQueueUrl", e);
            if matches!(
                e.code.as_str(),
                "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist"
            ) {
                Ok(None)
            } else {
                Err(failed(&format!("queue {name}"))(e))
            }
        }
    }
}

/// Creates the queue or sets its attributes; answers its ARN.
async fn ensure_queue(
    clients: &Clients,
    name: &str,
    attributes: Vec<(QueueAttributeName, String)>,
    report: &mut BootstrapReport,
) -> Result<String, BootstrapError> {
    let resource = format!("queue {name}");
    let url = match queue_url(clients, name).await? {
        Some(url) => {
            clients
                .sqs
                .set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(attributes.into_iter().collect()))
                .send()
                .await
                .map_err(|e| failed(&resource)(service_error("sqs", "SetQueueAttributes", e)))?;
            report.note(false, resource.clone());
            url
        }
        None => {
            let out = clients
                .sqs
                .create_queue()
                .queue_name(name)
                .set_attributes(Some(attributes.into_iter().collect()))
                .send()
                .await
                .map_err(|e| failed(&resource)(service_error("sqs", "CreateQueue", e)))?;
            report.note(true, resource.clone());
            out.queue_url.unwrap_or_default()
        }
    };
    let out = clients
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failed(&resource)(service_error("sqs", "GetQueueAttributes", e)))?;
    out.attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| BootstrapError::Request(format!("{resource} has no QueueArn attribute")))
}

async fn queue_with_dead_letters(
    clients: &Clients,
    names: &ResourceNames,
    options: &BootstrapOptions,
    queue: QueueName,
    report: &mut BootstrapReport,
) -> Result<String, BootstrapError> {
    let dead_arn = ensure_queue(
        clients,
        &names.dead_letter_queue(queue),
        vec![(
            QueueAttributeName::MessageRetentionPeriod,
            options.dead_letter_retention.as_secs().to_string(),
        )],
        report,
    )
    .await?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_arn,
        "maxReceiveCount": options.max_receive_count.max(1),
    });
    ensure_queue(
        clients,
        &names.queue(queue),
        vec![
            (
                QueueAttributeName::VisibilityTimeout,
                options.visibility_timeout.as_secs().to_string(),
            ),
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
        ],
        report,
    )
    .await
}

async fn event_bus(
    clients: &Clients,
    bus: &str,
    report: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let resource = format!("event bus {bus}");
    let fail = failed(&resource);
    let exists = match clients
        .eventbridge
        .describe_event_bus()
        .name(bus)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) => {
            let e = service_error("events", "DescribeEventBus", e);
            if e.code != "ResourceNotFoundException" {
                return Err(fail(e));
            }
            false
        }
    };
    if !exists {
        clients
            .eventbridge
            .create_event_bus()
            .name(bus)
            .send()
            .await
            .map_err(|e| fail(service_error("events", "CreateEventBus", e)))?;
    }
    report.note(!exists, resource.clone());
    Ok(())
}

/// Puts the rule (create or update) and its one SQS target; answers the
/// rule's ARN.
async fn rule_to_queue(
    clients: &Clients,
    layout: &RuleLayout,
    queue_arn: &str,
    report: &mut BootstrapReport,
) -> Result<String, BootstrapError> {
    let (rule, bus, pattern) = (layout.name.as_str(), layout.bus.as_str(), &layout.pattern);
    let resource = format!("rule {rule} on bus {bus}");
    let fail = failed(&resource);
    let exists = match clients
        .eventbridge
        .describe_rule()
        .name(rule)
        .event_bus_name(bus)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) => {
            let e = service_error("events", "DescribeRule", e);
            if e.code != "ResourceNotFoundException" {
                return Err(fail(e));
            }
            false
        }
    };
    let out = clients
        .eventbridge
        .put_rule()
        .name(rule)
        .event_bus_name(bus)
        .event_pattern(pattern.to_string())
        .state(RuleState::Enabled)
        .description("Ripcord: feeds a work queue (made by `ripcord aws bootstrap`)")
        .send()
        .await
        .map_err(|e| fail(service_error("events", "PutRule", e)))?;
    let target = Target::builder()
        .id(RULE_TARGET_ID)
        .arn(queue_arn)
        .build()
        .map_err(request)?;
    let targets = clients
        .eventbridge
        .put_targets()
        .rule(rule)
        .event_bus_name(bus)
        .targets(target)
        .send()
        .await
        .map_err(|e| fail(service_error("events", "PutTargets", e)))?;
    if targets.failed_entry_count() > 0 {
        let why: Vec<String> = targets
            .failed_entries()
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f.error_code().unwrap_or(""),
                    f.error_message().unwrap_or("")
                )
            })
            .collect();
        return Err(fail(ServiceError::from_code(
            "events",
            "PutTargets",
            "FailedEntry",
            &why.join("; "),
        )));
    }
    report.note(!exists, resource.clone());
    out.rule_arn
        .ok_or_else(|| BootstrapError::Request(format!("PutRule for {rule} returned no ARN")))
}

/// The queue policy EventBridge needs to deliver to the queue.
async fn allow_rule_to_send(
    clients: &Clients,
    queue: &str,
    queue_arn: &str,
    rule_arn: &str,
) -> Result<(), BootstrapError> {
    let resource = format!("policy of queue {queue}");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [rule_may_send(queue_arn, rule_arn)],
    });
    let url = queue_url(clients, queue).await?.ok_or_else(|| {
        BootstrapError::Request(format!("queue {queue} vanished during bootstrap"))
    })?;
    clients
        .sqs
        .set_queue_attributes()
        .queue_url(url)
        .attributes(QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .map_err(|e| failed(&resource)(service_error("sqs", "SetQueueAttributes", e)))?;
    Ok(())
}
