//! The SQLite file under the embedded backend: opening it with the settings
//! several processes need to share it, the schema, and its migrations
//! (numbered by `PRAGMA user_version`).

use crate::contention::BUSY_TIMEOUT;
use crate::error::EmbeddedError;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// WAL pages (4 KiB each) written between automatic checkpoints.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 4000;

/// Schema steps; step `i` takes the file from `user_version` i to i + 1.
/// Append new steps, never edit a released one.
const MIGRATIONS: &[&str] = &[
    // 1: queues, dead-letter queues, the execution store and metrics.
    r#"
    CREATE TABLE messages (
        seq            INTEGER PRIMARY KEY,
        queue          TEXT    NOT NULL,
        message_id     TEXT    NOT NULL,
        body           TEXT    NOT NULL,
        event_type     TEXT,
        schema_version INTEGER NOT NULL,
        -- milliseconds since the Unix epoch: delayed or in flight until then
        visible_at     INTEGER NOT NULL,
        receive_count  INTEGER NOT NULL DEFAULT 0,
        -- the receipt of the latest receive (`<seq>.<uuid>`); NULL until then
        receipt        TEXT
    );
    CREATE INDEX messages_by_visibility ON messages (queue, visible_at);

    CREATE TABLE dead_messages (
        seq            INTEGER PRIMARY KEY,
        queue          TEXT    NOT NULL,
        message_id     TEXT    NOT NULL,
        body           TEXT    NOT NULL,
        event_type     TEXT,
        schema_version INTEGER NOT NULL,
        reason         TEXT    NOT NULL,
        receive_count  INTEGER NOT NULL,
        dead_at        TEXT    NOT NULL
    );
    CREATE INDEX dead_messages_by_queue ON dead_messages (queue, message_id);

    CREATE TABLE executions (
        id         TEXT    PRIMARY KEY,
        version    INTEGER NOT NULL,
        status     TEXT    NOT NULL,
        plan_name  TEXT    NOT NULL,
        -- RFC 3339 UTC with nanoseconds: sorts as text in time order
        start_time TEXT    NOT NULL,
        body       TEXT    NOT NULL
    );
    CREATE INDEX executions_by_start ON executions (start_time);

    CREATE TABLE waves (
        execution_id TEXT    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
        number       INTEGER NOT NULL,
        version      INTEGER NOT NULL,
        status       TEXT    NOT NULL,
        body         TEXT    NOT NULL,
        PRIMARY KEY (execution_id, number)
    ) WITHOUT ROWID;

    CREATE TABLE metrics (
        seq        INTEGER PRIMARY KEY,
        namespace  TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        value      REAL    NOT NULL,
        unit       TEXT    NOT NULL,
        dimensions TEXT    NOT NULL,
        timestamp  TEXT    NOT NULL
    );
    CREATE INDEX metrics_by_name ON metrics (namespace, name);
    "#,
    // 2: simulated worlds shared by the processes on one file.
    r#"
    CREATE TABLE sim_world (
        name             TEXT    PRIMARY KEY,
        -- bumped on every write: a process skips re-reading a state it wrote
        generation       INTEGER NOT NULL,
        -- the scenario as its file's text (re-parsed by each process)
        scenario_file    TEXT    NOT NULL,
        scenario_text    TEXT    NOT NULL,
        -- the clock: simulated time `simulated_origin` at real UTC `real_origin`
        real_origin      TEXT    NOT NULL,
        simulated_origin TEXT    NOT NULL,
        state            TEXT    NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 3: runbook triggers by idempotency key, and announcements (what the
    // AWS backend publishes on EventBridge).
    r#"
    CREATE TABLE triggers (
        idempotency_key TEXT PRIMARY KEY,
        received_at     TEXT NOT NULL,
        body            TEXT NOT NULL
    );
    CREATE INDEX triggers_by_time ON triggers (received_at);

    CREATE TABLE announcements (
        seq          INTEGER PRIMARY KEY,
        detail_type  TEXT NOT NULL,
        execution_id TEXT,
        body         TEXT NOT NULL
    );
    "#,
    // 4: listings filtered by status (the executions API), and the workers'
    // heartbeats (`/healthz`).
    r#"
    CREATE INDEX executions_by_status ON executions (status, start_time);

    CREATE TABLE worker_heartbeats (
        worker_id TEXT PRIMARY KEY,
        last_poll TEXT NOT NULL,
        body      TEXT NOT NULL
    );
    "#,
    // 5: the DRS capacity ledger every launch takes its servers from.
    r#"
    CREATE TABLE capacity_ledger (
        name    TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        body    TEXT NOT NULL
    );
    "#,
    // 6: the markers of queued starts (`ripcord status` says "queued").
    r#"
    CREATE TABLE submissions (
        execution_id TEXT PRIMARY KEY,
        submitted_at TEXT NOT NULL,
        body         TEXT NOT NULL
    );
    "#,
    // 7: simulator call counts, apart from the world's JSON (`sim_calls.rs`).
    r#"
    CREATE TABLE sim_calls (
        world     TEXT    NOT NULL,
        operation TEXT    NOT NULL,
        -- '' counts every call; an error code counts the faults injected
        fault     TEXT    NOT NULL,
        count     INTEGER NOT NULL,
        PRIMARY KEY (world, operation, fault)
    ) WITHOUT ROWID;
    "#,
];

/// One connection to the file, shared by the adapters of one backend. Every
/// operation is a short transaction, so a plain mutex is enough; it is never
/// held across an await.
pub(crate) struct Db {
    conn: Mutex<Connection>,
}

impl Db {
    /// Opens (creating if needed) and migrates the file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Db, EmbeddedError> {
        let open_err = |source| EmbeddedError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        configure_when_free(&conn).map_err(open_err)?;
        migrate(&mut conn, path)?;
        // Enough room for every statement the adapters prepare.
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `f` on the connection. A panic in an earlier caller leaves no
    /// open transaction behind (rusqlite rolls back on drop), so a poisoned
    /// lock is safe to take over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        let asked = std::time::Instant::now();
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        crate::contention::connection_waited(asked);
        conn
    }
}

/// [`configure`], tried again while another process holds the file: SQLite
/// answers a journal-mode switch that meets a lock with SQLITE_BUSY at
/// once, without waiting out the busy timeout, so several workers started
/// together on a new file would otherwise fail to open it.
fn configure_when_free(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match configure(conn) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // The busy timeout first: switching to WAL itself may meet another
    // process' lock.
    conn.busy_handler(Some(crate::contention::on_busy))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // In-memory databases cannot use WAL; they are single-connection anyway.
        tracing::debug!(mode, "SQLite journal mode is not WAL");
    }
    // NORMAL in WAL mode loses at most the last transactions on power loss,
    // never consistency; FULL would fsync every message.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Checkpoints are where WAL mode fsyncs; queue traffic is many tiny
    // commits, so checkpoint every ~16 MiB instead of every ~4 MiB, and
    // trim the WAL file back afterwards.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), EmbeddedError> {
    let storage = |source| EmbeddedError::Open {
        path: path.to_path_buf(),
        source,
    };
    // A file already at this schema needs no write lock: a read sees it
    // while another process holds the lock (a worker suspended mid-write
    // must not keep `ripcord status` from opening the file).
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage)?;
    if current == MIGRATIONS.len() as i64 {
        return Ok(());
    }
    // IMMEDIATE: two processes opening a new file at once migrate it once.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage)?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage)?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(EmbeddedError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)
            .map_err(|source| EmbeddedError::Migration {
                path: path.to_path_buf(),
                step: step + 1,
                source,
            })?;
    }
    if found < supported {
        tx.pragma_update(None, "user_version", supported)
            .map_err(storage)?;
    }
    tx.commit().map_err(storage)
}

/// Wall-clock milliseconds since the Unix epoch: how visibility is stored.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `d` in whole milliseconds, rounded up so a 1 µs delay still delays.
pub(crate) fn millis(d: Duration) -> i64 {
    let ms = d.as_micros().div_ceil(1000);
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_processes_may_open_a_new_file_at_once() {
        // Separate connections stand in for separate processes; before the
        // retry, some of them failed with "database is locked".
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ripcord.db");
            let opened: Vec<_> = (0..6)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || Db::open(&path).map(|_| ()))
                })
                .collect();
            for handle in opened {
                handle.join().unwrap().expect("every opener succeeds");
            }
        }
    }

    #[test]
    fn a_new_file_is_migrated_to_the_latest_schema_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ripcord.db");
        let db = Db::open(&path).unwrap();
        {
            let conn = db.lock();
            let pragma = |name: &str| -> String {
                conn.pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
                    .map(|v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                    .unwrap()
            };
            assert_eq!(pragma("user_version"), MIGRATIONS.len().to_string());
            assert_eq!(pragma("journal_mode"), "wal");
            assert_eq!(pragma("synchronous"), "1", "NORMAL");
            assert_eq!(pragma("foreign_keys"), "1");
        }
        drop(db);
        // A second open finds the schema in place and applies nothing twice.
        Db::open(&path).unwrap();
    }

    /// A worker suspended in the middle of a write holds the file's write
    /// lock: `ripcord status` and the other readers still open the file,
    /// and a write that waits out the busy timeout says what holds it.
    #[test]
    fn a_file_at_this_schema_opens_while_another_process_holds_the_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ripcord.db");
        drop(Db::open(&path).unwrap());
        let mut holder = Connection::open(&path).unwrap();
        let held = holder
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();

        let asked = std::time::Instant::now();
        let db = Db::open(&path).expect("a current file opens while another holds the lock");
        assert!(asked.elapsed() < BUSY_TIMEOUT, "{:?}", asked.elapsed());

        let write = db
            .lock()
            .execute_batch("BEGIN IMMEDIATE; COMMIT;")
            .expect_err("the write lock is held");
        assert_eq!(
            crate::connection::hint_for(&write),
            crate::connection::LOCKED_HINT
        );
        held.rollback().unwrap();
    }

    #[test]
    fn a_file_from_a_newer_ripcord_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ripcord.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        match Db::open(&path) {
            Err(EmbeddedError::NewerSchema { found: 99, .. }) => {}
            Err(other) => panic!("expected NewerSchema, got {other}"),
            Ok(_) => panic!("expected NewerSchema, the file was opened"),
        }
    }

    #[test]
    fn durations_round_up_to_milliseconds() {
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_micros(1)), 1);
        assert_eq!(millis(Duration::from_millis(1500)), 1500);
    }
}
