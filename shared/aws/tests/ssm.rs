//! The SSM adapter over the real `aws-sdk-ssm` client, against a stub that
//! speaks SSM's awsJson1_1 protocol (moto's SSM lacks most of what Ripcord
//! calls): requests, pages, chunks, answers and error classes.

mod support;

use chrono::TimeZone;
use ripcord::ports::CommandRunner;
use ripcord::ports::ssm::{InvocationStatus, SendCommandRequest};
use ripcord::service_error::ErrorClass;
use ripcord_aws::SsmCommands;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use support::{Protocol, Reply, Stub};

async fn ssm() -> (Stub, SsmCommands) {
    let stub = Stub::start(Protocol::AwsJson11).await;
    let clients = support::clients(&stub.url).await;
    (stub, SsmCommands::new(clients.ssm))
}

fn instance(n: usize) -> String {
    format!("i-{n:017x}")
}

fn request(instances: usize, timeout: Duration) -> SendCommandRequest {
    SendCommandRequest {
        instance_ids: (0..instances).map(instance).collect(),
        document_name: "AWS-RunShellScript".to_owned(),
        parameters: BTreeMap::from([(
            "commands".to_owned(),
            vec![
                "pg_isready".to_owned(),
                "systemctl is-active app".to_owned(),
            ],
        )]),
        timeout,
        comment: "exec-1/w1/a1/1".to_owned(),
    }
}

/// 2024-05-01T12:00:07Z as awsJson writes a timestamp: epoch seconds.
const REQUESTED_AT: f64 = 1_714_564_807.0;

#[tokio::test]
async fn send_command_sends_targets_document_parameters_timeout_and_comment() {
    let (stub, ssm) = ssm().await;
    stub.push(
        "SendCommand",
        Reply::ok(json!({ "Command": {
            "CommandId": "0b5c1a6e-0000-4000-8000-000000000001",
            "DocumentName": "AWS-RunShellScript",
            "Comment": "exec-1/w1/a1/1",
            "InstanceIds": [instance(0), instance(1)],
            "RequestedDateTime": REQUESTED_AT,
            "Status": "Pending",
        }})),
    );
    let sent = ssm
        .send_command(&request(2, Duration::from_secs(600)))
        .await
        .expect("SendCommand");

    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].headers["x-amz-target"], "AmazonSSM.SendCommand");
    assert_eq!(
        requests[0].headers["content-type"],
        "application/x-amz-json-1.1"
    );
    assert_eq!(
        requests[0].body,
        json!({
            "InstanceIds": [instance(0), instance(1)],
            "DocumentName": "AWS-RunShellScript",
            "Parameters": { "commands": ["pg_isready", "systemctl is-active app"] },
            "TimeoutSeconds": 600,
            "Comment": "exec-1/w1/a1/1",
        })
    );
    assert_eq!(sent.command_id, "0b5c1a6e-0000-4000-8000-000000000001");
    assert_eq!(sent.comment, "exec-1/w1/a1/1");
    assert_eq!(sent.instance_ids, [instance(0), instance(1)]);
    assert_eq!(
        sent.requested_at,
        Some(chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap())
    );
}

#[tokio::test]
async fn a_timeout_below_the_api_minimum_is_raised_to_it() {
    let (stub, ssm) = ssm().await;
    stub.push(
        "SendCommand",
        Reply::ok(json!({ "Command": { "CommandId": "c-1", "Comment": "exec-1/w1/a1/1" } })),
    );
    ssm.send_command(&request(1, Duration::from_secs(5)))
        .await
        .expect("SendCommand");
    assert_eq!(stub.bodies("SendCommand")[0]["TimeoutSeconds"], 30);
}

#[tokio::test]
async fn more_than_50_instances_are_refused_before_sending() {
    let (stub, ssm) = ssm().await;
    let e = ssm
        .send_command(&request(51, Duration::from_secs(600)))
        .await
        .unwrap_err();
    assert_eq!(
        (e.service.as_str(), e.class, e.code.as_str()),
        ("ssm", ErrorClass::Permanent, "ValidationException")
    );
    assert!(e.message.contains("got 51"), "{}", e.message);
    assert!(
        ssm.send_command(&request(0, Duration::from_secs(600)))
            .await
            .is_err()
    );
    assert!(stub.requests().is_empty());
}

fn invocation(n: usize, status: &str, plugins: Value) -> Value {
    json!({
        "CommandId": "c-1",
        "InstanceId": instance(n),
        "Status": status,
        "RequestedDateTime": REQUESTED_AT,
        "CommandPlugins": plugins,
    })
}

#[tokio::test]
async fn invocations_are_read_from_every_page_with_their_plugin_details() {
    let (stub, ssm) = ssm().await;
    stub.push(
        "ListCommandInvocations",
        Reply::ok(json!({
            "CommandInvocations": [
                invocation(0, "Success", json!([
                    { "Name": "aws:runShellScript", "Status": "Success", "ResponseCode": 0,
                      "Output": "accepting connections\n" },
                ])),
                invocation(1, "Failed", json!([
                    { "Name": "aws:runShellScript", "Status": "Failed", "ResponseCode": 2,
                      "Output": "checking\n\n----------ERROR-------\nno response\n" },
                ])),
            ],
            "NextToken": "p2",
        })),
    );
    stub.push(
        "ListCommandInvocations",
        Reply::ok(json!({
            "CommandInvocations": [
                invocation(2, "InProgress", json!([
                    { "Name": "aws:runShellScript", "Status": "InProgress", "ResponseCode": -1 },
                ])),
                invocation(3, "TimedOut", json!([])),
                // A status this SDK does not know is not terminal.
                invocation(4, "Undeliverable", json!([])),
            ],
        })),
    );

    let got = ssm
        .list_command_invocations("c-1")
        .await
        .expect("ListCommandInvocations");

    let sent = stub.bodies("ListCommandInvocations");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], json!({ "CommandId": "c-1", "Details": true }));
    assert_eq!(sent[1]["NextToken"], "p2");
    assert_eq!(sent[1]["Details"], true);
    let summary: Vec<(String, InvocationStatus, Option<i32>, &str, &str)> = got
        .iter()
        .map(|i| {
            (
                i.instance_id.clone(),
                i.status,
                i.response_code,
                i.output.as_str(),
                i.error.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                instance(0),
                InvocationStatus::Success,
                Some(0),
                "accepting connections",
                ""
            ),
            (
                instance(1),
                InvocationStatus::Failed,
                Some(2),
                "checking",
                "no response"
            ),
            (instance(2), InvocationStatus::InProgress, None, "", ""),
            (instance(3), InvocationStatus::TimedOut, None, "", ""),
            (instance(4), InvocationStatus::InProgress, None, "", ""),
        ]
    );
    assert!(got.iter().all(|i| i.command_id == "c-1"));
}

#[tokio::test]
async fn commands_are_found_by_exact_comment_after_a_time() {
    let (stub, ssm) = ssm().await;
    let command = |id: &str, comment: &str| {
        json!({ "CommandId": id, "Comment": comment, "InstanceIds": [instance(1)],
                "RequestedDateTime": REQUESTED_AT, "Status": "Success" })
    };
    stub.push(
        "ListCommands",
        Reply::ok(json!({
            "Commands": [
                command("c-1", "exec-1/w1/a1/1"),
                command("c-2", "exec-1/w1/a1"),
                { "CommandId": "c-3" },
            ],
            "NextToken": "more",
        })),
    );
    stub.push(
        "ListCommands",
        Reply::ok(json!({
            "Commands": [command("c-4", "exec-1/w1/a1/1"), command("c-5", "exec-1/w1/a1/10")],
        })),
    );
    let since = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap()
        + chrono::Duration::milliseconds(999);

    let found = ssm
        .find_commands("exec-1/w1/a1/1", since)
        .await
        .expect("ListCommands");

    let ids: Vec<&str> = found.iter().map(|c| c.command_id.as_str()).collect();
    assert_eq!(ids, ["c-1", "c-4"]);
    assert_eq!(found[0].instance_ids, [instance(1)]);
    let sent = stub.bodies("ListCommands");
    assert_eq!(sent.len(), 2);
    for body in &sent {
        assert_eq!(
            body["Filters"],
            json!([{ "key": "InvokedAfter", "value": "2024-05-01T12:00:07Z" }])
        );
    }
    assert_eq!(sent[1]["NextToken"], "more");
}

#[tokio::test]
async fn agents_are_asked_for_50_instances_at_a_time_on_every_page() {
    let (stub, ssm) = ssm().await;
    // The first chunk answers in two pages; the others in one.
    stub.push(
        "DescribeInstanceInformation",
        Reply::ok(json!({
            "InstanceInformationList": [{ "InstanceId": instance(0), "PingStatus": "Online" }],
            "NextToken": "second-page",
        })),
    );
    stub.on("DescribeInstanceInformation", |body| {
        let ids: Vec<Value> = body["Filters"][0]["Values"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .map(|id| json!({ "InstanceId": id, "PingStatus": "ConnectionLost" }))
            .collect();
        Reply::ok(json!({ "InstanceInformationList": ids }))
    });
    let ids: Vec<String> = (0..120).map(instance).collect();

    let agents = ssm
        .describe_instance_information(&ids)
        .await
        .expect("DescribeInstanceInformation");

    let sent = stub.bodies("DescribeInstanceInformation");
    let chunks: Vec<usize> = sent
        .iter()
        .map(|b| {
            assert_eq!(b["Filters"][0]["Key"], "InstanceIds");
            b["Filters"][0]["Values"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(chunks, [50, 50, 50, 20]);
    assert_eq!(sent[0].get("NextToken"), None);
    assert_eq!(sent[1]["NextToken"], "second-page");
    assert_eq!(sent[1]["Filters"], sent[0]["Filters"]);
    // 1 + 49 from the first chunk (page 2 skips its first id), 49 + 19 after.
    assert_eq!(agents.len(), 1 + 49 + 49 + 19);
    assert!(agents[0].is_online());
    assert!(agents[1..].iter().all(|a| !a.is_online()));
}

#[tokio::test]
async fn ssm_errors_are_classified_by_code() {
    let cases = [
        (400, "ThrottlingException", ErrorClass::Throttling),
        (500, "InternalServerError", ErrorClass::Transient),
        (400, "InvalidInstanceId", ErrorClass::Permanent),
        (400, "InvalidDocument", ErrorClass::Permanent),
        (400, "AccessDeniedException", ErrorClass::Permanent),
        // awsJson may qualify the code with its namespace.
        (
            400,
            "com.amazonaws.ssm#InvalidCommandId",
            ErrorClass::Permanent,
        ),
    ];
    for (status, code, class) in cases {
        let (stub, ssm) = ssm().await;
        stub.push(
            "ListCommandInvocations",
            Reply::json_error(status, code, "told by the test"),
        );
        let e = ssm.list_command_invocations("c-1").await.unwrap_err();
        let bare = code.rsplit('#').next().unwrap();
        assert_eq!(
            (
                e.service.as_str(),
                e.operation.as_str(),
                e.code.as_str(),
                e.class
            ),
            ("ssm", "ListCommandInvocations", bare, class),
            "{e}"
        );
        assert_eq!(e.message, "told by the test");
        assert_eq!(
            stub.requests().len(),
            1,
            "SSM calls must not be retried by the SDK"
        );
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_network_error() {
    let url = support::closed_port_url().await;
    let ssm = SsmCommands::new(support::clients(&url).await.ssm);
    let e = ssm
        .send_command(&request(1, Duration::from_secs(600)))
        .await
        .unwrap_err();
    assert_eq!(
        (e.service.as_str(), e.code.as_str(), e.class),
        ("ssm", "NetworkError", ErrorClass::Transient),
        "{e}"
    );
}
