//! The CloudFormation stack (`infra/ripcord.yaml`) deployed into moto with
//! CreateStack, and a drill run on it by `ripcord worker --backend aws`
//! processes, one per kind, configured only from the stack's outputs: the
//! outputs name exactly what `ResourceNames` derives from the prefix (what
//! `ripcord aws bootstrap` creates), the drill COMPLETES on the stack's
//! queues, table, bus and DRS launch-result rule, and DeleteStack removes
//! the stack but keeps the table (DeletionPolicy Retain).
//!
//! What moto (5.x) ignores, checked statically by `tests/tests/template*.rs`
//! instead: it creates nothing for `AWS::SQS::QueuePolicy` (2),
//! `AWS::CloudWatch::Alarm` (12), `AWS::ApplicationAutoScaling::ScalableTarget`
//! (4) and `::ScalingPolicy` (4), listing them with an empty type and id —
//! this test asserts that exactly the template's resources of those types
//! are the ignored ones, so a moto that learns one says so here. Of what it
//! creates, it leaves the table's TTL and point-in-time recovery disabled,
//! runs no ECS task (services, health checks and the load balancer are
//! records), and answers DescribeDocument on the runbook with a 500 (the
//! runbook's scripts are run by hand in `tests/tests/runbook_on_moto.rs`).
//!
//! Needs RIPCORD_TEST_MOTO_URL, RIPCORD_TEST_SIM_URL (the simulator server
//! started with `--ec2-endpoint` and `--events-endpoint` at moto) and
//! RIPCORD_TEST_PYTHON (boto3, as scripts/test sets); skipped without them
//! unless RIPCORD_REQUIRE_AWS_TESTS=1.

mod support;

use ripcord::ports::QueueName;
use ripcord_aws::ResourceNames;
use ripcord_aws::testing::{MOTO_URL_VAR, SIM_URL_VAR, stand_in_url};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Processes, RIPCORD, has_ended};

/// Creates the stack named after the prefix and prints its status,
/// outputs and resources as moto reports them.
const CREATE: &str = r#"
import json, sys, time, boto3
prefix, template = sys.argv[1], sys.argv[2]
ec2 = boto3.client("ec2")
vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
cfn = boto3.client("cloudformation")
parameters = {"NamePrefix": prefix, "ImageUri": "example.invalid/ripcord:test", "VpcId": vpc,
              "SubnetIds": ",".join(subnets), "TriggerSources": "com.example.dr-runbook"}
cfn.create_stack(StackName=prefix, TemplateBody=open(template).read(), Capabilities=["CAPABILITY_IAM"],
                 Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
for _ in range(120):
    stack = cfn.describe_stacks(StackName=prefix)["Stacks"][0]
    if not stack["StackStatus"].endswith("_IN_PROGRESS"):
        break
    time.sleep(1)
resources = cfn.list_stack_resources(StackName=prefix)["StackResourceSummaries"]
import yaml
declared = yaml.safe_load(open(template))["Resources"].values()
gaps = ["AWS::SQS::QueuePolicy", "AWS::CloudWatch::Alarm", "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy"]
print(json.dumps({
    "ignored": sum(1 for r in resources if not r["ResourceType"]),
    "ofGapTypes": sum(1 for r in declared if r["Type"] in gaps),
    "status": stack["StackStatus"], "reason": stack.get("StackStatusReason"),
    "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
    "resources": [[r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId"), r["ResourceStatus"]] for r in resources],
}))
"#;

/// Deletes the stack; prints its final status, whether the table is still
/// there and whether the launch queue is gone.
const DELETE: &str = r#"
import json, sys, time, boto3
prefix, table, queue = sys.argv[1], sys.argv[2], sys.argv[3]
cfn = boto3.client("cloudformation")
cfn.delete_stack(StackName=prefix)
status = "DELETE_IN_PROGRESS"
for _ in range(120):
    stacks = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == prefix]
    status = stacks[0]["StackStatus"] if stacks else "GONE"
    if not status.endswith("_IN_PROGRESS"):
        break
    time.sleep(1)
tables = boto3.client("dynamodb").list_tables()["TableNames"]
queues = boto3.client("sqs").list_queues(QueueNamePrefix=queue).get("QueueUrls", [])
print(json.dumps({"status": status, "tableKept": table in tables, "queueGone": queue + "" not in [u.rsplit("/", 1)[-1] for u in queues]}))
"#;

fn python(interpreter: &str, moto: &str, program: &str, args: &[&str]) -> Value {
    let out = Command::new(interpreter)
        .args(["-c", program])
        .args(args)
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap_or_else(|e| panic!("{interpreter} does not run: {e}"));
    assert!(
        out.status.success(),
        "boto3 against moto failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The outputs name what `ResourceNames` derives from the prefix output.
fn assert_outputs_agree_with_resource_names(outputs: &Value) -> ResourceNames {
    let prefix = outputs["NamePrefix"].as_str().expect("a NamePrefix output");
    let names = ResourceNames::new(prefix);
    assert_eq!(outputs["TableName"], names.table().as_str(), "{outputs:#}");
    assert_eq!(
        outputs["EventBusName"],
        names.event_bus().as_str(),
        "{outputs:#}"
    );
    for queue in QueueName::ALL {
        let pascal: String = queue
            .as_str()
            .split('-')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        for (output, name) in [
            (format!("{pascal}QueueUrl"), names.queue(queue)),
            (
                format!("{pascal}DeadLetterQueueUrl"),
                names.dead_letter_queue(queue),
            ),
        ] {
            let url = outputs[&output]
                .as_str()
                .unwrap_or_else(|| panic!("no output {output}: {outputs:#}"));
            assert!(
                url.ends_with(&format!("/{name}")),
                "{output} = {url}, not …/{name}"
            );
        }
    }
    for output in ["ApiUrl", "RunbookDocumentName", "ClusterName"] {
        assert!(
            outputs[output].as_str().is_some_and(|v| !v.is_empty()),
            "no {output}: {outputs:#}"
        );
    }
    names
}

/// `ripcord ARGS` on the AWS backend of the stack `prefix`, with DRS, SSM
/// and CloudWatch on the simulator and the rest on moto.
fn ripcord(args: &[&str], prefix: &str, moto: &str, sim: &str) -> Command {
    let mut c = Command::new(RIPCORD);
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn,ripcord=info")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ENDPOINT_URL_DRS", sim)
        .env("AWS_ENDPOINT_URL_SSM", sim)
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", sim)
        .env("RIPCORD_BACKEND", "aws")
        .env("RIPCORD_PREFIX", prefix)
        .env("RIPCORD_VISIBILITY_TIMEOUT", "2s")
        .env("RIPCORD_RECEIVE_WAIT", "1s")
        .stdin(Stdio::null());
    c
}

fn status(prefix: &str, moto: &str, sim: &str, id: &str) -> Option<Value> {
    let out = ripcord(&["status", id, "--json"], prefix, moto, sim)
        .output()
        .expect("ripcord status runs");
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).expect("status JSON"))
}

#[test]
fn a_drill_runs_on_the_stack_deployed_into_moto_configured_only_from_its_outputs() {
    let Some(moto) = stand_in_url(MOTO_URL_VAR) else {
        return;
    };
    let Some(sim) = stand_in_url(SIM_URL_VAR) else {
        return;
    };
    let Some(interpreter) = stand_in_url("RIPCORD_TEST_PYTHON") else {
        return;
    };
    let scenario = std::fs::read_to_string(repository().join("examples/scenarios/happy-path.yaml"))
        .expect("scenario");
    support::reset_simulator(&sim, &scenario);

    let prefix = format!("st{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let template = repository().join("infra/ripcord.yaml");
    let stack = python(
        &interpreter,
        &moto,
        CREATE,
        &[&prefix, &template.display().to_string()],
    );
    assert_eq!(stack["status"], "CREATE_COMPLETE", "{stack:#}");
    assert_eq!(
        stack["ignored"], stack["ofGapTypes"],
        "moto ignored other resources than the queue policies, alarms and scaling resources the doc comment lists: {:#}",
        stack["resources"]
    );
    let outputs = &stack["outputs"];
    let names = assert_outputs_agree_with_resource_names(outputs);

    // Everything below knows the deployment only by the NamePrefix output.
    let deployment = names.prefix.as_str();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut workers = Processes::new(dir.path());
    for kind in ["launch", "poll", "post-actions", "metrics"] {
        workers.spawn(kind, ripcord(&["worker", kind], deployment, &moto, &sim));
    }
    let plan = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-drill.yaml");
    let started = ripcord(
        &["start", plan.to_str().expect("utf-8")],
        deployment,
        &moto,
        &sim,
    )
    .output()
    .expect("ripcord start runs");
    assert!(
        started.status.success(),
        "start: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    let id = String::from_utf8(started.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();

    let deadline = Instant::now() + Duration::from_secs(180);
    let view = loop {
        workers.assert_running();
        if let Some(view) = status(deployment, &moto, &sim, &id).filter(has_ended) {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "the drill on the stack did not finish in 180 s; the stack's resources as moto reports them: {:#}",
            stack["resources"]
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(view["status"], "COMPLETED", "{view:#}");
    drop(workers);

    let deleted = python(
        &interpreter,
        &moto,
        DELETE,
        &[deployment, &names.table(), &names.queue(QueueName::Launch)],
    );
    assert!(
        matches!(deleted["status"].as_str(), Some("DELETE_COMPLETE" | "GONE")),
        "{deleted:#}"
    );
    assert_eq!(
        deleted["tableKept"], true,
        "the table outlives the stack: {deleted:#}"
    );
    assert_eq!(
        deleted["queueGone"], true,
        "the queues go with the stack: {deleted:#}"
    );
}
