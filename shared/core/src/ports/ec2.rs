//! What Ripcord needs of EC2: the launched instance's details and its
//! status checks.

use crate::service_error::ServiceError;
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ec2Instance {
    pub instance_id: String,
    pub instance_type: String,
    pub state: String,
    pub private_ip_address: Option<String>,
    pub public_ip_address: Option<String>,
    pub availability_zone: Option<String>,
    pub launch_time: Option<Timestamp>,
}

/// DescribeInstanceStatus: `ok`, `impaired`, `initializing`, ...
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceStatus {
    pub instance_id: String,
    pub instance_status: String,
    pub system_status: String,
}

impl InstanceStatus {
    pub fn is_ok(&self) -> bool {
        self.instance_status == "ok" && self.system_status == "ok"
    }
}

#[async_trait]
pub trait InstanceDirectory: Send + Sync {
    /// DescribeInstances in batches; unknown ids are left out of the answer.
    async fn describe_instances(&self, ids: &[String]) -> Result<Vec<Ec2Instance>, ServiceError>;
    async fn describe_instance_status(
        &self,
        ids: &[String],
    ) -> Result<Vec<InstanceStatus>, ServiceError>;
}
