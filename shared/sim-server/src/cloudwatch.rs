//! CloudWatch's PutMetricData in Smithy RPC v2 CBOR, the protocol of
//! `aws-sdk-cloudwatch` (moto 5.2.5 speaks only the older query protocol,
//! so a metrics worker pointed at moto fails every call). The simulator
//! keeps what it was sent; `GET /sim-api/metrics` shows it.
//!
//! Requests are `POST /service/GraniteServiceVersion20100801/operation/<Op>`
//! with `smithy-protocol: rpc-v2-cbor`, possibly gzipped. Errors carry the
//! shape id in `__type` and, as CloudWatch is awsQuery-compatible, the
//! query error code in `x-amzn-query-error`, like the real service.

use crate::cbor;
use crate::server::SimServer;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;

/// The path every CloudWatch operation is posted under.
pub(crate) const PATH_PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";

/// PutMetricData's limits (CloudWatch API reference).
const MAX_DATUMS: usize = 1000;
const MAX_DIMENSIONS: usize = 30;
const MAX_NAME_LEN: usize = 255;
/// CloudWatch refuses values outside ±2^360 (and non-finite ones).
const MAX_MAGNITUDE: f64 = 2.348_542_582_773_833e108;

pub use crate::server::ReceivedDatum;

/// An error as the real service renders it.
struct CwError {
    status: StatusCode,
    /// The shape name (`__type` is `com.amazonaws.cloudwatch#<shape>`).
    shape: &'static str,
    /// The awsQuery code and fault (`x-amzn-query-error`).
    query_code: &'static str,
    message: String,
}

impl CwError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            shape: "InvalidParameterValueException",
            query_code: "InvalidParameterValue;Sender",
            message: message.into(),
        }
    }

    fn missing(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            shape: "MissingRequiredParameterException",
            query_code: "MissingParameter;Sender",
            message: message.into(),
        }
    }
}

/// Answers one CloudWatch request for `operation`.
pub(crate) fn handle(
    server: &SimServer,
    operation: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let result = match operation {
        "PutMetricData" => read_body(headers, body).and_then(|b| put_metric_data(server, &b)),
        other => Err(CwError {
            status: StatusCode::BAD_REQUEST,
            shape: "UnknownOperationException",
            query_code: "InvalidAction;Sender",
            message: format!(
                "CloudWatch operation `{other}` is not served by the Ripcord simulator; it serves PutMetricData"
            ),
        }),
    };
    match result {
        Ok(()) => render(StatusCode::OK, &json!({}), None),
        Err(e) => {
            tracing::debug!(operation, error = %e.message, "CloudWatch request refused");
            render(
                e.status,
                &json!({
                    "__type": format!("com.amazonaws.cloudwatch#{}", e.shape),
                    "message": e.message,
                }),
                Some(e.query_code),
            )
        }
    }
}

fn render(status: StatusCode, body: &Value, query_error: Option<&'static str>) -> Response {
    let mut response = (status, cbor::encode(body)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/cbor"),
    );
    h.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    if let Some(code) = query_error {
        h.insert("x-amzn-query-error", HeaderValue::from_static(code));
    }
    response
}

/// The request as JSON, inflated first if gzipped (the SDK compresses
/// PutMetricData bodies over 10 KB).
fn read_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, CwError> {
    let gzipped = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let mut inflated = Vec::new();
    let bytes = if gzipped {
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut inflated)
            .map_err(|e| CwError::invalid(format!("the gzip request body is corrupt: {e}")))?;
        &inflated[..]
    } else {
        body
    };
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    cbor::decode(bytes).map_err(|e| CwError::invalid(format!("the body is not CBOR: {e}")))
}

fn put_metric_data(server: &SimServer, body: &Value) -> Result<(), CwError> {
    let namespace = body["Namespace"]
        .as_str()
        .ok_or_else(|| CwError::missing("The parameter Namespace is required."))?;
    if namespace.is_empty() || namespace.len() > MAX_NAME_LEN || namespace.starts_with("AWS/") {
        return Err(CwError::invalid(format!(
            "The value {namespace} for parameter Namespace is invalid: 1 to 255 characters, not starting with AWS/."
        )));
    }
    let data = body["MetricData"]
        .as_array()
        .ok_or_else(|| CwError::missing("The parameter MetricData is required."))?;
    if data.is_empty() || data.len() > MAX_DATUMS {
        return Err(CwError::invalid(format!(
            "The collection MetricData must contain 1 to {MAX_DATUMS} items; it has {}.",
            data.len()
        )));
    }
    let received = data
        .iter()
        .enumerate()
        .map(|(i, d)| datum(namespace, i + 1, d))
        .collect::<Result<Vec<_>, _>>()?;
    server.record_metrics(received);
    Ok(())
}

/// One MetricData member (`n` counts from 1, as CloudWatch's messages do).
fn datum(namespace: &str, n: usize, d: &Value) -> Result<ReceivedDatum, CwError> {
    let name = d["MetricName"].as_str().ok_or_else(|| {
        CwError::missing(format!(
            "The parameter MetricData.member.{n}.MetricName is required."
        ))
    })?;
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(CwError::invalid(format!(
            "The parameter MetricData.member.{n}.MetricName must be 1 to {MAX_NAME_LEN} characters."
        )));
    }
    // Ripcord sends single values; Values/Counts and StatisticValues are not served.
    let value = d["Value"].as_f64().ok_or_else(|| {
        CwError::missing(format!(
            "The parameter MetricData.member.{n}.Value is required (the simulator serves single values)."
        ))
    })?;
    if !value.is_finite() || value.abs() > MAX_MAGNITUDE {
        return Err(CwError::invalid(format!(
            "The value {value} for parameter MetricData.member.{n}.Value is invalid."
        )));
    }
    let dims = match &d["Dimensions"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        other => {
            return Err(CwError::invalid(format!(
                "MetricData.member.{n}.Dimensions must be a list, not {other}"
            )));
        }
    };
    if dims.len() > MAX_DIMENSIONS {
        return Err(CwError::invalid(format!(
            "The collection MetricData.member.{n}.Dimensions must not have more than {MAX_DIMENSIONS} items."
        )));
    }
    let mut dimensions = BTreeMap::new();
    for (j, dim) in dims.iter().enumerate() {
        let (Some(k), Some(v)) = (dim["Name"].as_str(), dim["Value"].as_str()) else {
            return Err(CwError::missing(format!(
                "MetricData.member.{n}.Dimensions.member.{} needs a Name and a Value.",
                j + 1
            )));
        };
        if dimensions.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(CwError {
                status: StatusCode::BAD_REQUEST,
                shape: "InvalidParameterCombinationException",
                query_code: "InvalidParameterCombination;Sender",
                message: format!("MetricData.member.{n} repeats the dimension {k}."),
            });
        }
    }
    Ok(ReceivedDatum {
        namespace: namespace.to_owned(),
        metric_name: name.to_owned(),
        value,
        unit: d["Unit"].as_str().map(str::to_owned),
        dimensions,
        timestamp: d["Timestamp"].as_f64(),
    })
}
