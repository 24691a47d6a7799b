//! Table tests of the clean-up decisions: a completed drill's waves
//! terminate exactly the instances their own jobs launched, observe the
//! TERMINATE job to its end, retry after a throttle by checking first, and
//! report to the execution.

use crate::cleanup::{CleanupEffect, CleanupStep};
use crate::event::{Envelope, Event};
use crate::ids::{EventId, WaveNumber};
use crate::machine::{Change, Decision, Effect, State, cleanup_refusal, decide};
use crate::plan::Mode;
use crate::ports::drs::{JobStatus, RecoveryInstance, RecoveryJob};
use crate::records::{ExecutionRecord, WaveRecord};
use crate::service_error::ServiceError;
use crate::status_model::{CleanupStatus, ExecutionStatus, WaveStatus};
use crate::testing::{Fixture, at, completed, execution_id};
use crate::time::Timestamp;
use std::time::Duration;

fn envelope(wave: Option<u32>, event: Event, n: u128) -> Envelope {
    let mut e = Envelope::new(execution_id(), wave.map(WaveNumber), event, at(60, 0));
    e.event_id = EventId(uuid::Uuid::from_u128(n));
    e
}

fn step(wave: u32, step: CleanupStep, n: u128) -> Envelope {
    envelope(Some(wave), Event::CleanupWave { step }, n)
}

fn on_wave(wave: &WaveRecord, e: &Envelope, now: Timestamp) -> (WaveRecord, Decision) {
    let d = decide(&State::Wave(wave.clone()), e, now);
    let next = match &d.change {
        Some(Change::Wave(w)) => w.clone(),
        _ => wave.clone(),
    };
    assert!(d.rejected.is_empty(), "{:?}", d.rejected);
    (next, d)
}

fn on_execution(execution: &ExecutionRecord, e: &Envelope) -> (ExecutionRecord, Decision) {
    let d = decide(&State::Execution(execution.clone()), e, at(60, 0));
    let next = match &d.change {
        Some(Change::Execution(x)) => x.clone(),
        _ => execution.clone(),
    };
    (next, d)
}

/// DescribeRecoveryInstances' view of a server's instance as launched.
fn as_launched(wave: &WaveRecord, index: usize) -> RecoveryInstance {
    let s = &wave.servers[index];
    RecoveryInstance {
        recovery_instance_id: s.recovery_instance_id.clone().unwrap(),
        ec2_instance_id: s.launched_instance_id.clone(),
        ec2_instance_state: Some("RUNNING".into()),
        job_id: s.recovery_job_id.clone(),
        source_server_id: s.id().clone(),
        is_drill: true,
        point_in_time_snapshot: None,
    }
}

/// DescribeRecoveryInstances showing a server's instance under another
/// drill's job.
fn taken_over(wave: &WaveRecord, index: usize) -> RecoveryInstance {
    let mut found = as_launched(wave, index);
    found.job_id = Some("drsjob-another-drill".into());
    found
}

pub(super) fn terminate_ids(d: &Decision) -> Vec<String> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Cleanup(CleanupEffect::Terminate {
                recovery_instance_ids,
                ..
            }) => Some(recovery_instance_ids.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn statuses(wave: &WaveRecord) -> Vec<Option<CleanupStatus>> {
    wave.servers
        .iter()
        .map(|s| s.cleanup.as_ref().map(|c| c.status))
        .collect()
}

fn start(wave: &WaveRecord) -> (WaveRecord, Decision) {
    let start = CleanupStep::Start {
        requested_by: "alice".into(),
        reason: "drill over".into(),
        request: 0,
    };
    on_wave(wave, &step(wave.number.0, start, 10), at(60, 0))
}

fn done_job(id: &str) -> RecoveryJob {
    RecoveryJob {
        job_id: id.into(),
        status: JobStatus::Completed,
        creation_time: None,
        end_time: None,
        participating_servers: vec![],
        tags: Default::default(),
    }
}

#[test]
fn a_completed_drill_s_wave_terminates_its_own_instances_and_reports() {
    let f: Fixture = completed();
    let wave = f.waves[2].clone();
    let (wave, d) = start(&wave);
    assert_eq!(statuses(&wave), vec![Some(CleanupStatus::Terminating); 2]);
    assert!(matches!(
        d.effects[..],
        [Effect::Cleanup(CleanupEffect::Check { tries: 1, .. })]
    ));
    let found = vec![as_launched(&wave, 0), as_launched(&wave, 1)];
    let checked = CleanupStep::Checked {
        tries: 1,
        instances: found,
    };
    let (wave, d) = on_wave(&wave, &step(3, checked, 11), at(60, 1));
    assert_eq!(
        terminate_ids(&d),
        vec!["i-0f9e8d7c6b5a40031", "i-0f9e8d7c6b5a40032"]
    );
    assert_eq!(wave.cleanup.as_ref().unwrap().terminate_requested, Some(1));
    let job = CleanupStep::Terminating {
        tries: 1,
        job_id: "drsjob-term".into(),
    };
    let (wave, d) = on_wave(&wave, &step(3, job, 12), at(60, 2));
    let poll = d
        .follow_ups
        .iter()
        .find_map(|f| match &f.envelope.event {
            Event::CleanupWave {
                step: CleanupStep::Poll { seq },
            } => Some(*seq),
            _ => None,
        })
        .expect("the TERMINATE job is polled");
    // Half-way: one instance is gone, the job still runs.
    let observed = CleanupStep::Observed {
        seq: poll,
        job: None,
        remaining: vec![as_launched(&wave, 1)],
    };
    let (wave, _) = on_wave(&wave, &step(3, observed, 13), at(61, 0));
    assert_eq!(
        statuses(&wave),
        vec![
            Some(CleanupStatus::Terminated),
            Some(CleanupStatus::Terminating)
        ]
    );
    let seq = wave.cleanup.as_ref().unwrap().poll_seq;
    let observed = CleanupStep::Observed {
        seq,
        job: Some(done_job("drsjob-term")),
        remaining: vec![],
    };
    let (wave, d) = on_wave(&wave, &step(3, observed, 14), at(62, 0));
    assert_eq!(statuses(&wave), vec![Some(CleanupStatus::Terminated); 2]);
    assert!(wave.cleanup.as_ref().unwrap().ended_at.is_some());
    assert!(d.follow_ups.iter().any(|f| matches!(
        f.envelope.event,
        Event::WaveCleanedUp {
            terminated: 2,
            failed: 0,
            request: 0,
        }
    )));
    assert_eq!(
        wave.status,
        WaveStatus::Completed,
        "the wave keeps its status"
    );
}

#[test]
fn an_instance_that_is_not_the_one_our_job_launched_is_never_terminated() {
    let wave = completed().waves[2].clone();
    let (wave, _) = start(&wave);
    let someone_elses = taken_over(&wave, 0);
    let mut recovery = as_launched(&wave, 1);
    recovery.is_drill = false;
    let checked = CleanupStep::Checked {
        tries: 1,
        instances: vec![someone_elses, recovery],
    };
    let (wave, d) = on_wave(&wave, &step(3, checked, 11), at(60, 1));
    assert!(terminate_ids(&d).is_empty(), "{d:?}");
    assert_eq!(statuses(&wave), vec![Some(CleanupStatus::Failed); 2]);
    let reason = wave.servers[0].cleanup.as_ref().unwrap().reason.clone();
    assert!(
        reason.as_deref().unwrap().starts_with("not terminated:")
            && reason.as_deref().unwrap().contains("drsjob-another-drill"),
        "{reason:?}"
    );
}

#[test]
fn a_throttled_termination_checks_again_before_terminating_again() {
    let wave = completed().waves[2].clone();
    let (wave, _) = start(&wave);
    let found = vec![as_launched(&wave, 0), as_launched(&wave, 1)];
    let checked = CleanupStep::Checked {
        tries: 1,
        instances: found,
    };
    let (wave, _) = on_wave(&wave, &step(3, checked, 11), at(60, 1));
    let throttled = CleanupStep::TerminateFailed {
        tries: 1,
        error: ServiceError::from_code(
            "drs",
            "TerminateRecoveryInstances",
            "ThrottlingException",
            "slow down",
        ),
    };
    let (wave, d) = on_wave(&wave, &step(3, throttled, 12), at(60, 2));
    let retry = d
        .follow_ups
        .iter()
        .find(|f| {
            matches!(
                f.envelope.event,
                Event::CleanupWave {
                    step: CleanupStep::Check { tries: 2 }
                }
            )
        })
        .expect("a throttle is retried");
    let (wave, d) = on_wave(&wave, &retry.envelope, at(60, 30));
    assert!(
        matches!(
            d.effects[..],
            [Effect::Cleanup(CleanupEffect::Check { tries: 2, .. })]
        ),
        "a retry describes the instances again first: {d:?}"
    );
    // The first try's termination went through after all: one is gone.
    let checked = CleanupStep::Checked {
        tries: 2,
        instances: vec![as_launched(&wave, 1)],
    };
    let (wave, d) = on_wave(&wave, &step(3, checked, 13), at(60, 31));
    assert_eq!(terminate_ids(&d), vec!["i-0f9e8d7c6b5a40032"]);
    assert_eq!(
        wave.servers[0].cleanup.as_ref().unwrap().status,
        CleanupStatus::Terminated
    );
    // A late duplicate of the first check changes nothing.
    let late = CleanupStep::Checked {
        tries: 1,
        instances: vec![],
    };
    let (_, d) = on_wave(&wave, &step(3, late, 14), at(60, 32));
    assert!(d.change.is_none());
}

#[test]
fn a_wave_without_launched_servers_reports_at_once() {
    let mut f = completed();
    for s in &mut f.waves[0].servers {
        s.recovery_instance_id = None;
    }
    let (wave, d) = start(&f.waves[0]);
    assert!(d.effects.is_empty());
    assert!(wave.cleanup.unwrap().ended_at.is_some());
    assert!(d.follow_ups.iter().any(|f| matches!(
        f.envelope.event,
        Event::WaveCleanedUp {
            terminated: 0,
            failed: 0,
            request: 0,
        }
    )));
}

/// Wave `wave`'s report of clean-up request `request`: `failed` of its
/// `servers` FAILED, the rest TERMINATED.
fn wave_report(wave: u32, servers: u32, failed: u32, request: u32) -> Envelope {
    let report = Event::WaveCleanedUp {
        terminated: servers - failed,
        failed,
        request,
    };
    envelope(Some(wave), report, 20 + u128::from(wave + 10 * request))
}

/// Waves 1 and 2 all TERMINATED, wave 3 one TERMINATED and one FAILED.
const FIRST_REPORTS: [(u32, u32, u32); 3] = [(1, 2, 0), (2, 2, 0), (3, 2, 1)];

fn cleanup_request(confirm_recovery: bool) -> Envelope {
    envelope(
        None,
        Event::CleanupExecution {
            requested_by: "alice".into(),
            reason: "drill over".into(),
            confirm_recovery,
        },
        1,
    )
}

#[test]
fn the_execution_fans_out_to_every_wave_records_who_and_counts_the_reports() {
    let f = completed();
    let (execution, d) = on_execution(&f.execution, &cleanup_request(false));
    let cleanup = execution.cleanup.clone().expect("recorded");
    assert_eq!(
        (cleanup.requested_by.as_str(), cleanup.reason.as_str()),
        ("alice", "drill over")
    );
    let starts = d
        .follow_ups
        .iter()
        .filter(|f| {
            matches!(
                f.envelope.event,
                Event::CleanupWave {
                    step: CleanupStep::Start { .. }
                }
            )
        })
        .count();
    assert_eq!(starts, 3);
    assert!(d.follow_ups.iter().any(|f| matches!(
        &f.envelope.event,
        Event::Announce { announcement } if announcement.detail_type() == "Ripcord Cleanup Started"
    )));
    let mut execution = execution;
    for (wave, servers, failed) in FIRST_REPORTS {
        let e = wave_report(wave, servers, failed, 0);
        let (next, d) = on_execution(&execution, &e);
        execution = next;
        let duplicate = on_execution(&execution, &e).1;
        assert!(duplicate.change.is_none());
        let republished = d
            .follow_ups
            .iter()
            .any(|f| matches!(f.envelope.event, Event::PublishMetrics {}));
        // The last report ends it: announced, and the drill report written
        // again (the metrics worker writes it on PublishMetrics).
        assert_eq!(republished, wave == 3);
        if wave == 3 {
            assert!(d.follow_ups.iter().any(|f| matches!(
                &f.envelope.event,
                Event::Announce { announcement } if announcement.detail_type() == "Ripcord Cleanup Finished"
            )));
        }
    }
    let cleanup = execution.cleanup.unwrap();
    assert_eq!((cleanup.terminated(), cleanup.failed()), (5, 1));
    assert!(cleanup.ended_at.is_some());
    assert_eq!(execution.status, ExecutionStatus::Completed);
}

#[test]
fn a_running_execution_or_an_unconfirmed_recovery_is_refused_and_nothing_changes() {
    let mut running = completed();
    running.execution.status = ExecutionStatus::InProgress;
    let (_, d) = on_execution(&running.execution, &cleanup_request(false));
    assert!(d.change.is_none() && d.follow_ups.is_empty());
    assert!(d.ignored.unwrap().contains("cancel it first"));

    let mut recovery = completed();
    recovery.execution.mode = Mode::Recovery;
    let (_, d) = on_execution(&recovery.execution, &cleanup_request(false));
    assert!(d.change.is_none());
    assert!(d.ignored.unwrap().contains("--confirm-recovery"));
    let (next, _) = on_execution(&recovery.execution, &cleanup_request(true));
    assert!(next.cleanup.is_some(), "a confirmed recovery clean-up runs");

    let (cleaned, _) = on_execution(&completed().execution, &cleanup_request(false));
    let (_, d) = on_execution(&cleaned, &cleanup_request(false));
    assert!(d.change.is_none(), "a request while one runs is refused");
    assert!(d.ignored.unwrap().contains("already being cleaned up"));
}

/// The execution after its first clean-up ended ([`FIRST_REPORTS`]).
fn ended_with_a_failure() -> ExecutionRecord {
    let (mut execution, _) = on_execution(&completed().execution, &cleanup_request(false));
    for (wave, servers, failed) in FIRST_REPORTS {
        execution = on_execution(&execution, &wave_report(wave, servers, failed, 0)).0;
    }
    execution
}

#[test]
fn a_clean_up_that_ended_with_failures_can_be_asked_again_for_those_waves_only() {
    let ended = ended_with_a_failure();
    let again = envelope(
        None,
        Event::CleanupExecution {
            requested_by: "bob".into(),
            reason: "i-… is stopped now".into(),
            confirm_recovery: false,
        },
        30,
    );
    let (retry, d) = on_execution(&ended, &again);
    let c = retry.cleanup.clone().expect("recorded");
    assert_eq!((c.requested_by.as_str(), c.request()), ("bob", 1));
    assert_eq!(
        c.earlier[0].requested_by, "alice",
        "the first request is kept"
    );
    assert!(c.ended_at.is_none());
    let asked: Vec<_> = d
        .follow_ups
        .iter()
        .filter_map(|f| match &f.envelope.event {
            Event::CleanupWave {
                step: CleanupStep::Start { request, .. },
            } => Some((f.envelope.wave.unwrap().0, *request)),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![(3, 1)], "only the wave with a FAILED server");
    let (_, d) = on_execution(&retry, &again);
    assert!(d.ignored.unwrap().contains("already being cleaned up"));

    let report = |request, failed| wave_report(3, 2, failed, request);
    let (_, d) = on_execution(&retry, &report(0, 1));
    assert!(
        d.change.is_none(),
        "the first request's report again is stale"
    );
    let (done, _) = on_execution(&retry, &report(1, 0));
    let c = done.cleanup.clone().unwrap();
    assert_eq!((c.terminated(), c.failed()), (6, 0));
    assert!(c.ended_at.is_some());
    let refused = cleanup_refusal(&done, false).unwrap_err();
    assert!(
        refused.to_string().contains("nothing left to clean up"),
        "{refused}"
    );
}

#[test]
fn a_wave_retries_only_its_failed_servers_and_ignores_the_earlier_request_s_answers() {
    let wave = completed().waves[2].clone();
    let (wave, _) = start(&wave);
    let checked = CleanupStep::Checked {
        tries: 1,
        instances: vec![taken_over(&wave, 1), as_launched(&wave, 0)],
    };
    let (wave, _) = on_wave(&wave, &step(3, checked, 11), at(60, 1));
    let (wave, _) = on_wave(
        &wave,
        &step(
            3,
            CleanupStep::Terminating {
                tries: 1,
                job_id: "drsjob-t1".into(),
            },
            12,
        ),
        at(60, 2),
    );
    let observed = CleanupStep::Observed {
        seq: 1,
        job: Some(done_job("drsjob-t1")),
        remaining: vec![],
    };
    let (wave, d) = on_wave(&wave, &step(3, observed, 13), at(61, 0));
    assert_eq!(
        statuses(&wave),
        vec![Some(CleanupStatus::Terminated), Some(CleanupStatus::Failed)]
    );
    assert!(d.follow_ups.iter().any(|f| matches!(
        f.envelope.event,
        Event::WaveCleanedUp {
            terminated: 1,
            failed: 1,
            request: 0
        }
    )));

    let retry = |request, n| {
        let start = CleanupStep::Start {
            requested_by: "bob".into(),
            reason: "again".into(),
            request,
        };
        step(3, start, n)
    };
    let (same, d) = on_wave(&wave, &retry(0, 20), at(70, 0));
    assert!(
        d.change.is_none(),
        "the first request's Start again changes nothing"
    );
    assert_eq!(same, wave);
    let (wave, d) = on_wave(&wave, &retry(1, 21), at(70, 0));
    assert_eq!(
        statuses(&wave),
        vec![
            Some(CleanupStatus::Terminated),
            Some(CleanupStatus::Terminating)
        ]
    );
    let checks: Vec<_> = d
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Cleanup(CleanupEffect::Check {
                tries,
                recovery_instance_ids,
            }) => Some((*tries, recovery_instance_ids.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(checks, vec![(2, vec!["i-0f9e8d7c6b5a40032".to_owned()])]);
    let (_, d) = on_wave(&wave, &retry(1, 22), at(70, 1));
    assert!(
        d.change.is_none(),
        "a duplicate Start of the retry is ignored"
    );

    // A late answer of the first request's check is stale; the retry's is not.
    let stale = CleanupStep::Checked {
        tries: 1,
        instances: vec![as_launched(&wave, 1)],
    };
    let (_, d) = on_wave(&wave, &step(3, stale, 23), at(70, 1));
    assert!(terminate_ids(&d).is_empty() && d.change.is_none());
    let fresh = CleanupStep::Checked {
        tries: 2,
        instances: vec![as_launched(&wave, 1)],
    };
    let (wave, d) = on_wave(&wave, &step(3, fresh, 24), at(70, 1));
    assert_eq!(terminate_ids(&d), vec!["i-0f9e8d7c6b5a40032"]);
    let old_poll = CleanupStep::Observed {
        seq: 1,
        job: Some(done_job("drsjob-t1")),
        remaining: vec![as_launched(&wave, 1)],
    };
    let (wave, d) = on_wave(&wave, &step(3, old_poll, 25), at(70, 2));
    assert!(
        d.change.is_none(),
        "the first request's observation is stale"
    );
    assert_eq!(wave.cleanup.as_ref().map(|c| c.request), Some(1));
}

#[test]
fn a_drill_with_cleanup_after_sends_its_clean_up_when_it_settles() {
    let mut f = completed();
    f.execution.options.cleanup_after = Some(Duration::from_secs(7200));
    f.execution.status = ExecutionStatus::InProgress;
    f.execution.end_time = None;
    f.execution.waves[2].status = WaveStatus::Launching;
    let finished = envelope(
        Some(3),
        Event::WaveFinished {
            status: WaveStatus::Completed,
            attempt: 1,
        },
        5,
    );
    let (next, d) = on_execution(&f.execution, &finished);
    assert_eq!(next.status, ExecutionStatus::Completed);
    let sent = d
        .follow_ups
        .iter()
        .find(|f| matches!(f.envelope.event, Event::CleanupExecution { .. }))
        .expect("the clean-up is sent, delayed");
    assert_eq!(sent.delay, Duration::from_secs(7200));
    let Event::CleanupExecution { requested_by, .. } = &sent.envelope.event else {
        unreachable!()
    };
    assert_eq!(requested_by, "ripcord (cleanup.after 2h)");
}

#[test]
fn refusals_say_what_to_do() {
    let mut f = completed();
    assert_eq!(cleanup_refusal(&f.execution, false), Ok(()));

    f.execution.waves[2].status = WaveStatus::Launching;
    let waves = cleanup_refusal(&f.execution, false).unwrap_err();
    assert_eq!(waves.code(), "execution_running");

    f.execution.status = ExecutionStatus::InProgress;
    let running = cleanup_refusal(&f.execution, false).unwrap_err();
    assert!(running.is_conflict());
    assert!(running.to_string().contains("ripcord cancel"), "{running}");

    let mut recovery = completed();
    recovery.execution.mode = Mode::Recovery;
    let unconfirmed = cleanup_refusal(&recovery.execution, false).unwrap_err();
    assert_eq!(unconfirmed.code(), "recovery_not_confirmed");
    assert!(!unconfirmed.is_conflict());
    assert_eq!(cleanup_refusal(&recovery.execution, true), Ok(()));
}

#[test]
fn a_clean_up_asked_for_before_an_operator_reopened_the_execution_is_stale() {
    // The envelope is created at minute 60; the execution was reopened
    // (a retry) at minute 61 and has settled again since.
    let mut f = completed();
    f.execution.reopened_at = Some(at(61, 0));
    let (execution, d) = on_execution(&f.execution, &cleanup_request(false));
    assert!(execution.cleanup.is_none(), "{:?}", d.ignored);
    assert!(
        d.ignored
            .as_deref()
            .is_some_and(|r| r.contains("before an operator reopened")),
        "{:?}",
        d.ignored
    );
    f.execution.reopened_at = Some(at(59, 0));
    let (execution, _) = on_execution(&f.execution, &cleanup_request(false));
    assert!(execution.cleanup.is_some());
}
