//! `ripcord report ID --format md|html|json [--output FILE]`: the drill
//! report of one execution, from the store of either backend. Printed to
//! stdout, or written to FILE (a Markdown file gets its timeline beside it
//! as FILE.svg). A report of an execution that has not settled says it is
//! provisional.

use super::inputs::parse_id;
use crate::backend::{Backend, BackendArgs};
use crate::reports::{self, ReportFormat};
use std::path::Path;
use std::process::ExitCode;

pub async fn report(
    args: &BackendArgs,
    id: &str,
    format: ReportFormat,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let id = parse_id(id)?;
    let backend = Backend::open_existing(args).await?;
    let Some((execution, waves)) = reports::load(backend.store().as_ref(), id).await? else {
        anyhow::bail!(
            "no execution {id} in {}; `ripcord list` shows the ones there",
            args.describe()
        );
    };
    let report = ripcord::report::build(&execution, &waves);
    match output {
        Some(path) => {
            for written in reports::write_file(&report, format, path)? {
                println!("{}", written.display());
            }
        }
        None => print!("{}", reports::render(&report, format, None)),
    }
    if !report.settled {
        eprintln!(
            "note: execution {id} is still {}; this report is provisional (run it again once it has settled)",
            ripcord::report::format::status(report.status)
        );
    }
    Ok(ExitCode::SUCCESS)
}
