//! What bootstrap did (created, already there) and how it can fail.

use ripcord::service_error::ServiceError;
use std::fmt;
use std::time::Duration;

/// How long bootstrap waits for a new table to become ACTIVE.
pub(super) const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// What bootstrap found and did, resource by resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootstrapReport {
    /// Resources it created.
    pub created: Vec<String>,
    /// Resources that were there already (their settings are brought in line).
    pub existing: Vec<String>,
}

impl BootstrapReport {
    pub(super) fn note(&mut self, created: bool, resource: String) {
        if created {
            self.created.push(resource);
        } else {
            self.existing.push(resource);
        }
    }
}

impl fmt::Display for BootstrapReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.created {
            writeln!(f, "created        {r}")?;
        }
        for r in &self.existing {
            writeln!(f, "already there  {r}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(
        "could not set up {resource}: {source}; check that the credentials may manage SQS queues, DynamoDB tables and EventBridge rules in this region, then run bootstrap again"
    )]
    Service {
        resource: String,
        source: Box<ServiceError>,
    },
    #[error(
        "table {table} exists but lacks the indexes {missing:?} Ripcord queries; it was not made by this version of `ripcord aws bootstrap`: delete it or choose another resource prefix"
    )]
    TableMismatch { table: String, missing: Vec<String> },
    #[error(
        "table {table} was still {status} after {TABLE_ACTIVE_TIMEOUT:?}; run bootstrap again once the table is ACTIVE"
    )]
    TableNotActive { table: String, status: String },
    #[error("{0}; this is a bug in ripcord, please report it")]
    Request(String),
}

pub(super) fn failed(resource: &str) -> impl Fn(ServiceError) -> BootstrapError + '_ {
    move |source| BootstrapError::Service {
        resource: resource.to_owned(),
        source: Box::new(source),
    }
}

pub(super) fn request(e: impl fmt::Display) -> BootstrapError {
    BootstrapError::Request(format!("cannot build a request: {e}"))
}
