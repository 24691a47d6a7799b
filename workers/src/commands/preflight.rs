//! `ripcord preflight PLAN`: runs the pre-flight checks of a plan against
//! the deployment (DRS, the capacity ledger) and prints the findings.
//! Exit code 0: no errors; 1: errors (a drill would be blocked); 2: the
//! plan itself is invalid.

use crate::backend::{AwsBackend, BackendArgs, BackendKind};
use crate::engine::LocalEngine;
use crate::preflight::preflight_submitted;
use crate::render::preflight_table;
use ripcord::capacity::Quotas;
use ripcord::preflight::Severity;
use std::path::Path;
use std::process::ExitCode;

pub async fn preflight_command(
    plan_path: &Path,
    scenario: Option<&Path>,
    args: &BackendArgs,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let plan = match ripcord::plan::load_plan(plan_path) {
        Ok(p) => p,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::from(2));
        }
    };
    let ports = match args.backend {
        BackendKind::Embedded => {
            let scenario = super::inputs::scenario_source(scenario)?;
            LocalEngine::open_shared(&args.db, scenario.as_ref())?
                .with_quotas(&args.quotas)
                .ports
        }
        BackendKind::Aws => {
            if scenario.is_some() {
                anyhow::bail!(
                    "--scenario applies to the embedded simulator; on AWS the DRS endpoint decides"
                );
            }
            AwsBackend::connect(&args.aws_settings(), args.quotas.over(Quotas::default()))
                .await?
                .ports
        }
    };
    let file = plan_path.display().to_string();
    let report = preflight_submitted(&ports.preflight(), &plan, &file)
        .await
        .map_err(|e| anyhow::anyhow!("pre-flight could not read DRS: {e}; check the credentials and region, then run it again"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", preflight_table(&plan.name, &report));
    }
    Ok(if report.count(Severity::Error) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
