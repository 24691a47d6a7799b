//! `ripcord validate PLAN`.

use ripcord::plan::load_plan;
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
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} problem(s) found in {}", errors.0.len(), path.display());
            Ok(ExitCode::from(2))
        }
    }
}
