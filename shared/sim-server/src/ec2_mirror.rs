//! The EC2 mirror: with `--ec2-endpoint` (moto), every recovery instance
//! the simulator launches also exists as a real EC2 instance there, so
//! Ripcord's EC2 adapter finds the instance ids DRS and SSM report.
//!
//! Before a StartRecovery reaches the simulator, the mirror runs one
//! instance per named server that will launch (known, outcome `launched`)
//! and has none reserved yet, tagged `ripcord:source-server-id` and `Name`
//! (the hostname), and reserves its id in the simulated world; the launch
//! job takes it. A rejected or throttled call leaves the reservation for
//! the retry, so retries do not pile up instances. TerminateRecoveryInstances
//! terminates the mirrored instances too.

use super::wire::ApiError;
use aws_sdk_ec2::types::{InstanceType, ResourceType, Tag, TagSpecification};
use ripcord::ids::SourceServerId;
use ripcord_sim::Simulator;

/// The tag that names an instance's source server.
pub const TAG_SOURCE_SERVER: &str = "ripcord:source-server-id";

/// An image moto knows (one of its default AMIs).
pub const DEFAULT_IMAGE_ID: &str = "ami-12c6146b";

/// Why the mirror could not launch an instance.
#[derive(Debug, thiserror::Error)]
#[error(
    "the EC2 mirror at {endpoint} could not launch an instance for source server {server}: {cause}; check that moto (or the endpoint given with --ec2-endpoint) is running and reachable"
)]
pub struct MirrorError {
    endpoint: String,
    server: SourceServerId,
    cause: ripcord::service_error::ServiceError,
}

pub(crate) struct Ec2Mirror {
    client: aws_sdk_ec2::Client,
    endpoint: String,
    image_id: String,
}

impl Ec2Mirror {
    pub(crate) fn new(client: aws_sdk_ec2::Client, endpoint: &str, image_id: &str) -> Self {
        Self {
            client,
            endpoint: endpoint.to_owned(),
            image_id: image_id.to_owned(),
        }
    }

    /// Makes sure every server of a StartRecovery that will launch has a
    /// real instance reserved. A failure is answered as a DRS 500: the
    /// simulator is not called, so no job exists.
    pub(crate) async fn prepare_launch(
        &self,
        sim: &Simulator,
        servers: &[SourceServerId],
    ) -> Result<(), ApiError> {
        let needed = sim.servers_needing_ec2_instances(servers)?;
        let mut reserved = Vec::with_capacity(needed.len());
        let mut failure = None;
        for server in needed {
            match self.run_instance(sim, &server).await {
                Ok(id) => reserved.push((server, id)),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // Keep what was launched even when a later server failed.
        sim.reserve_ec2_instance_ids(&reserved)?;
        match failure {
            None => Ok(()),
            Some(e) => {
                tracing::warn!(error = %e, "EC2 mirror launch failed");
                Err(ApiError::new("InternalServerException", e.to_string()))
            }
        }
    }

    /// Terminates the mirrored instances `ec2_ids` (TerminateRecoveryInstances
    /// succeeded in DRS). A failure here is logged, not answered: the DRS
    /// call did what it was asked, and a retry would find nothing to do.
    pub(crate) async fn terminate(&self, ec2_ids: &[String]) {
        if ec2_ids.is_empty() {
            return;
        }
        if let Err(e) = self
            .client
            .terminate_instances()
            .set_instance_ids(Some(ec2_ids.to_vec()))
            .send()
            .await
        {
            let e = ripcord_aws::error::service_error("ec2", "TerminateInstances", e);
            tracing::warn!(endpoint = %self.endpoint, error = %e, ?ec2_ids, "the EC2 mirror could not terminate instances; they keep running there");
        }
    }

    async fn run_instance(
        &self,
        sim: &Simulator,
        server: &SourceServerId,
    ) -> Result<String, MirrorError> {
        let spec = sim.scenario().server(server);
        let tags = TagSpecification::builder()
            .resource_type(ResourceType::Instance)
            .tags(
                Tag::builder()
                    .key(TAG_SOURCE_SERVER)
                    .value(server.as_str())
                    .build(),
            )
            .tags(
                Tag::builder()
                    .key("Name")
                    .value(sim.scenario().hostname(server))
                    .build(),
            )
            .build();
        let fail = |cause| MirrorError {
            endpoint: self.endpoint.clone(),
            server: server.clone(),
            cause,
        };
        let out = self
            .client
            .run_instances()
            .image_id(&self.image_id)
            .instance_type(InstanceType::from(spec.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .tag_specifications(tags)
            .send()
            .await
            .map_err(|e| fail(ripcord_aws::error::service_error("ec2", "RunInstances", e)))?;
        out.instances()
            .first()
            .and_then(|i| i.instance_id())
            .map(str::to_owned)
            .ok_or_else(|| {
                fail(ripcord::service_error::ServiceError::from_code(
                    "ec2",
                    "RunInstances",
                    "EmptyReservation",
                    "RunInstances answered without an instance",
                ))
            })
    }
}
