//! The execution's `estimatedCompletion`: when its last wave will end, from
//! how fast its running waves launch and how long its finished waves took,
//! along the waves' dependency graph (docs/status-model.md, "Derived
//! fields").

mod post;

use super::view::{Progress, WaveView};
use crate::ids::WaveNumber;
use crate::records::{ExecutionRecord, WavePlanSlice, WaveRecord};
use crate::status_model::{LaunchStatus, WaveStatus};
use crate::time::Timestamp;

/// A wave launching before any wave's launches are all out has only
/// its own pace to go by: trusted once a tenth of its servers (and at least
/// two) have a launch outcome.
const FIRST_PACE_SHARE: f64 = 0.1;

/// Estimates when the execution finishes.
///
/// Method, per wave, in seconds from `now`; the estimate is `now` plus the
/// latest wave's finish:
///
/// - **Launch time** `L`, from the wave's start to its last launch outcome
///   (LAUNCHED, COMPLETED or FAILED). DRS launches a wave's servers side by
///   side, so outcomes arrive at a pace after a first one at `t1`; with `k`
///   of `n` servers out after `e` seconds, the latest at `tk`, the pace is
///   `(tk - t1) / (k - 1)` and the wave's own projection `tk + (n - k) *
///   pace` (from `e` instead of `tk` once no outcome came for longer than
///   the pace; `t1 + (e - t1) * n / k` while there is no pace to measure,
///   one outcome or all at one instant). It is blended with the mean launch
///   time of the waves whose launches are all out (finished or in
///   POST_ACTIONS), weighted by `k / n`, so an early outcome moves the
///   estimate little and the last ones decide it. Without such a wave the
///   projection alone is used, once a tenth of the servers are out. Never
///   less than `e`.
/// - **Post-launch time** `P`, from the last launch outcome to the wave's
///   end, learned from the servers as soon as one is HEALTHY (see
///   [`post::post_seen`]): a wave ends with its slowest server, so `P` is
///   the longest time from a server's launch outcome to its being HEALTHY
///   seen so far (servers found HEALTHY by their wave's first check only
///   bound theirs: the shortest such bound stands in until one is timed),
///   or from the phase's start to the end of the actions in a wave without
///   checks, or to the end of a finished wave. Taken from the waves with
///   the same actions and checks, else from any. Zero for a wave without
///   actions and checks.
/// - A LAUNCHING (or WAITING) wave finishes in `L - e + P`; a wave in
///   POST_ACTIONS in what is left of `P` (at least nothing); a finished one
///   is done.
/// - A wave still to come starts when the latest of its `depends_on` ends
///   (the critical path, not a sum), plus the mean time the started waves
///   waited from that to their start, and takes that mean launch time
///   (else the running waves' estimate) plus its `P`. Once a wave has
///   FAILED no wave starts any more, so those to come add nothing. A wave
///   behind an approval gate is taken as approved when it is ready.
///
/// At a steady launch pace the estimate holds still instead of receding:
/// the elapsed time and the launched share grow together.
///
/// `None` when no estimate means anything: the execution is terminal, every
/// server has settled, it is blocked on an approval with no wave running
/// (its pace says nothing about when a person will approve), no launch
/// has told a pace yet, or a wave still to end has actions or checks and
/// no server has shown how long they take. The plan's bound for that
/// (action timeouts and `health_timeout`, 15 minutes a wave by default)
/// would put the first estimates an hour late on a big plan; "not yet
/// known" for the first wave's launch is the figure a DR lead can trust.
pub fn estimate_completion(
    execution: &ExecutionRecord,
    records: &[WaveRecord],
    views: &[WaveView],
    progress: &Progress,
    now: Timestamp,
) -> Option<Timestamp> {
    if super::is_terminal(execution.status) || progress.settled_servers() >= progress.total_servers
    {
        return None;
    }
    let running = views.iter().any(|w| super::is_running(w.status));
    if !running && views.iter().any(|w| w.awaiting_approval) {
        return None;
    }
    let waves: Vec<Wave> = views
        .iter()
        .map(|v| Wave::read(v, records.iter().find(|r| r.number == v.wave_number), now))
        .collect();
    let learned = Learned::from(&waves);
    let mut finish: Vec<Option<f64>> = vec![None; waves.len()];
    for i in 0..waves.len() {
        finish_of(i, &waves, &learned, &mut finish, 0)?;
    }
    let last = finish.into_iter().flatten().fold(0.0, f64::max);
    now.checked_add_signed(chrono::TimeDelta::try_milliseconds((last * 1000.0) as i64)?)
}

/// What the estimate reads of one wave, times in seconds.
struct Wave<'a> {
    number: WaveNumber,
    status: WaveStatus,
    depends_on: Vec<WaveNumber>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    servers: usize,
    /// From the wave's start to each launch outcome, earliest first.
    outcomes: Vec<f64>,
    /// From the wave's start to now (running) or its end (finished); none
    /// without a start time (a running one is then taken as just started).
    elapsed: Option<f64>,
    /// The wave has actions or health checks.
    post_launch: bool,
    plan: Option<&'a WavePlanSlice>,
    /// The post-launch time its servers show (see [`post::post_seen`]).
    post_seen: Option<f64>,
}

impl<'a> Wave<'a> {
    fn read(view: &WaveView, record: Option<&'a WaveRecord>, now: Timestamp) -> Wave<'a> {
        let start = view.start_time;
        let secs = |to: Timestamp| start.map(|s| (to - s).num_milliseconds().max(0) as f64 / 1e3);
        let ends: Vec<Timestamp> = view
            .servers
            .iter()
            .filter(|s| {
                matches!(
                    s.launch_status,
                    LaunchStatus::Launched | LaunchStatus::Completed | LaunchStatus::Failed
                )
            })
            .filter_map(|s| s.launch_end_time)
            .collect();
        let mut outcomes: Vec<f64> = ends.iter().filter_map(|t| secs(*t)).collect();
        outcomes.sort_by(f64::total_cmp);
        let plan = record.map(|r| &r.plan);
        Wave {
            number: view.wave_number,
            status: view.status,
            depends_on: view.depends_on.clone(),
            start,
            end: view.end_time,
            servers: record.map_or(view.servers.len(), |r| r.servers.len()),
            outcomes,
            elapsed: secs(view.end_time.unwrap_or(now)),
            post_launch: plan
                .is_some_and(|p| !p.post_launch.is_empty() || !p.health_checks.is_empty()),
            plan,
            post_seen: record.and_then(|r| post::post_seen(r, ends.iter().max().copied())),
        }
    }

    /// Whether `other` has the same post-launch work (actions and checks).
    fn works_like(&self, other: &Wave) -> bool {
        match (self.plan, other.plan) {
            (Some(a), Some(b)) => {
                a.post_launch == b.post_launch && a.health_checks == b.health_checks
            }
            _ => false,
        }
    }

    fn is_done(&self) -> bool {
        matches!(
            self.status,
            WaveStatus::Completed | WaveStatus::Failed | WaveStatus::Cancelled
        )
    }

    /// From the start to the last launch outcome, once every server has one.
    fn launch_took(&self) -> Option<f64> {
        (self.servers > 0 && self.outcomes.len() == self.servers)
            .then(|| self.outcomes.last().copied())
            .flatten()
    }

    /// `L`: the launch time this wave will have taken (see the method).
    fn launch_estimate(&self, learned: Option<f64>) -> Option<f64> {
        if let Some(took) = self.launch_took() {
            return Some(took);
        }
        let e = self.elapsed.unwrap_or(0.0);
        let (k, n) = (self.outcomes.len() as f64, self.servers as f64);
        let projected = match (self.outcomes.first(), self.outcomes.last()) {
            // Their pace so far, carried on from the latest outcome; when
            // none came for longer than the pace, from now.
            (Some(t1), Some(tk)) if tk > t1 => {
                let pace = (tk - t1) / (k - 1.0);
                Some((tk + (n - k) * pace).max(e + (n - k - 1.0) * pace))
            }
            // One outcome, or all at one instant: the share out so far.
            (Some(t1), _) => Some(t1 + (e - t1) * n / k),
            _ => None,
        };
        let estimate = match (projected, learned) {
            (Some(own), Some(done)) => own * k / n + done * (1.0 - k / n),
            (None, Some(done)) => done,
            (Some(own), None) if k >= (n * FIRST_PACE_SHARE).max(2.0) => own,
            _ => return None,
        };
        Some(estimate.max(e))
    }
}

/// What the waves of this execution have shown so far.
struct Learned {
    /// The mean launch time of the waves whose launches are all out.
    launch: Option<f64>,
    /// `P` per wave (see [`post_times`]).
    post: Vec<Option<f64>>,
    /// The running waves' launch estimate, for waves to come while no wave
    /// has finished.
    running_launch: Option<f64>,
    /// From the end of a wave's last dependency to its start (the
    /// execution starting it, a capacity tick).
    gap: f64,
    /// A wave FAILED: no wave starts any more.
    failed: bool,
}

impl Learned {
    fn from(waves: &[Wave<'_>]) -> Learned {
        // A wave in POST_ACTIONS has its launch time too.
        let launch = mean(
            waves
                .iter()
                .filter(|w| w.is_done() || w.status == WaveStatus::PostActions)
                .filter(|w| w.status != WaveStatus::Cancelled)
                .filter_map(Wave::launch_took),
        );
        let running_launch = mean(
            waves
                .iter()
                .filter(|w| w.status == WaveStatus::Launching)
                .filter_map(|w| w.launch_estimate(launch)),
        );
        let gap = mean(waves.iter().filter_map(|w| {
            let ready = w
                .depends_on
                .iter()
                .map(|d| waves.iter().find(|x| x.number == *d)?.end)
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .max()?;
            Some((w.start? - ready).num_milliseconds().max(0) as f64 / 1e3)
        }));
        Learned {
            launch,
            post: post_times(waves),
            running_launch,
            gap: gap.unwrap_or(0.0),
            failed: waves.iter().any(|w| w.status == WaveStatus::Failed),
        }
    }
}

/// `P` per wave: the longest post-launch time shown so far by the waves with
/// the same post-launch work, else by any wave with some (a wave ends with
/// its slowest server). Zero for a wave without actions and checks; `None`
/// while no server has shown one.
fn post_times(waves: &[Wave<'_>]) -> Vec<Option<f64>> {
    let longest = |same: &dyn Fn(&Wave<'_>) -> bool| {
        let seen = waves.iter().filter(|x| same(x)).filter_map(|x| x.post_seen);
        seen.reduce(f64::max)
    };
    waves
        .iter()
        .map(|w| match w.post_launch {
            false => Some(0.0),
            true => longest(&|x| x.works_like(w)).or_else(|| longest(&|x| x.post_launch)),
        })
        .collect()
}

/// Seconds from now until wave `i` ends, into `finish`; `None` when it
/// cannot be told.
fn finish_of(
    i: usize,
    waves: &[Wave<'_>],
    learned: &Learned,
    finish: &mut [Option<f64>],
    depth: usize,
) -> Option<f64> {
    if let Some(done) = finish[i] {
        return Some(done);
    }
    let w = &waves[i];
    let post = || learned.post[i];
    let end = match w.status {
        _ if w.is_done() => 0.0,
        WaveStatus::Pending if learned.failed => 0.0,
        WaveStatus::Pending => {
            // A cycle cannot pass validation; the depth only bounds a bad record.
            let mut ready: f64 = 0.0;
            for dep in &w.depends_on {
                let d = waves.iter().position(|x| x.number == *dep)?;
                if depth > waves.len() {
                    return None;
                }
                ready = ready.max(finish_of(d, waves, learned, finish, depth + 1)?);
            }
            let gap = if w.depends_on.is_empty() {
                0.0
            } else {
                learned.gap
            };
            ready + gap + learned.launch.or(learned.running_launch)? + post()?
        }
        WaveStatus::PostActions => {
            let e = w.elapsed.unwrap_or(0.0);
            (post()? - (e - w.launch_took().unwrap_or(e))).max(0.0)
        }
        _ => w.launch_estimate(learned.launch)? - w.elapsed.unwrap_or(0.0) + post()?,
    };
    finish[i] = Some(end);
    Some(end)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use crate::ids::{SourceServerId, WaveNumber};
    use crate::status_model::{ActionStatus, ExecutionStatus, LaunchStatus, WaveStatus};
    use crate::testing::{self, Fixture, at};
    use crate::time::Timestamp;

    // mid_drill: wave 1 launched 00:30 → 08:20 (L 7m50s) and ended 12:00
    // (P 3m40s); wave 2 started 30 s later (the gap), at 12:30, one of its
    // two servers out at 21:10; wave 3 waits for wave 2 and an approval.
    // It is 25:00.

    #[test]
    fn the_estimate_follows_the_waves_still_to_come() {
        // Wave 2: its own projection (8m40s + 3m50s × 2/1 = 16m20s) half
        // weighted with wave 1's 7m50s is 12m05s, less than the 12m30s it
        // has run: its launch ends now, then P: 28:40. Wave 3 after it:
        // + 30 s + 7m50s + 3m40s = 40:40.
        assert_eq!(
            testing::mid_drill().view().estimated_completion,
            Some(at(40, 40))
        );
    }

    #[test]
    fn waves_side_by_side_count_once_along_the_critical_path() {
        let mut f = testing::mid_drill();
        f.execution.waves[2].depends_on = vec![WaveNumber(1)];
        f.execution.waves[2].approved_by = Some("alice".to_owned());
        // Wave 3 may start now (wave 1 is done): 25:00 + 12m, later than
        // wave 2's 28:40 (after wave 2 it would be 40:40).
        assert_eq!(f.view().estimated_completion, Some(at(37, 0)));
    }

    #[test]
    fn no_wave_starts_after_a_failed_one() {
        let mut f = testing::mid_drill();
        f.set_wave_status(2, WaveStatus::Failed);
        f.execution.waves[2].approved_by = Some("alice".to_owned());
        assert_eq!(
            f.view().estimated_completion,
            Some(at(25, 0)),
            "it ends as soon as it can"
        );
    }

    #[test]
    fn no_eta_while_blocked_on_an_approval() {
        let mut f = testing::mid_drill();
        f.set_wave_status(2, WaveStatus::Completed);
        for i in 0..2 {
            f.server_mut(2, i).launch_status = LaunchStatus::Completed;
        }
        assert!(f.view().waves[2].awaiting_approval);
        assert_eq!(f.view().estimated_completion, None);

        f.execution.waves[2].approved_by = Some("alice".to_owned());
        // Wave 3 as wave 1 took, after the gap: 30 s + 7m50s + 3m40s.
        assert_eq!(f.view().estimated_completion, Some(at(37, 0)));
    }

    #[test]
    fn no_eta_without_a_pace_or_when_finished() {
        assert_eq!(testing::fresh().view().estimated_completion, None);
        assert_eq!(testing::failed().view().estimated_completion, None);

        let mut f = testing::mid_drill();
        f.execution.status = ExecutionStatus::Cancelled;
        assert_eq!(f.view().estimated_completion, None, "terminal");

        // The first wave, one of twenty out: no pace to go by yet.
        let mut f = steady_first_wave(20).without_post_launch_work();
        f.now = at(2, 35);
        assert_eq!(f.view().estimated_completion, None);
        f.now = at(2, 45);
        assert!(f.view().estimated_completion.is_some(), "two out: a tenth");
    }

    /// Early in a drill no server has shown how long its checks take: the
    /// plan's bounds (15 minutes of `health_timeout` per wave) would put
    /// the end an hour late, so there is no estimate until one has.
    #[test]
    fn no_eta_until_a_server_shows_its_post_launch_time() {
        let mut f = steady_first_wave(20);
        f.now = at(5, 35);
        assert_eq!(f.view().estimated_completion, None, "19 of 20 out");
        // Every launch out at 05:40: POST_ACTIONS, no server healthy yet.
        f.now = at(6, 0);
        assert_eq!(f.view().estimated_completion, None);

        // Each server passes its checks a minute after its launch. The
        // phase's first check, at 05:45, finds the 15 launched by 04:50
        // HEALTHY: they only bound their times, the tightest 55 s. Wave 1
        // ends at 05:40 + 55 s; waves 2 and 3 (whose action and checks
        // differ from wave 1's: its time is the only one shown) each take
        // wave 1's launch time (05:40 - 00:30) and 55 s: 06:35 + 2 × 6m05s.
        f.healthy = vec![at(5, 45); 15];
        f.now = at(5, 50);
        assert_eq!(f.view().estimated_completion, Some(at(18, 45)));
        // Two more, launched 05:00 and 05:10, are timed: a minute each.
        // The longest timed decides, bounds no longer count: 06:40 + 2 ×
        // 6m10s.
        f.healthy.extend([at(6, 0), at(6, 10)]);
        f.now = at(6, 10);
        assert_eq!(f.view().estimated_completion, Some(at(19, 0)));
    }

    #[test]
    fn a_wave_without_checks_shows_the_end_of_its_actions() {
        let mut f = steady_first_wave(20);
        f.checks = false;
        // POST_ACTIONS since 05:40, its action still running.
        f.now = at(6, 30);
        assert_eq!(f.view().estimated_completion, None);
        // Done at 07:40: P is 2 minutes for every wave (none other has
        // shown one). Waves 2 and 3: 07:45 + 2 × (5m10s + 2m).
        f.actions_done = Some(at(7, 40));
        f.now = at(7, 45);
        assert_eq!(f.view().estimated_completion, Some(at(22, 5)));
    }

    /// The 600-server complaint: at a steady launch pace the estimate must
    /// hold still, not recede.
    #[test]
    fn a_steady_launch_pace_keeps_the_estimate_still() {
        let mut f = steady_first_wave(20).without_post_launch_work();
        let mut seen = Vec::new();
        for k in [2usize, 5, 10, 15, 19] {
            // 5 s after the k-th outcome.
            f.now = at(2, 25 + 10 * k as i64);
            seen.push(f.view().estimated_completion.expect("a pace"));
        }
        let first = seen[0];
        let spread = seen.iter().map(|t| (*t - first).num_seconds().abs()).max();
        assert!(spread <= Some(5), "{seen:?}");
        // The launch ends 02:30 + 190 s: the same estimate once every
        // server is out.
        let last = *seen.last().unwrap();
        f.now = at(5, 40);
        let done = f.view().estimated_completion.unwrap();
        assert!((last - done).num_seconds().abs() <= 10, "{last} vs {done}");
    }

    /// fresh() with wave 1 LAUNCHING since 00:30 and `n` servers whose
    /// launches end every 10 s from 02:30 (the first after 2 minutes), each
    /// LAUNCHED once its time has come, as of `now`; in POST_ACTIONS once
    /// all are, its servers HEALTHY at the `healthy` times.
    fn steady_first_wave(n: usize) -> SteadyWave {
        SteadyWave {
            n,
            now: at(0, 30),
            healthy: Vec::new(),
            bare: false,
            checks: true,
            actions_done: None,
        }
    }

    struct SteadyWave {
        n: usize,
        now: Timestamp,
        healthy: Vec<Timestamp>,
        /// No wave has actions or health checks.
        bare: bool,
        /// Wave 1 has its health checks (else its action only).
        checks: bool,
        /// When wave 1's action ended.
        actions_done: Option<Timestamp>,
    }

    impl SteadyWave {
        fn without_post_launch_work(self) -> SteadyWave {
            SteadyWave { bare: true, ..self }
        }

        fn view(&self) -> crate::status::ExecutionView {
            let mut f: Fixture = testing::fresh();
            f.now = self.now;
            f.execution.status = ExecutionStatus::InProgress;
            if self.bare {
                for w in &mut f.waves {
                    w.plan.post_launch.clear();
                    w.plan.health_checks.clear();
                }
            }
            let last = at(2, 30 + 10 * (self.n as i64 - 1));
            let status = if last <= self.now {
                WaveStatus::PostActions
            } else {
                WaveStatus::Launching
            };
            f.set_wave_status(1, status);
            let wave = f.wave_mut(1);
            if !self.checks {
                wave.plan.health_checks.clear();
            }
            if let Some(end) = self.actions_done {
                wave.actions[0].status = ActionStatus::Success;
                wave.actions[0].end_time = Some(end);
            }
            wave.start_time = Some(at(0, 30));
            wave.health.started_at = (status == WaveStatus::PostActions).then_some(last);
            let template = wave.servers[0].clone();
            wave.servers = (0..self.n)
                .map(|i| {
                    let mut s = template.clone();
                    s.plan.id = SourceServerId::parse(&format!("s-{:017x}", 0x100 + i)).unwrap();
                    let end = at(2, 30 + 10 * i as i64);
                    s.launch_status = if end <= self.now {
                        s.launch_end_time = Some(end);
                        LaunchStatus::Launched
                    } else {
                        LaunchStatus::Launching
                    };
                    s.healthy_time = self.healthy.get(i).copied();
                    s
                })
                .collect();
            f.view()
        }
    }
}
