//! The call counts of a simulated world stored in the embedded database
//! (`ripcord sim calls`, the benchmarks' call figures), kept in their own
//! small rows of `sim_calls` rather than in the world's JSON: every
//! simulator call counts, but most only read, and a count in the JSON would
//! make each of them rewrite the whole world under the file's write lock.

use ripcord_sim::{Operation, SimState, SimWorldError};
use rusqlite::{Connection, params};
use std::collections::BTreeMap;

/// Calls per operation, and injected faults per (operation, error code).
pub(crate) type Counts = (BTreeMap<Operation, u64>, BTreeMap<(Operation, String), u64>);

/// The `fault` column of the row that counts every call of an operation
/// (the others count the faults injected with that error code). Operations
/// are stored by their AWS names, [`Operation::as_str`], which their serde
/// names equal.
const ALL_CALLS: &str = "";

fn storage(e: rusqlite::Error) -> SimWorldError {
    SimWorldError::Storage(e.to_string())
}

fn corrupt(world: &str, reason: String) -> SimWorldError {
    SimWorldError::Corrupt {
        world: world.to_owned(),
        reason,
    }
}

fn parse_operation(world: &str, name: String) -> Result<Operation, SimWorldError> {
    serde_json::from_value(serde_json::Value::String(name.clone()))
        .map_err(|e| corrupt(world, format!("counted operation {name:?}: {e}")))
}

/// The counts stored for `world`.
pub(crate) fn load(conn: &Connection, world: &str) -> Result<Counts, SimWorldError> {
    let mut stmt = conn
        .prepare_cached("SELECT operation, fault, count FROM sim_calls WHERE world = ?1")
        .map_err(storage)?;
    let rows = stmt
        .query_map([world], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(storage)?;
    let (mut calls, mut faults) = (BTreeMap::new(), BTreeMap::new());
    for row in rows {
        let (operation, fault, count) = row.map_err(storage)?;
        let operation = parse_operation(world, operation)?;
        let count = u64::try_from(count).unwrap_or(0);
        if fault == ALL_CALLS {
            calls.insert(operation, count);
        } else {
            faults.insert((operation, fault), count);
        }
    }
    Ok((calls, faults))
}

/// Adds what `state` counted since `before` to the stored counts; whether
/// there was anything to add.
pub(crate) fn save(
    conn: &Connection,
    world: &str,
    before: &Counts,
    state: &SimState,
) -> Result<bool, SimWorldError> {
    let calls = state.calls().iter().map(|(op, n)| {
        let was = before.0.get(op).copied().unwrap_or(0);
        (*op, ALL_CALLS, n.saturating_sub(was))
    });
    let faults = state.faults_injected().iter().map(|((op, code), n)| {
        let was = before.1.get(&(*op, code.clone())).copied().unwrap_or(0);
        (*op, code.as_str(), n.saturating_sub(was))
    });
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO sim_calls (world, operation, fault, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (world, operation, fault) DO UPDATE SET count = count + excluded.count",
        )
        .map_err(storage)?;
    let mut added = false;
    for (operation, fault, delta) in calls.chain(faults).filter(|(_, _, d)| *d > 0) {
        let delta = i64::try_from(delta).unwrap_or(i64::MAX);
        stmt.execute(params![world, operation.as_str(), fault, delta])
            .map_err(storage)?;
        added = true;
    }
    Ok(added)
}
