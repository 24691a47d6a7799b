//! The sweep (`machine/sweep/poll.rs`): a running wave whose poll message
//! was lost is found once that poll is overdue past its bound, and a nudge
//! re-arms it once; a nudge delivered twice, to a wave polled since, or to
//! a wave that is not stuck changes nothing (invariant 4), and no nudge
//! ever calls StartRecovery (invariant 2). The other lost messages are in
//! `sweep_chains.rs`.

use super::*;
use proptest::prelude::*;

/// What the sweep finds of `execution` with only `wave`, at `now`.
pub(super) fn found(
    execution: &ExecutionRecord,
    wave: &WaveRecord,
    now: Timestamp,
) -> Vec<Stalled> {
    stalled(execution, std::slice::from_ref(wave), now)
}

/// The launching wave of `launching()`, its poll due at `due`.
fn polled_wave() -> (WaveRecord, Timestamp) {
    let (_, wave, _) = launching();
    let due = wave
        .next_poll_at
        .expect("a launching wave has a poll scheduled");
    (wave, due)
}

fn nudge_of(wave: &WaveRecord, seq: u32, due: Timestamp, now: Timestamp) -> Envelope {
    let stalled = Stalled {
        execution_id: wave.execution_id,
        wave: Some(wave.number),
        lost: Lost::Poll { seq },
        due,
        overdue: crate::time::between(due, now),
    };
    nudge_envelope(&stalled, now)
}

#[test]
fn a_lost_poll_is_found_past_its_bound_and_a_nudge_re_arms_it_once() {
    let (execution, mut wave, _) = launching();
    let due = wave.next_poll_at.expect("a poll is scheduled");
    let bound = overdue_after(&wave);
    assert_eq!(bound, MIN_OVERDUE, "the plan polls every 15 s: a minute");
    // Late, but not yet past the bound: not stuck, and a nudge is ignored.
    let early = crate::time::after(due, bound - std::time::Duration::from_secs(1));
    assert!(found(&execution, &wave, early).is_empty());
    let too_soon = nudge_of(&wave, wave.poll_seq, due, early);
    let d = apply(&mut wave, &too_soon, early);
    assert!(d.change.is_none(), "{:?}", d.ignored);

    // Past it: found, and the nudge polls now and announces it.
    let late = crate::time::after(due, bound);
    let lost = found(&execution, &wave, late);
    assert_eq!(lost.len(), 1);
    assert_eq!(
        (&lost[0].lost, lost[0].due),
        (&Lost::Poll { seq: wave.poll_seq }, due)
    );
    let nudge = nudge_envelope(&lost[0], late);
    // Two sweeps that find the same lost poll send the same event.
    assert_eq!(nudge.event_id, nudge_envelope(&lost[0], at(9, 0)).event_id);
    let seq = wave.poll_seq;
    let d = apply(&mut wave, &nudge, late);
    assert!(
        d.effects.is_empty(),
        "a nudge calls nothing: {:?}",
        d.effects
    );
    assert_eq!(wave.poll_seq, seq + 1);
    assert_eq!(wave.next_poll_at, Some(late));
    let sent: Vec<&Event> = d.follow_ups.iter().map(|f| &f.envelope.event).collect();
    use crate::ports::announce::Announcement;
    assert!(
        matches!(sent[..], [Event::PollWave { seq: s }, Event::Announce { announcement }]
            if *s == seq + 1
                && matches!(announcement, Announcement::WaveStuck { overdue_since, .. } if *overdue_since == due)),
        "{sent:?}"
    );
    assert_eq!(d.follow_ups[0].delay, std::time::Duration::ZERO);

    // The same nudge again (a duplicate the journal missed, or a second
    // sweep's): the poll it found is no longer current.
    let again = decide(&State::Wave(wave.clone()), &nudge, late);
    assert!(again.change.is_none() && again.follow_ups.is_empty());
    // And the re-armed wave is not stuck.
    assert!(found(&execution, &wave, late).is_empty());
}

#[test]
fn only_waves_running_on_a_poll_chain_can_be_stuck() {
    let (wave, due) = polled_wave();
    let late = crate::time::after(due, std::time::Duration::from_secs(3600));
    for status in [
        WaveStatus::Pending,
        WaveStatus::Waiting,
        WaveStatus::Completed,
        WaveStatus::Failed,
        WaveStatus::Cancelled,
    ] {
        let mut other = wave.clone();
        other.status = status;
        assert!(poll_overdue(&other, late).is_none(), "{status:?}");
        let d = decide(
            &State::Wave(other.clone()),
            &nudge_of(&other, other.poll_seq, due, late),
            late,
        );
        assert!(d.change.is_none(), "{status:?}");
    }
    // A launching wave still waiting for its job has no poll chain.
    let mut requested = wave.clone();
    requested.launch = LaunchState::Requested {
        tries: 1,
        since: t0(),
        requested_at: t0(),
        reconcile: false,
        throttled: 0,
    };
    assert!(poll_overdue(&requested, late).is_none());
    // In POST_ACTIONS the chain is CheckPostLaunch, nudged the same way.
    let mut post = wave.clone();
    post.status = WaveStatus::PostActions;
    assert_eq!(poll_overdue(&post, late), Some(due));
}

proptest! {
    /// A nudge changes the wave only if the poll it names is the wave's
    /// current one and overdue past the bound; then it changes it once.
    #[test]
    fn a_nudge_changes_nothing_unless_its_poll_is_current_and_overdue(
        late_by in 0u64..600,
        seq_behind in 0u32..3,
        twice in any::<bool>(),
    ) {
        let (wave, due) = polled_wave();
        let now = crate::time::after(due, std::time::Duration::from_secs(late_by));
        let seq = wave.poll_seq - seq_behind.min(wave.poll_seq);
        let nudge = nudge_of(&wave, seq, due, now);
        let d = decide(&State::Wave(wave.clone()), &nudge, now);
        prop_assert!(d.rejected.is_empty());
        prop_assert!(d.effects.is_empty(), "never StartRecovery, nor any call");
        let stuck = seq == wave.poll_seq && std::time::Duration::from_secs(late_by) >= overdue_after(&wave);
        prop_assert_eq!(d.change.is_some(), stuck);
        if let (Some(Change::Wave(next)), true) = (&d.change, twice) {
            let again = decide(&State::Wave(next.clone()), &nudge, now);
            prop_assert!(again.change.is_none() && again.follow_ups.is_empty());
        }
    }
}
