//! `ripcord serve`: the API, live events, health, metrics and the dashboard
//! over either backend. With `--workers` (embedded only) it also runs the
//! four workers in this process on the file's shared simulated world, so
//! one command is a whole local deployment.

use crate::backend::{AwsBackend, BackendArgs, BackendKind, WorldClock};
use crate::engine::LocalEngine;
use crate::serve::{self, DEFAULT_WATCH_EVERY, ServeState, auth::Auth};
use crate::worker::WorkerConfig;
use ripcord::capacity::Quotas;
use ripcord::health::HealthThresholds;
use ripcord::ports::QueueName;
use ripcord_embedded::{EmbeddedBackend, EmbeddedConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The environment variable holding the write token.
pub const TOKEN_VAR: &str = "RIPCORD_API_TOKEN";

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: String,
    pub port: u16,
    pub backend: BackendArgs,
    pub workers: bool,
    pub scenario: Option<PathBuf>,
    pub protect_reads: bool,
    pub thresholds: HealthThresholds,
    /// How often the health gauges are published (zero: never).
    pub health_metrics_every: std::time::Duration,
}

pub async fn serve(options: ServeOptions) -> anyhow::Result<ExitCode> {
    let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
    if options.protect_reads && token.is_none() {
        anyhow::bail!(
            "--protect-reads needs a token: set {TOKEN_VAR} (readers then send it as a bearer token)"
        );
    }
    let auth = Auth::new(token.as_deref(), options.protect_reads);
    let args = &options.backend;
    let mut running = None;
    let (state, sink) = match args.backend {
        BackendKind::Embedded if options.workers => {
            let scenario = super::inputs::scenario_source(options.scenario.as_deref())?;
            let engine =
                LocalEngine::open_shared(&args.db, scenario.as_ref())?.with_quotas(&args.quotas);
            let workers = engine.spawn_workers(
                &QueueName::ALL,
                WorkerConfig {
                    deployment: args.aws.prefix.clone(),
                    ..WorkerConfig::default()
                },
            );
            let state = ServeState {
                telemetry: Some(workers.telemetry.clone()),
                thresholds: options.thresholds,
                ..ServeState::new(&engine.ports, engine.backend.dead_letters(), auth)
            };
            eprintln!(
                "running the launch, poll, post-actions and metrics workers in this process (simulator: {})",
                engine.stored_scenario.as_deref().unwrap_or("built in")
            );
            running = Some(workers);
            (state, engine.ports.metrics.clone())
        }
        BackendKind::Embedded => {
            if options.scenario.is_some() {
                anyhow::bail!(
                    "--scenario sets the simulator of the workers; pass --workers too (or give it to `ripcord worker`)"
                );
            }
            let backend = EmbeddedBackend::open(&args.db, EmbeddedConfig::default())?;
            // Pre-flight reads the simulated DRS of the world stored in the
            // file, if the workers have made one.
            let preflight = match backend.find_sim_world(ripcord_embedded::DEFAULT_WORLD)? {
                Some(_) => Some(
                    LocalEngine::open_shared(&args.db, None)?
                        .with_quotas(&args.quotas)
                        .ports
                        .preflight(),
                ),
                None => None,
            };
            let state = ServeState {
                preflight,
                store: backend.store(),
                queue: backend.queue(),
                submissions: backend.submissions(),
                dead_letters: backend.dead_letters(),
                heartbeats: backend.heartbeats(),
                capacity: backend.capacity(),
                clock: Arc::new(WorldClock::new(backend.clone())),
                auth,
                telemetry: None,
                thresholds: options.thresholds,
                watch_every: DEFAULT_WATCH_EVERY,
                watchers: Default::default(),
            };
            (state, backend.metrics())
        }
        BackendKind::Aws => {
            if options.workers || options.scenario.is_some() {
                anyhow::bail!(
                    "--workers and --scenario run the embedded engine; on AWS run `ripcord worker` processes beside `ripcord serve`"
                );
            }
            let backend =
                AwsBackend::connect(&args.aws_settings(), args.quotas.over(Quotas::default()))
                    .await?;
            let state = ServeState {
                thresholds: options.thresholds,
                ..ServeState::new(&backend.ports, backend.dead_letters.clone(), auth)
            };
            (state, backend.ports.metrics.clone())
        }
    };
    let state = Arc::new(state);
    if !options.health_metrics_every.is_zero() {
        serve::gauges::spawn(
            state.clone(),
            sink,
            args.aws.prefix.clone(),
            options.health_metrics_every,
        );
    }
    let writes = state.auth.writes_enabled();
    let reads_protected = state.auth.reads_protected();
    let listener = tokio::net::TcpListener::bind((options.host.as_str(), options.port))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}:{}: {e}; choose another --port (0 picks a free one)",
                options.host,
                options.port
            )
        })?;
    let address = listener.local_addr()?;
    // The first line of stdout: tests and scripts read the address from it.
    println!("listening on http://{address}");
    eprintln!(
        "serving executions in {}: dashboard http://{address}/, API http://{address}/api/openapi.json; writes {}, reads {}",
        args.describe(),
        if writes {
            format!("need the bearer token of {TOKEN_VAR}")
        } else {
            format!("disabled (set {TOKEN_VAR} to enable them)")
        },
        if reads_protected {
            "need the token"
        } else {
            "open"
        }
    );
    let stop = async {
        let _ = super::worker::stopped().await;
    };
    serve::serve(listener, state, stop).await?;
    if let Some(workers) = running {
        workers.shutdown().await;
    }
    Ok(ExitCode::SUCCESS)
}
