//! What every phase of the machine works with: the decision under
//! construction ([`Ctx`]) and what a handler returns ([`Outcome`],
//! [`WaveOutcome`]). A wave phase that is done with a wave does not call
//! the next phase: it returns a [`Handover`] and `decide` runs it, so the
//! imports run one way (decide → phases → wave primitives → records).

use super::decision::{Change, Decision, Effect};
use crate::event::{Envelope, Event, FollowUp};
use crate::ids::WaveNumber;
use crate::records::WaveRecord;
use crate::time::Timestamp;
use std::time::Duration;

/// What a handler decided about its record.
// One record moves once per decision; boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Outcome {
    Changed(Change),
    Ignored(String),
}

/// What a wave phase decided: the wave's next record and, when the phase
/// hands the wave on, what `decide` runs on it next.
// One record moves once per decision; boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum WaveOutcome {
    Changed(WaveRecord, Option<Handover>),
    Ignored(String),
}

/// What comes next for a wave once the phase deciding it is done with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Handover {
    /// Every launch has an outcome and the plan has post-launch work:
    /// enter POST_ACTIONS.
    EnterPostLaunch,
    /// Do what is due in POST_ACTIONS: deadlines, the next action or the
    /// health checks, and settling the wave when every server is done.
    AdvancePostLaunch,
    /// A cancel reached a wave in POST_ACTIONS: end it once nothing it
    /// sent still runs.
    SettleCancelled,
    /// `options.cleanup_previous`: terminate earlier drills' instances
    /// first (`StartWave`), then get in line for capacity (once done).
    CleanUpPrevious,
    GetInLine,
}

/// The decision under construction: follow-ups get ids derived from the
/// event being decided, in the order they are added.
pub(crate) struct Ctx<'a> {
    pub envelope: &'a Envelope,
    pub now: Timestamp,
    effects: Vec<Effect>,
    follow_ups: Vec<FollowUp>,
    pub rejected: Vec<String>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(envelope: &'a Envelope, now: Timestamp) -> Self {
        Self {
            envelope,
            now,
            effects: Vec::new(),
            follow_ups: Vec::new(),
            rejected: Vec::new(),
        }
    }

    /// Sends `event` about `wave` (or the execution) after `delay`.
    pub fn send(&mut self, wave: Option<WaveNumber>, event: Event, delay: Duration) {
        self.send_attempt(wave, event, delay, 1);
    }

    pub fn send_attempt(
        &mut self,
        wave: Option<WaveNumber>,
        event: Event,
        delay: Duration,
        attempt: u32,
    ) {
        let index = self.follow_ups.len();
        let envelope = self.envelope.caused(index, wave, event, attempt, self.now);
        self.follow_ups.push(FollowUp { envelope, delay });
    }

    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    pub(super) fn finish(self, outcome: Outcome) -> Decision {
        match outcome {
            Outcome::Changed(change) => Decision {
                change: Some(change),
                effects: self.effects,
                follow_ups: self.follow_ups,
                ignored: None,
                rejected: self.rejected,
            },
            Outcome::Ignored(reason) => Decision {
                change: None,
                effects: Vec::new(),
                follow_ups: Vec::new(),
                ignored: Some(reason),
                rejected: self.rejected,
            },
        }
    }
}
