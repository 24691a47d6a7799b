//! A simulated world kept in the embedded database, so that several
//! `ripcord worker` processes on one file share one simulated DRS account.
//!
//! One row of the `sim_world` table per world name holds the world's state
//! as JSON, the scenario it runs (its file's text) and its clock's origin.
//! Every simulator call runs `BEGIN IMMEDIATE; load; compute; save; COMMIT`,
//! so calls from different processes are serialized by SQLite's write lock.
//! A process keeps the last state it read or wrote with its generation
//! number and parses the JSON again only when another process wrote since.
//! The call counts live in their own rows (`sim_calls.rs`), so a call that
//! only reads adds to a count and leaves the JSON and its generation alone.

use crate::connection::Shared;
use ripcord::ports::clock::ScaledClock;
use ripcord::time::Timestamp;
use ripcord_sim::{ScenarioSource, SimState, SimWorldError, SimWorldStore, parse_scenario};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use std::sync::{Arc, Mutex, PoisonError};

/// The world every process uses unless told otherwise.
pub const DEFAULT_WORLD: &str = "default";

/// A world stored in the embedded database.
pub struct EmbeddedSimWorld {
    shared: Arc<Shared>,
    name: String,
    /// The state as of `generation`, as this process last saw it.
    cache: Mutex<Option<(i64, SimState)>>,
}

/// When a world's simulated time started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorldOrigin {
    /// The real UTC instant the world was created.
    pub real: Timestamp,
    /// The simulated time at that instant.
    pub simulated: Timestamp,
}

/// A world opened from the database: the store, the scenario it runs and
/// the origin every process builds its clock from.
pub struct OpenedWorld {
    pub world: Arc<EmbeddedSimWorld>,
    pub scenario: ScenarioSource,
    pub origin: WorldOrigin,
    /// Whether this call created the world.
    pub created: bool,
}

impl OpenedWorld {
    /// The clock of this world: the same simulated time in every process.
    pub fn clock(&self) -> ScaledClock {
        ScaledClock::continuing(
            self.origin.real,
            self.origin.simulated,
            self.scenario.scenario.time_scale,
        )
    }
}

fn storage(e: rusqlite::Error) -> SimWorldError {
    SimWorldError::Storage(e.to_string())
}

fn time_text(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Opens or creates the world `name` (see `EmbeddedBackend::open_sim_world`).
pub(crate) fn open(
    shared: &Arc<Shared>,
    name: &str,
    requested: Option<&ScenarioSource>,
) -> Result<OpenedWorld, SimWorldError> {
    let mut conn = shared.db.lock();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage)?;
    if let Some(opened) = read_world(shared, &tx, name)? {
        if let Some(requested) = requested
            && requested.scenario != opened.scenario.scenario
        {
            return Err(SimWorldError::ScenarioMismatch {
                db: shared.path.display().to_string(),
                stored: describe(&opened.scenario),
                requested: describe(requested),
            });
        }
        return Ok(opened);
    }
    let scenario = requested.cloned().unwrap_or_else(ScenarioSource::builtin);
    let now = chrono::Utc::now();
    let origin = WorldOrigin {
        real: now,
        simulated: now,
    };
    let state = SimState::new(&scenario.scenario, origin.simulated);
    let json = encode(name, &state)?;
    tx.execute(
        "INSERT INTO sim_world (name, generation, scenario_file, scenario_text,
                                real_origin, simulated_origin, state)
         VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6)",
        params![
            name,
            scenario.file,
            scenario.text,
            time_text(&origin.real),
            time_text(&origin.simulated),
            json
        ],
    )
    .map_err(storage)?;
    tx.commit().map_err(storage)?;
    Ok(OpenedWorld {
        world: Arc::new(EmbeddedSimWorld {
            shared: shared.clone(),
            name: name.to_owned(),
            cache: Mutex::new(Some((1, state))),
        }),
        scenario,
        origin,
        created: true,
    })
}

/// The world `name` if the database has one; creates nothing.
pub(crate) fn find(shared: &Arc<Shared>, name: &str) -> Result<Option<OpenedWorld>, SimWorldError> {
    let conn = shared.db.lock();
    read_world(shared, &conn, name)
}

fn read_world(
    shared: &Arc<Shared>,
    conn: &rusqlite::Connection,
    name: &str,
) -> Result<Option<OpenedWorld>, SimWorldError> {
    let row = conn
        .query_row(
            "SELECT scenario_file, scenario_text, real_origin, simulated_origin
             FROM sim_world WHERE name = ?1",
            [name],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()
        .map_err(storage)?;
    let Some((file, text, real, simulated)) = row else {
        return Ok(None);
    };
    let db = shared.path.display().to_string();
    let scenario = parse_scenario(&text, &file)
        .map_err(|source| SimWorldError::StoredScenario { db, source })?;
    let time = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.to_utc())
            .map_err(|e| SimWorldError::Corrupt {
                world: name.to_owned(),
                reason: format!("origin {t:?}: {e}"),
            })
    };
    Ok(Some(OpenedWorld {
        world: Arc::new(EmbeddedSimWorld {
            shared: shared.clone(),
            name: name.to_owned(),
            cache: Mutex::new(None),
        }),
        origin: WorldOrigin {
            real: time(&real)?,
            simulated: time(&simulated)?,
        },
        scenario: ScenarioSource {
            file,
            text,
            scenario,
        },
        created: false,
    }))
}

/// How a scenario is named in a mismatch message.
fn describe(source: &ScenarioSource) -> String {
    if source.file == ScenarioSource::DEFAULT_NAME {
        source.file.clone()
    } else {
        format!("scenario {}", source.file)
    }
}

fn encode(name: &str, state: &SimState) -> Result<String, SimWorldError> {
    serde_json::to_string(state).map_err(|e| SimWorldError::Corrupt {
        world: name.to_owned(),
        reason: format!("cannot encode it: {e}"),
    })
}

impl EmbeddedSimWorld {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A copy of the stored world as it is now (for reports and tests).
    pub fn snapshot(&self) -> Result<SimState, SimWorldError> {
        let mut state = None;
        self.update(&mut |st| {
            state = Some(st.clone());
            false
        })?;
        state.ok_or_else(|| SimWorldError::Storage("the world was not read".to_owned()))
    }
}

impl SimWorldStore for EmbeddedSimWorld {
    fn update(&self, call: &mut dyn FnMut(&mut SimState) -> bool) -> Result<(), SimWorldError> {
        let mut conn = self.shared.db.lock();
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        // From the moment the write lock is held.
        let began = std::time::Instant::now();
        let generation: i64 = tx
            .prepare_cached("SELECT generation FROM sim_world WHERE name = ?1")
            .and_then(|mut s| s.query_row([&self.name], |r| r.get(0)))
            .optional()
            .map_err(storage)?
            .ok_or_else(|| SimWorldError::NoWorld {
                db: format!("{} (world {:?})", self.shared.path.display(), self.name),
            })?;
        let mut state = match cache.take() {
            Some((seen, state)) if seen == generation => state,
            _ => {
                let json: String = tx
                    .prepare_cached("SELECT state FROM sim_world WHERE name = ?1")
                    .and_then(|mut s| s.query_row([&self.name], |r| r.get(0)))
                    .map_err(storage)?;
                serde_json::from_str(&json).map_err(|e| SimWorldError::Corrupt {
                    world: self.name.clone(),
                    reason: e.to_string(),
                })?
            }
        };
        let counts = crate::sim_calls::load(&tx, &self.name)?;
        state.set_counts(counts.0.clone(), counts.1.clone());
        // The cache stays empty until the new state is committed: a failed
        // save must not leave a state the database does not have.
        let changed = call(&mut state);
        let counted = crate::sim_calls::save(&tx, &self.name, &counts, &state)?;
        if !changed {
            if counted {
                tx.commit().map_err(storage)?;
            }
            *cache = Some((generation, state));
            return Ok(());
        }
        let json = encode(&self.name, &state)?;
        tx.prepare_cached(
            "UPDATE sim_world SET state = ?1, generation = generation + 1 WHERE name = ?2",
        )
        .and_then(|mut s| s.execute(params![json, self.name]))
        .map_err(storage)?;
        tx.commit().map_err(storage)?;
        crate::contention::world_written(began, json.len());
        *cache = Some((generation + 1, state));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EmbeddedBackend, EmbeddedConfig};
    use ripcord::ids::SourceServerId;
    use ripcord::ports::Clock;
    use ripcord::ports::drs::{RecoveryService, StartRecoveryRequest};
    use ripcord_sim::{Simulator, StartOutcome};
    use std::collections::BTreeMap;

    const FAST: &str =
        "seed: 3\ntime_scale: 600\njob_pending: 1s\nlaunch_duration: { min: 10s, max: 10s }\n";

    fn source(text: &str) -> ScenarioSource {
        ScenarioSource::parse(text.to_owned(), "fast.yaml".to_owned()).unwrap()
    }

    /// A simulator on `db`'s world, as a separate process would build it
    /// (its own connection, its own cache).
    fn process(db: &std::path::Path, scenario: Option<&ScenarioSource>) -> Arc<Simulator> {
        let backend = EmbeddedBackend::open(db, EmbeddedConfig::default()).unwrap();
        let opened = backend.open_sim_world(DEFAULT_WORLD, scenario).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(opened.clock());
        Simulator::with_world(opened.scenario.scenario, clock, opened.world)
    }

    /// Two processes on one new file: the first creates the world, the
    /// second names no scenario and runs the stored one.
    fn two_processes(dir: &tempfile::TempDir) -> (std::path::PathBuf, [Arc<Simulator>; 2]) {
        let db = dir.path().join("world.db");
        let first = process(&db, Some(&source(FAST)));
        let second = process(&db, None);
        (db, [first, second])
    }

    fn request(wave: u32) -> StartRecoveryRequest {
        StartRecoveryRequest {
            source_servers: vec![SourceServerId::parse("s-1234567890abcdef0").unwrap()],
            is_drill: true,
            tags: BTreeMap::from([("ripcord:wave".to_owned(), wave.to_string())]),
            recovery_snapshots: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn a_job_started_by_one_process_is_seen_by_another() {
        let dir = tempfile::tempdir().unwrap();
        let (_, [launcher, poller]) = two_processes(&dir);
        assert_eq!(poller.scenario().seed, 3);

        let job = launcher.start_recovery(&request(1)).await.unwrap();
        let seen = poller
            .describe_jobs(std::slice::from_ref(&job.job_id))
            .await
            .unwrap();
        assert_eq!(seen.len(), 1, "the poller's simulator knows the job");
        assert_eq!(seen[0].job_id, job.job_id);

        // The same server cannot be started again from the second process:
        // the active job is in the one shared world.
        let again = poller.start_recovery(&request(1)).await.unwrap_err();
        assert_eq!(again.code, "ConflictException");

        // Both see every call, in order, and the same counts.
        let calls = launcher.start_recovery_calls();
        assert_eq!(calls.len(), 2);
        assert!(matches!(calls[0].outcome, StartOutcome::Created { .. }));
        assert!(matches!(calls[1].outcome, StartOutcome::Rejected { .. }));
        assert_eq!(launcher.calls(), poller.calls());
    }

    #[tokio::test]
    async fn a_call_that_only_reads_leaves_the_stored_world_alone() {
        // Reads count in their own rows: the world's JSON is not rewritten,
        // so no other process has to parse it again.
        let dir = tempfile::tempdir().unwrap();
        let (db, [a, b]) = two_processes(&dir);
        let job = a.start_recovery(&request(1)).await.unwrap();
        let generation = || {
            rusqlite::Connection::open(&db)
                .unwrap()
                .query_row("SELECT generation FROM sim_world", [], |r| {
                    r.get::<_, i64>(0)
                })
                .unwrap()
        };
        let written = generation();
        for sim in [&a, &b, &a] {
            sim.describe_jobs(std::slice::from_ref(&job.job_id))
                .await
                .unwrap();
        }
        assert_eq!(generation(), written);
        let calls = b.calls();
        assert_eq!(calls.get(&ripcord_sim::Operation::DescribeJobs), Some(&3));
        assert_eq!(calls.get(&ripcord_sim::Operation::StartRecovery), Some(&1));
        assert_eq!(a.calls(), calls);
    }

    #[tokio::test]
    async fn ids_continue_the_stream_across_processes() {
        // Two simulators alternating on one stored world issue the same ids
        // as one simulator alone: the generator's state is shared.
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("world.db");
        let a = process(&db, Some(&source(FAST)));
        let b = process(&db, None);
        let mut shared_ids = Vec::new();
        for (i, sim) in [&a, &b, &a].into_iter().enumerate() {
            let mut r = request(i as u32);
            r.source_servers =
                vec![SourceServerId::parse(&format!("s-1234567890abcdef{i}")).unwrap()];
            shared_ids.push(sim.start_recovery(&r).await.unwrap().job_id);
        }
        let alone = process(&dir.path().join("alone.db"), Some(&source(FAST)));
        let mut alone_ids = Vec::new();
        for i in 0..3u32 {
            let mut r = request(i);
            r.source_servers =
                vec![SourceServerId::parse(&format!("s-1234567890abcdef{i}")).unwrap()];
            alone_ids.push(alone.start_recovery(&r).await.unwrap().job_id);
        }
        assert_eq!(shared_ids, alone_ids);
    }

    #[test]
    fn a_different_scenario_for_an_existing_world_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("world.db");
        let backend = EmbeddedBackend::open(&db, EmbeddedConfig::default()).unwrap();
        assert!(backend.find_sim_world(DEFAULT_WORLD).unwrap().is_none());
        let first = backend
            .open_sim_world(DEFAULT_WORLD, Some(&source(FAST)))
            .unwrap();
        assert!(first.created);
        // The same scenario (even with other comments) is accepted.
        let same = backend
            .open_sim_world(DEFAULT_WORLD, Some(&source(&format!("# again\n{FAST}"))))
            .unwrap();
        assert!(!same.created);
        assert_eq!(same.origin, first.origin);
        let other = source("seed: 4\n");
        match backend.open_sim_world(DEFAULT_WORLD, Some(&other)) {
            Err(SimWorldError::ScenarioMismatch { stored, .. }) => {
                assert_eq!(stored, "scenario fast.yaml");
            }
            Err(e) => panic!("expected a scenario mismatch, got {e}"),
            Ok(_) => panic!("expected a scenario mismatch, the world was opened"),
        }
        // Another world name is another world.
        let second = backend.open_sim_world("other", Some(&other)).unwrap();
        assert!(second.created);
    }

    #[tokio::test]
    async fn a_result_is_pushed_once_by_pushers_in_two_processes() {
        use ripcord_sim::LaunchResultSink;
        #[derive(Default)]
        struct Recorder(Mutex<Vec<String>>);
        #[async_trait::async_trait]
        impl LaunchResultSink for Recorder {
            async fn launch_result(
                &self,
                _tags: &BTreeMap<String, String>,
                source_server_id: &SourceServerId,
                state: &str,
            ) {
                self.0
                    .lock()
                    .unwrap()
                    .push(format!("{source_server_id} {state}"));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("world.db");
        // 600x: the job's 11 simulated seconds take about 20 ms.
        let a = process(&db, Some(&source(FAST)));
        let b = process(&db, None);
        let recorder = Arc::new(Recorder::default());
        a.set_launch_result_sink(recorder.clone());
        b.set_launch_result_sink(recorder.clone());
        let pushers = [a.spawn_pusher(), b.spawn_pusher()];
        a.start_recovery(&request(1)).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while recorder.0.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Both pushers look several more times; neither pushes it again.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        for p in pushers {
            p.abort();
        }
        assert_eq!(
            *recorder.0.lock().unwrap(),
            ["s-1234567890abcdef0 LAUNCH_SUCCEEDED"]
        );
        assert_eq!(b.world_snapshot().unwrap().pushed_count(), 1);
    }
}
