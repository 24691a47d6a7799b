//! The embedded [`Announcer`]: a table standing in for the EventBridge bus,
//! read back by `ripcord` commands and by tests.

use super::metrics::storage_error;
use crate::connection::Shared;
use crate::error::EmbeddedError;
use async_trait::async_trait;
use ripcord::ports::announce::{Announcement, Announcer};
use ripcord::service_error::ServiceError;
use rusqlite::{TransactionBehavior, params};
use std::sync::Arc;

/// The embedded announcer. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedAnnouncer {
    shared: Arc<Shared>,
}

impl EmbeddedAnnouncer {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Every announcement made, oldest first.
    pub fn announced(&self) -> Result<Vec<Announcement>, EmbeddedError> {
        let bodies: Vec<String> = {
            let conn = self.shared.db.lock();
            let mut select = conn.prepare_cached("SELECT body FROM announcements ORDER BY seq")?;
            select
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        bodies
            .iter()
            .map(|b| {
                serde_json::from_str(b)
                    .map_err(|e| EmbeddedError::Corrupt(format!("announcement: {e}")))
            })
            .collect()
    }
}

#[async_trait]
impl Announcer for EmbeddedAnnouncer {
    async fn announce(&self, announcements: &[Announcement]) -> Result<(), ServiceError> {
        let error = |e| storage_error("embedded-announcer", "PutEvents", e);
        let rows = announcements
            .iter()
            .map(|a| {
                let body = serde_json::to_string(a).unwrap_or_default();
                (a.detail_type(), a.execution_id().to_string(), body)
            })
            .collect::<Vec<_>>();
        let mut conn = self.shared.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(error)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO announcements (detail_type, execution_id, body) VALUES (?1, ?2, ?3)",
                )
                .map_err(error)?;
            for (detail_type, execution_id, body) in &rows {
                insert
                    .execute(params![detail_type, execution_id, body])
                    .map_err(error)?;
            }
        }
        tx.commit().map_err(error)
    }
}
