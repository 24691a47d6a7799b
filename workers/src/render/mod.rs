//! How the CLI shows an execution: the final table printed when it settles,
//! the one-line progress for logs, and the live progress bars for a terminal.
//! Everything here is a function of an [`ExecutionView`]; only
//! [`LiveProgress`] writes anywhere.

mod digest;
mod line;
mod live;
mod operator;
mod preflight;
mod table;

pub use digest::Listing;
pub use line::progress_line;
pub use live::{LiveProgress, ProgressOutput};
pub use preflight::preflight_table;
pub use table::final_table;

use ripcord::status::ExecutionView;
use ripcord::time::Timestamp;
use serde::Serialize;
use std::time::Duration;

/// The name a status has in the JSON (`IN_PROGRESS`, `drill`, ...), so the
/// table and the JSON never disagree on a word.
fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_owned(),
    }
}

/// `1h 02m 03s`, `25m 00s`, `42s`.
fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m {sec:02}s"),
        (h, min, sec) => format!("{h}h {min:02}m {sec:02}s"),
    }
}

/// A wall-clock time of day in UTC, the zone every view time is in.
fn clock(t: Timestamp) -> String {
    t.format("%H:%M:%S").to_string()
}

/// How long something that started at `start` has run: to `end`, or to the
/// view's instant while it is still running.
fn elapsed(view: &ExecutionView, start: Timestamp, end: Option<Timestamp>) -> Duration {
    ripcord::time::between(start, end.unwrap_or(view.last_updated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::status_model::ExecutionStatus;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_secs(42)), "42s");
        assert_eq!(duration(Duration::from_secs(25 * 60)), "25m 00s");
        assert_eq!(duration(Duration::from_secs(3723)), "1h 02m 03s");
    }

    #[test]
    fn labels_are_the_json_names() {
        assert_eq!(label(&ExecutionStatus::InProgress), "IN_PROGRESS");
        assert_eq!(label(&ripcord::plan::Mode::Drill), "drill");
    }
}
