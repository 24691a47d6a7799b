//! Plans that select servers by tags and choose recovery snapshots: what
//! parses (the selector keeps where it was written, a wave may have only
//! `select`, a wave's `recovery_snapshot` overrides the plan's), and each
//! mistake at its line and column with what to do.

use ripcord::plan::{SnapshotChoice, parse_plan};

const HEADER: &str = "name: p\nmode: drill\nregion: us-east-1\n";

fn rendered_errors(source: &str) -> String {
    match parse_plan(source, "plan.yaml") {
        Ok(plan) => panic!("expected errors, the plan parsed: {plan:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_wave_may_select_by_tags_alone_or_beside_its_servers() {
    let source = format!(
        "{HEADER}options:\n  recovery_snapshot: {{ before: \"2026-12-01T06:00:00Z\" }}\nwaves:\n\
         \x20 - name: db\n    select: {{ tags: {{ app: payments, tier: db }} }}\n\
         \x20 - name: app\n    servers: [s-1234567890abcdef0]\n    select:\n      tags: {{ app: payments, tier: 2 }}\n    recovery_snapshot: latest\n"
    );
    let plan = parse_plan(&source, "plan.yaml").unwrap_or_else(|e| panic!("{e}"));
    let db = &plan.waves[0];
    assert!(db.servers.is_empty(), "resolved at submission, not here");
    let select = db.select.as_ref().expect("the selector");
    assert_eq!(select.describe(), "{app: payments, tier: db}");
    assert_eq!((select.line, select.column), (8, 13));
    assert_eq!(select.resolved, None);
    let before: ripcord::time::Timestamp = "2026-12-01T06:00:00Z".parse().unwrap();
    assert!(
        matches!(db.recovery_snapshot, Some(SnapshotChoice::Before { before: b, line: 5, .. }) if b == before),
        "the plan's choice applies: {:?}",
        db.recovery_snapshot
    );
    assert_eq!(plan.options.recovery_snapshot, db.recovery_snapshot);
    let app = &plan.waves[1];
    assert_eq!(app.servers.len(), 1);
    assert_eq!(
        app.select.as_ref().unwrap().describe(),
        "{app: payments, tier: 2}",
        "a number is the tag's text"
    );
    assert_eq!(
        app.recovery_snapshot,
        Some(SnapshotChoice::Latest),
        "the wave overrides"
    );
    assert!(plan.needs_resolution());
}

#[test]
fn a_plan_without_selections_needs_no_resolution() {
    let source = format!("{HEADER}waves:\n  - name: db\n    servers: [s-1234567890abcdef0]\n");
    let plan = parse_plan(&source, "plan.yaml").unwrap();
    assert!(!plan.needs_resolution());
    assert_eq!(plan.waves[0].recovery_snapshot, None);
}

#[test]
fn selection_and_snapshot_mistakes_are_reported_where_written() {
    let source = format!(
        "{HEADER}options:\n  recovery_snapshot: newest\nwaves:\n\
         \x20 - name: a\n    select: {{ tags: {{}} }}\n\
         \x20 - name: b\n    select: {{}}\n\
         \x20 - name: c\n    select: {{ tags: {{ app: x }} }}\n    recovery_snapshot: {{ before: yesterday }}\n\
         \x20 - name: d\n    recovery_snapshot: {{}}\n\
         \x20 - name: e\n    servers: []\n"
    );
    insta::assert_snapshot!(rendered_errors(&source));
}

#[test]
fn an_unknown_select_key_stops_the_parse_with_the_keys_allowed() {
    let source = format!("{HEADER}waves:\n  - name: a\n    select: {{ tag: {{ app: x }} }}\n");
    insta::assert_snapshot!(rendered_errors(&source));
}
