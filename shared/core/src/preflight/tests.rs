//! Pre-flight's checks against hand-made facts.

use super::*;
use crate::capacity::{BusyServer, Quotas};
use crate::ids::{ExecutionId, WaveNumber};
use crate::plan::BusyServers;
use crate::testing::{at, plan, server_id};
use chrono::Duration as Span;

fn healthy(n: u16) -> SourceServer {
    SourceServer {
        source_server_id: server_id(n),
        hostname: None,
        data_replication_state: "CONTINUOUS".into(),
        lag_duration: Some("PT0S".into()),
        tags: Default::default(),
        recovery_instance_id: None,
        last_launch_result: None,
    }
}

/// Every server of the fixture plan replicating, with a snapshot two
/// minutes old, nothing busy, nothing left over, capacity free.
fn facts() -> PreflightFacts {
    let now = at(30, 0);
    let ids = [0x11, 0x12, 0x21, 0x22, 0x31, 0x32];
    PreflightFacts {
        region: "us-east-1".into(),
        servers: ids.iter().map(|&n| (server_id(n), healthy(n))).collect(),
        newest_snapshots: ids
            .iter()
            .map(|&n| (server_id(n), Some(now - Span::minutes(2))))
            .collect(),
        capacity: CapacityUsage {
            quotas: Quotas::default(),
            ..Default::default()
        },
        now,
        ..Default::default()
    }
}

fn checks(report: &PreflightReport) -> Vec<(Severity, CheckName, Option<String>)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.severity,
                f.check,
                f.server.as_ref().map(|s| s.to_string()),
            )
        })
        .collect()
}

#[test]
fn a_healthy_estate_has_only_its_recovery_point() {
    let report = check(&plan(), &facts());
    assert_eq!(
        checks(&report),
        vec![(Severity::Info, CheckName::SnapshotAge, None)]
    );
    assert_eq!(report.servers_checked, 6);
    assert_eq!(report.summary(), "1 note");
}

#[test]
fn findings_name_what_is_wrong_and_what_to_do() {
    let mut plan = plan();
    plan.options.max_replication_lag = Some(std::time::Duration::from_secs(600));
    let mut facts = facts();
    facts.region = "eu-west-1".into();
    facts.servers.remove(&server_id(0x12));
    facts
        .servers
        .get_mut(&server_id(0x21))
        .unwrap()
        .data_replication_state = "STALLED".into();
    facts
        .servers
        .get_mut(&server_id(0x22))
        .unwrap()
        .lag_duration = Some("PT25M".into());
    facts
        .newest_snapshots
        .insert(server_id(0x22), Some(facts.now - Span::hours(3)));
    facts.newest_snapshots.insert(server_id(0x31), None);
    facts.busy.push(BusyServer {
        source_server_id: server_id(0x32),
        execution_id: ExecutionId(uuid::Uuid::from_u128(7)),
        wave: WaveNumber(2),
        recovery: true,
    });
    facts.recovery_instances.push(RecoveryInstance {
        recovery_instance_id: "i-0leftover0000001".into(),
        ec2_instance_id: Some("i-0abc".into()),
        ec2_instance_state: Some("RUNNING".into()),
        job_id: Some("drsjob-old".into()),
        source_server_id: server_id(0x11),
        is_drill: true,
        point_in_time_snapshot: None,
    });
    facts.capacity.servers_in_use = 499;
    facts.unreadable.push(Unreadable {
        what: "snapshots of 1 server: ThrottlingException".into(),
        cause: UnreadableCause::Throttled,
    });
    facts.unreadable.push(Unreadable {
        what: "recovery instances left by earlier launches (AccessDeniedException)".into(),
        cause: UnreadableCause::Drs,
    });
    let report = check(&plan, &facts);
    insta::assert_yaml_snapshot!("preflight_findings", report);
    assert_eq!(report.summary(), "6 errors, 5 warnings, 1 note");
}

/// A snapshot read that failed is not "no snapshot": the server is not
/// blocked for it, the failure is a warning.
#[test]
fn an_unread_snapshot_is_unchecked_not_missing() {
    let mut facts = facts();
    facts.newest_snapshots.remove(&server_id(0x21));
    facts.unreadable.push(Unreadable {
        what: "the recovery snapshots of 1 server(s) (first: s-…21: ThrottlingException)".into(),
        cause: UnreadableCause::Throttled,
    });
    let report = check(&plan(), &facts);
    assert_eq!(report.count(Severity::Error), 0, "{report:#?}");
    assert_eq!(
        checks(&report),
        vec![
            (Severity::Warning, CheckName::Unchecked, None),
            (Severity::Info, CheckName::SnapshotAge, None)
        ]
    );
}

#[test]
fn a_busy_server_only_warns_when_the_plan_waits_for_it() {
    let mut plan = plan();
    plan.options.busy_servers = BusyServers::Wait;
    let mut facts = facts();
    facts.busy.push(BusyServer {
        source_server_id: server_id(0x21),
        execution_id: ExecutionId(uuid::Uuid::from_u128(7)),
        wave: WaveNumber(1),
        recovery: false,
    });
    let report = check(&plan, &facts);
    assert!(
        checks(&report).contains(&(
            Severity::Warning,
            CheckName::ServerBusy,
            Some(server_id(0x21).to_string())
        )),
        "{report:#?}"
    );
    assert_eq!(report.count(Severity::Error), 0);
}

#[test]
fn waves_that_run_at_once_are_weighed_against_the_quotas() {
    let mut plan = crate::testing::sample_plan("wide", 6);
    for wave in &mut plan.waves {
        wave.depends_on.clear();
        let n = wave.number.0 as u16;
        wave.servers = (0..100)
            .map(|i| crate::plan::ServerPlan {
                id: server_id(n * 1000 + i),
                hostname: None,
                critical: true,
                recovery_snapshot: None,
            })
            .collect();
    }
    let widest = widest_concurrent(&plan);
    assert_eq!((widest.servers, widest.jobs), (600, 6));
    let mut facts = facts();
    facts.servers = plan
        .waves
        .iter()
        .flat_map(|w| &w.servers)
        .map(|s| {
            let mut server = healthy(0);
            server.source_server_id = s.id.clone();
            (s.id.clone(), server)
        })
        .collect();
    facts.newest_snapshots = facts
        .servers
        .keys()
        .map(|id| (id.clone(), Some(facts.now)))
        .collect();
    let report = check(&plan, &facts);
    let quota: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check == CheckName::QuotaHeadroom)
        .collect();
    assert_eq!(quota.len(), 1, "{report:#?}");
    assert_eq!(quota[0].severity, Severity::Warning);
    assert!(
        quota[0].message.contains("600 servers in 6 DRS jobs")
            && quota[0].message.contains("500 servers in active jobs"),
        "{}",
        quota[0].message
    );
}

#[test]
fn a_chain_of_waves_is_as_wide_as_its_widest_wave() {
    let widest = widest_concurrent(&plan());
    assert_eq!((widest.servers, widest.jobs), (2, 1));
    assert_eq!(widest.waves, vec!["database".to_owned()]);
}

/// With `options.cleanup_previous` a drill's leftover is a note that it
/// will be terminated; a real recovery's stays a warning.
#[test]
fn cleanup_previous_turns_a_leftover_drill_instance_into_a_note() {
    let mut facts = facts();
    let leftover = |n: u16, is_drill: bool| RecoveryInstance {
        recovery_instance_id: format!("i-0leftover000000{n:x}"),
        ec2_instance_id: None,
        ec2_instance_state: None,
        job_id: Some("drsjob-old".into()),
        source_server_id: server_id(n),
        is_drill,
        point_in_time_snapshot: None,
    };
    facts.recovery_instances = vec![leftover(0x11, true), leftover(0x12, false)];
    let mut plan = plan();
    plan.options.cleanup_previous = true;
    let report = check(&plan, &facts);
    let left: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.check == CheckName::LeftoverInstance)
        .map(|f| (f.severity, f.what_to_do.contains("will be terminated")))
        .collect();
    assert_eq!(
        left,
        vec![(Severity::Warning, false), (Severity::Info, true)],
        "{report:#?}"
    );
}
