//! `ripcord sim serve` as the AWS SDKs see it: the server runs in process on
//! a free port and the real aws-sdk-drs and aws-sdk-ssm clients (retries
//! off) talk to it; boto3 checks every response against botocore's model
//! (with `RIPCORD_TEST_PYTHON`); the EC2 mirror and the launch-result events
//! are checked against moto (with `RIPCORD_TEST_MOTO_URL`).

use aws_sdk_drs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_drs::error::ProvideErrorMetadata;
use aws_sdk_drs::types::{
    DescribeJobsRequestFilters, DescribeRecoveryInstancesRequestFilters,
    DescribeRecoverySnapshotsRequestFilters, DescribeSourceServersRequestFilters, Job, JobStatus,
    LastLaunchResult, LaunchStatus, RecoverySnapshot, RecoverySnapshotsOrder,
    StartRecoveryRequestSourceServer,
};
use aws_sdk_ssm::types::{CommandFilter, CommandFilterKey, InstanceInformationStringFilter};
use ripcord::service_error::ErrorClass;
use ripcord_aws::testing::stand_in_url;
use ripcord_sim::ScenarioSource;
use ripcord_sim_server::{DEFAULT_INVENTORY, SimServerConfig, serve};
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Fast launches: a drill's servers are LAUNCHED within a few real ms.
const FAST: &str = r#"
time_scale: 1000
job_pending: 1s
launch_duration: { min: 5s, max: 10s }
ssm_agent_delay: 5s
command_duration: 5s
strict_inventory: true
servers:
  s-1234567890abcdef0: { hostname: web-1 }
  s-1234567890abcdef1: { hostname: web-2 }
  s-1234567890abcdef2: { hostname: db-1 }
  s-1234567890abcdef3: { outcome: launch_failed, event: LAUNCH_FAILED, error: "no capacity for t3.medium in us-east-1a" }
  s-1234567890abcdef4: { tags: { app: billing }, replication_lag: 5m30s }
  s-1234567890abcdef5: {}
  s-1234567890abcdef6: {}
  s-1234567890abcdef7: {}
  s-1234567890abcdef8: { outcome: stuck }
commands:
  - { contains: "pg_isready", status: Failed, exit_code: 2, output: "no response", error: "connection refused" }
  - { contains: "echo", output: "hello from the drill" }
"#;

fn server(n: u32) -> String {
    format!("s-1234567890abcdef{n:x}")
}

fn scenario(yaml: &str) -> Option<ScenarioSource> {
    Some(ScenarioSource::parse(yaml.to_owned(), "test.yaml".to_owned()).expect("test scenario"))
}

/// Starts a server on a free port; returns its URL.
async fn start(config: SimServerConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { serve(listener, config).await.expect("server runs") });
    url
}

async fn start_with(yaml: &str) -> String {
    start(SimServerConfig {
        scenario: scenario(yaml),
        ..SimServerConfig::default()
    })
    .await
}

fn drs(url: &str) -> aws_sdk_drs::Client {
    let config = aws_sdk_drs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .retry_config(aws_sdk_drs::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_drs::Client::from_conf(config)
}

fn ssm(url: &str) -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
        .region(aws_sdk_ssm::config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .retry_config(aws_sdk_ssm::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

/// Polls `probe` until it gives a value (10 s at most).
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start_drill(drs: &aws_sdk_drs::Client, servers: &[String], wave: &str) -> Job {
    let mut call = drs
        .start_recovery()
        .is_drill(true)
        .tags("ripcord:execution-id", "exec-1")
        .tags("ripcord:wave", wave);
    for s in servers {
        call = call.source_servers(
            StartRecoveryRequestSourceServer::builder()
                .source_server_id(s)
                .build()
                .unwrap(),
        );
    }
    call.send()
        .await
        .expect("StartRecovery")
        .job
        .expect("a job")
}

/// DescribeJobs for one job until it is COMPLETED.
async fn completed(drs: &aws_sdk_drs::Client, job_id: &str) -> Job {
    eventually("the job to complete", || async {
        let out = drs
            .describe_jobs()
            .filters(
                DescribeJobsRequestFilters::builder()
                    .job_ids(job_id)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeJobs");
        out.items()
            .first()
            .filter(|j| j.status() == Some(&JobStatus::Completed))
            .cloned()
    })
    .await
}

/// A raw HTTP/1.1 exchange, for what an SDK cannot send: (status, headers, body).
async fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_drill_launches_and_drs_describes_it() {
    let url = start_with(FAST).await;
    let drs = drs(&url);
    let servers = [server(0), server(1), server(2)];
    let job = start_drill(&drs, &servers, "1").await;
    let job_id = job.job_id().to_owned();
    assert!(
        job_id.starts_with("drsjob-") && job_id.len() == 24,
        "{job_id}"
    );
    assert_eq!(job.r#type().map(|t| t.as_str()), Some("LAUNCH"));
    assert_eq!(job.initiated_by().map(|t| t.as_str()), Some("START_DRILL"));
    assert_eq!(
        job.tags().unwrap().get("ripcord:wave").map(String::as_str),
        Some("1")
    );
    assert!(job.creation_date_time().unwrap().ends_with('Z'));

    let done = completed(&drs, &job_id).await;
    let launched: Vec<_> = done
        .participating_servers()
        .iter()
        .map(|s| {
            (
                s.source_server_id().unwrap().to_owned(),
                s.launch_status().cloned(),
            )
        })
        .collect();
    assert_eq!(
        launched,
        servers
            .iter()
            .map(|s| (s.clone(), Some(LaunchStatus::Launched)))
            .collect::<Vec<_>>()
    );
    assert!(done.end_date_time().is_some());

    let instances = drs
        .describe_recovery_instances()
        .filters(
            DescribeRecoveryInstancesRequestFilters::builder()
                .source_server_ids(server(0))
                .source_server_ids(server(2))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let items = instances.items();
    assert_eq!(items.len(), 2);
    for i in items {
        assert_eq!(i.job_id(), Some(job_id.as_str()));
        assert_eq!(i.is_drill(), Some(true));
        assert!(i.ec2_instance_id().unwrap().starts_with("i-"));
        assert_eq!(i.ec2_instance_state().map(|s| s.as_str()), Some("RUNNING"));
        assert!(i.point_in_time_snapshot_date_time().is_some());
    }
    let db = items
        .iter()
        .find(|i| i.source_server_id() == Some(server(2).as_str()))
        .unwrap();
    let hints = db
        .recovery_instance_properties()
        .unwrap()
        .identification_hints()
        .unwrap();
    assert_eq!(hints.hostname(), Some("db-1"));

    let sources = drs
        .describe_source_servers()
        .filters(
            DescribeSourceServersRequestFilters::builder()
                .source_server_ids(server(2))
                .source_server_ids(server(4))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let [db, idle] = sources.items() else {
        panic!("two source servers: {sources:?}")
    };
    assert_eq!(
        db.last_launch_result().map(|r| r.as_str()),
        Some("SUCCEEDED")
    );
    assert_eq!(
        db.recovery_instance_id(),
        Some(
            done.participating_servers()[2]
                .recovery_instance_id()
                .unwrap()
        )
    );
    let replication = db.data_replication_info().unwrap();
    assert_eq!(
        replication.data_replication_state().map(|s| s.as_str()),
        Some("CONTINUOUS")
    );
    assert_eq!(replication.lag_duration(), Some("PT0S"));
    let hostname = db
        .source_properties()
        .unwrap()
        .identification_hints()
        .unwrap()
        .hostname();
    assert_eq!(hostname, Some("db-1"));
    let last = db.life_cycle().unwrap().last_launch().unwrap();
    assert_eq!(last.initiated().unwrap().job_id(), Some(job_id.as_str()));
    assert_eq!(
        last.initiated().unwrap().r#type().map(|t| t.as_str()),
        Some("DRILL")
    );
    assert_eq!(
        idle.last_launch_result().map(|r| r.as_str()),
        Some("NOT_STARTED")
    );

    let ri = done.participating_servers()[0]
        .recovery_instance_id()
        .unwrap()
        .to_owned();
    let termination = drs
        .terminate_recovery_instances()
        .recovery_instance_ids(&ri)
        .send()
        .await
        .unwrap()
        .job
        .unwrap();
    assert_eq!(termination.r#type().map(|t| t.as_str()), Some("TERMINATE"));
    assert_eq!(
        termination.initiated_by().map(|t| t.as_str()),
        Some("TERMINATE_RECOVERY_INSTANCES")
    );
    completed(&drs, termination.job_id()).await;
    let left = drs.describe_recovery_instances().send().await.unwrap();
    let ids: Vec<_> = left
        .items()
        .iter()
        .filter_map(|i| i.recovery_instance_id())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&ri.as_str()));
}

#[tokio::test]
async fn describe_jobs_pages_through_every_job() {
    let url = start(SimServerConfig {
        scenario: scenario(FAST),
        page_size: 5,
        ..SimServerConfig::default()
    })
    .await;
    let drs = drs(&url);
    let mut started = Vec::new();
    for n in 0..7 {
        started.push(
            start_drill(&drs, &[server(n)], &n.to_string())
                .await
                .job_id()
                .to_owned(),
        );
    }
    // maxResults 3: pages of 3, 3 and 1, linked by nextToken.
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let out = drs
            .describe_jobs()
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages.push(out.items().len());
        seen.extend(out.items().iter().map(|j| j.job_id().to_owned()));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, [3, 3, 1]);
    assert_eq!(seen, started);

    // No maxResults: the server's page size (5), and the SDK's paginator follows.
    let first = drs.describe_jobs().send().await.unwrap();
    assert_eq!(first.items().len(), 5);
    assert!(first.next_token().is_some());
    let all: Vec<Job> = drs
        .describe_jobs()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 7);

    let future = drs
        .describe_jobs()
        .filters(
            DescribeJobsRequestFilters::builder()
                .from_date("2999-01-01T00:00:00Z")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(future.items().is_empty());
    let bad = drs
        .describe_jobs()
        .next_token("DescribeSourceServers/2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("ValidationException"));
}

#[tokio::test]
async fn a_failed_launch_shows_in_the_job_log() {
    let url = start_with(FAST).await;
    let drs = drs(&url);
    let job = start_drill(&drs, &[server(3), server(4)], "1").await;
    let done = completed(&drs, job.job_id()).await;
    let statuses: Vec<_> = done
        .participating_servers()
        .iter()
        .map(|s| s.launch_status().cloned().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [LaunchStatus::Failed, LaunchStatus::Launched],
        "COMPLETED with a failed server"
    );

    let log = drs
        .describe_job_log_items()
        .job_id(job.job_id())
        .send()
        .await
        .unwrap();
    let events: Vec<&str> = log
        .items()
        .iter()
        .map(|i| i.event().unwrap().as_str())
        .collect();
    assert!(
        events.contains(&"JOB_START") && events.contains(&"JOB_END"),
        "{events:?}"
    );
    let failure = log
        .items()
        .iter()
        .find(|i| i.event().map(|e| e.as_str()) == Some("LAUNCH_FAILED"))
        .expect("a LAUNCH_FAILED item");
    let data = failure.event_data().unwrap();
    assert_eq!(data.source_server_id(), Some(server(3).as_str()));
    assert_eq!(
        data.raw_error(),
        Some("no capacity for t3.medium in us-east-1a")
    );
    assert!(failure.log_date_time().is_some());

    // The log pages too.
    let first = drs
        .describe_job_log_items()
        .job_id(job.job_id())
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.items().len(), 2);
    assert!(first.next_token().is_some());

    let sources = drs
        .describe_source_servers()
        .filters(
            DescribeSourceServersRequestFilters::builder()
                .source_server_ids(server(3))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        sources.items()[0].last_launch_result().map(|r| r.as_str()),
        Some("FAILED")
    );
}

#[tokio::test]
async fn errors_reach_the_sdk_with_their_codes() {
    let throttled = start_with(
        "time_scale: 1000\nfaults: { throttling_rate: 1.0, retry_after: 3s, operations: [DescribeJobs, SendCommand] }\n",
    )
    .await;
    let err = drs(&throttled).describe_jobs().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    let raw = err.raw_response().expect("a response");
    assert_eq!(raw.status().as_u16(), 429);
    assert_eq!(raw.headers().get("retry-after"), Some("3"));
    assert_eq!(
        raw.headers().get("x-amzn-errortype"),
        Some("ThrottlingException")
    );
    let mapped = ripcord_aws::service_error("drs", "DescribeJobs", err);
    assert_eq!(mapped.class, ErrorClass::Throttling);
    assert_eq!(mapped.retry_after, Some(Duration::from_secs(3)));
    // Not the other operations.
    assert!(
        drs(&throttled)
            .describe_source_servers()
            .send()
            .await
            .is_ok()
    );
    // SSM throttles with a 400 and the code in the body.
    let err = ssm(&throttled)
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids("i-0123456789abcdef0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(
        ripcord_aws::service_error("ssm", "SendCommand", err).class,
        ErrorClass::Throttling
    );

    let url = start_with(FAST).await;
    let drs = drs(&url);
    let malformed = drs
        .start_recovery()
        .source_servers(
            StartRecoveryRequestSourceServer::builder()
                .source_server_id("s-123")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Some("ValidationException"));
    assert_eq!(malformed.raw_response().unwrap().status().as_u16(), 400);
    assert!(malformed.message().unwrap().contains("s-123"));
    let unknown = drs
        .start_recovery()
        .source_servers(
            StartRecoveryRequestSourceServer::builder()
                .source_server_id("s-99999999999999999")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("ResourceNotFoundException"));
    assert_eq!(unknown.raw_response().unwrap().status().as_u16(), 404);
    let missing_job = drs
        .describe_job_log_items()
        .job_id("drsjob-00000000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing_job.code(), Some("ResourceNotFoundException"));
    // Server 8 never finishes launching: its job holds it.
    start_drill(&drs, &[server(8)], "1").await;
    let busy = start_drill_err(&drs, &[server(8)]).await;
    assert_eq!(busy.code(), Some("ConflictException"));
    assert_eq!(busy.raw_response().unwrap().status().as_u16(), 409);

    // An unknown member, a body that is not JSON, an unknown operation.
    let (status, headers, body) = http(
        &url,
        "POST",
        "/DescribeJobs",
        &[("Content-Type", "application/json")],
        r#"{"filter": {}}"#,
    )
    .await;
    assert_eq!(
        (status, header(&headers, "x-amzn-errortype")),
        (400, Some("ValidationException"))
    );
    assert!(body.contains("`filter`"), "{body}");
    let (status, _, _) = http(&url, "POST", "/StartRecovery", &[], "{").await;
    assert_eq!(status, 400);
    let (status, headers, _) = http(&url, "POST", "/DeleteSourceServer", &[], "{}").await;
    assert_eq!(
        (status, header(&headers, "x-amzn-errortype")),
        (404, Some("UnknownOperationException"))
    );
}

async fn start_drill_err(
    drs: &aws_sdk_drs::Client,
    servers: &[String],
) -> aws_sdk_drs::error::SdkError<aws_sdk_drs::operation::start_recovery::StartRecoveryError> {
    let mut call = drs.start_recovery().is_drill(true);
    for s in servers {
        call = call.source_servers(
            StartRecoveryRequestSourceServer::builder()
                .source_server_id(s)
                .build()
                .unwrap(),
        );
    }
    call.send().await.unwrap_err()
}

#[tokio::test]
async fn an_ambiguous_start_is_a_500_whose_job_exists() {
    let url = start_with(
        "time_scale: 1000\nfaults: { server_error_rate: 1.0, operations: [StartRecovery], ambiguous_start: true }\n",
    )
    .await;
    let drs = drs(&url);
    let err = start_drill_err(&drs, &[server(5)]).await;
    assert_eq!(err.code(), Some("InternalServerException"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 500);
    assert_eq!(
        ripcord_aws::service_error("drs", "StartRecovery", err).class,
        ErrorClass::Transient
    );
    let jobs = drs.describe_jobs().send().await.unwrap();
    let [job] = jobs.items() else {
        panic!("the job exists: {jobs:?}")
    };
    assert_eq!(
        job.participating_servers()[0].source_server_id(),
        Some(server(5).as_str())
    );

    let (status, _, body) = http(&url, "GET", "/sim-api/calls", &[], "").await;
    assert_eq!(status, 200);
    let calls: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(calls["calls"]["StartRecovery"], 1);
    assert_eq!(
        calls["faultsInjected"][0]["code"],
        "InternalServerException"
    );
    assert_eq!(
        calls["startRecoveryCalls"][0]["outcome"]["kind"],
        "createdDespiteError"
    );
    assert_eq!(
        calls["startRecoveryCalls"][0]["outcome"]["jobId"],
        job.job_id()
    );
}

#[tokio::test]
async fn ssm_runs_commands_on_launched_instances() {
    let url = start_with(FAST).await;
    let (drs, ssm) = (drs(&url), ssm(&url));
    let job = start_drill(&drs, &[server(0), server(1)], "1").await;
    completed(&drs, job.job_id()).await;
    let instances = drs.describe_recovery_instances().send().await.unwrap();
    let ids: Vec<String> = instances
        .items()
        .iter()
        .map(|i| i.ec2_instance_id().unwrap().to_owned())
        .collect();

    let online = eventually("both agents online", || async {
        let out = ssm
            .describe_instance_information()
            .filters(
                InstanceInformationStringFilter::builder()
                    .key("InstanceIds")
                    .set_values(Some(ids.clone()))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let list = out.instance_information_list().to_vec();
        (list.len() == 2).then_some(list)
    })
    .await;
    assert!(
        online
            .iter()
            .all(|i| i.ping_status().map(|p| p.as_str()) == Some("Online"))
    );

    let since = chrono::Utc::now() - chrono::Duration::days(1);
    let sent = ssm
        .send_command()
        .document_name("AWS-RunShellScript")
        .set_instance_ids(Some(ids.clone()))
        .parameters("commands", vec!["echo hello".to_owned()])
        .comment("exec-1/w1/a1/1")
        .timeout_seconds(600)
        .send()
        .await
        .unwrap()
        .command
        .unwrap();
    let command_id = sent.command_id().unwrap().to_owned();
    assert_eq!(sent.status().map(|s| s.as_str()), Some("Pending"));
    assert_eq!(sent.instance_ids(), ids.as_slice());

    let invocations = eventually("both invocations to succeed", || async {
        let out = ssm
            .list_command_invocations()
            .command_id(&command_id)
            .details(true)
            .send()
            .await
            .unwrap();
        let list = out.command_invocations().to_vec();
        list.iter()
            .all(|i| i.status().map(|s| s.as_str()) == Some("Success"))
            .then_some(list)
    })
    .await;
    assert_eq!(invocations.len(), 2);
    for i in &invocations {
        let plugin = &i.command_plugins()[0];
        assert_eq!(plugin.output(), Some("hello from the drill"));
        assert_eq!(plugin.response_code(), 0);
        assert_eq!(plugin.status().map(|s| s.as_str()), Some("Success"));
        assert_eq!(i.comment(), Some("exec-1/w1/a1/1"));
    }
    let one = ssm
        .get_command_invocation()
        .command_id(&command_id)
        .instance_id(&ids[0])
        .send()
        .await
        .unwrap();
    assert_eq!(one.standard_output_content(), Some("hello from the drill"));
    assert_eq!(one.status().map(|s| s.as_str()), Some("Success"));

    // A failing check: exit code, error output.
    let check = ssm
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids(&ids[1])
        .parameters("commands", vec!["pg_isready -h localhost".to_owned()])
        .comment("exec-1/w1/a2/1")
        .send()
        .await
        .unwrap()
        .command
        .unwrap();
    let failed = eventually("the check to fail", || async {
        let out = ssm
            .get_command_invocation()
            .command_id(check.command_id().unwrap())
            .instance_id(&ids[1])
            .send()
            .await
            .unwrap();
        (out.status().map(|s| s.as_str()) == Some("Failed")).then_some(out)
    })
    .await;
    assert_eq!(failed.response_code(), 2);
    assert_eq!(failed.standard_error_content(), Some("connection refused"));

    // ListCommands after a time, found by comment the way Ripcord looks.
    let listed = ssm
        .list_commands()
        .filters(
            CommandFilter::builder()
                .key(CommandFilterKey::InvokedAfter)
                .value(since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let found: Vec<_> = listed
        .commands()
        .iter()
        .filter(|c| c.comment() == Some("exec-1/w1/a1/1"))
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].command_id(), Some(command_id.as_str()));
    assert_eq!(found[0].status().map(|s| s.as_str()), Some("Success"));
    let none = ssm
        .list_commands()
        .filters(
            CommandFilter::builder()
                .key(CommandFilterKey::InvokedAfter)
                .value("2999-01-01T00:00:00Z")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(none.commands().is_empty());

    let offline = ssm
        .send_command()
        .document_name("AWS-RunShellScript")
        .instance_ids("i-0000000000000000a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(offline.code(), Some("InvalidInstanceId"));
    let unknown = ssm
        .list_command_invocations()
        .command_id("00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("InvalidCommandId"));
}

#[tokio::test]
async fn an_unknown_ssm_target_is_an_error_the_sdk_reads() {
    let url = start_with(FAST).await;
    let err = ssm(&url)
        .get_parameter()
        .name("/ripcord/x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnknownOperationException"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let (status, _, body) = http(
        &url,
        "POST",
        "/",
        &[
            ("X-Amz-Target", "AmazonSQS.SendMessage"),
            ("Content-Type", "application/x-amz-json-1.1"),
        ],
        "{}",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.contains("\"__type\":\"UnknownOperationException\""),
        "{body}"
    );
}

#[tokio::test]
async fn the_admin_api_resets_the_world() {
    // The default inventory: twelve servers, only those.
    let url = start(SimServerConfig {
        time_scale: Some(1000.0),
        ..SimServerConfig::default()
    })
    .await;
    let drs = drs(&url);
    let all: Vec<_> = drs
        .describe_source_servers()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let listed: Vec<(&str, &str)> = all
        .iter()
        .map(|s| {
            (
                s.source_server_id().unwrap(),
                s.source_properties()
                    .unwrap()
                    .identification_hints()
                    .unwrap()
                    .hostname()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, DEFAULT_INVENTORY);
    start_drill(&drs, &[DEFAULT_INVENTORY[0].0.to_owned()], "1").await;
    assert_eq!(drs.describe_jobs().send().await.unwrap().items().len(), 1);

    let (status, _, body) = http(&url, "POST", "/sim-api/reset", &[], "").await;
    assert_eq!(status, 200, "{body}");
    assert!(drs.describe_jobs().send().await.unwrap().items().is_empty());
    let (_, _, calls) = http(&url, "GET", "/sim-api/calls", &[], "").await;
    let calls: serde_json::Value = serde_json::from_str(&calls).unwrap();
    assert_eq!(calls["calls"]["DescribeJobs"], 1, "{calls}");
    assert!(calls["calls"].get("StartRecovery").is_none(), "{calls}");

    // A scenario in the body (JSON is YAML too).
    let (status, _, body) = http(&url, "POST", "/sim-api/reset", &[], r#"{"time_scale": 1000, "strict_inventory": true, "servers": {"s-bbbb0000000000001": {"hostname": "solo"}}}"#).await;
    assert_eq!(status, 200, "{body}");
    let only = drs.describe_source_servers().send().await.unwrap();
    assert_eq!(only.items().len(), 1);
    assert_eq!(
        only.items()[0].source_server_id(),
        Some("s-bbbb0000000000001")
    );
    let (status, _, body) = http(
        &url,
        "POST",
        "/sim-api/reset",
        &[],
        "faults: { throttling_rate: 2 }\n",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("fraction"), "{body}");
}

#[tokio::test]
async fn boto3_parses_every_response() {
    let Some(python) = stand_in_url("RIPCORD_TEST_PYTHON") else {
        return;
    };
    let url = start_with(FAST).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/boto3_check.py");
    // Off the runtime's thread: the server answers the script meanwhile.
    let command = python.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&command)
            .arg(script)
            .arg(&url)
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "boto3_check.py failed\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("all DRS and SSM operations parsed"),
        "{stdout}"
    );
}

#[tokio::test]
async fn launched_instances_exist_in_moto_and_results_reach_eventbridge() {
    let Some(moto) = stand_in_url("RIPCORD_TEST_MOTO_URL") else {
        return;
    };
    let (status, _, _) = http(&moto, "POST", "/moto-api/reset", &[], "").await;
    assert_eq!(status, 200);
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .load()
        .await;
    let (ec2, sqs, events) = (
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        aws_sdk_eventbridge::Client::new(&sdk),
    );
    let queue = sqs
        .create_queue()
        .queue_name("drs-launch-results")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    events
        .put_rule()
        .name("drs-launch-results")
        .event_pattern(
            r#"{"source": ["aws.drs"], "detail-type": ["DRS Source Server Launch Result"]}"#,
        )
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("drs-launch-results")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(&arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let url = start(SimServerConfig {
        scenario: scenario(FAST),
        ec2_endpoint: Some(moto.clone()),
        events_endpoint: Some(moto.clone()),
        ..SimServerConfig::default()
    })
    .await;
    let (drs, ssm) = (drs(&url), ssm(&url));
    let job = start_drill(&drs, &[server(0), server(2), server(3)], "1").await;
    completed(&drs, job.job_id()).await;
    let instances = drs.describe_recovery_instances().send().await.unwrap();
    assert_eq!(instances.items().len(), 2, "server 3 fails to launch");
    let described = ec2
        .describe_instances()
        .set_instance_ids(Some(
            instances
                .items()
                .iter()
                .map(|i| i.ec2_instance_id().unwrap().to_owned())
                .collect(),
        ))
        .send()
        .await
        .expect("moto knows every ec2InstanceID DRS reports");
    let in_moto: Vec<_> = described
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    assert_eq!(in_moto.len(), 2);
    for i in instances.items() {
        let found = in_moto
            .iter()
            .find(|m| m.instance_id() == i.ec2_instance_id())
            .unwrap();
        let tag = |k: &str| {
            found
                .tags()
                .iter()
                .find(|t| t.key() == Some(k))
                .and_then(|t| t.value())
                .map(str::to_owned)
        };
        assert_eq!(
            tag("ripcord:source-server-id").as_deref(),
            i.source_server_id()
        );
        let expected = if i.source_server_id() == Some(server(0).as_str()) {
            "web-1"
        } else {
            "db-1"
        };
        assert_eq!(tag("Name").as_deref(), Some(expected));
    }
    // SSM reports the same ids.
    let agents = eventually("agents online", || async {
        let list = ssm
            .describe_instance_information()
            .send()
            .await
            .unwrap()
            .instance_information_list()
            .to_vec();
        (list.len() == 2).then_some(list)
    })
    .await;
    for a in &agents {
        assert!(in_moto.iter().any(|m| m.instance_id() == a.instance_id()));
    }

    // One event per launch result, in DRS' shape, through the rule to the queue.
    let mut bodies = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while bodies.len() < 3 && tokio::time::Instant::now() < deadline {
        let received = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in received.messages() {
            bodies.push(serde_json::from_str::<serde_json::Value>(m.body().unwrap()).unwrap());
        }
    }
    let mut states: Vec<(String, String)> = bodies
        .iter()
        .map(|b| {
            assert_eq!(b["source"], "aws.drs");
            assert_eq!(b["detail-type"], "DRS Source Server Launch Result");
            assert_eq!(b["detail"]["job-id"], job.job_id());
            let server = b["detail"]["sourceServerID"].as_str().unwrap().to_owned();
            assert_eq!(
                b["resources"][0],
                format!("arn:aws:drs:us-east-1:123456789012:source-server/{server}")
            );
            (server, b["detail"]["state"].as_str().unwrap().to_owned())
        })
        .collect();
    states.sort();
    assert_eq!(
        states,
        [
            (server(0), "DRILL_LAUNCH_SUCCEEDED".to_owned()),
            (server(2), "DRILL_LAUNCH_SUCCEEDED".to_owned()),
            (server(3), "DRILL_LAUNCH_FAILED".to_owned()),
        ]
    );

    // Drill clean-up: terminating the recovery instances terminates them in EC2.
    let recovery_ids: Vec<String> = instances
        .items()
        .iter()
        .map(|i| i.recovery_instance_id().unwrap().to_owned())
        .collect();
    drs.terminate_recovery_instances()
        .set_recovery_instance_ids(Some(recovery_ids))
        .send()
        .await
        .expect("TerminateRecoveryInstances");
    let states = ec2
        .describe_instances()
        .set_instance_ids(Some(
            in_moto
                .iter()
                .map(|i| i.instance_id().unwrap().to_owned())
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    for i in states.reservations().iter().flat_map(|r| r.instances()) {
        let state = i.state().and_then(|s| s.name()).cloned();
        assert!(
            matches!(
                state,
                Some(
                    aws_sdk_ec2::types::InstanceStateName::ShuttingDown
                        | aws_sdk_ec2::types::InstanceStateName::Terminated
                )
            ),
            "{:?} is {state:?}",
            i.instance_id()
        );
    }
}

/// Snapshots, tags, lag and a leftover drill at real speed, so that every
/// time is exact: the world starts at the reset's `startedAt`.
const FACTS: &str = r#"
time_scale: 1
seed: 5
strict_inventory: true
snapshots: { every: 10m, newest_age: 2m, retention: 1h }
servers:
  s-1234567890abcdef0: { tags: { app: billing, tier: db }, replication_lag: 5m30s }
  s-1234567890abcdef1: { leftover_recovery_instance: true }
  s-1234567890abcdef2: { newest_snapshot_age: 3h, replication: STALLED }
"#;

/// Resets the server to `yaml`; returns when its world started.
async fn reset(url: &str, yaml: &str) -> chrono::DateTime<chrono::Utc> {
    let (status, _, body) = http(url, "POST", "/sim-api/reset", &[], yaml).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    chrono::DateTime::parse_from_rfc3339(v["startedAt"].as_str().unwrap())
        .unwrap()
        .to_utc()
}

fn time(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

async fn all_snapshots(
    drs: &aws_sdk_drs::Client,
    server: &str,
    order: RecoverySnapshotsOrder,
    filters: DescribeRecoverySnapshotsRequestFilters,
) -> Vec<RecoverySnapshot> {
    let mut pages = drs
        .describe_recovery_snapshots()
        .source_server_id(server)
        .order(order)
        .filters(filters)
        .max_results(2)
        .into_paginator()
        .send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        all.extend(
            page.expect("DescribeRecoverySnapshots")
                .items
                .unwrap_or_default(),
        );
    }
    all
}

#[tokio::test]
async fn source_servers_carry_tags_lag_and_the_leftover_instance() {
    let url = start_with(FAST).await;
    reset(&url, FACTS).await;
    let drs = drs(&url);
    let mut pages = drs
        .describe_source_servers()
        .max_results(2)
        .into_paginator()
        .send();
    let mut servers = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        page_count += 1;
        servers.extend(
            page.expect("DescribeSourceServers")
                .items
                .unwrap_or_default(),
        );
    }
    assert_eq!(page_count, 2, "three servers, two per page");
    let ids: Vec<&str> = servers
        .iter()
        .filter_map(|s| s.source_server_id())
        .collect();
    assert_eq!(ids, [server(0), server(1), server(2)]);
    let billing = &servers[0];
    let tags = billing.tags().unwrap();
    assert_eq!(tags.get("app").map(String::as_str), Some("billing"));
    assert_eq!(tags.get("tier").map(String::as_str), Some("db"));
    let replication = billing.data_replication_info().unwrap();
    assert_eq!(replication.lag_duration(), Some("PT5M30S"));
    assert_eq!(billing.recovery_instance_id(), None);
    assert_eq!(
        billing.last_launch_result(),
        Some(&LastLaunchResult::NotStarted)
    );
    assert_eq!(
        servers[2].data_replication_info().unwrap().lag_duration(),
        Some("PT1H")
    );

    let leftover = &servers[1];
    assert_eq!(
        leftover.last_launch_result(),
        Some(&LastLaunchResult::Succeeded)
    );
    let instances = drs
        .describe_recovery_instances()
        .filters(
            DescribeRecoveryInstancesRequestFilters::builder()
                .source_server_ids(server(1))
                .source_server_ids(server(0))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(instances.len(), 1);
    assert_eq!(
        leftover.recovery_instance_id(),
        instances[0].recovery_instance_id()
    );
    assert_eq!(instances[0].source_server_id(), Some(server(1).as_str()));
    assert_eq!(instances[0].is_drill(), Some(true));
}

#[tokio::test]
async fn recovery_snapshots_page_in_either_order_within_their_filters() {
    let url = start_with(FAST).await;
    let started = reset(&url, FACTS).await;
    let drs = drs(&url);
    let none = DescribeRecoverySnapshotsRequestFilters::builder().build();
    let newest_first =
        all_snapshots(&drs, &server(0), RecoverySnapshotsOrder::Desc, none.clone()).await;
    let expected: Vec<_> = newest_first
        .iter()
        .map(|s| started - time(s.expected_timestamp()))
        .map(|age| age.num_minutes())
        .collect();
    assert_eq!(expected, [2, 12, 22, 32, 42, 52], "every 10m for an hour");
    for s in &newest_first {
        assert_eq!(s.source_server_id(), server(0));
        assert!(s.snapshot_id().starts_with("pit-") && s.snapshot_id().len() == 21);
        let late = time(s.timestamp().unwrap()) - time(s.expected_timestamp());
        assert!((1..=20).contains(&late.num_seconds()), "{late}");
    }
    let oldest_first = all_snapshots(&drs, &server(0), RecoverySnapshotsOrder::Asc, none).await;
    let reversed: Vec<_> = newest_first.iter().rev().cloned().collect();
    assert_eq!(oldest_first, reversed);

    let to = newest_first[1].timestamp().unwrap().to_owned();
    let from = newest_first[3].timestamp().unwrap().to_owned();
    let window = DescribeRecoverySnapshotsRequestFilters::builder()
        .from_date_time(&from)
        .to_date_time(&to)
        .build();
    let bounded = all_snapshots(&drs, &server(0), RecoverySnapshotsOrder::Desc, window).await;
    assert_eq!(bounded, newest_first[1..=3]);

    let stale = DescribeRecoverySnapshotsRequestFilters::builder().build();
    assert!(
        all_snapshots(&drs, &server(2), RecoverySnapshotsOrder::Desc, stale)
            .await
            .is_empty(),
        "its newest is 3h old and snapshots are kept 1h"
    );
    let unknown = drs
        .describe_recovery_snapshots()
        .source_server_id(server(9))
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("ValidationException"));
    let bad_token = drs
        .describe_recovery_snapshots()
        .source_server_id(server(0))
        .next_token("DescribeSourceServers/2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad_token.code(), Some("ValidationException"));
    let (status, _, body) = http(
        &url,
        "POST",
        "/DescribeRecoverySnapshots",
        &[("content-type", "application/json")],
        &format!(r#"{{"sourceServerID":"{}","order":"SIDEWAYS"}}"#, server(0)),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("ASC or DESC"), "{body}");
}

#[tokio::test]
async fn a_drill_from_a_snapshot_launches_at_its_point_in_time() {
    let url = start_with(FAST).await;
    let drs = drs(&url);
    let snapshots = |n: u32| {
        let drs = drs.clone();
        async move {
            drs.describe_recovery_snapshots()
                .source_server_id(server(n))
                .order(RecoverySnapshotsOrder::Desc)
                .send()
                .await
                .unwrap()
                .items
                .unwrap_or_default()
        }
    };
    let ours = snapshots(0).await;
    let theirs = snapshots(1).await;
    let chosen = &ours[2];
    let start = |pit: &str| {
        drs.start_recovery()
            .is_drill(true)
            .source_servers(
                StartRecoveryRequestSourceServer::builder()
                    .source_server_id(server(0))
                    .recovery_snapshot_id(pit)
                    .build()
                    .unwrap(),
            )
            .source_servers(
                StartRecoveryRequestSourceServer::builder()
                    .source_server_id(server(1))
                    .build()
                    .unwrap(),
            )
            .send()
    };
    let refused = start(theirs[0].snapshot_id()).await.unwrap_err();
    assert_eq!(refused.code(), Some("ValidationException"));
    assert!(
        refused.message().unwrap_or_default().contains(&server(0)),
        "{refused:?}"
    );
    let job = start(chosen.snapshot_id()).await.unwrap().job.unwrap();
    completed(&drs, &job.job_id).await;
    let instances = drs
        .describe_recovery_instances()
        .filters(
            DescribeRecoveryInstancesRequestFilters::builder()
                .source_server_ids(server(0))
                .build(),
        )
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(
        instances[0].point_in_time_snapshot_date_time().map(time),
        chosen.timestamp().map(time)
    );
    let (_, _, calls) = http(&url, "GET", "/sim-api/calls", &[], "").await;
    let calls: serde_json::Value = serde_json::from_str(&calls).unwrap();
    let asked = &calls["startRecoveryCalls"][1]["recoverySnapshots"];
    assert_eq!(asked[server(0)], chosen.snapshot_id(), "{calls}");
    assert!(asked.get(server(1)).is_none());
}
