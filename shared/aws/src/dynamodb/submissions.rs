//! The DynamoDB [`SubmissionLog`]: one small item per queued start, put
//! only if absent, under its own key prefix (never read as an execution),
//! expired by TTL [`Submission::RETENTION`] after it was submitted.

use super::*;
use ripcord::ports::{Submission, SubmissionLog};

const KIND_SUBMISSION: &str = "SUBMISSION";

#[async_trait]
impl SubmissionLog for DynamoStore {
    async fn record_submission(
        &self,
        submission: &Submission,
    ) -> Result<CreateOutcome, StoreError> {
        let what = format!("the submission of {}", submission.execution_id);
        let mut item = key(
            submission_pk(submission.execution_id),
            KIND_SUBMISSION.to_owned(),
        );
        item.extend([
            (
                ATTR_EXPIRES_AT.to_owned(),
                AttributeValue::N(
                    (submission.submitted_at + Submission::RETENTION)
                        .timestamp()
                        .to_string(),
                ),
            ),
            (
                ATTR_BODY.to_owned(),
                AttributeValue::S(body_of(&what, submission)?),
            ),
        ]);
        self.put_new(item).await
    }

    async fn load_submission(&self, id: ExecutionId) -> Result<Option<Submission>, StoreError> {
        let item = self
            .get(submission_pk(id), KIND_SUBMISSION.to_owned())
            .await?;
        item.map(|item| decode_body(&item, &format!("the submission of {id}")))
            .transpose()
    }
}

fn submission_pk(id: ExecutionId) -> String {
    format!("{KIND_SUBMISSION}#{id}")
}
