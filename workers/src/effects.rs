//! Performs the effects `decide` returns, through the ports, and turns each
//! outcome into the result event the state machine expects next. Reads are
//! batched; StartRecovery and SendCommand look for earlier calls by tag or
//! comment first when asked to (a retry after an ambiguous failure).

use crate::ports::Ports;
use ripcord::capacity::{Admission, ServerClaim, ServerHold};
use ripcord::effect_results::{SEARCH_MARGIN, result_of};
use ripcord::event::{Envelope, Event, PostLaunchObservation, WaveObservation};
use ripcord::ids::SourceServerId;
use ripcord::machine::{CommandPurpose, Effect};
use ripcord::ports::drs::DrsLaunchStatus;
use ripcord::ports::ssm::SendCommandRequest;
use ripcord::service_error::{ErrorClass, ServiceError};
use ripcord::time::Timestamp;
use std::collections::BTreeSet;

/// Performs `effect` (the `index`-th of `cause`'s decision) and returns the
/// result event to decide next.
pub async fn perform(ports: &Ports, cause: &Envelope, index: usize, effect: &Effect) -> Envelope {
    let now = ports.clock.now();
    let event = match effect {
        Effect::Admit { tries, claim } => {
            let tries = *tries;
            match ports.capacity.admit(claim, &ports.quotas, now).await {
                Ok(Admission::Granted) => Event::LaunchAdmitted { tries },
                Ok(Admission::Wait(wait)) => Event::LaunchWaiting { tries, wait },
                Ok(Admission::TooBig(reason)) => Event::LaunchRefused { tries, reason },
                Err(e) => Event::AdmissionFailed {
                    tries,
                    error: e.to_string(),
                },
            }
        }
        Effect::ClaimServers {
            tries,
            execution_id,
            recovery,
            since,
            expires_at,
        } => {
            let tries = *tries;
            let claimed = async {
                let waves = ports.store.load_waves(*execution_id).await?;
                let hold = ServerHold {
                    execution_id: *execution_id,
                    recovery: *recovery,
                    servers: waves
                        .iter()
                        .map(|w| (w.number, w.servers.iter().map(|s| s.id().clone()).collect()))
                        .collect(),
                    since: *since,
                    expires_at: *expires_at,
                };
                ports.capacity.claim_servers(&hold, now).await
            };
            match claimed.await {
                Ok(ServerClaim::Claimed) => Event::ServersClaimed { tries },
                Ok(ServerClaim::Busy(busy)) => Event::ServersBusy { tries, busy },
                Err(e) => Event::ServerClaimFailed {
                    tries,
                    error: e.to_string(),
                },
            }
        }
        Effect::Preflight {
            tries,
            execution_id,
        } => {
            crate::preflight::for_execution(
                &*ports.store,
                &ports.preflight(),
                *execution_id,
                *tries,
            )
            .await
        }
        Effect::ReleaseServers { execution_id } => Event::ServersReleased {
            error: ports
                .capacity
                .release_servers(*execution_id, now)
                .await
                .err()
                .map(|e| e.to_string()),
        },
        Effect::ReleaseCapacity { holder } => Event::CapacityReleased {
            error: ports
                .capacity
                .release(holder, now)
                .await
                .err()
                .map(|e| e.to_string()),
        },
        Effect::StartRecovery {
            tries,
            request,
            reconcile_since,
            start_if_missing,
        } => {
            let tries = *tries;
            match start_recovery(ports, request, *reconcile_since, *start_if_missing).await {
                Ok(job) => Event::RecoveryJobStarted { tries, job },
                Err(error) => Event::RecoveryStartFailed { tries, error },
            }
        }
        Effect::ObserveWave {
            seq,
            job_id,
            awaiting,
            fresh_since,
            details,
        } => match observe_wave(ports, job_id, awaiting, *fresh_since, details).await {
            Ok(observation) => Event::WaveObserved {
                seq: *seq,
                observation,
            },
            Err(error) => Event::PollFailed { seq: *seq, error },
        },
        Effect::SendCommands {
            purpose,
            tries,
            requests,
            reconcile_since,
        } => {
            let tries = *tries;
            let sent = send_commands(ports, requests, *reconcile_since).await;
            match (purpose, sent) {
                (CommandPurpose::Action(action), Ok(command_ids)) => Event::ActionSent {
                    action: *action,
                    tries,
                    command_ids,
                },
                (CommandPurpose::Action(action), Err(error)) => Event::ActionSendFailed {
                    action: *action,
                    tries,
                    error,
                },
                (CommandPurpose::HealthCheck, Ok(command_ids)) => {
                    Event::HealthCommandsSent { tries, command_ids }
                }
                (CommandPurpose::HealthCheck, Err(error)) => {
                    Event::HealthCommandsFailed { tries, error }
                }
            }
        }
        Effect::ObservePostLaunch {
            seq,
            command_ids,
            status_instance_ids,
            agent_instance_ids,
        } => match observe_post_launch(ports, command_ids, status_instance_ids, agent_instance_ids)
            .await
        {
            Ok(observation) => Event::PostLaunchObserved {
                seq: *seq,
                observation,
            },
            Err(error) => Event::PostLaunchCheckFailed { seq: *seq, error },
        },
        Effect::Cleanup(effect) => Event::CleanupWave {
            step: crate::cleanup::perform(ports, effect).await,
        },
    };
    result_of(cause, index, event, now)
}

async fn start_recovery(
    ports: &Ports,
    request: &ripcord::ports::drs::StartRecoveryRequest,
    reconcile_since: Option<Timestamp>,
    start_if_missing: bool,
) -> Result<ripcord::ports::drs::RecoveryJob, ServiceError> {
    if let Some(since) = reconcile_since {
        let mut found = ports
            .drs
            .find_jobs_by_tags(&request.tags, since - SEARCH_MARGIN)
            .await?;
        found.sort_by_key(|j| j.creation_time);
        if let Some(job) = found.into_iter().next() {
            tracing::info!(job_id = %job.job_id, "found the wave's job by its tags; adopting it instead of launching again");
            return Ok(job);
        }
    }
    if !start_if_missing {
        return Err(ServiceError {
            service: "ripcord".into(),
            operation: "StartRecovery".into(),
            class: ErrorClass::Permanent,
            code: "LaunchCancelled".into(),
            message: "the wave was cancelled before its job started; no job was found by tag"
                .into(),
            retry_after: None,
        });
    }
    ports.drs.start_recovery(request).await
}

/// Reads one wave's job through the process's job watch (served by a look
/// made at or after `fresh_since`), the failure log when a server failed,
/// and the recovery instances and EC2 details of the servers in `details`
/// (or of every launched server once none is left launching), gathered
/// with other waves' reads.
async fn observe_wave(
    ports: &Ports,
    job_id: &str,
    awaiting: &[SourceServerId],
    fresh_since: Timestamp,
    details: &[SourceServerId],
) -> Result<WaveObservation, ServiceError> {
    let describes = &ports.describes;
    let Some(job) = describes
        .jobs
        .job(&*ports.drs, &*ports.clock, job_id, fresh_since)
        .await?
    else {
        return Err(ServiceError::from_code(
            "drs",
            "DescribeJobs",
            "ResourceNotFoundException",
            &format!("job {job_id} was not found"),
        ));
    };
    let awaiting: BTreeSet<_> = awaiting.iter().collect();
    let relevant: Vec<_> = job
        .participating_servers
        .iter()
        .filter(|p| awaiting.contains(&p.source_server_id))
        .collect();
    let still_launching = relevant.iter().any(|p| {
        matches!(
            p.launch_status,
            DrsLaunchStatus::Pending | DrsLaunchStatus::InProgress
        )
    });
    let details: BTreeSet<_> = details.iter().collect();
    let mut needs_log = false;
    let mut launched = Vec::new();
    for p in &relevant {
        match p.launch_status {
            DrsLaunchStatus::Failed | DrsLaunchStatus::Terminated => needs_log = true,
            DrsLaunchStatus::Launched => {
                if let Some(ri) = &p.recovery_instance_id
                    && (!still_launching || details.contains(&p.source_server_id))
                {
                    launched.push(ri.clone());
                }
            }
            DrsLaunchStatus::Pending | DrsLaunchStatus::InProgress => {
                needs_log |= job.status == ripcord::ports::drs::JobStatus::Completed
            }
        }
    }
    let log_items = if needs_log {
        ports.drs.describe_job_log_items(job_id).await?
    } else {
        Vec::new()
    };
    let drs = ports.drs.clone();
    let recovery_instances = describes
        .recovery_instances
        .get(&launched, move |ids| {
            let drs = drs.clone();
            Box::pin(async move { drs.describe_recovery_instances(&ids).await })
        })
        .await?;
    let ec2_ids: Vec<String> = recovery_instances
        .iter()
        .filter_map(|ri| ri.ec2_instance_id.clone())
        .collect();
    let ec2 = ports.ec2.clone();
    let instances = describes
        .instances
        .get(&ec2_ids, move |ids| {
            let ec2 = ec2.clone();
            Box::pin(async move { ec2.describe_instances(&ids).await })
        })
        .await?;
    Ok(WaveObservation {
        job: Some(job),
        log_items,
        recovery_instances,
        instances,
    })
}

/// Sends each request; with `reconcile_since`, instances already covered
/// by a command with the same comment are not sent to again.
async fn send_commands(
    ports: &Ports,
    requests: &[SendCommandRequest],
    reconcile_since: Option<Timestamp>,
) -> Result<Vec<String>, ServiceError> {
    let mut ids = Vec::new();
    for request in requests {
        let mut request = request.clone();
        if let Some(since) = reconcile_since {
            let found = ports
                .ssm
                .find_commands(&request.comment, since - SEARCH_MARGIN)
                .await?;
            let covered: BTreeSet<String> = found
                .iter()
                .flat_map(|c| c.instance_ids.iter().cloned())
                .collect();
            for c in &found {
                if c.instance_ids
                    .iter()
                    .any(|i| request.instance_ids.contains(i))
                    && !ids.contains(&c.command_id)
                {
                    ids.push(c.command_id.clone());
                }
            }
            request.instance_ids.retain(|i| !covered.contains(i));
            if request.instance_ids.is_empty() {
                continue;
            }
        }
        ids.push(ports.ssm.send_command(&request).await?.command_id);
    }
    Ok(ids)
}

async fn observe_post_launch(
    ports: &Ports,
    command_ids: &[String],
    status_instance_ids: &[String],
    agent_instance_ids: &[String],
) -> Result<PostLaunchObservation, ServiceError> {
    let mut observation = PostLaunchObservation::default();
    for id in command_ids {
        observation
            .invocations
            .extend(ports.ssm.list_command_invocations(id).await?);
    }
    if !status_instance_ids.is_empty() {
        observation.instance_status = ports
            .ec2
            .describe_instance_status(status_instance_ids)
            .await?;
    }
    if !agent_instance_ids.is_empty() {
        observation.agents = ports
            .ssm
            .describe_instance_information(agent_instance_ids)
            .await?;
    }
    Ok(observation)
}
