//! Which AWS calls a process makes, and the IAM actions they need: the
//! ground truth the least-privilege policies in `infra/iam/` are tested
//! against. With `RIPCORD_RECORD_AWS_CALLS=FILE` every client of
//! [`crate::Clients`] appends one line per call to FILE, the call's
//! IAM-style name (`sqs:ReceiveMessage`, `events:PutEvents`), read from the
//! operation metadata the SDK puts in each call's config bag. The AWS
//! worker tests record each process kind and check its calls against its
//! policy; `tests/tests/policy.rs` checks every call written in the
//! adapters statically, so a new SDK call without a policy change fails.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The environment variable naming the file calls are appended to.
pub const RECORD_CALLS_VAR: &str = "RIPCORD_RECORD_AWS_CALLS";

/// The IAM service prefix of an SDK service id (the second part of the
/// operation metadata: `SQS`, `DynamoDB`, `drs`, `EventBridge`, ...).
pub fn iam_prefix(sdk_service: &str) -> String {
    match sdk_service {
        "EventBridge" => "events".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

/// The IAM actions a call (`service:Operation`) needs where they are not
/// the call's own name. IAM authorizes DynamoDB transactions per item
/// (Ripcord's put new items and update existing ones) and SQS batches as
/// their single-message action; GetCallerIdentity needs no permission.
pub fn required_actions(call: &str) -> Vec<String> {
    let same = |actions: &[&str]| actions.iter().map(|a| (*a).to_owned()).collect();
    match call {
        "dynamodb:TransactWriteItems" => same(&["dynamodb:PutItem", "dynamodb:UpdateItem"]),
        "dynamodb:TransactGetItems" | "dynamodb:BatchGetItem" => same(&["dynamodb:GetItem"]),
        "sqs:SendMessageBatch" => same(&["sqs:SendMessage"]),
        "sqs:DeleteMessageBatch" => same(&["sqs:DeleteMessage"]),
        "sqs:ChangeMessageVisibilityBatch" => same(&["sqs:ChangeMessageVisibility"]),
        "sts:GetCallerIdentity" => Vec::new(),
        other => vec![other.to_owned()],
    }
}

/// The actions an IAM policy document allows (its `Allow` statements'
/// `Action`, a string or a list).
pub fn granted_actions(policy: &serde_json::Value) -> BTreeSet<String> {
    let statements = policy["Statement"].as_array().map(Vec::as_slice);
    let mut granted = BTreeSet::new();
    for statement in statements.unwrap_or_default() {
        if statement["Effect"] != "Allow" {
            continue;
        }
        match &statement["Action"] {
            serde_json::Value::String(action) => {
                granted.insert(action.clone());
            }
            serde_json::Value::Array(actions) => {
                granted.extend(actions.iter().filter_map(|a| a.as_str().map(str::to_owned)));
            }
            _ => {}
        }
    }
    granted
}

/// The IAM actions `calls` (`service:Operation`) need that `granted` lacks,
/// each with the call that needs it: `drs:StartRecovery (for drs:StartRecovery)`.
pub fn not_granted<'a>(
    calls: impl IntoIterator<Item = &'a str>,
    granted: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut missing = BTreeSet::new();
    for call in calls {
        for action in required_actions(call) {
            if !granted.contains(&action) {
                missing.insert(format!("{action} (for {call})"));
            }
        }
    }
    missing
}

/// Appends each call's `service:Operation` to a file.
#[derive(Debug)]
pub struct CallRecorder {
    path: PathBuf,
    file: Mutex<std::fs::File>,
}

impl CallRecorder {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// The recorder `RIPCORD_RECORD_AWS_CALLS` asks for, if any. A file
    /// that cannot be opened is logged and nothing is recorded: recording
    /// is for tests, never a reason for a worker not to run.
    pub fn from_env() -> Option<Self> {
        let path = std::env::var_os(RECORD_CALLS_VAR).filter(|p| !p.is_empty())?;
        match Self::open(Path::new(&path)) {
            Ok(recorder) => Some(recorder),
            Err(e) => {
                tracing::warn!(path = %Path::new(&path).display(), error = %e, "cannot open the file to record AWS calls in; not recording them");
                None
            }
        }
    }
}

impl Intercept for CallRecorder {
    fn name(&self) -> &'static str {
        "CallRecorder"
    }

    // Not `read_before_execution`: a client's interceptors see that before
    // the operation's configuration (its metadata) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            let line = format!("{}:{}\n", iam_prefix(metadata.service()), metadata.name());
            let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = file.write_all(line.as_bytes()) {
                tracing::warn!(path = %self.path.display(), error = %e, "could not record an AWS call");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_service_ids_become_iam_prefixes() {
        assert_eq!(iam_prefix("EventBridge"), "events");
        assert_eq!(iam_prefix("DynamoDB"), "dynamodb");
        assert_eq!(iam_prefix("drs"), "drs");
        assert_eq!(iam_prefix("CloudWatch"), "cloudwatch");
    }

    #[test]
    fn batches_and_transactions_need_their_single_item_actions() {
        assert_eq!(
            required_actions("dynamodb:TransactWriteItems"),
            ["dynamodb:PutItem", "dynamodb:UpdateItem"]
        );
        assert_eq!(
            required_actions("sqs:DeleteMessageBatch"),
            ["sqs:DeleteMessage"]
        );
        assert!(required_actions("sts:GetCallerIdentity").is_empty());
        assert_eq!(required_actions("drs:StartRecovery"), ["drs:StartRecovery"]);
    }

    #[test]
    fn a_call_is_granted_when_every_action_it_needs_is() {
        let policy = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:PutItem", "sqs:DeleteMessage"], "Resource": "*"},
            {"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": "*"},
        ]});
        let granted = granted_actions(&policy);
        let calls = [
            "dynamodb:TransactWriteItems",
            "sqs:DeleteMessageBatch",
            "sts:GetCallerIdentity",
        ];
        assert!(not_granted(calls, &granted).is_empty());
        assert_eq!(
            not_granted(["drs:StartRecovery"], &granted),
            BTreeSet::from(["drs:StartRecovery (for drs:StartRecovery)".to_owned()])
        );
    }
}
