//! Invariants 3, 4 and 5 (docs/invariants.md) at the level of worker steps, each a
//! drill: the example plan on the simulator, with the queue and the store
//! failing at the worst moments, messages delivered twice, and bad input
//! sent to a running engine. (Property tests of the pure `decide` live
//! with the state machine.)

use ripcord::event::{Envelope, Event};
use ripcord::ids::{EventId, ExecutionId, WaveNumber};
use ripcord::machine::Effect;
use ripcord::ports::QueueName;
use ripcord::ports::Receive;
use ripcord::ports::dead_letters::DeadMessage;
use ripcord::ports::drs::DrsLaunchStatus;
use ripcord::ports::queue::{OutgoingMessage, ReceivedMessage};
use ripcord::records::LaunchState;
use ripcord::status_model::{ExecutionStatus, LaunchStatus, WaveStatus};
use ripcord_sim::Operation;
use ripcord_sim::StartOutcome;
use ripcord_tests::faults::{QueueFaults, StoreFaults};
use ripcord_tests::manual::{ManualDrill, Records};
use ripcord_tests::recording::{QueueLog, SentMessage};
use ripcord_tests::{
    Drill, example_scenario, examples, inline_scenario, recovery_jobs_per_wave, server_table,
    wave_table,
};
use ripcord_workers::effects;
use ripcord_workers::ports::Ports;
use ripcord_workers::worker::WorkerConfig;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

/// A message a worker failed to delete comes back after 300 ms.
fn quick_redelivery() -> WorkerConfig {
    WorkerConfig {
        visibility: Duration::from_millis(300),
        wait: Duration::from_millis(200),
        ..WorkerConfig::default()
    }
}

fn one_job_per_wave() -> BTreeMap<String, usize> {
    BTreeMap::from([("1".into(), 1), ("2".into(), 1), ("3".into(), 1)])
}

fn rows(rows: &[&str]) -> Vec<String> {
    rows.iter().map(|s| s.to_string()).collect()
}

async fn assert_no_dead_messages(drill: &Drill) {
    for queue in QueueName::ALL {
        let dead = drill.dead_letters().list_dead(queue).await.unwrap();
        assert!(dead.is_empty(), "the {queue} DLQ holds {dead:#?}");
    }
}

/// Asserts the happy-path drill ended as it does without faults.
fn assert_completed_drill(view: &ripcord::status::ExecutionView) {
    assert_eq!(
        view.status,
        ExecutionStatus::Completed,
        "{}",
        serde_json::to_string_pretty(view).unwrap()
    );
    assert_eq!(
        wave_table(view),
        rows(&[
            "databases COMPLETED",
            "app-tier COMPLETED",
            "web-tier COMPLETED"
        ])
    );
    assert!(
        server_table(view).iter().all(|r| r.ends_with(" COMPLETED")),
        "{:#?}",
        server_table(view)
    );
}

// ---- Invariant 3: no event is lost ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_whose_send_fails_right_after_the_save_are_sent_again_from_the_journal() {
    // Each of these events fails its first send, after the step that decided
    // it saved its record and performed its effects: only the journal still
    // knows it, and the redelivered message sends it again.
    let faults = QueueFaults::new();
    let every = ["StartWave", "WaveFinished", "PublishMetrics"];
    for kind in every {
        faults.fail_first_send_of(kind);
    }
    // These chain (each poll schedules the next): one failure each.
    let once = ["LaunchCheck", "PollWave", "CheckPostLaunch"];
    for kind in once {
        faults.fail_next_send_of(kind);
    }
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(quick_redelivery())
        .queue_faults(&faults)
        .start()
        .await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_completed_drill(&view);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        one_job_per_wave()
    );
    let injected = faults.injected();
    for kind in every.iter().chain(&once) {
        assert!(
            injected.get(*kind).copied().unwrap_or(0) >= 1,
            "no send of {kind} failed: {injected:?}"
        );
    }
    assert!(injected["StartWave"] >= 3, "{injected:?}");
    assert!(injected["WaveFinished"] >= 3, "{injected:?}");
    assert_no_dead_messages(&drill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_checks_whose_follow_up_send_fails_still_call_start_recovery() {
    let faults = QueueFaults::new();
    faults.fail_first_send_of("LaunchCheck");
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(quick_redelivery())
        .queue_faults(&faults)
        .start()
        .await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert!(
        drill.engine.simulator.call_count(Operation::StartRecovery) > 0,
        "StartRecovery was never called, yet wave 1 says: {:?}",
        view.waves[0].reason
    );
    assert_completed_drill(&view);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        one_job_per_wave()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_failing_at_arbitrary_points_lose_nothing() {
    let faults = QueueFaults::new();
    let schedule = [2, 5, 9, 14, 20, 27, 35, 44, 54, 65, 77, 90];
    for n in schedule {
        faults.fail_nth_send(n);
    }
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(quick_redelivery())
        .queue_faults(&faults)
        .start()
        .await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_completed_drill(&view);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        one_job_per_wave()
    );
    let failed: u64 = faults.injected().values().sum();
    assert!(
        failed >= schedule.len() as u64,
        "every scheduled failure happened: {:?}",
        faults.injected()
    );
    assert_no_dead_messages(&drill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_that_fail_after_writing_are_redelivered_as_duplicates_and_complete() {
    // The write lands, the answer is lost: the worker believes the save
    // failed, sends nothing, performs nothing, and leaves the message.
    let faults = StoreFaults::new();
    faults.fail_create_after_write();
    faults.fail_wave_save_after_write(WaveStatus::Launching);
    faults.fail_wave_save_after_write(WaveStatus::PostActions);
    faults.fail_wave_save_after_write(WaveStatus::Completed);
    faults.fail_execution_save_after_write();
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(quick_redelivery())
        .store_faults(&faults)
        .start()
        .await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_completed_drill(&view);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        one_job_per_wave(),
        "a StartWave whose save 'failed' is found a duplicate; its LaunchCheck starts the one job"
    );
    let injected = faults.injected();
    assert_eq!(injected.get("create_execution"), Some(&1), "{injected:?}");
    assert_eq!(
        injected.get("save_wave"),
        Some(&9),
        "three statuses in each of three waves: {injected:?}"
    );
    assert!(
        injected.get("save_execution").copied().unwrap_or(0) >= 3,
        "{injected:?}"
    );
    assert_no_dead_messages(&drill).await;
}

// ---- Invariant 4: processing the same message twice changes nothing ----

fn ids(messages: &[SentMessage]) -> BTreeSet<EventId> {
    messages
        .iter()
        .map(|m| m.event_id.expect("workers send envelopes"))
        .collect()
}

fn types(messages: &[SentMessage]) -> Vec<String> {
    let mut t: Vec<String> = messages.iter().map(|m| m.event_type.clone()).collect();
    t.sort();
    t
}

/// Processes `message`, a copy of an event already processed, and asserts
/// it changed nothing: the same records (versions included), no new
/// StartRecovery or SendCommand, nothing sent but events sent before, and
/// the message acknowledged. Returns what it sent again.
async fn deliver_again_changes_nothing(
    drill: &ManualDrill,
    queue: QueueName,
    message: ReceivedMessage,
) -> Vec<SentMessage> {
    let envelope = Envelope::decode(&message.body).unwrap();
    let what = format!("a second {}", envelope.event.type_name());
    let before = drill.records().await;
    let sim = &drill.engine.simulator;
    let starts = sim.call_count(Operation::StartRecovery);
    let commands = sim.call_count(Operation::SendCommand);
    let known = ids(&drill.log.sent());
    let acked = drill.log.times_acked_event(envelope.event_id);
    let mark = drill.log.sent_count();

    drill.process(queue, message).await;

    assert!(
        drill.records().await == before,
        "{what} changed the records"
    );
    assert_eq!(
        sim.call_count(Operation::StartRecovery),
        starts,
        "{what} called StartRecovery"
    );
    assert_eq!(
        sim.call_count(Operation::SendCommand),
        commands,
        "{what} sent an SSM command"
    );
    let sent = drill.sent_since(mark);
    let new: Vec<&SentMessage> = sent
        .iter()
        .filter(|m| !known.contains(&m.event_id.unwrap()))
        .collect();
    assert!(new.is_empty(), "{what} sent new events: {new:#?}");
    assert_eq!(
        drill.log.times_acked_event(envelope.event_id),
        acked + 1,
        "{what} was acknowledged"
    );
    sent
}

/// Delivers `first` (never processed), then the very same body again:
/// the second delivery changes nothing and re-sends exactly the journaled
/// follow-ups, with the ids the first delivery sent them with. Each of
/// those is then queued twice; its first copy applies and its second is
/// dropped as a duplicate.
async fn deliver_twice(
    drill: &ManualDrill,
    queue: QueueName,
    first: ReceivedMessage,
    expected_follow_ups: &[&str],
) {
    let body = first.body.clone();
    let envelope = Envelope::decode(&body).unwrap();
    let mark = drill.log.sent_count();
    drill.process(queue, first).await;
    let first_sends = ids(&drill.sent_since(mark));
    let journaled = drill
        .journaled_follow_ups(&envelope)
        .await
        .expect("the first delivery applied and journaled the event");

    let again = drill.redeliver(queue, &body).await;
    let resent = deliver_again_changes_nothing(drill, queue, again).await;

    let mut expected = rows(expected_follow_ups);
    expected.sort();
    assert_eq!(types(&resent), expected, "the journaled follow-ups");
    assert_eq!(resent.len(), journaled.len());
    assert_eq!(
        ids(&resent),
        journaled.iter().copied().collect(),
        "the journaled follow-ups are re-sent"
    );
    assert!(
        ids(&resent).is_subset(&first_sends),
        "with the ids the first delivery sent them with"
    );
    for copy in &resent {
        let id = copy.event_id.unwrap();
        let what = format!("{} {id}", copy.event_type);
        let one = drill.take(copy.queue, &what, |e| e.event_id == id).await;
        drill.process(copy.queue, one).await;
        let two = drill.take(copy.queue, &what, |e| e.event_id == id).await;
        deliver_again_changes_nothing(drill, copy.queue, two).await;
    }
}

fn is_wave_event(e: &Envelope, wave: u32, kind: &str) -> bool {
    e.wave == Some(WaveNumber(wave)) && e.event.type_name() == kind
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_wave_delivered_twice_starts_one_job() {
    let drill = ManualDrill::start("drill.yaml", example_scenario("happy-path.yaml")).await;
    let (queue, start_wave) = drill
        .run_until("wave 1's StartWave", |e| is_wave_event(e, 1, "StartWave"))
        .await;
    assert_eq!(queue, QueueName::Launch);
    deliver_twice(
        &drill,
        queue,
        start_wave,
        // Its own (the capacity tick), and those of LaunchAdmitted and
        // RecoveryJobStarted, decided inline; the wave's move to LAUNCHING
        // is announced.
        &[
            "AdmitWave",
            "Announce",
            "LaunchCheck",
            "LaunchTimedOut",
            "PollWave",
            "PublishMetrics",
        ],
    )
    .await;
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        BTreeMap::from([("1".into(), 1)])
    );
    assert_eq!(
        drill.engine.simulator.call_count(Operation::StartRecovery),
        1
    );
    assert!(matches!(
        drill.wave(1).await.launch,
        LaunchState::Started { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wave_observed_delivered_twice_changes_nothing_the_second_time() {
    let drill = ManualDrill::start("drill.yaml", example_scenario("happy-path.yaml")).await;
    let (_, poll) = drill
        .run_until("wave 1's first poll", |e| is_wave_event(e, 1, "PollWave"))
        .await;
    let wave = drill.wave(1).await;
    let LaunchState::Started { job_id, .. } = &wave.launch else {
        panic!("wave 1 has its job: {:?}", wave.launch);
    };
    // The result the poll worker would decide inline; a result it cannot
    // decide inline goes to the poll queue as exactly this message.
    let cause = Envelope::decode(&poll.body).unwrap();
    let deadline = Instant::now() + LIMIT;
    let observed = loop {
        // Each look asks for the job as it is now, not as last seen.
        let effect = Effect::ObserveWave {
            seq: wave.poll_seq,
            job_id: job_id.clone(),
            awaiting: wave.servers.iter().map(|s| s.id().clone()).collect(),
            fresh_since: drill.engine.ports.clock.now(),
            details: vec![],
        };
        let result = effects::perform(&drill.engine.ports, &cause, 0, &effect).await;
        if let Event::WaveObserved { observation, .. } = &result.event
            && let Some(job) = &observation.job
            && job
                .participating_servers
                .iter()
                .all(|p| p.launch_status == DrsLaunchStatus::Launched)
            && observation.instances.len() == wave.servers.len()
        {
            break result;
        }
        assert!(Instant::now() < deadline, "wave 1's servers never launched");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let message = drill.redeliver(QueueName::Poll, &observed.to_json()).await;
    // The wave's move to POST_ACTIONS is announced.
    deliver_twice(
        &drill,
        QueueName::Poll,
        message,
        &["Announce", "CheckPostLaunch"],
    )
    .await;
    let wave = drill.wave(1).await;
    assert!(
        wave.servers
            .iter()
            .all(|s| s.launch_status == LaunchStatus::Launched),
        "{:?}",
        wave.servers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wave_finished_delivered_twice_starts_the_next_wave_once() {
    let drill = ManualDrill::start("drill.yaml", example_scenario("happy-path.yaml")).await;
    let (queue, finished) = drill
        .run_until("wave 1's WaveFinished", |e| {
            is_wave_event(e, 1, "WaveFinished")
        })
        .await;
    deliver_twice(&drill, queue, finished, &["PublishMetrics", "StartWave"]).await;
    let execution = drill.execution().await;
    assert_eq!(execution.waves[0].status, WaveStatus::Completed);
    assert!(execution.waves[1].started);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        BTreeMap::from([("1".into(), 1), ("2".into(), 1)]),
        "wave 2 started once"
    );
}

// ---- Invariant 5: bad input gets a clear error; no worker dies ----

async fn send_raw(drill: &Drill, body: &str) {
    let message = OutgoingMessage {
        body: body.to_owned(),
        delay: Duration::ZERO,
        event_type: "unknown".into(),
        schema_version: 1,
    };
    drill
        .queue()
        .send(QueueName::Launch, vec![message])
        .await
        .unwrap();
}

/// Waits until the launch DLQ holds a message `pred` accepts.
async fn wait_for_dead(
    drill: &Drill,
    what: &str,
    pred: impl Fn(&DeadMessage) -> bool,
) -> DeadMessage {
    let deadline = Instant::now() + LIMIT;
    loop {
        let dead = drill
            .dead_letters()
            .list_dead(QueueName::Launch)
            .await
            .unwrap();
        if let Some(d) = dead.into_iter().find(|d| pred(d)) {
            return d;
        }
        assert!(Instant::now() < deadline, "{what} never reached the DLQ");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `log` shows event `id` acknowledged more than `times` times.
async fn wait_for_ack(log: &QueueLog, id: EventId, times: usize, what: &str) {
    let deadline = Instant::now() + LIMIT;
    while log.times_acked_event(id) <= times {
        assert!(Instant::now() < deadline, "{what} was never acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_dead_lettered_with_their_reason_and_the_drill_completes() {
    let log = QueueLog::new();
    let recorder = log.clone();
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .ports(move |p| Ports {
            queue: recorder.wrap(p.queue),
            ..p
        })
        .start()
        .await;
    drill
        .wait_for("the execution to exist", LIMIT, |_| true)
        .await;

    let now = drill.engine.ports.clock.now();
    let valid = Envelope::new(
        drill.id,
        Some(WaveNumber(1)),
        Event::PollWave { seq: 1 },
        now,
    );
    let mut json: serde_json::Value = serde_json::from_str(&valid.to_json()).unwrap();
    let malformed = r#"{"eventId": oops"#.to_owned();
    json["type"] = "LaunchNukes".into();
    let unknown_type = json.to_string();
    json["type"] = "PollWave".into();
    json["schemaVersion"] = 99.into();
    let wrong_version = json.to_string();
    json["schemaVersion"] = 1.into();
    json["detail"] = serde_json::json!({ "seq": "seven" });
    let invalid_detail = json.to_string();
    let no_such_wave =
        Envelope::new(drill.id, Some(WaveNumber(9)), Event::StartWave {}, now).to_json();
    let unknown_execution = Envelope::new(
        ExecutionId::new_random(),
        Some(WaveNumber(1)),
        Event::StartWave {},
        now,
    );
    let expected = [
        (&malformed, "malformed JSON"),
        (&unknown_type, "unknown event type `LaunchNukes`"),
        (&wrong_version, "schema version 99 is not supported"),
        (&invalid_detail, "a PollWave event with an invalid body"),
        (&no_such_wave, "has no wave 9"),
    ];
    for (body, _) in expected {
        send_raw(&drill, body).await;
    }
    send_raw(&drill, &unknown_execution.to_json()).await;

    for (body, reason) in expected {
        let dead = wait_for_dead(&drill, reason, |d| d.body == *body).await;
        assert!(
            dead.reason.contains(reason),
            "the DLQ reason for {body} should say {reason:?}: {:?}",
            dead.reason
        );
    }
    // An event about an execution that does not exist is acknowledged and
    // ignored: it creates nothing and never reaches the DLQ.
    wait_for_ack(
        &log,
        unknown_execution.event_id,
        0,
        "the unknown execution's event",
    )
    .await;
    assert!(
        drill
            .store()
            .load_execution(unknown_execution.execution_id)
            .await
            .unwrap()
            .is_none()
    );

    let (view, mut drill) = drill.finish(LIMIT).await;
    assert_completed_drill(&view);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        one_job_per_wave()
    );
    let dead = drill
        .dead_letters()
        .list_dead(QueueName::Launch)
        .await
        .unwrap();
    assert_eq!(
        dead.len(),
        expected.len(),
        "only the bad messages are dead: {dead:#?}"
    );

    // Replaying an already-processed, valid event from the DLQ changes
    // nothing: park a copy of wave 1's StartWave there, then replay it.
    let start_wave = log
        .sent()
        .into_iter()
        .find(|m| m.event_type == "StartWave" && m.envelope().wave == Some(WaveNumber(1)))
        .expect("wave 1 was started");
    let start_wave_id = start_wave.event_id.unwrap();
    let parked = park_in_dlq(&drill, &start_wave.body).await;
    let before = Records::load(drill.store().as_ref(), drill.id).await;
    let calls = drill.engine.simulator.call_count(Operation::StartRecovery);
    let acked: HashMap<EventId, usize> = log
        .sent()
        .iter()
        .filter_map(|m| m.event_id)
        .map(|id| (id, log.times_acked_event(id)))
        .collect();
    let mark = log.sent_count();
    drill.resume();
    let replayed = drill
        .dead_letters()
        .replay_dead(QueueName::Launch, Some(&parked.message_id))
        .await
        .unwrap();
    assert_eq!(replayed, 1);
    wait_for_ack(
        &log,
        start_wave_id,
        acked[&start_wave_id],
        "the replayed StartWave",
    )
    .await;
    for resent in log.sent_since(mark) {
        let id = resent.event_id.unwrap();
        let times = acked.get(&id).copied().unwrap_or(0);
        wait_for_ack(&log, id, times, &resent.event_type).await;
    }
    assert!(
        Records::load(drill.store().as_ref(), drill.id).await == before,
        "replaying a processed StartWave changed the records"
    );
    assert_eq!(
        drill.engine.simulator.call_count(Operation::StartRecovery),
        calls
    );
    let dead = drill
        .dead_letters()
        .list_dead(QueueName::Launch)
        .await
        .unwrap();
    assert!(dead.iter().all(|d| d.message_id != parked.message_id));
    drill.finish(LIMIT).await;
}

/// Puts a message with `body` in the launch DLQ, as a step that gave up
/// on it would, and returns it as the DLQ lists it.
async fn park_in_dlq(drill: &Drill, body: &str) -> DeadMessage {
    let queue = drill.queue();
    send_raw(drill, body).await;
    let deadline = Instant::now() + LIMIT;
    let message = loop {
        let received = queue
            .receive(
                QueueName::Launch,
                Receive {
                    max: 10,
                    visibility: Duration::from_millis(100),
                    wait: Duration::from_millis(100),
                },
            )
            .await
            .unwrap();
        if let Some(m) = received.into_iter().find(|m| m.body == body) {
            break m;
        }
        assert!(Instant::now() < deadline, "the parked copy never arrived");
    };
    queue
        .dead_letter(QueueName::Launch, &message, "parked by the test")
        .await
        .unwrap();
    wait_for_dead(drill, "the parked copy", |d| {
        d.message_id == message.message_id
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_keeps_failing_is_dead_lettered_then_replayed_to_completion() {
    let faults = StoreFaults::new();
    let builder = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(quick_redelivery());
    faults.block_loads(builder.id());
    let drill = builder.store_faults(&faults).start().await;
    let limit = drill.engine.backend.config().max_receives;
    let dead = wait_for_dead(&drill, "the StartExecution", |d| {
        d.event_type.as_deref() == Some("StartExecution")
    })
    .await;
    assert!(
        dead.reason
            .starts_with(&format!("received {limit} times without being deleted")),
        "{:?}",
        dead.reason
    );
    assert!(drill.view().await.is_none(), "nothing was created");
    assert!(
        faults.injected()["load_execution"] >= u64::from(limit),
        "{:?}",
        faults.injected()
    );

    // The store is back: replay the dead message.
    faults.unblock_loads(drill.id);
    let replayed = drill
        .dead_letters()
        .replay_dead(QueueName::Launch, Some(&dead.message_id))
        .await
        .unwrap();
    assert_eq!(replayed, 1);
    let (view, drill) = drill.finish(LIMIT).await;
    assert_completed_drill(&view);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        one_job_per_wave()
    );
    assert_no_dead_messages(&drill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_stuck_in_a_call_that_never_returns_is_given_up_and_the_drill_completes() {
    // Each wave's save as LAUNCHING is written, then never answers: the
    // step hangs between its save and its StartRecovery call. The step
    // deadline gives it up like a crash; its message comes back, is found
    // a duplicate, and the journaled LaunchCheck starts the job.
    let faults = StoreFaults::new();
    faults.hang_wave_save_after_write(WaveStatus::Launching);
    let drill = Drill::builder("drill.yaml", example_scenario("happy-path.yaml"))
        .worker_config(WorkerConfig {
            step_timeout: Duration::from_secs(2),
            ..quick_redelivery()
        })
        .store_faults(&faults)
        .start()
        .await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_completed_drill(&view);
    assert_eq!(
        recovery_jobs_per_wave(&drill.engine.simulator),
        one_job_per_wave()
    );
    assert_eq!(faults.injected()["save_wave_hang"], 3, "one per wave");
    assert_no_dead_messages(&drill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_drs_does_not_know_fails_its_wave_with_drs_error() {
    // pay-db-replica (s-0a1b2c3d4e5f60002) is not in this DRS account.
    let scenario = inline_scenario(
        "seed: 1
time_scale: 300
strict_inventory: true
servers:
  s-0a1b2c3d4e5f60001: {}
  s-0a1b2c3d4e5f60011: {}
  s-0a1b2c3d4e5f60012: {}
  s-0a1b2c3d4e5f60013: {}
  s-0a1b2c3d4e5f60021: {}
  s-0a1b2c3d4e5f60022: {}
",
    );
    // Pre-flight would stop this drill before it launched (SERVER_EXISTS);
    // with it off, DRS's own refusal is what the wave must show.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("drill.yaml");
    let text = std::fs::read_to_string(examples().join("drill.yaml")).unwrap();
    std::fs::write(
        &plan,
        text.replacen("options:\n", "options:\n  preflight: off\n", 1),
    )
    .unwrap();
    let drill = Drill::builder(&plan, scenario).start().await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(
        view.status,
        ExecutionStatus::Failed,
        "{}",
        serde_json::to_string_pretty(&view).unwrap()
    );
    assert_eq!(
        wave_table(&view),
        rows(&[
            "databases FAILED",
            "app-tier CANCELLED",
            "web-tier CANCELLED"
        ])
    );
    assert_eq!(
        server_table(&view)[..2],
        rows(&[
            "databases/pay-db-primary FAILED [ResourceNotFoundException]",
            "databases/pay-db-replica FAILED [ResourceNotFoundException]",
        ])
    );
    let replica = &view.waves[0].servers[1];
    let message = replica.error_message.as_deref().unwrap_or("");
    assert!(
        message.contains("ResourceNotFoundException") && message.contains("s-0a1b2c3d4e5f60002"),
        "the error names DRS' error and the unknown server: {message:?}"
    );
    let calls = drill.engine.simulator.start_recovery_calls();
    assert_eq!(
        calls.len(),
        1,
        "a permanent error is not retried: {calls:?}"
    );
    assert_eq!(
        calls[0].outcome,
        StartOutcome::Rejected {
            code: "ResourceNotFoundException".into()
        }
    );
    assert_no_dead_messages(&drill).await;
}
