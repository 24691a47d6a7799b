//! What the Markdown and HTML reports say, once: the facts, the tables'
//! headers and cells, the failure lines and the command outputs, written
//! through a [`Markup`] that escapes text and marks code, emphasis and
//! tone in its own syntax. The renderers only lay these out.

use super::format::{self, duration, instant, offset};
use super::model::{ActionReport, DrillReport, FailureReport, ServerReport, WaveReport};
use super::rto::RtoOutcome;
use crate::plan::PreflightMode;
use crate::preflight::Severity;
use crate::status::{PreflightPhase, PreflightView};
use crate::status_model::{ActionStatus, ExecutionStatus, LaunchStatus, Transitions, WaveStatus};

/// How a cell or a word should look: good news, bad news, a caution, or
/// neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Warn,
    Plain,
}

/// A rendering's syntax. `text` escapes anything from the plan or AWS.
pub trait Markup {
    fn text(&self, s: &str) -> String;
    /// An identifier or a code, shown in a monospace font.
    fn code(&self, s: &str) -> String;
    fn strong(&self, s: &str) -> String;
    /// A status word, coloured by its tone where the syntax can.
    fn badge(&self, s: &str, tone: Tone) -> String;
}

/// A table: its header and its rows of cells (already marked up).
pub struct Table {
    pub header: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
}

const DASH: &str = "—";

fn or_dash<T>(value: Option<T>, show: impl FnOnce(T) -> String) -> String {
    value.map_or_else(|| DASH.to_owned(), show)
}

/// "Report" for a drill, "Recovery report" for a real failover.
pub fn title(r: &DrillReport) -> String {
    let kind = if r.mode.is_drill() {
        "Drill"
    } else {
        "Recovery"
    };
    format!("{kind} report: {}", r.plan_name)
}

/// The summary: (label, value) pairs.
pub fn summary(r: &DrillReport, m: &dyn Markup) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("Plan", m.text(&r.plan_name)),
        ("Execution", m.code(&r.execution_id.to_string())),
        (
            "Mode",
            if r.mode.is_drill() {
                "drill".to_owned()
            } else {
                format!("{} (real failover)", m.strong("recovery"))
            },
        ),
        ("Region", m.text(&r.region)),
        ("Started by", m.text(&r.requested_by)),
        ("Start", instant(r.start_time)),
        ("End", or_dash(r.end_time, instant)),
        ("Duration", or_dash(r.duration_seconds, duration)),
        (
            "Status",
            m.badge(
                &format::status(r.status),
                if r.status == ExecutionStatus::Completed {
                    Tone::Good
                } else {
                    Tone::Bad
                },
            ),
        ),
    ];
    if let Some(reason) = &r.reason {
        rows.push(("Reason", m.text(reason)));
    }
    let c = &r.servers;
    rows.push((
        "Servers",
        format!(
            "{} in all: {} completed, {} failed ({} optional), {} other",
            c.total, c.completed, c.failed, c.failed_optional, c.other
        ),
    ));
    rows.push((
        "RTO target",
        r.rto_target_seconds.map_or_else(
            || format!("none set ({})", m.code("options.rto_target")),
            duration,
        ),
    ));
    rows.push(("Measured RTO", m.badge(&r.rto.summary, tone(r.rto.outcome))));
    rows.push((
        "RPO indicator",
        match &r.rpo {
            Some(rpo) => format!(
                "oldest snapshot used: {} at launch ({}, wave {})",
                format::snapshot_age(rpo.worst_snapshot_age_seconds),
                m.text(&rpo.hostname),
                rpo.wave_number
            ),
            None => "no point-in-time snapshot recorded".to_owned(),
        },
    ));
    rows
}

fn tone(outcome: RtoOutcome) -> Tone {
    match outcome {
        RtoOutcome::Met | RtoOutcome::NoTarget => Tone::Good,
        RtoOutcome::Missed | RtoOutcome::NotAchieved => Tone::Bad,
        RtoOutcome::InProgress => Tone::Plain,
    }
}

/// The RTO per wave.
pub fn waves_table(r: &DrillReport, m: &dyn Markup) -> Table {
    let at = |t| offset(r.start_time, t);
    Table {
        header: &[
            "Wave", "Status", "Start", "End", "Duration", "Ready", "RTO", "Verdict",
        ],
        rows: r
            .waves
            .iter()
            .map(|w| {
                vec![
                    format!("{} {}", w.wave_number, m.text(&w.name)),
                    wave_badge(w, m),
                    or_dash(w.start_time, at),
                    or_dash(w.end_time, at),
                    or_dash(w.duration_seconds, duration),
                    or_dash(w.rto.ready_time, at),
                    or_dash(w.rto.measured_seconds, duration),
                    m.badge(&w.rto.summary, tone(w.rto.outcome)),
                ]
            })
            .collect(),
    }
}

pub fn wave_badge(w: &WaveReport, m: &dyn Markup) -> String {
    let tone = match w.status {
        WaveStatus::Completed => Tone::Good,
        WaveStatus::Failed => Tone::Bad,
        _ => Tone::Plain,
    };
    m.badge(&format::status(w.status), tone)
}

/// One line per failure.
pub fn failure_lines(r: &DrillReport, m: &dyn Markup) -> Vec<String> {
    r.failures.iter().map(|f| failure_line(f, m)).collect()
}

fn failure_line(f: &FailureReport, m: &dyn Markup) -> String {
    let wave = f
        .wave_number
        .map_or(String::new(), |n| format!("wave {n}, "));
    let id = f
        .source_server_id
        .as_ref()
        .map_or(String::new(), |id| format!(" ({})", m.code(id.as_str())));
    let optional = if f.critical { "" } else { ", optional" };
    let code = f
        .code
        .as_deref()
        .map_or(String::new(), |c| format!(" {}", m.code(c)));
    format!(
        "{wave}{} {}{id}{optional}:{code} {}",
        format::status(f.kind).to_lowercase(),
        m.strong(&m.text(&f.subject)),
        m.text(&f.reason)
    )
}

/// The sentence under a wave's heading.
pub fn wave_facts(w: &WaveReport, m: &dyn Markup) -> String {
    let mut facts = Vec::new();
    if let Some(job) = &w.recovery_job_id {
        facts.push(format!("DRS job {}", m.code(job)));
    }
    if let Some(by) = &w.approved_by {
        facts.push(format!("approved by {}", m.text(by)));
    }
    if let Some(waited) = w.capacity_wait_seconds {
        facts.push(format!(
            "waited {} for DRS capacity",
            m.text(&format::duration(waited))
        ));
    }
    facts.push(format!("RTO: {}", m.text(&w.rto.summary)));
    if let Some(reason) = &w.reason {
        facts.push(format!("reason: {}", m.text(reason)));
    }
    format!("{}.", facts.join("; "))
}

pub fn servers_table(r: &DrillReport, servers: &[ServerReport], m: &dyn Markup) -> Table {
    let at = |t| offset(r.start_time, t);
    Table {
        header: &[
            "Server",
            "Source server",
            "Launch",
            "Launch start",
            "Launch end",
            "Launch time",
            "Health",
            "Time to healthy",
            "Instance",
            "Private IP",
            "Public IP",
            "Snapshot",
            "Snapshot age",
            "Error",
        ],
        rows: servers
            .iter()
            .map(|s| {
                let host = if s.critical {
                    m.text(&s.hostname)
                } else {
                    format!("{} (optional)", m.text(&s.hostname))
                };
                let launch_tone = match s.launch_status {
                    LaunchStatus::Completed => Tone::Good,
                    LaunchStatus::Failed => Tone::Bad,
                    _ => Tone::Plain,
                };
                let error = [
                    s.error_code.as_deref().map(|c| m.code(c)),
                    s.error_message.as_deref().map(|t| m.text(t)),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                vec![
                    host,
                    m.code(s.source_server_id.as_str()),
                    m.badge(&format::status(s.launch_status), launch_tone),
                    or_dash(s.launch_start_time, at),
                    or_dash(s.launch_end_time, at),
                    or_dash(s.launch_seconds, duration),
                    format::status(s.health_status),
                    or_dash(s.time_to_healthy_seconds, duration),
                    or_dash(s.instance_id.as_deref(), |i| m.code(i)),
                    or_dash(s.private_ip_address.as_deref(), |t| m.text(t)),
                    or_dash(s.public_ip_address.as_deref(), |t| m.text(t)),
                    snapshot_cell(s, m),
                    or_dash(s.snapshot_age_seconds, format::snapshot_age),
                    error,
                ]
            })
            .collect(),
    }
}

/// The snapshot a server launched from: the chosen one's id and time, or
/// `latest` and the point in time DRS used.
fn snapshot_cell(s: &ServerReport, m: &dyn Markup) -> String {
    match (&s.recovery_snapshot_id, s.point_in_time_snapshot) {
        (Some(id), Some(t)) => format!("{} {}", m.code(id), instant(t)),
        (Some(id), None) => m.code(id),
        (None, Some(t)) => format!("latest: {}", instant(t)),
        (None, None) => DASH.to_owned(),
    }
}

pub fn actions_table(r: &DrillReport, actions: &[ActionReport], m: &dyn Markup) -> Table {
    let at = |t| offset(r.start_time, t);
    Table {
        header: &[
            "Action", "Document", "Status", "Start", "End", "Duration", "Error",
        ],
        rows: actions
            .iter()
            .map(|a| {
                let tone = match a.status {
                    ActionStatus::Success => Tone::Good,
                    ActionStatus::Failed | ActionStatus::Timeout => Tone::Bad,
                    _ => Tone::Plain,
                };
                vec![
                    m.text(&a.name),
                    m.text(&a.document_name),
                    m.badge(&format::status(a.status), tone),
                    or_dash(a.start_time, at),
                    or_dash(a.end_time, at),
                    or_dash(a.duration_seconds, duration),
                    a.error_message
                        .as_deref()
                        .map_or_else(String::new, |t| m.text(t)),
                ]
            })
            .collect(),
    }
}

/// The pre-flight section: what ran and what it concluded, then the
/// findings, worst first (`None` when there were none).
pub struct PreflightSection {
    pub facts: String,
    pub findings: Option<Table>,
}

/// The pre-flight section of `r`; `None` when no pre-flight ran.
pub fn preflight(r: &DrillReport, m: &dyn Markup) -> Option<PreflightSection> {
    let p = r.preflight.as_ref()?;
    let mode = match p.mode {
        PreflightMode::Block => "an error stops the start before any wave launches",
        PreflightMode::Warn => "findings are recorded and the execution goes on",
        PreflightMode::Off => "no checks run",
    };
    let mode = format!("Mode {} ({mode})", m.code(&format::status(p.mode)));
    let facts = match (p.state, p.checked_at) {
        (PreflightPhase::Done, Some(at)) => format!(
            "{mode}. Checked {} at {} ({}): {}.",
            servers_checked(p),
            instant(at),
            offset(r.start_time, at),
            m.badge(&p.summary, preflight_tone(p))
        ),
        _ if r.status.is_terminal() => format!(
            "{mode}. It did not finish: the execution ended before pre-flight answered, so \
             nothing was checked."
        ),
        _ => format!("{mode}. Running: no wave starts until it finishes."),
    };
    let findings = (!p.findings.is_empty()).then(|| Table {
        header: &[
            "Severity",
            "Check",
            "Wave",
            "Server",
            "Finding",
            "What to do",
        ],
        rows: p
            .findings
            .iter()
            .map(|f| {
                let tone = match f.severity {
                    Severity::Error => Tone::Bad,
                    Severity::Warning => Tone::Warn,
                    Severity::Info => Tone::Plain,
                };
                vec![
                    m.badge(&format::status(f.severity), tone),
                    m.code(&format::status(f.check)),
                    or_dash(f.wave.as_deref(), |w| m.text(w)),
                    or_dash(f.server.as_ref(), |s| m.code(s.as_str())),
                    m.text(&f.message),
                    m.text(&f.what_to_do),
                ]
            })
            .collect(),
    });
    Some(PreflightSection { facts, findings })
}

fn servers_checked(p: &PreflightView) -> String {
    match p.servers_checked {
        Some(1) => "1 server".to_owned(),
        Some(n) => format!("{n} servers"),
        None => "the servers".to_owned(),
    }
}

/// Bad with an error, a caution with a warning, else good news.
fn preflight_tone(p: &PreflightView) -> Tone {
    let has = |s| p.findings.iter().any(|f| f.severity == s);
    if has(Severity::Error) {
        Tone::Bad
    } else if has(Severity::Warning) {
        Tone::Warn
    } else {
        Tone::Good
    }
}

/// A command's output on one instance: a heading and the raw text (the
/// renderer escapes it for its own code block).
pub struct Output {
    pub heading: String,
    pub body: String,
}

/// Every invocation that printed something, stdout then stderr.
pub fn outputs(actions: &[ActionReport], m: &dyn Markup) -> Vec<Output> {
    actions
        .iter()
        .flat_map(|a| {
            a.invocations
                .iter()
                .filter(|i| !i.output.trim().is_empty() || !i.error.trim().is_empty())
                .map(move |inv| {
                    let mut body = inv.output.trim_end().to_owned();
                    if !inv.error.trim().is_empty() {
                        if !body.is_empty() {
                            body.push('\n');
                        }
                        body.push_str("stderr: ");
                        body.push_str(inv.error.trim_end());
                    }
                    Output {
                        heading: format!(
                            "Output of {} on {} ({}), {}:",
                            m.strong(&m.text(&a.name)),
                            m.code(&inv.instance_id),
                            m.code(inv.source_server_id.as_str()),
                            format::status(inv.status)
                        ),
                        body,
                    }
                })
        })
        .collect()
}

/// The note shown on a report of an execution that has not settled.
pub const PROVISIONAL: &str = "the execution has not settled; figures may still change.";
