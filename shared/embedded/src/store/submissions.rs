//! The embedded [`SubmissionLog`]: one row per queued start, inserted only
//! if absent, in its own table (never read as an execution).

use super::{EmbeddedStore, from_json, storage, time_text, to_json};
use async_trait::async_trait;
use ripcord::ids::ExecutionId;
use ripcord::ports::store::{CreateOutcome, StoreError};
use ripcord::ports::{Submission, SubmissionLog};
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl SubmissionLog for EmbeddedStore {
    async fn record_submission(
        &self,
        submission: &Submission,
    ) -> Result<CreateOutcome, StoreError> {
        let body = to_json("the submission", submission)?;
        let conn = self.shared.db.lock();
        let inserted = conn
            .prepare_cached(
                "INSERT INTO submissions (execution_id, submitted_at, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (execution_id) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    submission.execution_id.to_string(),
                    time_text(&submission.submitted_at),
                    body
                ])
            })
            .map_err(storage)?;
        Ok(if inserted == 0 {
            CreateOutcome::AlreadyExists
        } else {
            CreateOutcome::Created
        })
    }

    async fn load_submission(&self, id: ExecutionId) -> Result<Option<Submission>, StoreError> {
        let body: Option<String> = {
            let conn = self.shared.db.lock();
            conn.prepare_cached("SELECT body FROM submissions WHERE execution_id = ?1")
                .and_then(|mut s| {
                    s.query_row(params![id.to_string()], |r| r.get(0))
                        .optional()
                })
                .map_err(storage)?
        };
        body.map(|b| from_json(&format!("the submission of {id}"), &b))
            .transpose()
    }
}
