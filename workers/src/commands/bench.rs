//! `ripcord bench`: prints the engine's figures (see `bench.rs`).

use crate::bench::{
    RunFigures, boundary_scenario, chain_plan, instant_scenario, percentile, run_plans,
};
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

pub async fn bench(
    servers: usize,
    waves: usize,
    boundaries: usize,
    skip_poll: bool,
) -> anyhow::Result<ExitCode> {
    println!(
        "ripcord bench — {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let limit = Duration::from_secs(900);

    println!(
        "\n[1] throughput: 8 executions at once, each 10 waves of 50 servers, zero simulated launch time"
    );
    let plans = (0..8).map(|_| chain_plan(10, 50)).collect();
    let f = run_plans(plans, instant_scenario(), limit).await?;
    print_rates(&f);

    let per_wave = servers.div_ceil(waves.max(1));
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
            "polling only (3 s launching interval)"
        };
        println!(
            "\n[{}] wave boundaries: {} waves of 5 servers, launches of 1–3 s, time scale 1, {label}",
            if push { 3 } else { 4 },
            boundaries + 1
        );
        let f = run_plans(
            vec![chain_plan(boundaries + 1, 5)],
            boundary_scenario(push),
            limit,
        )
        .await?;
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
    Ok(ExitCode::SUCCESS)
}
