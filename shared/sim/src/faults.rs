//! Error injection: a seeded share of calls is answered ThrottlingException
//! (429, with a Retry-After) or InternalServerException (500), limited to the
//! operations and the window of simulated time the scenario names. The same
//! seed and the same sequence of calls give the same faults. The injector
//! holds only its generator (part of the simulated world, stored with it);
//! the scenario's `faults` settings are passed to each draw.

use super::scenario::{Faults, Operation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ripcord::service_error::ServiceError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Keeps fault draws apart from the generator that makes ids and launch
/// times, so turning faults on does not change the rest of a run.
const FAULT_STREAM_SALT: u64 = 0x6661_756c_7473; // "faults"

pub const THROTTLING: &str = "ThrottlingException";
pub const INTERNAL_SERVER: &str = "InternalServerException";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct FaultInjector {
    rng: ChaCha8Rng,
}

impl FaultInjector {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed ^ FAULT_STREAM_SALT),
        }
    }

    /// Whether faults may hit `operation` at `elapsed` since the start.
    fn applies(config: &Faults, operation: Operation, elapsed: Duration) -> bool {
        let listed = config
            .operations
            .as_ref()
            .is_none_or(|ops| ops.contains(&operation));
        let after_from = config.from.is_none_or(|from| elapsed >= from);
        let before_until = config.until.is_none_or(|until| elapsed < until);
        listed && after_from && before_until
    }

    /// Whether one pushed launch result is lost on the way
    /// (`faults.drop_launch_results`). Draws only when the rate is set, so
    /// a run without it keeps its sequence of call faults.
    pub(crate) fn drops_push(&mut self, config: &Faults) -> bool {
        let rate = config.drop_launch_results.0;
        rate > 0.0 && self.rng.random::<f64>() < rate
    }

    /// The fault for one call, if it gets one.
    pub(crate) fn draw(
        &mut self,
        config: &Faults,
        operation: Operation,
        elapsed: Duration,
    ) -> Option<ServiceError> {
        let throttle = config.throttling_rate.0;
        let server = config.server_error_rate.0;
        if throttle + server <= 0.0 || !Self::applies(config, operation, elapsed) {
            return None;
        }
        let roll: f64 = self.rng.random();
        let (service, name) = (operation.service(), operation.as_str());
        if roll < throttle {
            Some(
                ServiceError::from_code(service, name, THROTTLING, "Rate exceeded (simulated)")
                    .with_retry_after(config.retry_after),
            )
        } else if roll < throttle + server {
            Some(ServiceError::from_code(
                service,
                name,
                INTERNAL_SERVER,
                "Internal server error (simulated)",
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Fraction;
    use ripcord::service_error::ErrorClass;

    fn storm(throttle: f64, server: f64) -> Faults {
        Faults {
            throttling_rate: Fraction(throttle),
            server_error_rate: Fraction(server),
            ..Faults::default()
        }
    }

    #[test]
    fn rates_are_roughly_honoured() {
        let config = storm(0.2, 0.1);
        let mut f = FaultInjector::new(7);
        let (mut throttled, mut failed) = (0, 0);
        for _ in 0..10_000 {
            match f.draw(&config, Operation::DescribeJobs, Duration::ZERO) {
                Some(e) if e.code == THROTTLING => {
                    assert_eq!(e.class, ErrorClass::Throttling);
                    assert_eq!(e.retry_after, Some(Duration::from_secs(1)));
                    throttled += 1;
                }
                Some(e) => {
                    assert_eq!(e.code, INTERNAL_SERVER);
                    assert_eq!(e.class, ErrorClass::Transient);
                    assert_eq!(e.service, "drs");
                    failed += 1;
                }
                None => {}
            }
        }
        assert!((1800..2200).contains(&throttled), "{throttled}");
        assert!((850..1150).contains(&failed), "{failed}");
    }

    #[test]
    fn pushes_are_dropped_at_their_rate_and_only_when_asked() {
        let mut f = FaultInjector::new(3);
        let none = Faults::default();
        assert!((0..1000).all(|_| !f.drops_push(&none)));
        let quarter = Faults {
            drop_launch_results: Fraction(0.25),
            ..Faults::default()
        };
        let dropped = (0..10_000).filter(|_| f.drops_push(&quarter)).count();
        assert!((2300..2700).contains(&dropped), "{dropped}");
    }

    #[test]
    fn same_seed_same_faults() {
        let run = |seed| {
            let config = storm(0.3, 0.3);
            let mut f = FaultInjector::new(seed);
            (0..200)
                .map(|_| {
                    f.draw(&config, Operation::SendCommand, Duration::ZERO)
                        .map(|e| e.code)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

    #[test]
    fn faults_stay_in_their_operations_and_window() {
        let config = Faults {
            operations: Some(vec![Operation::StartRecovery]),
            from: Some(Duration::from_secs(60)),
            until: Some(Duration::from_secs(120)),
            ..storm(1.0, 0.0)
        };
        let mut f = FaultInjector::new(1);
        let secs = Duration::from_secs;
        let mut draw = |op, at| f.draw(&config, op, secs(at));
        assert!(draw(Operation::StartRecovery, 59).is_none());
        assert!(draw(Operation::StartRecovery, 60).is_some());
        assert!(draw(Operation::StartRecovery, 119).is_some());
        assert!(draw(Operation::StartRecovery, 120).is_none());
        assert!(draw(Operation::DescribeJobs, 90).is_none());
    }
}
