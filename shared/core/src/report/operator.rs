//! The report's "Operator actions" section: every retry, skip, pause and
//! resume with who, when (and how long into the execution) and why
//! (docs/status-model.md, "Operator control"). The timeline marks each one
//! (`svg.rs`).

use super::content::{Markup, Table};
use super::format::{instant, offset};
use super::model::DrillReport;

/// The table of `r`'s operator actions; `None` when there were none.
pub fn operator_table(r: &DrillReport, m: &dyn Markup) -> Option<Table> {
    let rows = r
        .operator_actions
        .iter()
        .map(|a| {
            let what = match (a.wave, a.attempt) {
                (Some(w), Some(n)) => format!("wave {w}, attempt {n}"),
                (Some(w), None) => format!("wave {w}"),
                _ => "the execution".to_owned(),
            };
            let servers: Vec<String> = a.servers.iter().map(|s| s.to_string()).collect();
            let what = if servers.is_empty() {
                what
            } else {
                format!("{what} ({})", servers.join(", "))
            };
            vec![
                m.strong(a.action.as_str()),
                m.text(&what),
                m.text(&a.requested_by),
                format!("{} ({})", instant(a.at), offset(r.start_time, a.at)),
                m.text(a.reason.as_deref().unwrap_or("—")),
            ]
        })
        .collect::<Vec<_>>();
    (!rows.is_empty()).then_some(Table {
        header: &["Action", "On", "By", "At", "Why"],
        rows,
    })
}
