//! The metrics sink on Amazon CloudWatch: PutMetricData to Ripcord's
//! namespace (`DRS/Orchestration`), in batches the API accepts.
//!
//! A call takes at most 1,000 datums and 1 MB. Batches are cut at 1,000
//! datums or at an estimated 900 KiB, whichever comes first. The estimate
//! is an upper bound in any of CloudWatch's wire formats: every name and
//! value counted three times over (worst-case percent-encoding in the old
//! query protocol) plus 64 bytes per field (its `MetricData.member.N...`
//! keys; CBOR needs far less). Typical datums, a few short dimensions, fit
//! 1,000 to a call.

use crate::error::service_error;
use crate::timestamps::to_sdk;
use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum as SdkDatum, StandardUnit};
use ripcord::ports::MetricsSink;
use ripcord::ports::metrics::{MetricDatum, MetricUnit, NAMESPACE};
use ripcord::service_error::ServiceError;

const SERVICE: &str = "cloudwatch";
const OPERATION: &str = "PutMetricData";

/// PutMetricData's limit on datums per call.
pub const MAX_DATUMS_PER_CALL: usize = 1000;
/// The estimated size a batch is cut at, under the 1 MB request limit.
pub const MAX_BATCH_BYTES: usize = 900 * 1024;
/// CloudWatch takes at most 30 dimensions per datum.
pub const MAX_DIMENSIONS: usize = 30;

/// `MetricsSink` over the CloudWatch API.
#[derive(Clone, Debug)]
pub struct CloudWatchMetrics {
    client: Client,
}

impl CloudWatchMetrics {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl MetricsSink for CloudWatchMetrics {
    async fn put_metrics(&self, data: &[MetricDatum]) -> Result<(), ServiceError> {
        for datum in data {
            check(datum)?;
        }
        for batch in batches(data) {
            self.client
                .put_metric_data()
                .namespace(NAMESPACE)
                .set_metric_data(Some(batch.iter().map(sdk_datum).collect()))
                .send()
                .await
                .map_err(|e| service_error(SERVICE, OPERATION, e))?;
        }
        Ok(())
    }
}

/// What CloudWatch would refuse for the whole batch, refused here for the
/// one datum, with its name.
fn check(datum: &MetricDatum) -> Result<(), ServiceError> {
    let problem = if !datum.value.is_finite() {
        Some(format!("its value is {}", datum.value))
    } else if datum.dimensions.len() > MAX_DIMENSIONS {
        Some(format!(
            "it has {} dimensions, CloudWatch takes at most {MAX_DIMENSIONS}",
            datum.dimensions.len()
        ))
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ServiceError::from_code(
            SERVICE,
            OPERATION,
            "InvalidParameterValue",
            &format!(
                "metric {} cannot be published: {problem}; this is a bug in the metric's producer",
                datum.name
            ),
        )),
        None => Ok(()),
    }
}

/// The data in order, cut into batches of at most `MAX_DATUMS_PER_CALL`
/// datums and about `MAX_BATCH_BYTES`.
pub fn batches(data: &[MetricDatum]) -> Vec<&[MetricDatum]> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, datum) in data.iter().enumerate() {
        let size = estimated_size(datum);
        let full = i - start == MAX_DATUMS_PER_CALL || bytes + size > MAX_BATCH_BYTES;
        if full && i > start {
            batches.push(&data[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < data.len() {
        batches.push(&data[start..]);
    }
    batches
}

/// An upper bound of a datum's size on the wire.
fn estimated_size(datum: &MetricDatum) -> usize {
    const FIELD_OVERHEAD: usize = 64;
    let dimensions: usize = datum
        .dimensions
        .iter()
        .map(|(k, v)| 2 * FIELD_OVERHEAD + 3 * (k.len() + v.len()))
        .sum();
    // name, value, unit, timestamp
    4 * FIELD_OVERHEAD + 3 * datum.name.len() + dimensions
}

fn sdk_datum(datum: &MetricDatum) -> SdkDatum {
    SdkDatum::builder()
        .metric_name(&datum.name)
        .value(datum.value)
        .unit(match datum.unit {
            MetricUnit::Count => StandardUnit::Count,
            MetricUnit::Percent => StandardUnit::Percent,
            MetricUnit::Seconds => StandardUnit::Seconds,
        })
        .set_dimensions(Some(
            datum
                .dimensions
                .iter()
                .map(|(name, value)| Dimension::builder().name(name).value(value).build())
                .collect(),
        ))
        .timestamp(to_sdk(datum.timestamp))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn datum(name: &str, dimension_value_len: usize) -> MetricDatum {
        MetricDatum {
            name: name.to_owned(),
            value: 1.0,
            unit: MetricUnit::Count,
            dimensions: BTreeMap::from([("Plan".to_owned(), "x".repeat(dimension_value_len))]),
            timestamp: chrono::Utc::now(),
        }
    }

    #[test]
    fn batches_hold_at_most_a_thousand_datums_in_order() {
        let data: Vec<MetricDatum> = (0..2_345).map(|i| datum(&format!("m{i}"), 8)).collect();
        let cut = batches(&data);
        let sizes: Vec<usize> = cut.iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1000, 1000, 345]);
        assert_eq!(cut[1][0].name, "m1000");
        assert_eq!(cut[2][344].name, "m2344");
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn large_datums_are_cut_by_size() {
        // ~3.4 KB each on the estimate: 270 fit in 900 KiB.
        let data: Vec<MetricDatum> = (0..400).map(|i| datum(&format!("m{i}"), 1000)).collect();
        let cut = batches(&data);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut.iter().map(|b| b.len()).sum::<usize>(), 400);
        for batch in &cut {
            let bytes: usize = batch.iter().map(estimated_size).sum();
            assert!(bytes <= MAX_BATCH_BYTES, "{bytes}");
        }
    }

    #[test]
    fn unpublishable_datums_are_refused_by_name() {
        let mut bad = datum("RTO", 1);
        bad.value = f64::NAN;
        let e = check(&bad).unwrap_err();
        assert!(e.message.contains("RTO"), "{}", e.message);
        assert!(!e.class.is_retryable());
        assert!(check(&datum("RTO", 1)).is_ok());
    }
}
