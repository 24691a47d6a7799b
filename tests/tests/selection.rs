//! Servers by tags, snapshots by time, drilled: the real engine on a
//! simulator whose source servers carry tags. What launched, and from
//! which snapshot, is read from the simulator's own call log, not from
//! Ripcord's records.

use ripcord::ids::SourceServerId;
use ripcord::ports::RecoveryService;
use ripcord::status_model::ExecutionStatus;
use ripcord_tests::{Drill, inline_scenario};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// Payments' servers are tagged by tier; billing's are not in the plan.
const TAGGED: &str = "servers:
  s-0a1b2c3d4e5f60001: { tags: { app: payments, tier: db }, hostname: pay-db-1 }
  s-0a1b2c3d4e5f60002: { tags: { app: payments, tier: db }, hostname: pay-db-2 }
  s-0a1b2c3d4e5f60011: { tags: { app: payments, tier: web } }
  s-0a1b2c3d4e5f60012: { tags: { app: payments, tier: web, env: prod } }
  s-0a1b2c3d4e5f60021: { tags: { app: billing, tier: db } }
  s-0a1b2c3d4e5f60022: { tags: { app: payments } }
";

fn plan(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("tagged.yaml");
    std::fs::write(&path, text).expect("the plan is written");
    path
}

fn id(text: &str) -> SourceServerId {
    SourceServerId::parse(text).unwrap()
}

/// (servers, snapshots asked for) of every StartRecovery the simulator got.
fn launched(drill: &Drill) -> Vec<(Vec<SourceServerId>, BTreeMap<SourceServerId, String>)> {
    drill
        .engine
        .simulator
        .start_recovery_calls()
        .into_iter()
        .map(|c| (c.source_servers, c.recovery_snapshots))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_selecting_by_tags_launches_exactly_the_tagged_servers() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(
        &dir,
        "name: tagged\nmode: drill\nregion: us-east-1\nwaves:\n\
         \x20 - name: db\n    select: { tags: { app: payments, tier: db } }\n\
         \x20 - name: web\n    servers: [s-0a1b2c3d4e5f60099]\n    select: { tags: { tier: web, app: payments } }\n",
    );
    let drill = Drill::builder(&plan, inline_scenario(TAGGED)).start().await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed, "{:?}", view.reason);
    let calls = launched(&drill);
    assert_eq!(
        calls,
        [
            (
                vec![id("s-0a1b2c3d4e5f60001"), id("s-0a1b2c3d4e5f60002")],
                BTreeMap::new()
            ),
            (
                vec![
                    id("s-0a1b2c3d4e5f60099"),
                    id("s-0a1b2c3d4e5f60011"),
                    id("s-0a1b2c3d4e5f60012")
                ],
                BTreeMap::new()
            ),
        ],
        "one job per wave, the tagged servers only, each once; latest data"
    );
    let hosts: Vec<&str> = view.waves[0]
        .servers
        .iter()
        .map(|s| s.hostname.as_str())
        .collect();
    assert_eq!(hosts, ["pay-db-1", "pay-db-2"], "hostnames from DRS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_before_a_time_launches_from_the_snapshots_drs_holds_for_it() {
    let dir = tempfile::tempdir().unwrap();
    // Snapshots every 10 minutes for a day: 45 minutes ago lies between two.
    let before = chrono::Utc::now() - chrono::Duration::minutes(45);
    let before_text = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let plan = plan(
        &dir,
        &format!(
            "name: tagged\nmode: drill\nregion: us-east-1\nwaves:\n\
             \x20 - name: db\n    select: {{ tags: {{ app: payments, tier: db }} }}\n    recovery_snapshot: {{ before: \"{before_text}\" }}\n\
             \x20 - name: web\n    select: {{ tags: {{ tier: web }} }}\n"
        ),
    );
    let drill = Drill::builder(&plan, inline_scenario(TAGGED)).start().await;
    let (view, drill) = drill.finish(LIMIT).await;
    assert_eq!(view.status, ExecutionStatus::Completed, "{:?}", view.reason);

    // What the simulator holds for that time, asked again now: its
    // snapshots keep their ids as time goes on.
    let sim = &drill.engine.simulator;
    let before: ripcord::time::Timestamp = before_text.parse().unwrap();
    let mut expected = BTreeMap::new();
    for server in ["s-0a1b2c3d4e5f60001", "s-0a1b2c3d4e5f60002"] {
        let held = sim
            .describe_recovery_snapshots(&id(server), Some(before))
            .await
            .unwrap();
        let newest = held
            .iter()
            .max_by_key(|s| s.taken_at())
            .expect("a snapshot");
        assert!(newest.taken_at() <= before);
        expected.insert(id(server), newest.clone());
    }
    let calls = launched(&drill);
    assert_eq!(calls.len(), 2, "one job per wave: {calls:?}");
    let asked: BTreeMap<SourceServerId, String> = expected
        .iter()
        .map(|(server, s)| (server.clone(), s.snapshot_id.clone()))
        .collect();
    assert_eq!(calls[0].1, asked, "the db wave launched from them");
    assert!(calls[1].1.is_empty(), "the web wave from the latest data");

    // The report names each snapshot, and DRS launched from its time.
    let execution = drill
        .store()
        .load_execution(drill.id)
        .await
        .unwrap()
        .unwrap()
        .record;
    let waves = drill.store().load_waves(drill.id).await.unwrap();
    let report = ripcord::report::build(&execution, &waves);
    for server in &report.waves[0].servers {
        let chosen = &expected[&server.source_server_id];
        assert_eq!(
            server.recovery_snapshot_id.as_deref(),
            Some(chosen.snapshot_id.as_str())
        );
        assert_eq!(server.point_in_time_snapshot, Some(chosen.taken_at()));
    }
    let markdown = ripcord::report::markdown::render(&report, None);
    for chosen in expected.values() {
        assert!(
            markdown.contains(&format!("`{}`", chosen.snapshot_id)),
            "the report names {}:\n{markdown}",
            chosen.snapshot_id
        );
    }
    assert!(
        markdown.contains("latest: "),
        "the web wave's servers say latest"
    );
}
