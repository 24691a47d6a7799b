//! The DRS adapter over the real `aws-sdk-drs` client, against a stub that
//! speaks DRS' restJson1 protocol: what each call sends, how pages and id
//! chunks are followed, how answers are read, and how errors are classified.
//! At the end, the adapter against `ripcord sim serve` (in process) gives
//! the same facts as the in-process simulator on the same scenario: source
//! servers, snapshots, leftover recovery instances, launches from a snapshot.

mod support;

use chrono::TimeZone;
use ripcord::ids::SourceServerId;
use ripcord::ports::RecoveryService;
use ripcord::ports::drs::{
    DrsLaunchStatus, JobStatus, LastLaunchResult, RecoveryInstance, RecoverySnapshot,
    StartRecoveryRequest,
};
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

/// Server 1's recovery snapshot `n`, taken at `at`, as DRS answers it.
fn snapshot(n: u32, at: &str) -> Value {
    json!({
        "snapshotID": format!("pit-{n:017}"),
        "sourceServerID": server(1).as_str(),
        "expectedTimestamp": at,
        "timestamp": at,
        "ebsSnapshots": [],
    })
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
        recovery_snapshots: BTreeMap::new(),
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
        recovery_snapshots: BTreeMap::new(),
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
            recovery_snapshots: BTreeMap::new(),
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
    // A later page is asked again while throttled (`READ_TRIES` in
    // all); the last answer is the error.
    for _ in 1..ripcord::service_error::READ_TRIES {
        stub.push(
            "DescribeJobs",
            Reply::rest_error(429, "ThrottlingException", "Rate exceeded")
                .header("retry-after", "0"),
        );
    }
    stub.push(
        "DescribeJobs",
        Reply::rest_error(429, "ThrottlingException", "Rate exceeded").header("retry-after", "3"),
    );
    let e = drs.describe_jobs(&[job_id(1)]).await.unwrap_err();
    assert_eq!(
        stub.bodies("DescribeJobs").len(),
        1 + ripcord::service_error::READ_TRIES as usize
    );
    assert_eq!(
        (e.operation.as_str(), e.class, e.retry_after),
        (
            "DescribeJobs",
            ErrorClass::Throttling,
            Some(Duration::from_secs(3))
        )
    );
}

/// A busy account throttles a share of a long listing's pages: a later
/// page DRS throttles is asked again in place, with the same token, so the
/// listing gets through instead of failing whole (and being started over
/// by the state machine) for one page. A throttled first page is the
/// caller's to retry: nothing is lost yet.
#[tokio::test]
async fn a_throttled_later_page_is_asked_again_and_a_throttled_first_page_is_not() {
    let (stub, drs) = drs().await;
    let page = |n: u32, next: Option<&str>| {
        let mut body = json!({ "items": [{ "sourceServerID": server(n).as_str() }] });
        if let Some(next) = next {
            body["nextToken"] = json!(next);
        }
        Reply::ok(body)
    };
    let throttled = || {
        Reply::rest_error(429, "ThrottlingException", "Rate exceeded").header("retry-after", "0")
    };
    stub.push("DescribeSourceServers", page(1, Some("p2")));
    stub.push("DescribeSourceServers", throttled());
    stub.push("DescribeSourceServers", throttled());
    stub.push("DescribeSourceServers", page(2, Some("p3")));
    stub.push("DescribeSourceServers", throttled());
    stub.push("DescribeSourceServers", page(3, None));
    let ids = [server(1), server(2), server(3)];
    let servers = drs.describe_source_servers(&ids).await.expect("every page");
    let got: Vec<_> = servers.iter().map(|s| s.source_server_id.clone()).collect();
    assert_eq!(got, ids);
    let tokens: Vec<Value> = stub
        .bodies("DescribeSourceServers")
        .iter()
        .map(|b| b["nextToken"].clone())
        .collect();
    assert_eq!(
        tokens,
        [
            Value::Null,
            json!("p2"),
            json!("p2"),
            json!("p2"),
            json!("p3"),
            json!("p3")
        ]
    );

    stub.push("DescribeSourceServers", throttled());
    let e = drs.describe_source_servers(&ids).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Throttling);
    assert_eq!(
        stub.bodies("DescribeSourceServers").len(),
        7,
        "the first page is asked once"
    );
}

/// Pre-flight wants only each server's newest snapshot: one page, newest
/// first, never the server's whole history (a server keeps hundreds; a
/// 360-server pre-flight that read them all made 4,000 calls).
#[tokio::test]
async fn the_newest_snapshot_is_read_from_one_page_newest_first() {
    let (stub, drs) = drs().await;
    stub.push(
        "DescribeRecoverySnapshots",
        Reply::ok(json!({
            "items": [
                snapshot(8, "2024-05-01T11:50:00Z"),
                snapshot(9, "2024-05-01T12:00:00Z"),
                snapshot(7, "2024-05-01T11:40:00Z"),
            ],
            "nextToken": "older",
        })),
    );
    let newest = drs
        .newest_recovery_snapshot(&server(1))
        .await
        .expect("DescribeRecoverySnapshots")
        .expect("a snapshot");
    assert_eq!(newest.snapshot_id, "pit-00000000000000009");
    let sent = stub.bodies("DescribeRecoverySnapshots");
    assert_eq!(sent.len(), 1, "the older pages are not read");
    assert_eq!(sent[0]["order"], "DESC");
    assert_eq!(
        sent[0]["maxResults"],
        ripcord_aws::drs::NEWEST_SNAPSHOTS_PAGE
    );

    stub.push(
        "DescribeRecoverySnapshots",
        Reply::ok(json!({ "items": [] })),
    );
    assert_eq!(
        drs.newest_recovery_snapshot(&server(1)).await.unwrap(),
        None
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

#[tokio::test]
async fn start_recovery_sends_each_chosen_snapshot_with_its_server() {
    let (stub, drs) = drs().await;
    stub.push(
        "StartRecovery",
        Reply::ok(json!({ "job": job(&job_id(1), "PENDING", json!({})) })).status(202),
    );
    let pit = "pit-0123456789abcdef0";
    let mut request = StartRecoveryRequest {
        source_servers: vec![server(1), server(2)],
        is_drill: true,
        tags: tags("1"),
        recovery_snapshots: BTreeMap::from([(server(3), pit.to_owned())]),
    };
    let stray = drs.start_recovery(&request).await.unwrap_err();
    assert_eq!(
        (stray.class, stray.code.as_str()),
        (ErrorClass::Permanent, "ValidationException")
    );
    assert!(
        stray.message.contains(server(3).as_str()),
        "{}",
        stray.message
    );
    assert!(stub.requests().is_empty(), "refused before calling");

    request.recovery_snapshots = BTreeMap::from([(server(2), pit.to_owned())]);
    drs.start_recovery(&request).await.expect("StartRecovery");
    assert_eq!(
        stub.bodies("StartRecovery")[0]["sourceServers"],
        json!([
            { "sourceServerID": server(1).as_str() },
            { "sourceServerID": server(2).as_str(), "recoverySnapshotID": pit },
        ])
    );
}

#[tokio::test]
async fn recovery_instances_of_servers_are_asked_200_servers_at_a_time() {
    let (stub, drs) = drs().await;
    stub.on("DescribeRecoveryInstances", |body| {
        let items: Vec<Value> = ids_in(body, "/filters/sourceServerIDs")
            .iter()
            .enumerate()
            .map(|(n, s)| json!({ "recoveryInstanceID": format!("i-r{n:016x}"), "sourceServerID": s }))
            .collect();
        Reply::ok(json!({ "items": items }))
    });
    assert!(
        drs.describe_recovery_instances_of_servers(&[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        stub.requests().is_empty(),
        "an empty filter would list them all"
    );
    let servers: Vec<SourceServerId> = (0..450).map(server).collect();

    let instances = drs
        .describe_recovery_instances_of_servers(&servers)
        .await
        .expect("DescribeRecoveryInstances");

    let sent: Vec<Vec<String>> = stub
        .bodies("DescribeRecoveryInstances")
        .iter()
        .map(|b| ids_in(b, "/filters/sourceServerIDs"))
        .collect();
    assert_eq!(
        sent.iter().map(Vec::len).collect::<Vec<_>>(),
        [200, 200, 50]
    );
    let expected: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
    assert_eq!(sent.concat(), expected);
    assert_eq!(instances.len(), 450);
    assert_eq!(instances[449].source_server_id, server(449));
}

#[tokio::test]
async fn source_servers_are_listed_without_a_filter_with_tags_and_leftovers() {
    let (stub, drs) = drs().await;
    stub.push(
        "DescribeSourceServers",
        Reply::ok(json!({
            "items": [{
                "sourceServerID": server(1).as_str(),
                "tags": { "app": "billing" },
                "recoveryInstanceId": "i-0123456789abcdef0",
                "lastLaunchResult": "SUCCEEDED",
                "dataReplicationInfo": { "dataReplicationState": "CONTINUOUS", "lagDuration": "PT5M30S" },
            }],
            "nextToken": "n",
        })),
    );
    stub.push(
        "DescribeSourceServers",
        Reply::ok(json!({ "items": [
            { "sourceServerID": server(2).as_str(), "lastLaunchResult": "SOMETHING_NEW" },
        ] })),
    );
    assert!(drs.describe_source_servers(&[]).await.unwrap().is_empty());
    assert!(stub.requests().is_empty(), "no ids, no call");

    let servers = drs
        .list_source_servers()
        .await
        .expect("DescribeSourceServers");

    let sent = stub.bodies("DescribeSourceServers");
    assert_eq!(sent.len(), 2);
    assert!(
        ids_in(&sent[0], "/filters/sourceServerIDs").is_empty(),
        "{}",
        sent[0]
    );
    assert_eq!(sent[1]["nextToken"], "n");
    assert_eq!(
        servers[0].tags.get("app").map(String::as_str),
        Some("billing")
    );
    assert_eq!(
        servers[0].recovery_instance_id.as_deref(),
        Some("i-0123456789abcdef0")
    );
    assert_eq!(
        servers[0].last_launch_result,
        Some(LastLaunchResult::Succeeded)
    );
    assert_eq!(servers[0].lag(), Ok(Some(Duration::from_secs(330))));
    assert!(servers[1].tags.is_empty());
    assert_eq!(
        servers[1].last_launch_result,
        Some(LastLaunchResult::Other("SOMETHING_NEW".to_owned()))
    );
}

#[tokio::test]
async fn recovery_snapshots_are_asked_newest_first_before_a_time_on_every_page() {
    let (stub, drs) = drs().await;
    stub.push(
        "DescribeRecoverySnapshots",
        Reply::ok(json!({
            "items": [
                // Past `before` by half a second: trimmed here.
                snapshot(3, "2024-05-01T12:00:10.500Z"),
                snapshot(2, "2024-05-01T11:50:00Z"),
            ],
            "nextToken": "p2",
        })),
    );
    stub.push(
        "DescribeRecoverySnapshots",
        Reply::ok(json!({ "items": [
            { "snapshotID": "pit-00000000000000001", "sourceServerID": server(1).as_str(), "expectedTimestamp": "2024-05-01T11:40:00Z" },
        ] })),
    );
    let before = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 10).unwrap();

    let snapshots = drs
        .describe_recovery_snapshots(&server(1), Some(before))
        .await
        .expect("DescribeRecoverySnapshots");

    let sent = stub.bodies("DescribeRecoverySnapshots");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["sourceServerID"], server(1).as_str());
    assert_eq!(sent[0]["order"], "DESC");
    assert_eq!(sent[0]["filters"]["toDateTime"], "2024-05-01T12:00:10Z");
    assert_eq!(sent[1]["nextToken"], "p2");
    let ids: Vec<&str> = snapshots.iter().map(|s| s.snapshot_id.as_str()).collect();
    assert_eq!(ids, ["pit-00000000000000002", "pit-00000000000000001"]);
    assert_eq!(snapshots[1].timestamp, None);
    assert_eq!(
        snapshots[1].taken_at(),
        chrono::Utc.with_ymd_and_hms(2024, 5, 1, 11, 40, 0).unwrap()
    );

    // A time to the millisecond is asked up to the next whole second.
    stub.push(
        "DescribeRecoverySnapshots",
        Reply::ok(json!({ "items": [] })),
    );
    let odd = before + chrono::Duration::milliseconds(250);
    drs.describe_recovery_snapshots(&server(1), Some(odd))
        .await
        .unwrap();
    assert_eq!(
        stub.bodies("DescribeRecoverySnapshots")[2]["filters"]["toDateTime"],
        "2024-05-01T12:00:11Z"
    );
    stub.push(
        "DescribeRecoverySnapshots",
        Reply::ok(json!({ "items": [snapshot(4, "yesterday")] })),
    );
    let unreadable = drs
        .describe_recovery_snapshots(&server(1), None)
        .await
        .unwrap_err();
    assert_eq!(unreadable.code, "InvalidResponse");
    assert!(
        unreadable.message.contains("yesterday"),
        "{}",
        unreadable.message
    );
}

// ---- The same facts through the HTTP simulator and in process ----

use ripcord::ports::clock::ManualClock;
use ripcord::time::Timestamp;
use ripcord_sim::{ScenarioSource, Simulator};
use ripcord_sim_server::{SimServerConfig, serve};
use std::sync::Arc;

/// Real-speed time (nothing moves during a test) and exact facts.
const FACTS: &str = r#"
time_scale: 1
seed: 11
strict_inventory: true
snapshots: { every: 10m, newest_age: 2m, retention: 1h }
servers:
  s-00000000000000000: { tags: { app: billing, tier: db }, replication_lag: 5m30s, hostname: db-1 }
  s-00000000000000001: { leftover_recovery_instance: true }
  s-00000000000000002: { newest_snapshot_age: 3h, replication: STALLED }
  s-00000000000000003: { outcome: launch_failed }
"#;

/// Serves `yaml` on a free port; returns the adapter on it and when its
/// world started (from `POST /sim-api/reset`).
async fn served(yaml: &str) -> (DrsService, Timestamp) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let config = SimServerConfig {
        scenario: Some(ScenarioSource::parse(yaml.to_owned(), "facts.yaml".to_owned()).unwrap()),
        page_size: 2,
        ..SimServerConfig::default()
    };
    tokio::spawn(async move { serve(listener, config).await.expect("server runs") });
    let started = reset(&address, yaml).await;
    let clients = support::clients(&format!("http://{address}")).await;
    (DrsService::new(clients.drs), started)
}

/// `POST /sim-api/reset` with `yaml`: a fresh world; its `startedAt`.
async fn reset(address: &str, yaml: &str) -> Timestamp {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST /sim-api/reset HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{yaml}",
        yaml.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (_, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {raw}"));
    chrono::DateTime::parse_from_rfc3339(v["startedAt"].as_str().expect("startedAt"))
        .unwrap()
        .to_utc()
}

fn in_process(yaml: &str) -> (Arc<Simulator>, Arc<ManualClock>, Timestamp) {
    let start = chrono::Utc
        .with_ymd_and_hms(2025, 11, 28, 17, 0, 0)
        .unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let source = ScenarioSource::parse(yaml.to_owned(), "facts.yaml".to_owned()).unwrap();
    (Simulator::new(source.scenario, clock.clone()), clock, start)
}

/// What DRS tells of the account, every time as an offset from the
/// world's start, so that two worlds started at different instants compare.
#[derive(Debug, PartialEq)]
struct Facts {
    servers: Vec<String>,
    snapshots: Vec<Vec<(String, i64, Option<i64>)>>,
    before_15_minutes: Vec<String>,
    /// Each instance with its snapshot time taken out as an offset.
    instances: Vec<(RecoveryInstance, Option<i64>)>,
}

async fn facts(drs: &dyn ripcord::ports::RecoveryService, started: Timestamp) -> Facts {
    let ms = |t: Timestamp| (t - started).num_milliseconds();
    // Snapshot times fall on whole seconds before the start.
    let snapshot_origin = chrono::SubsecRound::trunc_subsecs(started, 0);
    let snapshot_ms = |t: Timestamp| (t - snapshot_origin).num_milliseconds();
    let all = drs.list_source_servers().await.expect("list");
    let ids: Vec<SourceServerId> = all.iter().map(|s| s.source_server_id.clone()).collect();
    let some = drs
        .describe_source_servers(&[server(3), server(0), server(9)])
        .await
        .expect("describe");
    let mut snapshots = Vec::new();
    for id in &ids {
        let list: Vec<RecoverySnapshot> = drs
            .describe_recovery_snapshots(id, None)
            .await
            .expect("snapshots");
        snapshots.push(
            list.into_iter()
                .map(|s| {
                    let expected = snapshot_ms(s.expected_timestamp);
                    (s.snapshot_id, expected, s.timestamp.map(snapshot_ms))
                })
                .collect(),
        );
    }
    let before = started - chrono::Duration::minutes(15);
    let before_15_minutes = drs
        .describe_recovery_snapshots(&server(0), Some(before))
        .await
        .expect("snapshots before")
        .into_iter()
        .map(|s| s.snapshot_id)
        .collect();
    let instances = drs
        .describe_recovery_instances_of_servers(&ids)
        .await
        .expect("instances")
        .into_iter()
        .map(|mut i| {
            let offset = i.point_in_time_snapshot.take().map(ms);
            (i, offset)
        })
        .collect();
    Facts {
        servers: all.iter().chain(&some).map(|s| format!("{s:?}")).collect(),
        snapshots,
        before_15_minutes,
        instances,
    }
}

#[tokio::test]
async fn the_adapter_on_the_http_simulator_tells_the_same_facts_as_the_simulator() {
    let (adapter, served_start) = served(FACTS).await;
    let (sim, _, sim_start) = in_process(FACTS);

    let over_http = facts(&adapter, served_start).await;
    let in_memory = facts(sim.as_ref(), sim_start).await;

    assert_eq!(over_http, in_memory);
    // And the facts are the scenario's, not merely equal.
    assert_eq!(in_memory.servers.len(), 4 + 2, "an unknown id is left out");
    assert!(
        in_memory.servers[0].contains("\"billing\""),
        "{}",
        in_memory.servers[0]
    );
    assert!(in_memory.servers[0].contains("PT5M30S"));
    assert_eq!(in_memory.snapshots[0].len(), 6);
    assert_eq!(in_memory.snapshots[0][0].1, -120_000, "2m old at the start");
    assert!(in_memory.snapshots[2].is_empty(), "stale beyond retention");
    assert_eq!(in_memory.before_15_minutes.len(), 4);
    assert_eq!(in_memory.before_15_minutes[0], in_memory.snapshots[0][2].0);
    assert_eq!(in_memory.instances.len(), 1);
    let (leftover, _) = &in_memory.instances[0];
    assert_eq!(leftover.source_server_id, server(1));
    assert!(leftover.is_drill);
    assert!(in_memory.servers[1].contains(&leftover.recovery_instance_id));
}

/// Launches servers 0 and 1 from server 0's third-newest snapshot once a
/// snapshot of server 1 was refused for server 0; returns the chosen
/// snapshot and server 0's recovery instance once it runs. `settle` lets
/// simulated time pass between polls.
async fn launch_from_snapshot(
    drs: &dyn ripcord::ports::RecoveryService,
    settle: &(dyn Fn() + Sync),
) -> (
    RecoverySnapshot,
    ripcord::ports::drs::RecoveryInstance,
    String,
) {
    let ours = drs
        .describe_recovery_snapshots(&server(0), None)
        .await
        .unwrap();
    let theirs = drs
        .describe_recovery_snapshots(&server(1), None)
        .await
        .unwrap();
    let mut request = StartRecoveryRequest {
        source_servers: vec![server(0), server(1)],
        is_drill: true,
        tags: tags("1"),
        recovery_snapshots: BTreeMap::from([(server(0), theirs[0].snapshot_id.clone())]),
    };
    let refused = drs.start_recovery(&request).await.unwrap_err();
    let chosen = ours[2].clone();
    request.recovery_snapshots = BTreeMap::from([(server(0), chosen.snapshot_id.clone())]);
    drs.start_recovery(&request).await.expect("StartRecovery");
    for _ in 0..500 {
        let mut running = drs
            .describe_recovery_instances_of_servers(&[server(0)])
            .await
            .unwrap();
        if let Some(instance) = running.pop() {
            return (chosen, instance, refused.code);
        }
        settle();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("server 0 never launched");
}

#[tokio::test]
async fn a_launch_from_a_snapshot_takes_its_time_on_both_paths() {
    let fast = "time_scale: 1000\njob_pending: 1s\nlaunch_duration: { min: 5s, max: 5s }\nstrict_inventory: true\nservers:\n  s-00000000000000000: {}\n  s-00000000000000001: {}\n";
    let (adapter, _) = served(fast).await;
    let (sim, clock, _) = in_process(fast);

    let (chosen, instance, refused) = launch_from_snapshot(&adapter, &|| {}).await;
    assert_eq!(instance.point_in_time_snapshot, chosen.timestamp);
    assert_eq!(refused, "ValidationException");

    let advance = || clock.advance(Duration::from_secs(10));
    let (chosen, instance, refused) = launch_from_snapshot(sim.as_ref(), &advance).await;
    assert_eq!(instance.point_in_time_snapshot, chosen.timestamp);
    assert_eq!(refused, "ValidationException");
    let calls = sim.start_recovery_calls();
    assert_eq!(
        calls[1].recovery_snapshots.get(&server(0)),
        Some(&chosen.snapshot_id)
    );
}
