//! Nothing stuck for ever (invariant 8, docs/invariants.md; the sweep in
//! docs/architecture.md): a drill whose poll chain is broken — the message
//! carrying a launching wave's next poll is lost on its way, the send
//! having answered OK — is found by the metrics worker's sweep once that
//! poll is overdue past its bound, re-armed with a `NudgeWave`, announced
//! as `Ripcord Wave Stuck`, and completes; without the sweep the wave sat
//! LAUNCHING until its launch timeout's last look.

use ripcord::ports::announce::Announcement;
use ripcord::status_model::ExecutionStatus;
use ripcord_tests::faults::QueueFaults;
use ripcord_tests::{Drill, example_scenario, wave_table};
use ripcord_workers::worker::WorkerConfig;
use std::time::Duration;

/// Long enough for the drill at 60x with a stall of a simulated minute or
/// two; well under what the stalled wave would take to reach its launch
/// timeout (45 simulated minutes) and settle after it.
const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_whose_poll_message_is_lost_is_re_armed_by_the_sweep_and_completes() {
    let faults = QueueFaults::new();
    // The first poll any launching wave schedules never arrives: that wave's
    // chain is gone, and its pushed results wait for a poll that is "due".
    faults.lose_next_of("PollWave");
    let config = WorkerConfig {
        // A real-time sweep every 200 ms: the bound (a simulated minute
        // past due, the plan polls every 15 s) is one real second at 60x.
        sweep_every: Duration::from_millis(200),
        ..WorkerConfig::default()
    };
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(config)
        .queue_faults(&faults)
        .start()
        .await;
    let telemetry = drill.telemetry().expect("the workers run");
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(
        faults.lost().get("PollWave"),
        Some(&1),
        "the chain was broken"
    );
    assert_eq!(view.status, ExecutionStatus::Completed, "{view:#?}");
    let waves = drill.store().load_waves(drill.id).await.expect("waves");
    assert!(
        waves.iter().all(|w| !w.launch_timed_out),
        "a wave was moved only by its launch timeout's last look, not by the sweep: {:?}",
        wave_table(&view)
    );
    assert!(telemetry.waves_nudged() >= 1, "the sweep nudged nothing");
    let stuck: Vec<Announcement> = drill
        .engine
        .backend
        .embedded_announcer()
        .announced()
        .expect("announcements")
        .into_iter()
        .filter(|a| matches!(a, Announcement::WaveStuck { .. }))
        .collect();
    assert_eq!(stuck.len(), 1, "one Ripcord Wave Stuck: {stuck:#?}");
}
