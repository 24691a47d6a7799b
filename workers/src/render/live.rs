//! Live progress while an execution runs: on a terminal, one indicatif bar
//! per wave under an overall bar; elsewhere (logs, pipes), a
//! [`progress_line`](super::progress_line) each time something changed.

use super::line::{count, line_state};
use super::{clock, label, progress_line};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ripcord::status::{ExecutionView, WaveView};
use ripcord::status_model::LaunchStatus;
use std::io::{self, IsTerminal, Write};

/// Where live progress goes.
pub enum ProgressOutput {
    /// Bars drawn on this target: stdout on a terminal, hidden in tests.
    Bars(ProgressDrawTarget),
    /// Plain lines written here, one per change.
    Lines(Box<dyn Write + Send>),
}

impl ProgressOutput {
    /// Bars when stdout is a terminal, lines on stdout otherwise.
    pub fn for_stdout() -> Self {
        if io::stdout().is_terminal() {
            ProgressOutput::Bars(ProgressDrawTarget::stdout())
        } else {
            ProgressOutput::Lines(Box::new(io::stdout()))
        }
    }
}

/// Shows an execution's progress as views of it arrive.
pub struct LiveProgress {
    mode: Mode,
}

enum Mode {
    Bars {
        multi: MultiProgress,
        overall: ProgressBar,
        /// One per wave, added on the first update.
        waves: Vec<ProgressBar>,
    },
    Lines {
        out: Box<dyn Write + Send>,
        /// What the last printed line said, time and ETA aside.
        last_state: Option<String>,
    },
}

impl LiveProgress {
    /// Live progress on stdout, in the mode its kind calls for.
    pub fn for_stdout() -> Self {
        Self::new(ProgressOutput::for_stdout())
    }

    pub fn new(output: ProgressOutput) -> Self {
        let mode = match output {
            ProgressOutput::Bars(target) => {
                let multi = MultiProgress::with_draw_target(target);
                let overall = multi.add(ProgressBar::new(0).with_style(bar_style()));
                Mode::Bars {
                    multi,
                    overall,
                    waves: Vec::new(),
                }
            }
            ProgressOutput::Lines(out) => Mode::Lines {
                out,
                last_state: None,
            },
        };
        Self { mode }
    }

    /// Shows `view`. In line mode, writes a line only when the execution's
    /// state changed: a new time or a moved ETA alone are not news in a log.
    pub fn update(&mut self, view: &ExecutionView) -> io::Result<()> {
        match &mut self.mode {
            Mode::Bars {
                multi,
                overall,
                waves,
            } => {
                let p = &view.progress;
                overall.set_prefix(format!("{} ({})", view.plan_name, label(&view.mode)));
                overall.set_length(p.total_servers as u64);
                overall.set_position(p.settled_servers() as u64);
                let eta = view
                    .estimated_completion
                    .map_or_else(|| "-".to_owned(), clock);
                overall.set_message(format!(
                    "{} {:.1}% ETA {eta}",
                    label(&view.status),
                    p.percent_complete
                ));
                while waves.len() < view.waves.len() {
                    waves.push(multi.add(ProgressBar::new(0).with_style(bar_style())));
                }
                for (bar, wave) in waves.iter().zip(&view.waves) {
                    bar.set_prefix(format!("wave {} {}", wave.wave_number, wave.name));
                    bar.set_length(wave.servers.len() as u64);
                    bar.set_position(settled(wave) as u64);
                    bar.set_message(wave_message(wave));
                }
                Ok(())
            }
            Mode::Lines { out, last_state } => {
                let state = line_state(view);
                if last_state.as_deref() == Some(state.as_str()) {
                    return Ok(());
                }
                writeln!(out, "{}", progress_line(view))?;
                out.flush()?;
                *last_state = Some(state);
                Ok(())
            }
        }
    }

    /// Leaves the bars drawn as they last were, or flushes the lines.
    pub fn finish(mut self) -> io::Result<()> {
        match &mut self.mode {
            Mode::Bars { overall, waves, .. } => {
                for bar in std::iter::once(&*overall).chain(waves.iter()) {
                    bar.finish();
                }
                Ok(())
            }
            Mode::Lines { out, .. } => out.flush(),
        }
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:28!} [{bar:30}] {pos:>4}/{len:<4} {msg}")
        .expect("a valid progress template")
        .progress_chars("=> ")
}

/// Servers of the wave that will not change any more.
fn settled(wave: &WaveView) -> usize {
    count(wave, |s| {
        matches!(s, LaunchStatus::Completed | LaunchStatus::Failed)
    })
}

/// `LAUNCHING launched 1/2 completed 0 failed 0`.
fn wave_message(wave: &WaveView) -> String {
    let mut message = format!(
        "{} launched {}/{} completed {} failed {}",
        label(&wave.status),
        count(wave, |s| matches!(
            s,
            LaunchStatus::Launched | LaunchStatus::Completed
        )),
        wave.servers.len(),
        count(wave, |s| s == LaunchStatus::Completed),
        count(wave, |s| s == LaunchStatus::Failed),
    );
    if wave.awaiting_approval {
        message.push_str(", awaiting approval");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::testing;
    use std::sync::{Arc, Mutex};

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn lines_are_written_only_when_the_state_changes() {
        let sink = Sink::default();
        let mut live = LiveProgress::new(ProgressOutput::Lines(Box::new(sink.clone())));

        let mut fresh = testing::fresh();
        live.update(&fresh.view()).unwrap();
        fresh.now = testing::at(2, 0);
        live.update(&fresh.view()).unwrap();
        assert_eq!(sink.text().lines().count(), 1, "only the time moved");

        let mut mid = testing::mid_drill();
        live.update(&mid.view()).unwrap();
        mid.now = testing::at(26, 0);
        live.update(&mid.view()).unwrap();
        assert_eq!(sink.text().lines().count(), 2, "only time and ETA moved");

        mid.server_mut(2, 1).launch_status = LaunchStatus::Launched;
        live.update(&mid.view()).unwrap();
        live.update(&testing::failed().view()).unwrap();
        live.finish().unwrap();

        let text = sink.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines[0].starts_with("[09:01:00] PENDING 0.0%"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("[09:25:00] IN_PROGRESS"),
            "{}",
            lines[1]
        );
        assert!(lines[1].ends_with("ETA 09:40:40"), "{}", lines[1]);
        assert!(lines[2].contains("LAUNCHING 2/2 launched"), "{}", lines[2]);
        assert!(lines[3].starts_with("[09:27:00] FAILED"), "{}", lines[3]);
    }

    #[test]
    fn bars_follow_the_waves() {
        let mut live = LiveProgress::new(ProgressOutput::Bars(ProgressDrawTarget::hidden()));
        live.update(&testing::mid_drill().view()).unwrap();
        {
            let Mode::Bars { overall, waves, .. } = &live.mode else {
                panic!("bars mode");
            };
            assert_eq!(overall.length(), Some(6));
            assert_eq!(overall.position(), 2);
            assert_eq!(overall.message(), "IN_PROGRESS 33.3% ETA 09:40:40");
            assert_eq!(waves.len(), 3);
            let shown: Vec<(u64, String)> =
                waves.iter().map(|b| (b.position(), b.message())).collect();
            assert_eq!(
                shown,
                [
                    (2, "COMPLETED launched 2/2 completed 2 failed 0".to_owned()),
                    (0, "LAUNCHING launched 1/2 completed 0 failed 0".to_owned()),
                    (
                        0,
                        "PENDING launched 0/2 completed 0 failed 0, awaiting approval".to_owned()
                    ),
                ]
            );
            assert_eq!(waves[1].prefix(), "wave 2 app-tier");
        }

        live.update(&testing::failed().view()).unwrap();
        let Mode::Bars { overall, waves, .. } = &live.mode else {
            panic!("bars mode");
        };
        assert_eq!(overall.position(), 3, "the failed server settled");
        assert_eq!(overall.message(), "FAILED 33.3% ETA -");
        assert_eq!(waves[1].position(), 1);
        assert_eq!(
            waves[1].message(),
            "FAILED launched 1/2 completed 0 failed 1"
        );
        live.finish().unwrap();
    }
}
