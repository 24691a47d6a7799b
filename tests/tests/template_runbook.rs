//! The template passes `cfn-lint`, and its SSM Automation runbook starts the
//! execution the launch worker will run: its Python, run with the test
//! virtualenv's interpreter, derives the same execution id as
//! `execution_id_for` and builds a detail `TriggerDetail::parse` accepts;
//! it waits for a terminal status and succeeds only on COMPLETED.
//!
//! scripts/test installs cfn-lint (pinned) beside moto and passes that
//! virtualenv's Python as RIPCORD_TEST_PYTHON; without it these tests are
//! skipped (they say so), unless RIPCORD_REQUIRE_AWS_TESTS=1.

use ripcord::plan::Mode;
use ripcord::status_model::{ExecutionStatus, Transitions};
use ripcord::trigger::execution_id_for;
use ripcord::trigger::runbook::TriggerDetail;
use ripcord_aws::testing::stand_in_url;
use ripcord_tests::template::{Template, repository, template_path};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_template_passes_cfn_lint() {
    let Some(python) = stand_in_url("RIPCORD_TEST_PYTHON") else {
        return;
    };
    let out = Command::new(&python)
        .args([
            "-c",
            "import sys; from cfnlint.runner import main; sys.exit(main())",
        ])
        .args(["--regions", "us-east-1", "--"])
        .arg(template_path())
        .output()
        .unwrap_or_else(|e| panic!("{python} does not run: {e}"));
    let said = said(&out);
    assert!(
        !said.contains("No module named 'cfnlint"),
        "cfn-lint is not installed for {python}: run scripts/test, which installs it beside moto\n{said}"
    );
    assert!(
        out.status.success(),
        "cfn-lint finds problems in infra/ripcord.yaml:\n{said}"
    );
}

#[test]
fn no_lint_rule_is_suppressed_without_a_reason_beside_it() {
    let text = std::fs::read_to_string(template_path()).expect("template");
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        if line.contains("ignore_checks") || line.contains("cfn-lint:") {
            let reason = n > 0 && lines[n - 1].trim_start().starts_with('#');
            assert!(
                reason,
                "infra/ripcord.yaml:{}: a suppressed rule needs a `# why` comment above it",
                n + 1
            );
        }
    }
    assert!(
        !repository().join(".cfnlintrc").exists(),
        "suppress rules in the template, with reasons"
    );
}

fn runbook() -> Value {
    Template::load().resource("Runbook")["Properties"]["Content"].clone()
}

fn step(content: &Value, name: &str) -> Value {
    content["mainSteps"]
        .as_array()
        .expect("mainSteps")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("the runbook has no step {name}"))
        .clone()
}

/// Runs the start step's `trigger(inputs)` on each input; answers
/// (detail, execution id) per input.
fn run_trigger(python: &str, inputs: &[Value]) -> Vec<(Value, String)> {
    let script = step(&runbook(), "startTrigger")["inputs"]["Script"]
        .as_str()
        .expect("the start step's Python")
        .to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("runbook.py");
    std::fs::write(&path, script).expect("write");
    let harness = "import json, sys, types\n\
        runbook = types.ModuleType('runbook')\n\
        exec(open(sys.argv[1]).read(), runbook.__dict__)\n\
        for line in sys.stdin:\n    \
            detail, execution_id = runbook.trigger(json.loads(line))\n    \
            print(json.dumps([detail, execution_id]))\n";
    let mut child = Command::new(python)
        .args(["-c", harness])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} does not run: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    for input in inputs {
        writeln!(stdin, "{input}").expect("write input");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("python ends");
    assert!(
        out.status.success(),
        "the runbook's Python fails:\n{}",
        said(&out)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("[detail, id]"))
        .collect()
}

#[test]
fn the_runbook_derives_the_launch_workers_execution_id_and_a_valid_detail() {
    let Some(python) = stand_in_url("RIPCORD_TEST_PYTHON") else {
        return;
    };
    // As SSM passes them: a Boolean parameter arrives as a boolean.
    let inputs = [
        json!({ "plan": "drill", "mode": "drill", "idempotencyKey": "INC-4211-drill-1",
                "requestedBy": "oncall@example.com", "confirmRecovery": false, "reason": "" }),
        json!({ "plan": "payments.v2", "mode": "recovery", "idempotencyKey": "INC-77/failover:2",
                "requestedBy": "arn:aws:sts::111122223333:assumed-role/dr/alice",
                "confirmRecovery": true, "reason": "region outage" }),
        json!({ "plan": "p", "mode": "drill", "idempotencyKey": "k",
                "requestedBy": "runbook", "confirmRecovery": "false", "reason": "" }),
    ];
    let answers = run_trigger(&python, &inputs);
    assert_eq!(answers.len(), inputs.len());
    for (input, (detail, id)) in inputs.iter().zip(answers) {
        let key = input["idempotencyKey"].as_str().expect("key");
        assert_eq!(
            id,
            execution_id_for(key).to_string(),
            "execution id of {key}"
        );
        let parsed = TriggerDetail::parse(&detail)
            .unwrap_or_else(|e| panic!("the runbook's detail {detail} is refused: {e}"));
        assert_eq!(parsed.plan, input["plan"].as_str().expect("plan"));
        assert_eq!(parsed.idempotency_key, key);
        let recovery = input["mode"] == "recovery";
        assert_eq!(
            parsed.mode,
            if recovery {
                Mode::Recovery
            } else {
                Mode::Drill
            }
        );
        assert_eq!(parsed.confirm_recovery, input["confirmRecovery"] == true);
        let reason = input["reason"].as_str().filter(|r| !r.is_empty());
        assert_eq!(parsed.reason.as_deref(), reason);
    }
}

#[test]
fn the_runbook_takes_the_trigger_schemas_fields_and_patterns() {
    let content = runbook();
    assert_eq!(content["schemaVersion"], "0.3");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repository().join("examples/trigger/detail.schema.json"))
            .expect("schema"),
    )
    .expect("JSON schema");
    let mut fields: Vec<&String> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    let mut parameters: Vec<&String> = content["parameters"]
        .as_object()
        .expect("parameters")
        .keys()
        .collect();
    fields.sort_unstable();
    parameters.sort_unstable();
    assert_eq!(parameters, fields, "one runbook parameter per detail field");
    for field in ["plan", "idempotencyKey"] {
        assert_eq!(
            content["parameters"][field]["allowedPattern"], schema["properties"][field]["pattern"],
            "{field}: a value the schema refuses is refused before anything is sent"
        );
    }
    let inputs = &step(&content, "startTrigger")["inputs"]["InputPayload"];
    for field in fields {
        assert_eq!(
            inputs[field.as_str()],
            format!("{{{{ {field} }}}}"),
            "{field} reaches the script"
        );
    }
}

#[test]
fn the_runbook_waits_for_a_terminal_status_and_fails_unless_completed() {
    let content = runbook();
    let terminal: Vec<&str> = ExecutionStatus::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    let wait = step(&content, "waitForEnd");
    assert_eq!(wait["action"], "aws:waitForAwsResourceProperty");
    assert_eq!(wait["inputs"]["DesiredValues"], json!(terminal));
    let assert_step = step(&content, "assertCompleted");
    assert_eq!(assert_step["action"], "aws:assertAwsResourceProperty");
    assert_eq!(
        assert_step["inputs"]["DesiredValues"],
        json!([ExecutionStatus::Completed.as_str()])
    );
    for s in [&wait, &assert_step] {
        assert_eq!(s["inputs"]["Api"], "GetItem");
        assert_eq!(s["inputs"]["PropertySelector"], "$.Item.status.S");
        assert_eq!(
            s["inputs"]["Key"],
            json!({ "pk": { "S": "EXECUTION#{{ startTrigger.executionId }}" }, "sk": { "S": "EXECUTION" } })
        );
    }
    let steps: Vec<&str> = content["mainSteps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "startTrigger",
            "waitForStart",
            "waitForEnd",
            "assertCompleted"
        ]
    );
}

#[test]
fn the_runbook_may_only_send_the_trigger_and_read_the_table() {
    let template = Template::load();
    let content = runbook();
    assert_eq!(
        content["assumeRole"],
        json!({ "Fn::GetAtt": ["RunbookRole", "Arn"] })
    );
    let role = &template.resource("RunbookRole")["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({ "Service": "ssm.amazonaws.com" })
    );
    let statements: Vec<(Value, Value)> = role["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| (s["Action"].clone(), s["Resource"].clone()))
        .collect();
    assert_eq!(role["Policies"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        statements,
        [
            (
                json!("events:PutEvents"),
                json!({ "Fn::GetAtt": ["EventBus", "Arn"] })
            ),
            (
                json!("dynamodb:GetItem"),
                json!({ "Fn::GetAtt": ["ExecutionTable", "Arn"] })
            ),
        ]
    );
}
