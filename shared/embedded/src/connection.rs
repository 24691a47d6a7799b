//! What every adapter of one embedded backend shares: the one connection,
//! the settings, the file's path and one wake-up signal per queue.

use crate::db::Db;
use ripcord::ports::QueueName;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::Notify;

/// What to check when the file fails: the end of every storage error's text.
pub(crate) const FILE_HINT: &str = "check that the database file is writable and not corrupt";

/// What to do when another process held the file's write lock past the
/// busy timeout: the end of a busy or locked error's text.
pub(crate) const LOCKED_HINT: &str = "another process has held the database file's write lock for more than 5 s: a ripcord process suspended mid-write (Ctrl-Z, SIGSTOP, a debugger) or stuck; resume or stop it, then try again";

/// What to check after `e`: [`LOCKED_HINT`] when the file was locked,
/// else [`FILE_HINT`].
pub(crate) fn hint_for(e: &rusqlite::Error) -> &'static str {
    match e {
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(
                failure.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            LOCKED_HINT
        }
        _ => FILE_HINT,
    }
}

/// How the embedded queues behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddedConfig {
    /// A message received more than this many times without being deleted
    /// goes to its queue's dead-letter queue (SQS' maxReceiveCount).
    pub max_receives: u32,
    /// How often a waiting receive looks again for messages sent by other
    /// processes. Sends within this process wake it at once.
    pub poll_interval: Duration,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            max_receives: 5,
            poll_interval: Duration::from_millis(20),
        }
    }
}

/// What every adapter of one backend shares: the connection, the settings
/// and one wake-up signal per queue.
pub(crate) struct Shared {
    pub(crate) db: Db,
    pub(crate) config: EmbeddedConfig,
    pub(crate) path: PathBuf,
    pub(crate) sent: [Notify; QueueName::ALL.len()],
}

impl Shared {
    /// The signal a send to `queue` fires in this process.
    pub(crate) fn sent_signal(&self, queue: QueueName) -> &Notify {
        let index = QueueName::ALL
            .iter()
            .position(|q| *q == queue)
            .expect("every queue is in QueueName::ALL");
        &self.sent[index]
    }
}
