//! Fuzzing every parser bad input reaches (invariant 5, docs/invariants.md):
//! the plan file, the simulator's scenario file, the envelope decoder every
//! worker runs on every message, EventBridge events and the runbook
//! trigger's detail. Proptest on the stable toolchain, with random bytes
//! and strings and, mostly, valid documents broken on purpose
//! (`ripcord_tests::fuzz`). The properties: never a panic; every rejection
//! a readable text (not blank, no control characters, no endless line);
//! what a parser accepts survives the trip it takes next (a plan inside a
//! StartExecution envelope, an envelope re-encoded).
//!
//! A few hundred cases per target by default (seconds in all);
//! `PROPTEST_CASES=20000 cargo test -p ripcord-tests --test fuzz_parsers`
//! searches longer. Inputs that once failed are kept in
//! `fuzz_parsers.proptest-regressions` and in the `regression_*` tests.

use proptest::prelude::*;
use ripcord::event::{Envelope, Event};
use ripcord::eventbridge::{EventBridgeEvent, Inbound};
use ripcord::ids::{ExecutionId, SourceServerId, WaveNumber};
use ripcord::plan::parse_plan;
use ripcord::trigger::runbook::TriggerDetail;
use ripcord_tests::fuzz::{assert_readable, bad_text, config, mutated_json};
use ripcord_tests::{examples, fixtures};

/// The longest line a rejection may have: a plan error is its file
/// (at most 256 bytes), its place and a message of at most 1 KiB.
const MAX_LINE: usize = 1400;

fn read(path: std::path::PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A plan that sets every field the format has.
const FULL_PLAN: &str = r#"
name: payments-drill
mode: drill
region: us-east-1
options:
  poll_intervals: { pending: 30s, launching: 15s, post_actions: 10s }
  retry: { max_attempts: 8, base_delay: 2s, max_delay: 5m, max_poll_errors: 5 }
  execution_timeout: 12h
  rto_target: 4h
  split_large_waves: true
  busy_servers: wait
  preflight: warn
  max_replication_lag: 15m
  recovery_snapshot: latest
  cleanup: { after: 2h }
  cleanup_previous: true
defaults: { launch_timeout: 1h, health_timeout: 15m, action_timeout: 10m }
waves:
  - name: databases
    servers:
      - s-1234567890abcdef0
      - { id: s-1234567890abcdef1, hostname: db-2 }
      - { id: s-1234567890abcdef2, critical: false }
    depends_on: []
    wait_for_approval: true
    launch_timeout: 30m
    health_timeout: 10m
    post_launch:
      - name: start-db
        document: AWS-RunShellScript
        parameters: { commands: ["systemctl start postgresql"], executionTimeout: 3600 }
        timeout: 5m
    health_checks: [ec2_status_ok, ssm_agent_online, { command: "pg_isready -h localhost" }]
  - name: app
    servers: [s-1234567890abcdef3, s-1234567890abcdef4]
    depends_on: [databases]
  - name: web
    select: { tags: { app: payments, tier: 1 } }
    recovery_snapshot: { before: "2026-12-01T06:00:00Z" }
"#;

fn plans() -> Vec<String> {
    let mut plans = vec![
        FULL_PLAN.to_owned(),
        read(examples().join("drill.yaml")),
        read(examples().join("approval-drill.yaml")),
    ];
    for name in ["cleanup-after.yaml", "known-durations.yaml"] {
        plans.push(read(fixtures().join("plans").join(name)));
    }
    plans
}

fn scenarios() -> Vec<String> {
    let dir = examples().join("scenarios");
    let mut all: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/scenarios")
        .map(|e| read(e.expect("an entry").path()))
        .collect();
    all.sort();
    all
}

fn server(n: u32) -> SourceServerId {
    SourceServerId::parse(&format!("s-{n:017}")).expect("an id")
}

/// Envelopes of several shapes: a whole plan, plain timers, lists, text.
fn envelopes() -> Vec<Envelope> {
    let id = ExecutionId::new_random();
    let now = chrono::Utc::now();
    let plan = parse_plan(FULL_PLAN, "full.yaml").expect("the full plan is valid");
    let wave = |event| Envelope::new(id, Some(WaveNumber(2)), event, now);
    vec![
        Envelope::start_execution(id, plan, "alice", false, now),
        wave(Event::PollWave { seq: 7 }),
        wave(Event::StartWave {}),
        wave(Event::LaunchTimedOut {
            job_id: "drsjob-0123456789abcdef0".into(),
        }),
        wave(Event::RelaunchWave {
            attempt: 2,
            servers: vec![server(1), server(2)],
        }),
        Envelope::new(
            id,
            None,
            Event::CancelExecution {
                requested_by: "bob".into(),
                reason: "the drill window closed".into(),
            },
            now,
        ),
        Envelope::new(
            id,
            None,
            Event::RetryWave {
                requested_by: "carol".into(),
                reason: None,
                servers: vec![server(3)],
            },
            now,
        ),
    ]
}

fn eventbridge_events() -> Vec<serde_json::Value> {
    let trigger: serde_json::Value =
        serde_json::from_str(&read(examples().join("trigger/start-drill.json"))).expect("JSON");
    let detail: serde_json::Value =
        serde_json::from_str(trigger[0]["Detail"].as_str().expect("Detail")).expect("JSON");
    vec![
        serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "Ripcord Start Execution",
            "source": trigger[0]["Source"], "account": "111122223333",
            "time": "2026-03-01T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": detail
        }),
        serde_json::json!({
            "version": "0", "id": "e2", "detail-type": "DRS Source Server Launch Result",
            "source": "aws.drs", "account": "111122223333", "time": "2026-03-01T10:00:00Z",
            "region": "us-east-1",
            "resources": ["arn:aws:drs:us-east-1:111122223333:source-server/s-0123456789abcdef0"],
            "detail": {"state": "DRILL_LAUNCH_SUCCEEDED", "job-id": "drsjob-0123456789abcdef0"}
        }),
    ]
}

/// The plan parser's property, for the proptest and the regressions.
fn check_plan(text: &str) {
    match parse_plan(text, "fuzz.yaml") {
        Err(errors) => {
            assert!(!errors.0.is_empty(), "a rejection without an error");
            for e in &errors.0 {
                assert_readable("a plan error", &e.to_string(), MAX_LINE);
            }
        }
        // What the parser accepts travels to the launch worker in a
        // StartExecution envelope, and must arrive as it left.
        Ok(plan) => {
            let envelope = Envelope::start_execution(
                ExecutionId::new_random(),
                plan,
                "fuzz",
                false,
                chrono::Utc::now(),
            );
            let decoded = Envelope::decode(&envelope.to_json());
            assert_eq!(
                decoded.as_ref(),
                Ok(&envelope),
                "a valid plan did not survive its envelope"
            );
        }
    }
}

fn check_scenario(text: &str) {
    if let Err(e) = ripcord_sim::parse_scenario(text, "fuzz-scenario.yaml") {
        assert_readable("a scenario error", &e.to_string(), MAX_LINE);
    }
}

fn check_envelope(body: &str) {
    match Envelope::decode(body) {
        Err(e) => assert_readable("a decode error", &e.to_string(), MAX_LINE),
        Ok(envelope) => assert_eq!(
            Envelope::decode(&envelope.to_json()).as_ref(),
            Ok(&envelope),
            "a decoded envelope did not survive re-encoding"
        ),
    }
}

fn check_eventbridge(body: &str) {
    let Some(event) = EventBridgeEvent::parse(body) else {
        return;
    };
    match Inbound::classify(&event) {
        Inbound::Runbook(Err(e)) => assert_readable("a trigger error", &e.to_string(), MAX_LINE),
        Inbound::DrsLaunchResult(Err(e)) => assert_readable("a launch result error", &e, MAX_LINE),
        _ => {}
    }
}

fn check_trigger_detail(detail: &str) {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(detail)
        && let Err(e) = TriggerDetail::parse(&value)
    {
        assert_readable("a trigger detail error", &e.to_string(), MAX_LINE);
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn bad_plans_get_readable_errors_and_never_a_panic(text in bad_text(plans())) {
        check_plan(&text);
    }

    #[test]
    fn bad_scenarios_get_readable_errors_and_never_a_panic(text in bad_text(scenarios())) {
        check_scenario(&text);
    }

    #[test]
    fn bad_envelopes_get_readable_errors_and_never_a_panic(
        body in prop_oneof![
            bad_text(envelopes().iter().map(Envelope::to_json).collect()),
            prop::sample::select(envelopes()).prop_flat_map(|e| {
                mutated_json(serde_json::from_str(&e.to_json()).expect("JSON"))
            }),
        ]
    ) {
        check_envelope(&body);
    }

    #[test]
    fn bad_eventbridge_events_get_readable_errors_and_never_a_panic(
        body in prop_oneof![
            bad_text(eventbridge_events().iter().map(|e| e.to_string()).collect()),
            prop::sample::select(eventbridge_events()).prop_flat_map(mutated_json),
        ]
    ) {
        check_eventbridge(&body);
        check_envelope(&body);
    }

    #[test]
    fn bad_trigger_details_get_readable_errors_and_never_a_panic(
        detail in prop::sample::select(eventbridge_events())
            .prop_flat_map(|e| mutated_json(e["detail"].clone()))
    ) {
        check_trigger_detail(&detail);
    }
}
