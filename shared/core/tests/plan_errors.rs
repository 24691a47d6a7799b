//! Invalid plans: every kind of mistake is reported at the line and column
//! of the offending node, with a message that says how to fix it, and all
//! the validation errors of a plan come together in source order.

use ripcord::plan::{PlanError, parse_plan};

/// Every error of `source` as (line, column, message).
fn errors(source: &str) -> Vec<(u64, u64, String)> {
    let source = source.strip_prefix('\n').unwrap_or(source);
    match parse_plan(source, "plan.yaml") {
        Ok(plan) => panic!("expected errors, the plan parsed: {plan:?}"),
        Err(e) => {
            e.0.into_iter()
                .map(
                    |PlanError {
                         file,
                         line,
                         column,
                         message,
                     }| {
                        assert_eq!(file, "plan.yaml");
                        (line, column, message)
                    },
                )
                .collect()
        }
    }
}

/// The one error of `source`, after checking there is exactly one.
fn error(source: &str) -> (u64, u64, String) {
    let mut all = errors(source);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    all.pop().unwrap()
}

/// Asserts `message` mentions every piece of `parts`.
#[track_caller]
fn assert_says(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "`{message}` should mention `{part}`"
        );
    }
}

const HEADER: &str = "name: p\nmode: drill\nregion: us-east-1\n";

#[test]
fn a_yaml_syntax_error_points_at_the_broken_node() {
    let (line, column, message) = error(
        r#"
name: broken
mode: drill
region: us-east-1
waves:
  - name: db
    servers: [s-1234567890abcdef0
"#,
    );
    assert_eq!((line, column), (6, 14));
    assert_says(&message, &["unclosed bracket"]);
}

#[test]
fn an_unknown_field_is_named_with_the_fields_allowed_there() {
    let (line, column, message) = error(
        r#"
name: p
mode: drill
region: us-east-1
waves:
  - name: db
    servers: [s-1234567890abcdef0]
    launch_timout: 5m
"#,
    );
    assert_eq!((line, column), (7, 5));
    assert_says(
        &message,
        &[
            "unknown field `launch_timout`",
            "launch_timeout",
            "depends_on",
        ],
    );

    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers:\n      - {{ id: s-1234567890abcdef0, hostnme: db-1 }}\n"
    ));
    assert_eq!((line, column), (7, 36));
    assert_says(
        &message,
        &["unknown field `hostnme`", "id, hostname, critical"],
    );

    let (line, column, message) = error(&format!(
        "{HEADER}options:\n  split_large_wave: true\nwaves: []\n"
    ));
    assert_eq!((line, column), (5, 3));
    assert_says(&message, &["`split_large_wave`", "split_large_waves"]);
}

#[test]
fn a_duplicate_key_is_reported_where_it_is_repeated() {
    let (line, column, message) = error("name: p\nmode: drill\nname: q\n");
    assert_eq!((line, column), (3, 1));
    assert_says(&message, &["`name` is set twice"]);
}

#[test]
fn a_value_of_the_wrong_type_is_reported_at_the_value() {
    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers: [s-1234567890abcdef0]\n    wait_for_approval: maybe\n"
    ));
    assert_eq!((line, column), (7, 24));
    assert_says(&message, &["`true` or `false`"]);

    let (line, column, message) = error(&format!("{HEADER}waves:\n  - just-a-string\n"));
    assert_eq!((line, column), (5, 5));
    assert_says(&message, &["expected a mapping"]);

    let (line, column, message) = error(&format!("{HEADER}waves:\n  name: db\n"));
    assert_eq!((line, column), (5, 3));
    assert_says(&message, &["expected a list"]);
}

#[test]
fn missing_required_fields_are_each_reported() {
    let all = errors("waves:\n  - { name: db, servers: [s-1234567890abcdef0] }\n");
    let messages: Vec<&str> = all.iter().map(|(_, _, m)| m.as_str()).collect();
    assert_eq!(
        all.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(),
        vec![(1, 1); 3]
    );
    assert_says(messages[0], &["no `name`", "name: payments-drill"]);
    assert_says(messages[1], &["no `mode`", "mode: drill", "mode: recovery"]);
    assert_says(messages[2], &["no `region`", "region: us-east-1"]);

    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - servers: [s-1234567890abcdef0]\n"
    ));
    assert_eq!((line, column), (5, 5));
    assert_says(&message, &["wave 1 has no `name`"]);

    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers: [s-1234567890abcdef0]\n    post_launch:\n      - name: start\n        timeout: 5m\n"
    ));
    assert_eq!((line, column), (8, 9));
    assert_says(
        &message,
        &["action `start` has no `document`", "AWS-RunShellScript"],
    );

    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers:\n      - {{ hostname: db-1 }}\n"
    ));
    assert_eq!((line, column), (7, 9));
    assert_says(&message, &["no `id`"]);

    let (line, column, message) = error(&format!("{HEADER}waves:\n  - name: db\n"));
    assert_eq!((line, column), (5, 5));
    assert_says(&message, &["wave `db` has no `servers`"]);
}

#[test]
fn a_malformed_server_id_is_reported_at_the_id() {
    let all = errors(&format!(
        "{HEADER}waves:\n  - name: db\n    servers:\n      - s-12345\n      - {{ id: S-1234567890ABCDEF0 }}\n"
    ));
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!((all[0].0, all[0].1), (7, 9));
    assert_says(
        &all[0].2,
        &[
            "`s-12345` is not a DRS source server id",
            "it has 5 characters after `s-`, not 17",
            "17 letters or digits",
        ],
    );
    assert_eq!((all[1].0, all[1].1), (8, 15));
    assert_says(
        &all[1].2,
        &[
            "it does not start with `s-`",
            "write the prefix in lowercase: s-1234567890ABCDEF0",
        ],
    );
}

/// DRS' SourceServerID pattern is `s-[0-9a-zA-Z]{17}`: upper case letters
/// and letters past `f` are ids DRS accepts, so the plan does too.
#[test]
fn server_ids_are_checked_against_drs_own_pattern() {
    let plan = format!(
        "{HEADER}waves:\n  - name: db\n    servers:\n      - s-1234567890ABCDEF0\n      - s-0a1b2c3d4e5f6g7h8\n"
    );
    let plan = match parse_plan(&plan, "plan.yaml") {
        Ok(plan) => plan,
        Err(e) => panic!("DRS accepts these ids, so must the plan: {e:?}"),
    };
    let ids: Vec<String> = plan.waves[0]
        .servers
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(ids, ["s-1234567890ABCDEF0", "s-0a1b2c3d4e5f6g7h8"]);

    let all = errors(&format!(
        "{HEADER}waves:\n  - name: db\n    servers:\n      - s-1234567890abcdef01\n      - s-1234567890abcde_0\n"
    ));
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_says(&all[0].2, &["it has 18 characters after `s-`, not 17"]);
    assert_says(
        &all[1].2,
        &["'_' at position 18 is not an ASCII letter or digit"],
    );
}

#[test]
fn a_server_in_two_waves_is_reported_at_the_second_naming_the_first() {
    let (line, column, message) = error(
        r#"
name: p
mode: drill
region: us-east-1
waves:
  - name: db
    servers: [s-1234567890abcdef0, s-1234567890abcdef1]
  - name: app
    servers:
      - s-1234567890abcdef2
      - { id: s-1234567890abcdef1, hostname: app-1 }
"#,
    );
    assert_eq!((line, column), (10, 15));
    assert_says(
        &message,
        &[
            "s-1234567890abcdef1 is already in wave `db` (line 6)",
            "only one wave",
        ],
    );

    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers:\n      - s-1234567890abcdef0\n      - s-1234567890abcdef0\n"
    ));
    assert_eq!((line, column), (8, 9));
    assert_says(&message, &["listed twice in wave `db` (first at line 7)"]);
}

#[test]
fn duplicate_wave_names_are_reported_at_the_second() {
    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers: [s-00000000000000001]\n  - name: db\n    servers: [s-00000000000000002]\n"
    ));
    assert_eq!((line, column), (7, 11));
    assert_says(
        &message,
        &["`db` is already used by the wave at line 5", "unique"],
    );
}

#[test]
fn a_dependency_on_an_unknown_wave_is_reported_at_the_name() {
    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers: [s-00000000000000001]\n  - name: app\n    servers: [s-00000000000000002]\n    depends_on: [db, cache]\n"
    ));
    assert_eq!((line, column), (9, 22));
    assert_says(
        &message,
        &["wave `app` depends on `cache`", "its waves are db, app"],
    );
}

#[test]
fn a_three_wave_cycle_is_named_and_reported_once() {
    // b and c depend on the wave before them by default; a closes the loop.
    let (line, column, message) = error(
        r#"
name: p
mode: drill
region: us-east-1
waves:
  - name: a
    servers: [s-00000000000000001]
    depends_on: [c]
  - name: b
    servers: [s-00000000000000002]
  - name: c
    servers: [s-00000000000000003]
"#,
    );
    assert_eq!((line, column), (7, 18));
    assert_says(
        &message,
        &["dependency cycle a -> c -> b -> a", "remove one"],
    );

    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - {{ name: x, servers: [s-00000000000000001], depends_on: [] }}\n  - {{ name: y, servers: [s-00000000000000002], depends_on: [z] }}\n  - {{ name: z, servers: [s-00000000000000003], depends_on: [y] }}\n"
    ));
    assert_eq!((line, column), (6, 61));
    assert_says(&message, &["dependency cycle y -> z -> y"]);
}

#[test]
fn a_wave_depending_on_itself_is_a_cycle() {
    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - {{ name: x, servers: [s-00000000000000001], depends_on: [x] }}\n"
    ));
    assert_eq!((line, column), (5, 61));
    assert_says(&message, &["wave `x` depends on itself"]);
}

#[test]
fn an_empty_wave_and_an_empty_plan_are_rejected() {
    let (line, column, message) =
        error(&format!("{HEADER}waves:\n  - name: db\n    servers: []\n"));
    assert_eq!((line, column), (6, 14));
    assert_says(&message, &["wave `db` has no servers"]);

    let (line, column, message) = error(&format!("{HEADER}waves: []\n"));
    assert_eq!((line, column), (4, 8));
    assert_says(&message, &["the plan has no waves"]);

    let (line, column, message) = error(HEADER);
    assert_eq!((line, column), (1, 1));
    assert_says(&message, &["the plan has no waves"]);

    let (line, column, message) = error("# nothing yet\n");
    assert_eq!((line, column), (1, 1));
    assert_says(&message, &["the plan is empty"]);
}

#[test]
fn a_wave_over_one_hundred_servers_needs_splitting() {
    let servers: Vec<String> = (1..=101).map(|n| format!("s-{n:017x}")).collect();
    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: app\n    servers: [{}]\n",
        servers.join(", ")
    ));
    assert_eq!((line, column), (6, 14));
    assert_says(
        &message,
        &[
            "wave `app` has 101 servers",
            "at most 100 servers per recovery job",
            "split it into waves of at most 100 servers",
            "`options.split_large_waves: true`",
        ],
    );
}

/// `count` waves of one server each, the first at line 5.
fn plan_with_waves(count: usize, options: &str) -> String {
    let waves: String = (1..=count)
        .map(|n| format!("  - {{ name: w{n}, servers: [s-{n:017x}] }}\n"))
        .collect();
    format!("{HEADER}{options}waves:\n{waves}")
}

#[test]
fn a_plan_holds_at_most_99_waves() {
    assert!(parse_plan(&plan_with_waves(99, ""), "plan.yaml").is_ok());
    let (line, column, message) = error(&plan_with_waves(100, ""));
    assert_eq!((line, column), (5, 3));
    assert_says(
        &message,
        &["the plan has 100 waves", "at most 99", "merge waves"],
    );
}

#[test]
fn parts_of_split_waves_count_against_the_99_waves() {
    // 98 written waves, one of them 250 servers split in three: 100 waves.
    let mut source = plan_with_waves(97, "options: { split_large_waves: true }\n");
    let big: Vec<String> = (0x1000..0x1000 + 250)
        .map(|n| format!("s-{n:017x}"))
        .collect();
    source.push_str(&format!(
        "  - {{ name: big, servers: [{}] }}\n",
        big.join(", ")
    ));
    let (_, _, message) = error(&source);
    assert_says(
        &message,
        &["the plan has 100 waves (98 written, the rest parts of split waves)"],
    );
}

#[test]
fn an_rto_target_must_be_a_duration_longer_than_zero() {
    for (value, says) in [
        ("0s", "`rto_target` is zero"),
        ("soon", "`rto_target` is `soon`"),
    ] {
        let (line, column, message) = error(&format!(
            "{HEADER}options:\n  rto_target: {value}\nwaves:\n  - name: db\n    servers: [s-00000000000000001]\n"
        ));
        assert_eq!((line, column), (5, 15), "{message}");
        assert_says(&message, &[says]);
    }
}

#[test]
fn invalid_and_zero_durations_are_rejected() {
    let all = errors(&format!(
        "{HEADER}options:\n  poll_intervals: {{ pending: 0s, launching: soon }}\n  execution_timeout: 300\nwaves:\n  - name: db\n    servers: [s-00000000000000001]\n    health_timeout: 0m\n    post_launch:\n      - {{ name: a, document: D, timeout: 5 parsecs }}\n"
    ));
    let at: Vec<(u64, u64)> = all.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        at,
        vec![(5, 30), (5, 45), (6, 22), (10, 21), (12, 42)],
        "{all:#?}"
    );
    assert_says(
        &all[0].2,
        &["`poll_intervals.pending` is zero", "longer than zero"],
    );
    assert_says(
        &all[1].2,
        &[
            "`poll_intervals.launching` is `soon`",
            "`30s`, `5m` or `1h 30m`",
        ],
    );
    assert_says(&all[2].2, &["`execution_timeout` is `300`", "unit"]);
    assert_says(&all[3].2, &["`health_timeout` is zero"]);
    assert_says(&all[4].2, &["`timeout` is `5 parsecs`"]);
}

/// A duration of years is a mistaken unit, and one past what a timestamp
/// can be moved by would put the deadline at the start: refused, saying so.
#[test]
fn a_duration_longer_than_a_year_is_refused() {
    let (line, column, message) = error(&format!(
        "{HEADER}options:
  execution_timeout: 500000years
waves:
  - name: db
    servers: [s-00000000000000001]
"
    ));
    assert_eq!((line, column), (5, 22), "{message}");
    assert_says(
        &message,
        &["`execution_timeout` is 500000years", "check the unit"],
    );
}

#[test]
fn retry_limits_must_be_at_least_one() {
    let all = errors(&format!(
        "{HEADER}options:\n  retry: {{ max_attempts: 0, max_poll_errors: 0, base_delay: 10s, max_delay: 5s }}\nwaves:\n  - {{ name: db, servers: [s-00000000000000001] }}\n"
    ));
    let at: Vec<(u64, u64)> = all.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(at, vec![(5, 26), (5, 46), (5, 77)], "{all:#?}");
    assert_says(
        &all[0].2,
        &["`retry.max_attempts` is 0", "at least 1", "first try"],
    );
    assert_says(&all[1].2, &["`retry.max_poll_errors` is 0"]);
    assert_says(
        &all[2].2,
        &["`retry.max_delay` (5s) is shorter than `retry.base_delay` (10s)"],
    );

    let (line, column, message) = error(&format!(
        "{HEADER}options:\n  retry: {{ max_attempts: -1 }}\nwaves:\n  - {{ name: db, servers: [s-00000000000000001] }}\n"
    ));
    assert_eq!((line, column), (5, 26));
    assert_says(&message, &["whole number"]);
}

#[test]
fn empty_names_are_rejected() {
    let all = errors(
        r#"
name: ""
mode: drill
region: us-east-1
waves:
  - name: "  "
    servers: [s-00000000000000001]
    post_launch:
      - { name: "", document: AWS-RunShellScript }
      - { name: x, document: "" }
    health_checks:
      - command: ""
"#,
    );
    let at: Vec<(u64, u64)> = all.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        at,
        vec![(1, 7), (5, 11), (8, 17), (9, 30), (11, 18)],
        "{all:#?}"
    );
    assert_says(&all[0].2, &["the plan's `name` is empty"]);
    assert_says(&all[1].2, &["wave 1 has an empty `name`"]);
    assert_says(&all[2].2, &["action 1 of wave 1 has an empty `name`"]);
    assert_says(&all[3].2, &["action `x` has an empty `document`"]);
    assert_says(&all[4].2, &["`command` is empty"]);
}

#[test]
fn a_bad_mode_says_which_modes_exist() {
    let (line, column, message) = error(
        "name: p\nmode: drll\nregion: us-east-1\nwaves:\n  - { name: db, servers: [s-00000000000000001] }\n",
    );
    assert_eq!((line, column), (2, 7));
    assert_says(&message, &["`mode` is `drll`", "`drill`", "`recovery`"]);
}

#[test]
fn a_bad_region_is_reported() {
    let (line, column, message) = error(
        "name: p\nmode: drill\nregion: US East\nwaves:\n  - { name: db, servers: [s-00000000000000001] }\n",
    );
    assert_eq!((line, column), (3, 9));
    assert_says(&message, &["`US East` is not an AWS region", "us-east-1"]);
}

#[test]
fn unknown_health_checks_are_reported_with_the_allowed_forms() {
    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers: [s-00000000000000001]\n    health_checks:\n      - ec2_status_ok\n      - ec2_status\n"
    ));
    assert_eq!((line, column), (9, 9));
    assert_says(
        &message,
        &[
            "unknown health check `ec2_status`",
            "`ssm_agent_online`",
            "command",
        ],
    );

    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers: [s-00000000000000001]\n    health_checks:\n      - {{ cmd: \"true\" }}\n"
    ));
    assert_eq!((line, column), (8, 11));
    assert_says(&message, &["unknown field `cmd`", "command"]);

    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers: [s-00000000000000001]\n    health_checks:\n      - [ec2_status_ok]\n"
    ));
    assert_eq!((line, column), (8, 9));
    assert_says(
        &message,
        &["`ec2_status_ok`, `ssm_agent_online` or `{ command"],
    );
}

#[test]
fn duplicate_action_names_in_a_wave_are_rejected() {
    let (line, column, message) = error(&format!(
        "{HEADER}waves:\n  - name: db\n    servers: [s-00000000000000001]\n    post_launch:\n      - {{ name: start, document: A }}\n      - {{ name: start, document: B }}\n"
    ));
    assert_eq!((line, column), (9, 17));
    assert_says(&message, &["already has an action named `start` (line 8)"]);
}

#[test]
fn a_split_part_name_may_not_clash_with_another_wave() {
    let servers: Vec<String> = (1..=150).map(|n| format!("s-{n:017x}")).collect();
    let (line, column, message) = error(&format!(
        "{HEADER}options: {{ split_large_waves: true }}\nwaves:\n  - name: app\n    servers: [{}]\n  - name: app (part 2/2)\n    servers: [s-0000000000000ffff]\n",
        servers.join(", ")
    ));
    assert_eq!((line, column), (8, 11));
    assert_says(
        &message,
        &["`app (part 2/2)` is also the name of a part of wave `app`"],
    );
}

/// A plan with many mistakes at once: all of them, in file order.
const MANY_MISTAKES: &str = r#"name: payments-drill
mode: rehearsal
region: us-east-1
options:
  retry: { max_attempts: 0 }
  poll_intervals: { launching: 0s }
waves:
  - name: databases
    servers:
      - s-1234567890abcdef0
      - s-1234567890abcdef_
    launch_timeout: 90
  - name: app
    servers:
      - s-1234567890abcdef0
    depends_on: [databases, cache]
    health_checks: [ec2_status_ok, http_ok]
  - name: app
    servers: []
  - name: web
    servers: [s-00000000000000001]
    depends_on: [loop]
  - name: loop
    servers: [s-00000000000000002]
    depends_on: [web]
"#;

#[test]
fn all_validation_errors_are_reported_together_in_source_order() {
    let all = errors(MANY_MISTAKES);
    let at: Vec<(u64, u64)> = all.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        at,
        vec![
            (2, 7),
            (5, 26),
            (6, 32),
            (11, 9),
            (12, 21),
            (15, 9),
            (16, 29),
            (17, 36),
            (18, 11),
            (19, 14),
            (22, 18),
        ],
        "{all:#?}"
    );
}

#[test]
fn the_rendered_error_list_reads_well() {
    let rendered = parse_plan(MANY_MISTAKES, "plans/payments.yaml")
        .unwrap_err()
        .to_string();
    insta::assert_snapshot!(rendered);
}

#[test]
fn cleanup_after_is_refused_on_a_recovery_plan_and_needs_after() {
    let (line, column, message) = error(
        r#"
name: p
mode: recovery
region: us-east-1
options:
  cleanup: { after: 2h }
waves:
  - name: db
    servers: [s-1234567890abcdef0]
"#,
    );
    assert_eq!((line, column), (5, 12));
    assert_says(
        &message,
        &["options.cleanup", "mode: recovery", "--confirm-recovery"],
    );
    let (_, _, message) = error(&format!(
        "{HEADER}options:\n  cleanup: {{}}\nwaves:\n  - name: db\n    servers: [s-1234567890abcdef0]\n"
    ));
    assert_says(&message, &["no `after`", "cleanup: { after: 2h }"]);
}

#[test]
fn cleanup_previous_is_refused_on_a_recovery_plan() {
    let (line, column, message) = error(
        r#"
name: p
mode: recovery
region: us-east-1
options:
  cleanup_previous: true
waves:
  - name: db
    servers: [s-1234567890abcdef0]
"#,
    );
    assert_eq!((line, column), (5, 21));
    assert_says(&message, &["options.cleanup_previous", "mode: recovery"]);
}
