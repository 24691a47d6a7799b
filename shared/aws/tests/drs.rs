//! The DRS adapter over the real `aws-sdk-drs` client, against a stub that
//! speaks DRS' restJson1 protocol: what each call sends, how pages and id
//! chunks are followed, how answers are read, and how errors are classified.

mod support;

use chrono::TimeZone;
use ripcord::ids::SourceServerId;
use ripcord::ports::RecoveryService;
use ripcord::ports::drs::{DrsLaunchStatus, JobStatus, StartRecoveryRequest};
use ripcord::service_error::ErrorClass;
use ripcord_aws::DrsService;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use support::{Protocol, Reply, Stub};

async fn drs() -> (Stub, DrsService) {
    let stub = Stub::start(Protocol::RestJson1).await;
    let clients = support::clients(&stub.url).await;
    (stub, DrsService::new(clients.drs))
}

fn server(n: u32) -> SourceServerId {
    SourceServerId::parse(&format!("s-{n:017x}")).unwrap()
}

fn job_id(n: usize) -> String {
    format!("drsjob-{n:017x}")
}

fn tags(wave: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("ripcord:execution-id".to_owned(), "exec-1".to_owned()),
        ("ripcord:wave".to_owned(), wave.to_owned()),
    ])
}

fn job(id: &str, status: &str, extra: Value) -> Value {
    let mut job = json!({
        "jobID": id,
        "arn": format!("arn:aws:drs:us-east-1:123456789012:job/{id}"),
        "type": "LAUNCH",
        "initiatedBy": "START_DRILL",
        "status": status,
        "creationDateTime": "2024-05-01T12:00:07Z",
    });
    if let (Value::Object(job), Value::Object(extra)) = (&mut job, extra) {
        job.extend(extra);
    }
    job
}

fn ids_in(body: &Value, pointer: &str) -> Vec<String> {
    body.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn start_recovery_sends_the_servers_drill_flag_and_tags() {
    let (stub, drs) = drs().await;
    let id = job_id(1);
    stub.push(
        "StartRecovery",
        Reply::ok(json!({ "job": job(&id, "PENDING", json!({
            "tags": tags("1"),
            "participatingServers": [
                { "sourceServerID": server(1).as_str(), "launchStatus": "PENDING" },
                { "sourceServerID": server(2).as_str(), "launchStatus": "PENDING" },
            ],
        })) }))
        .status(202),
    );
    let request = StartRecoveryRequest {
        source_servers: vec![server(1), server(2)],
        is_drill: true,
        tags: tags("1"),
    };
    let job = drs.start_recovery(&request).await.expect("StartRecovery");

    let sent = stub.bodies("StartRecovery");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0],
        json!({
            "sourceServers": [
                { "sourceServerID": server(1).as_str() },
                { "sourceServerID": server(2).as_str() },
            ],
            "isDrill": true,
            "tags": tags("1"),
        })
    );
    assert_eq!(job.job_id, id);
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!(job.tags, tags("1"));
    assert_eq!(
        job.creation_time,
        Some(chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap())
    );
    assert_eq!(job.end_time, None);
    let servers: Vec<_> = job
        .participating_servers
        .iter()
        .map(|s| (s.source_server_id.clone(), s.launch_status))
        .collect();
    assert_eq!(
        servers,
        [
            (server(1), DrsLaunchStatus::Pending),
            (server(2), DrsLaunchStatus::Pending)
        ]
    );
}

#[tokio::test]
async fn start_recovery_refuses_more_than_200_servers_without_calling() {
    let (stub, drs) = drs().await;
    let request = StartRecoveryRequest {
        source_servers: (0..201).map(server).collect(),
        is_drill: true,
        tags: tags("1"),
    };
    let e = drs.start_recovery(&request).await.unwrap_err();
    assert_eq!(
        (e.class, e.code.as_str()),
        (ErrorClass::Permanent, "ValidationException")
    );
    assert!(e.message.contains("got 201"), "{}", e.message);
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn describe_jobs_follows_next_token_across_three_pages_in_one_filter() {
    let (stub, drs) = drs().await;
    let ids: Vec<String> = (1..=3).map(job_id).collect();
    stub.push(
        "DescribeJobs",
        Reply::ok(json!({
            "items": [job(&ids[0], "COMPLETED", json!({
                "endDateTime": "2024-05-01T12:09:30.250Z",
                "participatingServers": [
                    { "sourceServerID": server(1).as_str(), "recoveryInstanceID": "i-00000000000000001", "launchStatus": "LAUNCHED" },
                    { "sourceServerID": server(2).as_str(), "launchStatus": "FAILED" },
                ],
            }))],
            "nextToken": "page-2",
        })),
    );
    stub.push(
        "DescribeJobs",
        Reply::ok(json!({
            "items": [job(&ids[1], "STARTED", json!({
                "participatingServers": [
                    { "sourceServerID": server(3).as_str(), "launchStatus": "IN_PROGRESS" },
                    { "sourceServerID": server(4).as_str(), "launchStatus": "TERMINATED" },
                ],
            }))],
            "nextToken": "page-3",
        })),
    );
    // Values this SDK does not know must not panic nor read as finished.
    stub.push(
        "DescribeJobs",
        Reply::ok(json!({
            "items": [job(&ids[2], "SOMETHING_NEW", json!({
                "participatingServers": [
                    { "sourceServerID": server(5).as_str(), "launchStatus": "WARMING_UP" },
                ],
            }))],
        })),
    );

    let jobs = drs.describe_jobs(&ids).await.expect("DescribeJobs");

    let sent = stub.bodies("DescribeJobs");
    assert_eq!(sent.len(), 3);
    for body in &sent {
        assert_eq!(ids_in(body, "/filters/jobIDs"), ids);
    }
    assert_eq!(sent[0].get("nextToken"), None);
    assert_eq!(sent[1]["nextToken"], "page-2");
    assert_eq!(sent[2]["nextToken"], "page-3");

    let got: Vec<(&str, JobStatus)> = jobs.iter().map(|j| (j.job_id.as_str(), j.status)).collect();
    assert_eq!(
        got,
        [
            (ids[0].as_str(), JobStatus::Completed),
            (ids[1].as_str(), JobStatus::Started),
            (ids[2].as_str(), JobStatus::Started),
        ]
    );
    assert_eq!(
        jobs[0].end_time,
        Some(
            chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 9, 30).unwrap()
                + chrono::Duration::milliseconds(250)
        )
    );
    let launched = &jobs[0].participating_servers;
    assert_eq!(launched[0].launch_status, DrsLaunchStatus::Launched);
    assert_eq!(
        launched[0].recovery_instance_id.as_deref(),
        Some("i-00000000000000001")
    );
    assert_eq!(launched[1].launch_status, DrsLaunchStatus::Failed);
    assert_eq!(launched[1].recovery_instance_id, None);
    let statuses: Vec<DrsLaunchStatus> = jobs[1]
        .participating_servers
        .iter()
        .chain(&jobs[2].participating_servers)
        .map(|s| s.launch_status)
        .collect();
    assert_eq!(
        statuses,
        [
            DrsLaunchStatus::InProgress,
            DrsLaunchStatus::Terminated,
            DrsLaunchStatus::InProgress
        ]
    );
}

/// Answers DescribeJobs with one job per requested id.
fn echo_jobs(body: &Value) -> Reply {
    let items: Vec<Value> = ids_in(body, "/filters/jobIDs")
        .iter()
        .map(|id| job(id, "STARTED", json!({})))
        .collect();
    Reply::ok(json!({ "items": items }))
}

#[tokio::test]
async fn describe_jobs_sends_at_most_1000_ids_per_call() {
    let (stub, drs) = drs().await;
    stub.on("DescribeJobs", echo_jobs);
    let ids: Vec<String> = (0..1_001).map(job_id).collect();

    let jobs = drs.describe_jobs(&ids).await.expect("DescribeJobs");

    let sent: Vec<Vec<String>> = stub
        .bodies("DescribeJobs")
        .iter()
        .map(|b| ids_in(b, "/filters/jobIDs"))
        .collect();
    assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 1]);
    assert_eq!(sent.concat(), ids);
    assert_eq!(
        jobs.iter().map(|j| j.job_id.clone()).collect::<Vec<_>>(),
        ids
    );
}

#[tokio::test]
async fn describe_jobs_without_ids_sends_nothing() {
    // An empty jobIDs filter would list every job in the account.
    let (stub, drs) = drs().await;
    assert!(drs.describe_jobs(&[]).await.unwrap().is_empty());
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn find_jobs_by_tags_sends_from_date_and_keeps_jobs_with_every_tag() {
    let (stub, drs) = drs().await;
    let mut other_attempt = tags("1");
    other_attempt.insert("ripcord:attempt".to_owned(), "2".to_owned());
    stub.push(
        "DescribeJobs",
        Reply::ok(json!({
            "items": [
                job(&job_id(1), "STARTED", json!({ "tags": tags("1") })),
                job(&job_id(2), "STARTED", json!({ "tags": tags("2") })),
                job(&job_id(3), "STARTED", json!({})),
            ],
            "nextToken": "more",
        })),
    );
    stub.push(
        "DescribeJobs",
        Reply::ok(json!({
            "items": [
                job(&job_id(4), "COMPLETED", json!({ "tags": other_attempt })),
                job(&job_id(5), "PENDING", json!({ "tags": { "ripcord:wave": "1" } })),
            ],
        })),
    );
    let since = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 7).unwrap()
        + chrono::Duration::milliseconds(640);

    let found = drs
        .find_jobs_by_tags(&tags("1"), since)
        .await
        .expect("DescribeJobs");

    let ids: Vec<&str> = found.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(ids, [job_id(1), job_id(4)]);
    let sent = stub.bodies("DescribeJobs");
    assert_eq!(sent.len(), 2);
    for body in &sent {
        assert_eq!(body["filters"]["fromDate"], "2024-05-01T12:00:07Z");
        assert_eq!(body["filters"].get("jobIDs"), None);
    }
    assert_eq!(sent[1]["nextToken"], "more");
}

#[tokio::test]
async fn describe_job_log_items_reads_every_page_and_the_event_data() {
    let (stub, drs) = drs().await;
    stub.push(
        "DescribeJobLogItems",
        Reply::ok(json!({
            "items": [
                { "logDateTime": "2024-05-01T12:00:07Z", "event": "JOB_START" },
                { "logDateTime": "2024-05-01T12:00:20.5Z", "event": "LAUNCH_START",
                  "eventData": { "sourceServerID": server(1).as_str() } },
            ],
            "nextToken": "t2",
        })),
    );
    stub.push(
        "DescribeJobLogItems",
        Reply::ok(json!({
            "items": [
                { "logDateTime": "2024-05-01T12:04:00Z", "event": "LAUNCH_FAILED",
                  "eventData": { "sourceServerID": server(1).as_str(),
                                 "targetInstanceID": "i-0abc0000000000001",
                                 "rawError": "InsufficientInstanceCapacity" } },
                { "logDateTime": "2024-05-01T12:05:00Z", "event": "WARP_DRIVE_FAILED",
                  "eventData": { "sourceServerID": server(2).as_str() } },
            ],
        })),
    );

    let items = drs
        .describe_job_log_items(&job_id(1))
        .await
        .expect("DescribeJobLogItems");

    let sent = stub.bodies("DescribeJobLogItems");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["jobID"], job_id(1));
    assert_eq!(sent[1]["nextToken"], "t2");
    let events: Vec<&str> = items.iter().map(|i| i.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "JOB_START",
            "LAUNCH_START",
            "LAUNCH_FAILED",
            "WARP_DRIVE_FAILED"
        ]
    );
    let failed = &items[2];
    assert!(failed.is_failure());
    assert_eq!(failed.source_server_id, Some(server(1)));
    assert_eq!(
        failed.target_instance_id.as_deref(),
        Some("i-0abc0000000000001")
    );
    assert_eq!(
        failed.raw_error.as_deref(),
        Some("InsufficientInstanceCapacity")
    );
    assert_eq!(
        items[1].event_time,
        Some(
            chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 20).unwrap()
                + chrono::Duration::milliseconds(500)
        )
    );
    assert_eq!(items[0].source_server_id, None);
    // An event this SDK does not know keeps its name, so its failure shows.
    assert!(items[3].is_failure());
}

#[tokio::test]
async fn describe_recovery_instances_sends_at_most_200_ids_per_call() {
    let (stub, drs) = drs().await;
    stub.on("DescribeRecoveryInstances", |body| {
        let items: Vec<Value> = ids_in(body, "/filters/recoveryInstanceIDs")
            .iter()
            .enumerate()
            .map(|(n, ri)| {
                json!({
                    "recoveryInstanceID": ri,
                    "ec2InstanceID": format!("i-e{:016x}", n),
                    "ec2InstanceState": if n == 0 { "RUNNING" } else { "HIBERNATING" },
                    "jobID": job_id(1),
                    "sourceServerID": server(n as u32).as_str(),
                    "isDrill": n % 2 == 0,
                    "pointInTimeSnapshotDateTime": "2024-05-01T11:58:00.123456Z",
                })
            })
            .collect();
        Reply::ok(json!({ "items": items }))
    });
    let ids: Vec<String> = (0..250).map(|n| format!("i-r{n:016x}")).collect();

    let instances = drs
        .describe_recovery_instances(&ids)
        .await
        .expect("DescribeRecoveryInstances");

    let sent: Vec<Vec<String>> = stub
        .bodies("DescribeRecoveryInstances")
        .iter()
        .map(|b| ids_in(b, "/filters/recoveryInstanceIDs"))
        .collect();
    assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), [200, 50]);
    assert_eq!(sent.concat(), ids);
    assert_eq!(instances.len(), 250);
    let first = &instances[0];
    assert_eq!(first.recovery_instance_id, ids[0]);
    assert_eq!(
        first.ec2_instance_id.as_deref(),
        Some("i-e0000000000000000")
    );
    assert_eq!(first.ec2_instance_state.as_deref(), Some("RUNNING"));
    assert_eq!(first.job_id, Some(job_id(1)));
    assert_eq!(first.source_server_id, server(0));
    assert!(first.is_drill);
    assert!(!instances[1].is_drill);
    // An EC2 state new to this SDK is kept as DRS wrote it.
    assert_eq!(
        instances[1].ec2_instance_state.as_deref(),
        Some("HIBERNATING")
    );
    assert_eq!(
        first.point_in_time_snapshot,
        Some(
            chrono::Utc.with_ymd_and_hms(2024, 5, 1, 11, 58, 0).unwrap()
                + chrono::Duration::microseconds(123_456)
        )
    );
}

#[tokio::test]
async fn describe_source_servers_reads_replication_and_hostname_on_every_page() {
    let (stub, drs) = drs().await;
    stub.push(
        "DescribeSourceServers",
        Reply::ok(json!({
            "items": [{
                "sourceServerID": server(1).as_str(),
                "dataReplicationInfo": { "dataReplicationState": "CONTINUOUS", "lagDuration": "PT2S" },
                "sourceProperties": { "identificationHints": { "hostname": "db-1.corp" } },
            }],
            "nextToken": "n",
        })),
    );
    stub.push(
        "DescribeSourceServers",
        Reply::ok(json!({
            "items": [
                {
                    "sourceServerID": server(2).as_str(),
                    "dataReplicationInfo": { "dataReplicationState": "STALLED", "lagDuration": "PT3H" },
                },
                { "sourceServerID": server(3).as_str() },
            ],
        })),
    );

    let servers = drs
        .describe_source_servers(&[server(1), server(2), server(3)])
        .await
        .expect("DescribeSourceServers");

    let sent = stub.bodies("DescribeSourceServers");
    assert_eq!(sent.len(), 2);
    assert_eq!(
        ids_in(&sent[0], "/filters/sourceServerIDs"),
        [server(1), server(2), server(3)].map(String::from)
    );
    assert_eq!(sent[1]["nextToken"], "n");
    let got: Vec<(String, Option<&str>, &str, Option<&str>)> = servers
        .iter()
        .map(|s| {
            (
                s.source_server_id.to_string(),
                s.hostname.as_deref(),
                s.data_replication_state.as_str(),
                s.lag_duration.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                server(1).to_string(),
                Some("db-1.corp"),
                "CONTINUOUS",
                Some("PT2S")
            ),
            (server(2).to_string(), None, "STALLED", Some("PT3H")),
            (server(3).to_string(), None, "UNKNOWN", None),
        ]
    );
}

#[tokio::test]
async fn terminate_recovery_instances_answers_the_termination_job() {
    let (stub, drs) = drs().await;
    stub.push(
        "TerminateRecoveryInstances",
        Reply::ok(json!({ "job": job(&job_id(9), "PENDING", json!({ "type": "TERMINATE" })) })),
    );
    let ids = vec![
        "i-r0000000000000001".to_owned(),
        "i-r0000000000000002".to_owned(),
    ];
    let terminated = drs
        .terminate_recovery_instances(&ids)
        .await
        .expect("TerminateRecoveryInstances");
    assert_eq!(terminated, job_id(9));
    assert_eq!(
        stub.bodies("TerminateRecoveryInstances"),
        [json!({ "recoveryInstanceIDs": ids })]
    );
    assert!(drs.terminate_recovery_instances(&[]).await.is_err());
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn drs_errors_are_classified_by_code_and_keep_retry_after() {
    // (status, code, Retry-After seconds, class)
    let cases = [
        (429, "ThrottlingException", Some(7), ErrorClass::Throttling),
        (500, "InternalServerException", None, ErrorClass::Transient),
        (403, "AccessDeniedException", None, ErrorClass::Permanent),
        (400, "ValidationException", None, ErrorClass::Permanent),
        (
            402,
            "ServiceQuotaExceededException",
            None,
            ErrorClass::Permanent,
        ),
        (
            404,
            "ResourceNotFoundException",
            None,
            ErrorClass::Permanent,
        ),
        (409, "ConflictException", None, ErrorClass::Permanent),
        (
            400,
            "UninitializedAccountException",
            None,
            ErrorClass::Permanent,
        ),
        // A code nobody knows yet on a 503 still reads as transient.
        (503, "BrandNewOutageException", None, ErrorClass::Transient),
    ];
    for (status, code, retry_after, class) in cases {
        let (stub, drs) = drs().await;
        let mut reply = Reply::rest_error(status, code, &format!("{code} for the test"));
        if let Some(seconds) = retry_after {
            reply = reply.header("retry-after", &seconds.to_string());
        }
        stub.push("StartRecovery", reply);
        let request = StartRecoveryRequest {
            source_servers: vec![server(1)],
            is_drill: true,
            tags: tags("1"),
        };
        let e = drs.start_recovery(&request).await.unwrap_err();
        assert_eq!(
            (
                e.service.as_str(),
                e.operation.as_str(),
                e.code.as_str(),
                e.class
            ),
            ("drs", "StartRecovery", code, class),
            "{e}"
        );
        assert_eq!(e.message, format!("{code} for the test"));
        assert_eq!(
            e.retry_after,
            retry_after.map(Duration::from_secs),
            "{code}"
        );
        // Retries are the state machine's: the SDK sent exactly one request.
        assert_eq!(stub.requests().len(), 1, "{code}");
    }
}

#[tokio::test]
async fn errors_of_paginated_calls_are_mapped_too() {
    let (stub, drs) = drs().await;
    stub.push(
        "DescribeJobs",
        Reply::ok(json!({ "items": [job(&job_id(1), "STARTED", json!({}))], "nextToken": "2" })),
    );
    stub.push(
        "DescribeJobs",
        Reply::rest_error(429, "ThrottlingException", "Rate exceeded").header("retry-after", "3"),
    );
    let e = drs.describe_jobs(&[job_id(1)]).await.unwrap_err();
    assert_eq!(
        (e.operation.as_str(), e.class, e.retry_after),
        (
            "DescribeJobs",
            ErrorClass::Throttling,
            Some(Duration::from_secs(3))
        )
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_network_error() {
    let url = support::closed_port_url().await;
    let drs = DrsService::new(support::clients(&url).await.drs);
    let e = drs.describe_jobs(&[job_id(1)]).await.unwrap_err();
    assert_eq!(
        (e.service.as_str(), e.code.as_str(), e.class),
        ("drs", "NetworkError", ErrorClass::Transient),
        "{e}"
    );
}
