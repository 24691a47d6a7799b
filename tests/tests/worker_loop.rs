//! The receive loop around the step (workers/src/worker.rs), as a drill
//! sees it: a worker holds no more messages than it can run, and a step
//! that panics is counted and its message comes back at once, so the drill
//! completes as if the worker had crashed there.

use ripcord::event::Envelope;
use ripcord::ids::ExecutionId;
use ripcord::plan::load_plan;
use ripcord::ports::QueueName;
use ripcord::status_model::ExecutionStatus;
use ripcord_tests::faults::QueueFaults;
use ripcord_tests::recording::QueueLog;
use ripcord_tests::{Drill, example_scenario, examples};
use ripcord_workers::ports::Ports;
use ripcord_workers::telemetry::StepOutcome;
use ripcord_workers::worker::WorkerConfig;
use std::time::{Duration, Instant};

/// A received message waits for no free slot: its step, and the extension
/// of its visibility, start at once. Twenty starts arrive at once on a
/// worker that runs two steps at a time and receives up to ten a call: it
/// never holds more than two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_never_holds_more_messages_than_it_can_run() {
    let log = QueueLog::new();
    let recorded = log.clone();
    let config = WorkerConfig {
        concurrency: 2,
        batch: 10,
        ..WorkerConfig::default()
    };
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(config)
        .ports(move |p| Ports {
            queue: recorded.wrap(p.queue),
            ..p
        })
        .start()
        .await;
    let plan = load_plan(&examples().join("drill.yaml")).expect("the example plan is valid");
    let now = drill.engine.ports.clock.now();
    let starts: Vec<_> = (0..19)
        .map(|_| {
            Envelope::start_execution(ExecutionId::new_random(), plan.clone(), "test", false, now)
                .to_message(Duration::ZERO)
        })
        .collect();
    drill
        .queue()
        .send(QueueName::Launch, starts)
        .await
        .expect("send");
    let began = Instant::now();
    while log.acked_of_type("StartExecution") < 20 {
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the starts were not all handled within a minute ({} of 20)",
            log.acked_of_type("StartExecution")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        log.most_held(QueueName::Launch) <= 2,
        "the launch worker held {} messages at once with 2 permits",
        log.most_held(QueueName::Launch)
    );
}

/// A panic in a step is a bug, but one message must not take a slot, or
/// the drill, with it: the worker logs it with the message's ids, counts
/// it, and releases the message at once (not after its 60 s visibility
/// timeout), so the drill completes well within that time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_panics_is_counted_and_its_message_comes_back_at_once() {
    let faults = QueueFaults::new();
    faults.panic_on_first_send_of("StartWave");
    let config = WorkerConfig {
        visibility: Duration::from_secs(60),
        ..WorkerConfig::default()
    };
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(config)
        .queue_faults(&faults)
        .start()
        .await;
    // Not released, the message would come back only after 60 s.
    let view = drill
        .wait_for(
            "the drill to complete, its panicked message released",
            Duration::from_secs(45),
            |v| v.status == ExecutionStatus::Completed,
        )
        .await;
    let telemetry = drill.telemetry().expect("workers running");
    assert_eq!(
        telemetry.steps_ended(QueueName::Launch, StepOutcome::Panicked),
        1,
        "the panic is counted once"
    );
    assert!(
        view.waves
            .iter()
            .all(|w| w.servers.iter().all(|s| s.error_code.is_none()))
    );
}
