//! Test fixtures shared by this crate's tests and, through the `testing`
//! cargo feature, by other crates' tests: a three-wave drill plan and its
//! records at a few moments (fresh, mid-drill, failed, completed, blocked
//! by pre-flight), with fixed ids and instants so snapshots stay stable.

use crate::ids::{ExecutionId, SourceServerId, WaveNumber};
use crate::plan::{
    ActionPlan, DEFAULT_ACTION_TIMEOUT, DEFAULT_EXECUTION_TIMEOUT, DEFAULT_HEALTH_TIMEOUT,
    DEFAULT_LAUNCH_TIMEOUT, HealthCheck, Mode, Plan, PlanOptions, PollIntervals, RetryPolicy,
    ServerPlan, WavePlan,
};
use crate::preflight::{CheckName, Finding, PreflightReport, Severity};
use crate::records::{ExecutionRecord, InvocationResult, LaunchState, ServerState, WaveRecord};
use crate::status::{ExecutionView, execution_status};
use crate::status_model::{ActionStatus, ExecutionStatus, HealthStatus, LaunchStatus, WaveStatus};
use crate::time::Timestamp;
use chrono::{TimeDelta, TimeZone, Utc};
use std::collections::BTreeMap;

/// The execution records at one instant, and that instant.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub execution: ExecutionRecord,
    pub waves: Vec<WaveRecord>,
    pub now: Timestamp,
}

impl Fixture {
    /// The status view of these records at `now`.
    pub fn view(&self) -> ExecutionView {
        execution_status(&self.execution, &self.waves, self.now)
    }

    /// Sets a wave's status in both its record and the execution's summary.
    pub fn set_wave_status(&mut self, wave: u32, status: WaveStatus) {
        self.wave_mut(wave).status = status;
        let summary = &mut self.execution.waves[WaveNumber(wave).index()];
        summary.status = status;
        summary.started |= status != WaveStatus::Pending;
    }

    pub fn wave_mut(&mut self, wave: u32) -> &mut WaveRecord {
        &mut self.waves[WaveNumber(wave).index()]
    }

    pub fn server_mut(&mut self, wave: u32, index: usize) -> &mut ServerState {
        &mut self.wave_mut(wave).servers[index]
    }
}

/// 2025-03-14T09:00:00Z, when every fixture execution starts.
pub fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2025, 3, 14, 9, 0, 0)
        .single()
        .expect("a valid instant")
}

/// `t0()` plus minutes and seconds.
pub fn at(minutes: i64, seconds: i64) -> Timestamp {
    t0() + TimeDelta::minutes(minutes) + TimeDelta::seconds(seconds)
}

pub fn execution_id() -> ExecutionId {
    "3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f"
        .parse()
        .expect("a valid uuid")
}

/// The n-th fixture source server id: `s-0a1b2c3d4e5f6` and four hex digits.
pub fn server_id(n: u16) -> SourceServerId {
    SourceServerId::parse(&format!("s-0a1b2c3d4e5f6{n:04x}")).expect("a valid source server id")
}

/// A drill of three waves of two servers each: `database` (one post-launch
/// action), `app-tier` (one action; one server without a hostname) and
/// `web-tier` (waits for approval).
pub fn plan() -> Plan {
    let server = |n: u16, hostname: Option<&str>, critical: bool| ServerPlan {
        id: server_id(n),
        hostname: hostname.map(str::to_owned),
        critical,
        recovery_snapshot: None,
    };
    let action = |name: &str, document: &str| ActionPlan {
        name: name.to_owned(),
        document: document.to_owned(),
        parameters: BTreeMap::new(),
        timeout: DEFAULT_ACTION_TIMEOUT,
    };
    let wave = |number: u32, name: &str, servers: Vec<ServerPlan>| WavePlan {
        number: WaveNumber(number),
        name: name.to_owned(),
        servers,
        depends_on: if number > 1 {
            vec![WaveNumber(number - 1)]
        } else {
            vec![]
        },
        post_launch: vec![],
        health_checks: vec![HealthCheck::Ec2StatusOk],
        launch_timeout: DEFAULT_LAUNCH_TIMEOUT,
        health_timeout: DEFAULT_HEALTH_TIMEOUT,
        wait_for_approval: false,
        select: None,
        recovery_snapshot: None,
    };
    let mut database = wave(
        1,
        "database",
        vec![
            server(0x11, Some("db-primary"), true),
            server(0x12, Some("db-replica"), false),
        ],
    );
    database.post_launch = vec![action("verify-replication", "Ripcord-VerifyReplication")];
    let mut app = wave(
        2,
        "app-tier",
        vec![server(0x21, Some("app-01"), true), server(0x22, None, true)],
    );
    app.post_launch = vec![action("configure-app", "AWS-RunShellScript")];
    let mut web = wave(
        3,
        "web-tier",
        vec![
            server(0x31, Some("web-01"), true),
            server(0x32, Some("web-02"), true),
        ],
    );
    web.wait_for_approval = true;
    Plan {
        name: "payments-dr".to_owned(),
        mode: Mode::Drill,
        region: "us-east-1".to_owned(),
        waves: vec![database, app, web],
        options: PlanOptions {
            poll_intervals: PollIntervals::default(),
            retry: RetryPolicy::default(),
            execution_timeout: DEFAULT_EXECUTION_TIMEOUT,
            rto_target: None,
            busy_servers: Default::default(),
            ..Default::default()
        },
    }
}

/// The execution just created: everything PENDING, one minute in.
pub fn fresh() -> Fixture {
    let (execution, waves) = ExecutionRecord::new(execution_id(), &plan(), "tester", t0());
    Fixture {
        execution,
        waves,
        now: at(1, 0),
    }
}

/// 25 minutes in: wave 1 COMPLETED (its action succeeded), wave 2 LAUNCHING
/// with `app-01` LAUNCHED (instance details known, health CHECKING) and the
/// second server LAUNCHING, wave 3 PENDING awaiting approval.
pub fn mid_drill() -> Fixture {
    let mut f = fresh();
    f.now = at(25, 0);
    f.execution.status = ExecutionStatus::InProgress;

    f.set_wave_status(1, WaveStatus::Completed);
    start_wave(f.wave_mut(1), "drsjob-0a1b2c3d4e5f60001", at(0, 30));
    f.wave_mut(1).end_time = Some(at(12, 0));
    for (i, n) in [0x11u16, 0x12].into_iter().enumerate() {
        let s = f.server_mut(1, i);
        launched(s, "drsjob-0a1b2c3d4e5f60001", n, at(0, 40), at(8, 20));
        s.launch_status = LaunchStatus::Completed;
        s.health_status = HealthStatus::Healthy;
        s.healthy_time = Some(at(11, 40 + 10 * i as i64));
    }
    let verify = &mut f.wave_mut(1).actions[0];
    verify.status = ActionStatus::Success;
    verify.tries = 1;
    verify.command_ids = vec!["6d1e4a2b-0c3f-4e5d-8a7b-9c0d1e2f3a4b".to_owned()];
    verify.requested_at = Some(at(8, 30));
    verify.start_time = Some(at(8, 31));
    verify.end_time = Some(at(10, 5));
    for (instance, n, output) in [
        ("i-0a1b2c3d4e5f60011", 0x11u16, "replication lag 0s\n"),
        ("i-0a1b2c3d4e5f60012", 0x12, "replication lag 2s\n"),
    ] {
        verify.invocations.insert(
            instance.to_owned(),
            InvocationResult {
                source_server_id: server_id(n),
                status: ActionStatus::Success,
                output: output.to_owned(),
                error: String::new(),
            },
        );
    }

    f.set_wave_status(2, WaveStatus::Launching);
    start_wave(f.wave_mut(2), "drsjob-0a1b2c3d4e5f60002", at(12, 30));
    launched(
        f.server_mut(2, 0),
        "drsjob-0a1b2c3d4e5f60002",
        0x21,
        at(12, 40),
        at(21, 10),
    );
    f.server_mut(2, 0).health_status = HealthStatus::Checking;
    let second = f.server_mut(2, 1);
    second.launch_status = LaunchStatus::Launching;
    second.recovery_job_id = Some("drsjob-0a1b2c3d4e5f60002".to_owned());
    second.launch_start_time = Some(at(12, 40));
    f
}

/// 27 minutes in: as [`mid_drill`], but the wave 2 server without a hostname
/// failed to launch, so wave 2 and the execution are FAILED.
pub fn failed() -> Fixture {
    let mut f = mid_drill();
    f.now = at(27, 0);
    let server = f.server_mut(2, 1);
    server.launch_status = LaunchStatus::Failed;
    server.launch_end_time = Some(at(26, 15));
    server.error_code = Some("LAUNCH_FAILED".to_owned());
    server.error_message = Some(
        "DRS could not launch the recovery instance: subnet subnet-0f1e2d3c has no free \
         IP addresses (InsufficientFreeAddressesInSubnet). Free addresses in the subnet or \
         pick another one in the launch template, then replay the wave."
            .to_owned(),
    );
    f.set_wave_status(2, WaveStatus::Failed);
    let wave = f.wave_mut(2);
    wave.end_time = Some(at(26, 20));
    wave.reason = Some(format!(
        "1 of 2 servers failed to launch: {}",
        server_id(0x22)
    ));
    f.execution.status = ExecutionStatus::Failed;
    f.execution.end_time = Some(at(26, 20));
    f.execution.reason = Some("wave 2 (app-tier) FAILED".to_owned());
    f
}

/// 40 minutes 30 seconds in: the drill COMPLETED, with an RTO target of
/// 45 minutes. Wave 2's second server launched at 22:00 and both ran
/// `configure-app`; wave 3 was approved by `alice`. Servers became healthy
/// (T+): db 11:40 and 11:50, app 24:30 and 25:00, web 39:00 and 40:15; the
/// waves ended at 12:00, 25:10 and 40:20. So the measured RTO is 11:50,
/// 25:00 and 40:15 per wave, 40:15 overall: met, 4m 45s under.
pub fn completed() -> Fixture {
    let mut f = mid_drill();
    f.now = at(40, 30);
    f.execution.options.rto_target = Some(std::time::Duration::from_secs(45 * 60));
    for wave in &mut f.waves {
        wave.options.rto_target = f.execution.options.rto_target;
    }

    launched(
        f.server_mut(2, 1),
        "drsjob-0a1b2c3d4e5f60002",
        0x22,
        at(12, 40),
        at(22, 0),
    );
    for (i, healthy) in [at(24, 30), at(25, 0)].into_iter().enumerate() {
        let s = f.server_mut(2, i);
        s.launch_status = LaunchStatus::Completed;
        s.health_status = HealthStatus::Healthy;
        s.healthy_time = Some(healthy);
    }
    let configure = &mut f.wave_mut(2).actions[0];
    configure.status = ActionStatus::Success;
    configure.tries = 1;
    configure.command_ids = vec!["0b5e7c2d-1f3a-4b6c-9d8e-7f6a5b4c3d2e".to_owned()];
    configure.start_time = Some(at(22, 10));
    configure.end_time = Some(at(23, 0));
    for (instance, n) in [
        ("i-0a1b2c3d4e5f60021", 0x21u16),
        ("i-0a1b2c3d4e5f60022", 0x22),
    ] {
        configure.invocations.insert(
            instance.to_owned(),
            InvocationResult {
                source_server_id: server_id(n),
                status: ActionStatus::Success,
                output: "app.conf updated\n".to_owned(),
                error: String::new(),
            },
        );
    }
    f.set_wave_status(2, WaveStatus::Completed);
    f.wave_mut(2).end_time = Some(at(25, 10));

    f.execution.waves[2].approved_by = Some("alice".to_owned());
    f.set_wave_status(3, WaveStatus::Completed);
    start_wave(f.wave_mut(3), "drsjob-0a1b2c3d4e5f60003", at(30, 0));
    for (i, (n, end, healthy)) in [
        (0x31u16, at(36, 0), at(39, 0)),
        (0x32, at(37, 30), at(40, 15)),
    ]
    .into_iter()
    .enumerate()
    {
        let s = f.server_mut(3, i);
        launched(s, "drsjob-0a1b2c3d4e5f60003", n, at(30, 10), end);
        s.launch_status = LaunchStatus::Completed;
        s.health_status = HealthStatus::Healthy;
        s.healthy_time = Some(healthy);
    }
    f.wave_mut(3).end_time = Some(at(40, 20));
    f.execution.status = ExecutionStatus::Completed;
    f.execution.end_time = Some(at(40, 20));
    f
}

/// [`completed`], cleaned up by alice at 1h 30m: wave 3's instances are
/// gone, one of wave 2's could not be terminated (it is no longer the one
/// the drill launched), the rest still terminating; before it launched,
/// wave 1 terminated an earlier drill's instance (`cleanup_previous`).
pub fn cleaning_up() -> Fixture {
    use crate::records::{ExecutionCleanup, ServerCleanup, WaveCleanupCount};
    use crate::status_model::CleanupStatus;
    let mut f = completed();
    f.now = at(92, 0);
    f.execution.cleanup = Some(ExecutionCleanup {
        requested_by: "alice".to_owned(),
        reason: "drill over".to_owned(),
        requested_at: at(90, 0),
        waves: vec![WaveCleanupCount {
            wave: WaveNumber(3),
            terminated: 2,
            failed: 0,
        }],
        ended_at: None,
        earlier: vec![],
    });
    let cleanup = |status, reason: Option<&str>, ended| {
        Some(ServerCleanup {
            status,
            reason: reason.map(str::to_owned),
            ended_at: ended,
        })
    };
    for i in 0..2 {
        f.server_mut(3, i).cleanup = cleanup(CleanupStatus::Terminated, None, Some(at(91, 30)));
    }
    f.server_mut(2, 0).cleanup = cleanup(
        CleanupStatus::Failed,
        Some(
            "not terminated: recovery instance i-0f9e8d7c6b5a40021: it was launched by job drsjob-other, not by this execution's job drsjob-0a1b2c3d4e5f60002",
        ),
        Some(at(90, 5)),
    );
    f.server_mut(2, 1).cleanup = cleanup(CleanupStatus::Terminating, None, None);
    // options.cleanup_previous: wave 1 terminated an earlier drill's instance.
    let leftover = crate::records::Leftover {
        source_server_id: f.waves[0].servers[0].id().clone(),
        recovery_instance_id: "i-0leftover0000001".to_owned(),
        ec2_instance_id: Some("i-0abc".to_owned()),
        job_id: Some("drsjob-yesterday".to_owned()),
        status: CleanupStatus::Terminated,
        reason: None,
    };
    f.waves[0].leftovers = Some(crate::records::LeftoverCleanup {
        started_at: at(0, 5),
        tries: 1,
        terminate_requested: Some(1),
        throttled: 0,
        job_id: Some("drsjob-terminate-leftovers".to_owned()),
        poll_seq: 1,
        consecutive_poll_errors: 0,
        error: None,
        ended_at: Some(at(1, 10)),
        instances: vec![leftover],
    });
    f
}

/// What pre-flight found for [`plan`], five seconds after the start: two
/// errors, one warning and one note, in the order the checks sort them.
pub fn preflight_report() -> PreflightReport {
    let finding = |severity,
                   check,
                   wave: Option<&str>,
                   server: Option<u16>,
                   message: &str,
                   what_to_do: &str| Finding {
        severity,
        check,
        wave: wave.map(str::to_owned),
        server: server.map(server_id),
        message: message.to_owned(),
        what_to_do: what_to_do.to_owned(),
    };
    PreflightReport {
        checked_at: at(0, 5),
        servers_checked: 6,
        findings: vec![
            finding(
                Severity::Error,
                CheckName::Replication,
                Some("app-tier"),
                Some(0x21),
                "replication is STALLED, not CONTINUOUS",
                "fix replication first (DRS console → Source servers → the server's data replication status); a launch now uses the last snapshot taken before it stopped",
            ),
            finding(
                Severity::Error,
                CheckName::SnapshotAge,
                Some("web-tier"),
                Some(0x31),
                "no recovery snapshot exists: DRS cannot launch this server yet",
                "wait for the server's initial sync to finish (DRS console → Source servers)",
            ),
            finding(
                Severity::Warning,
                CheckName::LeftoverInstance,
                Some("database"),
                Some(0x11),
                "a drill recovery instance i-0leftover0000001 (EC2 i-0abc, RUNNING) exists from an earlier launch",
                "terminate it if it is no longer needed (DRS console → Recovery instances); otherwise this launch replaces it",
            ),
            finding(
                Severity::Info,
                CheckName::SnapshotAge,
                None,
                None,
                "recovery point: the newest snapshots of 5 servers are 1m to 4m old (oldest: s-0a1b2c3d4e5f60022)",
                "nothing: a launch now recovers each server to its newest snapshot",
            ),
        ],
    }
}

/// Ten seconds in: the drill's pre-flight (`block`, a drill's default)
/// found [`preflight_report`]'s errors at 0:06, so the state machine failed
/// the execution before it claimed a server and cancelled every wave.
/// Built by `decide` itself, so the reason and statuses are the engine's.
pub fn blocked() -> Fixture {
    use crate::event::{Envelope, Event};
    use crate::machine::{Change, State, decide};
    let start = Envelope::new(
        execution_id(),
        None,
        Event::StartExecution {
            plan: plan(),
            requested_by: "tester".to_owned(),
            recovery_confirmed: false,
        },
        t0(),
    );
    let Some(Change::Create {
        execution,
        mut waves,
    }) = decide(&State::Absent, &start, t0()).change
    else {
        panic!("a drill of the fixture plan starts");
    };
    let answer = crate::effect_results::result_of(
        &start,
        0,
        Event::PreflightChecked {
            tries: 1,
            report: preflight_report(),
        },
        at(0, 6),
    );
    let decision = decide(&State::Execution(execution), &answer, at(0, 6));
    let Some(Change::Execution(execution)) = decision.change else {
        panic!("the pre-flight answer fails the drill: {decision:?}");
    };
    for follow_up in &decision.follow_ups {
        let Some(n) = follow_up.envelope.wave else {
            continue;
        };
        let wave = &mut waves[n.index()];
        if let Some(Change::Wave(cancelled)) =
            decide(&State::Wave(wave.clone()), &follow_up.envelope, at(0, 6)).change
        {
            *wave = cancelled;
        }
    }
    Fixture {
        execution,
        waves,
        now: at(0, 10),
    }
}

fn start_wave(wave: &mut WaveRecord, job_id: &str, started_at: Timestamp) {
    wave.start_time = Some(started_at);
    wave.launch = LaunchState::Started {
        job_id: job_id.to_owned(),
        started_at,
    };
}

/// Marks a server LAUNCHED with instance details derived from `n`.
fn launched(s: &mut ServerState, job_id: &str, n: u16, start: Timestamp, end: Timestamp) {
    s.launch_status = LaunchStatus::Launched;
    s.recovery_job_id = Some(job_id.to_owned());
    s.recovery_instance_id = Some(format!("i-0f9e8d7c6b5a4{n:04x}"));
    s.launched_instance_id = Some(format!("i-0a1b2c3d4e5f6{n:04x}"));
    s.instance_type = Some("m5.large".to_owned());
    s.private_ip_address = Some(format!("10.20.{}.{}", n >> 4, n & 0xf));
    s.availability_zone = Some("us-east-1a".to_owned());
    s.launch_start_time = Some(start);
    s.launch_end_time = Some(end);
    // DRS' latest point in time: a minute and `n` seconds before.
    s.point_in_time_snapshot = Some(start - TimeDelta::seconds(60 + i64::from(n)));
}

/// A drill plan of `waves` waves of three servers each, every wave after
/// the first depending on the one before, with an action and health checks
/// so that every part of the records is stored.
pub fn sample_plan(name: &str, waves: u32) -> Plan {
    let waves = (1..=waves)
        .map(|n| WavePlan {
            number: WaveNumber(n),
            name: format!("wave {n}"),
            servers: (0..3)
                .map(|s| ServerPlan {
                    id: SourceServerId::parse(&format!("s-{:017x}", n * 16 + s))
                        .expect("a well-formed source server id"),
                    hostname: Some(format!("app-{n}-{s}")),
                    critical: s != 2,
                    recovery_snapshot: None,
                })
                .collect(),
            depends_on: if n > 1 {
                vec![WaveNumber(n - 1)]
            } else {
                vec![]
            },
            post_launch: vec![ActionPlan {
                name: "start services".to_owned(),
                document: "AWS-RunShellScript".to_owned(),
                parameters: BTreeMap::from([(
                    "commands".to_owned(),
                    vec!["systemctl start app".to_owned()],
                )]),
                timeout: DEFAULT_ACTION_TIMEOUT,
            }],
            health_checks: vec![
                HealthCheck::Ec2StatusOk,
                HealthCheck::Command {
                    command: "curl -fsS localhost:8080/health".to_owned(),
                },
            ],
            launch_timeout: DEFAULT_LAUNCH_TIMEOUT,
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            wait_for_approval: n == 2,
            select: None,
            recovery_snapshot: None,
        })
        .collect();
    Plan {
        name: name.to_owned(),
        mode: Mode::Drill,
        region: "us-east-1".to_owned(),
        waves,
        options: PlanOptions {
            poll_intervals: PollIntervals::default(),
            retry: RetryPolicy::default(),
            execution_timeout: DEFAULT_EXECUTION_TIMEOUT,
            rto_target: None,
            busy_servers: Default::default(),
            ..Default::default()
        },
    }
}
