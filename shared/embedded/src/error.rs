//! What can go wrong opening or reading the embedded database, each error
//! with what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "cannot open the Ripcord database {path}: {source}; check that its folder exists and is writable"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "cannot update the schema of the Ripcord database {path} (step {step}): {source}; restore a backup or start with a new file"
    )]
    Migration {
        path: PathBuf,
        step: usize,
        source: rusqlite::Error,
    },
    #[error(
        "the Ripcord database {path} has schema version {found}, newer than this ripcord understands ({supported}); upgrade ripcord or use another file"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("reading the Ripcord database failed: {0}; check that the file is not corrupt")]
    Storage(#[from] rusqlite::Error),
    #[error(
        "a row of the Ripcord database could not be read: {0}; it was written by an incompatible version of ripcord"
    )]
    Corrupt(String),
}
