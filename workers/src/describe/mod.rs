//! Reads of DRS and EC2 shared across the waves a worker process observes,
//! so that the calls a launch costs do not grow with the number of waves
//! (docs/architecture.md, "Batched reads"):
//!
//! - [`JobWatch`]: one DescribeJobs for every job the process watches,
//!   serving every poll due at or before the time it was made;
//! - [`Gather`]: DescribeRecoveryInstances and EC2 DescribeInstances asked
//!   for within a few milliseconds of each other go out as one call.
//!
//! Both hold state only; the calls go through the ports passed in, so a
//! test that wraps a port still sees every call.

mod gather;
mod jobs;

pub use gather::Gather;
pub use jobs::JobWatch;

use ripcord::ports::drs::RecoveryInstance;
use ripcord::ports::ec2::Ec2Instance;
use std::sync::Arc;
use std::time::Duration;

/// DescribeJobs takes at most 1,000 job ids (docs/aws-facts.md).
pub const MAX_JOB_IDS_PER_DESCRIBE: usize = 1000;
/// DescribeRecoveryInstances filters at most 200 recovery instance ids.
pub const MAX_RECOVERY_INSTANCES_PER_DESCRIBE: usize = 200;
/// EC2 DescribeInstances' `instance-id` filter takes at most 200 values.
pub const MAX_INSTANCES_PER_DESCRIBE: usize = 200;
/// How long a gathered call waits for more ids before it goes out.
pub const GATHER_WINDOW: Duration = Duration::from_millis(10);

/// The shared reads of one worker process.
pub struct Describes {
    pub jobs: JobWatch,
    pub recovery_instances: Arc<Gather<RecoveryInstance>>,
    pub instances: Arc<Gather<Ec2Instance>>,
}

impl Default for Describes {
    fn default() -> Self {
        Self::with_window(GATHER_WINDOW)
    }
}

impl Describes {
    /// Reads gathered over `window` (zero: only calls made at the same
    /// moment share; no timer is needed, for tests on their own executor).
    pub fn with_window(window: Duration) -> Self {
        Self {
            jobs: JobWatch::default(),
            recovery_instances: Arc::new(Gather::new(
                window,
                MAX_RECOVERY_INSTANCES_PER_DESCRIBE,
                |ri: &RecoveryInstance| ri.recovery_instance_id.clone(),
            )),
            instances: Arc::new(Gather::new(
                window,
                MAX_INSTANCES_PER_DESCRIBE,
                |i: &Ec2Instance| i.instance_id.clone(),
            )),
        }
    }
}
