//! What one chaos run does: its size, its faults and its bounds. The
//! defaults are the CI-sized run (well under two minutes on two busy
//! cores); every figure can be raised through an environment variable for
//! a larger run on demand (README, "Chaos run").

use ripcord::capacity::Quotas;
use std::time::Duration;

/// The size and the faults of one run.
#[derive(Clone, Debug)]
pub struct ChaosConfig {
    /// Seeds the plans' mix, the simulator and which worker is hit when
    /// (`RIPCORD_CHAOS_SEED`; default: from the clock, printed).
    pub seed: u64,
    /// Executions started at once (`RIPCORD_CHAOS_EXECUTIONS`).
    pub executions: usize,
    /// Waves per execution, at least 2 (`RIPCORD_CHAOS_WAVES`).
    pub waves: usize,
    /// Servers per wave (`RIPCORD_CHAOS_SERVERS_PER_WAVE`).
    pub servers_per_wave: usize,
    /// Worker processes of each kind: launch, poll, post-actions, metrics.
    pub workers: [(&'static str, usize); 4],
    /// A random worker is SIGKILLed (and started again) this often
    /// (`RIPCORD_CHAOS_KILL_EVERY`).
    pub kill_every: Duration,
    /// A random worker is SIGSTOPped this often (`RIPCORD_CHAOS_FREEZE_EVERY`)...
    pub freeze_every: Duration,
    /// ... for this long, past its visibility timeout, then SIGCONTed.
    pub freeze_for: Duration,
    /// The workers' `--visibility-timeout`.
    pub visibility: Duration,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Real time every simulated DRS, EC2 and SSM call takes, like a real
    /// API's round trip, so that a kill or a freeze finds steps under way
    /// (`RIPCORD_CHAOS_API_LATENCY`).
    pub call_latency: Duration,
    /// Shares of simulated DRS, EC2 and SSM calls answered 429 and 500
    /// (a StartRecovery 500 still creates its job).
    pub throttling_rate: f64,
    pub server_error_rate: f64,
    /// Share of pushed launch results lost on the way.
    pub drop_launch_results: f64,
    /// Share of conditional saves answered with a version conflict
    /// (the workers' `--fault-store-conflicts`).
    pub store_conflicts: f64,
    /// The DRS quotas of the run: the simulator's scenario enforces them
    /// and Ripcord's ledger admits against them (the same figures, so the
    /// ledger must never let DRS refuse a launch for a quota). Tight: about
    /// three in five executions' waves fit at once ([`ChaosConfig::tight_quotas`]).
    pub quotas: Quotas,
    /// How long the harness leaves a `paused` execution paused.
    pub pause_for: Duration,
    /// The longest the run may take before what is left is called stuck
    /// (`RIPCORD_CHAOS_LIMIT`).
    pub limit: Duration,
}

fn var<T: std::str::FromStr>(name: &str) -> Option<T> {
    let text = std::env::var(name).ok()?;
    Some(text.parse().unwrap_or_else(|_| {
        panic!("{name}={text} cannot be read; give a number (or a duration such as 3s for the *_EVERY and LIMIT variables)")
    }))
}

fn duration_var(name: &str) -> Option<Duration> {
    let text = std::env::var(name).ok()?;
    Some(humantime::parse_duration(&text).unwrap_or_else(|e| {
        panic!("{name}={text} is not a duration ({e}); give one such as 3s or 2m")
    }))
}

impl ChaosConfig {
    /// The CI-sized run, with whatever the environment raises.
    pub fn from_env() -> Self {
        let seed = var("RIPCORD_CHAOS_SEED").unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(14, |d| d.as_secs() % 100_000)
        });
        let executions: usize = var("RIPCORD_CHAOS_EXECUTIONS").unwrap_or(10);
        let servers_per_wave = var::<usize>("RIPCORD_CHAOS_SERVERS_PER_WAVE")
            .unwrap_or(3)
            .max(2);
        Self {
            seed,
            executions,
            waves: var::<usize>("RIPCORD_CHAOS_WAVES").unwrap_or(3).max(2),
            servers_per_wave,
            workers: [
                ("launch", 3),
                ("poll", 2),
                ("post-actions", 2),
                ("metrics", 2),
            ],
            kill_every: duration_var("RIPCORD_CHAOS_KILL_EVERY").unwrap_or(Duration::from_secs(3)),
            freeze_every: duration_var("RIPCORD_CHAOS_FREEZE_EVERY")
                .unwrap_or(Duration::from_secs(8)),
            freeze_for: Duration::from_secs(4),
            visibility: Duration::from_secs(2),
            time_scale: 10.0,
            call_latency: duration_var("RIPCORD_CHAOS_API_LATENCY")
                .unwrap_or(Duration::from_millis(100)),
            throttling_rate: 0.1,
            server_error_rate: 0.05,
            drop_launch_results: 0.3,
            store_conflicts: 0.05,
            quotas: Self::tight_quotas(executions, servers_per_wave),
            pause_for: Duration::from_secs(3),
            // A bigger run gets more time by default.
            limit: duration_var("RIPCORD_CHAOS_LIMIT").unwrap_or(Duration::from_secs(
                90 + 2 * executions.saturating_sub(10) as u64,
            )),
        }
    }
}

impl ChaosConfig {
    /// Quotas that hold about three in five executions' waves at once: `n`
    /// = 3/5 of the executions (at least 2) full waves fill the servers in
    /// active jobs but one, and `n` jobs are all that may run, so a full
    /// wave waits on the servers and a retry's one-server job on the jobs.
    pub fn tight_quotas(executions: usize, servers_per_wave: usize) -> Quotas {
        let n = (executions * 3 / 5).max(2) as u32;
        Quotas {
            concurrent_jobs: n,
            servers_in_active_jobs: n * servers_per_wave as u32 + 1,
            servers_per_job: servers_per_wave as u32,
        }
    }
}

/// A small seeded generator (SplitMix64) for the harness' own choices: which
/// kind of execution, which worker is hit.
#[derive(Clone, Debug)]
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0xC4A0_5EED)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
