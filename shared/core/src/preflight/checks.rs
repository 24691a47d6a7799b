//! The checks: each plan server against what DRS says of it, the plan
//! against the deployment's region and the DRS quotas.

use super::widest::widest_concurrent;
use super::{CheckName, Finding, PreflightFacts, PreflightReport, Severity};
use crate::capacity::{describe_busy, too_big};
use crate::ids::SourceServerId;
use crate::plan::{BusyServers, Plan, WavePlan};
use crate::time::between;
use std::time::Duration;

/// DRS's healthy replication state.
pub const CONTINUOUS: &str = "CONTINUOUS";

/// Runs every check of `plan` against `facts`.
pub fn check(plan: &Plan, facts: &PreflightFacts) -> PreflightReport {
    let mut findings = Vec::new();
    if !facts.region.is_empty() && plan.region != facts.region {
        findings.push(Finding {
            severity: Severity::Error,
            check: CheckName::Region,
            wave: None,
            server: None,
            message: format!(
                "the plan is for {}, but this deployment launches in {}",
                plan.region, facts.region
            ),
            what_to_do: format!(
                "run the plan with a deployment in {} (AWS_REGION), or correct the plan's `region`",
                plan.region
            ),
        });
    }
    for wave in &plan.waves {
        if let Some(why) = too_big(wave.servers.len() as u32, &facts.capacity.quotas) {
            findings.push(Finding {
                severity: Severity::Error,
                check: CheckName::QuotaHeadroom,
                wave: Some(wave.name.clone()),
                server: None,
                message: format!("wave {} cannot launch: {why}", wave.name),
                what_to_do:
                    "split the wave (options.split_large_waves: true) or ask AWS for a higher quota"
                        .into(),
            });
        }
        for server in &wave.servers {
            server_findings(plan, wave, &server.id, facts, &mut findings);
        }
    }
    snapshot_summary(plan, facts, &mut findings);
    quota_headroom(plan, facts, &mut findings);
    for unread in &facts.unreadable {
        findings.push(Finding {
            severity: Severity::Warning,
            check: CheckName::Unchecked,
            wave: None,
            server: None,
            message: format!("not checked: {}", unread.what),
            what_to_do: unread.cause.what_to_do().into(),
        });
    }
    let order = |f: &Finding| {
        let wave = f
            .wave
            .as_ref()
            .and_then(|name| plan.waves.iter().position(|w| &w.name == name));
        (f.severity, wave, f.server.clone(), f.check)
    };
    findings.sort_by_key(order);
    PreflightReport {
        checked_at: facts.now,
        servers_checked: plan.server_count(),
        findings,
    }
}

fn server_findings(
    plan: &Plan,
    wave: &WavePlan,
    id: &SourceServerId,
    facts: &PreflightFacts,
    out: &mut Vec<Finding>,
) {
    let mut push = |severity, check, message: String, what_to_do: String| {
        out.push(Finding {
            severity,
            check,
            wave: Some(wave.name.clone()),
            server: Some(id.clone()),
            message,
            what_to_do,
        })
    };
    let Some(server) = facts.servers.get(id) else {
        push(
            Severity::Error,
            CheckName::ServerExists,
            format!("DRS in {} has no source server {id}", facts.region_or(plan)),
            "check the id in the plan (DRS console → Source servers) and the plan's region".into(),
        );
        return;
    };
    if server.data_replication_state != CONTINUOUS {
        push(
            Severity::Error,
            CheckName::Replication,
            format!(
                "replication is {}, not {CONTINUOUS}",
                server.data_replication_state
            ),
            "fix replication first (DRS console → Source servers → the server's data replication status); a launch now uses the last snapshot taken before it stopped".into(),
        );
    }
    match (server.lag(), plan.options.max_replication_lag) {
        (Ok(Some(lag)), Some(max)) if lag > max => push(
            Severity::Error,
            CheckName::ReplicationLag,
            format!(
                "replication lags {} behind, more than max_replication_lag ({})",
                human(lag),
                human(max)
            ),
            "wait for replication to catch up, or raise the plan's max_replication_lag if this much data loss is acceptable".into(),
        ),
        (Err(e), _) => push(
            Severity::Warning,
            CheckName::Unchecked,
            format!("replication lag not checked: {e}"),
            "check the server's lag in the DRS console".into(),
        ),
        _ => {}
    }
    match facts.newest_snapshots.get(id) {
        // Not read (the failure is an UNCHECKED finding).
        None => {}
        Some(None) => push(
            Severity::Error,
            CheckName::SnapshotAge,
            "no recovery snapshot exists: DRS cannot launch this server yet".into(),
            "wait for the server's initial sync to finish (DRS console → Source servers)".into(),
        ),
        Some(Some(taken)) => {
            let age = between(*taken, facts.now);
            if let Some(max) = plan.options.max_replication_lag
                && age > max
            {
                push(
                    Severity::Warning,
                    CheckName::SnapshotAge,
                    format!(
                        "the newest recovery snapshot is {} old, more than max_replication_lag ({}): a launch from it loses that much data",
                        human(age),
                        human(max)
                    ),
                    "check why snapshots stopped (replication state, staging area) before relying on this server".into(),
                );
            }
        }
    }
    for busy in facts.busy.iter().filter(|b| &b.source_server_id == id) {
        let (severity, what) = match plan.options.busy_servers {
            BusyServers::Refuse => (
                Severity::Error,
                "wait for that execution to end (or cancel it), or set options.busy_servers: wait",
            ),
            BusyServers::Wait => (
                Severity::Warning,
                "this execution will wait for it (options.busy_servers: wait)",
            ),
        };
        push(
            severity,
            CheckName::ServerBusy,
            describe_busy(std::slice::from_ref(busy)),
            what.into(),
        );
    }
    for ri in facts
        .recovery_instances
        .iter()
        .filter(|ri| &ri.source_server_id == id)
    {
        let kind = if ri.is_drill { "drill" } else { "recovery" };
        let ec2 = ri
            .ec2_instance_id
            .as_deref()
            .map(|i| format!(" (EC2 {i}{})", state(ri.ec2_instance_state.as_deref())))
            .unwrap_or_default();
        let (severity, what) = match (ri.is_drill, plan.options.cleanup_previous) {
            (true, true) => (
                Severity::Info,
                "it will be terminated before this server's wave launches (options.cleanup_previous)",
            ),
            (true, false) => (
                Severity::Warning,
                "terminate it if it is no longer needed (DRS console → Recovery instances); otherwise this launch replaces it",
            ),
            (false, _) => (
                Severity::Warning,
                "a recovery instance may be serving production: make sure before launching this server again",
            ),
        };
        push(
            severity,
            CheckName::LeftoverInstance,
            format!(
                "a {kind} recovery instance {}{ec2} exists from an earlier launch",
                ri.recovery_instance_id
            ),
            what.into(),
        );
    }
}

fn state(s: Option<&str>) -> String {
    s.map(|s| format!(", {s}")).unwrap_or_default()
}

/// One line on the recovery point: how old the newest snapshots are.
fn snapshot_summary(plan: &Plan, facts: &PreflightFacts, out: &mut Vec<Finding>) {
    let ages: Vec<(Duration, &SourceServerId)> = plan
        .waves
        .iter()
        .flat_map(|w| &w.servers)
        .filter_map(|s| {
            facts
                .newest_snapshots
                .get(&s.id)
                .copied()
                .flatten()
                .map(|t| (between(t, facts.now), &s.id))
        })
        .collect();
    let (Some(newest), Some(oldest)) = (ages.iter().min(), ages.iter().max()) else {
        return;
    };
    out.push(Finding {
        severity: Severity::Info,
        check: CheckName::SnapshotAge,
        wave: None,
        server: None,
        message: format!(
            "recovery point: the newest snapshots of {} servers are {} to {} old (oldest: {})",
            ages.len(),
            human(newest.0),
            human(oldest.0),
            oldest.1
        ),
        what_to_do: "nothing: a launch now recovers each server to its newest snapshot".into(),
    });
}

fn quota_headroom(plan: &Plan, facts: &PreflightFacts, out: &mut Vec<Finding>) {
    let widest = widest_concurrent(plan);
    let usage = &facts.capacity;
    let quotas = usage.quotas;
    let names = match widest.waves.as_slice() {
        [one] => format!("wave {one} runs"),
        many => format!("waves {} can run at once", many.join(", ")),
    };
    let message = |limit: String| {
        format!(
            "{names} with {} in {}; {limit}",
            count(widest.servers, "server"),
            count(widest.jobs, "DRS job")
        )
    };
    let warning = |limit: String, what_to_do: &str| Finding {
        severity: Severity::Warning,
        check: CheckName::QuotaHeadroom,
        wave: None,
        server: None,
        message: message(limit),
        what_to_do: what_to_do.to_owned(),
    };
    if widest.servers > quotas.servers_in_active_jobs || widest.jobs > quotas.concurrent_jobs {
        out.push(warning(
            format!(
                "DRS allows {} servers in active jobs and {} jobs at once",
                quotas.servers_in_active_jobs, quotas.concurrent_jobs
            ),
            "nothing must change: waves that do not fit wait for capacity and launch as it frees (docs/capacity.md); ask AWS for higher quotas to launch them together",
        ));
        return;
    }
    let free_servers = quotas
        .servers_in_active_jobs
        .saturating_sub(usage.servers_in_use);
    let free_jobs = quotas.concurrent_jobs.saturating_sub(usage.jobs_in_use);
    if widest.servers > free_servers || widest.jobs > free_jobs {
        out.push(warning(
            format!(
                "other launches hold {} in {} now, leaving {} and {}",
                count(usage.servers_in_use, "server"),
                count(usage.jobs_in_use, "job"),
                count(free_servers, "server"),
                count(free_jobs, "job")
            ),
            "nothing must change: waves that do not fit wait for capacity; start later to launch them together",
        ));
    }
}

impl PreflightFacts {
    fn region_or<'a>(&'a self, plan: &'a Plan) -> &'a str {
        if self.region.is_empty() {
            &plan.region
        } else {
            &self.region
        }
    }
}

/// "1 server", "3 servers".
fn count(n: u32, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// A duration to the second, as people write it ("1h 5m 3s").
fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}
