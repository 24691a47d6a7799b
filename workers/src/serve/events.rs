//! `GET /api/executions/{id}/events`: the status as Server-Sent Events.
//!
//! One watcher per execution reads the store (every `watch_every`) for all
//! the browsers that follow it, and publishes the view when anything but
//! its `lastUpdated` changed. Each connection gets:
//! - `snapshot`: the whole view, first on every connection (a reconnecting
//!   browser starts from it, so nothing missed in between matters);
//! - `update`: the view with only the waves that changed since the event
//!   before (each wave whole; merge by `waveNumber`);
//! - `settled`: nothing will change any more; the stream then ends.

use super::error::{ApiError, parse_id, unknown_execution};
use super::state::{AppState, Observed};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use ripcord::ids::ExecutionId;
use ripcord::status::{ExecutionView, execution_status, is_settled};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{debug, warn};

/// Reads the execution's view now; `None` if there is no such execution.
pub async fn observe(state: &AppState, id: ExecutionId) -> Result<Option<Observed>, ApiError> {
    let Some(execution) = state.store.load_execution(id).await? else {
        return Ok(None);
    };
    let waves = state.store.load_waves(id).await?;
    Ok(Some(Observed {
        view: Arc::new(execution_status(
            &execution.record,
            &waves,
            state.clock.now(),
        )),
        // A drill clean-up under way still changes the view.
        settled: is_settled(&execution.record, &waves)
            && execution
                .record
                .cleanup
                .as_ref()
                .is_none_or(|c| c.ended_at.is_some()),
    }))
}

/// Follows execution `id`: a receiver of its views, starting with the
/// current one. A settled execution's receiver has no watcher behind it.
pub async fn subscribe(
    state: &AppState,
    id: ExecutionId,
) -> Result<watch::Receiver<Observed>, ApiError> {
    if let Some(rx) = state.watchers.lock().get(&id) {
        return Ok(rx.clone());
    }
    let first = observe(state, id)
        .await?
        .ok_or_else(|| unknown_execution(id))?;
    let settled = first.settled;
    let (tx, rx) = watch::channel(first);
    if settled {
        return Ok(rx);
    }
    let mut running = state.watchers.lock();
    // Another connection may have started one meanwhile: share it.
    if let Some(existing) = running.get(&id) {
        return Ok(existing.clone());
    }
    running.insert(id, rx.clone());
    tokio::spawn(watch_execution(state.clone(), id, tx));
    Ok(rx)
}

/// Publishes the view of `id` whenever it changes, until it settles or no
/// one follows it any more.
async fn watch_execution(state: AppState, id: ExecutionId, tx: watch::Sender<Observed>) {
    debug!(execution_id = %id, "watching");
    loop {
        tokio::time::sleep(state.watch_every).await;
        {
            let mut running = state.watchers.lock();
            // Receivers are cloned under this lock, so none can appear
            // between this check and the removal.
            if tx.receiver_count() <= 1 {
                running.remove(&id);
                debug!(execution_id = %id, "no one follows it any more");
                return;
            }
        }
        let observed = match observe(&state, id).await {
            Ok(Some(o)) => o,
            Ok(None) => {
                warn!(execution_id = %id, "the execution is gone from the store");
                break;
            }
            Err(e) => {
                warn!(execution_id = %id, error = %e.message, "could not read the execution; trying again");
                continue;
            }
        };
        let settled = observed.settled;
        tx.send_if_modified(|current| {
            let changed = current.settled != observed.settled
                || !same_apart_from_time(&current.view, &observed.view);
            if changed {
                *current = observed;
            }
            changed
        });
        if settled {
            break;
        }
    }
    state.watchers.lock().remove(&id);
}

/// Whether `b` tells a follower nothing `a` did not: the same statuses,
/// counts and waves, and an ETA in the same minute (the ETA moves with the
/// clock between changes; pushing it every read would redraw every page
/// twice a second for nothing).
fn same_apart_from_time(a: &ExecutionView, b: &ExecutionView) -> bool {
    let eta_minute =
        |v: &ExecutionView| v.estimated_completion.map(|t| t.timestamp().div_euclid(60));
    a.status == b.status
        && a.progress == b.progress
        && a.reason == b.reason
        && a.waiting_reason == b.waiting_reason
        && a.preflight == b.preflight
        && a.end_time == b.end_time
        && eta_minute(a) == eta_minute(b)
        && a.waves == b.waves
}

/// The view to send after `previous`: current top-level fields, and only
/// the waves that differ from `previous`.
pub fn update_after(previous: &ExecutionView, current: &ExecutionView) -> ExecutionView {
    let waves = current
        .waves
        .iter()
        .filter(|w| {
            previous
                .waves
                .iter()
                .find(|p| p.wave_number == w.wave_number)
                .is_none_or(|p| p != *w)
        })
        .cloned()
        .collect();
    ExecutionView {
        waves,
        ..current.clone()
    }
}

#[utoipa::path(
    get,
    path = "/api/executions/{id}/events",
    tag = "executions",
    params(("id" = String, Path, description = "The execution id (a UUID)")),
    responses(
        (status = 200, content_type = "text/event-stream",
         description = "Events `snapshot` (the whole view, first), `update` (the view with only the waves that changed; merge by waveNumber) and `settled` (nothing more will change; the stream ends). Each event's data is JSON."),
        (status = 404, description = "No such execution", body = super::error::ErrorBody),
    )
)]
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    state.auth.check_read(&headers)?;
    let id = parse_id(&id)?;
    let rx = subscribe(&state, id).await?;
    let stream = futures_util::stream::unfold(Follow::Start(rx), next_event);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Where a connection's stream is.
enum Follow {
    Start(watch::Receiver<Observed>),
    Following {
        rx: watch::Receiver<Observed>,
        sent: Arc<ExecutionView>,
        settled: bool,
    },
    Done,
}

async fn next_event(follow: Follow) -> Option<(Result<Event, Infallible>, Follow)> {
    match follow {
        Follow::Start(mut rx) => {
            let observed = rx.borrow_and_update().clone();
            let event = json_event("snapshot", &*observed.view);
            Some((
                Ok(event),
                Follow::Following {
                    rx,
                    sent: observed.view,
                    settled: observed.settled,
                },
            ))
        }
        Follow::Following {
            mut rx,
            sent,
            settled,
        } => {
            if settled {
                return Some((
                    Ok(json_event("settled", &serde_json::json!({}))),
                    Follow::Done,
                ));
            }
            if rx.changed().await.is_err() {
                // The watcher stopped. If the last view was not settled
                // (the store failed for good), end the stream: the browser
                // reconnects and starts again from a snapshot.
                let last = rx.borrow().clone();
                return last.settled.then(|| {
                    let update = update_after(&sent, &last.view);
                    (
                        Ok(json_event("update", &update)),
                        Follow::Following {
                            rx,
                            sent: last.view,
                            settled: true,
                        },
                    )
                });
            }
            let observed = rx.borrow_and_update().clone();
            let update = update_after(&sent, &observed.view);
            Some((
                Ok(json_event("update", &update)),
                Follow::Following {
                    rx,
                    sent: observed.view,
                    settled: observed.settled,
                },
            ))
        }
        Follow::Done => None,
    }
}

fn json_event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(data).expect("a view always serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::status_model::LaunchStatus;
    use ripcord::testing;

    #[test]
    fn an_update_holds_only_the_waves_that_changed() {
        let mut f = testing::mid_drill();
        let before = f.view();
        f.server_mut(2, 0).launch_status = LaunchStatus::Failed;
        let after = f.view();
        let update = update_after(&before, &after);
        assert_eq!(update.waves.len(), 1);
        assert_eq!(update.waves[0].wave_number.0, 2);
        assert_eq!(update.progress, after.progress);
        assert_eq!(update_after(&after, &after).waves.len(), 0);
    }

    #[test]
    fn an_eta_that_only_moved_with_the_clock_is_no_change() {
        let f = testing::mid_drill();
        let mut before = f.view();
        let minute = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a time");
        before.estimated_completion = Some(minute + chrono::TimeDelta::seconds(5));
        let mut later = before.clone();
        later.last_updated += chrono::TimeDelta::seconds(30);
        later.estimated_completion = Some(minute + chrono::TimeDelta::seconds(40));
        assert!(same_apart_from_time(&before, &later));
        later.estimated_completion = Some(minute + chrono::TimeDelta::seconds(70));
        assert!(!same_apart_from_time(&before, &later));
        later.estimated_completion = None;
        assert!(!same_apart_from_time(&before, &later));
    }

    #[test]
    fn the_preflight_answer_is_news_even_when_nothing_else_moved() {
        use ripcord::plan::PreflightMode;
        use ripcord::records::PreflightState;
        let mut f = testing::fresh();
        f.execution.preflight = PreflightState::Checking {
            tries: 1,
            mode: PreflightMode::Warn,
            last_error: None,
            throttled: 0,
            last_throttled: false,
            asked_at: None,
        };
        let checking = f.view();
        f.execution.preflight = PreflightState::Checking {
            tries: 2,
            mode: PreflightMode::Warn,
            last_error: Some("ThrottlingException".to_owned()),
            throttled: 0,
            last_throttled: false,
            asked_at: None,
        };
        let retrying = f.view();
        assert!(
            !same_apart_from_time(&checking, &retrying),
            "the waiting reason now says why it retries"
        );
        f.execution.preflight = PreflightState::Done {
            mode: PreflightMode::Warn,
            report: testing::preflight_report(),
        };
        let done = f.view();
        assert_eq!(done.status, checking.status);
        assert!(!same_apart_from_time(&retrying, &done));
        assert_eq!(
            update_after(&retrying, &done).preflight,
            done.preflight,
            "an update carries the findings"
        );
    }
}
