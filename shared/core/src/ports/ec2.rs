//! The EC2 port: read the instances DRS launched and their status checks.
//! The values it returns are in [`crate::services::ec2`], re-exported here.

use crate::service_error::ServiceError;
use async_trait::async_trait;

pub use crate::services::ec2::*;

#[async_trait]
pub trait InstanceDirectory: Send + Sync {
    /// DescribeInstances in batches; unknown ids are left out of the answer.
    async fn describe_instances(&self, ids: &[String]) -> Result<Vec<Ec2Instance>, ServiceError>;
    async fn describe_instance_status(
        &self,
        ids: &[String],
    ) -> Result<Vec<InstanceStatus>, ServiceError>;
}
