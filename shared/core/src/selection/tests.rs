//! Resolution against hand-made DRS answers: tags match (all of them), in
//! id order, without the servers listed explicitly; an empty selection and
//! one over the quota are errors at the selector; with `split_large_waves`
//! the wave is split; snapshots are the newest at or before the time.

use super::*;
use crate::plan::parse_plan;

fn server(n: u32, tags: &[(&str, &str)]) -> SourceServer {
    SourceServer {
        source_server_id: id(n),
        hostname: Some(format!("host-{n}")),
        data_replication_state: "CONTINUOUS".to_owned(),
        lag_duration: None,
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        recovery_instance_id: None,
        last_launch_result: None,
    }
}

fn id(n: u32) -> SourceServerId {
    SourceServerId::parse(&format!("s-{n:017}")).unwrap()
}

fn plan(waves: &str, options: &str) -> Plan {
    let source = format!(
        "name: p\nmode: drill\nregion: eu-west-1\noptions:\n  retry: {{}}\n{options}waves:\n{waves}"
    );
    parse_plan(&source, "plan.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn ids(plan: &Plan, wave: usize) -> Vec<u32> {
    plan.waves[wave]
        .servers
        .iter()
        .map(|s| s.id.as_str()[2..].parse().unwrap())
        .collect()
}

#[test]
fn every_tag_must_match_and_servers_come_in_id_order_with_drs_hostnames() {
    let inventory = [
        server(7, &[("app", "payments"), ("tier", "db")]),
        server(3, &[("app", "payments"), ("tier", "db"), ("env", "prod")]),
        server(5, &[("app", "payments"), ("tier", "web")]),
        server(9, &[("app", "billing"), ("tier", "db")]),
        server(2, &[("app", "payments"), ("tier", "db")]),
    ];
    let plan = plan(
        "  - name: db\n    servers: [s-00000000000000002]\n    select: { tags: { app: payments, tier: db } }\n  - name: web\n    select: { tags: { tier: web } }\n",
        "",
    );
    let (resolved, selected) = resolve_tags(plan, &inventory, "plan.yaml").unwrap();
    assert_eq!(
        ids(&resolved, 0),
        [2, 3, 7],
        "listed first, then by id, none twice"
    );
    assert_eq!(ids(&resolved, 1), [5]);
    assert_eq!(
        resolved.waves[0].servers[1].hostname.as_deref(),
        Some("host-3")
    );
    assert_eq!(resolved.waves[0].select.as_ref().unwrap().resolved, Some(2));
    let summaries: Vec<String> = selected.iter().map(Selected::summary).collect();
    assert_eq!(
        summaries,
        [
            "wave db: select.tags {app: payments, tier: db} → 2 servers",
            "wave web: select.tags {tier: web} → 1 server",
        ]
    );
    assert!(!resolved.needs_resolution(), "resolved once");
    let (again, none) = resolve_tags(resolved.clone(), &inventory, "plan.yaml").unwrap();
    assert_eq!(again, resolved, "resolving a resolved plan changes nothing");
    assert!(none.is_empty());
}

#[test]
fn a_selection_of_nothing_is_an_error_at_the_selector() {
    let plan = plan(
        "  - name: app-tier\n    select: { tags: { app: payments } }\n",
        "",
    );
    let errors = resolve_tags(plan, &[server(1, &[("app", "Payments")])], "plan.yaml")
        .unwrap_err()
        .to_string();
    assert_eq!(
        errors,
        "plan.yaml:8:13: wave app-tier: select.tags {app: payments} matches no source server in DRS eu-west-1; \
         check the tags in the DRS console (Source servers, Tags: keys and values are case-sensitive), or list the servers under `servers`"
    );
}

#[test]
fn two_selections_of_one_server_and_a_selection_of_only_listed_servers_are_errors() {
    let plan = plan(
        "  - name: a\n    servers: [s-00000000000000001]\n  - name: b\n    select: { tags: { app: x } }\n  - name: c\n    select: { tags: { tier: db } }\n",
        "",
    );
    let inventory = [
        server(1, &[("app", "x")]),
        server(2, &[("tier", "db"), ("app", "y")]),
        server(3, &[("tier", "db"), ("app", "x")]),
    ];
    let errors = resolve_tags(plan, &inventory, "plan.yaml").unwrap_err();
    let messages: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(
        messages[0].starts_with("plan.yaml:12:13: wave c: select.tags {tier: db} matches 1 server(s) that wave b's selection also matches (s-00000000000000003)"),
        "{messages:#?}"
    );

    let plan = plan_only_listed();
    let errors = resolve_tags(plan, &[server(1, &[("app", "x")])], "plan.yaml").unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("matches only servers the plan already lists in other waves"),
        "{errors}"
    );
}

fn plan_only_listed() -> Plan {
    plan(
        "  - name: a\n    servers: [s-00000000000000001]\n  - name: b\n    select: { tags: { app: x } }\n",
        "",
    )
}

fn many(count: u32) -> Vec<SourceServer> {
    (1..=count).map(|n| server(n, &[("app", "big")])).collect()
}

#[test]
fn over_one_hundred_is_an_error_unless_the_plan_splits_large_waves() {
    let waves = "  - name: first\n    servers: [s-00000000000099999]\n  - name: big\n    select: { tags: { app: big } }\n  - name: after\n    servers: [s-00000000000088888]\n";
    let errors = resolve_tags(plan(waves, ""), &many(150), "plan.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        errors.starts_with("plan.yaml:10:13: wave big: select.tags {app: big} matches 150 servers, so the wave has 150, but DRS allows at most 100"),
        "{errors}"
    );
    assert!(
        errors.contains("options.split_large_waves: true"),
        "{errors}"
    );

    let (split, selected) = resolve_tags(
        plan(waves, "  split_large_waves: true\n"),
        &many(150),
        "plan.yaml",
    )
    .unwrap();
    let names: Vec<&str> = split.waves.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(
        names,
        ["first", "big (part 1/2)", "big (part 2/2)", "after"]
    );
    assert_eq!(ids(&split, 1).len(), 75);
    assert_eq!(ids(&split, 2).len(), 75);
    assert_eq!(ids(&split, 1)[0], 1);
    let numbers =
        |w: usize| -> Vec<u32> { split.waves[w].depends_on.iter().map(|n| n.0).collect() };
    assert_eq!(numbers(1), [1]);
    assert_eq!(numbers(2), [1]);
    assert_eq!(numbers(3), [2, 3], "the next wave waits for every part");
    assert_eq!(
        selected[0].summary(),
        "wave big: select.tags {app: big} → 150 servers, split into 2 parts"
    );
}

fn snapshot(server: u32, id: &str, at: &str) -> RecoverySnapshot {
    RecoverySnapshot {
        snapshot_id: id.to_owned(),
        source_server_id: self::id(server),
        expected_timestamp: at.parse().unwrap(),
        timestamp: Some(at.parse().unwrap()),
    }
}

#[test]
fn each_server_gets_its_newest_snapshot_at_or_before_the_time_or_an_error() {
    let plan = plan(
        "  - name: db\n    servers: [s-00000000000000001, s-00000000000000002]\n    recovery_snapshot: { before: \"2026-12-01T06:00:00Z\" }\n  - name: app\n    servers: [s-00000000000000003]\n",
        "",
    );
    let wanted = snapshots_wanted(&plan);
    assert_eq!(wanted.len(), 2, "only the wave that asks: {wanted:?}");
    let found = BTreeMap::from([
        (
            id(1),
            vec![
                snapshot(1, "pit-late", "2026-12-01T06:00:01Z"),
                snapshot(1, "pit-exact", "2026-12-01T06:00:00Z"),
                snapshot(1, "pit-older", "2026-12-01T05:50:00Z"),
            ],
        ),
        (
            id(2),
            vec![snapshot(2, "pit-later", "2026-12-01T07:00:00Z")],
        ),
    ]);
    let errors = choose_snapshots(plan.clone(), &found, "plan.yaml").unwrap_err();
    assert_eq!(
        errors.to_string(),
        "plan.yaml:9:24: wave db: server s-00000000000000002 has no recovery snapshot taken at or before 2026-12-01T06:00:00Z (recovery_snapshot.before): \
         DRS keeps snapshots only for its retention period and from when replication began; choose a later time, or `recovery_snapshot: latest`"
    );
    let mut found = found;
    found.insert(id(2), vec![snapshot(2, "pit-two", "2026-11-30T23:00:00Z")]);
    let chosen = choose_snapshots(plan, &found, "plan.yaml").unwrap();
    let picked: Vec<Option<&str>> = chosen
        .waves
        .iter()
        .flat_map(|w| &w.servers)
        .map(|s| s.recovery_snapshot.as_ref().map(|c| c.id.as_str()))
        .collect();
    assert_eq!(picked, [Some("pit-exact"), Some("pit-two"), None]);
    assert!(
        snapshots_wanted(&chosen).is_empty(),
        "a retry reuses the choice"
    );
    assert!(!chosen.needs_resolution());
}
