//! The clock: the core never reads one, workers and adapters do, through
//! this port. A scaled clock lets a 20-minute drill run in seconds: recorded
//! times and delays are simulated time, and `to_real` converts a simulated
//! wait into the wall-clock wait a queue or timer should use.

use crate::time::Timestamp;
use std::time::{Duration, Instant};

pub trait Clock: Send + Sync {
    /// The current (possibly simulated) instant.
    fn now(&self) -> Timestamp;
    /// The wall-clock duration that `simulated` takes on this clock.
    fn to_real(&self, simulated: Duration) -> Duration;
    /// Simulated seconds per real second.
    fn scale(&self) -> f64 {
        1.0
    }
}

/// Real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
    fn to_real(&self, simulated: Duration) -> Duration {
        simulated
    }
}

/// Simulated time running `scale` times faster than the wall clock, from a
/// start instant.
#[derive(Clone, Debug)]
pub struct ScaledClock {
    origin_real: Instant,
    origin: Timestamp,
    scale: f64,
}

impl ScaledClock {
    /// `scale` must be positive; 60.0 runs a simulated minute per real second.
    pub fn new(origin: Timestamp, scale: f64) -> Self {
        assert!(scale > 0.0, "time scale must be positive");
        Self {
            origin_real: Instant::now(),
            origin,
            scale,
        }
    }

    /// A clock that showed `simulated_origin` at the real UTC instant
    /// `real_origin` and has run `scale` times real time since. Processes
    /// that build their clocks from the same origins agree on simulated
    /// time (to the precision of their wall clocks), which is how several
    /// processes share one simulated world.
    pub fn continuing(real_origin: Timestamp, simulated_origin: Timestamp, scale: f64) -> Self {
        assert!(scale > 0.0, "time scale must be positive");
        let origin_real = Instant::now();
        let real_elapsed = chrono::Utc::now() - real_origin;
        // Nanoseconds as f64 keep 1 µs precision for 100+ days of real time.
        let simulated_nanos = real_elapsed.num_nanoseconds().unwrap_or(i64::MAX) as f64 * scale;
        let simulated_elapsed = chrono::Duration::nanoseconds(simulated_nanos as i64);
        Self {
            origin_real,
            origin: simulated_origin
                .checked_add_signed(simulated_elapsed)
                .unwrap_or(simulated_origin),
            scale,
        }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.origin_real.elapsed().mul_f64(self.scale);
        crate::time::after(self.origin, elapsed)
    }
    fn to_real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }
    fn scale(&self) -> f64 {
        self.scale
    }
}

/// A clock that moves only when told: tests set or advance it and then look
/// at what the adapters report. Waits converted by `to_real` keep their
/// simulated length (scale 1), so a test drives steps instead of sleeping.
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<Timestamp>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: std::sync::Mutex::new(start),
        }
    }

    /// Moves the clock to `t` (backwards too, for a test that needs it).
    pub fn set(&self, t: Timestamp) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = crate::time::after(*now, d);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn to_real(&self, simulated: Duration) -> Duration {
        simulated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_runs_faster() {
        let c = ScaledClock::new(chrono::Utc::now(), 60.0);
        assert_eq!(c.to_real(Duration::from_secs(60)), Duration::from_secs(1));
        let a = c.now();
        std::thread::sleep(Duration::from_millis(20));
        let b = c.now();
        assert!((b - a).num_milliseconds() >= 1000);
    }

    #[test]
    fn clocks_continuing_one_origin_agree() {
        // A world that started 10 real seconds ago at 60x is 10 simulated
        // minutes past its simulated start.
        let real_origin = chrono::Utc::now() - chrono::Duration::seconds(10);
        let simulated_origin = real_origin + chrono::Duration::days(3);
        let a = ScaledClock::continuing(real_origin, simulated_origin, 60.0);
        let elapsed = a.now() - simulated_origin;
        assert!(
            (599_000..602_000).contains(&elapsed.num_milliseconds()),
            "{elapsed}"
        );
        // A second process opening the same world later sees the same time.
        std::thread::sleep(Duration::from_millis(20));
        let b = ScaledClock::continuing(real_origin, simulated_origin, 60.0);
        let skew = (b.now() - a.now()).num_milliseconds().abs();
        assert!(skew < 200, "clocks differ by {skew} simulated ms");
        assert_eq!(b.scale(), 60.0);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = chrono::Utc::now();
        let c = ManualClock::new(start);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.now(), start);
        c.advance(Duration::from_secs(90));
        assert_eq!((c.now() - start).num_seconds(), 90);
        c.set(start);
        assert_eq!(c.now(), start);
    }
}
