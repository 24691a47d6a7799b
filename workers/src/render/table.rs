//! The final table: what `ripcord run` and `ripcord status` print once an
//! execution has settled. A summary line and what pre-flight found, then
//! each wave with a table of its servers and, when it has any, a table of
//! its post-launch actions.

use super::digest::{Listing, is_summarised, server_error, wave_digest};
use super::preflight::finding_line;
use super::{clock, duration, elapsed, label};
use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use console::style as console_style;
use ripcord::preflight::Severity;
use ripcord::status::{ActionView, ExecutionView, PreflightView, ServerView, WaveView};
use ripcord::status_model::{
    ActionStatus, CleanupStatus, ExecutionStatus, HealthStatus, LaunchStatus,
};
use std::fmt::Write as _;

/// Table width when it cannot be read from a terminal: wide enough for the
/// fixed columns and a readable error column, which wraps.
const FALLBACK_WIDTH: u16 = 160;

/// Lines of action output shown per action; the JSON view has all of it.
const OUTPUT_LINES: usize = 3;

/// Pre-flight errors and warnings listed under the header; the JSON view
/// has all of them (and the notes).
const PREFLIGHT_LINES: usize = 10;

/// Renders `view` as text. `style`: colours and bold (for a terminal); off,
/// the text is plain and `FALLBACK_WIDTH` wide, the same on every machine.
/// `listing`: every server, or large waves summarised (see [`Listing`]).
pub fn final_table(view: &ExecutionView, style: bool, listing: Listing) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", emphasis(&summary(view), style));
    if let Some(reason) = &view.reason {
        let _ = writeln!(out, "Reason: {reason}");
    }
    if let Some(waiting) = &view.waiting_reason {
        let _ = writeln!(out, "Waiting: {waiting}");
    }
    out.push_str(&super::operator::operator_lines(view));
    if let Some(preflight) = &view.preflight {
        out.push_str(&preflight_lines(view, preflight));
    }
    if let Some(cleanup) = &view.cleanup {
        let _ = writeln!(
            out,
            "Clean-up: {} by {} at {} UTC ({}): {} terminated, {} terminating, {} failed",
            label(&cleanup.status),
            cleanup.requested_by,
            clock(cleanup.requested_at),
            cleanup.reason,
            cleanup.terminated,
            cleanup.terminating,
            cleanup.failed
        );
    }
    let earlier = view.waves.iter().flat_map(|w| &w.servers);
    for e in earlier.flat_map(|s| &s.earlier_drill_instances) {
        let _ = writeln!(out, "Before launch: {}", e.summary);
    }
    for wave in &view.waves {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", emphasis(&wave_header(view, wave), style));
        if let Some(reason) = &wave.reason {
            let _ = writeln!(out, "Reason: {reason}");
        }
        if let Some(waiting) = &wave.waiting_reason {
            let _ = writeln!(out, "Waiting: {waiting}");
        }
        if is_summarised(view, wave, listing) {
            let digest = wave_digest(wave);
            out.push_str(&digest.summary);
            if !digest.attention.is_empty() {
                let _ = writeln!(out, "{}", server_table(digest.attention, style));
            }
            if let Some(more) = digest.more {
                let _ = writeln!(out, "{more}");
            }
        } else {
            let _ = writeln!(out, "{}", server_table(&wave.servers, style));
        }
        if !wave.post_actions.is_empty() {
            let _ = writeln!(out, "{}", action_table(&wave.post_actions, style));
        }
    }
    if view.waves.iter().any(|w| is_summarised(view, w, listing)) {
        let _ = writeln!(
            out,
            "\nLarge waves are summarised; `ripcord status {} --all` lists every server.",
            view.execution_id
        );
    }
    out
}

/// `payments-dr (drill) 3f2b…: FAILED in 26m 20s | 6 servers: 3 launched,
/// 2 completed, 1 failed (33.3% complete)`.
fn summary(view: &ExecutionView) -> String {
    let p = &view.progress;
    let running = matches!(
        view.status,
        ExecutionStatus::Pending | ExecutionStatus::InProgress
    );
    let took = duration(elapsed(view, view.start_time, view.end_time));
    let mut timing = if running {
        format!("for {took}")
    } else {
        format!("in {took}")
    };
    match view.estimated_completion {
        Some(eta) => {
            let _ = write!(timing, ", ETA {} UTC", clock(eta));
        }
        None if running => timing.push_str(", ETA not yet known"),
        None => {}
    }
    format!(
        "{} ({}) {}: {} {} | {} servers: {} launched, {} completed, {} failed ({:.1}% complete)",
        view.plan_name,
        label(&view.mode),
        view.execution_id,
        label(&view.status),
        timing,
        p.total_servers,
        p.launched_servers,
        p.completed_servers,
        p.failed_servers,
        p.percent_complete,
    )
}

/// `Pre-flight: 2 errors, 1 warning (block)`, then one line per error and
/// warning, worst first, each with what to do.
fn preflight_lines(view: &ExecutionView, preflight: &PreflightView) -> String {
    let mut out = format!(
        "Pre-flight: {} ({})\n",
        preflight.summary,
        label(&preflight.mode)
    );
    let listed: Vec<_> = preflight
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    for f in listed.iter().take(PREFLIGHT_LINES) {
        let _ = writeln!(out, "  {} → {}", finding_line(f), f.what_to_do);
    }
    if listed.len() > PREFLIGHT_LINES {
        let _ = writeln!(
            out,
            "  … and {} more (ripcord status {} --json lists every finding)",
            listed.len() - PREFLIGHT_LINES,
            view.execution_id
        );
    }
    out
}

/// `Wave 2 app-tier: LAUNCHING for 12m 30s` / `Wave 3 web-tier: PENDING,
/// awaiting approval`.
fn wave_header(view: &ExecutionView, wave: &WaveView) -> String {
    let mut header = format!(
        "Wave {} {}: {}",
        wave.wave_number,
        wave.name,
        label(&wave.status)
    );
    if let Some(start) = wave.start_time {
        let took = duration(elapsed(view, start, wave.end_time));
        let _ = match wave.end_time {
            Some(_) => write!(header, " in {took}"),
            None => write!(header, " for {took}"),
        };
    }
    if wave.awaiting_approval {
        header.push_str(", awaiting approval");
    }
    if let Some(by) = &wave.approved_by {
        let _ = write!(header, ", approved by {by}");
    }
    header
}

fn new_table(style: bool) -> Table {
    let mut table = Table::new();
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if style {
        table.load_preset(presets::UTF8_FULL_CONDENSED);
        table.enforce_styling();
        if table.width().is_none() {
            table.set_width(FALLBACK_WIDTH);
        }
    } else {
        table.load_preset(presets::ASCII_FULL_CONDENSED);
        table.force_no_tty();
        table.set_width(FALLBACK_WIDTH);
    }
    table
}

fn server_table<'a>(servers: impl IntoIterator<Item = &'a ServerView>, style: bool) -> Table {
    let servers: Vec<&ServerView> = servers.into_iter().collect();
    let mut table = new_table(style);
    // The clean-up column only once a clean-up reached the wave.
    let cleanup = servers.iter().any(|s| s.cleanup.is_some());
    let mut header = vec![
        "Hostname",
        "Source server",
        "Launch",
        "Instance",
        "Private IP",
        "Health",
    ];
    if cleanup {
        header.push("Clean-up");
    }
    header.push("Error");
    table.set_header(header);
    for s in servers {
        let mut row = vec![
            Cell::new(&s.hostname),
            Cell::new(&s.source_server_id),
            status_cell(label(&s.launch_status), launch_tone(s.launch_status), style),
            Cell::new(s.launched_instance_id.as_deref().unwrap_or("-")),
            Cell::new(s.private_ip_address.as_deref().unwrap_or("-")),
            status_cell(label(&s.health_status), health_tone(s.health_status), style),
        ];
        if cleanup {
            row.push(match &s.cleanup {
                Some(c) => status_cell(label(&c.status), cleanup_tone(c.status), style),
                None => Cell::new("-"),
            });
        }
        row.push(Cell::new(server_error(s)));
        table.add_row(row);
    }
    table
}

fn cleanup_tone(s: CleanupStatus) -> Tone {
    match s {
        CleanupStatus::Terminated => Tone::Good,
        CleanupStatus::Failed => Tone::Bad,
        CleanupStatus::Terminating => Tone::Busy,
    }
}

fn action_table(actions: &[ActionView], style: bool) -> Table {
    let mut table = new_table(style);
    table.set_header(["Action", "Document", "Status", "Output"]);
    for a in actions {
        table.add_row([
            Cell::new(&a.name),
            Cell::new(&a.document_name),
            status_cell(label(&a.status), action_tone(a.status), style),
            Cell::new(output_summary(a)),
        ]);
    }
    table
}

/// The error if the action has one, then the first lines of its output.
fn output_summary(a: &ActionView) -> String {
    let mut lines: Vec<String> = Vec::new();
    if let Some(error) = &a.error_message {
        lines.push(format!("error: {error}"));
    }
    if let Some(output) = &a.output {
        let all: Vec<&str> = output.lines().collect();
        lines.extend(all.iter().take(OUTPUT_LINES).map(|l| (*l).to_owned()));
        if all.len() > OUTPUT_LINES {
            lines.push(format!("(+{} more lines)", all.len() - OUTPUT_LINES));
        }
    }
    lines.join("\n")
}

/// How a status should strike the reader.
#[derive(Clone, Copy)]
enum Tone {
    Good,
    Bad,
    Busy,
    Waiting,
}

fn status_cell(text: String, tone: Tone, style: bool) -> Cell {
    let cell = Cell::new(text);
    if !style {
        return cell;
    }
    match tone {
        Tone::Good => cell.fg(Color::Green),
        Tone::Bad => cell.fg(Color::Red),
        Tone::Busy => cell.fg(Color::Yellow),
        Tone::Waiting => cell,
    }
}

fn emphasis(text: &str, style: bool) -> String {
    if style {
        console_style(text).bold().force_styling(true).to_string()
    } else {
        text.to_owned()
    }
}

fn launch_tone(s: LaunchStatus) -> Tone {
    match s {
        LaunchStatus::Launched | LaunchStatus::Completed => Tone::Good,
        LaunchStatus::Failed => Tone::Bad,
        LaunchStatus::Launching => Tone::Busy,
        LaunchStatus::Pending => Tone::Waiting,
    }
}

fn health_tone(s: HealthStatus) -> Tone {
    match s {
        HealthStatus::Healthy => Tone::Good,
        HealthStatus::Unhealthy | HealthStatus::Timeout => Tone::Bad,
        HealthStatus::Checking => Tone::Busy,
        HealthStatus::Pending | HealthStatus::NotChecked => Tone::Waiting,
    }
}

fn action_tone(s: ActionStatus) -> Tone {
    match s {
        ActionStatus::Success => Tone::Good,
        ActionStatus::Failed | ActionStatus::Timeout => Tone::Bad,
        ActionStatus::Running => Tone::Busy,
        ActionStatus::Pending => Tone::Waiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::testing;

    #[test]
    fn fresh_execution_table() {
        insta::assert_snapshot!(final_table(
            &testing::fresh().view(),
            false,
            Listing::Summary
        ));
    }

    #[test]
    fn mid_drill_table() {
        insta::assert_snapshot!(final_table(
            &testing::mid_drill().view(),
            false,
            Listing::Summary
        ));
    }

    #[test]
    fn failed_execution_table() {
        insta::assert_snapshot!(final_table(
            &testing::failed().view(),
            false,
            Listing::Summary
        ));
    }

    #[test]
    fn blocked_by_preflight_table() {
        insta::assert_snapshot!(final_table(
            &testing::blocked().view(),
            false,
            Listing::Summary
        ));
    }

    #[test]
    fn cleaning_up_table() {
        insta::assert_snapshot!(final_table(
            &testing::cleaning_up().view(),
            false,
            Listing::Summary
        ));
    }

    #[test]
    fn preflight_lists_at_most_ten_errors_and_warnings_then_says_where_the_rest_are() {
        let mut f = testing::blocked();
        let ripcord::records::PreflightState::Done { report, .. } = &mut f.execution.preflight
        else {
            panic!("the blocked fixture has its findings");
        };
        let template = report.findings[0].clone();
        report.findings = (0..14)
            .map(|i| ripcord::preflight::Finding {
                message: format!("finding {i}"),
                ..template.clone()
            })
            .chain(report.findings.clone())
            .collect();
        let table = final_table(&f.view(), false, Listing::Summary);
        let listed: Vec<&str> = table
            .lines()
            .filter(|l| l.starts_with("  ERROR") || l.starts_with("  WARNING"))
            .collect();
        assert_eq!(listed.len(), 10, "{table}");
        assert!(listed[0].contains(": finding 0 → fix replication first"));
        assert!(
            table.contains(&format!(
                "\n  … and 7 more (ripcord status {} --json lists every finding)\n",
                testing::execution_id()
            )),
            "16 errors and 1 warning: 7 not listed\n{table}"
        );
        assert!(!table.contains("INFO"), "notes are only in the JSON");
    }

    #[test]
    fn no_preflight_line_when_none_ran() {
        assert!(
            !final_table(&testing::mid_drill().view(), false, Listing::Summary)
                .contains("Pre-flight")
        );
    }

    #[test]
    fn a_waiting_wave_says_why_under_its_header() {
        let mut fixture = testing::mid_drill();
        fixture.set_wave_status(3, ripcord::status_model::WaveStatus::Waiting);
        fixture.wave_mut(3).capacity = ripcord::records::CapacityState::Asking {
            tries: 2,
            since: testing::t0(),
            reason: Some(
                "waiting for DRS capacity: 480 of 500 servers in active jobs, 20 of 20 jobs, 2 more wanted, 1 wave ahead"
                    .into(),
            ),
            reconcile_since: None,
            asked_at: None,
        };
        let table = final_table(&fixture.view(), false, Listing::Summary);
        let after_header = table
            .split_once("WAITING")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        assert!(
            after_header.contains(
                "\nWaiting: waiting for DRS capacity: 480 of 500 servers in active jobs, 20 of 20 jobs, 2 more wanted, 1 wave ahead\n"
            ),
            "{table}"
        );
    }

    #[test]
    fn plain_tables_have_no_escape_codes_and_styled_ones_do() {
        let view = testing::failed().view();
        assert!(!final_table(&view, false, Listing::Summary).contains('\u{1b}'));
        assert!(final_table(&view, true, Listing::Summary).contains('\u{1b}'));
    }

    #[test]
    fn long_errors_wrap_without_losing_text() {
        let view = testing::failed().view();
        let table = final_table(&view, false, Listing::Summary);
        let message = view.waves[1].servers[1].error_message.clone().unwrap();
        assert!(
            table
                .lines()
                .all(|l| l.chars().count() <= FALLBACK_WIDTH as usize)
        );
        // Every word of the message is somewhere in the table.
        for word in message.split_whitespace() {
            assert!(table.contains(word), "`{word}` lost from\n{table}");
        }
        assert!(!table.contains(&message), "a message this long wraps");
    }

    #[test]
    fn long_output_is_cut_to_a_few_lines() {
        let mut f = testing::mid_drill();
        let action = &mut f.wave_mut(1).actions[0];
        for (_, invocation) in action.invocations.iter_mut() {
            invocation.output = "one\ntwo\nthree".to_owned();
        }
        let view = f.view();
        let summary = output_summary(&view.waves[0].post_actions[0]);
        assert_eq!(
            summary,
            "i-0a1b2c3d4e5f60011: one\ntwo\nthree\n(+3 more lines)"
        );
    }
}
