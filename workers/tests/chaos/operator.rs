//! The operator's part of a chaos run: what a person at the console does
//! to each kind of execution (`load`), through the `ripcord` command on the
//! run's backend, each act once the execution, as the observer last saw
//! it, allows it: approve or cancel a gated wave 2 once wave 1 is
//! COMPLETED, retry or skip wave 1 of a FAILED execution, pause an
//! execution while wave 1 runs and resume it once every wave it started
//! has ended and the pause has held a few seconds, finding then that no
//! wave started while it was paused. An execution stays watched (`Observer::awaiting`) until its last
//! act shows in its record, so a FAILED one about to be retried is not
//! taken for ended.

use super::load::{ExecutionSpec, Kind};
use super::observe::{Observer, Seen};
use super::stage::Stage;
use ripcord::ids::ExecutionId;
use ripcord::operator_action::OperatorActionKind;
use ripcord::status_model::{ExecutionStatus, Transitions, WaveStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One operator command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Act {
    Approve,
    Cancel,
    Retry,
    Skip,
    Pause,
    Resume,
}

impl Act {
    /// What the operator does to an execution of `kind`, in order.
    pub fn for_kind(kind: Kind) -> &'static [Act] {
        match kind {
            Kind::Gated => &[Act::Approve],
            Kind::Cancelled => &[Act::Cancel],
            Kind::Retried => &[Act::Retry],
            Kind::Skipped => &[Act::Skip],
            Kind::Paused => &[Act::Pause, Act::Resume],
            Kind::Clean | Kind::OptionalFails | Kind::CriticalNotLaunched => &[],
        }
    }

    /// The `ripcord` arguments of this act on `id`.
    fn args(self, id: &str) -> Vec<String> {
        let words: &[&str] = match self {
            Act::Approve => &["approve", id, "--wave", "2"],
            Act::Cancel => &["cancel", id, "--reason", "chaos: the harness cancels it"],
            Act::Retry => &[
                "retry",
                id,
                "--wave",
                "1",
                "--reason",
                "chaos: try wave 1 again",
            ],
            Act::Skip => &[
                "skip",
                id,
                "--wave",
                "1",
                "--reason",
                "chaos: go on without wave 1",
            ],
            Act::Pause => &["pause", id, "--reason", "chaos: hold the next waves"],
            Act::Resume => &["resume", id],
        };
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    /// Whether the execution as `seen` allows this act now.
    fn ready(self, seen: &Seen) -> bool {
        let wave_1_done = seen
            .wave(1)
            .is_some_and(|w| w.status == WaveStatus::Completed);
        match self {
            Act::Approve | Act::Cancel => wave_1_done,
            Act::Retry | Act::Skip => seen.execution.status == ExecutionStatus::Failed,
            // While wave 1 runs (its summary: started, not ended).
            Act::Pause => {
                seen.execution.status == ExecutionStatus::InProgress
                    && seen
                        .execution
                        .waves
                        .iter()
                        .any(|w| w.number.0 == 1 && w.started && !w.status.is_terminal())
            }
            // Once every wave it started has ended, by its own summary: the
            // decision that records a wave's end is the one that would
            // start the next if the pause did not hold it.
            Act::Resume => {
                seen.execution.paused.is_some()
                    && seen
                        .execution
                        .waves
                        .iter()
                        .all(|w| !w.started || w.status.is_terminal())
            }
        }
    }

    /// Whether the act shows in the execution's record.
    fn took(self, seen: &Seen) -> bool {
        let recorded = |kind: OperatorActionKind| {
            seen.execution
                .operator_actions
                .iter()
                .any(|a| a.action == kind)
        };
        match self {
            Act::Approve => seen
                .execution
                .waves
                .iter()
                .any(|w| w.number.0 == 2 && w.approved_by.is_some()),
            Act::Cancel => seen.execution.status == ExecutionStatus::Cancelled,
            Act::Retry => recorded(OperatorActionKind::Retry),
            Act::Skip => recorded(OperatorActionKind::Skip),
            Act::Pause => recorded(OperatorActionKind::Pause),
            Act::Resume => recorded(OperatorActionKind::Resume),
        }
    }
}

/// Where one execution's acts stand.
#[derive(Clone, Debug, Default)]
struct Progress {
    /// The acts done and seen to take.
    took: usize,
    /// The next act was sent (and not yet seen to take).
    sent: bool,
    /// When the last act was seen to take.
    took_at: Option<Instant>,
    /// The waves started when the pause was seen to take: no other may
    /// start before the resume.
    started_when_paused: BTreeSet<u32>,
}

/// The waves `seen` has started (StartWave sent).
fn started(seen: &Seen) -> BTreeSet<u32> {
    seen.execution
        .waves
        .iter()
        .filter(|w| w.started)
        .map(|w| w.number.0)
        .collect()
}

/// Operator commands that failed and were tried again (a frozen worker,
/// or the other processes' writes, held the database file's write lock
/// past the busy timeout).
static RETRIED_COMMANDS: AtomicU64 = AtomicU64::new(0);

/// How many operator commands were tried again, over the whole process.
pub fn retried_commands() -> u64 {
    RETRIED_COMMANDS.load(Ordering::Relaxed)
}

/// `ripcord ARGS` on the stage, which must succeed, as an operator would
/// run it: tried again (up to 30 times, a second apart) when it fails, and
/// counted in [`retried_commands`]. Its stdout.
pub fn ripcord(stage: &Stage, args: &[&str]) -> String {
    let mut tries = 0;
    loop {
        tries += 1;
        let output = stage.command(args).output().expect("ripcord runs");
        if output.status.success() {
            return String::from_utf8_lossy(&output.stdout).into_owned();
        }
        eprintln!(
            "ripcord {args:?} failed ({}), trying again: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
        RETRIED_COMMANDS.fetch_add(1, Ordering::Relaxed);
        assert!(
            tries < 30,
            "ripcord {args:?} failed {tries} times, last ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The operator of one run.
pub struct Operator {
    progress: BTreeMap<ExecutionId, Progress>,
    /// How long a paused execution stays paused.
    pause_for: Duration,
    /// Acts seen to take, by act.
    pub took: BTreeMap<Act, usize>,
}

impl Operator {
    /// The operator of `load`; every execution it has acts for is watched
    /// by `observer` until they took.
    pub fn new(
        load: &[(ExecutionId, ExecutionSpec)],
        pause_for: Duration,
        observer: &mut Observer,
    ) -> Self {
        let mut progress = BTreeMap::new();
        for (id, spec) in load {
            if !Act::for_kind(spec.kind).is_empty() {
                progress.insert(*id, Progress::default());
                observer.awaiting.insert(*id);
            }
        }
        Self {
            progress,
            pause_for,
            took: BTreeMap::new(),
        }
    }

    /// The acts the load asks for, in all.
    pub fn planned(load: &[(ExecutionId, ExecutionSpec)]) -> usize {
        load.iter().map(|(_, s)| Act::for_kind(s.kind).len()).sum()
    }

    /// One round: notes the acts that took, and sends each execution's next
    /// act if its state allows it.
    pub fn act(
        &mut self,
        stage: &Stage,
        observer: &mut Observer,
        load: &[(ExecutionId, ExecutionSpec)],
    ) {
        for (id, spec) in load {
            let acts = Act::for_kind(spec.kind);
            let (Some(progress), Some(seen)) = (self.progress.get_mut(id), observer.latest.get(id))
            else {
                continue;
            };
            let Some(&act) = acts.get(progress.took) else {
                continue;
            };
            if progress.sent {
                if act.took(seen) {
                    *self.took.entry(act).or_default() += 1;
                    progress.took += 1;
                    progress.sent = false;
                    progress.took_at = Some(Instant::now());
                    if act == Act::Pause {
                        progress.started_when_paused = started(seen);
                    }
                    if progress.took == acts.len() {
                        observer.awaiting.remove(id);
                    }
                }
                continue;
            }
            let rested = progress
                .took_at
                .is_none_or(|at| act != Act::Resume || at.elapsed() >= self.pause_for);
            if rested && act.ready(seen) {
                if act == Act::Resume {
                    for wave in started(seen).difference(&progress.started_when_paused) {
                        observer.breaches.push(format!(
                            "wave {wave} of execution {id} started while the execution was paused"
                        ));
                    }
                    if seen.ended() {
                        // Nothing to resume: the breach says why.
                        progress.took = acts.len();
                        observer.awaiting.remove(id);
                        continue;
                    }
                }
                let args = act.args(&id.to_string());
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                ripcord(stage, &args);
                progress.sent = true;
            }
        }
    }

    /// How many acts were seen to take.
    pub fn done(&self) -> usize {
        self.took.values().sum()
    }
}
