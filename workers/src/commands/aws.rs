//! `ripcord aws bootstrap`: creates the AWS resources of one deployment.

use crate::backend::{BackendArgs, aws_clients};
use ripcord_aws::bootstrap::{BootstrapOptions, bootstrap};
use std::process::ExitCode;

pub async fn bootstrap_command(
    args: &BackendArgs,
    max_receive_count: u32,
) -> anyhow::Result<ExitCode> {
    let settings = args.aws_settings();
    let clients = aws_clients(&settings).await?;
    let options = BootstrapOptions {
        max_receive_count,
        ..BootstrapOptions::default()
    };
    let report = bootstrap(&clients, &settings.names, &options).await?;
    print!("{report}");
    Ok(ExitCode::SUCCESS)
}
