//! Performs the calls of a wave's drill clean-up (`Effect::Cleanup`) and
//! turns each outcome into the `CleanupWave` step `decide` expects next.
//! The reads go through the process's shared reads (`describe/`): the
//! TERMINATE job is watched like a launch job, and DescribeRecoveryInstances
//! is gathered with other waves'.

use crate::ports::Ports;
use ripcord::cleanup::{CleanupEffect, CleanupStep};
use ripcord::ports::drs::RecoveryInstance;
use ripcord::service_error::ServiceError;

/// Performs `effect` and returns the step to decide next.
pub async fn perform(ports: &Ports, effect: &CleanupEffect) -> CleanupStep {
    match effect {
        CleanupEffect::Check {
            tries,
            recovery_instance_ids,
        } => match recovery_instances(ports, recovery_instance_ids).await {
            Ok(instances) => CleanupStep::Checked {
                tries: *tries,
                instances,
            },
            Err(error) => CleanupStep::CheckFailed {
                tries: *tries,
                error,
            },
        },
        CleanupEffect::FindLeftovers {
            tries,
            source_server_ids,
        } => match ports
            .drs
            .describe_recovery_instances_of_servers(source_server_ids)
            .await
        {
            Ok(instances) => CleanupStep::LeftoversFound {
                tries: *tries,
                instances,
            },
            Err(error) => CleanupStep::CheckFailed {
                tries: *tries,
                error,
            },
        },
        CleanupEffect::Terminate {
            tries,
            recovery_instance_ids,
        } => {
            tracing::info!(
                tries,
                ids = ?recovery_instance_ids,
                "terminating recovery instances (the wave's own, or earlier drills' before it launches)"
            );
            match ports
                .drs
                .terminate_recovery_instances(recovery_instance_ids)
                .await
            {
                Ok(job_id) => CleanupStep::Terminating {
                    tries: *tries,
                    job_id,
                },
                Err(error) => CleanupStep::TerminateFailed {
                    tries: *tries,
                    error,
                },
            }
        }
        CleanupEffect::Observe {
            seq,
            job_id,
            recovery_instance_ids,
            fresh_since,
        } => {
            let observed = async {
                let job = ports
                    .describes
                    .jobs
                    .job(&*ports.drs, &*ports.clock, job_id, *fresh_since)
                    .await?;
                let remaining = recovery_instances(ports, recovery_instance_ids).await?;
                Ok::<_, ServiceError>((job, remaining))
            };
            match observed.await {
                Ok((job, remaining)) => CleanupStep::Observed {
                    seq: *seq,
                    job,
                    remaining,
                },
                Err(error) => CleanupStep::ObserveFailed { seq: *seq, error },
            }
        }
    }
}

/// The recovery instances among `ids` that DRS still has.
async fn recovery_instances(
    ports: &Ports,
    ids: &[String],
) -> Result<Vec<RecoveryInstance>, ServiceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let drs = ports.drs.clone();
    ports
        .describes
        .recovery_instances
        .get(ids, move |ids| {
            let drs = drs.clone();
            Box::pin(async move { drs.describe_recovery_instances(&ids).await })
        })
        .await
}
