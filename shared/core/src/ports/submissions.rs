//! Submissions: a start that was queued (`ripcord start`, `POST
//! /api/executions`) has no execution record until a launch worker decides
//! its StartExecution. The submitter writes a small marker beside the
//! executions, so that `ripcord status` and `GET /api/executions/{id}` can
//! say "queued, not yet started" (and since when, by whom) instead of "no
//! such execution". A marker never stands for an execution: readers look
//! for the execution first and read the marker only when there is none.
//! Markers are small and written once; DynamoDB expires them by TTL after
//! [`Submission::RETENTION`].

use crate::event::{Envelope, Event};
use crate::ids::ExecutionId;
use crate::plan::Mode;
use crate::ports::store::{CreateOutcome, StoreError};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What was submitted, by whom and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub execution_id: ExecutionId,
    pub plan_name: String,
    pub mode: Mode,
    pub requested_by: String,
    /// When the StartExecution was queued (the executions' clock).
    pub submitted_at: Timestamp,
}

impl Submission {
    /// How long a marker is kept: long past any launch worker's backlog.
    pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(7);

    /// The submission a StartExecution envelope makes; None for any other event.
    pub fn of(start: &Envelope) -> Option<Submission> {
        match &start.event {
            Event::StartExecution {
                plan, requested_by, ..
            } => Some(Submission {
                execution_id: start.execution_id,
                plan_name: plan.name.clone(),
                mode: plan.mode,
                requested_by: requested_by.clone(),
                submitted_at: start.created_at,
            }),
            _ => None,
        }
    }
}

/// Where submission markers are kept: beside the executions, in the same store.
#[async_trait]
pub trait SubmissionLog: Send + Sync {
    /// Records a submission unless one with its execution id exists (a
    /// conditional put): then nothing is written and `AlreadyExists` is
    /// answered, so a retried start changes nothing.
    async fn record_submission(&self, submission: &Submission)
    -> Result<CreateOutcome, StoreError>;

    async fn load_submission(&self, id: ExecutionId) -> Result<Option<Submission>, StoreError>;
}
