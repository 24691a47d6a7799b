//! The report's figures from fixture records with known instants, its
//! renderings (snapshots), escaping, and the SVG's well-formedness and size.

use super::*;
use crate::ids::SourceServerId;
use crate::plan::ServerPlan;
use crate::records::ServerState;
use crate::status_model::{ActionStatus, ExecutionStatus, HealthStatus, LaunchStatus, WaveStatus};
use crate::testing::{self, Fixture, at};
use std::time::Duration;

fn report(f: &Fixture) -> DrillReport {
    build(&f.execution, &f.waves)
}

#[test]
fn launch_time_time_to_healthy_and_snapshot_age_per_server() {
    let r = report(&testing::completed());
    let db = &r.waves[0].servers[0];
    assert_eq!(db.hostname, "db-primary");
    // 09:00:40 → 09:08:20.
    assert_eq!(db.launch_seconds, Some(460.0));
    // Healthy at T+11:40.
    assert_eq!(db.time_to_healthy_seconds, Some(700.0));
    // Snapshot 60 + 0x11 s before the launch started.
    assert_eq!(db.snapshot_age_seconds, Some(77.0));
    let app2 = &r.waves[1].servers[1];
    assert_eq!(app2.launch_seconds, Some(560.0), "12:40 → 22:00");
    assert_eq!(app2.time_to_healthy_seconds, Some(1500.0));
    let rpo = r.rpo.as_ref().expect("snapshots are recorded");
    assert_eq!(rpo.worst_snapshot_age_seconds, 110.0);
    assert_eq!(rpo.hostname, "web-02");
}

#[test]
fn wave_and_overall_rto_are_measured_from_the_execution_start() {
    let r = report(&testing::completed());
    let measured: Vec<Option<f64>> = r.waves.iter().map(|w| w.rto.measured_seconds).collect();
    // Last healthy server per wave: 11:50, 25:00, 40:15 (not the wave ends
    // 12:00, 25:10, 40:20).
    assert_eq!(measured, [Some(710.0), Some(1500.0), Some(2415.0)]);
    assert_eq!(r.rto.measured_seconds, Some(2415.0));
    assert_eq!(r.rto.ready_time, Some(at(40, 15)));
    assert_eq!(r.rto.outcome, RtoOutcome::Met);
    assert_eq!(r.rto.margin_seconds, Some(285.0));
    assert_eq!(
        r.rto.summary,
        "met: 40m 15s, 4m 45s under the 45m 0s target"
    );
    assert_eq!(r.rto_target_seconds, Some(2700.0));
    assert_eq!(r.duration_seconds, Some(2420.0));
    assert_eq!(r.waves[2].duration_seconds, Some(620.0), "30:00 → 40:20");
    assert!(r.settled);
}

#[test]
fn a_target_shorter_than_the_drill_is_missed_by_the_difference() {
    let mut f = testing::completed();
    f.execution.options.rto_target = Some(Duration::from_secs(30 * 60));
    let r = report(&f);
    let outcomes: Vec<RtoOutcome> = r.waves.iter().map(|w| w.rto.outcome).collect();
    assert_eq!(
        outcomes,
        [RtoOutcome::Met, RtoOutcome::Met, RtoOutcome::Missed]
    );
    assert_eq!(r.rto.outcome, RtoOutcome::Missed);
    assert_eq!(r.rto.margin_seconds, Some(-615.0));
    assert_eq!(
        r.rto.summary,
        "missed by 10m 15s: 40m 15s against the 30m 0s target"
    );
}

#[test]
fn without_a_target_the_rto_is_measured_but_not_judged() {
    let mut f = testing::completed();
    f.execution.options.rto_target = None;
    let r = report(&f);
    assert_eq!(r.rto.outcome, RtoOutcome::NoTarget);
    assert_eq!(r.rto.measured_seconds, Some(2415.0));
    assert_eq!(r.rto.margin_seconds, None);
    assert_eq!(r.rto_target_seconds, None);
}

#[test]
fn a_wave_without_health_checks_is_ready_when_it_ends() {
    let mut f = testing::completed();
    f.wave_mut(3).plan.health_checks.clear();
    for i in 0..2 {
        f.server_mut(3, i).healthy_time = None;
    }
    let r = report(&f);
    assert_eq!(r.waves[2].rto.ready_time, Some(at(40, 20)));
    assert_eq!(r.waves[2].rto.measured_seconds, Some(2420.0));
    assert_eq!(r.rto.measured_seconds, Some(2420.0));
    assert!(!r.waves[2].health_checked);
}

#[test]
fn a_failed_optional_server_does_not_delay_its_wave_but_a_late_one_does() {
    let mut f = testing::completed();
    // db-replica is optional: failed, it is not waited for.
    let replica = f.server_mut(1, 1);
    replica.launch_status = LaunchStatus::Failed;
    replica.health_status = HealthStatus::Timeout;
    replica.healthy_time = None;
    replica.error_code = Some("HEALTH_CHECK_TIMEOUT".to_owned());
    replica.error_message = Some("health checks did not pass".to_owned());
    let r = report(&f);
    assert_eq!(r.waves[0].rto.measured_seconds, Some(700.0));
    assert_eq!(r.servers.failed, 1);
    assert_eq!(r.servers.failed_optional, 1);
    let failure = r.failures.last().expect("the optional failure is listed");
    assert_eq!(failure.kind, FailureKind::Server);
    assert!(!failure.critical);

    let mut f = testing::completed();
    f.server_mut(1, 1).healthy_time = Some(at(11, 58));
    assert_eq!(report(&f).waves[0].rto.measured_seconds, Some(718.0));
}

#[test]
fn a_failed_execution_has_no_overall_rto_and_says_why() {
    let mut f = testing::failed();
    f.execution.options.rto_target = Some(Duration::from_secs(3600));
    f.execution.waves[2].status = WaveStatus::Cancelled;
    f.wave_mut(3).status = WaveStatus::Cancelled;
    f.wave_mut(3).reason = Some("not started: wave 2 (app-tier) failed".to_owned());
    let r = report(&f);
    assert_eq!(r.rto.outcome, RtoOutcome::NotAchieved);
    assert_eq!(r.rto.measured_seconds, None);
    assert_eq!(
        r.rto.summary,
        "not achieved: the execution ended FAILED (wave 2 (app-tier) FAILED); the target was 1h 0m 0s"
    );
    let outcomes: Vec<RtoOutcome> = r.waves.iter().map(|w| w.rto.outcome).collect();
    assert_eq!(
        outcomes,
        [
            RtoOutcome::Met,
            RtoOutcome::NotAchieved,
            RtoOutcome::NotAchieved
        ]
    );
    assert!(r.waves[1].rto.summary.contains("1 of 2 servers failed"));
    let kinds: Vec<(FailureKind, &str)> = r
        .failures
        .iter()
        .map(|f| (f.kind, f.subject.as_str()))
        .collect();
    let unnamed = testing::server_id(0x22).to_string();
    assert_eq!(
        kinds,
        [
            (FailureKind::Execution, "payments-dr"),
            (FailureKind::Wave, "app-tier"),
            (FailureKind::Server, unnamed.as_str()),
        ]
    );
    assert_eq!(r.failures[2].code.as_deref(), Some("LAUNCH_FAILED"));
    // The failed server never got an instance: no launch time.
    assert_eq!(r.waves[1].servers[1].launch_seconds, None);
}

#[test]
fn a_running_execution_is_not_measured_yet() {
    let r = report(&testing::mid_drill());
    assert!(!r.settled);
    assert_eq!(r.rto.outcome, RtoOutcome::InProgress);
    assert_eq!(r.waves[0].rto.outcome, RtoOutcome::NoTarget);
    assert_eq!(r.waves[1].rto.outcome, RtoOutcome::InProgress);
    assert_eq!(
        r.waves[2].rto.summary,
        "not measured yet: the wave has not started yet"
    );
    assert_eq!(r.servers.other, 4);
}

#[test]
fn failed_actions_are_listed_with_what_each_instance_said() {
    let mut f = testing::completed();
    let action = &mut f.wave_mut(2).actions[0];
    action.status = ActionStatus::Failed;
    action.error_message = Some("failed on 1 of 2 servers".to_owned());
    let inv = action.invocations.get_mut("i-0a1b2c3d4e5f60022").unwrap();
    inv.status = ActionStatus::Failed;
    inv.error = "sed: /etc/payments/app.conf: No such file\n".to_owned();
    let r = report(&f);
    let failure = r
        .failures
        .iter()
        .find(|f| f.kind == FailureKind::Action)
        .expect("the failed action is listed");
    assert_eq!(failure.subject, "configure-app");
    assert_eq!(
        failure.reason,
        "failed on 1 of 2 servers; i-0a1b2c3d4e5f60022 (s-0a1b2c3d4e5f60022): FAILED sed: /etc/payments/app.conf: No such file"
    );
}

#[test]
fn the_json_has_a_schema_version_and_reads_back() {
    let r = report(&testing::completed());
    let json = r.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schemaVersion"], SCHEMA_VERSION);
    assert_eq!(value["rto"]["outcome"], "MET");
    assert_eq!(
        value["waves"][1]["servers"][0]["timeToHealthySeconds"],
        1470.0
    );
    let back: DrillReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn completed_json_snapshot() {
    insta::assert_snapshot!(report(&testing::completed()).to_json());
}

#[test]
fn completed_markdown_snapshot() {
    insta::assert_snapshot!(markdown::render(
        &report(&testing::completed()),
        Some("report.svg")
    ));
}

#[test]
fn failed_markdown_snapshot() {
    insta::assert_snapshot!(markdown::render(&report(&testing::failed()), None));
}

/// Plan text that would inject markup if it were not escaped.
fn hostile() -> Fixture {
    let mut f = testing::completed();
    f.execution.plan_name = "<script>alert('plan')</script> & | co".to_owned();
    f.execution.requested_by = "\"><img src=x onerror=alert(1)>".to_owned();
    f.execution.waves[0].name = "db</h2><script>x()</script>".to_owned();
    f.server_mut(1, 0).plan.hostname = Some("<b>db</b> | `rm -rf` [x](y)".to_owned());
    let action = &mut f.wave_mut(2).actions[0];
    action.name = "<i>configure</i>".to_owned();
    action
        .invocations
        .get_mut("i-0a1b2c3d4e5f60021")
        .unwrap()
        .output = "</pre><script>steal()</script>\n```\nend".to_owned();
    f
}

#[test]
fn html_escapes_every_text_from_the_plan_and_from_aws() {
    let html = html::render(&report(&hostile()));
    assert!(!html.contains("<script"), "no script tag gets through");
    assert!(!html.contains("<img"), "no img tag gets through");
    assert!(!html.contains("<b>db"));
    assert!(!html.contains("<i>configure"));
    assert!(html.contains("&lt;script&gt;alert(&#39;plan&#39;)&lt;/script&gt; &amp; | co"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&lt;/pre&gt;&lt;script&gt;steal()&lt;/script&gt;"));
    // Self-contained: no external asset, no script.
    for external in ["<link", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
}

#[test]
fn markdown_escapes_plan_text_so_tables_keep_their_columns() {
    let md = markdown::render(&report(&hostile()), None);
    // Outside code fences (where Markdown shows text as it is) no tag is left.
    let prose: String = md.split("````").step_by(2).collect();
    assert!(!prose.contains("<script"));
    assert!(!prose.contains("<b>"));
    assert!(!prose.contains("<img"));
    let row = md
        .lines()
        .find(|l| l.contains("rm -rf"))
        .expect("the server row");
    assert!(row.starts_with("| &lt;b&gt;db&lt;/b&gt; \\| \\`rm -rf\\` \\[x\\](y) |"));
    let header = md
        .lines()
        .find(|l| l.starts_with("| Server |"))
        .expect("the header");
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    assert_eq!(cells(row), cells(header));
    // The output holds a ``` line: its fence is longer.
    assert!(md.contains("````\n</pre><script>steal()</script>\n```\nend\n````"));
}

/// Checks that `svg` is one well-formed XML document with an `svg` root;
/// returns the number of elements.
fn well_formed(svg: &str) -> usize {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    reader.config_mut().check_end_names = true;
    let (mut depth, mut elements, mut roots) = (0usize, 0usize, 0usize);
    loop {
        match reader.read_event() {
            Err(e) => panic!("not well-formed at byte {}: {e}", reader.buffer_position()),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    roots += 1;
                    assert_eq!(e.name().as_ref(), b"svg");
                }
                for a in e.attributes() {
                    a.expect("a well-formed attribute")
                        .unescape_value()
                        .expect("attribute entities are known");
                }
                depth += 1;
                elements += 1;
            }
            Ok(Event::Empty(e)) => {
                assert!(depth > 0, "an element outside the root");
                for a in e.attributes() {
                    a.expect("a well-formed attribute")
                        .unescape_value()
                        .expect("attribute entities are known");
                }
                elements += 1;
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().unwrap();
                assert!(
                    r.is_char_ref() || ["amp", "lt", "gt", "quot", "apos"].contains(&&*name),
                    "unknown entity &{name};"
                );
            }
            Ok(Event::Text(t)) => assert!(depth > 0 || t.trim_ascii().is_empty()),
            Ok(_) => {}
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    assert_eq!(roots, 1, "one root element");
    elements
}

#[test]
fn the_timeline_is_well_formed_svg_with_escaped_text() {
    for f in [
        testing::completed(),
        testing::failed(),
        testing::mid_drill(),
        hostile(),
    ] {
        let svg = svg::timeline(&report(&f));
        well_formed(&svg);
    }
    let svg = svg::timeline(&report(&hostile()));
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;b&gt;db&lt;/b&gt;"));
    let svg = svg::timeline(&report(&testing::completed()));
    assert!(svg.contains("RTO target 45m 0s"));
    assert!(svg.contains("RTO 40m 15s"));
}

/// `waves` waves of `per_wave` servers each, all COMPLETED one second
/// apart, the last `failed` servers of each wave FAILED.
fn large(waves: u32, per_wave: usize, failed: usize) -> Fixture {
    let mut f = testing::completed();
    let template = f.waves[2].clone();
    f.waves.clear();
    f.execution.waves.truncate(1);
    let summary = f.execution.waves[0].clone();
    f.execution.waves.clear();
    for n in 1..=waves {
        let mut wave = template.clone();
        wave.number = crate::ids::WaveNumber(n);
        wave.name = format!("wave-{n}");
        let start = at(i64::from(n) * 10, 0);
        wave.start_time = Some(start);
        wave.end_time = Some(at(i64::from(n) * 10 + 9, 0));
        wave.servers = (0..per_wave)
            .map(|i| {
                let id = format!("s-{:017x}", u64::from(n) * 1000 + i as u64);
                let mut s = ServerState::new(
                    ServerPlan {
                        id: SourceServerId::parse(&id).unwrap(),
                        hostname: Some(format!("host-{n}-{i}")),
                        critical: true,
                        recovery_snapshot: None,
                    },
                    true,
                );
                s.launch_start_time = Some(start);
                s.launch_end_time = Some(at(i64::from(n) * 10 + 5, i as i64 % 60));
                if i >= per_wave - failed {
                    s.launch_status = LaunchStatus::Failed;
                    s.error_code = Some("LAUNCH_FAILED".to_owned());
                } else {
                    s.launch_status = LaunchStatus::Completed;
                    s.launched_instance_id = Some(format!("i-{:017x}", i));
                    s.healthy_time = Some(at(i64::from(n) * 10 + 8, i as i64 % 60));
                }
                s
            })
            .collect();
        f.execution.waves.push(crate::records::WaveSummary {
            number: wave.number,
            name: wave.name.clone(),
            server_count: per_wave,
            ..summary.clone()
        });
        f.waves.push(wave);
    }
    f.execution.end_time = Some(at(i64::from(waves) * 10 + 9, 0));
    f.execution.status = ExecutionStatus::Completed;
    f
}

#[test]
fn a_4000_server_timeline_is_summarised_per_wave_and_stays_small() {
    let f = large(40, 100, 7);
    let r = report(&f);
    assert_eq!(r.servers.total, 4000);
    let svg = svg::timeline(&r);
    let elements = well_formed(&svg);
    // 40 waves × (header + summary + 5 failed + "more" rows), a few
    // elements each, instead of thousands of rows.
    assert!(elements < 2_000, "{elements} elements");
    assert!(svg.len() < 400_000, "{} bytes", svg.len());
    assert!(svg.contains("100 servers, 93 launched, 7 failed"));
    assert!(svg.contains("and 2 more failed servers"));
    let height: f64 = svg
        .split("height=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("a height");
    assert!(height < 40.0 * 9.0 * 16.0 + 200.0, "height {height}");
    // Every server is still in the HTML tables.
    let html = html::render(&r);
    assert!(html.contains("host-40-99"));
}

#[test]
fn a_small_plan_gets_one_row_per_server() {
    let svg = svg::timeline(&report(&large(2, 100, 1)));
    well_formed(&svg);
    assert!(svg.contains(">host-2-57<"), "each server has its own row");
    assert!(!svg.contains("servers, "), "no summary rows");
}

#[test]
fn blocked_markdown_snapshot() {
    insta::assert_snapshot!(markdown::render(&report(&testing::blocked()), None));
}

#[test]
fn the_preflight_is_in_the_json_when_one_ran() {
    let r = report(&testing::blocked());
    let value: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let preflight = &value["preflight"];
    assert_eq!(preflight["state"], "DONE");
    assert_eq!(preflight["mode"], "block");
    assert_eq!(preflight["summary"], "2 errors, 1 warning, 1 note");
    assert_eq!(preflight["checkedAt"], "2025-03-14T09:00:05Z");
    assert_eq!(preflight["findings"][0]["check"], "REPLICATION");
    assert_eq!(
        preflight["findings"][0]["whatToDo"],
        testing::preflight_report().findings[0].what_to_do
    );
    let back: DrillReport = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(back, r);

    let none: serde_json::Value =
        serde_json::from_str(&report(&testing::completed()).to_json()).unwrap();
    assert!(none.get("preflight").is_none(), "no pre-flight ran");
}

#[test]
fn the_html_lists_each_finding_with_its_severity() {
    let html = html::render(&report(&testing::blocked()));
    assert!(html.contains("<h2>Pre-flight</h2>"));
    assert!(html.contains(
        "Checked 6 servers at 2025-03-14 09:00:05 UTC (T+5s): <span class=\"bad\">2 errors, 1 warning, 1 note</span>."
    ));
    assert!(html.contains(
        "<tr><td><span class=\"bad\">ERROR</span></td><td><code>REPLICATION</code></td><td>app-tier</td><td><code>s-0a1b2c3d4e5f60021</code></td>"
    ));
    assert!(html.contains("<td><span class=\"warn\">WARNING</span></td>"));
    assert!(html.contains("<td>INFO</td><td><code>SNAPSHOT_AGE</code></td><td>—</td><td>—</td>"));
    assert!(!html::render(&report(&testing::completed())).contains("Pre-flight</h2>"));
}

#[test]
fn a_preflight_that_never_answered_says_so() {
    let mut f = testing::failed();
    f.execution.preflight = crate::records::PreflightState::Checking {
        tries: 8,
        mode: crate::plan::PreflightMode::Block,
        last_error: Some("AccessDeniedException".to_owned()),
        throttled: 0,
        last_throttled: false,
        asked_at: None,
    };
    let md = markdown::render(&report(&f), None);
    assert!(
        md.contains(
            "## Pre-flight\n\nMode `block` (an error stops the start before any wave launches). It did not finish: the execution ended before pre-flight answered, so nothing was checked.\n\n## Timeline"
        ),
        "{md}"
    );
}

#[test]
fn finding_text_is_escaped_like_any_text_from_aws() {
    let mut f = testing::blocked();
    if let crate::records::PreflightState::Done { report, .. } = &mut f.execution.preflight {
        report.findings[0].message = "<script>x()</script> | `y`".to_owned();
    }
    let html = html::render(&report(&f));
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;script&gt;x()&lt;/script&gt; | `y`"));
    let md = markdown::render(&report(&f), None);
    assert!(md.contains("&lt;script&gt;x()&lt;/script&gt; \\| \\`y\\`"));
}

#[test]
fn a_cleaned_drill_keeps_its_rto_and_says_who_cleaned_it_up() {
    let completed = report(&testing::completed());
    let cleaning = report(&testing::cleaning_up());
    assert_eq!(cleaning.rto, completed.rto, "the clean-up changes no RTO");
    assert_eq!(cleaning.status, ExecutionStatus::Completed);
    let c = cleaning.cleanup.as_ref().expect("the clean-up is reported");
    assert_eq!(c.summary.requested_by, "alice");
    assert_eq!((c.summary.terminated, c.summary.failed), (2, 1));
    let listed: Vec<_> = c
        .not_terminated
        .iter()
        .map(|s| s.hostname.as_str())
        .collect();
    assert_eq!(listed, ["app-01", "s-0a1b2c3d4e5f60022"]);
    let value = serde_json::to_value(&cleaning).unwrap();
    assert_eq!(value["cleanup"]["status"], "IN_PROGRESS");
    assert_eq!(value["cleanup"]["notTerminated"][0]["status"], "FAILED");
    let md = markdown::render(&cleaning, None);
    assert!(md.contains("## Clean-up"), "{md}");
    assert!(md.contains("requested by **alice**"), "{md}");
    assert!(
        md.contains("not terminated: recovery instance i-0f9e8d7c6b5a40021"),
        "{md}"
    );
    let earlier = "terminated s-0a1b2c3d4e5f60011's leftover drill instance i-0leftover0000001 from an earlier drill";
    assert!(md.contains("## Before the launch"), "{md}");
    assert!(
        md.contains("i-0leftover0000001 from an earlier drill"),
        "{md}"
    );
    let html = html::render(&cleaning);
    assert!(html.contains("<h2>Clean-up</h2>"));
    assert!(html.contains("<h2>Before the launch</h2>"), "{html}");
    assert_eq!(cleaning.earlier_drill_instances, [earlier]);
    assert!(
        markdown::render(&completed, None)
            .find("Clean-up")
            .is_none()
    );
}

#[test]
fn operator_actions_have_a_section_and_a_mark_on_the_timeline() {
    use crate::records::{OperatorAction, OperatorActionKind};
    let mut f = testing::completed();
    f.execution.operator_actions.push(OperatorAction {
        action: OperatorActionKind::Retry,
        requested_by: "dr-lead".into(),
        at: at(12, 0),
        wave: Some(crate::ids::WaveNumber(2)),
        attempt: Some(2),
        servers: vec![],
        reason: Some("capacity is back".into()),
    });
    let r = report(&f);
    assert_eq!(r.operator_actions.len(), 1);
    let md = markdown::render(&r, None);
    assert!(md.contains("## Operator actions"), "{md}");
    assert!(md.contains("wave 2, attempt 2"), "{md}");
    assert!(md.contains("capacity is back"), "{md}");
    assert!(html::render(&r).contains("<h2>Operator actions</h2>"));
    let svg = svg::timeline(&r);
    assert!(
        svg.contains("RETRY wave 2 by dr-lead: capacity is back"),
        "{svg}"
    );
}
