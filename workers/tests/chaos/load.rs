//! The chaos run's load: executions of a few kinds, each with the final
//! state its scenario implies, their plans, and the one simulator scenario
//! that gives every server its outcome and turns the faults on.
//!
//! Every execution has `waves` waves of `servers_per_wave` servers, no two
//! executions share a server, and its first wave runs one SSM action on its
//! servers (SendCommand and its invocations, under the SSM faults). By kind:
//!
//! | kind | what happens | final state |
//! |---|---|---|
//! | clean | every server launches | COMPLETED |
//! | optional fails | an optional server of wave 1 fails to launch | COMPLETED, that server FAILED |
//! | critical not launched | DRS ends wave 1's job COMPLETED without launching a critical server | FAILED: wave 1 FAILED, the rest CANCELLED |
//! | gated | wave 2 waits for an approval the harness gives once wave 1 is done | COMPLETED |
//! | cancelled | wave 2 waits for an approval; the harness cancels instead | CANCELLED: wave 1 COMPLETED, the rest CANCELLED |
//! | retried | a critical server of wave 1 fails its first launch only; once the execution is FAILED the harness retries wave 1 (`ripcord retry`) | COMPLETED (wave 1 at attempt 2, its job holding that one server) |
//! | skipped | a critical server of wave 1 fails every launch; once the execution is FAILED the harness skips wave 1 (`ripcord skip`) | COMPLETED: wave 1 SKIPPED, the rest COMPLETED |
//! | paused | the harness pauses it while wave 1 runs (`ripcord pause`), and resumes it (`ripcord resume`) once every wave it started has ended and the pause held a few seconds; no wave may have started meanwhile | COMPLETED |
//!
//! Every DRS launch of the load counts against the run's quotas
//! (`ChaosConfig::quotas`), which the simulator and Ripcord share.

use super::config::{ChaosConfig, Dice};
use ripcord::status_model::{ExecutionStatus, WaveStatus};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What one execution is made to go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Clean,
    OptionalFails,
    CriticalNotLaunched,
    Gated,
    Cancelled,
    Retried,
    Skipped,
    Paused,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Clean,
        Kind::OptionalFails,
        Kind::CriticalNotLaunched,
        Kind::Gated,
        Kind::Cancelled,
        Kind::Retried,
        Kind::Skipped,
        Kind::Paused,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Clean => "clean",
            Kind::OptionalFails => "optional-fails",
            Kind::CriticalNotLaunched => "critical-not-launched",
            Kind::Gated => "gated",
            Kind::Cancelled => "cancelled",
            Kind::Retried => "retried",
            Kind::Skipped => "skipped",
            Kind::Paused => "paused",
        }
    }

    /// Whether wave 2 waits for an operator.
    pub fn gated(self) -> bool {
        matches!(self, Kind::Gated | Kind::Cancelled)
    }
}

/// How the simulator treats one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Launched,
    LaunchFailed,
    /// Its first launch fails, a later one (an operator's retry) launches.
    FailsFirstLaunch,
    /// Its job ends COMPLETED while it is still PENDING (invariant 1's trap).
    NotLaunched,
}

/// One server of the load.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub id: String,
    pub wave: u32,
    pub critical: bool,
    pub outcome: Outcome,
}

/// One execution of the load, before it is started.
#[derive(Clone, Debug)]
pub struct ExecutionSpec {
    pub index: usize,
    pub kind: Kind,
    pub waves: usize,
    pub servers: Vec<ServerSpec>,
}

/// The final state an execution's scenario implies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub status: ExecutionStatus,
    pub waves: Vec<WaveStatus>,
}

impl ExecutionSpec {
    pub fn expected(&self) -> Expected {
        let rest = |first: WaveStatus, others: WaveStatus| -> Vec<WaveStatus> {
            std::iter::once(first)
                .chain(std::iter::repeat_n(others, self.waves - 1))
                .collect()
        };
        match self.kind {
            Kind::Clean | Kind::OptionalFails | Kind::Gated | Kind::Retried | Kind::Paused => {
                Expected {
                    status: ExecutionStatus::Completed,
                    waves: vec![WaveStatus::Completed; self.waves],
                }
            }
            // docs/status-model.md, "Operator control": skipping a FAILED
            // wave reopens the execution as a retry does, so the waves the
            // failure cancelled before they started run; all COMPLETED or
            // SKIPPED is COMPLETED.
            Kind::Skipped => Expected {
                status: ExecutionStatus::Completed,
                waves: rest(WaveStatus::Skipped, WaveStatus::Completed),
            },
            Kind::CriticalNotLaunched => Expected {
                status: ExecutionStatus::Failed,
                waves: rest(WaveStatus::Failed, WaveStatus::Cancelled),
            },
            Kind::Cancelled => Expected {
                status: ExecutionStatus::Cancelled,
                waves: rest(WaveStatus::Completed, WaveStatus::Cancelled),
            },
        }
    }

    /// The plan file. With `real_time_scale` (workers on real time, the
    /// simulator that many times faster) the poll intervals are the
    /// defaults (30 s, 15 s, 10 s) divided by it, at least 250 ms.
    pub fn plan_yaml(&self, real_time_scale: Option<f64>) -> String {
        let intervals = real_time_scale.map_or_else(String::new, |scale| {
            let ms = |s: f64| ((s * 1000.0 / scale) as u64).max(250);
            format!(
                "  poll_intervals: {{ pending: {}ms, launching: {}ms, post_actions: {}ms }}\n",
                ms(30.0),
                ms(15.0),
                ms(10.0)
            )
        });
        let mut plan = format!(
            "name: chaos-{}-{}\nmode: drill\nregion: us-east-1\n\
             options:\n  execution_timeout: 12h\n{intervals}\
             defaults:\n  launch_timeout: 2h\n  health_timeout: 1h\n  action_timeout: 1h\n\
             waves:\n",
            self.index,
            self.kind.name()
        );
        for wave in 1..=self.waves as u32 {
            let _ = writeln!(plan, "  - name: wave-{wave}\n    servers:");
            for s in self.servers.iter().filter(|s| s.wave == wave) {
                let _ = writeln!(plan, "      - {{ id: {}, critical: {} }}", s.id, s.critical);
            }
            if wave == 1 {
                plan.push_str(
                    "    post_launch:\n      - name: mark-dr\n        document: AWS-RunShellScript\n        parameters: { commands: [\"touch /etc/dr-drill\"] }\n        timeout: 1h\n",
                );
            }
            if wave == 2 && self.kind.gated() {
                plan.push_str("    wait_for_approval: true\n");
            }
            if wave == self.waves as u32 {
                plan.push_str("    health_checks: [ssm_agent_online]\n");
            }
        }
        plan
    }
}

/// The load of one run: `config.executions` executions of kinds drawn by
/// the seed, every kind present once there are as many as kinds (eight).
pub fn executions(config: &ChaosConfig) -> Vec<ExecutionSpec> {
    let mut dice = Dice::new(config.seed);
    (0..config.executions)
        .map(|index| {
            let kind = if index < Kind::ALL.len() {
                Kind::ALL[index]
            } else {
                Kind::ALL[dice.below(Kind::ALL.len())]
            };
            let mut servers = Vec::new();
            for wave in 1..=config.waves as u32 {
                for k in 0..config.servers_per_wave {
                    let n = (index * config.waves + wave as usize) * 100 + k;
                    let (critical, outcome) = match (kind, wave, k) {
                        (Kind::OptionalFails, 1, 0) => (false, Outcome::LaunchFailed),
                        (Kind::CriticalNotLaunched, 1, 0) => (true, Outcome::NotLaunched),
                        (Kind::Retried, 1, 0) => (true, Outcome::FailsFirstLaunch),
                        (Kind::Skipped, 1, 0) => (true, Outcome::LaunchFailed),
                        _ => (true, Outcome::Launched),
                    };
                    servers.push(ServerSpec {
                        id: format!("s-c4a05{n:012x}"),
                        wave,
                        critical,
                        outcome,
                    });
                }
            }
            ExecutionSpec {
                index,
                kind,
                waves: config.waves,
                servers,
            }
        })
        .collect()
}

/// The simulator's scenario: launches of 30-90 simulated seconds, the
/// run's quotas, the failing servers, and the faults of `config`.
pub fn scenario_yaml(config: &ChaosConfig, load: &[ExecutionSpec]) -> String {
    let mut yaml = format!(
        "seed: {}\ntime_scale: {}\ncall_latency: {}ms\njob_pending: 10s\nlaunch_duration: {{ min: 30s, max: 90s }}\n\
         ssm_agent_delay: 20s\ncommand_duration: 5s\npush_launch_results: true\n\
         quotas: {{ servers_per_job: {}, concurrent_jobs: {}, servers_in_active_jobs: {} }}\n\
         faults:\n  throttling_rate: {}\n  server_error_rate: {}\n  ambiguous_start: true\n  drop_launch_results: {}\n\
         servers:\n  default: {{ outcome: launched }}\n",
        config.seed,
        config.time_scale,
        config.call_latency.as_millis(),
        config.quotas.servers_per_job,
        config.quotas.concurrent_jobs,
        config.quotas.servers_in_active_jobs,
        config.throttling_rate,
        config.server_error_rate,
        config.drop_launch_results,
    );
    let special: BTreeMap<&str, Outcome> = load
        .iter()
        .flat_map(|e| &e.servers)
        .filter(|s| s.outcome != Outcome::Launched)
        .map(|s| (s.id.as_str(), s.outcome))
        .collect();
    for (id, outcome) in special {
        let line = match outcome {
            Outcome::LaunchFailed => {
                "{ outcome: launch_failed, event: CONVERSION_FAIL, error: \"chaos: boot volume conversion failed\" }"
            }
            Outcome::FailsFirstLaunch => {
                "{ outcome: launch_failed, times: 1, event: CONVERSION_FAIL, error: \"chaos: boot volume conversion failed, once\" }"
            }
            Outcome::NotLaunched => "{ outcome: not_launched }",
            Outcome::Launched => unreachable!("filtered out"),
        };
        let _ = writeln!(yaml, "  {id}: {line}");
    }
    yaml
}
