use super::super::test_support::{mins, server, sim, start, t0, wave_tags};
use super::*;
use ripcord::ports::drs::{DrsLaunchStatus, LastLaunchResult};
use ripcord::ports::ec2::InstanceDirectory;
use ripcord::ports::ssm::CommandRunner;
use ripcord::service_error::ErrorClass;
use std::time::Duration;

const FIXED: &str = "job_pending: 10s\nlaunch_duration: { min: 3m, max: 3m }\n";

async fn job(sim: &Simulator, id: &str) -> RecoveryJob {
    let mut jobs = sim.describe_jobs(&[id.to_owned()]).await.unwrap();
    assert_eq!(jobs.len(), 1);
    jobs.remove(0)
}

fn statuses(job: &RecoveryJob) -> Vec<DrsLaunchStatus> {
    job.participating_servers
        .iter()
        .map(|s| s.launch_status)
        .collect()
}

#[tokio::test]
async fn a_server_goes_pending_in_progress_launched() {
    let (sim, clock) = sim(FIXED);
    let created = sim.start_recovery(&start(&[server(1)], 1)).await.unwrap();
    assert!(created.job_id.starts_with("drsjob-") && created.job_id.len() == 24);
    assert_eq!(created.status, JobStatus::Pending);
    assert_eq!(created.tags, wave_tags(1));
    assert_eq!(statuses(&created), [DrsLaunchStatus::Pending]);

    clock.advance(Duration::from_secs(10));
    let j = job(&sim, &created.job_id).await;
    assert_eq!(j.status, JobStatus::Started);
    assert_eq!(statuses(&j), [DrsLaunchStatus::InProgress]);
    assert_eq!(j.participating_servers[0].recovery_instance_id, None);
    assert!(
        sim.describe_recovery_instances(&[])
            .await
            .unwrap()
            .is_empty()
    );

    clock.advance(mins(3));
    let j = job(&sim, &created.job_id).await;
    assert_eq!(j.status, JobStatus::Completed);
    assert_eq!(
        j.end_time,
        Some(clock_at(mins(3) + Duration::from_secs(10)))
    );
    assert_eq!(statuses(&j), [DrsLaunchStatus::Launched]);
    let ri = j.participating_servers[0]
        .recovery_instance_id
        .clone()
        .unwrap();
    assert!(ri.starts_with("i-") && ri.len() == 19, "{ri}");

    let instances = sim
        .describe_recovery_instances(std::slice::from_ref(&ri))
        .await
        .unwrap();
    assert_eq!(instances.len(), 1);
    let inst = &instances[0];
    let ec2_id = inst.ec2_instance_id.clone().unwrap();
    assert!(ec2_id.starts_with("i-") && ec2_id.len() == 19 && ec2_id != ri);
    assert_eq!(inst.ec2_instance_state.as_deref(), Some("RUNNING"));
    assert_eq!(inst.job_id.as_deref(), Some(created.job_id.as_str()));
    assert_eq!(inst.source_server_id, server(1));
    assert!(inst.is_drill);
    let snapshot = inst.point_in_time_snapshot.unwrap();
    assert!(snapshot < t0() && snapshot > t0() - chrono::Duration::minutes(10));

    let ec2 = sim
        .describe_instances(std::slice::from_ref(&ec2_id))
        .await
        .unwrap();
    assert_eq!(ec2[0].instance_type, "t3.medium");
    assert_eq!(ec2[0].state, "running");
    assert!(
        ec2[0]
            .private_ip_address
            .as_deref()
            .unwrap()
            .starts_with("10.0.")
    );
    assert_eq!(ec2[0].public_ip_address, None);
    assert_eq!(ec2[0].availability_zone.as_deref(), Some("us-east-1a"));
    assert_eq!(ec2[0].launch_time, j.end_time);

    let checks = sim
        .describe_instance_status(std::slice::from_ref(&ec2_id))
        .await
        .unwrap();
    assert_eq!(
        checks[0].instance_status,
        ripcord::ports::ec2::InstanceCheck::Initializing
    );
    assert!(
        sim.describe_instance_information(std::slice::from_ref(&ec2_id))
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(Duration::from_secs(30));
    let agents = sim
        .describe_instance_information(std::slice::from_ref(&ec2_id))
        .await
        .unwrap();
    assert!(agents[0].is_online());
    clock.advance(Duration::from_secs(30));
    assert!(sim.describe_instance_status(&[ec2_id]).await.unwrap()[0].is_ok());
}

fn clock_at(d: Duration) -> Timestamp {
    after(t0(), d)
}

#[tokio::test]
async fn a_job_completes_while_a_server_failed() {
    let (sim, clock) = sim(&format!(
        "{FIXED}servers:\n  s-1234567890abcdef0: {{ outcome: launch_failed, event: CONVERSION_FAIL, error: \"Failed to convert boot volume\" }}\n"
    ));
    let id = sim
        .start_recovery(&start(&[server(0), server(1)], 1))
        .await
        .unwrap()
        .job_id;
    clock.advance(mins(4));
    let j = job(&sim, &id).await;
    assert_eq!(
        j.status,
        JobStatus::Completed,
        "a job COMPLETED with a failed server (invariant 1)"
    );
    assert_eq!(
        statuses(&j),
        [DrsLaunchStatus::Failed, DrsLaunchStatus::Launched]
    );
    assert_eq!(j.participating_servers[0].recovery_instance_id, None);

    let log = sim.describe_job_log_items(&id).await.unwrap();
    let events: Vec<&str> = log.iter().map(|i| i.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "JOB_START",
            "LAUNCH_START",
            "LAUNCH_START",
            "CONVERSION_FAIL",
            "JOB_END"
        ]
    );
    let fail = &log[3];
    assert!(fail.is_failure());
    assert_eq!(fail.source_server_id, Some(server(0)));
    assert_eq!(
        fail.raw_error.as_deref(),
        Some("Failed to convert boot volume")
    );
    let missing = sim.describe_job_log_items("drsjob-00000000000000000").await;
    assert_eq!(missing.unwrap_err().code, "ResourceNotFoundException");
}

#[tokio::test]
async fn a_stuck_server_keeps_its_job_started() {
    let (sim, clock) = sim(&format!(
        "{FIXED}servers:\n  s-1234567890abcdef1: {{ outcome: stuck }}\n"
    ));
    let id = sim
        .start_recovery(&start(&[server(1), server(2)], 1))
        .await
        .unwrap()
        .job_id;
    clock.advance(mins(600));
    let j = job(&sim, &id).await;
    assert_eq!(j.status, JobStatus::Started);
    assert_eq!(j.end_time, None);
    assert_eq!(
        statuses(&j),
        [DrsLaunchStatus::InProgress, DrsLaunchStatus::Launched]
    );
    let log = sim.describe_job_log_items(&id).await.unwrap();
    assert!(log.iter().all(|i| i.event != JobLogEvent::JobEnd));
    let again = sim
        .start_recovery(&start(&[server(1)], 1))
        .await
        .unwrap_err();
    assert_eq!(again.code, "ConflictException");
}

#[tokio::test]
async fn a_not_launched_server_stays_pending_in_a_completed_job() {
    let (sim, clock) = sim(&format!(
        "{FIXED}servers:\n  s-1234567890abcdef3: {{ outcome: not_launched }}\n"
    ));
    let id = sim
        .start_recovery(&start(&[server(3), server(4)], 1))
        .await
        .unwrap()
        .job_id;
    clock.advance(mins(1));
    assert_eq!(job(&sim, &id).await.status, JobStatus::Started);
    clock.advance(mins(3));
    let j = job(&sim, &id).await;
    assert_eq!(j.status, JobStatus::Completed);
    assert_eq!(
        statuses(&j),
        [DrsLaunchStatus::Pending, DrsLaunchStatus::Launched]
    );
    let log = sim.describe_job_log_items(&id).await.unwrap();
    let starts: Vec<_> = log
        .iter()
        .filter(|i| i.event == JobLogEvent::LaunchStart)
        .map(|i| i.source_server_id.clone().unwrap())
        .collect();
    assert_eq!(starts, [server(4)]);
}

#[tokio::test]
async fn a_server_in_an_active_job_cannot_be_started_again() {
    let (sim, clock) = sim(FIXED);
    let first = sim
        .start_recovery(&start(&[server(1), server(2)], 1))
        .await
        .unwrap();
    let err = sim
        .start_recovery(&start(&[server(3), server(2)], 2))
        .await
        .unwrap_err();
    assert_eq!(err.code, "ConflictException");
    assert_eq!(err.class, ErrorClass::Permanent);
    assert!(err.message.contains(&first.job_id), "{}", err.message);
    clock.advance(mins(4));
    let later = sim.start_recovery(&start(&[server(2)], 2)).await.unwrap();
    let calls = sim.start_recovery_calls();
    let outcomes: Vec<_> = calls.iter().map(|c| c.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        [
            StartOutcome::Created {
                job_id: first.job_id
            },
            StartOutcome::Rejected {
                code: "ConflictException".into()
            },
            StartOutcome::Created {
                job_id: later.job_id
            },
        ]
    );
    assert_eq!(calls[1].source_servers, [server(3), server(2)]);
    assert_eq!(calls[1].tags, wave_tags(2));
    assert_eq!(sim.call_count(Operation::StartRecovery), 3);
}

#[tokio::test]
async fn start_recovery_validates_its_request() {
    let (sim, _) = sim(
        "strict_inventory: true\nquotas: { servers_per_job: 2 }\nservers:\n  s-1234567890abcdef1: {}\n  s-1234567890abcdef2: {}\n  s-1234567890abcdef3: {}\n",
    );
    let code = |r: Result<RecoveryJob, ServiceError>| r.unwrap_err().code;
    assert_eq!(
        code(sim.start_recovery(&start(&[], 1)).await),
        "ValidationException"
    );
    let many: Vec<_> = (0..201).map(|_| server(1)).collect();
    assert_eq!(
        code(sim.start_recovery(&start(&many, 1)).await),
        "ValidationException"
    );
    assert_eq!(
        code(sim.start_recovery(&start(&[server(1), server(1)], 1)).await),
        "ValidationException"
    );
    let unknown = sim
        .start_recovery(&start(&[server(1), server(9)], 1))
        .await
        .unwrap_err();
    assert_eq!(unknown.code, "ResourceNotFoundException");
    assert!(unknown.message.contains(server(9).as_str()));
    assert_eq!(
        code(
            sim.start_recovery(&start(&[server(1), server(2), server(3)], 1))
                .await
        ),
        "ServiceQuotaExceededException"
    );
    assert!(
        sim.start_recovery(&start(&[server(1), server(2)], 1))
            .await
            .is_ok()
    );
    assert!(
        sim.start_recovery_calls()
            .iter()
            .filter(|c| c.outcome.job_id().is_some())
            .count()
            == 1
    );
}

#[tokio::test]
async fn an_ambiguous_start_creates_the_job_that_a_tag_lookup_finds() {
    let (sim, clock) = sim(
        "faults: { server_error_rate: 1.0, operations: [StartRecovery], ambiguous_start: true }\n",
    );
    clock.advance(mins(1));
    let err = sim
        .start_recovery(&start(&[server(1)], 1))
        .await
        .unwrap_err();
    assert_eq!(err.code, "InternalServerException");
    assert!(err.class.is_retryable());
    let found = sim.find_jobs_by_tags(&wave_tags(1), t0()).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].participating_servers[0].source_server_id,
        server(1)
    );
    let calls = sim.start_recovery_calls();
    assert_eq!(
        calls[0].outcome,
        StartOutcome::CreatedDespiteError {
            job_id: found[0].job_id.clone(),
            code: "InternalServerException".into()
        }
    );
    assert!(
        sim.find_jobs_by_tags(&wave_tags(2), t0())
            .await
            .unwrap()
            .is_empty()
    );
    let later = after(t0(), mins(2));
    assert!(
        sim.find_jobs_by_tags(&wave_tags(1), later)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_plain_server_error_creates_nothing() {
    let (sim, _) = sim("faults: { server_error_rate: 1.0, operations: [StartRecovery] }\n");
    let err = sim
        .start_recovery(&start(&[server(1)], 1))
        .await
        .unwrap_err();
    assert_eq!(err.code, "InternalServerException");
    assert!(
        sim.find_jobs_by_tags(&wave_tags(1), t0())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        sim.start_recovery_calls()[0].outcome,
        StartOutcome::Rejected {
            code: "InternalServerException".into()
        }
    );
}

#[tokio::test]
async fn faults_follow_their_rate_and_window() {
    let (sim, clock) =
        sim("seed: 3\nfaults: { throttling_rate: 0.3, retry_after: 2s, until: 10m }\n");
    let mut throttled = 0;
    for _ in 0..1000 {
        if let Err(e) = sim.describe_jobs(&[]).await {
            assert_eq!(e.code, "ThrottlingException");
            assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
            throttled += 1;
        }
    }
    assert!(
        (240..360).contains(&throttled),
        "{throttled} of 1000 throttled"
    );
    clock.advance(mins(10));
    for _ in 0..200 {
        sim.describe_jobs(&[]).await.expect("the storm is over");
    }
    assert_eq!(sim.calls().get(&Operation::DescribeJobs), Some(&1200));
}

#[tokio::test]
async fn the_same_seed_gives_the_same_run() {
    async fn run(seed: u64) -> Vec<String> {
        let (sim, clock) = sim(&format!("seed: {seed}\n"));
        let id = sim
            .start_recovery(&start(&[server(1), server(2)], 1))
            .await
            .unwrap()
            .job_id;
        clock.advance(mins(6));
        let j = job(&sim, &id).await;
        let mut out = vec![id, format!("{:?}", j.end_time)];
        out.extend(
            j.participating_servers
                .into_iter()
                .filter_map(|s| s.recovery_instance_id),
        );
        out
    }
    assert_eq!(run(42).await, run(42).await);
    assert_ne!(run(42).await, run(43).await);
}

#[tokio::test]
async fn terminated_recovery_instances_go_away() {
    let (sim, clock) = sim(&format!("{FIXED}terminate_duration: 1m\n"));
    let id = sim
        .start_recovery(&start(&[server(1)], 1))
        .await
        .unwrap()
        .job_id;
    clock.advance(mins(4));
    let ri = job(&sim, &id).await.participating_servers[0]
        .recovery_instance_id
        .clone()
        .unwrap();
    let ec2_id = sim.describe_recovery_instances(&[]).await.unwrap()[0]
        .ec2_instance_id
        .clone()
        .unwrap();
    let missing = sim
        .terminate_recovery_instances(&["i-00000000000000000".into()])
        .await
        .unwrap_err();
    assert_eq!(missing.code, "ResourceNotFoundException");
    let termination = sim
        .terminate_recovery_instances(std::slice::from_ref(&ri))
        .await
        .unwrap();
    assert_eq!(job(&sim, &termination).await.status, JobStatus::Pending);
    assert_eq!(
        sim.describe_recovery_instances(std::slice::from_ref(&ri))
            .await
            .unwrap()
            .len(),
        1
    );

    clock.advance(Duration::from_secs(70));
    assert_eq!(job(&sim, &termination).await.status, JobStatus::Completed);
    assert!(
        sim.describe_recovery_instances(std::slice::from_ref(&ri))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        statuses(&job(&sim, &id).await),
        [DrsLaunchStatus::Terminated]
    );
    assert_eq!(
        sim.describe_instances(std::slice::from_ref(&ec2_id))
            .await
            .unwrap()[0]
            .state,
        "terminated"
    );
    assert!(
        sim.describe_instance_status(&[ec2_id])
            .await
            .unwrap()
            .is_empty()
    );
    let again = sim.terminate_recovery_instances(&[ri]).await.unwrap_err();
    assert_eq!(again.code, "ResourceNotFoundException");
}

#[tokio::test]
async fn source_servers_report_their_replication() {
    let (lenient, _) =
        sim("servers:\n  s-1234567890abcdef2: { replication: STALLED, hostname: db-1 }\n");
    let servers = lenient
        .describe_source_servers(&[server(1), server(2)])
        .await
        .unwrap();
    assert_eq!(servers[0].data_replication_state, "CONTINUOUS");
    assert_eq!(servers[1].data_replication_state, "STALLED");
    assert_eq!(servers[1].hostname.as_deref(), Some("db-1"));
    let (strict, _) = sim("strict_inventory: true\nservers:\n  s-1234567890abcdef2: {}\n");
    let known = strict
        .describe_source_servers(&[server(1), server(2)])
        .await
        .unwrap();
    assert_eq!(known.len(), 1);
    assert_eq!(known[0].source_server_id, server(2));
}
#[tokio::test]
async fn source_servers_report_tags_lag_and_their_last_launch() {
    let (sim, clock) = sim(&format!(
        "{FIXED}strict_inventory: true\nservers:\n  s-1234567890abcdef1: {{ tags: {{ app: billing }}, replication_lag: 5m30s }}\n  s-1234567890abcdef2: {{ replication: STALLED }}\n  s-1234567890abcdef3: {{ outcome: launch_failed }}\n"
    ));
    let all = sim.list_source_servers().await.unwrap();
    let ids: Vec<_> = all.iter().map(|s| s.source_server_id.clone()).collect();
    assert_eq!(ids, [server(1), server(2), server(3)]);
    assert_eq!(all[0].tags.get("app").map(String::as_str), Some("billing"));
    assert_eq!(all[0].lag_duration.as_deref(), Some("PT5M30S"));
    assert_eq!(all[0].lag(), Ok(Some(Duration::from_secs(330))));
    assert_eq!(all[1].lag_duration.as_deref(), Some("PT1H"));
    assert_eq!(all[2].lag_duration.as_deref(), Some("PT0S"));
    assert!(all.iter().all(|s| s.recovery_instance_id.is_none()
        && s.last_launch_result == Some(LastLaunchResult::NotStarted)));
    assert!(sim.describe_source_servers(&[]).await.unwrap().is_empty());
    assert_eq!(
        sim.call_count(Operation::DescribeSourceServers),
        1,
        "no ids, no call"
    );

    sim.start_recovery(&start(&[server(1), server(3)], 1))
        .await
        .unwrap();
    let pending = sim.describe_source_servers(&[server(1)]).await.unwrap();
    assert_eq!(
        pending[0].last_launch_result,
        Some(LastLaunchResult::Pending)
    );
    clock.advance(mins(4));
    let done = sim
        .describe_source_servers(&[server(1), server(3), server(9)])
        .await
        .unwrap();
    assert_eq!(done.len(), 2, "an unknown id is left out");
    assert_eq!(
        done[0].last_launch_result,
        Some(LastLaunchResult::Succeeded)
    );
    let launched = sim
        .describe_recovery_instances_of_servers(&[server(1)])
        .await
        .unwrap();
    assert_eq!(
        done[0].recovery_instance_id.as_deref(),
        Some(launched[0].recovery_instance_id.as_str())
    );
    assert_eq!(done[1].last_launch_result, Some(LastLaunchResult::Failed));
    assert_eq!(done[1].recovery_instance_id, None);
}

#[tokio::test]
async fn a_leftover_recovery_instance_is_there_from_the_start() {
    let (sim, _) = sim(
        "servers:\n  s-1234567890abcdef1: { leftover_recovery_instance: true }\n  s-1234567890abcdef2: {}\n",
    );
    let leftovers = sim
        .describe_recovery_instances_of_servers(&[server(1), server(2)])
        .await
        .unwrap();
    assert_eq!(leftovers.len(), 1);
    let left = &leftovers[0];
    assert_eq!(left.source_server_id, server(1));
    assert!(left.is_drill);
    assert!(left.point_in_time_snapshot.unwrap() < t0() - chrono::Duration::hours(23));
    let servers = sim.list_source_servers().await.unwrap();
    assert_eq!(
        servers[0].recovery_instance_id.as_deref(),
        Some(left.recovery_instance_id.as_str())
    );
    assert_eq!(
        servers[0].last_launch_result,
        Some(LastLaunchResult::Succeeded)
    );
    assert_eq!(servers[1].recovery_instance_id, None);
    let ec2_id = left.ec2_instance_id.clone().unwrap();
    let ec2 = sim.describe_instances(&[ec2_id]).await.unwrap();
    assert_eq!(ec2[0].state, "running");
    assert!(
        sim.describe_recovery_instances_of_servers(&[])
            .await
            .unwrap()
            .is_empty(),
        "no ids, nothing"
    );
    assert_eq!(sim.call_count(Operation::DescribeRecoveryInstances), 1);
    // It can be cleaned up like any recovery instance.
    sim.terminate_recovery_instances(std::slice::from_ref(&left.recovery_instance_id))
        .await
        .unwrap();
}

#[tokio::test]
async fn snapshots_are_listed_newest_first_and_bounded_by_before() {
    let (sim, clock) = sim(
        "strict_inventory: true\nsnapshots: { every: 10m, newest_age: 2m, retention: 1h }\nservers:\n  s-1234567890abcdef1: {}\n  s-1234567890abcdef2: { newest_snapshot_age: 3h, replication: STALLED }\n",
    );
    let all = sim
        .describe_recovery_snapshots(&server(1), None)
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(
        all[0].expected_timestamp,
        t0() - chrono::Duration::minutes(2)
    );
    let before = sim
        .describe_recovery_snapshots(&server(1), Some(t0() - chrono::Duration::minutes(15)))
        .await
        .unwrap();
    assert_eq!(before[0], all[2], "the newest at or before `before`");
    assert!(
        sim.describe_recovery_snapshots(&server(2), None)
            .await
            .unwrap()
            .is_empty(),
        "3h old, kept 1h"
    );
    clock.advance(mins(10));
    let moved = sim
        .describe_recovery_snapshots(&server(1), None)
        .await
        .unwrap();
    assert_eq!(moved[1], all[0]);
    let unknown = sim
        .describe_recovery_snapshots(&server(9), None)
        .await
        .unwrap_err();
    assert_eq!(unknown.code, "ValidationException");
    assert!(
        unknown.message.contains(server(9).as_str()),
        "{}",
        unknown.message
    );
    assert_eq!(sim.call_count(Operation::DescribeRecoverySnapshots), 5);
}

#[tokio::test]
async fn a_launch_from_a_snapshot_takes_its_point_in_time() {
    let (sim, clock) = sim(FIXED);
    let snapshots = sim
        .describe_recovery_snapshots(&server(1), None)
        .await
        .unwrap();
    let other = sim
        .describe_recovery_snapshots(&server(2), None)
        .await
        .unwrap();
    let chosen = &snapshots[3];
    let mut request = start(&[server(1), server(2)], 1);
    request
        .recovery_snapshots
        .insert(server(1), other[0].snapshot_id.clone());
    let err = sim.start_recovery(&request).await.unwrap_err();
    assert_eq!(err.code, "ValidationException");
    assert!(
        err.message.contains("DescribeRecoverySnapshots"),
        "{}",
        err.message
    );
    request.recovery_snapshots = BTreeMap::from([(server(3), chosen.snapshot_id.clone())]);
    let err = sim.start_recovery(&request).await.unwrap_err();
    assert_eq!(err.code, "ValidationException");

    request.recovery_snapshots = BTreeMap::from([(server(1), chosen.snapshot_id.clone())]);
    sim.start_recovery(&request).await.unwrap();
    clock.advance(mins(4));
    let instances = sim
        .describe_recovery_instances_of_servers(&[server(1), server(2)])
        .await
        .unwrap();
    let of = |n| {
        instances
            .iter()
            .find(|i| i.source_server_id == server(n))
            .unwrap()
    };
    assert_eq!(of(1).point_in_time_snapshot, Some(chosen.taken_at()));
    assert!(of(2).point_in_time_snapshot.unwrap() > t0() - chrono::Duration::minutes(10));
    let calls = sim.start_recovery_calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2].recovery_snapshots, request.recovery_snapshots);
    assert!(calls[0].outcome.job_id().is_none());
}

#[tokio::test]
async fn snapshot_listing_faults_by_its_own_name() {
    let (sim, _) =
        sim("faults: { throttling_rate: 1.0, operations: [DescribeRecoverySnapshots] }\n");
    let err = sim
        .describe_recovery_snapshots(&server(1), None)
        .await
        .unwrap_err();
    assert_eq!(err.code, "ThrottlingException");
    assert!(sim.list_source_servers().await.is_ok());
}
