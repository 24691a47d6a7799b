//! The report as one self-contained HTML page: inline CSS, the timeline
//! SVG inline, no script, no external asset, so it can be mailed, archived
//! or printed as it is (a print stylesheet keeps rows whole and the
//! colours readable). Every text from the plan or from AWS is escaped.

use super::DEFINITIONS;
use super::content::{self, Markup, Table, Tone};
use super::model::DrillReport;
use super::svg::{escape, timeline};
use std::fmt::Write;

const STYLE: &str = r#"
:root { --ok: #1f7a45; --bad: #b3261e; --warn: #8a5a00; --muted: #5b6470; --line: #d8dde3; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2329; margin: 2rem auto; max-width: 1180px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f2f4f7; }
table.facts th { width: 12rem; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: .5rem; white-space: pre-wrap; word-break: break-word; }
.good { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; } .warn { color: var(--warn); font-weight: 600; }
.provisional { border: 1px solid #e0b000; background: #fff8d6; padding: .5rem .75rem; }
.timeline { overflow-x: auto; border: 1px solid var(--line); }
.timeline svg { display: block; max-width: 100%; height: auto; }
ul.failures li { margin-bottom: .35rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  h2 { break-after: avoid; }
  tr, pre, .timeline { break-inside: avoid; }
  .timeline { overflow: visible; border: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// HTML's syntax for [`content`].
struct Html;

impl Markup for Html {
    fn text(&self, s: &str) -> String {
        escape(s)
    }

    fn code(&self, s: &str) -> String {
        format!("<code>{}</code>", escape(s))
    }

    fn strong(&self, s: &str) -> String {
        format!("<strong>{s}</strong>")
    }

    fn badge(&self, s: &str, tone: Tone) -> String {
        match tone {
            Tone::Good => format!("<span class=\"good\">{}</span>", escape(s)),
            Tone::Bad => format!("<span class=\"bad\">{}</span>", escape(s)),
            Tone::Warn => format!("<span class=\"warn\">{}</span>", escape(s)),
            Tone::Plain => escape(s),
        }
    }
}

/// The report as a standalone HTML document.
pub fn render(report: &DrillReport) -> String {
    let m = &Html;
    let title = escape(&content::title(report));
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    if !report.settled {
        let _ = writeln!(
            h,
            "<p class=\"provisional\"><strong>Provisional:</strong> {}</p>",
            content::PROVISIONAL
        );
    }
    h.push_str("<table class=\"facts\">\n");
    for (label, value) in content::summary(report, m) {
        let _ = writeln!(h, "<tr><th>{label}</th><td>{value}</td></tr>");
    }
    h.push_str("</table>\n<h2>Recovery time per wave</h2>\n");
    table(&mut h, &content::waves_table(report, m));
    h.push_str("<h2>Failures</h2>\n");
    let failures = content::failure_lines(report, m);
    if failures.is_empty() {
        h.push_str("<p>None.</p>\n");
    } else {
        h.push_str("<ul class=\"failures\">\n");
        for line in failures {
            let _ = writeln!(h, "<li>{line}</li>");
        }
        h.push_str("</ul>\n");
    }
    if let Some(actions) = super::operator::operator_table(report, m) {
        h.push_str("<h2>Operator actions</h2>\n");
        table(&mut h, &actions);
    }
    if let Some(preflight) = content::preflight(report, m) {
        let _ = writeln!(h, "<h2>Pre-flight</h2>\n<p>{}</p>", preflight.facts);
        if let Some(findings) = &preflight.findings {
            table(&mut h, findings);
        }
    }
    let earlier = super::cleanup::earlier_lines(report, m);
    if !earlier.is_empty() {
        h.push_str("<h2>Before the launch</h2>\n<ul>\n");
        for line in earlier {
            let _ = writeln!(h, "<li>{line}</li>");
        }
        h.push_str("</ul>\n");
    }
    if let Some((facts, table_of)) = super::cleanup::section(report, m) {
        let _ = writeln!(h, "<h2>Clean-up</h2>\n<p>{facts}</p>");
        if let Some(t) = &table_of {
            table(&mut h, t);
        }
    }
    h.push_str("<h2>Timeline</h2>\n<div class=\"timeline\">\n");
    h.push_str(&timeline(report));
    h.push_str("</div>\n");
    for w in &report.waves {
        let _ = writeln!(
            h,
            "<h2>Wave {}: {} — {}</h2>\n<p>{}</p>",
            w.wave_number,
            escape(&w.name),
            content::wave_badge(w, m),
            content::wave_facts(w, m)
        );
        if w.servers.is_empty() {
            h.push_str("<p>No server records (the wave never started).</p>\n");
        } else {
            table(&mut h, &content::servers_table(report, &w.servers, m));
        }
        if !w.actions.is_empty() {
            table(&mut h, &content::actions_table(report, &w.actions, m));
        }
        for output in content::outputs(&w.actions, m) {
            let _ = writeln!(
                h,
                "<p>{}</p>\n<pre>{}</pre>",
                output.heading,
                escape(&output.body)
            );
        }
    }
    h.push_str("<h2>Definitions</h2>\n<dl>\n");
    for (term, meaning) in DEFINITIONS {
        let _ = writeln!(h, "<dt><strong>{term}</strong></dt><dd>{meaning}</dd>");
    }
    h.push_str("</dl>\n</body>\n</html>\n");
    h
}

fn table(h: &mut String, t: &Table) {
    h.push_str("<table>\n<tr>");
    for header in t.header {
        let _ = write!(h, "<th>{header}</th>");
    }
    h.push_str("</tr>\n");
    for row in &t.rows {
        h.push_str("<tr>");
        for cell in row {
            let _ = write!(h, "<td>{cell}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}
