//! Observing a launching wave: polls (and pushed launch results) read DRS,
//! and each server's status is set from its own `launchStatus` and recovery
//! instance, never from the job's status (invariant 1, docs/invariants.md).

use crate::event::WaveObservation;
use crate::ids::SourceServerId;
use crate::machine::context::{Ctx, WaveOutcome};
use crate::machine::wave::{
    PUSH_COALESCE, after_launch_progress, fail_launch_timeout, fail_server, finish_wave,
    launch_settled, next_tick, observation_failed, observation_succeeded, observe_job,
    poll_interval, schedule_poll,
};
use crate::ports::drs::{DrsLaunchStatus, JobStatus};
use crate::records::{LaunchState, ServerState, WaveRecord};
use crate::service_error::ServiceError;
use crate::status_model::transition;
use crate::status_model::{LaunchStatus, WaveStatus};
use crate::time::after;

pub(crate) fn poll(ctx: &mut Ctx<'_>, wave: &WaveRecord, seq: u32) -> WaveOutcome {
    if seq != wave.poll_seq {
        return WaveOutcome::Ignored(format!("poll {seq} is stale (current {})", wave.poll_seq));
    }
    if wave.status != WaveStatus::Launching {
        return WaveOutcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let LaunchState::Started { job_id, .. } = &wave.launch else {
        return WaveOutcome::Ignored("no job to poll yet".into());
    };
    let mut next = wave.clone();
    // A look made since this poll fell due serves it (docs/architecture.md, "Batched reads").
    let due = wave.next_poll_at.map_or(ctx.now, |due| due.min(ctx.now));
    observe_job(ctx, &next, seq, job_id, due);
    let delay = next_tick(ctx.now, poll_interval(&next));
    schedule_poll(ctx, &mut next, delay);
    WaveOutcome::Changed(next, None)
}

pub(crate) fn observed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    observation: &WaveObservation,
) -> WaveOutcome {
    if wave.status != WaveStatus::Launching {
        return WaveOutcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let Some(job) = &observation.job else {
        return WaveOutcome::Ignored("the observation has no job".into());
    };
    match &wave.launch {
        LaunchState::Started { job_id, .. } if *job_id == job.job_id => {}
        _ => return WaveOutcome::Ignored(format!("job {} is not this wave's job", job.job_id)),
    }
    let mut next = wave.clone();
    observation_succeeded(&mut next, ctx.now);
    for server in next.servers.iter_mut() {
        if launch_settled(server) {
            continue;
        }
        let participant = job
            .participating_servers
            .iter()
            .find(|p| p.source_server_id == *server.id());
        let Some(participant) = participant else {
            let message = format!("DRS job {} does not include this server", job.job_id);
            fail_server(ctx, server, "NOT_IN_JOB", message);
            continue;
        };
        if let Some(ri) = &participant.recovery_instance_id {
            server.recovery_instance_id = Some(ri.clone());
        }
        match participant.launch_status {
            DrsLaunchStatus::Launched => apply_launched(ctx, server, observation),
            DrsLaunchStatus::Failed => {
                let (code, message) =
                    failure_from_log(server.id(), observation).unwrap_or_else(|| {
                        (
                            "LAUNCH_FAILED".into(),
                            "DRS reported launchStatus FAILED".into(),
                        )
                    });
                fail_server(ctx, server, &code, message);
            }
            DrsLaunchStatus::Terminated => {
                let message = "the recovery instance was terminated during launch".to_owned();
                fail_server(ctx, server, "TERMINATED", message);
            }
            DrsLaunchStatus::Pending | DrsLaunchStatus::InProgress
                if job.status == JobStatus::Completed =>
            {
                // A COMPLETED job says nothing of its servers (invariant 1): the job is over, this server never launched.
                let (code, detail) = failure_from_log(server.id(), observation)
                    .unwrap_or_else(|| ("NOT_LAUNCHED".into(), "no failure was logged".into()));
                let message = format!(
                    "DRS job {} ended (COMPLETED) without launching this server: {detail}",
                    job.job_id
                );
                fail_server(ctx, server, &code, message);
            }
            DrsLaunchStatus::Pending | DrsLaunchStatus::InProgress => {}
        }
    }
    if next.launch_timed_out {
        fail_launch_timeout(
            ctx,
            &mut next,
            "a last look at DRS still showed it launching",
        );
    }
    let then = after_launch_progress(ctx, &mut next);
    WaveOutcome::Changed(next, then)
}

/// A server DRS reports LAUNCHED counts as launched once its EC2 instance
/// is known; until the recovery instance is described it stays LAUNCHING.
fn apply_launched(ctx: &mut Ctx<'_>, server: &mut ServerState, observation: &WaveObservation) {
    let Some(ri) = observation
        .recovery_instances
        .iter()
        .find(|ri| {
            ri.source_server_id == *server.id()
                && Some(&ri.recovery_instance_id) == server.recovery_instance_id.as_ref()
        })
        .or_else(|| {
            observation
                .recovery_instances
                .iter()
                .find(|ri| ri.source_server_id == *server.id())
        })
    else {
        server.launch_result_at.get_or_insert(ctx.now);
        return;
    };
    let Some(ec2_id) = &ri.ec2_instance_id else {
        server.launch_result_at.get_or_insert(ctx.now);
        return;
    };
    let what = format!("server {}", server.id());
    if !transition(
        &mut server.launch_status,
        LaunchStatus::Launched,
        &what,
        &mut ctx.rejected,
    ) {
        return;
    }
    server.recovery_instance_id = Some(ri.recovery_instance_id.clone());
    server.launched_instance_id = Some(ec2_id.clone());
    server.point_in_time_snapshot = ri.point_in_time_snapshot;
    server.launch_end_time = Some(server.launch_result_at.unwrap_or(ctx.now));
    if let Some(instance) = observation
        .instances
        .iter()
        .find(|i| i.instance_id == *ec2_id)
    {
        server.instance_type = Some(instance.instance_type.clone());
        server.private_ip_address = instance.private_ip_address.clone();
        server.public_ip_address = instance.public_ip_address.clone();
        server.availability_zone = instance.availability_zone.clone();
    }
}

/// The last failure DRS logged for a server: (event, rawError).
fn failure_from_log(
    id: &SourceServerId,
    observation: &WaveObservation,
) -> Option<(String, String)> {
    observation
        .log_items
        .iter()
        .rev()
        .find(|item| item.is_failure() && item.source_server_id.as_ref() == Some(id))
        .map(|item| {
            (
                item.event.to_string(),
                item.raw_error
                    .clone()
                    .unwrap_or_else(|| format!("DRS logged {}", item.event)),
            )
        })
}

pub(crate) fn poll_failed(
    ctx: &mut Ctx<'_>,
    wave: &WaveRecord,
    error: &ServiceError,
) -> WaveOutcome {
    if wave.status != WaveStatus::Launching {
        return WaveOutcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let mut next = wave.clone();
    if next.launch_timed_out {
        next.last_poll_error = Some(error.to_string());
        let why = format!("the last look at DRS failed: {error}");
        fail_launch_timeout(ctx, &mut next, &why);
        let then = after_launch_progress(ctx, &mut next);
        return WaveOutcome::Changed(next, then);
    }
    if let Some(why) = observation_failed(ctx, &mut next, error, "polls of DRS") {
        for server in next.servers.iter_mut() {
            if !launch_settled(server) {
                let message = format!(
                    "status unknown: {why}. The server may still be launching; check the DRS console"
                );
                fail_server(ctx, server, "STATUS_UNKNOWN", message);
            }
        }
        finish_wave(ctx, &mut next, WaveStatus::Failed, Some(why));
    }
    WaveOutcome::Changed(next, None)
}

/// DRS pushed a launch result: noted on the server; once every server still
/// launching has one, observe soon rather than at the next poll (sharing
/// one poll among results that arrive together). Results before that wait
/// for the wave's tick, where they cost no call of their own.
pub(crate) fn pushed(ctx: &mut Ctx<'_>, wave: &WaveRecord, id: &SourceServerId) -> WaveOutcome {
    if wave.status != WaveStatus::Launching {
        return WaveOutcome::Ignored(format!("wave {} is {:?}", wave.number, wave.status));
    }
    let Some(server) = wave.servers.iter().find(|s| s.id() == id) else {
        return WaveOutcome::Ignored(format!("server {id} is not in wave {}", wave.number));
    };
    if launch_settled(server) {
        return WaveOutcome::Ignored(format!("server {id} has settled already"));
    }
    if !matches!(wave.launch, LaunchState::Started { .. }) {
        if wave.push_seen_before_start {
            return WaveOutcome::Ignored("a push is already waiting for the job".into());
        }
        let mut next = wave.clone();
        next.push_seen_before_start = true;
        return WaveOutcome::Changed(next, None);
    }
    let mut next = wave.clone();
    let first_report = server.launch_result_at.is_none();
    if let Some(s) = next.servers.iter_mut().find(|s| s.id() == id) {
        s.launch_result_at.get_or_insert(ctx.now);
    }
    let all_reported = next
        .servers
        .iter()
        .all(|s| launch_settled(s) || s.launch_result_at.is_some());
    // Poll no sooner than PUSH_COALESCE after the last observation, and only
    // if no poll is due by then.
    let earliest = next_push_poll(wave, ctx.now);
    if !all_reported || wave.next_poll_at.is_some_and(|due| due <= earliest) {
        return if first_report {
            WaveOutcome::Changed(next, None)
        } else {
            WaveOutcome::Ignored("the result was noted; a poll is due soon enough".into())
        };
    }
    let delay = crate::time::between(ctx.now, earliest);
    schedule_poll(ctx, &mut next, delay);
    WaveOutcome::Changed(next, None)
}

fn next_push_poll(wave: &WaveRecord, now: crate::time::Timestamp) -> crate::time::Timestamp {
    match wave.last_observed_at {
        Some(last) => after(last, PUSH_COALESCE).max(now),
        None => now,
    }
}
