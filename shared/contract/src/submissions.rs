//! The [`SubmissionLog`] contract: the first submission of an execution id
//! is kept (a retried start changes nothing), and an id never submitted
//! loads as none. Run each suite on an empty log.

use chrono::SubsecRound;
use ripcord::ids::ExecutionId;
use ripcord::plan::Mode;
use ripcord::ports::store::CreateOutcome;
use ripcord::ports::{Submission, SubmissionLog};

fn submission(id: ExecutionId, by: &str) -> Submission {
    Submission {
        execution_id: id,
        plan_name: "payments-drill".to_owned(),
        mode: Mode::Drill,
        requested_by: by.to_owned(),
        // Now: a store may treat a marker past its retention as gone.
        submitted_at: chrono::Utc::now().trunc_subsecs(0),
    }
}

/// A second submission of the same id writes nothing; other ids load as none.
pub async fn first_submission_of_an_id_is_kept(log: &dyn SubmissionLog) {
    let id = ExecutionId::new_random();
    let first = submission(id, "alice");
    assert_eq!(
        log.record_submission(&first).await.expect("record"),
        CreateOutcome::Created
    );
    assert_eq!(
        log.record_submission(&submission(id, "bob"))
            .await
            .expect("record again"),
        CreateOutcome::AlreadyExists
    );
    let kept = log
        .load_submission(id)
        .await
        .expect("load")
        .expect("the submission is kept");
    assert_eq!(kept, first);
    let other = ExecutionId::new_random();
    assert!(log.load_submission(other).await.expect("load").is_none());
}
