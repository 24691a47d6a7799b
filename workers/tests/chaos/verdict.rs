//! The checks at the end of a chaos run, each from a source the workers do
//! not control: the simulator's own log of StartRecovery calls and the jobs
//! they created (with when each was active, against the run's quotas), the
//! scenario the harness wrote (what DRS did to each server), the records in
//! the store, and the queues.

use super::load::{ExecutionSpec, Outcome};
use super::observe::Seen;
use ripcord::capacity::Quotas;
use ripcord::ids::ExecutionId;
use ripcord::ports::drs::{TAG_ATTEMPT, TAG_EXECUTION, TAG_WAVE};
use ripcord::records::{LaunchState, WaveRecord};
use ripcord::status_model::LaunchStatus;
use ripcord_sim::{LaunchTimeline, PeakLoad, StartOutcome, StartRecoveryCall, peak_load};
use std::collections::{BTreeMap, BTreeSet};

/// What the checks found; every count but the figures must be zero.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Jobs beyond the first created for one (execution, wave, attempt).
    pub duplicate_jobs: usize,
    /// Jobs DRS created that no wave record names (an ambiguous start
    /// never adopted): a second launch waiting to happen.
    pub unrecorded_jobs: usize,
    /// Servers whose outcome in DRS never reached their record, plus
    /// messages left neither processed nor dead-lettered.
    pub lost_events: usize,
    /// Executions whose final state is not the one their scenario implies.
    pub wrong_final_states: usize,
    /// Executions not ended at the end of the run.
    pub stuck: usize,
    /// StartRecovery calls DRS refused for a full quota, plus jobs its
    /// records show created past a quota: launches Ripcord's ledger
    /// admitted beyond the quotas.
    pub over_admitted: usize,
    /// One line per problem, for the failure message.
    pub problems: Vec<String>,
}

impl Findings {
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Exactly one created job per (execution, wave, attempt), and it is the
/// one the wave record names.
pub fn check_jobs(
    calls: &[StartRecoveryCall],
    final_seen: &BTreeMap<ExecutionId, Seen>,
    found: &mut Findings,
) {
    let mut jobs: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for call in calls {
        if let Some(job) = call.outcome.job_id() {
            let tag = |k: &str| call.tags.get(k).cloned().unwrap_or_default();
            jobs.entry((tag(TAG_EXECUTION), tag(TAG_WAVE), tag(TAG_ATTEMPT)))
                .or_default()
                .push(job.to_owned());
        }
    }
    for ((execution, wave, attempt), ids) in &jobs {
        if ids.len() > 1 {
            found.duplicate_jobs += ids.len() - 1;
            found.problems.push(format!(
                "{} DRS jobs for execution {execution} wave {wave} attempt {attempt}: {ids:?}",
                ids.len()
            ));
        }
        let recorded = execution
            .parse::<ExecutionId>()
            .ok()
            .and_then(|id| final_seen.get(&id))
            .and_then(|seen| seen.wave(wave.parse().ok()?))
            .map(jobs_named)
            .unwrap_or_default();
        let unrecorded = ids.iter().filter(|id| !recorded.contains(*id)).count();
        if unrecorded > 0 && ids.len() == 1 {
            found.unrecorded_jobs += unrecorded;
            found.problems.push(format!(
                "DRS job {ids:?} of execution {execution} wave {wave} attempt {attempt} is not the job its wave record names ({recorded:?})"
            ));
        }
    }
}

/// Every DRS job a wave record names: its current attempt's, and each
/// server's, of this attempt and the earlier ones an operator's retry
/// left behind (a server that launched keeps its job; one relaunched
/// keeps its earlier attempts).
fn jobs_named(wave: &WaveRecord) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    if let LaunchState::Started { job_id, .. } = &wave.launch {
        named.insert(job_id.clone());
    }
    for server in &wave.servers {
        named.extend(server.recovery_job_id.iter().cloned());
        named.extend(
            server
                .attempts
                .iter()
                .filter_map(|a| a.recovery_job_id.clone()),
        );
    }
    named
}

/// The quotas of a run, and the most DRS held at once by its own records.
#[derive(Clone, Copy, Debug, Default)]
pub struct CapacityUse {
    pub quotas: Quotas,
    pub peak: PeakLoad,
    /// StartRecovery calls refused for a full quota.
    pub refused: usize,
}

impl std::fmt::Display for CapacityUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "at most {} of {} DRS jobs and {} of {} servers in active jobs at once, {} StartRecovery calls refused for a quota",
            self.peak.jobs,
            self.quotas.concurrent_jobs,
            self.peak.servers,
            self.quotas.servers_in_active_jobs,
            self.refused
        )
    }
}

/// The error DRS refuses a StartRecovery with when a quota is full.
const QUOTA_EXCEEDED: &str = "ServiceQuotaExceededException";

/// Capacity never over-admitted, from the simulator's records: no
/// StartRecovery refused for a full quota (Ripcord's ledger, on the same
/// quotas, must never ask past them), and no instant at which its launch
/// jobs held more jobs or servers than the quotas.
pub fn check_capacity(
    calls: &[StartRecoveryCall],
    jobs: &[LaunchTimeline],
    quotas: Quotas,
    found: &mut Findings,
) -> CapacityUse {
    let refused: Vec<&StartRecoveryCall> = calls
        .iter()
        .filter(|c| matches!(&c.outcome, StartOutcome::Rejected { code } if code == QUOTA_EXCEEDED))
        .collect();
    for call in &refused {
        found.problems.push(format!(
            "DRS refused a StartRecovery for a full quota at {} (tags {:?}, {} servers): the ledger admitted past the quotas {quotas:?}",
            call.at,
            call.tags,
            call.source_servers.len()
        ));
    }
    let mut past = 0;
    for job in jobs {
        // What DRS held the instant this job was created, itself included.
        let active = jobs.iter().filter(|j| {
            j.created <= job.created && j.last_settled.is_none_or(|end| end > job.created)
        });
        let (held_jobs, held_servers) = active.fold((0, 0), |(n, s), j| (n + 1, s + j.servers));
        if held_jobs > quotas.concurrent_jobs as usize
            || held_servers > quotas.servers_in_active_jobs as usize
        {
            past += 1;
            found.problems.push(format!(
                "DRS job {} was created while {held_jobs} jobs held {held_servers} servers, past the quotas {quotas:?}",
                job.job_id
            ));
        }
    }
    let peak = peak_load(jobs);
    found.over_admitted += refused.len() + past;
    CapacityUse {
        quotas,
        peak,
        refused: refused.len(),
    }
}

/// Every execution ended as its scenario implies, and every server of a
/// wave that launched shows what DRS did to it.
pub fn check_final_states(
    load: &[(ExecutionId, ExecutionSpec)],
    final_seen: &BTreeMap<ExecutionId, Seen>,
    found: &mut Findings,
) {
    for (id, spec) in load {
        let Some(seen) = final_seen.get(id).filter(|s| s.ended()) else {
            found.stuck += 1;
            let now = final_seen.get(id).map(|s| {
                let waves: Vec<String> = s
                    .waves
                    .iter()
                    .map(|w| format!("wave {} {:?} launch {:?}", w.number.0, w.status, w.launch))
                    .collect();
                format!("{:?}: {}", s.execution.status, waves.join("; "))
            });
            found.problems.push(format!(
                "execution {id} ({}) never ended: {}",
                spec.kind.name(),
                now.unwrap_or_else(|| "never created".to_owned())
            ));
            continue;
        };
        let expected = spec.expected();
        let waves: Vec<_> = (1..=spec.waves as u32)
            .map(|n| seen.wave(n).map(|w| w.status))
            .collect();
        let as_expected = seen.execution.status == expected.status
            && waves
                .iter()
                .zip(&expected.waves)
                .all(|(got, want)| *got == Some(*want));
        if !as_expected {
            found.wrong_final_states += 1;
            found.problems.push(format!(
                "execution {id} ({}) ended {:?} with waves {waves:?}; its scenario implies {:?} with {:?} (reason: {:?})",
                spec.kind.name(),
                seen.execution.status,
                expected.status,
                expected.waves,
                seen.execution.reason
            ));
        }
        for server in &spec.servers {
            let Some(wave) = seen.wave(server.wave) else {
                continue;
            };
            let Some(state) = wave
                .servers
                .iter()
                .find(|s| s.plan.id.as_str() == server.id)
            else {
                continue;
            };
            let launched = matches!(wave.launch, LaunchState::Started { .. });
            let shown = state.launch_status;
            let ran = matches!(shown, LaunchStatus::Launched | LaunchStatus::Completed);
            // What DRS did to the server, as its record must tell it: in a
            // wave that launched, launched (then COMPLETED after its
            // actions, or left LAUNCHED in a wave that failed) or FAILED;
            // in a wave that never launched, never launched.
            let agrees = match (launched, server.outcome) {
                (false, _) => !ran,
                // Its first launch failed, an operator's retry launched it.
                (true, Outcome::Launched | Outcome::FailsFirstLaunch) => ran,
                (true, Outcome::LaunchFailed | Outcome::NotLaunched) => {
                    shown == LaunchStatus::Failed
                }
            };
            if !agrees {
                found.lost_events += 1;
                found.problems.push(format!(
                    "server {} (wave {} of execution {id}, {:?} in DRS, wave launched: {launched}) ends {shown:?} in its record",
                    server.id, server.wave, server.outcome
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(execution: &str, wave: &str, outcome: StartOutcome) -> StartRecoveryCall {
        StartRecoveryCall {
            at: chrono::Utc::now(),
            tags: [
                (TAG_EXECUTION, execution),
                (TAG_WAVE, wave),
                (TAG_ATTEMPT, "1"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            source_servers: Vec::new(),
            recovery_snapshots: BTreeMap::new(),
            outcome,
        }
    }

    #[test]
    fn a_second_job_for_one_wave_attempt_and_an_unadopted_one_are_found() {
        let id = "0b5c5c1e-6a4b-4c47-9d6e-0d4c8b1a2f10";
        let created = |job: &str| StartOutcome::Created {
            job_id: job.to_owned(),
        };
        let calls = [
            call(id, "1", created("drsjob-a")),
            call(
                id,
                "1",
                StartOutcome::Rejected {
                    code: "ThrottlingException".into(),
                },
            ),
            call(id, "1", created("drsjob-b")),
            call(
                id,
                "2",
                StartOutcome::CreatedDespiteError {
                    job_id: "drsjob-c".into(),
                    code: "InternalServerException".into(),
                },
            ),
        ];
        let mut found = Findings::default();
        check_jobs(&calls, &BTreeMap::new(), &mut found);
        assert_eq!(found.duplicate_jobs, 1, "{:?}", found.problems);
        // Wave 2's job exists in DRS but no record names it.
        assert_eq!(found.unrecorded_jobs, 1, "{:?}", found.problems);
        assert!(!found.clean());
    }

    #[test]
    fn a_refused_start_and_jobs_created_past_a_quota_are_over_admissions() {
        let quotas = Quotas {
            concurrent_jobs: 2,
            servers_in_active_jobs: 7,
            servers_per_job: 5,
        };
        let at = |s: i64| chrono::DateTime::from_timestamp(1_800_000_000 + s, 0).expect("a time");
        let job = |id: &str, from: i64, to: i64, servers: usize| LaunchTimeline {
            job_id: id.to_owned(),
            tags: BTreeMap::new(),
            created: at(from),
            last_settled: Some(at(to)),
            servers,
        };
        // Two jobs at once fill the jobs quota; the third starts as the
        // first ends: within the quotas.
        let within = [job("a", 0, 10, 3), job("b", 5, 20, 3), job("c", 10, 30, 3)];
        let mut found = Findings::default();
        let used = check_capacity(&[], &within, quotas, &mut found);
        assert!(found.clean(), "{:?}", found.problems);
        assert_eq!((used.peak.jobs, used.peak.servers), (2, 6));

        // A third job while two run (7 servers: within that quota).
        let three_jobs = [job("a", 0, 10, 3), job("b", 5, 20, 3), job("c", 9, 30, 1)];
        let mut found = Findings::default();
        check_capacity(&[], &three_jobs, quotas, &mut found);
        assert_eq!(found.over_admitted, 1, "{:?}", found.problems);

        // Two jobs holding 8 servers, and a call DRS refused for a quota
        // (a throttled one is no over-admission).
        let eight_servers = [job("a", 0, 10, 3), job("b", 5, 20, 5)];
        let execution = "0b5c5c1e-6a4b-4c47-9d6e-0d4c8b1a2f10";
        let rejected = |code: &str| {
            call(
                execution,
                "1",
                StartOutcome::Rejected {
                    code: code.to_owned(),
                },
            )
        };
        let calls = [rejected(QUOTA_EXCEEDED), rejected("ThrottlingException")];
        let mut found = Findings::default();
        let used = check_capacity(&calls, &eight_servers, quotas, &mut found);
        assert_eq!(found.over_admitted, 2, "{:?}", found.problems);
        assert_eq!((used.peak.servers, used.refused), (8, 1));
    }
}
