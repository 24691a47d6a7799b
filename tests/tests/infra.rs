//! The IAM policies in `infra/iam/` and the IAM table of the README's
//! "Running on AWS" section say the same thing: each policy is a valid
//! policy document and grants exactly the actions the README lists for its
//! process kind (for a worker: the row "every worker" and its own row).

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Policy file → the README rows (by their first cell) it must match.
const POLICIES: [(&str, &[&str]); 6] = [
    ("launch.json", &["every worker", "launch"]),
    ("poll.json", &["every worker", "poll"]),
    ("post-actions.json", &["every worker", "post-actions"]),
    ("metrics.json", &["every worker", "metrics"]),
    ("serve.json", &["`ripcord serve`"]),
    (
        "bootstrap.json",
        &["`ripcord aws bootstrap` (once, by an operator)"],
    ),
];

/// The README's IAM table: first cell → the actions named in the second.
fn readme_iam_table() -> Vec<(String, BTreeSet<String>)> {
    let readme = std::fs::read_to_string(repository().join("README.md")).expect("README.md");
    let start = readme
        .find("**IAM permissions**")
        .expect("the README has an IAM permissions table");
    readme[start..]
        .lines()
        .skip_while(|line| !line.starts_with("| who |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells[1].to_owned(), actions_named_in(cells[2]))
        })
        .collect()
}

/// Every `service:Action` in backticks.
fn actions_named_in(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| {
            word.split_once(':').is_some_and(|(service, action)| {
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && action.chars().all(|c| c.is_ascii_alphanumeric())
                    && action.starts_with(|c: char| c.is_ascii_uppercase())
            })
        })
        .map(str::to_owned)
        .collect()
}

/// The actions a policy document allows, after checking its shape.
fn policy_actions(file: &str) -> BTreeSet<String> {
    let path = repository().join("infra/iam").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let policy: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
    assert_eq!(policy["Version"], "2012-10-17", "{file}: policy version");
    let statements = policy["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: `Statement` must be a list"));
    assert!(!statements.is_empty(), "{file}: no statements");
    let mut actions = BTreeSet::new();
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow", "{file}: {statement}");
        let resources = match &statement["Resource"] {
            Value::String(r) => vec![r.as_str()],
            Value::Array(rs) => rs.iter().filter_map(Value::as_str).collect(),
            other => panic!("{file}: `Resource` must be a string or a list, not {other}"),
        };
        assert!(
            !resources.is_empty(),
            "{file}: a statement without resources"
        );
        for resource in resources {
            assert!(
                resource == "*" || resource.starts_with("arn:aws:"),
                "{file}: `{resource}` is not an ARN"
            );
        }
        let listed = statement["Action"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: `Action` must be a list: {statement}"));
        for action in listed {
            let action = action
                .as_str()
                .unwrap_or_else(|| panic!("{file}: {action} is not a string"));
            assert!(
                actions.insert(action.to_owned()),
                "{file}: {action} is granted twice"
            );
        }
    }
    actions
}

#[test]
fn each_iam_policy_grants_exactly_what_the_readme_lists() {
    let table = readme_iam_table();
    assert!(table.len() >= POLICIES.len(), "README IAM table: {table:?}");
    for (file, rows) in POLICIES {
        let mut listed = BTreeSet::new();
        for row in rows {
            let (_, actions) = table
                .iter()
                .find(|(who, _)| who == row)
                .unwrap_or_else(|| panic!("the README's IAM table has no row `{row}`"));
            assert!(!actions.is_empty(), "README row `{row}` names no actions");
            listed.extend(actions.iter().cloned());
        }
        let granted = policy_actions(file);
        let unlisted: Vec<&String> = granted.difference(&listed).collect();
        let missing: Vec<&String> = listed.difference(&granted).collect();
        assert!(
            unlisted.is_empty() && missing.is_empty(),
            "infra/iam/{file} and the README's IAM rows {rows:?} disagree:\n  \
             granted but not in the README: {unlisted:?}\n  \
             in the README but not granted: {missing:?}"
        );
    }
}

#[test]
fn every_policy_file_is_checked() {
    let mut files: Vec<String> = std::fs::read_dir(repository().join("infra/iam"))
        .expect("infra/iam")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut checked: Vec<String> = POLICIES.iter().map(|(f, _)| f.to_string()).collect();
    checked.sort();
    assert_eq!(files, checked, "add new policy files to POLICIES");
}

#[test]
fn actions_are_read_from_backticks_only() {
    let found = actions_named_in(
        "`sqs:SendMessage`, `drs:TagResource` (the job's tags); `ec2:DescribeInstances` on `*`, not `ripcord status`",
    );
    let expected: BTreeSet<String> = [
        "sqs:SendMessage",
        "drs:TagResource",
        "ec2:DescribeInstances",
    ]
    .map(String::from)
    .into();
    assert_eq!(found, expected);
}
