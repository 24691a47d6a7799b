//! From the records to the report: every number the report shows is
//! computed here, once, so the JSON, Markdown, HTML and SVG agree.

use super::format::{round_ms, seconds_between};
use super::model::*;
use super::rto::{execution_rto, wave_ready_time, wave_rto};
use crate::records::{
    ActionRun, ExecutionRecord, LaunchState, ServerState, WaveRecord, WaveSummary,
};
use crate::status::{is_settled, preflight_view};
use crate::status_model::{ActionStatus, ExecutionStatus, LaunchStatus};
use crate::time::Timestamp;

/// The report of `execution` from its wave records. Pure and
/// deterministic: the same records give the same report, byte for byte
/// once rendered (so writing it again changes nothing).
///
/// A wave record missing from `waves` (not written yet) shows the
/// summary's status with no servers.
pub fn build(execution: &ExecutionRecord, waves: &[WaveRecord]) -> DrillReport {
    let start = execution.start_time;
    let mut ready = Vec::with_capacity(execution.waves.len());
    let wave_reports: Vec<WaveReport> = execution
        .waves
        .iter()
        .map(|summary| {
            let record = waves.iter().find(|w| w.number == summary.number);
            ready.push(record.and_then(wave_ready_time));
            wave_report(execution, summary, record)
        })
        .collect();
    let rto = execution_rto(execution, &ready);
    let failures = failures(execution, &wave_reports, waves);
    DrillReport {
        schema_version: SCHEMA_VERSION,
        execution_id: execution.id,
        plan_name: execution.plan_name.clone(),
        mode: execution.mode,
        region: execution.region.clone(),
        requested_by: execution.requested_by.clone(),
        status: execution.status,
        reason: execution.reason.clone(),
        start_time: start,
        end_time: execution.end_time,
        duration_seconds: execution.end_time.map(|end| seconds_between(start, end)),
        settled: is_settled(execution, waves),
        rto_target_seconds: execution
            .options
            .rto_target
            .map(|t| round_ms(t.as_secs_f64())),
        rto,
        rpo: rpo(&wave_reports),
        servers: counts(execution, &wave_reports),
        waves: wave_reports,
        failures,
        preflight: preflight_view(execution),
        cleanup: super::cleanup::build(execution, waves),
        operator_actions: execution.operator_actions.clone(),
        earlier_drill_instances: super::cleanup::earlier_drill_instances(waves),
    }
}

fn wave_report(
    execution: &ExecutionRecord,
    summary: &WaveSummary,
    record: Option<&WaveRecord>,
) -> WaveReport {
    let (recovery_job_id, launch_failure) = match record.map(|r| &r.launch) {
        Some(LaunchState::Started { job_id, .. }) => (Some(job_id.clone()), None),
        Some(LaunchState::Failed { code, message }) => (None, Some(format!("{code}: {message}"))),
        _ => (None, None),
    };
    let start_time = record.and_then(|r| r.start_time);
    let end_time = record.and_then(|r| r.end_time);
    WaveReport {
        wave_number: summary.number,
        name: summary.name.clone(),
        status: record.map_or(summary.status, |r| r.status),
        start_time,
        end_time,
        duration_seconds: start_time.zip(end_time).map(|(s, e)| seconds_between(s, e)),
        reason: record.and_then(|r| r.reason.clone()).or(launch_failure),
        approved_by: summary.approved_by.clone(),
        capacity_wait_seconds: record
            .and_then(|r| r.start_time.zip(r.admitted_at))
            .map(|(asked, admitted)| seconds_between(asked, admitted))
            .filter(|waited| *waited >= 1.0),
        recovery_job_id,
        health_checked: record.is_some_and(|r| !r.plan.health_checks.is_empty()),
        rto: wave_rto(execution, record, summary.status),
        servers: record
            .map(|r| {
                r.servers
                    .iter()
                    .map(|s| server_report(execution.start_time, s))
                    .collect()
            })
            .unwrap_or_default(),
        actions: record
            .map(|r| r.actions.iter().map(action_report).collect())
            .unwrap_or_default(),
    }
}

fn server_report(execution_start: Timestamp, s: &ServerState) -> ServerReport {
    // A server launched if DRS gave it an instance, even if it failed later
    // (an action or a health check): its launch time is real.
    let launched = s.launched_instance_id.is_some();
    ServerReport {
        source_server_id: s.plan.id.clone(),
        hostname: s.hostname(),
        critical: s.plan.critical,
        launch_status: s.launch_status,
        health_status: s.health_status,
        launch_start_time: s.launch_start_time,
        launch_end_time: s.launch_end_time,
        launch_seconds: s
            .launch_start_time
            .zip(s.launch_end_time)
            .filter(|_| launched)
            .map(|(a, b)| seconds_between(a, b)),
        healthy_time: s.healthy_time,
        time_to_healthy_seconds: s.healthy_time.map(|t| seconds_between(execution_start, t)),
        recovery_instance_id: s.recovery_instance_id.clone(),
        instance_id: s.launched_instance_id.clone(),
        instance_type: s.instance_type.clone(),
        availability_zone: s.availability_zone.clone(),
        private_ip_address: s.private_ip_address.clone(),
        public_ip_address: s.public_ip_address.clone(),
        point_in_time_snapshot: s.point_in_time_snapshot,
        recovery_snapshot_id: s.plan.recovery_snapshot.as_ref().map(|c| c.id.clone()),
        snapshot_age_seconds: s
            .point_in_time_snapshot
            .zip(s.launch_start_time)
            .map(|(snapshot, launch)| seconds_between(snapshot, launch)),
        error_code: s.error_code.clone(),
        error_message: s.error_message.clone(),
    }
}

fn action_report(a: &ActionRun) -> ActionReport {
    ActionReport {
        name: a.name.clone(),
        document_name: a.document_name.clone(),
        status: a.status,
        start_time: a.start_time,
        end_time: a.end_time,
        duration_seconds: a
            .start_time
            .zip(a.end_time)
            .map(|(s, e)| seconds_between(s, e)),
        command_ids: a.command_ids.clone(),
        error_message: a.error_message.clone(),
        // Keyed by instance id: already in a stable order.
        invocations: a
            .invocations
            .iter()
            .map(|(instance, r)| InvocationReport {
                instance_id: instance.clone(),
                source_server_id: r.source_server_id.clone(),
                status: r.status,
                output: r.output.clone(),
                error: r.error.clone(),
            })
            .collect(),
    }
}

fn counts(execution: &ExecutionRecord, waves: &[WaveReport]) -> ServerCounts {
    let servers = || waves.iter().flat_map(|w| &w.servers);
    let failed = || servers().filter(|s| s.launch_status == LaunchStatus::Failed);
    let completed = servers()
        .filter(|s| s.launch_status == LaunchStatus::Completed)
        .count();
    let failed_count = failed().count();
    // Waves without a record still count their servers (as not started).
    let total = execution.waves.iter().map(|w| w.server_count).sum();
    ServerCounts {
        total,
        completed,
        failed: failed_count,
        failed_optional: failed().filter(|s| !s.critical).count(),
        other: total - completed - failed_count,
    }
}

fn rpo(waves: &[WaveReport]) -> Option<RpoIndicator> {
    waves
        .iter()
        .flat_map(|w| w.servers.iter().map(move |s| (w.wave_number, s)))
        .filter_map(|(n, s)| s.snapshot_age_seconds.map(|age| (n, s, age)))
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(wave_number, s, age)| RpoIndicator {
            worst_snapshot_age_seconds: age,
            source_server_id: s.source_server_id.clone(),
            hostname: s.hostname.clone(),
            wave_number,
        })
}

fn failures(
    execution: &ExecutionRecord,
    waves: &[WaveReport],
    records: &[WaveRecord],
) -> Vec<FailureReport> {
    let mut out = Vec::new();
    if matches!(
        execution.status,
        ExecutionStatus::Failed | ExecutionStatus::Cancelled | ExecutionStatus::Timeout
    ) {
        out.push(FailureReport {
            kind: FailureKind::Execution,
            wave_number: None,
            subject: execution.plan_name.clone(),
            source_server_id: None,
            critical: true,
            code: Some(super::format::status(execution.status)),
            reason: execution
                .reason
                .clone()
                .unwrap_or_else(|| "no reason was recorded".to_owned()),
        });
    }
    for wave in waves {
        let n = Some(wave.wave_number);
        if wave.status == crate::status_model::WaveStatus::Failed {
            let launch_code = records
                .iter()
                .find(|r| r.number == wave.wave_number)
                .and_then(|r| match &r.launch {
                    LaunchState::Failed { code, .. } => Some(code.clone()),
                    _ => None,
                });
            out.push(FailureReport {
                kind: FailureKind::Wave,
                wave_number: n,
                subject: wave.name.clone(),
                source_server_id: None,
                critical: true,
                code: launch_code,
                reason: wave
                    .reason
                    .clone()
                    .unwrap_or_else(|| "no reason was recorded".to_owned()),
            });
        }
        for s in wave
            .servers
            .iter()
            .filter(|s| s.launch_status == LaunchStatus::Failed)
        {
            out.push(FailureReport {
                kind: FailureKind::Server,
                wave_number: n,
                subject: s.hostname.clone(),
                source_server_id: Some(s.source_server_id.clone()),
                critical: s.critical,
                code: s.error_code.clone(),
                reason: s
                    .error_message
                    .clone()
                    .unwrap_or_else(|| "no reason was recorded".to_owned()),
            });
        }
        for a in wave
            .actions
            .iter()
            .filter(|a| matches!(a.status, ActionStatus::Failed | ActionStatus::Timeout))
        {
            out.push(FailureReport {
                kind: FailureKind::Action,
                wave_number: n,
                subject: a.name.clone(),
                source_server_id: None,
                critical: true,
                code: Some(super::format::status(a.status)),
                reason: action_failure(a),
            });
        }
    }
    out
}

/// The action's own error, then what each failing instance said.
fn action_failure(a: &ActionReport) -> String {
    let mut lines: Vec<String> = a.error_message.iter().cloned().collect();
    for inv in a
        .invocations
        .iter()
        .filter(|i| i.status != ActionStatus::Success)
    {
        let said = [inv.error.trim(), inv.output.trim()]
            .into_iter()
            .find(|t| !t.is_empty())
            .unwrap_or("no output");
        lines.push(format!(
            "{} ({}): {} {said}",
            inv.instance_id,
            inv.source_server_id,
            super::format::status(inv.status)
        ));
    }
    if lines.is_empty() {
        "no reason was recorded".to_owned()
    } else {
        lines.join("; ")
    }
}
