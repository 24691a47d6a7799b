//! The report as Markdown (GitHub-flavoured tables), for a ticket, a wiki
//! or a pull request. Markdown cannot hold a picture inline: the caller
//! passes the relative path of the timeline SVG written beside the file (it
//! is linked as an image), or `None` (the report then says where the
//! picture is). Plan and AWS text is escaped so it cannot break a table or
//! inject HTML; command outputs go in code fences longer than any run of
//! backticks they contain.

use super::DEFINITIONS;
use super::content::{self, Markup, Table, Tone};
use super::model::DrillReport;
use std::fmt::Write;

/// Markdown's syntax for [`content`].
struct Md;

impl Markup for Md {
    fn text(&self, s: &str) -> String {
        text(s)
    }

    fn code(&self, s: &str) -> String {
        // Inside a code span nothing can be escaped: backticks and pipes
        // (which would end the table cell) are replaced.
        let inner: String = s
            .chars()
            .map(|c| match c {
                '`' => '\'',
                '|' => '/',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect();
        format!("`{inner}`")
    }

    fn strong(&self, s: &str) -> String {
        format!("**{s}**")
    }

    fn badge(&self, s: &str, tone: Tone) -> String {
        match tone {
            Tone::Bad => format!("**{}**", text(s)),
            Tone::Warn => format!("_{}_", text(s)),
            Tone::Good | Tone::Plain => text(s),
        }
    }
}

/// The report as Markdown; `timeline`: the SVG's path relative to the
/// Markdown file, when one was written.
pub fn render(report: &DrillReport, timeline: Option<&str>) -> String {
    let m = &Md;
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", text(&content::title(report)));
    if !report.settled {
        let _ = writeln!(md, "> **Provisional:** {}\n", content::PROVISIONAL);
    }
    md.push_str("| | |\n| --- | --- |\n");
    for (label, value) in content::summary(report, m) {
        let _ = writeln!(md, "| {label} | {value} |");
    }
    md.push_str("\n## Recovery time per wave\n\n");
    table(&mut md, &content::waves_table(report, m));
    md.push_str("## Failures\n\n");
    let failures = content::failure_lines(report, m);
    if failures.is_empty() {
        md.push_str("None.\n");
    }
    for line in failures {
        let _ = writeln!(md, "- {line}");
    }
    if let Some(actions) = super::operator::operator_table(report, m) {
        md.push_str("\n## Operator actions\n\n");
        table(&mut md, &actions);
    }
    if let Some(preflight) = content::preflight(report, m) {
        let _ = writeln!(md, "\n## Pre-flight\n\n{}\n", preflight.facts);
        if let Some(findings) = &preflight.findings {
            table(&mut md, findings);
        }
    } else {
        md.push('\n');
    }
    let earlier = super::cleanup::earlier_lines(report, m);
    if !earlier.is_empty() {
        md.push_str("## Before the launch\n\n");
        for line in earlier {
            let _ = writeln!(md, "- {line}");
        }
        md.push('\n');
    }
    if let Some((facts, table_of)) = super::cleanup::section(report, m) {
        let _ = writeln!(md, "## Clean-up\n\n{facts}\n");
        if let Some(t) = &table_of {
            table(&mut md, t);
        }
    }
    md.push_str("## Timeline\n\n");
    match timeline {
        Some(path) => {
            let _ = writeln!(md, "![Timeline of the execution]({})\n", link(path));
        }
        None => md.push_str(
            "The timeline picture is in the HTML report (`ripcord report ID --format html`), or \
             beside this file when it is written with `--output FILE.md`.\n\n",
        ),
    }
    for w in &report.waves {
        let _ = writeln!(
            md,
            "## Wave {}: {} — {}\n\n{}\n",
            w.wave_number,
            text(&w.name),
            content::wave_badge(w, m),
            content::wave_facts(w, m)
        );
        if w.servers.is_empty() {
            md.push_str("No server records (the wave never started).\n\n");
        } else {
            table(&mut md, &content::servers_table(report, &w.servers, m));
        }
        if !w.actions.is_empty() {
            table(&mut md, &content::actions_table(report, &w.actions, m));
        }
        for output in content::outputs(&w.actions, m) {
            let fence = "`".repeat(longest_backtick_run(&output.body).max(2) + 1);
            let _ = writeln!(
                md,
                "{}\n\n{fence}\n{}\n{fence}\n",
                output.heading, output.body
            );
        }
    }
    md.push_str("## Definitions\n\n");
    for (term, meaning) in DEFINITIONS {
        let _ = writeln!(md, "- **{term}**: {meaning}");
    }
    md
}

fn table(md: &mut String, t: &Table) {
    let _ = writeln!(md, "| {} |", t.header.join(" | "));
    let _ = writeln!(md, "|{}", " --- |".repeat(t.header.len()));
    for row in &t.rows {
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    md.push('\n');
}

/// Escapes text for a Markdown table cell or paragraph: Markdown syntax
/// is backslash-escaped, HTML is turned into entities, newlines into spaces.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A link target: spaces and parentheses percent-encoded.
fn link(path: &str) -> String {
    path.replace('%', "%25")
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}
