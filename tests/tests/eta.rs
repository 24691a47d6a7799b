//! The ETA against a drill whose launch times are known
//! (`tests/fixtures/scenarios/known-launch-times.yaml`: in every wave the
//! servers launch 15 s apart, a steady pace): taken every 30 simulated
//! seconds, the estimate must land near the real end and must not recede
//! (docs/status-model.md, `estimatedCompletion`).

use chrono::TimeDelta;
use ripcord::status::ExecutionView;
use ripcord::status_model::{ExecutionStatus, LaunchStatus, WaveStatus};
use ripcord::time::Timestamp;
use ripcord_tests::{Drill, fixtures};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(120);

/// Once a wave has finished, an estimate is within this share of the time
/// then left...
const TOLERANCE_SHARE: f64 = 0.2;
/// ...or this much, whichever is larger (a poll interval or two of noise).
const TOLERANCE_FLOOR: TimeDelta = TimeDelta::seconds(90);

/// An estimate is taken every this much simulated time.
const EVERY: TimeDelta = TimeDelta::seconds(30);

struct Sample {
    outcomes: usize,
    at: Timestamp,
    eta: Timestamp,
    wave_finished: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eta_lands_near_the_end_and_does_not_recede() {
    let drill = Drill::start(
        fixtures().join("plans/known-durations.yaml"),
        fixtures().join("scenarios/known-launch-times.yaml"),
    )
    .await;
    let mut samples: Vec<Sample> = Vec::new();
    let deadline = Instant::now() + LIMIT;
    let end = loop {
        assert!(Instant::now() < deadline, "the drill did not settle");
        let Some((view, settled)) = drill.view().await else {
            continue;
        };
        if settled {
            break view;
        }
        let due = samples
            .last()
            .is_none_or(|s| view.last_updated - s.at >= EVERY);
        if due && let Some(eta) = view.estimated_completion {
            samples.push(Sample {
                outcomes: launch_outcomes(&view),
                at: view.last_updated,
                eta,
                wave_finished: view.waves.iter().any(|w| w.status == WaveStatus::Completed),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(end.status, ExecutionStatus::Completed);
    let end_time = end.end_time.expect("a settled execution has ended");
    let report: Vec<String> = samples
        .iter()
        .map(|s| {
            format!(
                "{:2} out, at {} eta {} (off by {}s, {}s left)",
                s.outcomes,
                s.at.format("%H:%M:%S"),
                s.eta.format("%H:%M:%S"),
                (s.eta - end_time).num_seconds(),
                (end_time - s.at).num_seconds()
            )
        })
        .collect();
    let report = report.join("\n");
    let learned: Vec<&Sample> = samples.iter().filter(|s| s.wave_finished).collect();
    assert!(learned.len() >= 10, "too few estimates taken:\n{report}");
    for s in &learned {
        let left = end_time - s.at;
        let tolerance = TOLERANCE_FLOOR.max(TimeDelta::milliseconds(
            (left.num_milliseconds() as f64 * TOLERANCE_SHARE) as i64,
        ));
        assert!(
            (s.eta - end_time).abs() <= tolerance,
            "an estimate missed the end ({end_time}) by more than {}s:\n{report}",
            tolerance.num_seconds()
        );
    }
    // Before any wave has finished the post-launch time is the plan's
    // bound: the estimate may be late, never early.
    for s in samples.iter().filter(|s| !s.wave_finished) {
        assert!(
            s.eta >= end_time - TOLERANCE_FLOOR,
            "an early estimate before any wave finished:\n{report}"
        );
    }
    // Launches at a steady pace: the estimate never moves later by more
    // than the noise allows.
    for pair in samples.windows(2) {
        assert!(
            pair[1].eta - pair[0].eta <= TOLERANCE_FLOOR,
            "the estimate receded:\n{report}"
        );
    }
    println!("{report}");
}

/// Servers with a launch outcome (LAUNCHED, COMPLETED or FAILED).
fn launch_outcomes(view: &ExecutionView) -> usize {
    view.waves
        .iter()
        .flat_map(|w| &w.servers)
        .filter(|s| {
            s.launch_status != LaunchStatus::Pending && s.launch_status != LaunchStatus::Launching
        })
        .count()
}
