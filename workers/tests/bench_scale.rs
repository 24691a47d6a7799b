//! `ripcord bench scale` end to end at a tiny size: one and then two
//! `ripcord worker` processes per kind on one embedded file. Not a timed
//! test: it checks that every run completes all its executions (the
//! command fails otherwise) and that the figures add up.

use std::process::Command;

mod support;

use support::RIPCORD;

/// One row of the printed table, as its cells.
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| workers") && !l.starts_with("| ---"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn one_and_two_workers_per_kind_complete_the_same_load() {
    let output = Command::new(RIPCORD)
        .args([
            "bench",
            "scale",
            "--workers",
            "1,2",
            "--executions",
            "3",
            "--waves",
            "2",
            "--servers-per-wave",
            "2",
            "--time-scale",
            "120",
            // Every simulator call waits like a real API call, outside the
            // file's write lock.
            "--api-latency",
            "20ms",
            "--limit",
            "3m",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .expect("ripcord bench scale runs");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ripcord bench scale failed: {out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("20 ms a DRS/EC2/SSM call"), "{out}");
    let rows = rows(&out);
    assert_eq!(rows.len(), 2, "one row per worker count: {out}");
    for (row, workers) in rows.iter().zip(["1", "2"]) {
        assert_eq!(row[0], workers, "{out}");
        assert_eq!(row[1], "3", "executions: {out}");
        assert_eq!(row[2], "12", "servers: {out}");
        let events: f64 = row[5].parse().expect("events/s");
        assert!(events > 0.0, "events were decided: {out}");
    }
    assert_eq!(rows[0][6], "1.00×", "the first row is the baseline: {out}");
}
