//! Valid plans: what a plan file turns into — defaults, dependency chains,
//! split waves, and the example plans shipped with the project.

use ripcord::ids::{SourceServerId, WaveNumber};
use ripcord::plan::{
    ActionPlan, DEFAULT_ACTION_TIMEOUT, DEFAULT_EXECUTION_TIMEOUT, DEFAULT_HEALTH_TIMEOUT,
    DEFAULT_LAUNCH_TIMEOUT, HealthCheck, Mode, Plan, PlanOptions, PollIntervals, RetryPolicy,
    ServerPlan, WavePlan, load_plan, parse_plan,
};
use std::collections::BTreeMap;
use std::time::Duration;

fn parse(source: &str) -> Plan {
    let source = source.strip_prefix('\n').unwrap_or(source);
    parse_plan(source, "plan.yaml").unwrap_or_else(|e| panic!("plan should parse:\n{e}"))
}

fn id(s: &str) -> SourceServerId {
    SourceServerId::parse(s).unwrap()
}

/// `s-` and 17 hex digits ending in `n`.
fn server_id(n: usize) -> String {
    format!("s-{n:017x}")
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

fn numbers(ns: &[u32]) -> Vec<WaveNumber> {
    ns.iter().map(|&n| WaveNumber(n)).collect()
}

#[test]
fn a_full_plan_becomes_the_expected_plan() {
    let plan = parse(
        r#"
name: payments-drill
mode: drill
region: us-east-1
options:
  poll_intervals: { pending: 20s, launching: 5s, post_actions: 15s }
  retry: { max_attempts: 4, base_delay: 1s, max_delay: 1m 30s, max_poll_errors: 3 }
  execution_timeout: 6h
  rto_target: 2h 30m
defaults:
  launch_timeout: 50m
  health_timeout: 20m
  action_timeout: 7m
waves:
  - name: databases
    servers:
      - s-1234567890abcdef0
      - { id: s-1234567890abcdef1, hostname: db-2 }
      - { id: s-1234567890abcdef2, critical: false }
    wait_for_approval: true
    launch_timeout: 30m
    health_timeout: 10m
    post_launch:
      - name: start-db
        document: AWS-RunShellScript
        parameters: { commands: ["systemctl start postgresql"], workingDirectory: /tmp }
        timeout: 5m
      - name: warm-cache
        document: Custom-WarmCache
    health_checks:
      - ec2_status_ok
      - ssm_agent_online
      - command: "pg_isready -h localhost"
  - name: app
    servers: [s-00000000000000aa1]
"#,
    );
    let expected = Plan {
        name: "payments-drill".into(),
        mode: Mode::Drill,
        region: "us-east-1".into(),
        options: PlanOptions {
            poll_intervals: PollIntervals {
                pending: Duration::from_secs(20),
                launching: Duration::from_secs(5),
                post_actions: Duration::from_secs(15),
            },
            retry: RetryPolicy {
                max_attempts: 4,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(90),
                max_poll_errors: 3,
            },
            execution_timeout: Duration::from_secs(6 * 3600),
            rto_target: Some(Duration::from_secs(9000)),
            busy_servers: Default::default(),
            ..Default::default()
        },
        waves: vec![
            WavePlan {
                number: WaveNumber(1),
                name: "databases".into(),
                servers: vec![
                    ServerPlan {
                        id: id("s-1234567890abcdef0"),
                        hostname: None,
                        critical: true,
                        recovery_snapshot: None,
                    },
                    ServerPlan {
                        id: id("s-1234567890abcdef1"),
                        hostname: Some("db-2".into()),
                        critical: true,
                        recovery_snapshot: None,
                    },
                    ServerPlan {
                        id: id("s-1234567890abcdef2"),
                        hostname: None,
                        critical: false,
                        recovery_snapshot: None,
                    },
                ],
                depends_on: vec![],
                post_launch: vec![
                    ActionPlan {
                        name: "start-db".into(),
                        document: "AWS-RunShellScript".into(),
                        parameters: BTreeMap::from([
                            (
                                "commands".to_owned(),
                                vec!["systemctl start postgresql".to_owned()],
                            ),
                            ("workingDirectory".to_owned(), vec!["/tmp".to_owned()]),
                        ]),
                        timeout: mins(5),
                    },
                    ActionPlan {
                        name: "warm-cache".into(),
                        document: "Custom-WarmCache".into(),
                        parameters: BTreeMap::new(),
                        timeout: mins(7),
                    },
                ],
                health_checks: vec![
                    HealthCheck::Ec2StatusOk,
                    HealthCheck::SsmAgentOnline,
                    HealthCheck::Command {
                        command: "pg_isready -h localhost".into(),
                    },
                ],
                launch_timeout: mins(30),
                health_timeout: mins(10),
                wait_for_approval: true,
                select: None,
                recovery_snapshot: None,
            },
            WavePlan {
                number: WaveNumber(2),
                name: "app".into(),
                servers: vec![ServerPlan {
                    id: id("s-00000000000000aa1"),
                    hostname: None,
                    critical: true,
                    recovery_snapshot: None,
                }],
                depends_on: vec![WaveNumber(1)],
                post_launch: vec![],
                health_checks: vec![],
                launch_timeout: mins(50),
                health_timeout: mins(20),
                wait_for_approval: false,
                select: None,
                recovery_snapshot: None,
            },
        ],
    };
    assert_eq!(plan, expected);
}

#[test]
fn absent_options_and_defaults_take_the_documented_defaults() {
    let plan = parse(
        r#"
name: minimal
mode: recovery
region: eu-west-2
waves:
  - name: only
    servers: [s-1234567890abcdef0]
    post_launch:
      - { name: hello, document: AWS-RunShellScript, parameters: { commands: "echo hi" } }
"#,
    );
    assert_eq!(plan.mode, Mode::Recovery);
    assert_eq!(plan.options.poll_intervals, PollIntervals::default());
    assert_eq!(plan.options.retry, RetryPolicy::default());
    assert_eq!(plan.options.execution_timeout, DEFAULT_EXECUTION_TIMEOUT);
    assert_eq!(plan.options.rto_target, None);
    let wave = &plan.waves[0];
    assert_eq!(wave.launch_timeout, DEFAULT_LAUNCH_TIMEOUT);
    assert_eq!(wave.health_timeout, DEFAULT_HEALTH_TIMEOUT);
    assert!(!wave.wait_for_approval);
    assert_eq!(wave.post_launch[0].timeout, DEFAULT_ACTION_TIMEOUT);
    assert_eq!(
        wave.post_launch[0].parameters["commands"],
        vec!["echo hi".to_owned()]
    );
}

#[test]
fn waves_depend_on_the_previous_wave_unless_they_say_otherwise() {
    let plan = parse(
        r#"
name: chain
mode: drill
region: us-east-1
waves:
  - { name: a, servers: [s-00000000000000001] }
  - { name: b, servers: [s-00000000000000002] }
  - { name: c, servers: [s-00000000000000003] }
  - { name: d, servers: [s-00000000000000004], depends_on: [] }
  - { name: e, servers: [s-00000000000000005], depends_on: [a, c, a] }
  - { name: f, servers: [s-00000000000000006] }
"#,
    );
    let deps: Vec<(u32, &str, Vec<WaveNumber>)> = plan
        .waves
        .iter()
        .map(|w| (w.number.0, w.name.as_str(), w.depends_on.clone()))
        .collect();
    assert_eq!(
        deps,
        vec![
            (1, "a", numbers(&[])),
            (2, "b", numbers(&[1])),
            (3, "c", numbers(&[2])),
            (4, "d", numbers(&[])),
            (5, "e", numbers(&[1, 3])),
            (6, "f", numbers(&[5])),
        ]
    );
}

#[test]
fn a_dependency_on_a_later_wave_is_allowed_when_there_is_no_cycle() {
    let plan = parse(
        r#"
name: out-of-order
mode: drill
region: us-east-1
waves:
  - { name: app, servers: [s-00000000000000001], depends_on: [db] }
  - { name: db, servers: [s-00000000000000002], depends_on: [] }
"#,
    );
    assert_eq!(plan.waves[0].depends_on, numbers(&[2]));
    assert_eq!(plan.waves[1].depends_on, numbers(&[]));
}

/// A plan whose wave `app` has `n` servers, between waves `db` and `web`.
fn plan_with_app_wave_of(n: usize, split: bool) -> String {
    let app_servers: Vec<String> = (0..n).map(|i| server_id(0x1000 + i)).collect();
    format!(
        r#"name: big
mode: drill
region: us-east-1
options:
  split_large_waves: {split}
waves:
  - {{ name: db, servers: [{db}] }}
  - name: app
    servers: [{app}]
    wait_for_approval: true
    launch_timeout: 2h
    post_launch:
      - {{ name: warm, document: AWS-RunShellScript, parameters: {{ commands: "true" }} }}
    health_checks: [ec2_status_ok]
  - {{ name: web, servers: [{web}] }}
  - {{ name: reports, servers: [{reports}], depends_on: [db, app] }}
"#,
        db = server_id(1),
        app = app_servers.join(", "),
        web = server_id(2),
        reports = server_id(3),
    )
}

#[test]
fn a_large_wave_is_split_into_even_parts_and_its_dependents_wait_for_all_of_them() {
    let plan = parse_plan(&plan_with_app_wave_of(250, true), "big.yaml").unwrap();
    let names: Vec<&str> = plan.waves.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "db",
            "app (part 1/3)",
            "app (part 2/3)",
            "app (part 3/3)",
            "web",
            "reports"
        ]
    );
    let sizes: Vec<usize> = plan.waves.iter().map(|w| w.servers.len()).collect();
    assert_eq!(sizes, vec![1, 84, 83, 83, 1, 1]);
    let numbers_in_order: Vec<u32> = plan.waves.iter().map(|w| w.number.0).collect();
    assert_eq!(numbers_in_order, vec![1, 2, 3, 4, 5, 6]);

    // The parts run side by side after `db`, each a full copy of the original.
    for part in &plan.waves[1..4] {
        assert_eq!(part.depends_on, numbers(&[1]), "{}", part.name);
        assert!(part.wait_for_approval);
        assert_eq!(part.launch_timeout, Duration::from_secs(7200));
        assert_eq!(part.post_launch.len(), 1);
        assert_eq!(part.post_launch[0].name, "warm");
        assert_eq!(part.health_checks, vec![HealthCheck::Ec2StatusOk]);
    }
    assert_eq!(plan.waves[4].depends_on, numbers(&[2, 3, 4]));
    assert_eq!(plan.waves[5].depends_on, numbers(&[1, 2, 3, 4]));

    // Every server is kept exactly once, in file order.
    let app_servers: Vec<String> = plan.waves[1..4]
        .iter()
        .flat_map(|w| w.servers.iter().map(|s| s.id.to_string()))
        .collect();
    let expected: Vec<String> = (0..250).map(|i| server_id(0x1000 + i)).collect();
    assert_eq!(app_servers, expected);
    assert_eq!(plan.server_count(), 253);
}

#[test]
fn a_wave_of_exactly_one_hundred_servers_is_not_split() {
    let plan = parse_plan(&plan_with_app_wave_of(100, true), "big.yaml").unwrap();
    assert_eq!(plan.waves[1].name, "app");
    assert_eq!(plan.waves[1].servers.len(), 100);
    assert_eq!(plan.waves.len(), 4);
}

#[test]
fn the_example_in_the_module_documentation_parses() {
    let module = include_str!("../src/plan/mod.rs");
    let yaml: String = module
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .skip_while(|l| l.trim() != "```yaml")
        .skip(1)
        .take_while(|l| l.trim() != "```")
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    assert!(
        yaml.contains("waves:"),
        "no yaml block found in plan/mod.rs"
    );
    let plan = parse_plan(&yaml, "mod.rs").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.name, "payments-drill");
    assert_eq!(plan.waves.len(), 3);
    assert_eq!(plan.waves[0].servers.len(), 3);
    assert!(!plan.waves[0].servers[2].critical);
    assert_eq!(plan.waves[1].depends_on, numbers(&[1]));
    let web = &plan.waves[2];
    assert!(web.servers.is_empty(), "selected at submission");
    assert_eq!(
        web.select.as_ref().map(|s| s.describe()).as_deref(),
        Some("{app: payments, tier: web}")
    );
    assert!(matches!(
        web.recovery_snapshot,
        Some(ripcord::plan::SnapshotChoice::Before { .. })
    ));
    assert_eq!(
        plan.waves[1].recovery_snapshot,
        Some(ripcord::plan::SnapshotChoice::Latest),
        "the plan's choice"
    );
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let err = load_plan(std::path::Path::new("/nonexistent/plan.yaml")).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].file, "/nonexistent/plan.yaml");
    assert!(
        err.0[0].message.contains("cannot read the plan file"),
        "{err}"
    );
}

#[test]
fn a_plan_at_the_drs_source_server_quota_parses_and_splits() {
    // 4,000 servers (DRS' default source-server quota) as one block list.
    let servers: String = (0..4000)
        .map(|i| format!("      - {}\n", server_id(0x10_0000 + i)))
        .collect();
    let source = format!(
        "name: everything\nmode: drill\nregion: us-east-1\noptions:\n  split_large_waves: true\nwaves:\n  - name: all\n    servers:\n{servers}  - {{ name: after, servers: [{}] }}\n",
        server_id(1)
    );
    let plan = parse_plan(&source, "all.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.waves.len(), 41);
    assert!(plan.waves[..40].iter().all(|w| w.servers.len() == 100));
    assert_eq!(plan.waves[0].name, "all (part 1/40)");
    assert_eq!(plan.waves[40].depends_on.len(), 40);
    assert_eq!(plan.server_count(), 4001);
}

#[test]
fn busy_servers_is_refuse_unless_the_plan_says_wait() {
    let base = "name: p\nmode: drill\nregion: us-east-1\nwaves:\n  - name: w\n    servers: [s-0a1b2c3d4e5f60001]\n";
    let plan = ripcord::plan::parse_plan(base, "p.yaml").expect("valid");
    assert_eq!(
        plan.options.busy_servers,
        ripcord::plan::BusyServers::Refuse
    );
    let waiting = base.replace("waves:", "options:\n  busy_servers: wait\nwaves:");
    let plan = ripcord::plan::parse_plan(&waiting, "p.yaml").expect("valid");
    assert_eq!(plan.options.busy_servers, ripcord::plan::BusyServers::Wait);
    let wrong = base.replace("waves:", "options:\n  busy_servers: queue\nwaves:");
    let err = ripcord::plan::parse_plan(&wrong, "p.yaml").expect_err("an unknown value");
    assert!(
        err.to_string()
            .contains("p.yaml:5:17: unknown variant `queue`, expected one of refuse, wait"),
        "{err}"
    );
}

#[test]
fn a_drill_may_clean_up_a_while_after_it_settles() {
    let plan = parse(&format!(
        "name: p\nmode: drill\nregion: us-east-1\noptions:\n  cleanup: {{ after: 2h }}\nwaves:\n  - name: db\n    servers: [{}]\n",
        server_id(1)
    ));
    assert_eq!(plan.options.cleanup_after, Some(mins(120)));
    let kept = parse(&format!(
        "name: p\nmode: drill\nregion: us-east-1\nwaves:\n  - name: db\n    servers: [{}]\n",
        server_id(1)
    ));
    assert_eq!(kept.options.cleanup_after, None, "default: keep");
}
