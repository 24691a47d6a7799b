//! Nothing stuck for ever, beyond poll chains (invariant 8,
//! docs/invariants.md; the sweep in docs/architecture.md): a drill that
//! loses the one message that would have moved a record on — a wave's
//! StartWave, a wave's WaveFinished, the check of a StartRecovery whose
//! answer was lost with its worker, the pre-flight's or the server claim's
//! tick whose answer was lost the same way, the retry of an action whose
//! SendCommand failed, the capacity tick of a wave waiting in line — is
//! found by the metrics
//! worker's sweep, nudged, announced, and ends as its scenario implies.
//! With the sweep's finds turned off, none of these drills settled within
//! the test's limit: each waited at least for its execution timeout (4
//! simulated hours), and a launching wave with no job for ever.
//! The nudge of a recorded StartRecovery intent adopts the job the lost
//! try created: one job per wave (invariant 2).

use async_trait::async_trait;
use ripcord::capacity::Quotas;
use ripcord::ports::announce::Announcement;
use ripcord::ports::ssm::{
    AgentInfo, CommandInvocation, CommandRunner, SendCommandRequest, SentCommand,
};
use ripcord::service_error::ServiceError;
use ripcord::status_model::ExecutionStatus;
use ripcord::time::Timestamp;
use ripcord_tests::faults::QueueFaults;
use ripcord_tests::{
    Drill, example_scenario, examples, fixtures, recovery_jobs_per_wave, wave_table,
};
use ripcord_workers::ports::Ports;
use ripcord_workers::worker::WorkerConfig;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Well past the drill's own time at the harness' 60x, with its stall and
/// the sweep's bound (at most six simulated minutes, 6 s); short of the
/// execution timeout (4 simulated hours, 4 min).
const LIMIT: Duration = Duration::from_secs(120);

/// How a message is lost: dropped after its send answered OK; with
/// `crash_first`, the step that first sends it panics there, after its
/// effect was performed and before the effect's answer was decided, and
/// the copy its redelivery sends from the journal is the one dropped.
struct Loss {
    event: &'static str,
    crash_first: bool,
    /// The sweep's name for it (`ripcord_worker_nudges_total{kind}`).
    kind: &'static str,
    /// SSM answers the drill's first SendCommand with a 500 (nothing sent),
    /// so that the action's retry is a message to lose.
    fail_first_send_command: bool,
    /// Which of the event's messages is lost (1: the first).
    nth: u64,
    /// Two waves side by side with one DRS job at a time allowed, instead
    /// of `drill.yaml`'s three waves: the second waits in line.
    side_by_side: bool,
}

impl Loss {
    fn of(event: &'static str, kind: &'static str) -> Self {
        Self {
            event,
            crash_first: false,
            kind,
            fail_first_send_command: false,
            nth: 1,
            side_by_side: false,
        }
    }
}

/// SSM whose first SendCommand fails with a 500 before anything is sent.
struct FirstSendFails {
    inner: Arc<dyn CommandRunner>,
    failed: AtomicBool,
}

#[async_trait]
impl CommandRunner for FirstSendFails {
    async fn send_command(
        &self,
        request: &SendCommandRequest,
    ) -> Result<SentCommand, ServiceError> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Err(ServiceError::from_code(
                "ssm",
                "SendCommand",
                "InternalServerError",
                "injected: the first SendCommand fails",
            ));
        }
        self.inner.send_command(request).await
    }

    async fn list_command_invocations(
        &self,
        command_id: &str,
    ) -> Result<Vec<CommandInvocation>, ServiceError> {
        self.inner.list_command_invocations(command_id).await
    }

    async fn find_commands(
        &self,
        comment: &str,
        since: Timestamp,
    ) -> Result<Vec<SentCommand>, ServiceError> {
        self.inner.find_commands(comment, since).await
    }

    async fn describe_instance_information(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<AgentInfo>, ServiceError> {
        self.inner.describe_instance_information(instance_ids).await
    }
}

/// Runs `drill.yaml` on the happy path losing `loss`, and checks that the
/// sweep healed it: COMPLETED, one job per wave, a nudge of its kind, one
/// stuck announcement naming it.
async fn healed(loss: Loss) {
    let faults = QueueFaults::new();
    if loss.crash_first {
        faults.panic_on_first_send_of(loss.event);
    }
    faults.lose_nth_of(loss.event, loss.nth);
    let config = WorkerConfig {
        // A sweep every 200 ms real: 12 simulated seconds at 60x.
        sweep_every: Duration::from_millis(200),
        ..WorkerConfig::default()
    };
    let queue_faults = faults.clone();
    let fail_ssm = loss.fail_first_send_command;
    let (plan, waves) = match loss.side_by_side {
        true => (fixtures().join("plans/side-by-side.yaml"), 2),
        false => (examples().join("drill.yaml"), 3),
    };
    let side_by_side = loss.side_by_side;
    let drill = Drill::builder(plan, example_scenario("happy-path.yaml"))
        .worker_config(config)
        .ports(move |ports| {
            let mut ports = Ports {
                queue: queue_faults.wrap(ports.queue),
                ..ports
            };
            if side_by_side {
                ports.quotas = Quotas {
                    concurrent_jobs: 1,
                    ..Quotas::default()
                };
            }
            if fail_ssm {
                ports.ssm = Arc::new(FirstSendFails {
                    inner: ports.ssm,
                    failed: AtomicBool::new(false),
                });
            }
            ports
        })
        .start()
        .await;
    let telemetry = drill.telemetry().expect("the workers run");
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(
        faults.lost().get(loss.event),
        Some(&1),
        "{}: the message was lost",
        loss.event
    );
    assert_eq!(
        view.status,
        ExecutionStatus::Completed,
        "{}: {:?}",
        loss.event,
        wave_table(&view)
    );
    let jobs = recovery_jobs_per_wave(&drill.engine.simulator);
    let one_each: BTreeMap<String, usize> = (1..=waves).map(|n| (n.to_string(), 1)).collect();
    assert_eq!(jobs, one_each, "{}: one job per wave", loss.event);
    assert!(
        telemetry.nudges(loss.kind) >= 1,
        "{}: the sweep sent no {} nudge",
        loss.event,
        loss.kind
    );
    let stuck: Vec<String> = drill
        .engine
        .backend
        .embedded_announcer()
        .announced()
        .expect("announcements")
        .into_iter()
        .filter_map(|a| match a {
            Announcement::WaveStuck { lost, .. } => lost,
            Announcement::ExecutionStuck { lost, .. } => Some(lost),
            _ => None,
        })
        .collect();
    assert_eq!(
        stuck.len(),
        1,
        "{}: one stuck announcement: {stuck:?}",
        loss.event
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_start_wave_is_found_by_the_sweep_and_the_wave_starts() {
    healed(Loss::of("StartWave", "start")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_wave_finished_is_reported_by_the_sweep_and_the_next_wave_runs() {
    healed(Loss::of("WaveFinished", "wave_finished")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_whose_answer_and_check_are_lost_adopts_its_job_through_the_sweep() {
    healed(Loss {
        crash_first: true,
        ..Loss::of("LaunchCheck", "launch")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preflight_whose_answer_and_tick_are_lost_is_asked_again_by_the_sweep() {
    healed(Loss {
        crash_first: true,
        ..Loss::of("CheckPreflight", "preflight")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_claim_whose_answer_and_tick_are_lost_is_asked_again_by_the_sweep() {
    healed(Loss {
        crash_first: true,
        ..Loss::of("ClaimServers", "claim")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_whose_send_failed_and_whose_retry_is_lost_is_retried_by_the_sweep() {
    healed(Loss {
        fail_first_send_command: true,
        ..Loss::of("RunAction", "post_launch_retry")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_wave_whose_capacity_tick_is_lost_asks_again_through_the_sweep() {
    // The first two AdmitWave are each wave's first tick (the admitted
    // wave's is ignored when it comes); the third is the waiting wave's
    // next tick, long before the first wave's launch (two minutes or more)
    // gives the job back.
    healed(Loss {
        nth: 3,
        side_by_side: true,
        ..Loss::of("AdmitWave", "admission")
    })
    .await;
}
