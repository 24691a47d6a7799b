//! Time as the core sees it: a UTC instant passed in by the caller (the core
//! never reads a clock) and a simulated time scale for drills in seconds.

use chrono::{DateTime, Utc};

/// The instant type used everywhere in records and events.
pub type Timestamp = DateTime<Utc>;

/// Adds a std duration to an instant, saturating instead of panicking.
pub fn after(t: Timestamp, d: std::time::Duration) -> Timestamp {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(t)
}

/// The time from `from` to `to`, zero when `to` is earlier.
pub fn between(from: Timestamp, to: Timestamp) -> std::time::Duration {
    (to - from).to_std().unwrap_or_default()
}
