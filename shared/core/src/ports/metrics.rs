//! Where the metrics worker publishes: CloudWatch on AWS, a table in the
//! embedded database locally. Namespace `DRS/Orchestration` (docs/monitoring.md).

use crate::service_error::ServiceError;
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const NAMESPACE: &str = "DRS/Orchestration";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricUnit {
    Count,
    Percent,
    Seconds,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricDatum {
    pub name: String,
    pub value: f64,
    pub unit: MetricUnit,
    pub dimensions: BTreeMap<String, String>,
    pub timestamp: Timestamp,
}

#[async_trait]
pub trait MetricsSink: Send + Sync {
    /// PutMetricData for `NAMESPACE`; the adapter batches as its service needs.
    async fn put_metrics(&self, data: &[MetricDatum]) -> Result<(), ServiceError>;
}
