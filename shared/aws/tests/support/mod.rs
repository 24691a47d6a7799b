//! Test support for the service adapters: an HTTP stub that speaks DRS'
//! restJson1, SSM's and EventBridge's awsJson1_1 and CloudWatch's
//! Smithy RPC v2 CBOR wire protocols (it records every request, as JSON,
//! and answers scripted replies), and SDK clients pointed at it. The moto
//! switch is `ripcord_aws::testing`.
//!
//! Each test binary uses part of this module.
#![allow(dead_code)]

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_drs::config::Credentials;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use ripcord_aws::Clients;
use ripcord_sim_server::cbor;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// How the stub tells operations apart and writes its answers.
#[derive(Clone, Copy, Debug)]
pub enum Protocol {
    /// `POST /<Operation>`, `application/json` (DRS).
    RestJson1,
    /// `POST /` with `X-Amz-Target: <Prefix>.<Operation>`,
    /// `application/x-amz-json-1.1` (SSM, EventBridge).
    AwsJson11,
    /// `POST /service/<Service>/operation/<Operation>`, CBOR bodies and
    /// `smithy-protocol: rpc-v2-cbor` (CloudWatch).
    RpcV2Cbor,
}

/// One answer of the stub.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body,
        }
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A restJson1 error as DRS sends it: the code in `X-Amzn-Errortype`,
    /// the message in the body.
    pub fn rest_error(status: u16, code: &str, message: &str) -> Self {
        Self::ok(json!({ "message": message }))
            .status(status)
            .header("x-amzn-errortype", code)
    }

    /// An awsJson1_1 (or RPC v2 CBOR) error as SSM, EventBridge and
    /// CloudWatch send it.
    pub fn json_error(status: u16, code: &str, message: &str) -> Self {
        Self::ok(json!({ "__type": code, "message": message })).status(status)
    }
}

/// A request the stub received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub operation: String,
    pub headers: HeaderMap,
    pub body: Value,
}

type Handler = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

struct State {
    protocol: Protocol,
    queued: HashMap<String, VecDeque<Reply>>,
    handlers: HashMap<String, Handler>,
    requests: Vec<Recorded>,
}

/// A stub service on a local port. Scripted replies are answered first, in
/// order; then the operation's handler, if any; else a 500 that names the
/// operation, so a missing script fails the test loudly.
#[derive(Clone)]
pub struct Stub {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Stub {
    pub async fn start(protocol: Protocol) -> Self {
        let state = Arc::new(Mutex::new(State {
            protocol,
            queued: HashMap::new(),
            handlers: HashMap::new(),
            requests: Vec::new(),
        }));
        let shared = state.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = shared.clone();
            async move { answer(&state, &uri, headers, &body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stub");
        let url = format!("http://{}", listener.local_addr().expect("stub address"));
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("stub server");
        });
        Self { url, state }
    }

    /// Answers the next call of `operation` with `reply`.
    pub fn push(&self, operation: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .queued
            .entry(operation.to_owned())
            .or_default()
            .push_back(reply);
    }

    /// Answers every call of `operation` (once the scripted replies are
    /// used) by computing the reply from the request body.
    pub fn on(&self, operation: &str, handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        self.state
            .lock()
            .unwrap()
            .handlers
            .insert(operation.to_owned(), Arc::new(handler));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The bodies of the requests of one operation.
    pub fn bodies(&self, operation: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.operation == operation)
            .map(|r| r.body)
            .collect()
    }
}

fn answer(state: &Mutex<State>, uri: &Uri, headers: HeaderMap, body: &Bytes) -> Response {
    let mut st = state.lock().unwrap();
    let operation = match st.protocol {
        Protocol::RestJson1 => uri.path().trim_start_matches('/').to_owned(),
        Protocol::AwsJson11 => headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.rsplit_once('.'))
            .map(|(_, op)| op.to_owned())
            .unwrap_or_default(),
        Protocol::RpcV2Cbor => uri
            .path()
            .rsplit_once("/operation/")
            .map(|(_, op)| op.to_owned())
            .unwrap_or_default(),
    };
    let gzipped = headers
        .get("content-encoding")
        .is_some_and(|v| v.as_bytes() == b"gzip");
    let body = if gzipped {
        let mut inflated = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut inflated)
            .expect("a gzip body");
        Bytes::from(inflated)
    } else {
        body.clone()
    };
    let parsed = match st.protocol {
        _ if body.is_empty() => Value::Null,
        Protocol::RpcV2Cbor => cbor::decode(&body).unwrap_or_else(|e| json!({ "unparsable": e })),
        _ => {
            serde_json::from_slice(&body).unwrap_or_else(|e| json!({ "unparsable": e.to_string() }))
        }
    };
    st.requests.push(Recorded {
        operation: operation.clone(),
        headers,
        body: parsed.clone(),
    });
    let protocol = st.protocol;
    let queued = st.queued.get_mut(&operation).and_then(VecDeque::pop_front);
    let handler = st.handlers.get(&operation).cloned();
    // The handler runs without the lock: it may take its time.
    drop(st);
    let reply = match (queued, handler) {
        (Some(reply), _) => reply,
        (None, Some(handler)) => handler(&parsed),
        (None, None) => Reply::rest_error(
            500,
            "InternalServerException",
            &format!("the stub has no reply scripted for {operation}"),
        ),
    };
    render(protocol, reply)
}

fn render(protocol: Protocol, reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).expect("a valid status");
    let (content_type, body) = match protocol {
        Protocol::RestJson1 => ("application/json", reply.body.to_string().into_bytes()),
        Protocol::AwsJson11 => (
            "application/x-amz-json-1.1",
            reply.body.to_string().into_bytes(),
        ),
        Protocol::RpcV2Cbor => ("application/cbor", cbor::encode(&reply.body)),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if let Protocol::RpcV2Cbor = protocol {
        headers.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    }
    headers.insert("content-type", HeaderValue::from_static(content_type));
    headers.insert(
        "x-amzn-requestid",
        HeaderValue::from_static("00000000-0000-4000-8000-000000000000"),
    );
    for (name, value) in reply.headers {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_str(&value).expect("a header value"),
        );
    }
    response
}

/// Clients as production builds them (`Clients::new`: DRS and SSM never
/// retry), with static credentials, us-east-1, `url` as the endpoint of
/// every service, and the SDK's own retries off for the others too.
pub async fn clients(url: &str) -> Clients {
    observed_clients(url, None).await
}

/// [`clients`], each telling `observer` how its calls were answered.
pub async fn observed_clients(
    url: &str,
    observer: Option<Arc<dyn ripcord::ports::CallObserver>>,
) -> Clients {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    Clients::observed(&config, observer)
}

/// An address nothing listens on: the port of a listener just closed.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    url
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}
