//! The invariants of docs/invariants.md held against every record the step
//! saves (`ports.rs` calls these from the store's saves): terminal states
//! stay terminal but by an operator move (retry, skip), and nothing is
//! COMPLETED that the world did not launch, configure and find healthy
//! (invariant 1). A broken one panics with its
//! name, inside the step that saved it.

use super::world::World;
use ripcord::plan::HealthCheck;
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::status_model::Transitions;
use ripcord::status_model::{CleanupStatus, ExecutionStatus, LaunchStatus, WaveStatus};
use ripcord::time::Timestamp;

/// Whether a status saved as `old` may be saved as `new`: a terminal
/// status stays, unless an operator move (and what follows it in the same
/// decision) leaves it (invariant 7).
fn may_follow<S: Transitions>(old: S, new: S) -> bool {
    !old.is_terminal()
        || old == new
        || old.operator_can_become(new)
        || S::ALL
            .iter()
            .any(|&mid| old.operator_can_become(mid) && mid.can_become(new))
}

/// An execution saved over `old` (none: created), beside its `waves` as
/// stored: terminal statuses stay, and COMPLETED needs every wave COMPLETED
/// (or SKIPPED by an operator).
pub fn check_execution(old: Option<&ExecutionRecord>, new: &ExecutionRecord, waves: &[WaveRecord]) {
    if let Some(old) = old {
        assert!(
            may_follow(old.status, new.status),
            "terminal states stay terminal: execution {:?} → {:?}",
            old.status,
            new.status
        );
        for (o, n) in old.waves.iter().zip(&new.waves) {
            assert!(
                may_follow(o.status, n.status),
                "terminal states stay terminal: wave {} summary {:?} → {:?}",
                o.number,
                o.status,
                n.status
            );
        }
    }
    if new.status == ExecutionStatus::Completed {
        for (s, w) in new.waves.iter().zip(waves) {
            // A wave an operator skipped may be told so after the
            // execution ended (MarkWaveSkipped on its way).
            let completed = s.status == WaveStatus::Completed && w.status == WaveStatus::Completed;
            assert!(
                completed || s.status == WaveStatus::Skipped,
                "invariant 1 broken: execution COMPLETED with wave {} {:?} (record {:?})",
                s.number,
                s.status,
                w.status
            );
        }
    }
}

/// A wave saved over `old` (none: created) at `now`: terminal statuses
/// stay, every LAUNCHED or COMPLETED server has the instance the world
/// launched for it, a COMPLETED one passed what the world says it passes,
/// and a COMPLETED wave has no critical server short of COMPLETED.
pub fn check_wave(world: &World, now: Timestamp, old: Option<&WaveRecord>, new: &WaveRecord) {
    if let Some(old) = old {
        assert!(
            may_follow(old.status, new.status),
            "terminal states stay terminal: wave {} {:?} → {:?}",
            new.number,
            old.status,
            new.status
        );
        // A later clean-up request starts a new clean-up of the servers an
        // earlier one left FAILED.
        let request = |w: &WaveRecord| w.cleanup.as_ref().map(|c| c.request);
        let retried = request(new) > request(old);
        for (o, n) in old.servers.iter().zip(&new.servers) {
            let cleanup = |s: &ripcord::records::ServerState| s.cleanup.as_ref().map(|c| c.status);
            let failed_again = retried && cleanup(o) == Some(CleanupStatus::Failed);
            assert!(
                !cleanup(o).is_some_and(|c| c.is_terminal())
                    || cleanup(o) == cleanup(n)
                    || failed_again,
                "terminal states stay terminal: server {} clean-up {:?} → {:?}",
                n.id(),
                cleanup(o),
                cleanup(n)
            );
            assert!(
                may_follow(o.launch_status, n.launch_status),
                "terminal states stay terminal: server {} {:?} → {:?}",
                n.id(),
                o.launch_status,
                n.launch_status
            );
        }
    }
    for s in &new.servers {
        if s.cleanup.as_ref().map(|c| c.status) == Some(CleanupStatus::Terminated) {
            let ri = s.recovery_instance_id.as_deref().unwrap_or_default();
            assert!(
                world.is_terminated(ri, now) && !world.taken_over.contains(s.id()),
                "invariant 14 broken: server {} clean-up TERMINATED, but the world still has {ri} (or it is not ours)",
                s.id()
            );
        }
        if !matches!(
            s.launch_status,
            LaunchStatus::Launched | LaunchStatus::Completed
        ) {
            continue;
        }
        let real = world.launched_instance(s.id(), now);
        assert!(
            real.is_some() && real == s.launched_instance_id,
            "invariant 1 broken: server {} is {:?} with instance {:?}, but the world launched {:?} (outcome {:?})",
            s.id(),
            s.launch_status,
            s.launched_instance_id,
            real,
            world.servers[s.id()].outcome
        );
        if s.launch_status == LaunchStatus::Completed {
            let spec = &world.servers[s.id()];
            let checks = &new.plan.health_checks;
            let has_command = checks
                .iter()
                .any(|c| matches!(c, HealthCheck::Command { .. }));
            assert!(
                new.plan.post_launch.is_empty() || (spec.agent_online && spec.action_ok),
                "invariant 1 broken: server {} COMPLETED though its post-launch actions cannot succeed ({spec:?})",
                s.id()
            );
            assert!(
                !has_command || spec.health_ok,
                "invariant 1 broken: server {} COMPLETED though its health command fails",
                s.id()
            );
            assert!(
                !checks.contains(&HealthCheck::SsmAgentOnline) || spec.agent_online,
                "invariant 1 broken: server {} COMPLETED though its SSM agent is offline",
                s.id()
            );
        }
    }
    if new.status == WaveStatus::Completed {
        for s in new.servers.iter().filter(|s| s.plan.critical) {
            assert!(
                s.launch_status == LaunchStatus::Completed && s.launched_instance_id.is_some(),
                "invariant 1 broken: wave {} COMPLETED with critical server {} {:?}",
                new.number,
                s.id(),
                s.launch_status
            );
        }
        assert!(
            new.servers
                .iter()
                .any(|s| s.launch_status == LaunchStatus::Completed),
            "invariant 1 broken: wave {} COMPLETED with no server completed",
            new.number
        );
    }
}
