//! The timeline picture (SVG): a Gantt chart over the execution's time,
//! one group of rows per wave: the wave's own bar, a row per server (its
//! launch bar, then its time from launched to healthy), a row per
//! post-launch action, a dashed line at the RTO target and a solid one at
//! the measured RTO.
//!
//! Size: a plan may hold 4,000 servers. Up to [`DETAIL_LIMIT`] servers
//! every server gets its own row. Beyond that a row per server would make
//! a picture tens of thousands of pixels high that nobody can read, so each
//! wave is summarised in one row (from its first launch start to its last
//! launch end, then to its last healthy server, with the counts) and only
//! its failed servers keep their own rows, at most [`FAILED_ROWS_PER_WAVE`]
//! per wave; every server is still in the report's tables. Rows have a fixed
//! height, so the picture stays under ~99 waves × (2 + 6 + actions) rows.
//!
//! Every text from the plan or from AWS is XML-escaped; the output is a
//! standalone, well-formed SVG document (also valid inline in HTML).

use super::format::{self, seconds_between};
use super::model::{DrillReport, ServerReport, WaveReport};
use super::rto::RtoOutcome;
use crate::status_model::{ActionStatus, LaunchStatus, WaveStatus};
use crate::time::Timestamp;
use std::fmt::Write;

/// The most servers drawn one row each; above it waves are summarised.
pub const DETAIL_LIMIT: usize = 200;
/// Failed servers drawn one row each per summarised wave.
pub const FAILED_ROWS_PER_WAVE: usize = 5;

const WIDTH: f64 = 1100.0;
const LABEL_WIDTH: f64 = 250.0;
const RIGHT_PAD: f64 = 24.0;
const TOP: f64 = 62.0;
const ROW: f64 = 16.0;
const BAR: f64 = 10.0;
const LEGEND: f64 = 40.0;
/// Labels longer than this are cut (the full text is in the row's title).
const LABEL_CHARS: usize = 36;

const LAUNCH: &str = "#3b6fd8";
const HEALTHY: &str = "#2e9e5b";
const FAILED: &str = "#d0463b";
const ACTION: &str = "#8a5cc2";
const WAVE_BAR: &str = "#c9d3e0";
const TARGET: &str = "#d0463b";
const MEASURED: &str = "#222222";

/// The timeline of `report` as a standalone SVG document.
pub fn timeline(report: &DrillReport) -> String {
    let scale = Scale::of(report);
    let detailed = report.waves.iter().map(|w| w.servers.len()).sum::<usize>() <= DETAIL_LIMIT;
    let mut rows = Rows::default();
    for wave in &report.waves {
        wave_rows(&mut rows, &scale, wave, detailed);
    }
    let height = TOP + rows.count as f64 * ROW + LEGEND;
    let mut svg = String::with_capacity(rows.body.len() + 4096);
    let title = format!("Timeline of {} ({})", report.plan_name, report.execution_id);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" font-size="11" role="img" aria-label="{label}">"#,
        label = escape(&title)
    );
    let _ = write!(svg, "<title>{}</title>", escape(&title));
    let _ = write!(
        svg,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
    );
    axis(&mut svg, &scale, height - LEGEND);
    svg.push_str(&rows.body);
    rto_lines(&mut svg, report, &scale, height - LEGEND);
    operator_marks(&mut svg, report, &scale, height - LEGEND);
    legend(&mut svg, height - LEGEND + 14.0, detailed);
    svg.push_str("</svg>\n");
    svg
}

/// Maps instants to x positions.
struct Scale {
    start: Timestamp,
    span: f64,
}

impl Scale {
    fn of(report: &DrillReport) -> Scale {
        let start = report.start_time;
        let mut latest = report.end_time.map_or(0.0, |e| seconds_between(start, e));
        let mut see = |t: Option<Timestamp>| {
            if let Some(t) = t {
                latest = latest.max(seconds_between(start, t));
            }
        };
        for w in &report.waves {
            see(w.start_time);
            see(w.end_time);
            for s in &w.servers {
                see(s.launch_start_time);
                see(s.launch_end_time);
                see(s.healthy_time);
            }
            for a in &w.actions {
                see(a.start_time);
                see(a.end_time);
            }
        }
        for a in &report.operator_actions {
            see(Some(a.at));
        }
        if let Some(target) = report.rto_target_seconds {
            latest = latest.max(target);
        }
        Scale {
            start,
            span: latest.max(1.0),
        }
    }

    fn x_of_seconds(&self, seconds: f64) -> f64 {
        let plot = WIDTH - LABEL_WIDTH - RIGHT_PAD;
        LABEL_WIDTH + (seconds.clamp(0.0, self.span) / self.span) * plot
    }

    fn x(&self, t: Timestamp) -> f64 {
        self.x_of_seconds(seconds_between(self.start, t))
    }
}

#[derive(Default)]
struct Rows {
    body: String,
    count: usize,
}

impl Rows {
    fn y(&self) -> f64 {
        TOP + self.count as f64 * ROW
    }

    /// A row with a label; `bold` for wave headers.
    fn label(&mut self, text: &str, indent: f64, bold: bool) {
        let y = self.y() + ROW - 4.0;
        let shown = cut(text, LABEL_CHARS);
        let weight = if bold { r#" font-weight="bold""# } else { "" };
        let _ = write!(
            self.body,
            r#"<text x="{x}" y="{y}"{weight}><title>{full}</title>{shown}</text>"#,
            x = 8.0 + indent,
            full = escape(text),
            shown = escape(&shown),
        );
    }

    /// A bar on the current row from `from` to `to`.
    fn bar(
        &mut self,
        scale: &Scale,
        from: Timestamp,
        to: Timestamp,
        color: &str,
        height: f64,
        tip: &str,
    ) {
        let (x1, x2) = (scale.x(from), scale.x(to));
        let y = self.y() + (ROW - height) / 2.0;
        let width = (x2 - x1).max(1.0);
        let _ = write!(
            self.body,
            r#"<rect x="{x1:.1}" y="{y:.1}" width="{width:.1}" height="{height}" fill="{color}" rx="2"><title>{tip}</title></rect>"#,
            tip = escape(tip)
        );
    }

    fn next(&mut self) {
        self.count += 1;
    }
}

fn wave_rows(rows: &mut Rows, scale: &Scale, wave: &WaveReport, detailed: bool) {
    let heading = format!(
        "Wave {} · {} · {}",
        wave.wave_number,
        wave.name,
        format::status(wave.status)
    );
    rows.label(&heading, 0.0, true);
    if let Some(start) = wave.start_time {
        let end = wave.end_time.or(wave.rto.ready_time).unwrap_or(start);
        let color = if wave.status == WaveStatus::Failed {
            "#efc2bd"
        } else {
            WAVE_BAR
        };
        let tip = format!(
            "wave {}: {} to {}; RTO {}",
            wave.name,
            format::offset(scale.start, start),
            format::offset(scale.start, end),
            wave.rto.summary
        );
        rows.bar(scale, start, end, color, ROW - 2.0, &tip);
    }
    if let Some(ready) = wave.rto.ready_time {
        let x = scale.x(ready);
        let y = rows.y();
        let _ = write!(
            rows.body,
            r#"<path d="M{x:.1} {y:.1} l4 {h} l-4 {h} l-4 -{h} z" fill="{MEASURED}"><title>wave {name} ready at {at}</title></path>"#,
            h = ROW / 2.0,
            name = escape(&wave.name),
            at = format::offset(scale.start, ready),
        );
    }
    rows.next();
    if detailed {
        for server in &wave.servers {
            server_row(rows, scale, wave, server);
        }
    } else {
        summary_rows(rows, scale, wave);
    }
    for action in &wave.actions {
        rows.label(&format!("action {}", action.name), 12.0, false);
        if let Some(start) = action.start_time {
            let end = action.end_time.unwrap_or(start);
            let color = match action.status {
                ActionStatus::Success | ActionStatus::Running | ActionStatus::Pending => ACTION,
                ActionStatus::Failed | ActionStatus::Timeout => FAILED,
            };
            let tip = format!(
                "action {} {}: {}",
                action.name,
                format::status(action.status),
                format::duration(seconds_between(start, end))
            );
            rows.bar(scale, start, end, color, BAR, &tip);
        }
        rows.next();
    }
}

fn server_row(rows: &mut Rows, scale: &Scale, wave: &WaveReport, s: &ServerReport) {
    rows.label(&s.hostname, 12.0, false);
    let failed = s.launch_status == LaunchStatus::Failed;
    if let Some(start) = s.launch_start_time {
        let end = s.launch_end_time.unwrap_or(start);
        let launched = s.instance_id.is_some();
        let (color, what) = if launched {
            (LAUNCH, "launch")
        } else {
            (FAILED, "launch failed after")
        };
        let tip = format!(
            "{} {what}: {}",
            s.hostname,
            format::duration(seconds_between(start, end))
        );
        rows.bar(scale, start, end, color, BAR, &tip);
        if launched {
            // Launched → healthy, or → the failure (the wave's end).
            let (until, color, what) = match (s.healthy_time, failed) {
                (Some(h), _) => (Some(h), HEALTHY, "healthy"),
                (None, true) => (wave.end_time, FAILED, "failed"),
                (None, false) => (None, HEALTHY, ""),
            };
            if let Some(until) = until {
                let tip = format!(
                    "{} {what} at {}",
                    s.hostname,
                    format::offset(scale.start, until)
                );
                rows.bar(scale, end, until, color, BAR, &tip);
            }
        }
    }
    rows.next();
}

/// A summarised wave: one row for all its servers, then its failures.
fn summary_rows(rows: &mut Rows, scale: &Scale, wave: &WaveReport) {
    let launched: Vec<&ServerReport> = wave
        .servers
        .iter()
        .filter(|s| s.instance_id.is_some())
        .collect();
    let failed: Vec<&ServerReport> = wave
        .servers
        .iter()
        .filter(|s| s.launch_status == LaunchStatus::Failed)
        .collect();
    let label = format!(
        "{} servers, {} launched, {} failed",
        wave.servers.len(),
        launched.len(),
        failed.len()
    );
    rows.label(&label, 12.0, false);
    let first_start = wave
        .servers
        .iter()
        .filter_map(|s| s.launch_start_time)
        .min();
    let last_launch = launched.iter().filter_map(|s| s.launch_end_time).max();
    let last_healthy = launched.iter().filter_map(|s| s.healthy_time).max();
    if let (Some(a), Some(b)) = (first_start, last_launch) {
        let tip = format!(
            "launches: first started {}, last ended {}",
            format::offset(scale.start, a),
            format::offset(scale.start, b)
        );
        rows.bar(scale, a, b, LAUNCH, BAR, &tip);
        if let Some(h) = last_healthy.filter(|h| *h > b) {
            let tip = format!("last server healthy at {}", format::offset(scale.start, h));
            rows.bar(scale, b, h, HEALTHY, BAR, &tip);
        }
    }
    rows.next();
    for s in failed.iter().take(FAILED_ROWS_PER_WAVE) {
        server_row(rows, scale, wave, s);
    }
    if failed.len() > FAILED_ROWS_PER_WAVE {
        let more = failed.len() - FAILED_ROWS_PER_WAVE;
        rows.label(
            &format!("… and {more} more failed servers (see the tables)"),
            12.0,
            false,
        );
        rows.next();
    }
}

/// The time axis: ticks at a round step, labelled `T+…`.
fn axis(svg: &mut String, scale: &Scale, bottom: f64) {
    const STEPS: [f64; 16] = [
        1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0,
        21600.0, 43200.0, 86400.0,
    ];
    let step = STEPS
        .iter()
        .copied()
        .find(|s| scale.span / s <= 10.0)
        .unwrap_or((scale.span / 10.0).ceil());
    let mut t = 0.0;
    while t <= scale.span + 1e-9 {
        let x = scale.x_of_seconds(t);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{bottom}" stroke="#e3e7ec"/><text x="{x:.1}" y="{ty}" text-anchor="middle" fill="#555555">T+{label}</text>"##,
            y1 = TOP - 6.0,
            ty = TOP - 8.0,
            label = format::duration(t),
        );
        t += step;
    }
    let _ = write!(
        svg,
        r##"<text x="8" y="16" font-size="13" font-weight="bold">Timeline (T+ = time since the execution started)</text>"##
    );
}

fn rto_lines(svg: &mut String, report: &DrillReport, scale: &Scale, bottom: f64) {
    if let Some(target) = report.rto_target_seconds {
        let x = scale.x_of_seconds(target);
        let _ = write!(
            svg,
            r#"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{bottom}" stroke="{TARGET}" stroke-width="1.5" stroke-dasharray="6 4"><title>RTO target {t}</title></line><text x="{tx:.1}" y="{ty}" fill="{TARGET}" text-anchor="end">RTO target {t}</text>"#,
            y1 = TOP - 4.0,
            tx = x - 4.0,
            ty = 28.0,
            t = format::duration(target),
        );
    }
    if let (Some(measured), RtoOutcome::Met | RtoOutcome::Missed | RtoOutcome::NoTarget) =
        (report.rto.measured_seconds, report.rto.outcome)
    {
        let x = scale.x_of_seconds(measured);
        // Near the right edge the label goes left of the line.
        let (tx, anchor) = if x > WIDTH - 140.0 {
            (x - 4.0, "end")
        } else {
            (x + 4.0, "start")
        };
        let _ = write!(
            svg,
            r#"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{bottom}" stroke="{MEASURED}" stroke-width="1.5"><title>measured RTO {m}</title></line><text x="{tx:.1}" y="{ty}" fill="{MEASURED}" text-anchor="{anchor}">RTO {m}</text>"#,
            y1 = TOP - 4.0,
            ty = 42.0,
            m = format::duration(measured),
        );
    }
}

/// A dotted line where each operator action happened, with who and why on
/// hover.
fn operator_marks(svg: &mut String, report: &DrillReport, scale: &Scale, bottom: f64) {
    for a in &report.operator_actions {
        let x = scale.x(a.at);
        let wave = a.wave.map(|w| format!(" wave {w}")).unwrap_or_default();
        let what = format!("{}{wave}", a.action.as_str());
        let title = format!(
            "{what} by {}{}",
            a.requested_by,
            a.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{bottom}" stroke="{OPERATOR}" stroke-width="1.5" stroke-dasharray="2 3"><title>{title}</title></line><text x="{tx:.1}" y="{ty}" fill="{OPERATOR}">{label}</text>"##,
            y1 = TOP - 4.0,
            tx = x + 3.0,
            ty = TOP - 8.0,
            title = escape(&title),
            label = escape(&what),
        );
    }
}

/// The colour of operator actions on the timeline.
const OPERATOR: &str = "#7a3fb0";

fn legend(svg: &mut String, y: f64, detailed: bool) {
    let items = [
        (LAUNCH, "launch (StartRecovery to instance seen)"),
        (HEALTHY, "launched to healthy"),
        (ACTION, "post-launch action"),
        (FAILED, "failed"),
    ];
    let mut x = 8.0;
    for (color, text) in items {
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{ry}" width="14" height="{BAR}" fill="{color}" rx="2"/><text x="{tx}" y="{y}">{text}</text>"#,
            ry = y - BAR + 1.0,
            tx = x + 18.0,
        );
        x += 18.0 + text.len() as f64 * 5.6 + 16.0;
    }
    let note = if detailed {
        "◆ wave ready; dashed: RTO target; solid: measured RTO"
    } else {
        "◆ wave ready; dashed: RTO target; solid: measured RTO; large plan: one row per wave"
    };
    let _ = write!(
        svg,
        r##"<text x="8" y="{y2}" fill="#555555">{note}</text>"##,
        y2 = y + 16.0
    );
}

/// XML-escapes text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}
