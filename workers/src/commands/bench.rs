//! `ripcord bench`: prints the engine's figures (see `bench.rs`).

use crate::bench::{
    DESCRIBE_OPERATIONS, RunFigures, boundary_scenario, chain_plan, chain_plans, describe_scenario,
    instant_scenario, percentile, run_plans,
};
use crate::cli::BenchArgs;
use std::process::ExitCode;
use std::time::Duration;

fn print_rates(f: &RunFigures) {
    let secs = f.wall.as_secs_f64();
    println!("    statuses         {:?}", dedup(&f.statuses));
    println!("    wall time        {secs:>8.2} s");
    println!(
        "    messages         {:>8}  ({:.0}/s)",
        f.messages,
        f.messages as f64 / secs
    );
    println!(
        "    events decided   {:>8}  ({:.0}/s)",
        f.decided,
        f.decided as f64 / secs
    );
}

fn dedup<T: std::fmt::Debug + PartialEq + Clone>(v: &[T]) -> Vec<(T, usize)> {
    let mut out: Vec<(T, usize)> = Vec::new();
    for x in v {
        match out.iter_mut().find(|(y, _)| y == x) {
            Some((_, n)) => *n += 1,
            None => out.push((x.clone(), 1)),
        }
    }
    out
}

pub async fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let BenchArgs {
        mode,
        servers,
        waves,
        boundaries,
        skip_poll,
        time_scale,
        describes_only,
    } = args;
    if let Some(crate::cli::BenchMode::Scale(args)) = mode {
        return super::bench_scale::scale(args).await;
    }
    println!(
        "ripcord bench — {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let limit = Duration::from_secs(900);
    let per_wave = servers.div_ceil(waves.max(1));
    if !describes_only {
        engine_figures(servers, waves, per_wave, boundaries, skip_poll, limit).await?;
    }
    describe_figures(servers, waves, per_wave, time_scale, limit).await?;
    Ok(ExitCode::SUCCESS)
}

async fn engine_figures(
    servers: usize,
    waves: usize,
    per_wave: usize,
    boundaries: usize,
    skip_poll: bool,
    limit: Duration,
) -> anyhow::Result<()> {
    println!(
        "\n[1] throughput: 8 executions at once, each 10 waves of 50 servers, zero simulated launch time"
    );
    let plans = chain_plans(8, 10, 50);
    let f = run_plans(plans, instant_scenario(), limit).await?;
    print_rates(&f);

    println!(
        "\n[2] one large plan: {servers} servers in {waves} waves, zero simulated launch time, pushed results"
    );
    let f = run_plans(vec![chain_plan(waves, per_wave)], instant_scenario(), limit).await?;
    print_rates(&f);

    for push in [true, false] {
        if !push && skip_poll {
            continue;
        }
        let label = if push {
            "pushed launch results"
        } else {
            "polling only (plan's launching interval 3 s)"
        };
        println!(
            "\n[{}] wave boundaries: {} waves of 5 servers, launches of 1–3 s, time scale 1, {label}",
            if push { 3 } else { 4 },
            boundaries + 1
        );
        let mut plan = chain_plan(boundaries + 1, 5);
        if !push {
            plan.options.poll_intervals.launching = Duration::from_secs(3);
        }
        let f = run_plans(vec![plan], boundary_scenario(push), limit).await?;
        let mut b = f.boundaries.clone();
        b.sort();
        println!(
            "    statuses {:?}, {} boundaries, wall {:.1} s",
            dedup(&f.statuses),
            b.len(),
            f.wall.as_secs_f64()
        );
        println!(
            "    last launch result of wave N → StartRecovery of wave N+1: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            percentile(&b, 50.0).as_secs_f64() * 1000.0,
            percentile(&b, 99.0).as_secs_f64() * 1000.0,
            b.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

async fn describe_figures(
    servers: usize,
    waves: usize,
    per_wave: usize,
    time_scale: f64,
    limit: Duration,
) -> anyhow::Result<()> {
    println!(
        "\n[5] DRS describe calls: one plan of {servers} servers in {waves} waves (each after the last), simulator launch times (2–5 min), pushed results, time scale {time_scale}"
    );
    let f = run_plans(
        vec![chain_plan(waves, per_wave)],
        describe_scenario(time_scale),
        limit,
    )
    .await?;
    print_describes(&f);

    println!(
        "\n[6] DRS describe calls: 20 executions at once, each 2 waves of 50 servers, simulator launch times, pushed results, time scale {time_scale}"
    );
    let plans = chain_plans(20, 2, 50);
    let f = run_plans(plans, describe_scenario(time_scale), limit).await?;
    print_describes(&f);
    Ok(())
}

fn print_describes(f: &RunFigures) {
    println!(
        "    statuses {:?}, {} servers launched, wall {:.1} s",
        dedup(&f.statuses),
        f.launched,
        f.wall.as_secs_f64()
    );
    for op in DESCRIBE_OPERATIONS {
        let n = f.calls.get(&op).copied().unwrap_or(0);
        println!("    {:<28} {n:>6}", op.as_str());
    }
    println!(
        "    describe calls per launched server: {:.3} (goal ≤ 0.3)",
        f.describes_per_launched()
    );
}
