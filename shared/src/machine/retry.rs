//! Retry delays: capped exponential backoff with full jitter, computed in
//! the core and carried out as delayed messages. The jitter comes from the
//! event id, so `decide` stays a pure function.

use crate::ids::EventId;
use crate::plan::RetryPolicy;
use std::time::Duration;

/// The delay before try `tries + 1`, after `tries` failed tries (≥ 1).
/// Full jitter: uniform in [0, min(max, base·2^(tries-1))], but never less
/// than a quarter of that cap (so a storm spreads out yet keeps backing off)
/// and never less than the service's Retry-After.
pub fn backoff(
    policy: &RetryPolicy,
    tries: u32,
    retry_after: Option<Duration>,
    jitter_source: EventId,
) -> Duration {
    let exp = tries.saturating_sub(1).min(30);
    let cap = policy
        .base_delay
        .saturating_mul(1u32 << exp)
        .min(policy.max_delay);
    let fraction = 0.25 + 0.75 * jitter_source.unit_fraction(tries);
    let jittered = cap.mul_f64(fraction);
    match retry_after {
        Some(ra) => jittered.max(ra),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
            max_poll_errors: 5,
        }
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let id = EventId::new_random();
        for tries in 1..=12 {
            let cap = Duration::from_secs(2)
                .saturating_mul(1 << (tries - 1).min(30))
                .min(Duration::from_secs(60));
            let d = backoff(&policy(), tries, None, id);
            assert!(d <= cap, "try {tries}: {d:?} > {cap:?}");
            assert!(d >= cap / 4, "try {tries}: {d:?} < {:?}", cap / 4);
        }
    }

    #[test]
    fn retry_after_is_honoured() {
        let d = backoff(
            &policy(),
            1,
            Some(Duration::from_secs(30)),
            EventId::new_random(),
        );
        assert!(d >= Duration::from_secs(30));
    }

    #[test]
    fn jitter_spreads_a_storm() {
        let delays: std::collections::BTreeSet<_> = (0..50)
            .map(|_| backoff(&policy(), 4, None, EventId::new_random()).as_millis())
            .collect();
        assert!(
            delays.len() > 40,
            "jitter should spread retries: {delays:?}"
        );
    }
}
