//! How the report writes numbers and instants for people: durations as
//! `1h 2m 3s`, instants as `2025-03-14 09:00:00 UTC`, times within the
//! execution as `T+12m 30s` (since the execution started). The JSON keeps
//! exact seconds; these are for the Markdown, HTML and SVG renderings.

use crate::time::Timestamp;

/// Seconds from `from` to `to` (negative if `to` is earlier), to the ms.
pub fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// Rounds seconds to the millisecond (keeps the JSON free of float noise).
pub fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// `0s`, `4.5s` (under 10 s), `45s`, `3m 10s`, `1h 2m 3s`, `2d 3h 4m`.
pub fn duration(seconds: f64) -> String {
    if seconds < 0.0 {
        return format!("-{}", duration(-seconds));
    }
    if seconds < 10.0 {
        let tenths = (seconds * 10.0).round() / 10.0;
        return if tenths.fract() == 0.0 {
            format!("{tenths:.0}s")
        } else {
            format!("{tenths:.1}s")
        };
    }
    let total = seconds.round() as u64;
    let (d, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m {s}s"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

/// `2025-03-14 09:00:00 UTC`.
pub fn instant(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `T+12m 30s`: the time of `t` since `start` (`T-…` before it).
pub fn offset(start: Timestamp, t: Timestamp) -> String {
    let s = seconds_between(start, t);
    if s < 0.0 {
        format!("T{}", duration(s))
    } else {
        format!("T+{}", duration(s))
    }
}

/// A snapshot's age at launch: `3m 10s`, or when it was taken after the
/// launch started (a negative age), says so.
pub fn snapshot_age(seconds: f64) -> String {
    if seconds < 0.0 {
        format!("taken {} after the launch started", duration(-seconds))
    } else {
        duration(seconds)
    }
}

/// A status as the JSON shows it (`COMPLETED`, `POST_ACTIONS`).
pub fn status<T: serde::Serialize>(value: T) -> String {
    crate::status_model::name(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, t0};

    #[test]
    fn durations_read_like_a_person_writes_them() {
        let cases = [
            (0.0, "0s"),
            (4.5, "4.5s"),
            (9.96, "10s"),
            (45.0, "45s"),
            (190.4, "3m 10s"),
            (3723.0, "1h 2m 3s"),
            (2.0 * 86_400.0 + 3.0 * 3600.0 + 4.0 * 60.0 + 5.0, "2d 3h 4m"),
            (-300.0, "-5m 0s"),
        ];
        for (seconds, text) in cases {
            assert_eq!(duration(seconds), text, "{seconds}");
        }
    }

    #[test]
    fn instants_and_offsets() {
        assert_eq!(instant(t0()), "2025-03-14 09:00:00 UTC");
        assert_eq!(offset(t0(), at(12, 30)), "T+12m 30s");
        assert_eq!(offset(at(1, 0), t0()), "T-1m 0s");
        assert_eq!(seconds_between(at(0, 40), at(8, 20)), 460.0);
    }
}
