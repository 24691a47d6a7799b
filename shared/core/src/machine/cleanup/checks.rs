//! The next check of a clean-up, shared by a wave's own clean-up (`wave`)
//! and the one of what earlier drills left (`previous`).

use super::super::context::Ctx;
use crate::cleanup::CleanupStep;
use crate::event::Event;
use crate::ids::WaveNumber;
use std::time::Duration;

/// Sends check `tries` of the wave's clean-up (or of its leftovers'), due
/// after `delay`: a retry, or the cover for a lost answer.
pub(super) fn check_again(ctx: &mut Ctx<'_>, wave: WaveNumber, tries: u32, delay: Duration) {
    let step = CleanupStep::Check { tries };
    ctx.send_attempt(Some(wave), Event::CleanupWave { step }, delay, tries);
}
