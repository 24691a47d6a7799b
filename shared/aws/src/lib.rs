//! Ripcord on AWS: adapters that implement the core's ports with the
//! official SDK clients (SQS, DynamoDB, DRS, EC2, SSM, EventBridge,
//! CloudWatch), the caller's identity (STS), and `ripcord aws bootstrap`, which creates the queues, the
//! table and the event bus they use. The simulator that stands in for DRS
//! and SSM over HTTP is its own crate, `ripcord-sim-server`.

pub mod bootstrap;
pub mod calls;
pub mod cloudwatch;
pub mod config;
pub mod drs;
pub mod dynamodb;
pub mod ec2;
pub mod error;
pub mod eventbridge;
pub mod outcomes;
pub mod pages;
pub mod sqs;
pub mod ssm;
pub mod sts;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timestamps;

pub use bootstrap::{BootstrapError, BootstrapOptions, BootstrapReport, bootstrap};
pub use cloudwatch::CloudWatchMetrics;
pub use config::{AwsSettings, Clients, ResourceNames, load_sdk_config};
pub use drs::DrsService;
pub use dynamodb::DynamoStore;
pub use ec2::Ec2Directory;
pub use error::service_error;
pub use eventbridge::EventBridgeAnnouncer;
pub use sqs::SqsQueue;
pub use ssm::SsmCommands;
