//! Drill reports as files: loading an execution's records from the store,
//! rendering them (`ripcord::report`) and writing them atomically, so a
//! reader never sees half a report and writing the same report twice (two
//! metrics workers, a redelivered message) leaves the same bytes.
//!
//! In a report directory each execution gets `<id>.md`, `<id>.html`,
//! `<id>.json` and `<id>.svg` (the timeline the Markdown links to; the HTML
//! holds its own copy inline).

use crate::ports::Ports;
use ripcord::ids::ExecutionId;
use ripcord::ports::ExecutionStore;
use ripcord::ports::store::StoreError;
use ripcord::records::{ExecutionRecord, WaveRecord};
use ripcord::report::{self, DrillReport};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The report's formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown; with --output FILE.md the timeline is written beside it as FILE.svg.
    Md,
    /// One self-contained HTML page with the timeline inline.
    Html,
    /// The JSON format (camelCase, `schemaVersion`).
    Json,
}

impl ReportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Md => "md",
            ReportFormat::Html => "html",
            ReportFormat::Json => "json",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot write the report file {path}: {source}; check that its directory exists and is writable (or choose another with --output / --report-dir)"
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The records of execution `id`, or `None` if the store has no such
/// execution.
pub async fn load(
    store: &dyn ExecutionStore,
    id: ExecutionId,
) -> Result<Option<(ExecutionRecord, Vec<WaveRecord>)>, StoreError> {
    let Some(execution) = store.load_execution(id).await? else {
        return Ok(None);
    };
    let waves = store.load_waves(id).await?;
    Ok(Some((execution.record, waves)))
}

/// The report in `format`. `timeline`: for Markdown, the path (relative to
/// the Markdown file) of the timeline SVG written beside it.
pub fn render(report: &DrillReport, format: ReportFormat, timeline: Option<&str>) -> String {
    match format {
        ReportFormat::Md => report::markdown::render(report, timeline),
        ReportFormat::Html => report::html::render(report),
        ReportFormat::Json => report.to_json() + "\n",
    }
}

/// Writes the report to `path` in `format`; a Markdown file gets its
/// timeline beside it (same name, `.svg`). Returns the paths written.
pub fn write_file(
    report: &DrillReport,
    format: ReportFormat,
    path: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    let timeline = if format == ReportFormat::Md {
        let svg = path.with_extension("svg");
        write_atomically(&svg, &report::svg::timeline(report))?;
        let name = svg.file_name().map(|n| n.to_string_lossy().into_owned());
        written.push(svg);
        name
    } else {
        None
    };
    write_atomically(path, &render(report, format, timeline.as_deref()))?;
    written.insert(0, path.to_owned());
    Ok(written)
}

/// Writes every format of the report into `dir` (created if missing):
/// `<id>.md` (+ `<id>.svg`), `<id>.html`, `<id>.json`.
pub fn write_all(report: &DrillReport, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for format in [ReportFormat::Md, ReportFormat::Html, ReportFormat::Json] {
        let path = dir.join(format!("{}.{}", report.execution_id, format.extension()));
        written.extend(write_file(report, format, &path)?);
    }
    Ok(written)
}

/// The metrics worker's part: once execution `id` has settled, its report
/// goes into `dir`. Returns the paths written (none while it runs, or for
/// an unknown id). Safe to repeat: the records no longer change once
/// settled, so the files come out the same.
pub async fn write_when_settled(
    ports: &Ports,
    id: ExecutionId,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let Some((execution, waves)) = load(ports.store.as_ref(), id).await? else {
        return Ok(Vec::new());
    };
    if !ripcord::status::is_settled(&execution, &waves) {
        return Ok(Vec::new());
    }
    write_all(&report::build(&execution, &waves), dir)
}

/// Writes through a temporary file in the same directory and a rename.
fn write_atomically(path: &Path, text: &str) -> Result<(), ReportError> {
    let error = |source| ReportError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    file.write_all(text.as_bytes()).map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::testing;

    #[test]
    fn a_report_directory_gets_every_format_and_the_markdown_links_its_timeline() {
        let f = testing::completed();
        let report = report::build(&f.execution, &f.waves);
        let dir = tempfile::tempdir().unwrap();
        let written = write_all(&report, dir.path()).unwrap();
        let id = report.execution_id;
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                format!("{id}.md"),
                format!("{id}.svg"),
                format!("{id}.html"),
                format!("{id}.json")
            ]
        );
        let md = std::fs::read_to_string(dir.path().join(format!("{id}.md"))).unwrap();
        assert!(md.contains(&format!("![Timeline of the execution]({id}.svg)")));
        let json = std::fs::read_to_string(dir.path().join(format!("{id}.json"))).unwrap();
        let back: DrillReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);

        // Again: the same bytes, no temporary files left behind.
        let before = std::fs::read(dir.path().join(format!("{id}.html"))).unwrap();
        write_all(&report, dir.path()).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join(format!("{id}.html"))).unwrap(),
            before
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }

    #[test]
    fn an_unwritable_place_says_which_file_and_what_to_do() {
        let f = testing::completed();
        let report = report::build(&f.execution, &f.waves);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("r.html");
        let e = write_file(&report, ReportFormat::Html, &path).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("missing/r.html"), "{text}");
        assert!(text.contains("--output"), "{text}");
    }
}
