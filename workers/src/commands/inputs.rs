//! What the commands read from the command line beyond clap's parsing: a
//! plan that may be started, a scenario file, an execution id; each with
//! the message a user sees when it is wrong.

use std::process::ExitCode;

/// Loads and checks a plan that may be started: its errors, or a real
/// recovery without `--confirm-recovery`, are reported on stderr and give
/// exit code 2 (nothing is started).
pub(super) fn startable_plan(
    path: &std::path::Path,
    confirm_recovery: bool,
) -> Result<ripcord::plan::Plan, ExitCode> {
    let plan = match ripcord::plan::load_plan(path) {
        Ok(p) => p,
        Err(errors) => {
            eprintln!("{errors}");
            return Err(ExitCode::from(2));
        }
    };
    if plan.mode == ripcord::plan::Mode::Recovery && !confirm_recovery {
        eprintln!(
            "{}: this plan is a real recovery (mode: recovery). Nothing was started.\n\
             Re-run with --confirm-recovery if a real failover is intended, or use mode: drill to rehearse.",
            path.display()
        );
        return Err(ExitCode::from(2));
    }
    Ok(plan)
}

/// `plan` with its selections resolved against `drs` (`crate::select`),
/// each selection's outcome said on stderr. A plan DRS cannot satisfy is
/// reported with its places and gives exit code 2; DRS unreadable, 1.
pub(super) async fn resolved_plan(
    drs: &dyn ripcord::ports::RecoveryService,
    plan: ripcord::plan::Plan,
    path: &std::path::Path,
) -> Result<ripcord::plan::Plan, ExitCode> {
    match crate::select::resolve(drs, plan, &path.display().to_string()).await {
        Ok(resolved) => {
            for selected in &resolved.selected {
                eprintln!("{}", selected.summary());
            }
            Ok(resolved.plan)
        }
        Err(crate::select::SelectError::Plan(errors)) => {
            eprintln!(
                "{errors}
Nothing was started."
            );
            Err(ExitCode::from(2))
        }
        Err(e) => {
            eprintln!(
                "{e}
Nothing was started."
            );
            Err(ExitCode::from(1))
        }
    }
}

/// Loads a scenario file with its text (for a world stored in the database).
pub(super) fn scenario_source(
    path: Option<&std::path::Path>,
) -> anyhow::Result<Option<ripcord_sim::ScenarioSource>> {
    Ok(match path {
        Some(p) => Some(ripcord_sim::ScenarioSource::load(p)?),
        None => None,
    })
}

/// Loads a scenario file, or the default scenario.
pub(super) fn scenario(path: Option<&std::path::Path>) -> anyhow::Result<ripcord_sim::Scenario> {
    Ok(match path {
        Some(p) => ripcord_sim::load_scenario(p)?,
        None => ripcord_sim::Scenario::default(),
    })
}

/// An execution id as the user typed it.
pub(super) fn parse_id(id: &str) -> anyhow::Result<ripcord::ids::ExecutionId> {
    id.parse()
        .map_err(|_| anyhow::anyhow!("`{id}` is not an execution id (a UUID, as `ripcord run` printed it; `ripcord list` shows them)"))
}
