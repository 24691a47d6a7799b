//! The CloudFormation template makes what `ripcord aws bootstrap` makes:
//! the same queue, DLQ, table, bus and rule names for a prefix, the same
//! redrive, retention, visibility, keys, indexes, TTL and event patterns
//! (read from bootstrap's own constants, not copies), queue policies that
//! let only each rule send; and its roles grant exactly `infra/iam/*.json`.
//! The services, scaling and alarms are in `template_services.rs`, the
//! runbook and cfn-lint in `template_runbook.rs`.

use ripcord::ports::QueueName;
use ripcord_aws::ResourceNames;
use ripcord_aws::bootstrap::{
    BootstrapOptions, INDEXES, KEY_ATTRIBUTES, RULE_TARGET_ID, TABLE_KEY, TTL_ATTRIBUTE,
    rule_may_send, rules,
};
use ripcord_tests::template::{PREFIX, Template, get_att, number, reference, resolve};
use serde_json::{Value, json};

fn names() -> ResourceNames {
    ResourceNames::new(PREFIX)
}

#[test]
fn queues_and_dead_letter_queues_are_named_and_set_as_bootstrap_makes_them() {
    let template = Template::load();
    let options = BootstrapOptions::default();
    let queues = template.of_type("AWS::SQS::Queue");
    assert_eq!(
        queues.len(),
        2 * QueueName::ALL.len(),
        "four queues, four DLQs"
    );
    for queue in QueueName::ALL {
        let (dlq_id, dlq) = template.named(
            "AWS::SQS::Queue",
            "QueueName",
            &names().dead_letter_queue(queue),
        );
        let (_, work) = template.named("AWS::SQS::Queue", "QueueName", &names().queue(queue));
        let dlq = &dlq["Properties"];
        let work = &work["Properties"];
        assert_eq!(
            number(&dlq["MessageRetentionPeriod"]),
            Some(options.dead_letter_retention.as_secs()),
            "{queue:?} DLQ retention"
        );
        assert_eq!(
            number(&work["VisibilityTimeout"]),
            Some(options.visibility_timeout.as_secs()),
            "{queue:?} visibility timeout"
        );
        assert_eq!(
            work["RedrivePolicy"],
            json!({
                "deadLetterTargetArn": get_att(dlq_id, "Arn"),
                "maxReceiveCount": options.max_receive_count,
            }),
            "{queue:?} redrive"
        );
        for properties in [dlq, work] {
            assert_eq!(properties["SqsManagedSseEnabled"], true, "{queue:?}: SSE");
        }
    }
}

#[test]
fn the_table_has_bootstraps_keys_indexes_and_ttl_and_survives_teardown() {
    let template = Template::load();
    let (table_id, table) = template.named("AWS::DynamoDB::Table", "TableName", &names().table());
    let retained: Vec<&str> = template
        .resources()
        .filter(|(_, r)| r["DeletionPolicy"] == "Retain")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        retained,
        [table_id],
        "teardown keeps the table, and only it"
    );
    assert_eq!(table["DeletionPolicy"], "Retain");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    let table = &table["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["KeySchema"],
        json!([
            { "AttributeName": TABLE_KEY[0], "KeyType": "HASH" },
            { "AttributeName": TABLE_KEY[1], "KeyType": "RANGE" },
        ])
    );
    let attributes: Vec<Value> = KEY_ATTRIBUTES
        .iter()
        .map(|a| json!({ "AttributeName": a, "AttributeType": "S" }))
        .collect();
    assert_eq!(table["AttributeDefinitions"], Value::Array(attributes));
    let indexes: Vec<Value> = INDEXES
        .iter()
        .map(|index| {
            let projection = match index.projected {
                Some(attributes) => {
                    json!({ "ProjectionType": "INCLUDE", "NonKeyAttributes": attributes })
                }
                None => json!({ "ProjectionType": "ALL" }),
            };
            json!({
                "IndexName": index.name,
                "KeySchema": [
                    { "AttributeName": index.hash_key, "KeyType": "HASH" },
                    { "AttributeName": index.range_key, "KeyType": "RANGE" },
                ],
                "Projection": projection,
            })
        })
        .collect();
    assert_eq!(table["GlobalSecondaryIndexes"], Value::Array(indexes));
    assert_eq!(
        table["TimeToLiveSpecification"],
        json!({ "AttributeName": TTL_ATTRIBUTE, "Enabled": true })
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(
        table["DeletionProtectionEnabled"],
        reference("TableDeletionProtection")
    );
}

#[test]
fn the_bus_and_rules_have_bootstraps_names_patterns_and_targets() {
    let template = Template::load();
    let (bus_id, _) = template.named("AWS::Events::EventBus", "Name", &names().event_bus());
    let expected = rules(&names());
    assert_eq!(template.of_type("AWS::Events::Rule").len(), expected.len());
    for rule in expected {
        let (_, found) = template.named("AWS::Events::Rule", "Name", &rule.name);
        let found = &found["Properties"];
        let bus = if rule.bus == "default" {
            json!("default")
        } else {
            assert_eq!(rule.bus, names().event_bus());
            get_att(bus_id, "Name")
        };
        assert_eq!(found["EventBusName"], bus, "{}: bus", rule.name);
        assert_eq!(
            found["EventPattern"], rule.pattern,
            "{}: pattern",
            rule.name
        );
        assert_eq!(found["State"], "ENABLED");
        let (queue_id, _) =
            template.named("AWS::SQS::Queue", "QueueName", &names().queue(rule.queue));
        assert_eq!(
            found["Targets"],
            json!([{ "Id": RULE_TARGET_ID, "Arn": get_att(queue_id, "Arn") }]),
            "{}: target",
            rule.name
        );
    }
}

#[test]
fn only_its_rule_may_send_to_a_fed_queue() {
    let template = Template::load();
    let policies = template.of_type("AWS::SQS::QueuePolicy");
    let fed = rules(&names());
    assert_eq!(
        policies.len(),
        fed.len(),
        "one policy per fed queue, no more"
    );
    for rule in fed {
        let (queue_id, _) =
            template.named("AWS::SQS::Queue", "QueueName", &names().queue(rule.queue));
        let (rule_id, _) = template.named("AWS::Events::Rule", "Name", &rule.name);
        let (_, policy) = policies
            .iter()
            .find(|(_, p)| p["Properties"]["Queues"] == json!([reference(queue_id)]))
            .unwrap_or_else(|| panic!("no queue policy on {queue_id}"));
        let document = &policy["Properties"]["PolicyDocument"];
        assert_eq!(document["Version"], "2012-10-17");
        let statement = rule_may_send("QUEUE_ARN", "RULE_ARN")
            .to_string()
            .replace("\"QUEUE_ARN\"", &get_att(queue_id, "Arn").to_string())
            .replace("\"RULE_ARN\"", &get_att(rule_id, "Arn").to_string());
        let statement: Value = serde_json::from_str(&statement).expect("json");
        assert_eq!(document["Statement"], json!([statement]), "{queue_id}");
    }
}

/// Task role → the policy file it must equal.
const ROLES: [(&str, &str); 5] = [
    ("LaunchTaskRole", "launch.json"),
    ("PollTaskRole", "poll.json"),
    ("PostActionsTaskRole", "post-actions.json"),
    ("MetricsTaskRole", "metrics.json"),
    ("ServeTaskRole", "serve.json"),
];

#[test]
fn each_task_role_grants_exactly_its_iam_policy_file() {
    let template = Template::load();
    for (role, file) in ROLES {
        let path = ripcord_tests::template::repository()
            .join("infra/iam")
            .join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let expected: Value = serde_json::from_str(&text).expect("a JSON policy");
        let properties = &template.resource(role)["Properties"];
        assert_eq!(
            properties["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
            json!({ "Service": "ecs-tasks.amazonaws.com" }),
            "{role} is an ECS task role"
        );
        let policies = properties["Policies"].as_array().expect("Policies");
        assert_eq!(policies.len(), 1, "{role}: one inline policy");
        assert!(
            properties.get("ManagedPolicyArns").is_none(),
            "{role}: nothing beside {file}"
        );
        let granted = resolve(&policies[0]["PolicyDocument"]);
        assert_eq!(
            granted,
            expected,
            "{role} and infra/iam/{file} differ (REGION, ACCOUNT_ID and the prefix `ripcord` stand for Fn::Sub's ${{AWS::Region}}, ${{AWS::AccountId}}, ${{NamePrefix}}):\n{}",
            serde_json::to_string_pretty(&granted).unwrap_or_default()
        );
    }
}

#[test]
fn every_role_is_a_task_role_the_execution_role_or_the_runbooks() {
    let template = Template::load();
    let mut roles: Vec<&str> = template
        .of_type("AWS::IAM::Role")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    roles.sort_unstable();
    let mut known: Vec<&str> = ROLES.iter().map(|(role, _)| *role).collect();
    known.extend(["TaskExecutionRole", "RunbookRole"]);
    known.sort_unstable();
    assert_eq!(roles, known, "a new role needs a policy file or a test");
}

#[test]
fn the_outputs_are_the_shared_contracts() {
    let template = Template::load();
    let mut outputs: Vec<&str> = template.root["Outputs"]
        .as_object()
        .expect("Outputs")
        .keys()
        .map(String::as_str)
        .collect();
    outputs.sort_unstable();
    let mut expected = vec![
        "NamePrefix",
        "TableName",
        "EventBusName",
        "ApiUrl",
        "RunbookDocumentName",
        "ClusterName",
        "AlarmTopicArn",
    ];
    let queues: Vec<String> = QueueName::ALL
        .iter()
        .flat_map(|q| {
            let kind: String = q
                .as_str()
                .split('-')
                .map(|w| w[..1].to_uppercase() + &w[1..])
                .collect();
            [
                format!("{kind}QueueUrl"),
                format!("{kind}DeadLetterQueueUrl"),
            ]
        })
        .collect();
    expected.extend(queues.iter().map(String::as_str));
    expected.sort_unstable();
    assert_eq!(outputs, expected);
    assert_eq!(template.default_of("NamePrefix"), PREFIX);
}

/// CloudFormation takes a template inline (`--template-body`, what `aws
/// cloudformation deploy` sends without `--s3-bucket`) only up to 51,200
/// bytes, and from S3 up to 1 MB. Ours is larger than the first, so every
/// documented deploy line must upload it with `--s3-bucket`; moto accepts any
/// size inline, so only this test keeps the README's line working on AWS.
#[test]
fn the_documented_deploy_lines_upload_the_template_through_s3_when_it_is_too_big_to_inline() {
    const INLINE_LIMIT: usize = 51_200;
    const S3_LIMIT: usize = 1_000_000;
    let size = std::fs::read(ripcord_tests::template::template_path())
        .expect("the template")
        .len();
    assert!(
        size < S3_LIMIT,
        "the template is {size} bytes, over CloudFormation's 1 MB"
    );
    let root = ripcord_tests::template::repository();
    let mut lines_seen = 0;
    for doc in ["README.md", "infra/README.md"] {
        let text = std::fs::read_to_string(root.join(doc)).expect("the doc");
        // One command per logical line: shell continuations joined.
        for command in text.replace("\\\n", " ").lines() {
            if !command.contains("aws cloudformation deploy") {
                continue;
            }
            lines_seen += 1;
            if size > INLINE_LIMIT {
                assert!(
                    command.contains("--s3-bucket"),
                    "{doc}: the template is {size} bytes, over the 51,200 bytes CloudFormation \
                     takes inline, so this deploy line needs --s3-bucket: {command}"
                );
            }
        }
    }
    assert!(lines_seen > 0, "the README documents the deploy line");
}
