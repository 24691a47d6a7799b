//! A large wave in the final table, summarised so that a 600-server run
//! fits a screen or two: its servers counted per status, identical failures
//! grouped into one line each, and a table of only the servers that need
//! attention. `--all` (`Listing::All`) prints every server instead; the JSON
//! view is never summarised.

use super::label;
use ripcord::status::{ExecutionView, ServerView, WaveView};
use ripcord::status_model::{CleanupStatus, HealthStatus, LaunchStatus, Transitions};
use std::fmt::Write as _;

/// Which servers the final table lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Every server of a small wave; large waves summarised.
    Summary,
    /// Every server of every wave (`--all`).
    All,
}

/// A wave with more servers than this is summarised...
const LARGE_WAVE: usize = 20;

/// ...and so is every wave of an execution with more servers than this,
/// where many small waves would add up to pages.
const LARGE_EXECUTION: usize = 100;

/// Source server ids named on a failure line before `+K more`.
const IDS_PER_FAILURE: usize = 2;

/// Distinct failures listed per wave before `… and K more`.
const FAILURE_LINES: usize = 10;

/// Rows of the "needs attention" table per wave.
const ATTENTION_ROWS: usize = 20;

/// A failure's text on its line is cut to this many characters, so that
/// the line fits the table's width (`--all` and the JSON have all of it).
const MESSAGE_CHARS: usize = 80;

/// Whether `wave` is summarised rather than listed server by server.
pub(super) fn is_summarised(view: &ExecutionView, wave: &WaveView, listing: Listing) -> bool {
    listing == Listing::Summary
        && !wave.servers.is_empty()
        && (wave.servers.len() > LARGE_WAVE || view.progress.total_servers > LARGE_EXECUTION)
}

/// A summarised wave: `summary` (the counts and one line per distinct
/// failure), the servers to list in a table because they need attention,
/// and a line on those left out of it.
pub(super) struct Digest<'a> {
    pub summary: String,
    pub attention: Vec<&'a ServerView>,
    pub more: Option<String>,
}

/// The summary of a wave's servers: the counts, one line per distinct
/// failure, then the servers that need attention (still launching, or
/// unhealthy but not failed yet).
pub(super) fn wave_digest(wave: &WaveView) -> Digest<'_> {
    let mut summary = counts_line(&wave.servers);
    let failures = failure_groups(&wave.servers);
    for group in failures.iter().take(FAILURE_LINES) {
        let _ = writeln!(summary, "  {}", group.line());
    }
    if failures.len() > FAILURE_LINES {
        let more: usize = failures[FAILURE_LINES..].iter().map(|g| g.ids.len()).sum();
        let _ = writeln!(
            summary,
            "  … and {} more distinct failures ({more} servers)",
            failures.len() - FAILURE_LINES
        );
    }
    let mut attention: Vec<&ServerView> =
        wave.servers.iter().filter(|s| needs_attention(s)).collect();
    let more = (attention.len() > ATTENTION_ROWS).then(|| {
        format!(
            "  … and {} more servers launching, unhealthy or not cleaned up",
            attention.len() - ATTENTION_ROWS
        )
    });
    attention.truncate(ATTENTION_ROWS);
    Digest {
        summary,
        attention,
        more,
    }
}

/// `100 servers: 85 COMPLETED, 15 FAILED; health: 85 HEALTHY, 15 PENDING`.
fn counts_line(servers: &[ServerView]) -> String {
    let launch = LaunchStatus::ALL.iter().map(|&status| {
        let n = servers.iter().filter(|s| s.launch_status == status).count();
        (status, n)
    });
    let health = HealthStatus::ALL.iter().map(|&status| {
        let n = servers.iter().filter(|s| s.health_status == status).count();
        (status, n)
    });
    let mut line = format!(
        "{} servers: {}; health: {}",
        servers.len(),
        counts(launch),
        counts(health)
    );
    if servers.iter().any(|s| s.cleanup.is_some()) {
        let cleanup = CleanupStatus::ALL.iter().map(|&status| {
            let n = servers
                .iter()
                .filter(|s| s.cleanup.as_ref().is_some_and(|c| c.status == status))
                .count();
            (status, n)
        });
        let _ = write!(line, "; clean-up: {}", counts(cleanup));
    }
    line.push('\n');
    line
}

/// `85 COMPLETED, 15 FAILED`: the statuses that occur, in the model's order.
fn counts<T: serde::Serialize>(counted: impl IntoIterator<Item = (T, usize)>) -> String {
    counted
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| format!("{n} {}", label(&status)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Not failed yet, but not done well either: its launch still runs, a
/// health check said no, or its recovery instance could not be cleaned up.
fn needs_attention(s: &ServerView) -> bool {
    let cleanup_failed = s
        .cleanup
        .as_ref()
        .is_some_and(|c| c.status == CleanupStatus::Failed);
    s.launch_status != LaunchStatus::Failed
        && (s.launch_status == LaunchStatus::Launching
            || cleanup_failed
            || matches!(
                s.health_status,
                HealthStatus::Unhealthy | HealthStatus::Timeout
            ))
}

/// `errorCode: errorMessage`, in full; either alone when the other is
/// absent; then why its clean-up failed, if it did.
pub(super) fn server_error(s: &ServerView) -> String {
    let launch = match (&s.error_code, &s.error_message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(only), None) | (None, Some(only)) => only.clone(),
        (None, None) => String::new(),
    };
    let cleanup = s
        .cleanup
        .as_ref()
        .filter(|c| c.status == CleanupStatus::Failed)
        .and_then(|c| c.reason.as_ref());
    match cleanup {
        Some(reason) if launch.is_empty() => format!("clean-up: {reason}"),
        Some(reason) => format!("{launch}\nclean-up: {reason}"),
        None => launch,
    }
}

/// Failed servers that failed the same way: the same code and message.
#[derive(Debug, PartialEq)]
pub(super) struct FailureGroup {
    pub text: String,
    pub ids: Vec<String>,
}

impl FailureGroup {
    /// `15 servers FAILED: LAUNCH_FAILED: … (s-1, s-2, +13 more)`.
    fn line(&self) -> String {
        let n = self.ids.len();
        let mut names = self.ids[..n.min(IDS_PER_FAILURE)].join(", ");
        if n > IDS_PER_FAILURE {
            let _ = write!(names, ", +{} more", n - IDS_PER_FAILURE);
        }
        let servers = if n == 1 { "server" } else { "servers" };
        format!("{n} {servers} FAILED: {} ({names})", cut(&self.text))
    }
}

/// The failed servers grouped by what they said, largest group first (then
/// by text, so the order is stable).
pub(super) fn failure_groups(servers: &[ServerView]) -> Vec<FailureGroup> {
    let mut groups: Vec<FailureGroup> = Vec::new();
    for s in servers
        .iter()
        .filter(|s| s.launch_status == LaunchStatus::Failed)
    {
        let text = one_line(&server_error(s));
        let id = s.source_server_id.to_string();
        match groups.iter_mut().find(|g| g.text == text) {
            Some(group) => group.ids.push(id),
            None => groups.push(FailureGroup {
                text,
                ids: vec![id],
            }),
        }
    }
    groups.sort_by(|a, b| {
        b.ids
            .len()
            .cmp(&a.ids.len())
            .then_with(|| a.text.cmp(&b.text))
    });
    groups
}

/// The error on one line (its lines joined, whitespace collapsed);
/// `no error recorded` when there is none.
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        "no error recorded".to_owned()
    } else {
        joined
    }
}

/// `text` cut to `MESSAGE_CHARS` (the JSON view has all of it).
fn cut(text: &str) -> String {
    if text.chars().count() <= MESSAGE_CHARS {
        return text.to_owned();
    }
    let kept: String = text.chars().take(MESSAGE_CHARS - 1).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::final_table;
    use ripcord::ids::SourceServerId;
    use ripcord::testing::{self, Fixture};

    const NO_FREE_IP: &str = "DRS could not launch the recovery instance:\nsubnet subnet-0f1e2d3c has no free IP addresses\nFree addresses in the subnet, then replay the wave.";

    /// [`testing::failed`] with a wave 2 of 30 servers: 18 failed for the
    /// same 3-line error, 2 for another, 2 still launching, 1 unhealthy,
    /// 7 completed.
    fn large_failed_wave() -> Fixture {
        let mut f = testing::failed();
        let template = f.server_mut(2, 0).clone();
        let servers = (0..30u64)
            .map(|i| {
                let mut s = template.clone();
                s.plan.id = SourceServerId::parse(&format!("s-{:017x}", 0x2000 + i)).unwrap();
                s.plan.hostname = Some(format!("app-{i:02}"));
                let failed = |s: &mut ripcord::records::ServerState, code: &str, message: &str| {
                    s.launch_status = LaunchStatus::Failed;
                    s.health_status = HealthStatus::Pending;
                    s.launched_instance_id = None;
                    s.private_ip_address = None;
                    s.error_code = Some(code.to_owned());
                    s.error_message = Some(message.to_owned());
                };
                match i {
                    0..18 => failed(&mut s, "LAUNCH_FAILED", NO_FREE_IP),
                    18..20 => failed(&mut s, "CONVERSION_FAIL", "unsupported kernel"),
                    20..22 => {
                        s.launch_status = LaunchStatus::Launching;
                        s.launched_instance_id = None;
                        s.private_ip_address = None;
                    }
                    22 => s.health_status = HealthStatus::Unhealthy,
                    _ => {
                        s.launch_status = LaunchStatus::Completed;
                        s.health_status = HealthStatus::Healthy;
                    }
                }
                s
            })
            .collect();
        f.wave_mut(2).servers = servers;
        f
    }

    #[test]
    fn large_wave_grouped_table() {
        insta::assert_snapshot!(final_table(
            &large_failed_wave().view(),
            false,
            Listing::Summary
        ));
    }

    #[test]
    fn large_wave_all_table() {
        insta::assert_snapshot!(final_table(
            &large_failed_wave().view(),
            false,
            Listing::All
        ));
    }

    #[test]
    fn identical_failures_make_one_line_largest_first() {
        let view = large_failed_wave().view();
        let groups = failure_groups(&view.waves[1].servers);
        let sizes: Vec<usize> = groups.iter().map(|g| g.ids.len()).collect();
        assert_eq!(sizes, [18, 2]);
        assert_eq!(
            groups[0].line(),
            "18 servers FAILED: LAUNCH_FAILED: DRS could not launch the recovery instance: subnet subnet-0f1e2d… (s-00000000000002000, s-00000000000002001, +16 more)"
        );
        assert_eq!(
            groups[1].line(),
            "2 servers FAILED: CONVERSION_FAIL: unsupported kernel (s-00000000000002012, s-00000000000002013)"
        );
    }

    #[test]
    fn small_waves_are_listed_unless_the_execution_is_large() {
        let f = large_failed_wave();
        let view = f.view();
        let summarised: Vec<bool> = view
            .waves
            .iter()
            .map(|w| is_summarised(&view, w, Listing::Summary))
            .collect();
        assert_eq!(summarised, [false, true, false], "only the 30-server wave");
        assert!(
            view.waves
                .iter()
                .all(|w| !is_summarised(&view, w, Listing::All))
        );

        let mut big = view.clone();
        big.progress.total_servers = LARGE_EXECUTION + 1;
        assert!(is_summarised(&big, &big.waves[0], Listing::Summary));
    }

    #[test]
    fn many_distinct_failures_are_capped_largest_first() {
        let mut f = large_failed_wave();
        for (i, s) in f.wave_mut(2).servers.iter_mut().enumerate().take(12) {
            s.error_message = Some(format!("failure {i:02}"));
        }
        let view = f.view();
        let digest = wave_digest(&view.waves[1]);
        let lines: Vec<&str> = digest.summary.lines().collect();
        assert_eq!(lines.len(), 1 + FAILURE_LINES + 1, "{}", digest.summary);
        assert!(lines[1].starts_with("  6 servers FAILED: LAUNCH_FAILED: DRS could not"));
        assert!(lines[2].starts_with("  2 servers FAILED: CONVERSION_FAIL"));
        assert_eq!(
            lines.last().copied(),
            Some("  … and 4 more distinct failures (4 servers)"),
            "14 distinct failures, 10 listed: {}",
            digest.summary
        );
        assert_eq!(digest.attention.len(), 3, "2 launching, 1 unhealthy");
        assert_eq!(digest.more, None);
    }

    #[test]
    fn a_long_failure_is_cut_on_its_line() {
        let long = "x".repeat(MESSAGE_CHARS + 50);
        let line = cut(&long);
        assert_eq!(line.chars().count(), MESSAGE_CHARS);
        assert!(line.ends_with('…'));
        assert_eq!(one_line(" a\n  b "), "a b");
        assert_eq!(one_line(""), "no error recorded");
    }
}
