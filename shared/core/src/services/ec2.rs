//! What Ripcord needs of EC2: the launched instance's details and its
//! status checks.

use crate::services::values::service_values;
use crate::time::Timestamp;
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

service_values! {
    /// One of DescribeInstanceStatus' two checks (the instance's reachability,
    /// or the system's) as EC2 summarises it.
    pub enum InstanceCheck {
        Ok = "ok",
        Impaired = "impaired",
        Initializing = "initializing",
        InsufficientData = "insufficient-data",
        NotApplicable = "not-applicable",
    }
}

/// DescribeInstanceStatus for one instance: both of its checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceStatus {
    pub instance_id: String,
    pub instance_status: InstanceCheck,
    pub system_status: InstanceCheck,
}

impl InstanceStatus {
    /// Both checks passed.
    pub fn is_ok(&self) -> bool {
        self.instance_status == InstanceCheck::Ok && self.system_status == InstanceCheck::Ok
    }

    /// A check failed: the instance is not going to pass on its own.
    pub fn is_impaired(&self) -> bool {
        self.instance_status == InstanceCheck::Impaired
            || self.system_status == InstanceCheck::Impaired
    }
}
