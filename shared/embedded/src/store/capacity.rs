//! The embedded [`CapacityLedger`]: one row of the `capacity_ledger` table,
//! its body JSON, written only where its version is the one read (version
//! 0 is "no row yet", so the first writer inserts).

use super::{EmbeddedStore, from_json, next_version, storage, to_json, version_of};
use async_trait::async_trait;
use ripcord::capacity::Ledger;
use ripcord::ports::capacity::CapacityLedger;
use ripcord::ports::store::{StoreError, Versioned};
use rusqlite::{OptionalExtension, params};

const WHAT: &str = "the DRS capacity ledger";
/// The ledger's row: one per deployment (one file).
const NAME: &str = "drs";

#[async_trait]
impl CapacityLedger for EmbeddedStore {
    async fn load_ledger(&self) -> Result<Versioned<Ledger>, StoreError> {
        let row: Option<(i64, String)> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached("SELECT version, body FROM capacity_ledger WHERE name = ?1")
                .and_then(|mut s| {
                    s.query_row(params![NAME], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(storage)?
        };
        match row {
            None => Ok(Versioned::default()),
            Some((version, body)) => Ok(Versioned {
                record: from_json(WHAT, &body)?,
                version: version_of(version),
            }),
        }
    }

    async fn save_ledger(&self, ledger: &Ledger, expected: u64) -> Result<u64, StoreError> {
        let body = to_json(WHAT, ledger)?;
        let next = next_version(WHAT, expected)?;
        let conn = self.shared.db.lock();
        let changed = if expected == 0 {
            conn.prepare_cached(
                "INSERT INTO capacity_ledger (name, version, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![NAME, next, body]))
        } else {
            conn.prepare_cached(
                "UPDATE capacity_ledger SET version = ?3, body = ?4
                 WHERE name = ?1 AND version = ?2",
            )
            .and_then(|mut s| s.execute(params![NAME, next - 1, next, body]))
        }
        .map_err(storage)?;
        if changed == 0 {
            return Err(StoreError::VersionConflict {
                what: WHAT.to_owned(),
                expected,
            });
        }
        Ok(version_of(next))
    }
}
