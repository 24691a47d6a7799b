//! `ripcord bench scale`: runs the scaling load with each number of worker
//! processes per kind (see `bench_scale.rs`) and prints one table.

use crate::bench_scale::{KINDS, ScaleBackend, ScaleFigures, ScaleLoad, run_scale};
use std::process::ExitCode;
use std::time::Duration;

/// What `ripcord bench scale` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// `embedded`: one SQLite file shared by the worker processes; `aws`:
    /// moto (--moto-url) and `ripcord sim serve` (--sim-url).
    #[arg(long, value_enum, default_value_t = crate::backend::BackendKind::Embedded)]
    pub backend: crate::backend::BackendKind,
    /// Worker processes per kind, one run (or --runs runs) each.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub workers: Vec<usize>,
    /// Executions started at once (no two share a server).
    #[arg(long, default_value_t = 40)]
    pub executions: usize,
    /// Waves per execution, each after the last.
    #[arg(long, default_value_t = 3)]
    pub waves: usize,
    /// Servers per wave.
    #[arg(long, default_value_t = 5)]
    pub servers_per_wave: usize,
    /// Simulated seconds per real second (launches take 30–90 simulated s).
    #[arg(long, default_value_t = 60.0)]
    pub time_scale: f64,
    /// Runs per worker count; the table shows the median by wall time.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// AWS: moto's URL (SQS, DynamoDB, EventBridge).
    #[arg(long, env = "RIPCORD_TEST_MOTO_URL")]
    pub moto_url: Option<String>,
    /// AWS: `ripcord sim serve`'s URL (DRS, SSM, CloudWatch).
    #[arg(long, env = "RIPCORD_TEST_SIM_URL")]
    pub sim_url: Option<String>,
    /// The longest one run may take.
    #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
    pub limit: Duration,
}

pub async fn scale(args: ScaleArgs) -> anyhow::Result<ExitCode> {
    let backend = match args.backend {
        crate::backend::BackendKind::Embedded => ScaleBackend::Embedded,
        crate::backend::BackendKind::Aws => match (&args.moto_url, &args.sim_url) {
            (Some(moto), Some(sim)) => ScaleBackend::Aws {
                moto: moto.clone(),
                sim: sim.clone(),
            },
            _ => anyhow::bail!(
                "--backend aws needs --moto-url and --sim-url (moto_server and `ripcord sim serve`); the scale benchmark never runs against real AWS"
            ),
        },
    };
    let load = ScaleLoad {
        executions: args.executions,
        waves: args.waves,
        per_wave: args.servers_per_wave,
        time_scale: args.time_scale,
    };
    let exe = std::env::current_exe()?;
    println!(
        "ripcord bench scale — {} cores, backend {:?}: {} executions at once × {} waves × {} servers ({} servers), simulated launches 30–90 s at time scale {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.backend,
        load.executions,
        load.waves,
        load.per_wave,
        load.servers(),
        load.time_scale
    );
    let mut rows: Vec<ScaleFigures> = Vec::new();
    for &n in &args.workers {
        let mut runs = Vec::new();
        for run in 0..args.runs.max(1) {
            let logs = tempfile::tempdir()?;
            let f = run_scale(&exe, &backend, load, n, logs.path(), args.limit).await?;
            println!(
                "  {n} per kind, run {}: wall {:.2} s, {} events decided, worker CPU {:.2} cores; file: {} busy retries ({:.2} s slept), {:.2} s waiting for a connection",
                run + 1,
                f.wall.as_secs_f64(),
                f.decided,
                f.worker_cores(),
                f.contention.busy_retries,
                f.contention.busy_wait,
                f.contention.connection_wait,
            );
            if !f.completed() {
                anyhow::bail!(
                    "not every execution completed with {n} workers per kind ({:?}); the benchmark's figures would not compare",
                    f.statuses
                );
            }
            runs.push(f);
        }
        runs.sort_by_key(|f| f.wall);
        rows.push(runs.swap_remove(runs.len() / 2));
    }
    print_table(&rows);
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[ScaleFigures]) {
    let base = rows.first().map(|f| f.wall.as_secs_f64());
    println!(
        "\n| workers per kind | executions | servers | wall time | executions/min | events/s | speed-up vs first | worker CPU (cores: {}) | bench CPU |",
        KINDS.join(" + ")
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for f in rows {
        let by_kind: Vec<String> = f
            .cpu_by_kind
            .iter()
            .map(|c| format!("{:.2}", c.total() / f.wall.as_secs_f64()))
            .collect();
        println!(
            "| {} | {} | {} | {:.2} s | {:.0} | {:.0} | {:.2}× | {:.2} ({}) | {:.2} s |",
            f.workers_per_kind,
            f.statuses.len(),
            f.servers,
            f.wall.as_secs_f64(),
            f.executions_per_minute(),
            f.events_per_second(),
            base.map_or(1.0, |b| b / f.wall.as_secs_f64()),
            f.worker_cores(),
            by_kind.join(" + "),
            f.bench_cpu.total(),
        );
    }
}
