//! `ripcord worker KIND`: one worker in its own process until Ctrl-C (or
//! SIGTERM). On the embedded backend it shares the file's queues, store and
//! simulated world with every other worker process on that file; on AWS it
//! reads its SQS queue and calls the real services. Any number of worker
//! processes of any kind may run at once.

use crate::backend::{AwsBackend, BackendArgs, BackendKind};
use crate::cli::{TriggerArgs, WorkerKind};
use crate::engine::LocalEngine;
use crate::fault_injection::FaultKnobs;
use crate::telemetry::WorkerTelemetry;
use crate::worker::{self, WorkerConfig};
use ripcord::capacity::Quotas;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::watch;

/// How the worker runs, when given on the command line: its message
/// timing, where it serves its metrics, and (chaos runs only) its
/// fault-injection knobs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    pub visibility: Option<Duration>,
    pub wait: Option<Duration>,
    pub step_timeout: Option<Duration>,
    pub sweep_every: Option<Duration>,
    /// Where to serve this process' Prometheus metrics.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Off unless asked for (`--fault-store-conflicts`).
    pub faults: FaultKnobs,
}

impl Timing {
    fn apply(self, config: WorkerConfig) -> WorkerConfig {
        WorkerConfig {
            visibility: self.visibility.unwrap_or(config.visibility),
            wait: self.wait.unwrap_or(config.wait),
            step_timeout: self.step_timeout.unwrap_or(config.step_timeout),
            sweep_every: self.sweep_every.unwrap_or(config.sweep_every),
            ..config
        }
    }
}

pub async fn worker(
    kind: WorkerKind,
    scenario: Option<&Path>,
    args: &BackendArgs,
    triggers: &TriggerArgs,
    timing: Timing,
    report_dir: Option<PathBuf>,
    liveness_file: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let faults = timing.faults;
    // One environment for every worker process may set RIPCORD_REPORT_DIR:
    // only the metrics worker writes reports.
    let report_dir = report_dir.filter(|_| matches!(kind, WorkerKind::Metrics));
    let config = WorkerConfig {
        triggers: triggers.settings(),
        report_dir,
        liveness_file,
        deployment: args.aws.prefix.clone(),
        ..WorkerConfig::default()
    };
    match args.backend {
        BackendKind::Embedded => {
            let scenario = super::inputs::scenario_source(scenario)?;
            let mut engine =
                LocalEngine::open_shared(&args.db, scenario.as_ref())?.with_quotas(&args.quotas);
            engine.ports.store = faults.store(engine.ports.store);
            let workers = engine.spawn_workers(&[kind.queue()], timing.apply(config));
            serve_metrics(timing.metrics_addr, &workers.telemetry).await?;
            eprintln!(
                "{} worker running on {} (simulator: {}); Ctrl-C stops it",
                kind.queue(),
                args.db.display(),
                engine.stored_scenario.as_deref().unwrap_or("in memory")
            );
            stopped().await?;
            workers.shutdown().await;
        }
        BackendKind::Aws => {
            if scenario.is_some() {
                anyhow::bail!(
                    "--scenario applies to the embedded simulator; on AWS point AWS_ENDPOINT_URL_DRS and AWS_ENDPOINT_URL_SSM at `ripcord sim serve --scenario FILE` instead"
                );
            }
            let backend =
                AwsBackend::connect(&args.aws_settings(), args.quotas.over(Quotas::default()))
                    .await?;
            let (stop, stop_rx) = watch::channel(false);
            let telemetry = WorkerTelemetry::default();
            serve_metrics(timing.metrics_addr, &telemetry).await?;
            let config = timing.apply(WorkerConfig {
                // SQS long polling: one request every 20 s when idle.
                wait: Duration::from_secs(20),
                visibility: Duration::from_secs(60),
                ..config
            });
            let mut ports = backend.ports.clone();
            ports.store = faults.store(ports.store);
            let handle = tokio::spawn(worker::run(ports, kind.queue(), config, telemetry, stop_rx));
            eprintln!(
                "{} worker running on {}; Ctrl-C stops it",
                kind.queue(),
                args.describe()
            );
            stopped().await?;
            let _ = stop.send(true);
            handle.await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// With `addr`, serves the workers' metrics there for as long as the
/// process runs.
async fn serve_metrics(
    addr: Option<std::net::SocketAddr>,
    telemetry: &WorkerTelemetry,
) -> anyhow::Result<()> {
    let Some(addr) = addr else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot serve metrics on {addr}: {e}; choose another --metrics-addr")
    })?;
    let address = listener.local_addr()?;
    let router = crate::serve::prometheus::worker_router(telemetry.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics endpoint stopped");
        }
    });
    eprintln!("worker metrics at http://{address}/metrics");
    Ok(())
}

/// Ctrl-C, or SIGTERM (what ECS, Kubernetes and the tests send).
pub(super) async fn stopped() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}
