//! The status view (camelCase; fields in docs/status-model.md), aggregated on read from the
//! execution record and its wave records. Pure: the caller passes `now`.
//!
//! Statuses are read, never recomputed: the state machine owns every
//! transition, and the view only shows what the records say (so it cannot
//! show COMPLETED where `decide` saw a failed server).

mod cleanup;
mod eta;
mod preflight;
mod progress;
mod queued;
mod view;

pub use cleanup::{
    CleanupPhase, CleanupView, LeftoverView, ServerCleanupView, cleanup_view, leftover_views,
};
pub use eta::estimate_completion;
pub use preflight::preflight_view;
pub use queued::{LAUNCH_POLL_STALE, QueuedStatus, QueuedView, queued_view};
pub use view::*;

use crate::records::{
    ActionRun, CapacityState, ExecutionRecord, LaunchState, LeftoverCleanup, ServerClaimState,
    ServerState, WaveRecord, WaveSummary,
};
use crate::status_model::{ExecutionStatus, WaveStatus};
use crate::time::Timestamp;

/// Builds the view of `execution` from its wave records, as of `now`.
///
/// Waves come in the execution record's order. A wave record missing from
/// `waves` (it may not be written yet) shows the summary's status with no
/// servers; its servers still count towards `totalServers`, as PENDING.
pub fn execution_status(
    execution: &ExecutionRecord,
    waves: &[WaveRecord],
    now: Timestamp,
) -> ExecutionView {
    let wave_views: Vec<WaveView> = execution
        .waves
        .iter()
        .map(|summary| {
            let record = waves.iter().find(|w| w.number == summary.number);
            wave_view(summary, record, !is_terminal(execution.status))
        })
        .collect();
    let mut progress = Progress::count(&wave_views);
    let unrecorded: usize = execution
        .waves
        .iter()
        .filter(|s| !waves.iter().any(|w| w.number == s.number))
        .map(|s| s.server_count)
        .sum();
    if unrecorded > 0 {
        progress = progress.with_pending(unrecorded);
    }
    let estimated_completion = estimate_completion(execution, waves, &wave_views, &progress, now);
    ExecutionView {
        execution_id: execution.id,
        plan_name: execution.plan_name.clone(),
        mode: execution.mode,
        region: execution.region.clone(),
        status: execution.status,
        paused: execution
            .paused
            .clone()
            .filter(|_| !is_terminal(execution.status)),
        operator_actions: execution.operator_actions.clone(),
        reason: execution.reason.clone(),
        waiting_reason: preflight::preflight_waiting(execution).or_else(|| {
            match &execution.server_claim {
                ServerClaimState::Claiming { reason, .. } if !is_terminal(execution.status) => {
                    reason.clone()
                }
                _ => None,
            }
        }),
        preflight: preflight_view(execution),
        cleanup: cleanup_view(execution, waves),
        requested_by: execution.requested_by.clone(),
        waves: wave_views,
        progress,
        start_time: execution.start_time,
        end_time: execution.end_time,
        estimated_completion,
        last_updated: now,
    }
}

/// True once nothing more will change: the execution is terminal and no wave
/// is still LAUNCHING or in POST_ACTIONS (a cancelled execution lets its
/// running job finish). The CLI waits for this before its final table.
pub fn is_settled(execution: &ExecutionRecord, waves: &[WaveRecord]) -> bool {
    is_terminal(execution.status)
        && !execution.waves.iter().any(|summary| {
            let record = waves.iter().find(|w| w.number == summary.number);
            let status = record.map_or(summary.status, |r| r.status);
            // A wave the execution cancelled before it started learns of it
            // through CancelWave: until then its record still says PENDING.
            is_running(status) || (is_wave_done(summary.status) && !is_wave_done(status))
        })
}

fn is_wave_done(status: WaveStatus) -> bool {
    matches!(
        status,
        WaveStatus::Completed | WaveStatus::Failed | WaveStatus::Cancelled | WaveStatus::Skipped
    )
}

fn is_terminal(status: ExecutionStatus) -> bool {
    !matches!(
        status,
        ExecutionStatus::Pending | ExecutionStatus::InProgress
    )
}

fn is_running(status: WaveStatus) -> bool {
    matches!(status, WaveStatus::Launching | WaveStatus::PostActions)
}

/// `open`: the execution is not terminal, so an approval could still matter.
fn wave_view(summary: &WaveSummary, record: Option<&WaveRecord>, open: bool) -> WaveView {
    // The wave record is the truth about a wave; the summary may lag it.
    // Except once an operator reopened the wave (a retry, or a wave the
    // failure had cancelled before it started): the summary is PENDING with
    // the next attempt until the record hears of it, and the record's
    // status and reason are the earlier attempt's.
    let reopened =
        record.is_some_and(|r| r.attempt < summary.attempt) && !is_wave_done(summary.status);
    let status = match record {
        Some(r) if !reopened => r.status,
        _ => summary.status,
    };
    let (recovery_job_id, launch_failure) = match record.map(|r| &r.launch) {
        Some(LaunchState::Started { job_id, .. }) => (Some(job_id.clone()), None),
        Some(LaunchState::Failed { code, message }) => (None, Some(format!("{code}: {message}"))),
        _ => (None, None),
    };
    WaveView {
        wave_number: summary.number,
        name: summary.name.clone(),
        status,
        depends_on: summary.depends_on.clone(),
        awaiting_approval: open
            && summary.wait_for_approval
            && summary.approved_by.is_none()
            && status == WaveStatus::Pending,
        approved_by: summary.approved_by.clone(),
        servers: record
            .map(|r| {
                let leftovers = r.leftovers.as_ref();
                r.servers
                    .iter()
                    .map(|s| server_view(s, leftovers))
                    .collect()
            })
            .unwrap_or_default(),
        post_actions: record
            .map(|r| {
                r.actions
                    .iter()
                    .enumerate()
                    .map(|(i, a)| action_view(summary, i, a))
                    .collect()
            })
            .unwrap_or_default(),
        start_time: record.and_then(|r| r.start_time),
        end_time: record.and_then(|r| r.end_time),
        reason: record
            .filter(|_| !reopened)
            .and_then(|r| r.reason.clone())
            .or(launch_failure.filter(|_| !reopened)),
        waiting_reason: record
            .filter(|r| r.status == WaveStatus::Waiting)
            .and_then(|r| match &r.capacity {
                CapacityState::Asking { reason, .. } => reason.clone(),
                _ => None,
            }),
        recovery_job_id,
        attempt: summary.attempt,
    }
}

fn server_view(s: &ServerState, leftovers: Option<&LeftoverCleanup>) -> ServerView {
    ServerView {
        source_server_id: s.plan.id.clone(),
        hostname: s.hostname(),
        critical: s.plan.critical,
        launch_status: s.launch_status,
        recovery_job_id: s.recovery_job_id.clone(),
        recovery_instance_id: s.recovery_instance_id.clone(),
        launched_instance_id: s.launched_instance_id.clone(),
        instance_type: s.instance_type.clone(),
        private_ip_address: s.private_ip_address.clone(),
        public_ip_address: s.public_ip_address.clone(),
        availability_zone: s.availability_zone.clone(),
        health_status: s.health_status,
        launch_start_time: s.launch_start_time,
        launch_end_time: s.launch_end_time,
        point_in_time_snapshot: s.point_in_time_snapshot,
        healthy_time: s.healthy_time,
        error_message: s.error_message.clone(),
        error_code: s.error_code.clone(),
        cleanup: s.cleanup.as_ref().map(cleanup::server_cleanup_view),
        attempts: s.attempts.clone(),
        earlier_drill_instances: cleanup::leftover_views(s, leftovers),
    }
}

fn action_view(wave: &WaveSummary, index: usize, a: &ActionRun) -> ActionView {
    // Invocations are keyed by instance id, so the lines come out sorted.
    let lines = |pick: fn(&crate::records::InvocationResult) -> &str| {
        let lines: Vec<String> = a
            .invocations
            .iter()
            .filter(|(_, r)| !pick(r).trim().is_empty())
            .map(|(instance, r)| format!("{instance}: {}", pick(r).trim_end()))
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    };
    ActionView {
        action_id: format!("{}-{}-{}", wave.number, index + 1, a.name),
        name: a.name.clone(),
        action_type: ActionType::SsmDocument,
        status: a.status,
        command_id: a.command_ids.first().cloned(),
        document_name: a.document_name.clone(),
        output: lines(|r| &r.output),
        // The action's own error first; else what the instances reported.
        error_message: a.error_message.clone().or_else(|| lines(|r| &r.error)),
        start_time: a.start_time,
        end_time: a.end_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status_model::{HealthStatus, LaunchStatus};
    use crate::testing::{self, at};

    #[test]
    fn fresh_execution_snapshot() {
        insta::assert_json_snapshot!(testing::fresh().view());
    }

    #[test]
    fn mid_drill_snapshot() {
        insta::assert_json_snapshot!(testing::mid_drill().view());
    }

    #[test]
    fn failed_execution_snapshot() {
        insta::assert_json_snapshot!(testing::failed().view());
    }

    #[test]
    fn cleaning_up_snapshot() {
        insta::assert_json_snapshot!(testing::cleaning_up().view());
    }

    #[test]
    fn blocked_by_preflight_snapshot() {
        insta::assert_json_snapshot!(testing::blocked().view());
    }

    #[test]
    fn the_json_reads_back_into_the_same_view() {
        for fixture in [
            testing::fresh(),
            testing::mid_drill(),
            testing::failed(),
            testing::blocked(),
        ] {
            let view = fixture.view();
            let json = serde_json::to_string(&view).unwrap();
            let back: ExecutionView = serde_json::from_str(&json).unwrap();
            assert_eq!(back, view);
        }
    }

    #[test]
    fn no_preflight_field_when_none_ran() {
        let json = serde_json::to_value(testing::mid_drill().view()).unwrap();
        assert!(json.get("preflight").is_none(), "{json}");
    }

    #[test]
    fn a_blocked_drill_shows_every_finding_and_its_summary() {
        let view = testing::blocked().view();
        assert_eq!(view.status, ExecutionStatus::Failed);
        assert!(
            view.reason
                .as_deref()
                .is_some_and(|r| r.starts_with("pre-flight found 2 errors, 1 warning, 1 note")),
            "{view:?}"
        );
        let preflight = view.preflight.expect("the pre-flight ran");
        assert_eq!(preflight.state, PreflightPhase::Done);
        assert_eq!(preflight.mode, crate::plan::PreflightMode::Block);
        assert_eq!(preflight.summary, "2 errors, 1 warning, 1 note");
        assert_eq!(preflight.checked_at, Some(at(0, 5)));
        assert_eq!(preflight.findings, testing::preflight_report().findings);
        assert_eq!(view.waiting_reason, None, "nothing waits once it ended");
    }

    #[test]
    fn while_checking_the_execution_waits_for_preflight() {
        use crate::plan::PreflightMode;
        use crate::records::PreflightState;
        let mut f = testing::fresh();
        f.execution.preflight = PreflightState::Checking {
            tries: 1,
            mode: PreflightMode::Block,
            last_error: None,
            throttled: 0,
            last_throttled: false,
            asked_at: None,
        };
        let view = f.view();
        assert_eq!(
            view.waiting_reason.as_deref(),
            Some("running pre-flight checks: no wave starts until they finish")
        );
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(
            json["preflight"],
            serde_json::json!({
                "state": "CHECKING",
                "mode": "block",
                "summary": "running",
                "findings": [],
            })
        );

        f.execution.preflight = PreflightState::Checking {
            tries: 2,
            mode: PreflightMode::Warn,
            last_error: Some("AccessDeniedException: not authorized".to_owned()),
            throttled: 0,
            last_throttled: false,
            asked_at: None,
        };
        let waiting = f.view().waiting_reason.unwrap_or_default();
        assert!(
            waiting.starts_with(
                "running pre-flight checks: try 2 of 8 could not read DRS (AccessDeniedException: not authorized)"
            ) && waiting.contains("infra/iam/launch.json"),
            "{waiting}"
        );
        // Throttled: the advice is about throttling, not permissions.
        f.execution.preflight = PreflightState::Checking {
            tries: 4,
            mode: PreflightMode::Warn,
            last_error: Some("ThrottlingException: rate exceeded".to_owned()),
            throttled: 3,
            last_throttled: true,
            asked_at: None,
        };
        let waiting = f.view().waiting_reason.unwrap_or_default();
        assert!(
            waiting.starts_with(
                "running pre-flight checks: try 4 of 11 (3 throttled, which do not count) could not read DRS"
            ) && waiting.contains("DRS is throttling this account")
                && !waiting.contains("infra/iam"),
            "{waiting}"
        );

        // Cancelled before the answer came: it never finished, nothing waits.
        f.execution.status = ExecutionStatus::Cancelled;
        let view = f.view();
        assert_eq!(view.waiting_reason, None);
        let preflight = view.preflight.expect("it was asked for");
        assert_eq!(preflight.state, PreflightPhase::Checking);
        assert!(preflight.summary.starts_with("did not finish"));
    }

    #[test]
    fn servers_of_a_wave_without_health_checks_are_not_checked() {
        let mut plan = testing::plan();
        plan.waves[2].health_checks.clear();
        let (execution, waves) =
            ExecutionRecord::new(testing::execution_id(), &plan, "tester", testing::t0());
        let view = execution_status(&execution, &waves, at(1, 0));
        let health = |w: usize| -> Vec<HealthStatus> {
            view.waves[w]
                .servers
                .iter()
                .map(|s| s.health_status)
                .collect()
        };
        assert_eq!(health(1), [HealthStatus::Pending; 2], "checks to come");
        assert_eq!(health(2), [HealthStatus::NotChecked; 2]);
        insta::assert_json_snapshot!(view.waves[2].servers[0]);
        // A record written before NOT_CHECKED existed still reads.
        let old: HealthStatus = serde_json::from_str("\"PENDING\"").unwrap();
        assert_eq!(old, HealthStatus::Pending);
    }

    #[test]
    fn progress_counts_each_launch_status() {
        let mut f = testing::fresh();
        let statuses = [
            LaunchStatus::Completed,
            LaunchStatus::Launched,
            LaunchStatus::Launching,
            LaunchStatus::Failed,
            LaunchStatus::Completed,
            LaunchStatus::Pending,
        ];
        for (i, status) in statuses.into_iter().enumerate() {
            f.server_mut(i as u32 / 2 + 1, i % 2).launch_status = status;
        }
        let p = f.view().progress;
        assert_eq!(p.total_servers, 6);
        assert_eq!(p.launched_servers, 3, "LAUNCHED and COMPLETED count");
        assert_eq!(p.completed_servers, 2);
        assert_eq!(p.failed_servers, 1);
        assert_eq!(p.settled_servers(), 3);
        assert_eq!(p.percent_complete, 33.3);
    }

    #[test]
    fn a_failed_server_keeps_percent_below_100() {
        let mut f = testing::fresh();
        for wave in 1..=3 {
            for i in 0..2 {
                f.server_mut(wave, i).launch_status = LaunchStatus::Completed;
            }
        }
        assert_eq!(f.view().progress.percent_complete, 100.0);
        f.server_mut(3, 1).launch_status = LaunchStatus::Failed;
        assert_eq!(f.view().progress.percent_complete, 83.3);
    }

    #[test]
    fn a_wave_an_operator_reopened_shows_pending_until_its_record_hears_of_it() {
        // Wave 3 (gated) was cancelled before it started because wave 2
        // failed; a retry of wave 2 reopened it: its summary is PENDING with
        // attempt 2, its record still CANCELLED at attempt 1.
        let mut f = testing::mid_drill();
        f.wave_mut(3).status = WaveStatus::Cancelled;
        f.wave_mut(3).reason = Some("not started: wave 2 (app) failed".into());
        f.execution.waves[2].attempt = 2;
        let view = f.view();
        assert_eq!(view.waves[2].status, WaveStatus::Pending);
        assert_eq!(view.waves[2].reason, None);
        assert!(view.waves[2].awaiting_approval);
        // Once the record runs the attempt, it is the truth again.
        f.wave_mut(3).attempt = 2;
        assert_eq!(f.view().waves[2].status, WaveStatus::Cancelled);
    }

    #[test]
    fn awaiting_approval_needs_an_open_pending_unapproved_wave() {
        let f = testing::mid_drill();
        let flags: Vec<bool> = f.view().waves.iter().map(|w| w.awaiting_approval).collect();
        assert_eq!(flags, [false, false, true]);

        let mut approved = testing::mid_drill();
        approved.execution.waves[2].approved_by = Some("alice".to_owned());
        let view = approved.view();
        assert!(!view.waves[2].awaiting_approval);
        assert_eq!(view.waves[2].approved_by.as_deref(), Some("alice"));

        let mut launching = testing::mid_drill();
        launching.set_wave_status(3, WaveStatus::Launching);
        assert!(!launching.view().waves[2].awaiting_approval);

        assert!(!testing::failed().view().waves[2].awaiting_approval);
    }

    #[test]
    fn statuses_come_from_the_wave_record_over_a_lagging_summary() {
        let mut f = testing::mid_drill();
        f.wave_mut(2).status = WaveStatus::Failed;
        assert_eq!(f.view().waves[1].status, WaveStatus::Failed);
        assert_eq!(f.execution.waves[1].status, WaveStatus::Launching);
    }

    #[test]
    fn a_missing_wave_record_still_counts_its_servers() {
        let mut f = testing::mid_drill();
        f.waves.pop();
        let view = f.view();
        assert_eq!(view.waves.len(), 3);
        assert!(view.waves[2].servers.is_empty());
        assert_eq!(view.waves[2].status, WaveStatus::Pending);
        assert_eq!(view.progress.total_servers, 6);
        assert_eq!(view.progress.percent_complete, 33.3);
    }

    #[test]
    fn servers_and_actions_show_their_details() {
        let view = testing::mid_drill().view();
        let app = &view.waves[1];
        assert_eq!(app.servers[0].hostname, "app-01");
        assert_eq!(
            app.servers[1].hostname,
            testing::server_id(0x22).to_string(),
            "no hostname in the plan: the id stands in"
        );
        assert_eq!(app.servers[0].health_status, HealthStatus::Checking);
        assert_eq!(
            app.recovery_job_id.as_deref(),
            Some("drsjob-0a1b2c3d4e5f60002")
        );
        let verify = &view.waves[0].post_actions[0];
        assert_eq!(verify.action_id, "1-1-verify-replication");
        assert_eq!(
            verify.output.as_deref(),
            Some(
                "i-0a1b2c3d4e5f60011: replication lag 0s\ni-0a1b2c3d4e5f60012: replication lag 2s"
            )
        );
        assert_eq!(app.post_actions[0].action_id, "2-1-configure-app");
        assert_eq!(app.post_actions[0].output, None);
    }

    #[test]
    fn instance_errors_stand_in_for_a_missing_action_error() {
        let mut f = testing::mid_drill();
        let action = &mut f.wave_mut(1).actions[0];
        action.status = crate::status_model::ActionStatus::Failed;
        action
            .invocations
            .get_mut("i-0a1b2c3d4e5f60012")
            .unwrap()
            .error = "exit status 3\n".to_owned();
        assert_eq!(
            f.view().waves[0].post_actions[0].error_message.as_deref(),
            Some("i-0a1b2c3d4e5f60012: exit status 3")
        );
        f.wave_mut(1).actions[0].error_message = Some("timed out".to_owned());
        assert_eq!(
            f.view().waves[0].post_actions[0].error_message.as_deref(),
            Some("timed out")
        );
    }

    #[test]
    fn a_failed_launch_is_the_wave_reason_when_none_is_recorded() {
        let mut f = testing::fresh();
        f.set_wave_status(1, WaveStatus::Failed);
        f.wave_mut(1).launch = LaunchState::Failed {
            code: "ServiceQuotaExceededException".to_owned(),
            message: "too many servers in active jobs".to_owned(),
        };
        assert_eq!(
            f.view().waves[0].reason.as_deref(),
            Some("ServiceQuotaExceededException: too many servers in active jobs")
        );
    }

    #[test]
    fn settled_only_when_terminal_and_no_wave_is_running() {
        let f = testing::failed();
        assert!(is_settled(&f.execution, &f.waves));

        let mut f = testing::mid_drill();
        assert!(!is_settled(&f.execution, &f.waves), "in progress");
        // Cancelled while wave 2's job still runs: not settled yet.
        f.execution.status = ExecutionStatus::Cancelled;
        assert!(!is_settled(&f.execution, &f.waves));
        f.set_wave_status(2, WaveStatus::Cancelled);
        assert!(is_settled(&f.execution, &f.waves));
        f.wave_mut(2).status = WaveStatus::PostActions;
        assert!(!is_settled(&f.execution, &f.waves));

        // Wave 3 never started; the execution cancelled it, but its record
        // has not caught up yet: the final table would still say PENDING.
        let mut f = testing::failed();
        f.execution.waves[2].status = WaveStatus::Cancelled;
        assert_eq!(f.waves[2].status, WaveStatus::Pending);
        assert!(!is_settled(&f.execution, &f.waves));
        f.wave_mut(3).status = WaveStatus::Cancelled;
        assert!(is_settled(&f.execution, &f.waves));
    }
}
