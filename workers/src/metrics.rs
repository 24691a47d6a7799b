//! The metrics worker's step: read an execution's status view and publish
//! the progress metrics (docs/monitoring.md) (namespace `DRS/Orchestration`), and each
//! server's launch duration once the execution has settled.

use crate::ports::Ports;
use ripcord::ids::ExecutionId;
use ripcord::ports::metrics::{MetricDatum, MetricUnit};
use ripcord::service_error::ServiceError;
use ripcord::status::{ExecutionView, execution_status, is_settled};
use ripcord::status_model::ExecutionStatus;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(transparent)]
    Store(#[from] ripcord::ports::store::StoreError),
    #[error(transparent)]
    Sink(#[from] ServiceError),
}

/// Publishes the metrics of one execution; an unknown id publishes nothing.
/// `deployment` names the deployment (its name prefix) in the one datum an
/// alarm watches across executions: `FailedServers` with only the
/// `Deployment` dimension.
pub async fn publish(
    ports: &Ports,
    id: ExecutionId,
    deployment: &str,
) -> Result<usize, MetricsError> {
    let Some(execution) = ports.store.load_execution(id).await? else {
        return Ok(0);
    };
    let waves = ports.store.load_waves(id).await?;
    let now = ports.clock.now();
    let view = execution_status(&execution.record, &waves, now);
    let mut data = metric_data(&view, is_settled(&execution.record, &waves));
    data.push(MetricDatum {
        name: "FailedServers".to_owned(),
        value: view.progress.failed_servers as f64,
        unit: MetricUnit::Count,
        dimensions: BTreeMap::from([("Deployment".to_owned(), deployment.to_owned())]),
        timestamp: view.last_updated,
    });
    ports.metrics.put_metrics(&data).await?;
    Ok(data.len())
}

/// The data points for a view: progress counts always, launch durations
/// per server once `settled`.
pub fn metric_data(view: &ExecutionView, settled: bool) -> Vec<MetricDatum> {
    let dims = BTreeMap::from([
        ("ExecutionId".to_owned(), view.execution_id.to_string()),
        ("PlanName".to_owned(), view.plan_name.clone()),
    ]);
    let at = view.last_updated;
    let datum = |name: &str, value: f64, unit: MetricUnit, dimensions: BTreeMap<String, String>| {
        MetricDatum {
            name: name.to_owned(),
            value,
            unit,
            dimensions,
            timestamp: at,
        }
    };
    let p = &view.progress;
    let active = f64::from(u8::from(view.status == ExecutionStatus::InProgress));
    let mut data = vec![
        datum(
            "TotalServers",
            p.total_servers as f64,
            MetricUnit::Count,
            dims.clone(),
        ),
        datum(
            "LaunchedServers",
            p.launched_servers as f64,
            MetricUnit::Count,
            dims.clone(),
        ),
        datum(
            "CompletedServers",
            p.completed_servers as f64,
            MetricUnit::Count,
            dims.clone(),
        ),
        datum(
            "FailedServers",
            p.failed_servers as f64,
            MetricUnit::Count,
            dims.clone(),
        ),
        datum(
            "PercentComplete",
            p.percent_complete,
            MetricUnit::Percent,
            dims.clone(),
        ),
        datum("ActiveExecutions", active, MetricUnit::Count, dims.clone()),
    ];
    if settled {
        for wave in &view.waves {
            for server in &wave.servers {
                if let (Some(start), Some(end)) = (server.launch_start_time, server.launch_end_time)
                {
                    let mut d = dims.clone();
                    d.insert("Wave".into(), wave.wave_number.to_string());
                    d.insert("SourceServerId".into(), server.source_server_id.to_string());
                    let secs = (end - start).num_milliseconds() as f64 / 1000.0;
                    data.push(datum("LaunchDuration", secs, MetricUnit::Seconds, d));
                }
            }
        }
    }
    data
}
