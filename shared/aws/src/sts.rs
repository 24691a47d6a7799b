//! Who the AWS credentials belong to: STS GetCallerIdentity's ARN, which
//! the CLI records beside the name of whoever starts, cancels or approves
//! an execution on AWS (an auditor trusts the ARN, not a name typed on a
//! command line). GetCallerIdentity needs no IAM permission.

use crate::config::{AwsSettings, load_sdk_config};
use crate::error::service_error;
use ripcord::service_error::ServiceError;

/// The ARN of the caller the standard credential chain resolves to, e.g.
/// `arn:aws:sts::123456789012:assumed-role/DR-Operator/alice`.
pub async fn caller_arn(settings: &AwsSettings) -> Result<String, ServiceError> {
    let config = load_sdk_config(settings).await;
    let identity = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| service_error("sts", "GetCallerIdentity", e))?;
    identity.arn.ok_or_else(|| {
        ServiceError::from_code(
            "sts",
            "GetCallerIdentity",
            "MissingArn",
            "GetCallerIdentity answered without an ARN",
        )
    })
}
