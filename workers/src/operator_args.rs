//! What `ripcord retry`, `skip`, `pause` and `resume` take (operator
//! control, docs/status-model.md): kept apart from `cli.rs` so that the
//! commands read them without going through the whole command line.

use crate::backend::BackendArgs;
use ripcord::ids::WaveNumber;
use ripcord::operator::OperatorCommand;

/// The execution, who asks (`--requested-by`, like `ripcord cancel`) and
/// where it is kept: what every operator command takes.
#[derive(Debug, clap::Args)]
pub struct Target {
    pub id: String,
    /// Who asks (recorded and reported); default as for `start`.
    #[arg(long, env = "RIPCORD_REQUESTED_BY")]
    pub requested_by: Option<String>,
    #[command(flatten)]
    pub backend: BackendArgs,
}

#[derive(Debug, clap::Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub target: Target,
    /// The FAILED wave's number (as `ripcord status` shows it).
    #[arg(long)]
    pub wave: u32,
    /// A failed server of the wave to relaunch (repeat for more); none:
    /// every failed one.
    #[arg(long = "server")]
    pub servers: Vec<String>,
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SkipArgs {
    #[command(flatten)]
    pub target: Target,
    /// The wave's number: FAILED, WAITING or not started.
    #[arg(long)]
    pub wave: u32,
    /// Why it is skipped (kept on the execution and in the report).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, clap::Args)]
pub struct PauseArgs {
    #[command(flatten)]
    pub target: Target,
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    pub target: Target,
}

/// One operator command as the command line gave it.
pub struct Operation<'a> {
    pub target: &'a Target,
    pub command: OperatorCommand,
    pub reason: Option<String>,
}

impl RetryArgs {
    pub fn operation(&self) -> anyhow::Result<Operation<'_>> {
        let servers = self
            .servers
            .iter()
            .map(|s| ripcord::ids::SourceServerId::parse(s))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("--server: {e}"))?;
        Ok(Operation {
            target: &self.target,
            command: OperatorCommand::Retry {
                wave: WaveNumber(self.wave),
                servers,
            },
            reason: self.reason.clone(),
        })
    }
}

impl SkipArgs {
    pub fn operation(&self) -> Operation<'_> {
        Operation {
            target: &self.target,
            command: OperatorCommand::Skip {
                wave: WaveNumber(self.wave),
                reason: self.reason.clone(),
            },
            reason: None,
        }
    }
}

impl PauseArgs {
    pub fn operation(&self) -> Operation<'_> {
        Operation {
            target: &self.target,
            command: OperatorCommand::Pause,
            reason: self.reason.clone(),
        }
    }
}

impl ResumeArgs {
    pub fn operation(&self) -> Operation<'_> {
        Operation {
            target: &self.target,
            command: OperatorCommand::Resume,
            reason: None,
        }
    }
}
