//! The one-line progress for output that is not a terminal (CI logs, files):
//! `[09:25:00] IN_PROGRESS 33.3% | launched 3/6 completed 2 failed 0 | wave 2
//! app-tier LAUNCHING 1/2 launched | ETA 09:40:40`. Times are UTC.

use super::{clock, label};
use ripcord::status::{ExecutionView, WaveView};
use ripcord::status_model::{LaunchStatus, WaveStatus};

/// The progress of `view` as one plain line, stamped with its time.
pub fn progress_line(view: &ExecutionView) -> String {
    let mut line = format!("[{}] {}", clock(view.last_updated), line_state(view));
    if let Some(eta) = view.estimated_completion {
        line.push_str(&format!(" | ETA {}", clock(eta)));
    }
    line
}

/// The part of the line that says what changed: neither the time nor the
/// ETA, which both move on every tick even when no server did.
pub(super) fn line_state(view: &ExecutionView) -> String {
    let p = &view.progress;
    let mut line = format!(
        "{} {:.1}% | launched {}/{} completed {} failed {}",
        label(&view.status),
        p.percent_complete,
        p.launched_servers,
        p.total_servers,
        p.completed_servers,
        p.failed_servers,
    );
    let running = view
        .waves
        .iter()
        .filter(|w| matches!(w.status, WaveStatus::Launching | WaveStatus::PostActions));
    let mut any_running = false;
    for wave in running {
        any_running = true;
        line.push_str(&format!(" | {}", wave_state(wave)));
    }
    let waiting = view
        .waves
        .iter()
        .filter(|w| w.status == WaveStatus::Waiting)
        .count();
    match waiting {
        0 => {}
        1 => line.push_str(" | 1 wave waiting for DRS capacity"),
        n => line.push_str(&format!(" | {n} waves waiting for DRS capacity")),
    }
    if !any_running && let Some(wave) = view.waves.iter().find(|w| w.awaiting_approval) {
        line.push_str(&format!(
            " | wave {} {} awaiting approval",
            wave.wave_number, wave.name
        ));
    }
    line
}

/// `wave 2 app-tier LAUNCHING 1/2 launched` and, when any, `1 failed`.
fn wave_state(wave: &WaveView) -> String {
    let launched = count(wave, |s| {
        matches!(s, LaunchStatus::Launched | LaunchStatus::Completed)
    });
    let failed = count(wave, |s| s == LaunchStatus::Failed);
    let mut text = format!(
        "wave {} {} {} {}/{} launched",
        wave.wave_number,
        wave.name,
        label(&wave.status),
        launched,
        wave.servers.len()
    );
    if failed > 0 {
        text.push_str(&format!(" {failed} failed"));
    }
    text
}

pub(super) fn count(wave: &WaveView, matches: impl Fn(LaunchStatus) -> bool) -> usize {
    wave.servers
        .iter()
        .filter(|s| matches(s.launch_status))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::testing;

    #[test]
    fn progress_lines() {
        let lines: Vec<String> = [testing::fresh(), testing::mid_drill(), testing::failed()]
            .iter()
            .map(|f| progress_line(&f.view()))
            .collect();
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn every_running_wave_is_shown() {
        let mut f = testing::mid_drill();
        f.set_wave_status(3, WaveStatus::Launching);
        f.server_mut(3, 0).launch_status = LaunchStatus::Failed;
        let line = progress_line(&f.view());
        assert!(
            line.contains(
                "| wave 2 app-tier LAUNCHING 1/2 launched | wave 3 web-tier LAUNCHING 0/2 launched 1 failed |"
            ),
            "{line}"
        );
    }

    #[test]
    fn the_state_ignores_time_and_eta() {
        let mut f = testing::mid_drill();
        let before = f.view();
        f.now = testing::at(26, 0);
        let after = f.view();
        assert_ne!(progress_line(&before), progress_line(&after));
        assert_ne!(before.estimated_completion, after.estimated_completion);
        assert_eq!(line_state(&before), line_state(&after));
    }
}
