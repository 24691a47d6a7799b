//! `ripcord validate PLAN`.

use ripcord::plan::{SnapshotChoice, load_plan};
use std::path::Path;
use std::process::ExitCode;

pub fn validate(path: &Path) -> anyhow::Result<ExitCode> {
    match load_plan(path) {
        Ok(plan) => {
            println!(
                "{}: ok — plan {:?}, mode {}, {} waves, {} servers",
                path.display(),
                plan.name,
                match plan.mode {
                    ripcord::plan::Mode::Drill => "drill",
                    ripcord::plan::Mode::Recovery => "recovery",
                },
                plan.waves.len(),
                plan.server_count()
            );
            for wave in &plan.waves {
                if let Some(select) = &wave.select {
                    println!(
                        "  wave {}: selects servers by tags {} (resolved at start against DRS; `ripcord preflight` shows them)",
                        wave.name,
                        select.describe()
                    );
                }
                if let Some(SnapshotChoice::Before { before, .. }) = &wave.recovery_snapshot {
                    println!(
                        "  wave {}: launches each server from its newest snapshot at or before {} (chosen at start)",
                        wave.name,
                        before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} problem(s) found in {}", errors.0.len(), path.display());
            Ok(ExitCode::from(2))
        }
    }
}
