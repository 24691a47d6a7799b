//! `ripcord aws bootstrap`: creates the AWS resources of one deployment.

use crate::backend::{AwsArgs, aws_clients};
use ripcord_aws::bootstrap::{BootstrapOptions, bootstrap};
use std::process::ExitCode;

pub async fn bootstrap_command(args: &AwsArgs, max_receive_count: u32) -> anyhow::Result<ExitCode> {
    let settings = args.settings();
    let clients = aws_clients(&settings).await?;
    let options = BootstrapOptions {
        max_receive_count,
        ..BootstrapOptions::default()
    };
    let report = bootstrap(&clients, &settings.names, &options).await?;
    print!("{report}");
    Ok(ExitCode::SUCCESS)
}
