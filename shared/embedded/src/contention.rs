//! How long this process waited for the database file: SQLite's busy
//! handler (another process holds the write lock) and the one connection's
//! mutex (another task of this process is using it). Process-wide counters,
//! read by the workers' metrics (`ripcord_embedded_*`) and `ripcord bench
//! scale`, so the bound of several processes on one file is measured.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a statement waits for another process' write lock before it
/// fails with SQLITE_BUSY. Writes are short, so this is only reached when a
/// process hangs while holding the lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

static BUSY_RETRIES: AtomicU64 = AtomicU64::new(0);
static BUSY_WAIT_NANOS: AtomicU64 = AtomicU64::new(0);
static CONNECTION_WAIT_NANOS: AtomicU64 = AtomicU64::new(0);
static WORLD_WRITES: AtomicU64 = AtomicU64::new(0);
static WORLD_WRITE_NANOS: AtomicU64 = AtomicU64::new(0);
static WORLD_WRITE_BYTES: AtomicU64 = AtomicU64::new(0);

/// What this process has waited for the file so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contention {
    /// Times a statement found the write lock taken and slept.
    pub busy_retries: u64,
    /// Time slept in those retries.
    pub busy_wait: Duration,
    /// Time tasks waited for this process' connection.
    pub connection_wait: Duration,
    /// Simulator calls that changed the simulated world stored in the
    /// file, each rewriting all of it under the write lock.
    pub world_writes: u64,
    /// Time those calls took from taking the write lock to the end of the
    /// commit (read, call, encode, write, and any WAL checkpoint after it).
    pub world_write_time: Duration,
    /// Bytes of world they wrote.
    pub world_write_bytes: u64,
}

/// The counters of this process.
pub fn contention() -> Contention {
    Contention {
        busy_retries: BUSY_RETRIES.load(Ordering::Relaxed),
        busy_wait: Duration::from_nanos(BUSY_WAIT_NANOS.load(Ordering::Relaxed)),
        connection_wait: Duration::from_nanos(CONNECTION_WAIT_NANOS.load(Ordering::Relaxed)),
        world_writes: WORLD_WRITES.load(Ordering::Relaxed),
        world_write_time: Duration::from_nanos(WORLD_WRITE_NANOS.load(Ordering::Relaxed)),
        world_write_bytes: WORLD_WRITE_BYTES.load(Ordering::Relaxed),
    }
}

pub(crate) fn world_written(since: Instant, bytes: usize) {
    WORLD_WRITES.fetch_add(1, Ordering::Relaxed);
    WORLD_WRITE_NANOS.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    WORLD_WRITE_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

pub(crate) fn connection_waited(since: Instant) {
    CONNECTION_WAIT_NANOS.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
}

/// The sleep before retry `prior + 1` of one statement that met the lock.
/// Writes hold the lock for tens of microseconds, so the first retries come
/// soon; SQLite's own handler sleeps 1, 2, 5 ... up to 100 ms, idling a
/// worker (and the thread it runs on) long after the lock is free.
fn backoff(prior: i32) -> Duration {
    let micros = 50u64 << prior.clamp(0, 6) as u32;
    Duration::from_micros(micros.min(BUSY_BACKOFF_CAP.as_micros() as u64))
}

const BUSY_BACKOFF_CAP: Duration = Duration::from_millis(2);

/// How many retries fit in `timeout` with [`backoff`]'s sleeps.
fn retries_within(timeout: Duration) -> i32 {
    let mut slept = Duration::ZERO;
    let mut n = 0;
    while slept < timeout {
        slept += backoff(n);
        n += 1;
    }
    n
}

/// SQLite's busy handler: sleep and retry until the busy timeout.
pub(crate) fn on_busy(prior: i32) -> bool {
    static LIMIT: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    if prior >= *LIMIT.get_or_init(|| retries_within(BUSY_TIMEOUT)) {
        return false;
    }
    let sleep = backoff(prior);
    std::thread::sleep(sleep);
    BUSY_RETRIES.fetch_add(1, Ordering::Relaxed);
    BUSY_WAIT_NANOS.fetch_add(sleep.as_nanos() as u64, Ordering::Relaxed);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_short_and_stop_at_the_busy_timeout() {
        assert_eq!(backoff(0), Duration::from_micros(50));
        assert_eq!(backoff(20), BUSY_BACKOFF_CAP);
        let n = retries_within(Duration::from_secs(5));
        let total: Duration = (0..n).map(backoff).sum();
        assert!(total >= Duration::from_secs(5) && total < Duration::from_millis(5002));
    }
}
