//! `ripcord bench scale`: runs the scaling load with each number of worker
//! processes per kind (see `bench_scale.rs`) and prints one table.

use crate::bench_scale::{KINDS, ScaleArgs, ScaleBackend, ScaleFigures, ScaleLoad, run_scale};
use std::process::ExitCode;

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
        call_latency: args.api_latency,
    };
    let exe = std::env::current_exe()?;
    println!(
        "ripcord bench scale — {} cores, backend {:?}: {} executions at once × {} waves × {} servers ({} servers), simulated launches 30–90 s at time scale {}, {} ms a DRS/EC2/SSM call",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.backend,
        load.executions,
        load.waves,
        load.per_wave,
        load.servers(),
        load.time_scale,
        load.call_latency.as_millis()
    );
    let mut rows: Vec<ScaleFigures> = Vec::new();
    for &n in &args.workers {
        let mut runs = Vec::new();
        for run in 0..args.runs.max(1) {
            let logs = tempfile::tempdir()?;
            let f = run_scale(&exe, &backend, load, n, logs.path(), args.limit).await?;
            println!(
                "  {n} per kind, run {}: wall {:.2} s, {} events decided, {} receives, worker CPU {:.2} cores; file: {} busy retries ({:.2} s slept), {:.2} s waiting for a connection",
                run + 1,
                f.wall.as_secs_f64(),
                f.decided,
                f.receives,
                f.worker_cores(),
                f.contention.busy_retries,
                f.contention.busy_wait,
                f.contention.connection_wait,
            );
            let w = &f.contention;
            if w.world_writes > 0 {
                println!(
                    "      simulated world in the file: {} rewrites, {:.2} s from taking the write lock to the end of the commit (with the WAL checkpoints they set off; {:.0}% of the wall time), {:.0} KB each on average",
                    w.world_writes,
                    w.world_write_time,
                    100.0 * w.world_write_time / f.wall.as_secs_f64(),
                    w.world_write_bytes as f64 / w.world_writes as f64 / 1000.0
                );
            }
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
