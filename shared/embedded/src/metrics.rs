//! The embedded [`MetricsSink`]: a table standing in for CloudWatch
//! PutMetricData, read back by tests and the local report.

use crate::connection::Shared;
use crate::error::EmbeddedError;
use async_trait::async_trait;
use ripcord::ports::metrics::{MetricDatum, MetricUnit, MetricsSink, NAMESPACE};
use ripcord::service_error::{ErrorClass, ServiceError};
use rusqlite::{ErrorCode, TransactionBehavior, params};
use std::sync::Arc;

/// The embedded metrics sink. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedMetrics {
    shared: Arc<Shared>,
}

/// A metric as stored: the datum and the namespace it was published to.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMetric {
    pub namespace: String,
    pub datum: MetricDatum,
}

fn unit_text(unit: MetricUnit) -> &'static str {
    match unit {
        MetricUnit::Count => "Count",
        MetricUnit::Percent => "Percent",
        MetricUnit::Seconds => "Seconds",
    }
}

fn parse_unit(text: &str) -> Option<MetricUnit> {
    [MetricUnit::Count, MetricUnit::Percent, MetricUnit::Seconds]
        .into_iter()
        .find(|u| unit_text(*u) == text)
}

fn service_error(e: rusqlite::Error) -> ServiceError {
    storage_error("embedded-metrics", "PutMetricData", e)
}

/// A failed write as the error the AWS call it stands in for would answer:
/// a busy or locked file may clear up, anything else will not.
pub(super) fn storage_error(service: &str, operation: &str, e: rusqlite::Error) -> ServiceError {
    let class = match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    };
    ServiceError {
        service: service.to_owned(),
        operation: operation.to_owned(),
        class,
        code: "StorageError".to_owned(),
        message: format!("{e}; {}", crate::connection::FILE_HINT),
        retry_after: None,
    }
}

impl EmbeddedMetrics {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Every stored metric, oldest first, optionally only those named `name`.
    pub fn stored(&self, name: Option<&str>) -> Result<Vec<StoredMetric>, EmbeddedError> {
        let rows: Vec<(String, String, f64, String, String, String)> = {
            let conn = self.shared.db.lock();
            let mut select = conn.prepare_cached(
                "SELECT namespace, name, value, unit, dimensions, timestamp FROM metrics
                 WHERE ?1 IS NULL OR name = ?1 ORDER BY seq",
            )?;
            select
                .query_map(params![name], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?
        };
        rows.into_iter()
            .map(|(namespace, name, value, unit, dimensions, timestamp)| {
                let corrupt =
                    |what: String| EmbeddedError::Corrupt(format!("metric {name}: {what}"));
                let unit =
                    parse_unit(&unit).ok_or_else(|| corrupt(format!("unknown unit {unit}")))?;
                let dimensions = serde_json::from_str(&dimensions)
                    .map_err(|e| corrupt(format!("bad dimensions: {e}")))?;
                let timestamp = chrono::DateTime::parse_from_rfc3339(&timestamp)
                    .map_err(|e| corrupt(format!("bad timestamp {timestamp}: {e}")))?
                    .to_utc();
                Ok(StoredMetric {
                    namespace,
                    datum: MetricDatum {
                        name,
                        value,
                        unit,
                        dimensions,
                        timestamp,
                    },
                })
            })
            .collect()
    }
}

#[async_trait]
impl MetricsSink for EmbeddedMetrics {
    async fn put_metrics(&self, data: &[MetricDatum]) -> Result<(), ServiceError> {
        if data.is_empty() {
            return Ok(());
        }
        let rows = data
            .iter()
            .map(|d| {
                // A BTreeMap<String, String> always encodes.
                let dimensions = serde_json::to_string(&d.dimensions).unwrap_or_default();
                let timestamp = d
                    .timestamp
                    .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
                (d, dimensions, timestamp)
            })
            .collect::<Vec<_>>();
        let mut conn = self.shared.db.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(service_error)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO metrics (namespace, name, value, unit, dimensions, timestamp)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(service_error)?;
            for (d, dimensions, timestamp) in &rows {
                insert
                    .execute(params![
                        NAMESPACE,
                        d.name,
                        d.value,
                        unit_text(d.unit),
                        dimensions,
                        timestamp
                    ])
                    .map_err(service_error)?;
            }
        }
        tx.commit().map_err(service_error)
    }
}

#[cfg(test)]
mod tests {
    use crate::{EmbeddedBackend, EmbeddedConfig};
    use ripcord::ports::metrics::{MetricDatum, MetricUnit, NAMESPACE};
    use std::collections::BTreeMap;

    #[tokio::test]
    async fn published_metrics_are_read_back_with_their_dimensions() {
        let dir = tempfile::tempdir().unwrap();
        let backend =
            EmbeddedBackend::open(&dir.path().join("r.db"), EmbeddedConfig::default()).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2025-03-01T10:00:00.123456789Z")
            .unwrap()
            .to_utc();
        let rto = MetricDatum {
            name: "RecoveryTimeObjective".into(),
            value: 412.5,
            unit: MetricUnit::Seconds,
            dimensions: BTreeMap::from([("PlanName".into(), "payments".into())]),
            timestamp: at,
        };
        let launched = MetricDatum {
            name: "ServersLaunched".into(),
            value: 12.0,
            unit: MetricUnit::Count,
            dimensions: BTreeMap::new(),
            timestamp: at,
        };
        backend
            .metrics()
            .put_metrics(&[rto.clone(), launched.clone()])
            .await
            .unwrap();

        let all = backend.stored_metrics(None).unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|m| m.namespace == NAMESPACE));
        assert_eq!(all[0].datum, rto);
        assert_eq!(all[1].datum, launched);

        let only = backend.stored_metrics(Some("ServersLaunched")).unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].datum, launched);
    }
}
