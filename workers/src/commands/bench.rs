//! `ripcord bench`: prints the engine's figures (see `bench.rs`).

use crate::bench::{boundary_scenario, chain_plan, instant_scenario, percentile, run_plan};
use std::process::ExitCode;
use std::time::Duration;

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

    let per_wave = servers.div_ceil(waves.max(1));
    println!(
        "\n[1] engine: {servers} servers in {waves} waves, zero simulated launch time, pushed results"
    );
    let f = run_plan(
        chain_plan(waves, per_wave),
        instant_scenario(),
        Duration::from_secs(600),
    )
    .await?;
    println!("    status {:?}", f.status);
    println!("    wall time        {:>8.2} s", f.wall.as_secs_f64());
    println!(
        "    messages         {:>8}  ({:.0} messages/s)",
        f.messages,
        f.messages as f64 / f.wall.as_secs_f64()
    );
    println!(
        "    events decided   {:>8}  ({:.0} events/s end to end through the embedded queues and store)",
        f.decided,
        f.decided as f64 / f.wall.as_secs_f64()
    );

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
            if push { 2 } else { 3 },
            boundaries + 1
        );
        let f = run_plan(
            chain_plan(boundaries + 1, 5),
            boundary_scenario(push),
            Duration::from_secs(900),
        )
        .await?;
        let mut b = f.boundaries.clone();
        b.sort();
        println!(
            "    status {:?}, {} boundaries, wall {:.1} s",
            f.status,
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
