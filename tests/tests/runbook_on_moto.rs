//! The runbook's scripts against the stack itself, deployed into moto with
//! CreateStack: the start step's event reaches the launch queue through the
//! stack's rule as a trigger the launch worker accepts, for the execution
//! id the step answered; the wait step fails with the launch worker's
//! reason when the trigger was refused, and ends once the execution exists.
//! (moto runs no Automation, so each step's Python is run by hand, with
//! boto3 pointed at moto.)
//!
//! Needs RIPCORD_TEST_MOTO_URL and RIPCORD_TEST_PYTHON (scripts/test sets
//! both); skipped without them unless RIPCORD_REQUIRE_AWS_TESTS=1.

use ripcord::eventbridge::EventBridgeEvent;
use ripcord::ids::ExecutionId;
use ripcord::plan::load_plan;
use ripcord::ports::{ExecutionStore, TriggerLog};
use ripcord::records::ExecutionRecord;
use ripcord::trigger::{RunbookTrigger, TriggerOutcome, TriggerRecord, execution_id_for};
use ripcord_aws::DynamoStore;
use ripcord_aws::bootstrap::START_EXECUTION_DETAIL_TYPE;
use ripcord_aws::testing::{MotoHandle, moto, stand_in_url};
use ripcord_tests::examples;
use ripcord_tests::template::{Template, template_path};
use serde_json::{Value, json};
use std::process::{Command, Output};

/// Deploys the stack (prefix = the test's), runs the start step with
/// `inputs`, and receives the launch queue's message: answers the outputs,
/// the step's answer and the message body.
const DEPLOY_AND_START: &str = r#"
import json, sys, time, types, boto3
prefix, template, script, inputs = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
ec2 = boto3.client("ec2")
vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
cfn = boto3.client("cloudformation")
parameters = {"NamePrefix": prefix, "ImageUri": "example.invalid/ripcord:test", "VpcId": vpc, "SubnetIds": ",".join(subnets)}
cfn.create_stack(StackName=prefix, TemplateBody=open(template).read(), Capabilities=["CAPABILITY_IAM"],
                 Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
for _ in range(60):
    stack = cfn.describe_stacks(StackName=prefix)["Stacks"][0]
    if not stack["StackStatus"].endswith("_IN_PROGRESS"):
        break
    time.sleep(1)
assert stack["StackStatus"] == "CREATE_COMPLETE", stack
outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
runbook = types.ModuleType("runbook")
exec(open(script).read(), runbook.__dict__)
inputs["eventBus"] = outputs["EventBusName"]
answer = runbook.start(inputs, None)
sqs = boto3.client("sqs")
messages = sqs.receive_message(QueueUrl=outputs["LaunchQueueUrl"], WaitTimeSeconds=5).get("Messages", [])
print(json.dumps({"outputs": outputs, "answer": answer, "bodies": [m["Body"] for m in messages]}))
"#;

/// Runs the wait step with its 9-minute wait cut to `seconds`.
const WAIT: &str = r#"
import json, sys, types
script, inputs, seconds = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
runbook = types.ModuleType("runbook")
exec(open(script).read().replace("time.time() + 540", "time.time() + " + seconds).replace("time.sleep(10)", "time.sleep(1)"), runbook.__dict__)
print(json.dumps(runbook.started(inputs, None)))
"#;

fn step_script(name: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let template = Template::load();
    let steps = template.resource("Runbook")["Properties"]["Content"]["mainSteps"].clone();
    let script = steps
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["inputs"]["Script"].as_str())
        .unwrap_or_else(|| panic!("no script in step {name}"))
        .to_owned();
    let path = dir.join(format!("{name}.py"));
    std::fs::write(&path, script).expect("write the script");
    path
}

fn python(python: &str, moto: &MotoHandle, program: &str, args: &[String]) -> Output {
    Command::new(python)
        .args(["-c", program])
        .args(args)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap_or_else(|e| panic!("{python} does not run: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn the_runbook_starts_through_the_stacks_rule_and_waits_on_its_table() {
    let Some(interpreter) = stand_in_url("RIPCORD_TEST_PYTHON") else {
        return;
    };
    let Some(moto) = moto().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let key = format!("{}-drill-1", moto.names.prefix);
    let inputs = json!({ "plan": "drill", "mode": "drill", "idempotencyKey": key,
        "requestedBy": "oncall@example.com", "confirmRecovery": false, "reason": "quarterly drill",
        "source": "com.ripcord.runbook" });
    let args = [
        moto.names.prefix.clone(),
        template_path().display().to_string(),
        step_script("startTrigger", dir.path())
            .display()
            .to_string(),
        inputs.to_string(),
    ];
    let out = python(&interpreter, &moto, DEPLOY_AND_START, &args);
    assert!(out.status.success(), "deploy and start:\n{}", text(&out));
    let said: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let execution = execution_id_for(&key);
    assert_eq!(said["answer"]["executionId"], execution.to_string());
    assert_eq!(said["outputs"]["TableName"], moto.names.table());
    let bodies = said["bodies"].as_array().expect("bodies");
    assert_eq!(
        bodies.len(),
        1,
        "the rule delivers the trigger to the launch queue"
    );
    let event: EventBridgeEvent =
        serde_json::from_str(bodies[0].as_str().expect("body")).expect("an EventBridge event");
    assert_eq!(event.detail_type, START_EXECUTION_DETAIL_TYPE);
    assert_eq!(event.source, "com.ripcord.runbook");
    let trigger = RunbookTrigger::from_event(&event).expect("the launch worker accepts it");
    assert_eq!(trigger.detail.idempotency_key, key);
    assert_eq!(trigger.detail.reason.as_deref(), Some("quarterly drill"));

    let store = DynamoStore::new(moto.clients.dynamodb.clone(), moto.names.clone());
    let wait = step_script("waitForStart", dir.path())
        .display()
        .to_string();
    let wait_for = |key: &str, id: ExecutionId| {
        let inputs = json!({ "table": moto.names.table(), "idempotencyKey": key, "executionId": id.to_string() });
        python(
            &interpreter,
            &moto,
            WAIT,
            &[wait.clone(), inputs.to_string(), "3".to_owned()],
        )
    };

    // Not started yet: the wait gives up and says what to look at.
    let out = wait_for(&key, execution);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is a launch worker running"),
        "{}",
        text(&out)
    );

    // Refused: the wait fails at once with the launch worker's reason.
    let refused_key = format!("{}-recovery-1", moto.names.prefix);
    let refusal = TriggerRecord {
        idempotency_key: refused_key.clone(),
        outcome: TriggerOutcome::Refused,
        execution_id: execution_id_for(&refused_key),
        reason: Some("mode recovery needs confirmRecovery: true".to_owned()),
        event_id: "evt-1".to_owned(),
        source: "com.ripcord.runbook".to_owned(),
        account: None,
        requested_by: Some("oncall@example.com".to_owned()),
        mode: None,
        plan: Some("drill".to_owned()),
        received_at: chrono::Utc::now(),
    };
    store
        .record_trigger(&refusal)
        .await
        .expect("record the refusal");
    let out = wait_for(&refused_key, execution_id_for(&refused_key));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("refused the trigger: mode recovery needs confirmRecovery: true"),
        "{}",
        text(&out)
    );

    // Started: the wait ends with the execution's id.
    let plan = load_plan(&examples().join("drill.yaml")).expect("the example plan");
    let (record, waves) =
        ExecutionRecord::new(execution, &plan, "oncall@example.com", chrono::Utc::now());
    store
        .create_execution(&record, &waves)
        .await
        .expect("create the execution");
    let out = wait_for(&key, execution);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&execution.to_string()));
}
