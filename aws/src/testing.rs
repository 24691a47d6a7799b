//! Test support (feature `testing`): clients pointed at a moto server and
//! resource names unique to each test, so tests run in parallel on one
//! moto without resetting it.
//!
//! The moto URL comes from `RIPCORD_TEST_MOTO_URL`. Without it a test is
//! skipped (it says so), unless `RIPCORD_REQUIRE_AWS_TESTS=1`, when it
//! fails: CI sets both, so the tests cannot be skipped there unnoticed.

use crate::config::{AwsSettings, Clients, ResourceNames, load_sdk_config};
use aws_config::{BehaviorVersion, Region};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const MOTO_URL_VAR: &str = "RIPCORD_TEST_MOTO_URL";
pub const REQUIRE_VAR: &str = "RIPCORD_REQUIRE_AWS_TESTS";

/// Clients on moto and a fresh prefix for this test's resources.
#[derive(Clone, Debug)]
pub struct MotoHandle {
    pub url: String,
    pub clients: Clients,
    pub names: ResourceNames,
    /// The settings the clients were built from (for code that builds its own).
    pub settings: AwsSettings,
}

/// The moto server to test against, or None (after saying the test is
/// skipped) when `RIPCORD_TEST_MOTO_URL` is unset.
///
/// # Panics
/// When the URL is unset and `RIPCORD_REQUIRE_AWS_TESTS=1`.
pub async fn moto() -> Option<MotoHandle> {
    let Some(url) = std::env::var(MOTO_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
            panic!(
                "{MOTO_URL_VAR} is not set but {REQUIRE_VAR}=1: start moto_server and set {MOTO_URL_VAR}=http://127.0.0.1:PORT"
            );
        }
        eprintln!("skipped: {MOTO_URL_VAR} is not set");
        return None;
    };
    let url = url.trim().trim_end_matches('/').to_owned();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let names = ResourceNames::new(format!("t{}", &suffix[..12]));
    let settings = AwsSettings {
        region: Some("us-east-1".to_owned()),
        endpoint_url: Some(url.clone()),
        max_attempts: Some(1),
        names: names.clone(),
    };
    Some(MotoHandle {
        clients: Clients::new(&test_sdk_config(&settings).await),
        url,
        names,
        settings,
    })
}

/// The SDK configuration of `settings` with static test credentials.
pub async fn test_sdk_config(settings: &AwsSettings) -> aws_config::SdkConfig {
    let base = load_sdk_config(settings).await;
    let mut builder = base.into_builder();
    builder.set_credentials_provider(Some(aws_sdk_sqs::config::SharedCredentialsProvider::new(
        aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "ripcord-tests"),
    )));
    builder.set_region(Some(Region::new(
        settings
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned()),
    )));
    builder.set_behavior_version(Some(BehaviorVersion::latest()));
    builder.build()
}

impl MotoHandle {
    /// Wipes every resource in moto (`POST /moto-api/reset`). Tests that
    /// share a moto should not need it: their names are unique.
    pub async fn reset(&self) -> std::io::Result<()> {
        reset(&self.url).await
    }
}

/// `POST {url}/moto-api/reset` over plain HTTP (moto runs locally).
pub async fn reset(url: &str) -> std::io::Result<()> {
    let invalid =
        |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{url}: {why}"));
    let host = url
        .strip_prefix("http://")
        .ok_or_else(|| invalid("only http:// moto URLs are supported"))?
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await?;
    let request = format!(
        "POST /moto-api/reset HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let status_line = String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "moto reset at {url} answered `{status_line}`"
        )))
    }
}
