//! `ripcord aws bootstrap`: creates the AWS resources of one deployment.

use crate::backend::BackendArgs;
use ripcord_aws::bootstrap::{BootstrapOptions, bootstrap};
use ripcord_aws::{Clients, load_sdk_config};
use std::process::ExitCode;

pub async fn bootstrap_command(
    args: &BackendArgs,
    max_receive_count: u32,
) -> anyhow::Result<ExitCode> {
    let settings = args.aws_settings();
    let config = load_sdk_config(&settings).await;
    if config.region().is_none() {
        anyhow::bail!("no AWS region is configured; set AWS_REGION or pass --region");
    }
    let clients = Clients::new(&config);
    let options = BootstrapOptions {
        max_receive_count,
        ..BootstrapOptions::default()
    };
    let report = bootstrap(&clients, &settings.names, &options).await?;
    print!("{report}");
    Ok(ExitCode::SUCCESS)
}
