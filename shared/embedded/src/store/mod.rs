//! The embedded store: executions ([`executions`]), workers' heartbeats
//! ([`heartbeats`]), the runbook trigger log ([`triggers`]), the markers of
//! queued starts ([`submissions`]) and the DRS
//! capacity ledger ([`capacity`]), each in its
//! own tables of the file, each record held as JSON. This module holds what
//! they share: the handle, and how errors, JSON and times are written.

mod capacity;
mod executions;
mod heartbeats;
mod submissions;
mod triggers;

use crate::connection::Shared;
use ripcord::ports::store::StoreError;
use ripcord::status_model::ExecutionStatus;
use ripcord::time::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The embedded store: executions, heartbeats and triggers. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedStore {
    shared: Arc<Shared>,
}

impl EmbeddedStore {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

/// A storage failure, with what to check about the file.
fn storage_failed(detail: impl std::fmt::Display) -> StoreError {
    StoreError::Storage(format!("{detail}; {}", crate::connection::FILE_HINT))
}

fn storage(e: rusqlite::Error) -> StoreError {
    StoreError::Storage(format!("{e}; {}", crate::connection::hint_for(&e)))
}

fn to_json<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| storage_failed(format!("cannot encode {what} as JSON: {e}")))
}

fn from_json<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A unit-like enum as its serde name (`IN_PROGRESS`), for the status columns.
fn status_text<T: Serialize>(status: &T) -> Result<String, StoreError> {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        other => Err(storage_failed(format!(
            "a status did not encode as a name: {other:?}"
        ))),
    }
}

/// RFC 3339 with a fixed nine-digit fraction, so text order is time order.
fn time_text(t: &Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A status column read back (`IN_PROGRESS` → the status).
fn parse_status(text: &str) -> Option<ExecutionStatus> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

fn version_of(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}

/// The version a save writes. An `expected` beyond what SQLite stores can
/// match no row, so it is a conflict like any other stale version.
fn next_version(what: &str, expected: u64) -> Result<i64, StoreError> {
    i64::try_from(expected)
        .ok()
        .and_then(|v| v.checked_add(1))
        .ok_or_else(|| StoreError::VersionConflict {
            what: what.to_owned(),
            expected,
        })
}
