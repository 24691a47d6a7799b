//! The ETA against a drill whose launch times are known
//! (`tests/fixtures/scenarios/known-launch-times.yaml`: in every wave the
//! servers launch 15 s apart, a steady pace): taken every 10 simulated
//! seconds, the estimate must land near the real end from the first minutes
//! and must not recede (docs/status-model.md, `estimatedCompletion`).

use chrono::TimeDelta;
use ripcord::status::ExecutionView;
use ripcord::status_model::{ExecutionStatus, LaunchStatus};
use ripcord::time::Timestamp;
use ripcord_tests::{Drill, fixtures};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(120);

/// Every estimate given, from the first, is within this of the real end
/// (the drill takes about 14 minutes; with the plan's `health_timeout` as
/// the post-launch time, the first estimates were 42 minutes late).
const TOLERANCE: TimeDelta = TimeDelta::seconds(90);

/// The estimate never moves later by more than this between two samples.
const RECEDES_AT_MOST: TimeDelta = TimeDelta::seconds(90);

/// An estimate is taken every this much simulated time.
const EVERY: TimeDelta = TimeDelta::seconds(10);

struct Sample {
    outcomes: usize,
    at: Timestamp,
    eta: Option<Timestamp>,
    /// A server of the drill is HEALTHY: its post-launch time is known.
    healthy_seen: bool,
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
        if samples
            .last()
            .is_none_or(|s| view.last_updated - s.at >= EVERY)
        {
            samples.push(Sample {
                outcomes: launch_outcomes(&view),
                at: view.last_updated,
                eta: view.estimated_completion,
                healthy_seen: view
                    .waves
                    .iter()
                    .flat_map(|w| &w.servers)
                    .any(|s| s.healthy_time.is_some()),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(end.status, ExecutionStatus::Completed);
    let end_time = end.end_time.expect("a settled execution has ended");
    let report = report(&samples, end_time);
    let informed: Vec<&Sample> = samples.iter().filter(|s| s.healthy_seen).collect();
    assert!(informed.len() >= 30, "too few estimates taken:\n{report}");
    // Every estimate given, from the first, lands near the end...
    for (s, eta) in samples.iter().filter_map(|s| Some((s, s.eta?))) {
        assert!(
            (eta - end_time).abs() <= TOLERANCE,
            "the estimate at {} missed the end ({end_time}) by more than {}s:\n{report}",
            s.at,
            TOLERANCE.num_seconds()
        );
    }
    // ...and once a server is HEALTHY there is always one.
    assert!(
        informed.iter().all(|s| s.eta.is_some()),
        "no estimate after a server showed its post-launch time:\n{report}"
    );
    // Launches at a steady pace: the estimate never moves later by more
    // than the noise allows.
    let etas: Vec<Timestamp> = samples.iter().filter_map(|s| s.eta).collect();
    for pair in etas.windows(2) {
        assert!(
            pair[1] - pair[0] <= RECEDES_AT_MOST,
            "the estimate receded:\n{report}"
        );
    }
    println!("{report}");
}

/// One line per sample: what was out, the estimate and how far off it was.
fn report(samples: &[Sample], end_time: Timestamp) -> String {
    let lines: Vec<String> = samples
        .iter()
        .map(|s| {
            let eta = s.eta.map_or_else(
                || "none".to_owned(),
                |eta| {
                    format!(
                        "{} (off by {}s)",
                        eta.format("%H:%M:%S"),
                        (eta - end_time).num_seconds()
                    )
                },
            );
            format!(
                "{:2} out{}, at {} eta {eta}, {}s left",
                s.outcomes,
                if s.healthy_seen { ", healthy seen" } else { "" },
                s.at.format("%H:%M:%S"),
                (end_time - s.at).num_seconds()
            )
        })
        .collect();
    lines.join("\n")
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
