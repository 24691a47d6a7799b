//! Pre-flight findings as the CLI prints them: a header with the summary,
//! then one block per finding, worst first, each with what to do.

use super::label;
use ripcord::preflight::{Finding, PreflightReport};
use std::fmt::Write;

/// The findings of `report` for the plan `plan_name`.
pub fn preflight_table(plan_name: &str, report: &PreflightReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "pre-flight of {plan_name}: {} servers checked — {}",
        report.servers_checked,
        report.summary()
    );
    for f in &report.findings {
        let _ = writeln!(out, "{}", finding_line(f));
        let _ = writeln!(out, "         → {}", f.what_to_do);
    }
    out
}

/// `ERROR    REPLICATION [wave app-tier, s-…]: replication is STALLED`.
pub(super) fn finding_line(f: &Finding) -> String {
    let mut place = Vec::new();
    if let Some(wave) = &f.wave {
        place.push(format!("wave {wave}"));
    }
    if let Some(server) = &f.server {
        place.push(server.to_string());
    }
    let place = if place.is_empty() {
        String::new()
    } else {
        format!(" [{}]", place.join(", "))
    };
    format!(
        "{:<8} {}{place}: {}",
        label(&f.severity),
        label(&f.check),
        f.message
    )
}
