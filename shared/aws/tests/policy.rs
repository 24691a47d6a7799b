//! Every AWS call written in the adapters is granted by a policy in
//! `infra/iam/`: the calls of `ripcord aws bootstrap` by `bootstrap.json`,
//! every other by the policy of some worker kind or `serve`. The calls are
//! read from the source (`client.<operation>(`, `clients.sqs.<operation>(`,
//! `Client::new(..).<operation>(`), so an SDK call added without a policy
//! change fails here even if no test makes it. Which process kind makes
//! which call is checked by recording them (`RIPCORD_RECORD_AWS_CALLS`) in
//! the AWS worker tests (workers/tests/aws_workers.rs). The IAM actions a
//! call needs beyond its own name are `ripcord_aws::calls::required_actions`.

use ripcord_aws::calls::{granted_actions, not_granted};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn policy(file: &str) -> BTreeSet<String> {
    let path = crate_dir().join("../../infra/iam").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    granted_actions(&serde_json::from_str(&text).expect("a policy is JSON"))
}

/// `snake_case` → `PascalCase`, as the SDK names an operation.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The IAM prefix of a client expression: its field name in `Clients`, or
/// for a plain `client` the adapter's file (`src/ec2.rs`, `src/sqs/...`).
fn service(receiver: &str, file: &Path) -> String {
    let name = match receiver {
        "client" => file
            .strip_prefix(crate_dir().join("src"))
            .expect("under src")
            .components()
            .next()
            .expect("a file")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned(),
        r if r.starts_with("Client::new") => file
            .file_stem()
            .expect("a file")
            .to_string_lossy()
            .into_owned(),
        other => other.to_owned(),
    };
    match name.as_str() {
        "eventbridge" => "events".to_owned(),
        other => other.to_owned(),
    }
}

/// `(file, service:Operation)` for every SDK call in `src/`.
fn calls_in_source() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![crate_dir().join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("testing.rs") {
                files.push(path);
            }
        }
    }
    let receivers = [
        "client",
        "sqs",
        "dynamodb",
        "drs",
        "ec2",
        "ssm",
        "eventbridge",
        "cloudwatch",
    ];
    let mut calls = Vec::new();
    for file in files {
        let text: String = std::fs::read_to_string(&file)
            .expect("source")
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ");
        // Whitespace between a receiver and `.operation(` (rustfmt breaks
        // chains) does not count.
        let text: String = text.split_whitespace().collect::<Vec<_>>().join("");
        let mut rest = text.as_str();
        while let Some(at) = rest.find('.') {
            let before = &rest[..at];
            let after = &rest[at + 1..];
            let operation: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let receiver = receivers
                .iter()
                .find(|r| {
                    before.ends_with(*r)
                        && !before[..before.len() - r.len()]
                            .ends_with(|c: char| c.is_alphanumeric() || c == '_')
                })
                .map(|r| (*r).to_owned())
                .or_else(|| {
                    before
                        .rfind("Client::new(")
                        .filter(|i| before[*i..].ends_with(')') && !before[*i..].contains(';'))
                        .map(|_| "Client::new".to_owned())
                });
            if let Some(receiver) = receiver
                && !operation.is_empty()
                && after[operation.len()..].starts_with('(')
                && !["clone", "config"].contains(&operation.as_str())
            {
                calls.push((
                    file.clone(),
                    format!("{}:{}", service(&receiver, &file), pascal(&operation)),
                ));
            }
            rest = after;
        }
    }
    calls
}

#[test]
fn every_sdk_call_in_the_adapters_is_granted_by_a_policy() {
    let calls = calls_in_source();
    let bootstrap = policy("bootstrap.json");
    let mut runtime = BTreeSet::new();
    for kind in ["launch", "poll", "post-actions", "metrics", "serve"] {
        runtime.extend(policy(&format!("{kind}.json")));
    }
    let mut missing = Vec::new();
    for (file, call) in &calls {
        let by_bootstrap = file.components().any(|c| c.as_os_str() == "bootstrap");
        let granted = if by_bootstrap { &bootstrap } else { &runtime };
        for action in not_granted([call.as_str()], granted) {
            missing.push(format!(
                "{}: {action} is granted by no policy in infra/iam/{}",
                file.display(),
                if by_bootstrap {
                    "bootstrap.json"
                } else {
                    "(launch|poll|post-actions|metrics|serve).json"
                }
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "grant these in infra/iam (and the README's IAM table), or map the call in ripcord_aws::calls::required_actions:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_source_scan_finds_the_calls_the_adapters_make() {
    let calls: BTreeSet<String> = calls_in_source().into_iter().map(|(_, c)| c).collect();
    for expected in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessageBatch",
        "dynamodb:TransactWriteItems",
        "drs:StartRecovery",
        "ec2:DescribeInstanceStatus",
        "ssm:SendCommand",
        "events:PutEvents",
        "cloudwatch:PutMetricData",
        "sts:GetCallerIdentity",
        "sqs:CreateQueue",
        "dynamodb:CreateTable",
        "events:PutRule",
    ] {
        assert!(
            calls.contains(expected),
            "{expected} not found in {calls:?}"
        );
    }
}
