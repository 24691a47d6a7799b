//! Retry delays: capped exponential backoff with full jitter, computed in
//! the core and carried out as delayed messages. The jitter comes from the
//! event id, so `decide` stays a pure function.

use crate::ids::EventId;
use crate::plan::RetryPolicy;
use crate::service_error::{ErrorClass, ServiceError};
use crate::time::Timestamp;
use std::time::Duration;

/// Whether a failed try is tried again. A permanent error never is.
/// Throttling means "slow down", not "this failed": it does not use up the
/// attempt budget and is retried for as long as the operation's own time
/// limit allows (`until`; none means the execution timeout bounds it).
/// Other retryable errors (5xx, network, no answer) are retried until
/// `max_attempts` tries have failed that way; `failed` counts them,
/// including this one.
pub fn may_retry(
    policy: &RetryPolicy,
    error: &ServiceError,
    failed: u32,
    until: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    match error.class {
        ErrorClass::Permanent => false,
        ErrorClass::Throttling => until.is_none_or(|limit| now < limit),
        ErrorClass::Transient => failed < policy.max_attempts,
    }
}

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
    fn throttling_is_bounded_by_time_not_by_tries() {
        let now: Timestamp = "2026-01-01T10:00:00Z".parse().expect("time");
        let later: Timestamp = "2026-01-01T10:05:00Z".parse().expect("time");
        let throttled = ServiceError::from_code("ssm", "SendCommand", "ThrottlingException", "");
        let five_xx = ServiceError::from_code("ssm", "SendCommand", "InternalServerError", "");
        let denied = ServiceError::from_code("ssm", "SendCommand", "AccessDeniedException", "");
        let p = policy();
        assert!(may_retry(&p, &throttled, 0, Some(later), now));
        assert!(may_retry(&p, &throttled, 0, None, now));
        assert!(!may_retry(&p, &throttled, 0, Some(now), later));
        assert!(may_retry(&p, &five_xx, 7, Some(later), now));
        assert!(!may_retry(&p, &five_xx, 8, Some(later), now));
        assert!(!may_retry(&p, &denied, 1, Some(later), now));
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
