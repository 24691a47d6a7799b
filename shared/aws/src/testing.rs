//! Test support (feature `testing`): clients pointed at a moto server and
//! resource names unique to each test, so tests run in parallel on one
//! moto without resetting it.
//!
//! The moto URL comes from `RIPCORD_TEST_MOTO_URL`, the simulator server's
//! from `RIPCORD_TEST_SIM_URL`. Without them a test is skipped (it says
//! so), unless `RIPCORD_REQUIRE_AWS_TESTS=1`, when it fails: CI sets all
//! three, so the tests cannot be skipped there unnoticed.

use crate::config::{AwsSettings, Clients, ResourceNames, load_sdk_config};
use aws_config::{BehaviorVersion, Region};

pub const MOTO_URL_VAR: &str = "RIPCORD_TEST_MOTO_URL";
/// The simulator server's URL (`ripcord sim serve`).
pub const SIM_URL_VAR: &str = "RIPCORD_TEST_SIM_URL";
pub const REQUIRE_VAR: &str = "RIPCORD_REQUIRE_AWS_TESTS";

/// The URL of a local stand-in named by the environment variable `var`,
/// without a trailing slash; None (after saying the test is skipped) when
/// it is unset.
///
/// # Panics
/// When `var` is unset and `RIPCORD_REQUIRE_AWS_TESTS=1`: CI sets both, so
/// the tests cannot be skipped there unnoticed.
pub fn stand_in_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ => {
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
                panic!(
                    "{var} is not set but {REQUIRE_VAR}=1: run the tests with scripts/test, which starts moto_server and `ripcord sim serve` and sets {MOTO_URL_VAR} and {SIM_URL_VAR}"
                );
            }
            println!("skipped: {var} is not set (scripts/test starts the local stand-ins)");
            None
        }
    }
}

/// moto's URL (`RIPCORD_TEST_MOTO_URL`), as [`stand_in_url`].
pub fn moto_url() -> Option<String> {
    stand_in_url(MOTO_URL_VAR)
}

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
    let url = moto_url()?;
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
