//! The instance directory on Amazon EC2: the launched recovery instances'
//! addresses, type and zone (DescribeInstances) and their status checks
//! (DescribeInstanceStatus), in batches, every page.
//!
//! EC2 refuses a whole call when one of its `InstanceIds` is unknown
//! (`InvalidInstanceID.NotFound`), and a just-launched instance can be
//! unknown for a while (eventual consistency). The port wants unknown ids
//! left out instead, so DescribeInstances filters on `instance-id` (a filter
//! never fails on an unknown id) and DescribeInstanceStatus, which has no
//! such filter, asks again with only the ids DescribeInstances found.

use crate::error::service_error;
use crate::timestamps::from_sdk;
use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, Instance, InstanceStatus as SdkStatus, InstanceStatusSummary};
use ripcord::ports::InstanceDirectory;
use ripcord::ports::ec2::{Ec2Instance, InstanceCheck, InstanceStatus};
use ripcord::service_error::ServiceError;

const SERVICE: &str = "ec2";

/// Instance ids per DescribeInstances call, as values of one `instance-id`
/// filter (EC2 takes up to 200 values per filter).
pub const MAX_IDS_PER_DESCRIBE: usize = 200;
/// DescribeInstanceStatus takes at most 100 explicit instance ids.
pub const MAX_IDS_PER_STATUS: usize = 100;

/// `InstanceDirectory` over the EC2 API.
#[derive(Clone, Debug)]
pub struct Ec2Directory {
    client: Client,
    describe_batch: usize,
    status_batch: usize,
}

impl Ec2Directory {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            describe_batch: MAX_IDS_PER_DESCRIBE,
            status_batch: MAX_IDS_PER_STATUS,
        }
    }

    /// Smaller batches than the API allows (at least 1, at most the API's
    /// limits): for tests that need several batches of a few instances.
    pub fn with_batch_size(mut self, ids_per_call: usize) -> Self {
        self.describe_batch = ids_per_call.clamp(1, MAX_IDS_PER_DESCRIBE);
        self.status_batch = ids_per_call.clamp(1, MAX_IDS_PER_STATUS);
        self
    }

    /// DescribeInstances for all instances (`None`) or those of one
    /// `instance-id` filter, every page.
    async fn describe_filtered(
        &self,
        ids: Option<&[String]>,
    ) -> Result<Vec<Ec2Instance>, ServiceError> {
        let mut request = self.client.describe_instances().max_results(1000);
        if let Some(ids) = ids {
            request = request.filters(
                Filter::builder()
                    .name("instance-id")
                    .set_values(Some(ids.to_vec()))
                    .build(),
            );
        }
        let mut pages = request.into_paginator().send();
        let mut instances = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| service_error(SERVICE, "DescribeInstances", e))?;
            instances.extend(
                page.reservations
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|r| r.instances.unwrap_or_default())
                    .filter_map(ec2_instance),
            );
        }
        Ok(instances)
    }

    /// DescribeInstanceStatus for all instances (`None`) or these ids,
    /// every page, stopped and pending instances included.
    async fn status_of(&self, ids: Option<&[String]>) -> Result<Vec<InstanceStatus>, ServiceError> {
        let mut pages = self
            .client
            .describe_instance_status()
            .include_all_instances(true)
            .set_instance_ids(ids.map(<[String]>::to_vec))
            .into_paginator()
            .send();
        let mut statuses = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| service_error(SERVICE, "DescribeInstanceStatus", e))?;
            statuses.extend(
                page.instance_statuses
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(instance_status),
            );
        }
        Ok(statuses)
    }
}

#[async_trait]
impl InstanceDirectory for Ec2Directory {
    /// No ids means every instance, as in the simulator.
    async fn describe_instances(&self, ids: &[String]) -> Result<Vec<Ec2Instance>, ServiceError> {
        if ids.is_empty() {
            return self.describe_filtered(None).await;
        }
        let mut instances = Vec::new();
        for chunk in ids.chunks(self.describe_batch) {
            instances.extend(self.describe_filtered(Some(chunk)).await?);
        }
        Ok(instances)
    }

    /// No ids means every instance, as in the simulator.
    async fn describe_instance_status(
        &self,
        ids: &[String],
    ) -> Result<Vec<InstanceStatus>, ServiceError> {
        if ids.is_empty() {
            return self.status_of(None).await;
        }
        let mut statuses = Vec::new();
        for chunk in ids.chunks(self.status_batch) {
            match self.status_of(Some(chunk)).await {
                Ok(found) => statuses.extend(found),
                Err(e) if e.code == "InvalidInstanceID.NotFound" => {
                    let known: Vec<String> = self
                        .describe_filtered(Some(chunk))
                        .await?
                        .into_iter()
                        .map(|i| i.instance_id)
                        .collect();
                    if !known.is_empty() {
                        statuses.extend(self.status_of(Some(&known)).await?);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(statuses)
    }
}

/// An instance without an id cannot be matched to anything and is left out.
fn ec2_instance(instance: Instance) -> Option<Ec2Instance> {
    Some(Ec2Instance {
        instance_id: instance.instance_id?,
        instance_type: instance
            .instance_type
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        // EC2's lower-case names (pending, running, ...), new ones kept as sent.
        state: instance
            .state
            .and_then(|s| s.name)
            .map_or_else(|| "unknown".to_owned(), |n| n.as_str().to_owned()),
        private_ip_address: instance.private_ip_address.filter(|ip| !ip.is_empty()),
        public_ip_address: instance.public_ip_address.filter(|ip| !ip.is_empty()),
        availability_zone: instance.placement.and_then(|p| p.availability_zone),
        launch_time: instance.launch_time.as_ref().and_then(from_sdk),
    })
}

fn instance_status(status: SdkStatus) -> Option<InstanceStatus> {
    Some(InstanceStatus {
        instance_id: status.instance_id?,
        instance_status: summary(status.instance_status),
        system_status: summary(status.system_status),
    })
}

/// `ok`, `impaired`, `initializing`, `insufficient-data`, `not-applicable`;
/// a missing summary is `insufficient-data`, which is not `ok`.
fn summary(summary: Option<InstanceStatusSummary>) -> InstanceCheck {
    summary
        .and_then(|s| s.status)
        .map_or(InstanceCheck::InsufficientData, |s| s.as_str().into())
}
