//! The sweep beyond poll chains (`machine/sweep/launch.rs`,
//! `machine/sweep/execution.rs`): a wave's lost StartWave, capacity tick or
//! launch check, a lost WaveFinished, a lost pre-flight or server-claim
//! tick are each found once overdue past their bound, and a nudge does
//! what the lost message would have done, once (invariant 4); a nudge to a
//! recorded StartRecovery intent goes through the launch check, whose call
//! looks for the job by tag first (invariant 2).

use super::sweep::found;
use super::*;
use crate::ports::announce::Announcement;
use crate::stall::Stall;
use proptest::prelude::*;
use std::time::Duration;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The one lost message the sweep finds of `execution` with `wave` at
/// `now`, if any (two would be a bug: each record waits for one).
fn one(execution: &ExecutionRecord, wave: &WaveRecord, now: Timestamp) -> Option<Stalled> {
    let mut lost = found(execution, wave, now);
    assert!(lost.len() <= 1, "{lost:?}");
    lost.pop()
}

fn stall_of(s: &Stalled) -> &Stall {
    match &s.lost {
        Lost::Stall(stall) => stall,
        Lost::Poll { .. } => panic!("a poll chain: {s:?}"),
    }
}

/// The record `stalled` names, as a `State` for `decide`.
fn state_of(stalled: &Stalled, execution: &ExecutionRecord, wave: &WaveRecord) -> State {
    if stalled.lost.on_wave() {
        State::Wave(wave.clone())
    } else {
        State::Execution(execution.clone())
    }
}

/// Every StartRecovery a decision asks for looks for the job by tag first.
fn assert_reconciles(d: &Decision) {
    for effect in &d.effects {
        if let Effect::StartRecovery {
            reconcile_since, ..
        } = effect
        {
            assert!(
                reconcile_since.is_some(),
                "a nudge asked for a bare StartRecovery: {effect:?}"
            );
        }
    }
}

fn announced(d: &Decision) -> Vec<&Announcement> {
    d.follow_ups
        .iter()
        .filter_map(|f| match &f.envelope.event {
            Event::Announce { announcement } => Some(announcement),
            _ => None,
        })
        .collect()
}

/// One case: a record whose one message is lost, the bound it is found
/// past, and that message (which, delivered late, moves the record on).
struct Case {
    execution: ExecutionRecord,
    wave: WaveRecord,
    due: Timestamp,
    bound: Duration,
    lost: Envelope,
}

/// Wave 1 in line for DRS capacity (no room at its first ask); its tick 2
/// is lost.
fn admission() -> Case {
    let (execution, mut wave, admitted) = started();
    let waiting = result(
        &admitted,
        Event::LaunchWaiting {
            tries: 1,
            wait: full(),
        },
        t0(),
    );
    apply(&mut wave, &waiting, t0());
    assert_eq!(wave.status, WaveStatus::Waiting);
    let tick = crate::machine::wave::poll_interval(&wave);
    Case {
        lost: admitted.caused(
            9,
            Some(WaveNumber(1)),
            Event::AdmitWave { tries: 2 },
            1,
            t0(),
        ),
        due: crate::time::after(t0(), tick),
        bound: tick_bound(tick),
        execution,
        wave,
    }
}

/// Wave 1's StartRecovery intent is recorded at try 1 (at 0:01); neither
/// an answer nor its LaunchCheck ever comes.
fn launch() -> Case {
    let (execution, mut wave, admitted) = started();
    let d = apply(&mut wave, &admitted, at(0, 1));
    let check = d
        .follow_ups
        .iter()
        .find(|f| f.envelope.event == Event::LaunchCheck { tries: 1 })
        .expect("the intent schedules its check")
        .envelope
        .clone();
    let wait = LAUNCH_CHECK_DELAY.max(wave.options.retry.max_delay);
    Case {
        due: crate::time::after(at(0, 1), wait),
        bound: overdue_after(&wave),
        lost: check,
        execution,
        wave,
    }
}

/// Wave 1 in POST_ACTIONS: its action's send failed (a 5xx) at 3:31; the
/// retry it scheduled is lost.
fn action_retry() -> Case {
    let (execution, _, _) = launching();
    let (mut wave, agents) = action_sending();
    let failed = result(
        &agents,
        Event::ActionSendFailed {
            action: 0,
            tries: 1,
            error: transient(),
        },
        at(3, 31),
    );
    let d = apply(&mut wave, &failed, at(3, 31));
    let retry = d
        .follow_ups
        .iter()
        .find(|f| matches!(f.envelope.event, Event::RunAction { tries: 2, .. }))
        .expect("a 5xx is retried")
        .envelope
        .clone();
    // The wave's poll chain runs on: the tick sends nothing while the
    // retry is due.
    let tick = failed.caused(
        5,
        Some(WaveNumber(1)),
        Event::CheckPostLaunch { seq: wave.poll_seq },
        1,
        at(3, 31),
    );
    let d = apply(&mut wave, &tick, at(3, 31));
    assert!(
        !d.effects
            .iter()
            .any(|e| matches!(e, Effect::SendCommands { .. })),
        "{d:?}"
    );
    Case {
        due: wave.actions[0].retry_at.expect("the retry is due"),
        bound: overdue_after(&wave),
        lost: retry,
        execution,
        wave,
    }
}

/// The execution sent wave 1 its StartWave at t0; it never arrived.
fn not_started() -> Case {
    let (execution, waves, start_wave) = claimed();
    Case {
        execution,
        wave: waves[0].clone(),
        due: t0(),
        bound: MIN_OVERDUE,
        lost: start_wave,
    }
}

/// Wave 1 ended FAILED at 1:00; its WaveFinished never reached the
/// execution, which still counts it running.
fn unreported() -> Case {
    let (execution, _, _) = launching();
    let (wave, _, _, start_wave) = failed_at_launch();
    let finished = start_wave.caused(
        0,
        Some(WaveNumber(1)),
        Event::WaveFinished {
            status: WaveStatus::Failed,
            attempt: 1,
        },
        1,
        at(1, 0),
    );
    Case {
        due: wave.end_time.expect("an ended wave has an end time"),
        bound: MIN_OVERDUE,
        lost: finished,
        execution,
        wave,
    }
}

/// A drill's pre-flight asked at t0; its tick 2 is lost.
fn preflight() -> Case {
    let (execution, waves, _) = claimed();
    let mut start = Envelope::start_execution(execution.id, plan(), "tester", false, t0());
    start.event_id = EventId(uuid::Uuid::from_u128(1));
    let Some(Change::Create { execution, .. }) = decide(&State::Absent, &start, t0()).change else {
        panic!("StartExecution creates the execution");
    };
    assert!(matches!(
        execution.preflight,
        PreflightState::Checking { .. }
    ));
    Case {
        lost: start.caused(1, None, Event::CheckPreflight { tries: 2 }, 1, t0()),
        due: crate::time::after(t0(), PREFLIGHT_TICK),
        bound: tick_bound(PREFLIGHT_TICK),
        execution,
        wave: waves[0].clone(),
    }
}

/// The execution asked for its servers at t0 (the pre-flight passed); its
/// claim tick 2 is lost.
fn claim() -> Case {
    let Case {
        execution, wave, ..
    } = preflight();
    let mut start = Envelope::start_execution(execution.id, plan(), "tester", false, t0());
    start.event_id = EventId(uuid::Uuid::from_u128(1));
    let d = decide(&State::Absent, &start, t0());
    let execution = passed_preflight(execution, &start, &d);
    assert!(matches!(
        execution.server_claim,
        ServerClaimState::Claiming { tries: 1, .. }
    ));
    let tick = crate::machine::execution::CLAIM_TICK;
    Case {
        lost: start.caused(2, None, Event::ClaimServers { tries: 2 }, 1, t0()),
        due: crate::time::after(t0(), tick),
        bound: tick_bound(tick),
        execution,
        wave,
    }
}

fn cases() -> Vec<(&'static str, Case)> {
    vec![
        ("admission", admission()),
        ("launch", launch()),
        ("post_launch_retry", action_retry()),
        ("start", not_started()),
        ("wave_finished", unreported()),
        ("preflight", preflight()),
        ("claim", claim()),
    ]
}

#[test]
fn each_lost_message_is_found_past_its_bound_and_only_then() {
    for (kind, case) in cases() {
        let just_before = crate::time::after(case.due, case.bound - secs(1));
        assert!(
            one(&case.execution, &case.wave, just_before).is_none(),
            "{kind}: found before its bound"
        );
        let past = crate::time::after(case.due, case.bound);
        let stalled = one(&case.execution, &case.wave, past)
            .unwrap_or_else(|| panic!("{kind}: not found past its bound"));
        assert_eq!(stalled.lost.kind(), kind);
        assert_eq!(stalled.due, case.due, "{kind}");
        // On the queue of the worker allowed the calls it may make (SSM's
        // for a post-launch retry).
        let queue = match kind {
            "post_launch_retry" => crate::ports::queue::QueueName::PostActions,
            _ => crate::ports::queue::QueueName::Launch,
        };
        assert_eq!(
            nudge_envelope(&stalled, past).event.queue(),
            queue,
            "{kind}"
        );
        // Two sweeps send the same event; the journal catches the second.
        assert_eq!(
            nudge_envelope(&stalled, past).event_id,
            nudge_envelope(&stalled, at(59, 0)).event_id,
            "{kind}"
        );
    }
}

#[test]
fn each_nudge_does_what_the_lost_message_would_have_done_once() {
    for (kind, case) in cases() {
        let past = crate::time::after(case.due, case.bound);
        let stalled = one(&case.execution, &case.wave, past).expect("found");
        let nudge = nudge_envelope(&stalled, past);
        let state = state_of(&stalled, &case.execution, &case.wave);
        let d = decide(&state, &nudge, past);
        assert!(d.rejected.is_empty(), "{kind}: {:?}", d.rejected);
        assert_reconciles(&d);
        let Some(change) = d.change.clone() else {
            panic!("{kind}: the nudge changed nothing: {:?}", d.ignored);
        };
        // What the lost message itself would have decided, then.
        let real = decide(&state, &case.lost, past);
        assert_eq!(
            d.effects.len(),
            real.effects.len(),
            "{kind}: {:?} vs {:?}",
            d.effects,
            real.effects
        );
        let stuck = announced(&d)
            .into_iter()
            .filter(|a| {
                matches!(
                    a,
                    Announcement::WaveStuck { .. } | Announcement::ExecutionStuck { .. }
                )
            })
            .count();
        assert_eq!(stuck, 1, "{kind}: announced once");
        // The same nudge again, on the record it made: nothing.
        let after = match change {
            Change::Wave(w) => State::Wave(w),
            Change::Execution(e) => State::Execution(e),
            Change::Create { .. } => panic!("a nudge creates nothing"),
        };
        let again = decide(&after, &nudge, past);
        assert!(
            again.change.is_none() && again.effects.is_empty(),
            "{kind}: a second nudge changed {again:?}"
        );
        // Nor does the lost message, if it turns up late after all.
        let late = decide(&after, &case.lost, past);
        assert!(
            late.change.is_none() && late.effects.is_empty(),
            "{kind}: the late message acted again: {late:?}"
        );
    }
}

#[test]
fn a_nudge_to_a_recorded_intent_looks_for_the_job_by_tag_first() {
    // Lost check of try 1: the nudge's try 2 looks from the first try on.
    let case = launch();
    let past = crate::time::after(case.due, case.bound);
    let stalled = one(&case.execution, &case.wave, past).expect("found");
    assert_eq!(stall_of(&stalled), &Stall::Launch { tries: 1 });
    let mut wave = case.wave.clone();
    let d = apply(&mut wave, &nudge_envelope(&stalled, past), past);
    assert_eq!(start_recovery_effects(&d), vec![(2, Some(at(0, 1)))]);

    // A 5xx at try 1 scheduled LaunchWave 2, which is lost: the nudge's
    // try looks first too, though a throttled retry would not.
    let case = launch();
    let mut wave = case.wave.clone();
    let failed = result(
        &case.lost,
        Event::RecoveryStartFailed {
            tries: 1,
            error: transient(),
        },
        at(0, 2),
    );
    apply(&mut wave, &failed, at(0, 2));
    let past = crate::time::after(at(0, 2), secs(600));
    let stalled = one(&case.execution, &wave, past).expect("found");
    assert_eq!(stall_of(&stalled), &Stall::Launch { tries: 2 });
    let d = apply(&mut wave, &nudge_envelope(&stalled, past), past);
    assert_eq!(start_recovery_effects(&d), vec![(3, Some(at(0, 1)))]);
}

#[test]
fn a_lost_wave_finished_ends_the_execution_as_the_report_would_have() {
    let case = unreported();
    let past = crate::time::after(case.due, case.bound);
    let stalled = one(&case.execution, &case.wave, past).expect("found");
    let state = State::Execution(case.execution.clone());
    let nudged = decide(&state, &nudge_envelope(&stalled, past), past);
    let real = decide(&state, &case.lost, past);
    let (Some(Change::Execution(nudged)), Some(Change::Execution(real))) =
        (nudged.change, real.change)
    else {
        panic!("both change the execution");
    };
    assert_eq!(nudged.status, real.status);
    assert_eq!(nudged.status, ExecutionStatus::Failed);
    let statuses = |e: &ExecutionRecord| e.waves.iter().map(|w| w.status).collect::<Vec<_>>();
    assert_eq!(statuses(&nudged), statuses(&real));
}

proptest! {
    /// A nudge changes its record only if the record is still as the sweep
    /// found it and overdue past its bound; then once. It never asks for a
    /// StartRecovery that does not look for the job first.
    #[test]
    fn a_nudge_changes_nothing_unless_its_record_is_as_found_and_overdue(
        which in 0usize..7,
        late_by in 0u64..900,
        moved in any::<bool>(),
        twice in any::<bool>(),
    ) {
        let (kind, case) = cases().swap_remove(which);
        let found_at = crate::time::after(case.due, case.bound);
        let stalled = one(&case.execution, &case.wave, found_at).expect("found");
        let nudge = nudge_envelope(&stalled, found_at);
        let now = crate::time::after(case.due, secs(late_by));
        let mut state = state_of(&stalled, &case.execution, &case.wave);
        if moved {
            // The lost message turned up after all, before the nudge.
            let d = decide(&state, &case.lost, now);
            prop_assert!(d.change.is_some(), "{}: {:?}", kind, d.ignored);
            state = match d.change {
                Some(Change::Wave(w)) => State::Wave(w),
                Some(Change::Execution(e)) => State::Execution(e),
                _ => unreachable!(),
            };
        }
        let d = decide(&state, &nudge, now);
        assert_reconciles(&d);
        prop_assert!(d.rejected.is_empty(), "{}: {:?}", kind, d.rejected);
        let stuck = !moved && secs(late_by) >= case.bound;
        prop_assert_eq!(d.change.is_some(), stuck, "{}: {:?}", kind, d.ignored);
        if let (Some(change), true) = (d.change, twice) {
            let after = match change {
                Change::Wave(w) => State::Wave(w),
                Change::Execution(e) => State::Execution(e),
                Change::Create { .. } => unreachable!(),
            };
            let again = decide(&after, &nudge, now);
            prop_assert!(again.change.is_none() && again.effects.is_empty(), "{}", kind);
        }
    }
}
