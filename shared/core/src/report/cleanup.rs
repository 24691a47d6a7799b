//! The report's clean-up section: who asked for the drill's clean-up, when
//! and why, where it stands with its counts, and each server whose instance
//! is not (yet) terminated with the reason. A cleaned drill keeps its
//! status and its RTO: the clean-up comes after what the report measures.

use super::content::{Markup, Table, Tone};
use super::format;
use super::model::{CleanupReport, CleanupServer, DrillReport};
use crate::records::{ExecutionRecord, WaveRecord};
use crate::status::{CleanupPhase, cleanup_view, leftover_views};
use crate::status_model::CleanupStatus;

pub(super) fn build(execution: &ExecutionRecord, waves: &[WaveRecord]) -> Option<CleanupReport> {
    let summary = cleanup_view(execution, waves)?;
    let not_terminated = waves
        .iter()
        .flat_map(|w| w.servers.iter().map(move |s| (w.number, s)))
        .filter_map(|(wave, s)| {
            let c = s.cleanup.as_ref()?;
            (c.status != CleanupStatus::Terminated).then(|| CleanupServer {
                wave,
                source_server_id: s.id().clone(),
                hostname: s.hostname(),
                recovery_instance_id: s.recovery_instance_id.clone(),
                status: c.status,
                reason: c.reason.clone(),
                end_time: c.ended_at,
            })
        })
        .collect();
    Some(CleanupReport {
        summary,
        not_terminated,
    })
}

/// What `options.cleanup_previous` did before each wave launched.
pub(super) fn earlier_drill_instances(waves: &[WaveRecord]) -> Vec<String> {
    waves
        .iter()
        .flat_map(|w| {
            w.servers
                .iter()
                .map(|s| leftover_views(s, w.leftovers.as_ref()))
        })
        .flatten()
        .map(|v| v.summary)
        .collect()
}

/// The "Before the launch" lines, escaped for `m`.
pub fn earlier_lines(r: &DrillReport, m: &dyn Markup) -> Vec<String> {
    r.earlier_drill_instances
        .iter()
        .map(|l| m.text(l))
        .collect()
}

/// The section's sentence and, when some instance is not terminated, its
/// table; `None` when no clean-up was requested.
pub fn section(r: &DrillReport, m: &dyn Markup) -> Option<(String, Option<Table>)> {
    let c = r.cleanup.as_ref()?;
    let s = &c.summary;
    let tone = match s.status {
        CleanupPhase::Completed => Tone::Good,
        CleanupPhase::Failed => Tone::Bad,
        CleanupPhase::InProgress => Tone::Warn,
    };
    let ended = s
        .ended_at
        .map_or_else(String::new, |at| format!(", ended {}", format::instant(at)));
    let facts = format!(
        "{} requested by {} at {}{ended} ({}): {} terminated, {} terminating, {} failed. \
         The execution's status and RTO above are as the drill left them.",
        m.badge(&format::status(s.status), tone),
        m.strong(&s.requested_by),
        format::instant(s.requested_at),
        m.text(&s.reason),
        s.terminated,
        s.terminating,
        s.failed
    );
    let table = (!c.not_terminated.is_empty()).then(|| Table {
        header: &["Wave", "Server", "Recovery instance", "Clean-up", "Reason"],
        rows: c
            .not_terminated
            .iter()
            .map(|x| {
                let tone = if x.status == CleanupStatus::Failed {
                    Tone::Bad
                } else {
                    Tone::Warn
                };
                vec![
                    x.wave.to_string(),
                    m.text(&x.hostname),
                    m.code(x.recovery_instance_id.as_deref().unwrap_or("—")),
                    m.badge(&format::status(x.status), tone),
                    m.text(x.reason.as_deref().unwrap_or("")),
                ]
            })
            .collect(),
    });
    Some((facts, table))
}
