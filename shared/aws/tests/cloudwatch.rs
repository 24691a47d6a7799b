//! The CloudWatch metrics sink over the real `aws-sdk-cloudwatch` client.
//! That client speaks Smithy RPC v2 CBOR, which moto 5.2.5 does not (it
//! answers 404), so these tests use the stub in that protocol: what
//! PutMetricData carries, how data is batched, how errors are classified.

mod support;

use ripcord::ports::MetricsSink;
use ripcord::ports::metrics::{MetricDatum, MetricUnit, NAMESPACE};
use ripcord::service_error::ErrorClass;
use ripcord_aws::CloudWatchMetrics;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::{Protocol, Reply, Stub};

async fn cloudwatch() -> (Stub, CloudWatchMetrics) {
    let stub = Stub::start(Protocol::RpcV2Cbor).await;
    let clients = support::clients(&stub.url).await;
    (stub, CloudWatchMetrics::new(clients.cloudwatch))
}

/// 2024-05-01T12:00:07.500Z
fn at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_714_564_807, 500_000_000).unwrap()
}

fn datum(name: &str, value: f64, unit: MetricUnit) -> MetricDatum {
    MetricDatum {
        name: name.to_owned(),
        value,
        unit,
        dimensions: BTreeMap::from([
            ("Mode".to_owned(), "drill".to_owned()),
            ("PlanName".to_owned(), "payments".to_owned()),
        ]),
        timestamp: at(),
    }
}

#[tokio::test]
async fn put_metric_data_carries_namespace_units_dimensions_and_time() {
    let (stub, sink) = cloudwatch().await;
    stub.push("PutMetricData", Reply::ok(json!({})));
    sink.put_metrics(&[
        datum("RecoveryTimeSeconds", 412.5, MetricUnit::Seconds),
        datum("ServersLaunched", 7.0, MetricUnit::Count),
        datum("PercentComplete", 87.5, MetricUnit::Percent),
    ])
    .await
    .expect("PutMetricData");

    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].headers["smithy-protocol"], "rpc-v2-cbor");
    let body = &requests[0].body;
    assert_eq!(body["Namespace"], NAMESPACE);
    let dimensions = json!([
        { "Name": "Mode", "Value": "drill" },
        { "Name": "PlanName", "Value": "payments" },
    ]);
    let summary: Vec<(Value, Value, Value)> = body["MetricData"]
        .as_array()
        .expect("MetricData")
        .iter()
        .map(|d| {
            assert_eq!(d["Dimensions"], dimensions);
            assert_eq!(d["Timestamp"].as_f64(), Some(1_714_564_807.5), "{d}");
            (
                d["MetricName"].clone(),
                d["Value"].clone(),
                d["Unit"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (json!("RecoveryTimeSeconds"), json!(412.5), json!("Seconds")),
            (json!("ServersLaunched"), json!(7.0), json!("Count")),
            (json!("PercentComplete"), json!(87.5), json!("Percent")),
        ]
    );
}

#[tokio::test]
async fn more_than_1000_datums_take_several_calls_in_order() {
    let (stub, sink) = cloudwatch().await;
    stub.on("PutMetricData", |_| Reply::ok(json!({})));
    let data: Vec<MetricDatum> = (0..1_200)
        .map(|i| {
            datum(
                &format!("Wave{i:04}Seconds"),
                f64::from(i),
                MetricUnit::Seconds,
            )
        })
        .collect();

    sink.put_metrics(&data).await.expect("PutMetricData");

    let names: Vec<Vec<String>> = stub
        .bodies("PutMetricData")
        .iter()
        .map(|b| {
            b["MetricData"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["MetricName"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(names.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 200]);
    // The SDK gzips large PutMetricData bodies; the stub read them inflated.
    assert_eq!(stub.requests()[0].headers["content-encoding"], "gzip");
    let expected: Vec<String> = data.iter().map(|d| d.name.clone()).collect();
    assert_eq!(names.concat(), expected);
}

#[tokio::test]
async fn nothing_is_sent_for_no_data_or_an_unpublishable_datum() {
    let (stub, sink) = cloudwatch().await;
    sink.put_metrics(&[]).await.expect("nothing to do");
    let e = sink
        .put_metrics(&[
            datum("ServersLaunched", 7.0, MetricUnit::Count),
            datum("RecoveryTimeSeconds", f64::INFINITY, MetricUnit::Seconds),
        ])
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Permanent);
    assert!(e.message.contains("RecoveryTimeSeconds"), "{}", e.message);
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn cloudwatch_errors_are_classified() {
    let cases = [
        (
            400,
            "com.amazonaws.cloudwatch#InvalidParameterValueException",
            Some("InvalidParameterValue;Sender"),
            ErrorClass::Permanent,
        ),
        (
            400,
            "com.amazonaws.cloudwatch#ThrottlingException",
            Some("Throttling;Sender"),
            ErrorClass::Throttling,
        ),
        (
            500,
            "com.amazonaws.cloudwatch#InternalServiceFault",
            Some("InternalServiceError;Receiver"),
            ErrorClass::Transient,
        ),
    ];
    for (status, error_type, query_error, class) in cases {
        let (stub, sink) = cloudwatch().await;
        let mut reply = Reply::json_error(status, error_type, "told by the test");
        if let Some(header) = query_error {
            reply = reply.header("x-amzn-query-error", header);
        }
        stub.push("PutMetricData", reply);
        let e = sink
            .put_metrics(&[datum("ServersLaunched", 1.0, MetricUnit::Count)])
            .await
            .unwrap_err();
        assert_eq!(
            (e.service.as_str(), e.operation.as_str(), e.class),
            ("cloudwatch", "PutMetricData", class),
            "{e}"
        );
        assert_eq!(e.message, "told by the test", "{e}");
        // awsQuery-compatible: the code comes from x-amzn-query-error.
        let code = query_error.and_then(|h| h.split(';').next()).unwrap();
        assert_eq!(e.code, code, "{e}");
        assert_eq!(stub.requests().len(), 1);
    }
}
