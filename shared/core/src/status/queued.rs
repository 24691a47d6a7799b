//! The view of an execution that is queued, not yet started: its start was
//! submitted (a [`Submission`] marker) but no launch worker has decided it,
//! so there is no execution record yet. `ripcord status`, `GET
//! /api/executions/{id}` (202) and the dashboard show it; once the launch
//! worker creates the execution, they show the execution instead.

use crate::ids::ExecutionId;
use crate::plan::Mode;
use crate::ports::Submission;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What a reader sees before the first launch worker takes a start up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QueuedView {
    pub execution_id: ExecutionId,
    /// Always `QUEUED`: not an execution status (there is no execution
    /// record yet), so it never appears in listings or transitions.
    pub status: QueuedStatus,
    pub plan_name: String,
    pub mode: Mode,
    pub requested_by: String,
    pub submitted_at: Timestamp,
    /// When a launch worker last polled this deployment's launch queue
    /// (wall-clock time; absent: none in the last day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_worker_last_poll: Option<Timestamp>,
    /// What to check, in a sentence: is a launch worker running there?
    pub what_to_check: String,
    /// The instant the view was built.
    pub last_updated: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueuedStatus {
    Queued,
}

/// A launch worker whose last poll is older than this is probably not
/// running any more (workers poll at least every 20 s).
pub const LAUNCH_POLL_STALE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// The view of `submission` as of `now`, given the latest poll of any
/// launch worker (`wall_now` is real time: heartbeats are), on the
/// deployment `deployment` names ("ripcord.db", "AWS (prefix ripcord)").
pub fn queued_view(
    submission: &Submission,
    launch_worker_last_poll: Option<Timestamp>,
    deployment: &str,
    now: Timestamp,
    wall_now: Timestamp,
) -> QueuedView {
    let what_to_check = match launch_worker_last_poll {
        None => format!(
            "no launch worker has polled {deployment} in the last day: start one there (`ripcord worker launch` on the same database or deployment, or `ripcord serve --workers`); the execution starts when it takes this up"
        ),
        Some(poll) if wall_now - poll > LAUNCH_POLL_STALE => format!(
            "the last launch worker polled {deployment} {} ago: is a `ripcord worker launch` still running there?",
            ago(wall_now - poll)
        ),
        Some(poll) => format!(
            "a launch worker polled {deployment} {} ago and should take this up shortly; if it stays queued, `ripcord dlq list launch` shows whether its start failed",
            ago(wall_now - poll)
        ),
    };
    QueuedView {
        execution_id: submission.execution_id,
        status: QueuedStatus::Queued,
        plan_name: submission.plan_name.clone(),
        mode: submission.mode,
        requested_by: submission.requested_by.clone(),
        submitted_at: submission.submitted_at,
        launch_worker_last_poll,
        what_to_check,
        last_updated: now,
    }
}

/// `42 s`, `3 min`, `5 h`.
fn ago(age: chrono::TimeDelta) -> String {
    let s = age.num_seconds().max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn submission() -> Submission {
        Submission {
            execution_id: ExecutionId(uuid::Uuid::from_u128(0x7e57)),
            plan_name: "payments-drill".into(),
            mode: Mode::Drill,
            requested_by: "alice".into(),
            submitted_at: at("2026-12-06T10:00:00Z"),
        }
    }

    #[test]
    fn what_to_check_follows_the_launch_workers_last_poll() {
        let now = at("2026-12-06T10:01:00Z");
        let check = |poll: Option<&str>| {
            let view = queued_view(&submission(), poll.map(at), "drill.db", now, now);
            assert_eq!(view.status, QueuedStatus::Queued);
            view.what_to_check
        };
        let none = check(None);
        assert!(
            none.starts_with("no launch worker has polled drill.db"),
            "{none}"
        );
        let stale = check(Some("2026-12-06T09:50:00Z"));
        let expected = "polled drill.db 11 min ago: is a `ripcord worker launch` still running";
        assert!(stale.contains(expected), "{stale}");
        let live = check(Some("2026-12-06T10:00:55Z"));
        assert!(
            live.contains("5 s ago and should take this up shortly"),
            "{live}"
        );
    }

    #[test]
    fn queued_json_snapshot() {
        let now = at("2026-12-06T10:01:00Z");
        let poll = Some(at("2026-12-06T10:00:55Z"));
        insta::assert_json_snapshot!(queued_view(&submission(), poll, "drill.db", now, now));
    }
}
