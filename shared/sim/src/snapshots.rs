//! Simulated point-in-time snapshots: which snapshots a source server holds
//! at a given instant, computed from the scenario's schedule, the world's
//! start and the seed, so nothing is stored and every process sharing a
//! world sees the same ids (the model is described in the
//! [`scenario`](crate::scenario) docs).

use crate::scenario::{ReplicationState, Scenario, SnapshotsMode};
use chrono::SubsecRound;
use ripcord::ids::SourceServerId;
use ripcord::ports::drs::RecoverySnapshot;
use ripcord::time::Timestamp;

/// The snapshots `server` holds at `now` whose `timestamp` lies within
/// `from..=to`, newest first.
pub(crate) fn snapshots_of(
    scenario: &Scenario,
    started_at: Timestamp,
    server: &SourceServerId,
    now: Timestamp,
    (from, to): (Option<Timestamp>, Option<Timestamp>),
) -> Vec<RecoverySnapshot> {
    let spec = scenario.server(server);
    if spec.snapshots == SnapshotsMode::None {
        return Vec::new();
    }
    let schedule = scenario.snapshots;
    let every = millis(schedule.every);
    let newest_age = spec.newest_snapshot_age.unwrap_or(schedule.newest_age);
    // Slot 0 is the newest snapshot at the start; slot k is k `every`s later.
    // Whole seconds, so that the times survive the wire's milliseconds.
    let anchor = (started_at - chrono::Duration::milliseconds(millis(newest_age))).trunc_subsecs(0);
    let since_anchor = (now - anchor).num_milliseconds();
    let newest_slot = if spec.replication == ReplicationState::Continuous {
        since_anchor.div_euclid(every)
    } else {
        since_anchor.div_euclid(every).min(0)
    };
    let oldest_slot = (since_anchor - millis(schedule.retention)).div_euclid(every) + 1;
    let oldest_kept = now - chrono::Duration::milliseconds(millis(schedule.retention));
    (oldest_slot.min(newest_slot + 1)..=newest_slot)
        .rev()
        .map(|slot| snapshot(scenario.seed, server, anchor, every, slot))
        .filter(|s| s.expected_timestamp >= oldest_kept && s.taken_at() <= now)
        .filter(|s| from.is_none_or(|f| s.taken_at() >= f) && to.is_none_or(|t| s.taken_at() <= t))
        .collect()
}

fn snapshot(
    seed: u64,
    server: &SourceServerId,
    anchor: Timestamp,
    every: i64,
    slot: i64,
) -> RecoverySnapshot {
    let expected = anchor + chrono::Duration::milliseconds(slot * every);
    let mut state = seed ^ fnv1a(server.as_str().as_bytes()) ^ (slot as u64).rotate_left(32);
    let high = splitmix64(&mut state);
    let low = splitmix64(&mut state);
    // 1 to 20 s late, never past the next expected time.
    let late = (1_000 + (low % 19_001) as i64).min(every / 2);
    RecoverySnapshot {
        // 17 hex digits: 4 from one word and 13 from the other.
        snapshot_id: format!("pit-{:04x}{:013x}", high >> 48, high & ((1 << 52) - 1)),
        source_server_id: server.clone(),
        expected_timestamp: expected,
        timestamp: Some(expected + chrono::Duration::milliseconds(late)),
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{mins, scenario, server, t0};
    use ripcord::time::after;

    fn ages(snapshots: &[RecoverySnapshot], now: Timestamp) -> Vec<i64> {
        snapshots
            .iter()
            .map(|s| (now - s.expected_timestamp).num_minutes())
            .collect()
    }

    #[test]
    fn snapshots_follow_the_schedule_newest_first_and_move_with_time() {
        let s = scenario("snapshots: { every: 10m, newest_age: 2m, retention: 1h }\n");
        let at_start = snapshots_of(&s, t0(), &server(1), t0(), (None, None));
        assert_eq!(ages(&at_start, t0()), [2, 12, 22, 32, 42, 52]);
        for pair in at_start.windows(2) {
            assert!(pair[0].taken_at() > pair[1].taken_at());
        }
        for snap in &at_start {
            let late = snap.taken_at() - snap.expected_timestamp;
            assert!((1..=20).contains(&late.num_seconds()), "{late}");
            assert!(snap.snapshot_id.starts_with("pit-") && snap.snapshot_id.len() == 21);
            assert_eq!(snap.source_server_id, server(1));
        }
        let later = after(t0(), mins(15));
        let moved = snapshots_of(&s, t0(), &server(1), later, (None, None));
        assert_eq!(ages(&moved, later), [7, 17, 27, 37, 47, 57]);
        assert_eq!(
            moved[1], at_start[0],
            "a snapshot keeps its id and times as time goes on"
        );
    }

    #[test]
    fn a_stale_server_takes_no_new_snapshots_and_none_means_none() {
        let s = scenario(
            "servers:\n  s-1234567890abcdef1: { replication: STALLED, newest_snapshot_age: 3h }\n  s-1234567890abcdef2: { snapshots: none }\n",
        );
        let later = after(t0(), mins(60));
        let stale = snapshots_of(&s, t0(), &server(1), later, (None, None));
        assert_eq!(
            ages(&stale, later)[0],
            240,
            "still the one from 3h before the start"
        );
        assert!(snapshots_of(&s, t0(), &server(2), later, (None, None)).is_empty());
        let healthy = snapshots_of(&s, t0(), &server(3), later, (None, None));
        assert_eq!(ages(&healthy, later)[0], 2);
        assert_eq!(
            healthy.len(),
            144,
            "a day of 10-minute snapshots by default"
        );
    }

    #[test]
    fn ids_depend_on_seed_and_server_and_filters_bound_the_time() {
        let s = scenario("seed: 7\n");
        let a = snapshots_of(&s, t0(), &server(1), t0(), (None, None));
        let b = snapshots_of(&s, t0(), &server(2), t0(), (None, None));
        let c = snapshots_of(&scenario("seed: 8\n"), t0(), &server(1), t0(), (None, None));
        assert_eq!(a, snapshots_of(&s, t0(), &server(1), t0(), (None, None)));
        assert_ne!(a[0].snapshot_id, b[0].snapshot_id);
        assert_ne!(a[0].snapshot_id, c[0].snapshot_id);
        let to = a[2].taken_at();
        let before = snapshots_of(&s, t0(), &server(1), t0(), (None, Some(to)));
        assert_eq!(before[0], a[2]);
        let from = a[4].taken_at();
        let window = snapshots_of(&s, t0(), &server(1), t0(), (Some(from), Some(to)));
        assert_eq!(window, a[2..=4]);
    }
}
