//! Queued starts: `ripcord start` and `POST /api/executions` put a
//! StartExecution on the launch queue, and there is no execution record
//! until a launch worker decides it. The submitter marks the start as
//! submitted ([`Submission`], beside the executions, on either backend);
//! `ripcord status`, `GET /api/executions/{id}` and the dashboard read the
//! marker when there is no execution yet, and say it is queued, not yet
//! started, with what to check ([`QueuedView`]).

use ripcord::event::Envelope;
use ripcord::ids::ExecutionId;
use ripcord::ports::store::StoreError;
use ripcord::ports::{QueueName, Submission, SubmissionLog, WorkerHeartbeats};
use ripcord::status::{QueuedView, queued_view};
use ripcord::time::Timestamp;

/// Marks `start` (a StartExecution already on the launch queue) as
/// submitted. A failure only costs the "queued" answer before the
/// execution exists, so it is logged, not returned: the start stands.
pub async fn mark_submitted(submissions: &dyn SubmissionLog, start: &Envelope) {
    let Some(submission) = Submission::of(start) else {
        return;
    };
    if let Err(error) = submissions.record_submission(&submission).await {
        tracing::warn!(
            execution_id = %start.execution_id,
            %error,
            "could not mark the start as queued; until a launch worker takes it up, status will not find it"
        );
    }
}

/// The queued view of `id` if its start was submitted; call it only when
/// there is no execution `id` (an execution, once it exists, is the truth).
pub async fn queued(
    submissions: &dyn SubmissionLog,
    heartbeats: &dyn WorkerHeartbeats,
    id: ExecutionId,
    deployment: &str,
    now: Timestamp,
) -> Result<Option<QueuedView>, StoreError> {
    let Some(submission) = submissions.load_submission(id).await? else {
        return Ok(None);
    };
    let wall_now = chrono::Utc::now();
    let last_poll = heartbeats
        .list_heartbeats(wall_now)
        .await?
        .into_iter()
        .filter(|h| h.kind == QueueName::Launch && h.running())
        .map(|h| h.last_poll)
        .max();
    Ok(Some(queued_view(
        &submission,
        last_poll,
        deployment,
        now,
        wall_now,
    )))
}

/// The queued view as `ripcord status` prints it.
pub fn text(view: &QueuedView) -> String {
    let mode = serde_json::to_value(view.mode)
        .ok()
        .and_then(|m| m.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "Execution {id}: QUEUED, not yet started\n\
         Plan:         {plan} ({mode})\n\
         Submitted:    {at} by {by}\n\
         What to check: {check}\n",
        id = view.execution_id,
        plan = view.plan_name,
        at = view.submitted_at.format("%Y-%m-%d %H:%M:%S UTC"),
        by = view.requested_by,
        check = view.what_to_check,
    )
}
