//! Table tests of `decide`: short drills through the real transitions,
//! from StartExecution on, for the cases the design names explicitly.
//! Operator control (retry, skip, pause, resume) is in `tests/operator.rs`,
//! the sweep's nudges of waves whose poll went missing in `tests/sweep.rs`,
//! of the other lost messages in `tests/sweep_chains.rs`.

mod operator;
mod sweep;
mod sweep_chains;

use super::*;
use crate::event::{Envelope, Event, PostLaunchObservation, WaveObservation};
use crate::ids::{EventId, SourceServerId, WaveNumber};
use crate::ports::drs::{
    DrsLaunchStatus, JobLogItem, JobStatus, ParticipatingServer, RecoveryInstance, RecoveryJob,
};
use crate::ports::ec2::Ec2Instance;
use crate::ports::ssm::{AgentInfo, CommandInvocation, InvocationStatus};
use crate::records::*;
use crate::service_error::ServiceError;
use crate::status_model::*;
use crate::testing::{at, execution_id, plan, server_id, t0};
use crate::time::Timestamp;

const JOB: &str = "drsjob-0a1b2c3d4e5f60001";

/// The execution created from the fixture plan, its wave 1 (`database`: a
/// critical and an optional server) after the StartWave it sent asked for
/// DRS capacity, and the ledger's grant: the event that launches it.
fn started() -> (ExecutionRecord, WaveRecord, Envelope) {
    let (execution, waves, start_wave) = claimed();
    let mut wave = waves[0].clone();
    let asked = apply(&mut wave, &start_wave, t0());
    assert!(
        matches!(asked.effects[..], [Effect::Admit { tries: 1, .. }]),
        "StartWave asks the capacity ledger first: {asked:?}"
    );
    let admitted = result(&start_wave, Event::LaunchAdmitted { tries: 1 }, t0());
    (execution, wave, admitted)
}

/// The execution created from the fixture plan once it holds its servers,
/// its waves as created, and the StartWave it sent wave 1.
fn claimed() -> (ExecutionRecord, Vec<WaveRecord>, Envelope) {
    let mut start = Envelope::new(
        execution_id(),
        None,
        Event::StartExecution {
            plan: plan(),
            requested_by: "tester".into(),
            recovery_confirmed: false,
        },
        t0(),
    );
    start.event_id = EventId(uuid::Uuid::from_u128(1));
    let d = decide(&State::Absent, &start, t0());
    let Some(Change::Create { execution, waves }) = d.change.clone() else {
        panic!("StartExecution must create the execution: {d:?}");
    };
    let execution = passed_preflight(execution, &start, &d);
    assert!(
        !d.follow_ups
            .iter()
            .any(|f| matches!(f.envelope.event, Event::StartWave {}))
    );
    let claimed = result(&start, Event::ServersClaimed { tries: 1 }, t0());
    let d = decide(&State::Execution(execution), &claimed, t0());
    let Some(Change::Execution(execution)) = d.change else {
        panic!("ServersClaimed changes the execution: {d:?}");
    };
    let start_wave = d
        .follow_ups
        .iter()
        .map(|f| f.envelope.clone())
        .find(|e| matches!(e.event, Event::StartWave {}))
        .expect("wave 1 has no dependency: StartWave is sent");
    assert_eq!(start_wave.wave, Some(WaveNumber(1)));
    (execution, waves, start_wave)
}

/// A drill runs its pre-flight first; a clean report lets it claim its
/// servers, and no wave starts before.
fn passed_preflight(execution: ExecutionRecord, start: &Envelope, d: &Decision) -> ExecutionRecord {
    assert!(
        matches!(d.effects[..], [Effect::Preflight { tries: 1, .. }]),
        "StartExecution runs the pre-flight first: {:?}",
        d.effects
    );
    let clean = result(
        start,
        Event::PreflightChecked {
            tries: 1,
            report: crate::preflight::PreflightReport {
                checked_at: t0(),
                servers_checked: 6,
                findings: vec![],
            },
        },
        t0(),
    );
    let d = decide(&State::Execution(execution), &clean, t0());
    assert!(
        matches!(d.effects[..], [Effect::ClaimServers { tries: 1, .. }]),
        "a clean pre-flight claims the plan's servers: {:?}",
        d.effects
    );
    let Some(Change::Execution(execution)) = d.change else {
        panic!("PreflightChecked changes the execution: {d:?}");
    };
    execution
}

/// Decides `envelope` against `wave`, refusing no transition, and moves
/// `wave` to the new state.
fn apply(wave: &mut WaveRecord, envelope: &Envelope, now: Timestamp) -> Decision {
    let d = decide(&State::Wave(wave.clone()), envelope, now);
    assert!(d.rejected.is_empty(), "refused: {:?}", d.rejected);
    if let Some(Change::Wave(next)) = &d.change {
        *wave = next.clone();
    }
    d
}

/// The result event of `cause`'s first effect, as the worker builds it.
fn result(cause: &Envelope, event: Event, now: Timestamp) -> Envelope {
    crate::effect_results::result_of(cause, 0, event, now)
}

fn job(status: JobStatus, servers: &[(u16, DrsLaunchStatus)]) -> RecoveryJob {
    RecoveryJob {
        job_id: JOB.into(),
        status,
        creation_time: Some(at(0, 1)),
        end_time: None,
        participating_servers: servers
            .iter()
            .map(|&(n, launch_status)| ParticipatingServer {
                source_server_id: server_id(n),
                recovery_instance_id: (launch_status == DrsLaunchStatus::Launched)
                    .then(|| format!("ri-{n:04x}")),
                launch_status,
            })
            .collect(),
        tags: Default::default(),
    }
}

/// The recovery instance DRS reports for source server `n` of the job.
fn recovery_instance(n: u16) -> RecoveryInstance {
    RecoveryInstance {
        recovery_instance_id: format!("ri-{n:04x}"),
        ec2_instance_id: Some(format!("i-000000000000{n:04x}")),
        ec2_instance_state: Some("running".into()),
        job_id: Some(JOB.into()),
        source_server_id: server_id(n),
        is_drill: true,
        point_in_time_snapshot: None,
    }
}

/// A poll's answer to `cause`: the job with these servers' launch
/// statuses, and the recovery instances of the servers in `described`
/// (no failure log, no EC2 details).
fn look(
    cause: &Envelope,
    seq: u32,
    servers: &[(u16, DrsLaunchStatus)],
    described: &[u16],
    now: Timestamp,
) -> Envelope {
    result(
        cause,
        Event::WaveObserved {
            seq,
            observation: WaveObservation {
                job: Some(job(JobStatus::Started, servers)),
                log_items: vec![],
                recovery_instances: described.iter().map(|&n| recovery_instance(n)).collect(),
                instances: vec![],
            },
        },
        now,
    )
}

fn start_recovery_effects(d: &Decision) -> Vec<(u32, Option<Timestamp>)> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::StartRecovery {
                tries,
                reconcile_since,
                ..
            } => Some((*tries, *reconcile_since)),
            _ => None,
        })
        .collect()
}

/// A wave whose job has started, both servers LAUNCHING.
fn launching() -> (ExecutionRecord, WaveRecord, Envelope) {
    let (execution, mut wave, start_wave) = started();
    apply(&mut wave, &start_wave, at(0, 1));
    let both = [
        (0x11, DrsLaunchStatus::Pending),
        (0x12, DrsLaunchStatus::Pending),
    ];
    let started = result(
        &start_wave,
        Event::RecoveryJobStarted {
            tries: 1,
            job: job(JobStatus::Pending, &both),
        },
        at(0, 2),
    );
    apply(&mut wave, &started, at(0, 2));
    assert!(matches!(wave.launch, LaunchState::Started { .. }));
    (execution, wave, start_wave)
}

fn transient() -> ServiceError {
    ServiceError::from_code(
        "drs",
        "DescribeJobs",
        "InternalServerException",
        "try again",
    )
}

/// Wave 1 launched in a job DRS calls COMPLETED where the critical server
/// 0x11 FAILED and 0x12 LAUNCHED: the wave's record, and the decision of
/// the execution told it FAILED (with the execution after it).
fn failed_at_launch() -> (WaveRecord, Decision, ExecutionRecord, Envelope) {
    let (execution, mut wave, start_wave) = launching();
    let poll = start_wave.caused(
        7,
        Some(WaveNumber(1)),
        Event::PollWave { seq: 1 },
        1,
        at(1, 0),
    );
    let observation = WaveObservation {
        // DRS says COMPLETED: the job stopped, not that the servers launched.
        job: Some(job(
            JobStatus::Completed,
            &[
                (0x11, DrsLaunchStatus::Failed),
                (0x12, DrsLaunchStatus::Launched),
            ],
        )),
        log_items: vec![JobLogItem {
            event: "LAUNCH_FAILED".into(),
            event_time: Some(at(0, 50)),
            source_server_id: Some(server_id(0x11)),
            target_instance_id: None,
            raw_error: Some("InsufficientInstanceCapacity".into()),
        }],
        recovery_instances: vec![RecoveryInstance {
            recovery_instance_id: "ri-0012".into(),
            ec2_instance_id: Some("i-0000000000000012".into()),
            ec2_instance_state: Some("running".into()),
            job_id: Some(JOB.into()),
            source_server_id: server_id(0x12),
            is_drill: true,
            point_in_time_snapshot: None,
        }],
        instances: vec![Ec2Instance {
            instance_id: "i-0000000000000012".into(),
            instance_type: "m5.large".into(),
            state: "running".into(),
            private_ip_address: None,
            public_ip_address: None,
            availability_zone: None,
            launch_time: None,
        }],
    };
    let observed = result(
        &poll,
        Event::WaveObserved {
            seq: 1,
            observation,
        },
        at(1, 0),
    );
    let d = apply(&mut wave, &observed, at(1, 0));
    let finished = d
        .follow_ups
        .iter()
        .find(|f| {
            f.envelope.event
                == Event::WaveFinished {
                    status: WaveStatus::Failed,
                    attempt: 1,
                }
        })
        .expect("the execution is told the wave FAILED")
        .envelope
        .clone();
    let d = decide(&State::Execution(execution), &finished, at(1, 1));
    assert!(d.rejected.is_empty(), "{:?}", d.rejected);
    let Some(Change::Execution(execution)) = d.change.clone() else {
        panic!("WaveFinished changes the execution: {d:?}");
    };
    (wave, d, execution, start_wave)
}

#[test]
fn a_completed_job_with_a_failed_server_fails_the_wave_and_the_execution() {
    let (wave, d, execution, _) = failed_at_launch();
    assert_eq!(wave.status, WaveStatus::Failed);
    assert_eq!(wave.servers[0].launch_status, LaunchStatus::Failed);
    assert_eq!(wave.servers[0].error_code.as_deref(), Some("LAUNCH_FAILED"));
    assert_eq!(wave.servers[1].launch_status, LaunchStatus::Launched);
    assert!(
        wave.reason.as_deref().unwrap_or("").contains("db-primary"),
        "{:?}",
        wave.reason
    );
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.waves[0].status, WaveStatus::Failed);
    // Nothing else starts after a failure.
    assert!(
        execution.waves[1..]
            .iter()
            .all(|w| w.status == WaveStatus::Cancelled && !w.started)
    );
    assert!(
        !d.follow_ups
            .iter()
            .any(|f| matches!(f.envelope.event, Event::StartWave {}))
    );
}

#[test]
fn a_duplicate_start_wave_starts_no_second_recovery() {
    let (_, mut wave, start_wave) = started();
    let first = apply(&mut wave, &start_wave, at(0, 1));
    assert_eq!(start_recovery_effects(&first), vec![(1, None)]);
    assert_eq!(wave.status, WaveStatus::Launching);

    let before = wave.clone();
    let again = apply(&mut wave, &start_wave, at(0, 5));
    assert!(
        again.change.is_none() && again.ignored.is_some(),
        "{again:?}"
    );
    assert!(again.effects.is_empty() && again.follow_ups.is_empty());
    assert_eq!(wave, before);
}

#[test]
fn a_5xx_on_start_recovery_makes_the_retry_look_for_the_job_first() {
    let (_, mut wave, start_wave) = started();
    apply(&mut wave, &start_wave, at(0, 1));
    let error = ServiceError::from_code(
        "drs",
        "StartRecovery",
        "InternalServerException",
        "try again",
    );
    let failed = result(
        &start_wave,
        Event::RecoveryStartFailed { tries: 1, error },
        at(0, 2),
    );
    let d = apply(&mut wave, &failed, at(0, 2));
    assert!(
        matches!(
            wave.launch,
            LaunchState::Requested {
                tries: 2,
                reconcile: true,
                ..
            }
        ),
        "{:?}",
        wave.launch
    );
    let retry = d
        .follow_ups
        .iter()
        .find(|f| f.envelope.event == Event::LaunchWave { tries: 2 })
        .expect("a retry is scheduled")
        .envelope
        .clone();
    let d = apply(&mut wave, &retry, at(0, 10));
    // Look by tag from when the first try was recorded.
    assert_eq!(start_recovery_effects(&d), vec![(2, Some(at(0, 1)))]);
}

#[test]
fn a_throttled_start_recovery_is_retried_without_a_search() {
    let (_, mut wave, start_wave) = started();
    apply(&mut wave, &start_wave, at(0, 1));
    let error = ServiceError::from_code("drs", "StartRecovery", "ThrottlingException", "slow down");
    let failed = result(
        &start_wave,
        Event::RecoveryStartFailed { tries: 1, error },
        at(0, 2),
    );
    apply(&mut wave, &failed, at(0, 2));
    let retry = start_wave.caused(
        0,
        Some(WaveNumber(1)),
        Event::LaunchWave { tries: 2 },
        2,
        at(0, 2),
    );
    let d = apply(&mut wave, &retry, at(0, 10));
    // A 429 means no job was created: no need to look first.
    assert_eq!(start_recovery_effects(&d), vec![(2, None)]);
    // But the call of try 2 may now have been made: the same retry decided
    // again (a redelivery past the journal) must look before it launches.
    let again = apply(&mut wave, &retry, at(0, 40));
    assert_eq!(start_recovery_effects(&again), vec![(2, Some(at(0, 1)))]);
}

/// Drives StartRecovery failures with `code` until the wave gives up or
/// `limit` tries were made; returns the tries made and the wave.
fn fail_start_recovery_with(code: &str, limit: u32, minutes_between: i64) -> (u32, WaveRecord) {
    let (_, mut wave, start_wave) = started();
    apply(&mut wave, &start_wave, at(0, 1));
    let mut tries = 1;
    loop {
        let now = at(minutes_between * i64::from(tries), 2);
        let error = ServiceError::from_code("drs", "StartRecovery", code, "no");
        let failed = result(
            &start_wave,
            Event::RecoveryStartFailed { tries, error },
            now,
        );
        let d = apply(&mut wave, &failed, now);
        let retried = d
            .follow_ups
            .iter()
            .any(|f| f.envelope.event == Event::LaunchWave { tries: tries + 1 });
        if !retried || tries == limit {
            return (tries, wave);
        }
        tries += 1;
        let retry = start_wave.caused(
            tries as usize,
            Some(WaveNumber(1)),
            Event::LaunchWave { tries },
            tries,
            now,
        );
        apply(&mut wave, &retry, now);
    }
}

#[test]
fn throttling_never_uses_up_the_attempts_of_start_recovery() {
    // Twenty throttled calls a minute apart: far more than max_attempts,
    // well inside the launch timeout. The launch is still being retried.
    let (tries, wave) = fail_start_recovery_with("ThrottlingException", 20, 1);
    assert_eq!(tries, 20);
    assert!(
        matches!(
            wave.launch,
            LaunchState::Requested {
                tries: 21,
                throttled: 20,
                ..
            }
        ),
        "{:?}",
        wave.launch
    );
    assert_eq!(wave.status, WaveStatus::Launching);
}

#[test]
fn throttling_past_the_launch_timeout_fails_the_wave_with_the_reason() {
    // Ten minutes between throttled tries: the launch timeout runs out.
    let (tries, wave) = fail_start_recovery_with("ThrottlingException", 100, 10);
    assert!(tries < 100, "gave up after {tries} tries");
    assert_eq!(wave.status, WaveStatus::Failed);
    let reason = wave.reason.clone().unwrap_or_default();
    assert!(reason.contains("still throttled"), "{reason}");
}

#[test]
fn server_errors_use_up_the_attempts_of_start_recovery() {
    let (tries, wave) = fail_start_recovery_with("InternalServerException", 100, 1);
    assert_eq!(tries, wave.options.retry.max_attempts);
    assert_eq!(wave.status, WaveStatus::Failed);
}

#[test]
fn five_consecutive_failed_polls_fail_the_wave_with_the_reason() {
    let (_, mut wave, start_wave) = launching();
    for n in 1..=5u32 {
        assert_eq!(wave.status, WaveStatus::Launching, "after {} errors", n - 1);
        let seq = wave.poll_seq;
        let poll = start_wave.caused(
            n as usize,
            Some(WaveNumber(1)),
            Event::PollWave { seq },
            1,
            at(1, 0),
        );
        let failed = result(
            &poll,
            Event::PollFailed {
                seq,
                error: transient(),
            },
            at(1, n as i64),
        );
        let d = apply(&mut wave, &failed, at(1, n as i64));
        assert_eq!(wave.consecutive_poll_errors, n);
        if n < 5 {
            assert!(
                d.follow_ups
                    .iter()
                    .any(|f| matches!(f.envelope.event, Event::PollWave { .. })),
                "error {n} schedules another poll"
            );
        }
    }
    assert_eq!(wave.status, WaveStatus::Failed);
    let reason = wave.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("5 consecutive polls of DRS failed")
            && reason.contains("InternalServerException"),
        "{reason}"
    );
    assert!(
        wave.servers
            .iter()
            .all(|s| s.launch_status == LaunchStatus::Failed
                && s.error_code.as_deref() == Some("STATUS_UNKNOWN"))
    );
}

#[test]
fn the_launch_timeout_takes_a_last_look_before_failing_anyone() {
    let (_, mut wave, start_wave) = launching();
    let timeout = start_wave.caused(
        8,
        Some(WaveNumber(1)),
        Event::LaunchTimedOut { job_id: JOB.into() },
        1,
        at(60, 0),
    );
    let d = apply(&mut wave, &timeout, at(60, 0));
    assert!(
        matches!(d.effects.as_slice(), [Effect::ObserveWave { job_id, .. }] if job_id == JOB),
        "a last look at DRS: {:?}",
        d.effects
    );
    assert!(
        wave.servers
            .iter()
            .all(|s| s.launch_status == LaunchStatus::Launching),
        "nobody fails before the last look"
    );
    // The look shows one server still launching (it fails) and the other
    // launched after all (it must not be failed by a delayed timeout).
    let last_look = look(
        &timeout,
        wave.poll_seq,
        &[
            (0x11, DrsLaunchStatus::InProgress),
            (0x12, DrsLaunchStatus::Launched),
        ],
        &[0x12],
        at(60, 1),
    );
    apply(&mut wave, &last_look, at(60, 1));
    assert_eq!(wave.servers[0].launch_status, LaunchStatus::Failed);
    assert_eq!(
        wave.servers[0].error_code.as_deref(),
        Some("LAUNCH_TIMEOUT")
    );
    assert_eq!(wave.servers[1].launch_status, LaunchStatus::Launched);
    assert_eq!(
        wave.status,
        WaveStatus::Failed,
        "the critical server timed out"
    );
}

fn pushed(cause: &Envelope, n: u16, now: Timestamp) -> Envelope {
    let mut push = Envelope::new(
        execution_id(),
        Some(WaveNumber(1)),
        Event::LaunchResultPushed {
            source_server_id: server_id(n),
            state: "LAUNCH_SUCCEEDED".into(),
        },
        now,
    );
    push.event_id = EventId(uuid::Uuid::from_u128(0x9000 + u128::from(n)));
    let _ = cause;
    push
}

fn polls(d: &Decision) -> Vec<std::time::Duration> {
    d.follow_ups
        .iter()
        .filter(|f| matches!(f.envelope.event, Event::PollWave { .. }))
        .map(|f| f.delay)
        .collect()
}

#[test]
fn pushed_results_wait_for_the_tick_until_the_last_one_arrives() {
    let (_, mut wave, start_wave) = launching();
    let due = wave.next_poll_at;
    // The first result is noted on its server; no poll of its own.
    let d = apply(&mut wave, &pushed(&start_wave, 0x11, at(0, 5)), at(0, 5));
    assert!(polls(&d).is_empty(), "{d:?}");
    assert!(d.effects.is_empty());
    assert_eq!(wave.servers[0].launch_result_at, Some(at(0, 5)));
    assert_eq!(wave.next_poll_at, due, "the tick stays as it was");
    // The same result again changes nothing.
    let d = apply(&mut wave, &pushed(&start_wave, 0x11, at(0, 6)), at(0, 6));
    assert!(d.change.is_none(), "{d:?}");
    // The last one brings the look forward: the wave can end now.
    let d = apply(&mut wave, &pushed(&start_wave, 0x12, at(0, 7)), at(0, 7));
    assert_eq!(polls(&d), vec![std::time::Duration::ZERO], "{d:?}");
}

fn poll_effect(d: &Decision) -> (Timestamp, Vec<SourceServerId>) {
    match d.effects.as_slice() {
        [
            Effect::ObserveWave {
                fresh_since,
                details,
                ..
            },
        ] => (*fresh_since, details.clone()),
        other => panic!("a poll observes the job: {other:?}"),
    }
}

#[test]
fn launched_servers_are_described_together_once_one_has_waited_a_minute() {
    let (_, mut wave, start_wave) = launching();
    // A poll sees 0x11 launched; its details wait (no recovery instance read).
    let reported = look(
        &start_wave,
        wave.poll_seq,
        &[
            (0x11, DrsLaunchStatus::Launched),
            (0x12, DrsLaunchStatus::InProgress),
        ],
        &[],
        at(2, 0),
    );
    apply(&mut wave, &reported, at(2, 0));
    assert_eq!(wave.servers[0].launch_status, LaunchStatus::Launching);
    assert_eq!(wave.servers[0].launch_result_at, Some(at(2, 0)));
    let poll = |wave: &WaveRecord, now: Timestamp| {
        start_wave.caused(
            9,
            Some(WaveNumber(1)),
            Event::PollWave { seq: wave.poll_seq },
            1,
            now,
        )
    };
    // Polls within the minute read only the job, as fresh as the poll's due time.
    let due = wave.next_poll_at.expect("a poll is due");
    let first = poll(&wave, at(2, 30));
    let d = apply(&mut wave, &first, at(2, 30));
    assert_eq!(poll_effect(&d), (due.min(at(2, 30)), vec![]));
    // A minute on, every server reported launched is described at once.
    let second = poll(&wave, at(3, 1));
    let d = apply(&mut wave, &second, at(3, 1));
    assert_eq!(poll_effect(&d).1, vec![server_id(0x11)]);
    // Described, it counts as launched from when DRS first reported it.
    let described = look(
        &start_wave,
        wave.poll_seq,
        &[
            (0x11, DrsLaunchStatus::Launched),
            (0x12, DrsLaunchStatus::InProgress),
        ],
        &[0x11],
        at(3, 2),
    );
    apply(&mut wave, &described, at(3, 2));
    assert_eq!(wave.servers[0].launch_status, LaunchStatus::Launched);
    assert_eq!(wave.servers[0].launch_end_time, Some(at(2, 0)));
}

/// The EC2 instance the fixture gives source server `n`.
fn instance(n: u16) -> String {
    format!("i-000000000000{n:04x}")
}

/// Wave 1 (`database`: a post-launch action and an EC2 status check) in
/// POST_ACTIONS with both servers launched, their SSM agents online, and
/// its action sent as command `cmd-1` at 3:31.
fn action_running() -> (WaveRecord, Envelope) {
    let (mut wave, agents) = action_sending();
    let sent = result(
        &agents,
        Event::ActionSent {
            action: 0,
            tries: 1,
            command_ids: vec!["cmd-1".into()],
        },
        at(3, 31),
    );
    apply(&mut wave, &sent, at(3, 31));
    assert_eq!(wave.actions[0].status, ActionStatus::Running);
    (wave, sent)
}

/// The wave of [`launching`] in POST_ACTIONS, its agents online at 3:30,
/// and that observation, whose decision sends its action (try 1).
fn action_sending() -> (WaveRecord, Envelope) {
    let (_, mut wave, start_wave) = launching();
    let servers = [0x11, 0x12];
    let poll = start_wave.caused(
        7,
        Some(WaveNumber(1)),
        Event::PollWave { seq: wave.poll_seq },
        1,
        at(3, 0),
    );
    let observation = WaveObservation {
        job: Some(job(
            JobStatus::Completed,
            &servers.map(|n| (n, DrsLaunchStatus::Launched)),
        )),
        log_items: vec![],
        recovery_instances: servers
            .iter()
            .map(|&n| RecoveryInstance {
                recovery_instance_id: format!("ri-{n:04x}"),
                ec2_instance_id: Some(instance(n)),
                ec2_instance_state: Some("running".into()),
                job_id: Some(JOB.into()),
                source_server_id: server_id(n),
                is_drill: true,
                point_in_time_snapshot: None,
            })
            .collect(),
        instances: vec![],
    };
    let observed = result(
        &poll,
        Event::WaveObserved {
            seq: wave.poll_seq,
            observation,
        },
        at(3, 0),
    );
    apply(&mut wave, &observed, at(3, 0));
    assert_eq!(wave.status, WaveStatus::PostActions);
    let agents = result(
        &observed,
        Event::PostLaunchObserved {
            seq: wave.poll_seq,
            observation: PostLaunchObservation {
                agents: servers
                    .iter()
                    .map(|&n| AgentInfo {
                        instance_id: instance(n),
                        ping_status: "Online".into(),
                    })
                    .collect(),
                ..Default::default()
            },
        },
        at(3, 30),
    );
    let d = apply(&mut wave, &agents, at(3, 30));
    assert!(
        d.effects
            .iter()
            .any(|e| matches!(e, Effect::SendCommands { tries: 1, .. })),
        "the action is sent once the agents are online: {:?}",
        d.effects
    );
    (wave, agents)
}

/// What SSM says of `cmd-1` on both servers.
fn invocations(status: InvocationStatus, response_code: Option<i32>) -> PostLaunchObservation {
    PostLaunchObservation {
        invocations: [0x11, 0x12]
            .iter()
            .map(|&n| CommandInvocation {
                command_id: "cmd-1".into(),
                instance_id: instance(n),
                status,
                response_code,
                output: String::new(),
                error: String::new(),
            })
            .collect(),
        ..Default::default()
    }
}

/// Decides a post-launch check that saw `observation` at `now`.
fn observe(
    wave: &mut WaveRecord,
    cause: &Envelope,
    observation: PostLaunchObservation,
    now: Timestamp,
) {
    let seq = wave.poll_seq;
    let observed = result(cause, Event::PostLaunchObserved { seq, observation }, now);
    apply(wave, &observed, now);
}

#[test]
fn an_action_ssm_timed_out_is_a_timeout_like_one_past_its_own_deadline() {
    // SSM ends the invocations TimedOut before the engine's own deadline
    // (10m after 3:31) has passed.
    let (mut ssm_first, sent) = action_running();
    observe(
        &mut ssm_first,
        &sent,
        invocations(InvocationStatus::TimedOut, None),
        at(13, 30),
    );

    // The engine's deadline runs out while SSM still says InProgress.
    let (mut deadline_first, sent) = action_running();
    observe(
        &mut deadline_first,
        &sent,
        invocations(InvocationStatus::InProgress, None),
        at(13, 32),
    );

    for wave in [&ssm_first, &deadline_first] {
        let action = &wave.actions[0];
        assert_eq!(action.status, ActionStatus::Timeout, "{action:?}");
        assert!(
            action
                .error_message
                .as_deref()
                .unwrap_or("")
                .contains("did not finish on 2 of 2 servers within its timeout of 10m"),
            "{action:?}"
        );
        for server in &wave.servers {
            assert_eq!(server.launch_status, LaunchStatus::Failed);
            assert_eq!(server.error_code.as_deref(), Some("ACTION_TIMEOUT"));
        }
        assert_eq!(wave.status, WaveStatus::Failed);
    }
}

#[test]
fn an_action_that_fails_anywhere_is_failed_even_if_others_timed_out() {
    let (mut wave, sent) = action_running();
    let mut observation = invocations(InvocationStatus::TimedOut, None);
    observation.invocations[0].status = InvocationStatus::Failed;
    observation.invocations[0].response_code = Some(1);
    observe(&mut wave, &sent, observation, at(5, 0));
    assert_eq!(wave.actions[0].status, ActionStatus::Failed);
    let codes: Vec<Option<&str>> = wave
        .servers
        .iter()
        .map(|s| s.error_code.as_deref())
        .collect();
    assert_eq!(codes, [Some("ACTION_FAILED"), Some("ACTION_TIMEOUT")]);
}

#[test]
fn health_is_checking_only_once_the_checks_start() {
    let (mut wave, sent) = action_running();
    assert!(
        wave.servers
            .iter()
            .all(|s| s.health_status == HealthStatus::Pending),
        "the action runs first; no check has started: {:?}",
        wave.servers
    );
    observe(
        &mut wave,
        &sent,
        invocations(InvocationStatus::Failed, Some(1)),
        at(4, 0),
    );
    assert_eq!(wave.status, WaveStatus::Failed);
    for server in &wave.servers {
        assert_eq!(server.error_code.as_deref(), Some("ACTION_FAILED"));
        assert_eq!(
            server.health_status,
            HealthStatus::Pending,
            "its checks never ran: {server:?}"
        );
    }

    let (mut wave, sent) = action_running();
    observe(
        &mut wave,
        &sent,
        invocations(InvocationStatus::Success, Some(0)),
        at(4, 0),
    );
    assert_eq!(wave.actions[0].status, ActionStatus::Success);
    assert!(
        wave.servers
            .iter()
            .all(|s| s.health_status == HealthStatus::Checking),
        "the EC2 status checks run now: {:?}",
        wave.servers
    );
}

fn releases(d: &Decision) -> usize {
    d.effects
        .iter()
        .filter(|e| matches!(e, Effect::ReleaseCapacity { .. }))
        .count()
}

fn full() -> crate::capacity::CapacityWait {
    crate::capacity::CapacityWait {
        servers_wanted: 2,
        servers_in_use: 500,
        servers_quota: 500,
        jobs_in_use: 5,
        jobs_quota: 20,
        ahead: 1,
    }
}

/// A wave that does not fit waits, WAITING with the reason, asks again at
/// each tick, and launches once the ledger admits it.
#[test]
fn a_wave_that_does_not_fit_waits_with_the_reason_then_launches() {
    let (_, mut wave, admitted) = started();
    let start_wave = admitted.clone();
    let d = apply(
        &mut wave,
        &result(
            &start_wave,
            Event::LaunchWaiting {
                tries: 1,
                wait: full(),
            },
            at(0, 1),
        ),
        at(0, 1),
    );
    assert!(d.effects.is_empty(), "{d:?}");
    assert_eq!(wave.status, WaveStatus::Waiting);
    let CapacityState::Asking {
        reason: Some(reason),
        ..
    } = &wave.capacity
    else {
        panic!("waiting with a reason: {:?}", wave.capacity);
    };
    assert_eq!(
        reason,
        "waiting for DRS capacity: 500 of 500 servers in active jobs, 5 of 20 jobs, 2 more wanted, 1 wave ahead"
    );
    // The same answer again writes nothing.
    let again = apply(
        &mut wave,
        &result(
            &start_wave,
            Event::LaunchWaiting {
                tries: 1,
                wait: full(),
            },
            at(0, 2),
        ),
        at(0, 2),
    );
    assert!(again.change.is_none(), "{again:?}");

    // The tick asks again, and sends the next.
    let tick = start_wave.caused(
        3,
        Some(WaveNumber(1)),
        Event::AdmitWave { tries: 2 },
        1,
        at(0, 30),
    );
    let d = apply(&mut wave, &tick, at(0, 30));
    assert!(
        matches!(d.effects[..], [Effect::Admit { tries: 2, .. }]),
        "{d:?}"
    );
    assert!(
        d.follow_ups
            .iter()
            .any(|f| f.envelope.event == Event::AdmitWave { tries: 3 })
    );
    // A stale tick does nothing.
    assert!(apply(&mut wave, &tick, at(0, 31)).change.is_none());

    let d = apply(
        &mut wave,
        &result(&tick, Event::LaunchAdmitted { tries: 2 }, at(0, 31)),
        at(0, 31),
    );
    assert_eq!(start_recovery_effects(&d), vec![(1, None)]);
    assert_eq!(wave.status, WaveStatus::Launching);
    assert!(matches!(wave.capacity, CapacityState::Held));
}

/// DRS refusing StartRecovery for a full quota is never a failure: the
/// wave goes back to WAITING, and after a 5xx before it, the next launch
/// looks for the job by tag first.
#[test]
fn a_quota_refusal_from_drs_sends_the_wave_back_to_wait() {
    let (_, mut wave, admitted) = started();
    apply(&mut wave, &admitted, at(0, 1));
    let failed = result(
        &admitted,
        Event::RecoveryStartFailed {
            tries: 1,
            error: transient(),
        },
        at(0, 2),
    );
    apply(&mut wave, &failed, at(0, 2));
    let retry = admitted.caused(
        9,
        Some(WaveNumber(1)),
        Event::LaunchWave { tries: 2 },
        2,
        at(0, 10),
    );
    let d = apply(&mut wave, &retry, at(0, 10));
    assert_eq!(start_recovery_effects(&d), vec![(2, Some(at(0, 1)))]);
    let quota = ServiceError::from_code(
        "drs",
        "StartRecovery",
        "ServiceQuotaExceededException",
        "500 servers are in active jobs",
    );
    let d = apply(
        &mut wave,
        &result(
            &retry,
            Event::RecoveryStartFailed {
                tries: 2,
                error: quota,
            },
            at(0, 11),
        ),
        at(0, 11),
    );
    assert_eq!(wave.status, WaveStatus::Waiting, "{:?}", wave.reason);
    assert_eq!(wave.launch, LaunchState::NotStarted);
    assert!(
        wave.servers
            .iter()
            .all(|s| s.launch_status == LaunchStatus::Pending)
    );
    assert_eq!(releases(&d), 0, "the wave keeps its place while it waits");
    let CapacityState::Asking {
        reason: Some(reason),
        reconcile_since,
        ..
    } = &wave.capacity
    else {
        panic!("{:?}", wave.capacity);
    };
    assert!(
        reason.starts_with("DRS refused the launch: ServiceQuotaExceededException"),
        "{reason}"
    );
    assert_eq!(*reconcile_since, Some(at(0, 1)));
    let tick = d
        .follow_ups
        .iter()
        .find(|f| f.envelope.event == Event::AdmitWave { tries: 2 })
        .expect("the next tick is sent")
        .envelope
        .clone();
    let d = apply(&mut wave, &tick, at(0, 41));
    assert!(matches!(d.effects[..], [Effect::Admit { .. }]));
    let d = apply(
        &mut wave,
        &result(&tick, Event::LaunchAdmitted { tries: 2 }, at(0, 42)),
        at(0, 42),
    );
    assert_eq!(
        start_recovery_effects(&d),
        vec![(1, Some(at(0, 1)))],
        "the relaunch looks for the job the 5xx may have created"
    );
}

/// What a wave holds is given back once, when its launch is over.
#[test]
fn a_wave_gives_its_capacity_back_once_its_launch_is_over() {
    let (_, mut wave, admitted) = launching();
    assert!(matches!(wave.capacity, CapacityState::Held));
    let poll = admitted.caused(
        7,
        Some(WaveNumber(1)),
        Event::PollWave { seq: 1 },
        1,
        at(1, 0),
    );
    let observation = WaveObservation {
        job: Some(job(
            JobStatus::Completed,
            &[
                (0x11, DrsLaunchStatus::Failed),
                (0x12, DrsLaunchStatus::Failed),
            ],
        )),
        ..WaveObservation::default()
    };
    let d = apply(
        &mut wave,
        &result(
            &poll,
            Event::WaveObserved {
                seq: 1,
                observation,
            },
            at(1, 0),
        ),
        at(1, 0),
    );
    assert_eq!(wave.status, WaveStatus::Failed);
    assert_eq!(releases(&d), 1);
    assert_eq!(wave.capacity, CapacityState::Released);
    let cancel = admitted.caused(
        8,
        Some(WaveNumber(1)),
        Event::CancelWave {
            reason: "late".into(),
        },
        1,
        at(1, 1),
    );
    assert_eq!(releases(&apply(&mut wave, &cancel, at(1, 1))), 0);
}

/// A wave cancelled while in line ends CANCELLED and gives its place back.
#[test]
fn a_waiting_wave_cancelled_leaves_the_line() {
    let (_, mut wave, admitted) = started();
    apply(
        &mut wave,
        &result(
            &admitted,
            Event::LaunchWaiting {
                tries: 1,
                wait: full(),
            },
            at(0, 1),
        ),
        at(0, 1),
    );
    let cancel = admitted.caused(
        8,
        Some(WaveNumber(1)),
        Event::CancelWave {
            reason: "operator".into(),
        },
        1,
        at(0, 5),
    );
    let d = apply(&mut wave, &cancel, at(0, 5));
    assert_eq!(wave.status, WaveStatus::Cancelled);
    assert_eq!(releases(&d), 1);
    // A grant that raced the cancel launches nothing.
    let d = apply(
        &mut wave,
        &result(&admitted, Event::LaunchAdmitted { tries: 1 }, at(0, 6)),
        at(0, 6),
    );
    assert!(start_recovery_effects(&d).is_empty());
}

/// A wave no wait can fit fails at once with what to do.
#[test]
fn a_wave_bigger_than_a_quota_fails_with_what_to_do() {
    let (_, mut wave, admitted) = started();
    let reason =
        "a wave of 2 servers is more than the DRS quota of 1 servers per job; split the wave";
    let d = apply(
        &mut wave,
        &result(
            &admitted,
            Event::LaunchRefused {
                tries: 1,
                reason: reason.into(),
            },
            at(0, 1),
        ),
        at(0, 1),
    );
    assert_eq!(wave.status, WaveStatus::Failed);
    assert_eq!(wave.reason.as_deref(), Some(reason));
    assert!(
        wave.servers
            .iter()
            .all(|s| s.error_code.as_deref() == Some("CAPACITY_QUOTA"))
    );
    assert_eq!(releases(&d), 1);
}

/// The execution just created from `plan`, before its servers are claimed,
/// and the StartExecution that created it.
fn created(plan: crate::plan::Plan) -> (ExecutionRecord, Envelope) {
    let start = Envelope::new(
        execution_id(),
        None,
        Event::StartExecution {
            plan,
            requested_by: "tester".into(),
            recovery_confirmed: false,
        },
        t0(),
    );
    let d = decide(&State::Absent, &start, t0());
    let Some(Change::Create { execution, .. }) = d.change.clone() else {
        panic!("StartExecution must create the execution: {d:?}");
    };
    (passed_preflight(execution, &start, &d), start)
}

fn busy() -> Vec<crate::capacity::BusyServer> {
    vec![crate::capacity::BusyServer {
        source_server_id: server_id(0x11),
        execution_id: "9f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f".parse().unwrap(),
        wave: WaveNumber(2),
        recovery: true,
    }]
}

/// By default a start whose servers another active execution holds fails,
/// naming that execution and its wave; it starts no wave.
#[test]
fn a_start_whose_servers_are_busy_is_refused_naming_the_other_execution() {
    let (execution, start) = created(plan());
    let answer = result(
        &start,
        Event::ServersBusy {
            tries: 1,
            busy: busy(),
        },
        t0(),
    );
    let d = decide(&State::Execution(execution), &answer, t0());
    let Some(Change::Execution(execution)) = d.change else {
        panic!("{d:?}");
    };
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(
        execution.reason.as_deref(),
        Some(
            "refused: server s-0a1b2c3d4e5f60011 is in active execution 9f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f \
             (wave 2 of a recovery); one server is in one active execution at a time. Wait for that \
             execution to end or cancel it, or set options.busy_servers: wait to start once it has ended"
        )
    );
    assert!(
        !d.follow_ups
            .iter()
            .any(|f| matches!(f.envelope.event, Event::StartWave {}))
    );
    assert!(
        d.effects
            .iter()
            .all(|e| !matches!(e, Effect::ClaimServers { .. })),
        "{:?}",
        d.effects
    );
}

/// With `busy_servers: wait` the execution waits, asking at each tick, and
/// its waves start once it holds its servers; it gives them back at its end.
#[test]
fn with_busy_servers_wait_the_waves_start_once_the_servers_are_free() {
    let mut waiting_plan = plan();
    waiting_plan.options.busy_servers = crate::plan::BusyServers::Wait;
    let (mut execution, start) = created(waiting_plan);
    let answer = result(
        &start,
        Event::ServersBusy {
            tries: 1,
            busy: busy(),
        },
        t0(),
    );
    let d = decide(&State::Execution(execution.clone()), &answer, t0());
    let Some(Change::Execution(next)) = d.change else {
        panic!("{d:?}");
    };
    execution = next;
    assert_eq!(execution.status, ExecutionStatus::InProgress);
    assert!(matches!(
        &execution.server_claim,
        crate::records::ServerClaimState::Claiming { reason: Some(r), .. } if r.starts_with("waiting for servers: server s-0a1b2c3d4e5f60011")
    ));
    let tick = start.caused(5, None, Event::ClaimServers { tries: 2 }, 1, at(0, 30));
    let d = decide(&State::Execution(execution.clone()), &tick, at(0, 30));
    assert!(
        matches!(d.effects[..], [Effect::ClaimServers { tries: 2, .. }]),
        "{d:?}"
    );
    let Some(Change::Execution(next)) = d.change else {
        panic!("{d:?}");
    };
    execution = next;
    let claimed = result(&tick, Event::ServersClaimed { tries: 2 }, at(0, 31));
    let d = decide(&State::Execution(execution.clone()), &claimed, at(0, 31));
    assert!(
        d.follow_ups
            .iter()
            .any(|f| matches!(f.envelope.event, Event::StartWave {}))
    );
    let Some(Change::Execution(next)) = d.change else {
        panic!("{d:?}");
    };
    execution = next;

    let cancel = start.caused(
        6,
        None,
        Event::CancelExecution {
            requested_by: "op".into(),
            reason: "done".into(),
        },
        1,
        at(1, 0),
    );
    let d = decide(&State::Execution(execution), &cancel, at(1, 0));
    assert!(
        d.effects
            .iter()
            .any(|e| matches!(e, Effect::ReleaseServers { .. })),
        "an execution that ended gives its servers back: {:?}",
        d.effects
    );
}

fn with_error() -> crate::preflight::PreflightReport {
    crate::preflight::PreflightReport {
        checked_at: t0(),
        servers_checked: 6,
        findings: vec![crate::preflight::Finding {
            severity: crate::preflight::Severity::Error,
            check: crate::preflight::CheckName::Replication,
            wave: Some("database".into()),
            server: Some(server_id(0x11)),
            message: "replication is STALLED, not CONTINUOUS".into(),
            what_to_do: "fix replication".into(),
        }],
    }
}

fn start_with(plan: crate::plan::Plan) -> (ExecutionRecord, Envelope, Decision) {
    let start = Envelope::new(
        execution_id(),
        None,
        Event::StartExecution {
            plan,
            requested_by: "tester".into(),
            recovery_confirmed: true,
        },
        t0(),
    );
    let d = decide(&State::Absent, &start, t0());
    let Some(Change::Create { execution, .. }) = d.change.clone() else {
        panic!("{d:?}");
    };
    (execution, start, d)
}

/// A drill's pre-flight blocks on an error: the execution fails with the
/// finding and what to do, claims nothing and starts no wave.
#[test]
fn a_drill_whose_preflight_finds_an_error_fails_before_anything_launches() {
    let (execution, start, _) = start_with(plan());
    let answer = result(
        &start,
        Event::PreflightChecked {
            tries: 1,
            report: with_error(),
        },
        t0(),
    );
    let d = decide(&State::Execution(execution), &answer, t0());
    let Some(Change::Execution(execution)) = d.change.clone() else {
        panic!("{d:?}");
    };
    assert_eq!(execution.status, ExecutionStatus::Failed);
    let reason = execution.reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("pre-flight found 1 error (s-0a1b2c3d4e5f60011: replication is STALLED")
            && reason.contains("options.preflight: warn"),
        "{reason}"
    );
    assert!(matches!(
        execution.preflight,
        PreflightState::Done { ref report, .. } if report.findings.len() == 1
    ));
    assert!(d.effects.is_empty(), "no claim: {:?}", d.effects);
    assert!(
        !d.follow_ups
            .iter()
            .any(|f| matches!(f.envelope.event, Event::StartWave {}))
    );
    // Its ticks come to nothing.
    let tick = result(&start, Event::CheckPreflight { tries: 2 }, at(0, 30));
    let d = decide(&State::Execution(execution), &tick, at(0, 30));
    assert!(d.change.is_none() && d.effects.is_empty(), "{d:?}");
}

/// A recovery only records its findings (the source may be down), then
/// claims its servers.
#[test]
fn a_recovery_records_its_preflight_findings_and_goes_on() {
    let mut recovery = plan();
    recovery.mode = crate::plan::Mode::Recovery;
    let (execution, start, d) = start_with(recovery);
    assert!(matches!(
        d.effects[..],
        [Effect::Preflight { tries: 1, .. }]
    ));
    let answer = result(
        &start,
        Event::PreflightChecked {
            tries: 1,
            report: with_error(),
        },
        t0(),
    );
    let d = decide(&State::Execution(execution), &answer, t0());
    let Some(Change::Execution(execution)) = d.change.clone() else {
        panic!("{d:?}");
    };
    assert_eq!(execution.status, ExecutionStatus::InProgress);
    assert!(matches!(
        execution.preflight,
        PreflightState::Done {
            mode: crate::plan::PreflightMode::Warn,
            ..
        }
    ));
    assert!(matches!(
        d.effects[..],
        [Effect::ClaimServers { tries: 1, .. }]
    ));
}

/// Pre-flight try `tries` fails with `error`, then the tick asks for try
/// `tries + 1`: the execution after both, and the tick's decision.
fn preflight_try_fails(
    execution: ExecutionRecord,
    start: &Envelope,
    tries: u32,
    error: &str,
    throttled: bool,
) -> (ExecutionRecord, Decision) {
    let mut execution = execution;
    let failed = result(
        start,
        Event::PreflightFailed {
            tries,
            error: error.into(),
            throttled,
        },
        t0(),
    );
    if let Some(Change::Execution(next)) =
        decide(&State::Execution(execution.clone()), &failed, t0()).change
    {
        execution = next;
    }
    let tick = result(start, Event::CheckPreflight { tries: tries + 1 }, t0());
    let d = decide(&State::Execution(execution.clone()), &tick, t0());
    let Some(Change::Execution(next)) = d.change.clone() else {
        panic!("tick {}: {d:?}", tries + 1);
    };
    (next, d)
}

/// Reading DRS keeps failing: each tick asks again; after the retry
/// policy's tries a drill fails saying why, and nothing launched.
#[test]
fn a_preflight_that_cannot_read_drs_is_retried_then_fails_the_drill() {
    let (mut execution, start, _) = start_with(plan());
    let limit = execution.options.retry.max_attempts;
    for tries in 1..=limit {
        let error = "drs DescribeSourceServers failed: AccessDeniedException";
        let (next, d) = preflight_try_fails(execution, &start, tries, error, false);
        execution = next;
        if tries < limit {
            assert!(
                matches!(d.effects[..], [Effect::Preflight { tries: t, .. }] if t == tries + 1),
                "{d:?}"
            );
        }
    }
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert!(
        execution
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("AccessDeniedException") && r.contains("8 tries")),
        "{:?}",
        execution.reason
    );
}

/// Invariant 9 for pre-flight: a big plan's reads can be throttled on many
/// tries in a row (a 400-server plan reads 40 pages and 400 snapshots);
/// throttled tries do not use up the retry policy's attempts, so the drill
/// waits and then runs. A try that fails otherwise still counts.
#[test]
fn a_preflight_throttled_past_the_retry_limit_keeps_trying_and_the_drill_runs() {
    let (mut execution, start, _) = start_with(plan());
    let limit = execution.options.retry.max_attempts;
    let throttled_tries = limit * 3;
    for tries in 1..=throttled_tries {
        let error = "drs DescribeSourceServers failed: ThrottlingException: Rate exceeded";
        let (next, d) = preflight_try_fails(execution, &start, tries, error, true);
        execution = next;
        assert!(
            matches!(d.effects[..], [Effect::Preflight { tries: t, .. }] if t == tries + 1),
            "throttled try {tries} of {throttled_tries} must be asked again: {d:?}"
        );
        assert!(!execution.status.is_terminal(), "{:?}", execution.reason);
    }
    // Then the answer comes: the drill goes on to claim its servers.
    let report = crate::preflight::PreflightReport {
        checked_at: t0(),
        servers_checked: 1,
        findings: vec![],
    };
    let checked = result(
        &start,
        Event::PreflightChecked {
            tries: throttled_tries + 1,
            report,
        },
        t0(),
    );
    let d = decide(&State::Execution(execution.clone()), &checked, t0());
    let Some(Change::Execution(next)) = d.change.clone() else {
        panic!("{d:?}");
    };
    assert!(!next.status.is_terminal(), "{:?}", next.reason);
    assert!(
        matches!(next.preflight, crate::records::PreflightState::Done { .. }),
        "{:?}",
        next.preflight
    );
}
