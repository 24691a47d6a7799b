//! Ripcord on AWS: adapters that implement the core's ports with the
//! official SDK clients (SQS, DynamoDB, DRS, EC2, SSM, EventBridge,
//! CloudWatch), and the simulator served over HTTP in DRS' and SSM's real
//! wire protocols so those same clients can be tested without an account.

pub mod bootstrap;
pub mod config;
pub mod dynamodb;
pub mod error;
pub mod sim_server;
pub mod sqs;
#[cfg(feature = "testing")]
pub mod testing;

pub use bootstrap::{BootstrapError, BootstrapOptions, BootstrapReport, bootstrap};
pub use config::{AwsSettings, Clients, ResourceNames, load_sdk_config};
pub use dynamodb::DynamoStore;
pub use error::service_error;
pub use sqs::SqsQueue;
