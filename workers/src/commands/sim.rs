//! `ripcord sim calls`: what was asked of the simulated world stored in a
//! database (the one `ripcord worker` processes share): call counts, faults
//! injected, every StartRecovery call with what it came to, and every
//! launch job's time span.
//! `ripcord sim serve`: the simulator over HTTP in DRS' and SSM's wire
//! protocols (see `ripcord_sim_server`).

use ripcord_embedded::{DEFAULT_WORLD, EmbeddedBackend, EmbeddedConfig};
use ripcord_sim::{LaunchTimeline, Operation, SimWorldError, StartRecoveryCall};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

/// The JSON `ripcord sim calls --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallsReport<'a> {
    scenario: &'a str,
    calls: &'a BTreeMap<Operation, u64>,
    faults_injected: Vec<FaultCount<'a>>,
    launch_results_pushed: usize,
    /// Of those, dropped on the way (`faults.drop_launch_results`).
    launch_results_dropped: usize,
    start_recovery_calls: &'a [StartRecoveryCall],
    /// Every launch job, from its creation to its last server's end.
    launch_jobs: Vec<LaunchTimeline>,
}

#[derive(Serialize)]
struct FaultCount<'a> {
    operation: Operation,
    code: &'a str,
    count: u64,
}

pub fn calls(db: &Path, json: bool) -> anyhow::Result<ExitCode> {
    if !db.exists() {
        anyhow::bail!(
            "no Ripcord database at {}; pass --db with the file the workers use",
            db.display()
        );
    }
    let backend = EmbeddedBackend::open(db, EmbeddedConfig::default())?;
    let opened = backend
        .find_sim_world(DEFAULT_WORLD)?
        .ok_or_else(|| SimWorldError::NoWorld {
            db: db.display().to_string(),
        })?;
    let state = opened.world.snapshot()?;
    let report = CallsReport {
        scenario: &opened.scenario.file,
        calls: state.calls(),
        faults_injected: state
            .faults_injected()
            .iter()
            .map(|((operation, code), count)| FaultCount {
                operation: *operation,
                code,
                count: *count,
            })
            .collect(),
        launch_results_pushed: state.pushed_count(),
        launch_results_dropped: state.dropped_count(),
        start_recovery_calls: state.start_recovery_calls(),
        launch_jobs: state.launch_timeline(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("simulated world of {} ({})", db.display(), report.scenario);
    for (operation, count) in report.calls {
        println!("  {:<28} {count:>8} calls", operation.as_str());
    }
    for f in &report.faults_injected {
        println!(
            "  {:<28} {:>8} {} injected",
            f.operation.as_str(),
            f.count,
            f.code
        );
    }
    println!(
        "  launch results pushed: {} ({} dropped on the way)",
        report.launch_results_pushed, report.launch_results_dropped
    );
    println!("StartRecovery calls:");
    for call in report.start_recovery_calls {
        let tags: Vec<String> = call.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "  {}  {} server(s)  {:?}  [{}]",
            call.at.format("%H:%M:%S%.3f"),
            call.source_servers.len(),
            call.outcome,
            tags.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Serves the simulator on `host:port` until Ctrl-C.
pub async fn serve(
    host: &str,
    port: u16,
    config: ripcord_sim_server::SimServerConfig,
) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot listen on {host}:{port}: {e}; pick a free port with --port")
        })?;
    let address = listener.local_addr()?;
    let scenario = config
        .scenario
        .as_ref()
        .map_or("the default inventory", |s| s.file.as_str())
        .to_owned();
    println!(
        "ripcord simulator serving DRS and SSM on http://{address} ({scenario}); Ctrl-C stops it"
    );
    tokio::select! {
        served = ripcord_sim_server::serve(listener, config) => {
            served?;
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}
