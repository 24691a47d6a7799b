//! Operator control in `decide`: a retry relaunches a failed wave's failed
//! servers as its next attempt (one job per attempt, stale timers of the
//! earlier attempt ignored), a skip lets the dependents run, a pause holds
//! new waves back until resumed.

use super::*;
use crate::capacity::Holder;

const ALICE: &str = "alice@example.com";

/// Decides an operator `event` (about `wave`) on `execution` at `now`.
fn operate(
    execution: &ExecutionRecord,
    wave: Option<u32>,
    event: Event,
    now: Timestamp,
) -> (Envelope, Decision) {
    let envelope = Envelope::new(execution.id, wave.map(WaveNumber), event, now);
    let d = decide(&State::Execution(execution.clone()), &envelope, now);
    assert!(d.rejected.is_empty(), "refused: {:?}", d.rejected);
    (envelope, d)
}

fn changed(d: &Decision) -> ExecutionRecord {
    match &d.change {
        Some(Change::Execution(next)) => next.clone(),
        other => panic!("the execution changes: {other:?} ({:?})", d.ignored),
    }
}

/// The follow-ups of `d` to `wave`.
fn sent_to(d: &Decision, wave: u32) -> Vec<Event> {
    d.follow_ups
        .iter()
        .filter(|f| f.envelope.wave == Some(WaveNumber(wave)))
        .map(|f| f.envelope.event.clone())
        .collect()
}

fn follow_up(d: &Decision, wave: u32, pick: impl Fn(&Event) -> bool) -> Envelope {
    d.follow_ups
        .iter()
        .find(|f| f.envelope.wave == Some(WaveNumber(wave)) && pick(&f.envelope.event))
        .unwrap_or_else(|| panic!("no such follow-up to wave {wave}: {:?}", d.follow_ups))
        .envelope
        .clone()
}

fn retry(servers: Vec<SourceServerId>) -> Event {
    Event::RetryWave {
        requested_by: ALICE.into(),
        reason: Some("the capacity is back".into()),
        servers,
    }
}

#[test]
fn a_retry_relaunches_only_the_failed_servers_as_attempt_2() {
    let (mut wave, _, execution, start_wave) = failed_at_launch();
    assert_eq!(execution.status, ExecutionStatus::Failed);

    let (retry, d) = operate(&execution, Some(1), retry(vec![]), at(5, 0));
    let execution = changed(&d);
    assert_eq!(execution.status, ExecutionStatus::InProgress);
    assert_eq!(execution.end_time, None);
    assert_eq!(execution.reopened_at, Some(at(5, 0)));
    assert_eq!(
        (execution.waves[0].status, execution.waves[0].attempt),
        (WaveStatus::Pending, 2)
    );
    // The waves the failure cancelled before they started run after all.
    assert!(
        execution.waves[1..]
            .iter()
            .all(|w| w.status == WaveStatus::Pending && w.attempt == 2)
    );
    let action = &execution.operator_actions[0];
    assert_eq!(
        (action.action, action.requested_by.as_str(), action.attempt),
        (OperatorActionKind::Retry, ALICE, Some(2))
    );
    // It takes its servers' claim again before anything starts, with a
    // fresh execution timeout, and tells the account.
    assert!(matches!(
        d.effects[..],
        [Effect::ClaimServers { tries: 1, .. }]
    ));
    assert!(d.follow_ups.iter().any(|f| {
        f.envelope.event == Event::ExecutionTimedOut {}
            && f.delay == execution.options.execution_timeout
    }));
    assert!(d.follow_ups.iter().any(|f| matches!(
        &f.envelope.event,
        Event::Announce {
            announcement: crate::ports::announce::Announcement::OperatorAction { .. }
        }
    )));
    assert!(sent_to(&d, 1).is_empty());

    // The old execution timeout, sent at the start, no longer applies.
    let old_timeout = Envelope::new(execution.id, None, Event::ExecutionTimedOut {}, t0());
    let d = decide(&State::Execution(execution.clone()), &old_timeout, at(5, 1));
    assert!(d.change.is_none(), "{d:?}");

    let claimed = result(&retry, Event::ServersClaimed { tries: 1 }, at(5, 1));
    let d = decide(&State::Execution(execution.clone()), &claimed, at(5, 1));
    let relaunch = follow_up(&d, 1, |e| {
        matches!(e, Event::RelaunchWave { attempt: 2, .. })
    });
    assert!(sent_to(&d, 2).is_empty(), "wave 2 waits for wave 1");

    let asked = apply(&mut wave, &relaunch, at(5, 2));
    assert_eq!((wave.status, wave.attempt), (WaveStatus::Pending, 2));
    let db = &wave.servers[0];
    assert_eq!(db.launch_status, LaunchStatus::Pending);
    assert_eq!(db.attempts.len(), 1);
    assert_eq!(db.attempts[0].error_code.as_deref(), Some("LAUNCH_FAILED"));
    // The replica launched: it keeps its state and is not relaunched.
    assert_eq!(wave.servers[1].launch_status, LaunchStatus::Launched);
    assert!(wave.servers[1].attempts.is_empty());
    let holder = Holder {
        execution_id: execution.id,
        wave: WaveNumber(1),
        attempt: 2,
    };
    assert!(
        matches!(&asked.effects[..], [Effect::Admit { claim, .. }] if claim.holder == holder && claim.servers == 1),
        "{:?}",
        asked.effects
    );
    // The same relaunch again changes nothing.
    let again = decide(&State::Wave(wave.clone()), &relaunch, at(5, 3));
    assert!(again.change.is_none());

    let admitted = result(&relaunch, Event::LaunchAdmitted { tries: 1 }, at(5, 3));
    let d = apply(&mut wave, &admitted, at(5, 3));
    let Some(Effect::StartRecovery { request, .. }) = d.effects.first() else {
        panic!("the admitted attempt launches: {:?}", d.effects);
    };
    assert_eq!(request.source_servers, vec![server_id(0x11)]);
    assert_eq!(
        request
            .tags
            .get(crate::ports::drs::TAG_ATTEMPT)
            .map(String::as_str),
        Some("2")
    );

    let started = result(
        &admitted,
        Event::RecoveryJobStarted {
            tries: 1,
            job: job(JobStatus::Pending, &[(0x11, DrsLaunchStatus::Pending)]),
        },
        at(5, 4),
    );
    apply(&mut wave, &started, at(5, 4));
    assert_eq!(wave.servers[0].launch_status, LaunchStatus::Launching);
    assert_eq!(
        wave.servers[1].launch_status,
        LaunchStatus::Launched,
        "a server launched before is not in the new job, and stays launched"
    );

    // A timer of attempt 1 arriving now is stale.
    let old_check = start_wave.caused(
        3,
        Some(WaveNumber(1)),
        Event::LaunchCheck { tries: 1 },
        1,
        at(0, 1),
    );
    let d = decide(&State::Wave(wave.clone()), &old_check, at(5, 4));
    assert!(d.change.is_none() && d.effects.is_empty(), "{d:?}");
}

/// The answer to the server claim a retry or a skip makes carries the
/// operator event's wave (an effect's result inherits its cause's), yet is
/// the execution's: the worker loads the record `target` names, and a
/// wave record ignores it, so the waves would start only at the claim's
/// next tick, 30 s later (found by the chaos run, issue 14).
#[test]
fn the_answer_to_a_reopened_executions_claim_is_decided_on_the_execution() {
    let (wave, _, execution, _) = failed_at_launch();
    let skip = Event::SkipWave {
        requested_by: ALICE.into(),
        reason: "restored from backup".into(),
    };
    for (operator_event, first) in [(retry(vec![]), 1), (skip, 2)] {
        let (cause, d) = operate(&execution, Some(1), operator_event, at(5, 0));
        assert!(matches!(
            d.effects[..],
            [Effect::ClaimServers { tries: 1, .. }]
        ));
        let answers = [
            Event::ServersClaimed { tries: 1 },
            Event::ServersBusy {
                tries: 1,
                busy: Vec::new(),
            },
            Event::ServerClaimFailed {
                tries: 1,
                error: "the ledger is unreachable".into(),
            },
            Event::ServersReleased { error: None },
        ];
        for answer in answers {
            let answer = result(&cause, answer, at(5, 1));
            assert_eq!(answer.wave, Some(WaveNumber(1)));
            assert_eq!(
                target(&answer),
                Target::Execution,
                "{}",
                answer.event.type_name()
            );
        }
        // Decided on the record it targets, the claim starts the reopened
        // waves at once.
        let claimed = result(&cause, Event::ServersClaimed { tries: 1 }, at(5, 1));
        let state = match target(&claimed) {
            Target::Execution => State::Execution(changed(&d)),
            Target::Wave(_) => State::Wave(wave.clone()),
        };
        let d = decide(&state, &claimed, at(5, 1));
        assert!(
            matches!(
                sent_to(&d, first)[..],
                [Event::RelaunchWave { attempt: 2, .. }]
            ),
            "{:?} {:?}",
            d.ignored,
            d.follow_ups
        );
    }
}

#[test]
fn a_retry_that_names_servers_relaunches_those() {
    let (wave, _, execution, _) = failed_at_launch();
    let (_, d) = operate(&execution, Some(1), retry(vec![server_id(0x11)]), at(5, 0));
    let execution = changed(&d);
    assert_eq!(execution.waves[0].retry_servers, vec![server_id(0x11)]);
    let mut wave = wave;
    let relaunch = Envelope::new(
        execution.id,
        Some(WaveNumber(1)),
        Event::RelaunchWave {
            attempt: 2,
            servers: vec![server_id(0x11)],
        },
        at(5, 1),
    );
    apply(&mut wave, &relaunch, at(5, 1));
    assert_eq!(wave.servers[0].launch_status, LaunchStatus::Pending);
}

#[test]
fn a_retry_of_a_wave_that_did_not_fail_is_ignored_with_the_reason() {
    let (execution, _, _) = started();
    let envelope = Envelope::new(execution.id, Some(WaveNumber(1)), retry(vec![]), at(1, 0));
    let d = decide(&State::Execution(execution), &envelope, at(1, 0));
    assert!(d.change.is_none());
    assert!(
        d.ignored.as_deref().unwrap_or("").contains("not FAILED"),
        "{:?}",
        d.ignored
    );
}

#[test]
fn a_skipped_failed_wave_lets_its_dependents_run_and_the_execution_completes_naming_it() {
    let (mut wave, _, execution, _) = failed_at_launch();
    let skip = Event::SkipWave {
        requested_by: ALICE.into(),
        reason: "the database is restored from backup".into(),
    };
    let (skip, d) = operate(&execution, Some(1), skip, at(5, 0));
    let execution = changed(&d);
    assert_eq!(execution.status, ExecutionStatus::InProgress);
    assert_eq!(execution.waves[0].status, WaveStatus::Skipped);
    let mark = follow_up(&d, 1, |e| matches!(e, Event::MarkWaveSkipped { .. }));
    let marked = apply(&mut wave, &mark, at(5, 1));
    assert_eq!(wave.status, WaveStatus::Skipped);
    let finished = follow_up(&marked, 1, |e| matches!(e, Event::WaveFinished { .. }));
    let d = decide(&State::Execution(execution.clone()), &finished, at(5, 1));
    assert!(d.change.is_none(), "the summary is SKIPPED already");

    // The cancel the failure sent wave 2 reaches its record only now: its
    // report is not the reopened wave's.
    let late = Event::WaveFinished {
        status: WaveStatus::Cancelled,
        attempt: 1,
    };
    let d = decide(
        &State::Execution(execution.clone()),
        &Envelope::new(execution.id, Some(WaveNumber(2)), late, at(5, 1)),
        at(5, 1),
    );
    assert!(d.change.is_none(), "{d:?}");

    let claimed = result(&skip, Event::ServersClaimed { tries: 1 }, at(5, 1));
    let d = decide(&State::Execution(execution), &claimed, at(5, 1));
    let mut execution = changed(&d);
    assert!(matches!(
        sent_to(&d, 2)[..],
        [Event::RelaunchWave { attempt: 2, .. }]
    ));
    // The reopened waves run as attempt 2: wave 2 completes; wave 3 waits for its approval, then completes.
    for (n, event) in [
        (
            2,
            Event::WaveFinished {
                status: WaveStatus::Completed,
                attempt: 2,
            },
        ),
        (
            3,
            Event::ApproveWave {
                approved_by: ALICE.into(),
            },
        ),
        (
            3,
            Event::WaveFinished {
                status: WaveStatus::Completed,
                attempt: 2,
            },
        ),
    ] {
        let (_, d) = operate(&execution, Some(n), event, at(6, 0));
        execution = changed(&d);
    }
    assert_eq!(execution.status, ExecutionStatus::Completed);
    assert_eq!(
        execution.reason.as_deref(),
        Some("completed with wave 1 (database) skipped by alice@example.com")
    );
}

#[test]
fn a_waiting_wave_skipped_leaves_the_line_and_a_launching_one_is_not_skipped() {
    let (_, mut wave, admitted) = started();
    let waiting = result(
        &admitted,
        Event::LaunchWaiting {
            tries: 1,
            wait: full(),
        },
        at(0, 1),
    );
    apply(&mut wave, &waiting, at(0, 1));
    assert_eq!(wave.status, WaveStatus::Waiting);
    let mark = Envelope::new(
        wave.execution_id,
        Some(WaveNumber(1)),
        Event::MarkWaveSkipped {
            reason: "skipped by alice: not needed".into(),
        },
        at(0, 2),
    );
    let d = apply(&mut wave.clone(), &mark, at(0, 2));
    assert_eq!(releases(&d), 1, "its place in line is given back");
    assert!(sent_to(&d, 1).contains(&Event::WaveFinished {
        status: WaveStatus::Skipped,
        attempt: 1,
    }));

    let (_, launching, _) = launching();
    let d = decide(&State::Wave(launching), &mark, at(0, 2));
    assert!(d.change.is_none(), "a running wave is not skipped: {d:?}");
}

#[test]
fn a_paused_execution_starts_no_wave_until_resumed() {
    let (execution, _, _) = started();
    let pause = Event::PauseExecution {
        requested_by: ALICE.into(),
        reason: Some("the network team asks to wait".into()),
    };
    let (_, d) = operate(&execution, None, pause.clone(), at(1, 0));
    let execution = changed(&d);
    assert_eq!(
        execution.paused.as_ref().map(|p| p.requested_by.as_str()),
        Some(ALICE)
    );
    let again = decide(
        &State::Execution(execution.clone()),
        &Envelope::new(execution.id, None, pause, at(1, 1)),
        at(1, 1),
    );
    assert!(again.change.is_none(), "already paused");

    // Wave 1 goes on and completes; wave 2 does not start.
    let done = Event::WaveFinished {
        status: WaveStatus::Completed,
        attempt: 1,
    };
    let (_, d) = operate(&execution, Some(1), done, at(2, 0));
    let execution = changed(&d);
    assert!(sent_to(&d, 2).is_empty(), "{:?}", d.follow_ups);
    assert_eq!(execution.status, ExecutionStatus::InProgress);

    let resume = Event::ResumeExecution {
        requested_by: ALICE.into(),
    };
    let (_, d) = operate(&execution, None, resume, at(3, 0));
    let resumed = changed(&d);
    assert_eq!(resumed.paused, None);
    assert_eq!(sent_to(&d, 2), vec![Event::StartWave {}]);
    assert_eq!(resumed.operator_actions.len(), 2);

    // A cancel still works while paused.
    let cancel = Event::CancelExecution {
        requested_by: ALICE.into(),
        reason: "drill called off".into(),
    };
    let (_, d) = operate(&execution, None, cancel, at(3, 0));
    assert_eq!(changed(&d).status, ExecutionStatus::Cancelled);
}

#[test]
fn a_skip_that_reaches_the_wave_after_a_retry_was_decided_is_undone_by_the_relaunch() {
    // The skip was sent while wave 1 still ran; it failed, was retried,
    // and only then did the skip reach its record.
    let (mut wave, _, execution, _) = failed_at_launch();
    let mark = Envelope::new(
        execution.id,
        Some(WaveNumber(1)),
        Event::MarkWaveSkipped {
            reason: "skipped by bob: too slow".into(),
        },
        at(5, 0),
    );
    let d = apply(&mut wave, &mark, at(5, 0));
    assert_eq!(wave.status, WaveStatus::Skipped);
    let (_, retried) = operate(&execution, Some(1), retry(vec![]), at(5, 1));
    let stale = follow_up(&d, 1, |e| matches!(e, Event::WaveFinished { .. }));
    let ignored = decide(&State::Execution(changed(&retried)), &stale, at(5, 2));
    assert!(ignored.change.is_none(), "attempt 1's report: {ignored:?}");
    let relaunch = Envelope::new(
        execution.id,
        Some(WaveNumber(1)),
        Event::RelaunchWave {
            attempt: 2,
            servers: vec![],
        },
        at(5, 3),
    );
    apply(&mut wave, &relaunch, at(5, 3));
    assert_eq!((wave.status, wave.attempt), (WaveStatus::Pending, 2));
    assert_eq!(wave.servers[0].launch_status, LaunchStatus::Pending);
}
