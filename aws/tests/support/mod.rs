//! Test support for the service adapters: an HTTP stub that speaks DRS'
//! restJson1, SSM's and EventBridge's awsJson1_1 and CloudWatch's
//! Smithy RPC v2 CBOR wire protocols (it records every request, as JSON,
//! and answers scripted replies), SDK clients pointed
//! at it, and the moto switch for the services moto has.
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
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    Clients::new(&config)
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

/// moto's address from `RIPCORD_TEST_MOTO_URL`. Without it the test is
/// skipped (and says so), unless `RIPCORD_REQUIRE_AWS_TESTS=1`.
pub fn moto_url() -> Option<String> {
    match std::env::var("RIPCORD_TEST_MOTO_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ => {
            if std::env::var("RIPCORD_REQUIRE_AWS_TESTS").as_deref() == Ok("1") {
                panic!(
                    "RIPCORD_REQUIRE_AWS_TESTS=1 but RIPCORD_TEST_MOTO_URL is not set: start `moto_server -p PORT` and set it to http://127.0.0.1:PORT"
                );
            }
            println!("skipped: RIPCORD_TEST_MOTO_URL is not set");
            None
        }
    }
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Just enough CBOR for the stub: requests become JSON (a timestamp, tag 1,
/// becomes its epoch seconds), JSON replies become CBOR.
mod cbor {
    use minicbor::Decoder;
    use minicbor::data::Type;
    use serde_json::{Map, Number, Value};

    pub fn decode(bytes: &[u8]) -> Result<Value, String> {
        let mut d = Decoder::new(bytes);
        value(&mut d).map_err(|e| e.to_string())
    }

    fn value(d: &mut Decoder<'_>) -> Result<Value, minicbor::decode::Error> {
        Ok(match d.datatype()? {
            Type::Bool => Value::Bool(d.bool()?),
            Type::Null | Type::Undefined => {
                d.skip()?;
                Value::Null
            }
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64()?),
            Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => Value::from(d.i64()?),
            Type::F16 => float(f64::from(d.f16()?)),
            Type::F32 => float(f64::from(d.f32()?)),
            Type::F64 => float(d.f64()?),
            Type::String => Value::String(d.str()?.to_owned()),
            Type::StringIndef => {
                let mut text = String::new();
                for part in d.str_iter()? {
                    text.push_str(part?);
                }
                Value::String(text)
            }
            Type::Array | Type::ArrayIndef => {
                let len = d.array()?;
                let mut items = Vec::new();
                while len.is_none_or(|n| (items.len() as u64) < n) {
                    if len.is_none() && d.datatype()? == Type::Break {
                        d.skip()?;
                        break;
                    }
                    items.push(value(d)?);
                }
                Value::Array(items)
            }
            Type::Map | Type::MapIndef => {
                let len = d.map()?;
                let mut map = Map::new();
                while len.is_none_or(|n| (map.len() as u64) < n) {
                    if len.is_none() && d.datatype()? == Type::Break {
                        d.skip()?;
                        break;
                    }
                    let key = d.str()?.to_owned();
                    map.insert(key, value(d)?);
                }
                Value::Object(map)
            }
            Type::Tag => {
                d.tag()?;
                value(d)?
            }
            other => {
                return Err(minicbor::decode::Error::message(format!(
                    "the stub does not read CBOR {other}"
                )));
            }
        })
    }

    fn float(f: f64) -> Value {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }

    pub fn encode(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write(value, &mut out);
        out
    }

    fn head(major: u8, len: u64, out: &mut Vec<u8>) {
        let major = major << 5;
        match len {
            0..=23 => out.push(major | len as u8),
            24..=0xff => out.extend([major | 24, len as u8]),
            0x100..=0xffff => {
                out.push(major | 25);
                out.extend((len as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(major | 26);
                out.extend((len as u32).to_be_bytes());
            }
            _ => {
                out.push(major | 27);
                out.extend(len.to_be_bytes());
            }
        }
    }

    fn write(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Null => out.push(0xf6),
            Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => head(0, u, out),
                (None, Some(i)) => head(1, (-1 - i) as u64, out),
                _ => {
                    out.push(0xfb);
                    out.extend(n.as_f64().unwrap_or_default().to_be_bytes());
                }
            },
            Value::String(s) => {
                head(3, s.len() as u64, out);
                out.extend(s.as_bytes());
            }
            Value::Array(items) => {
                head(4, items.len() as u64, out);
                items.iter().for_each(|v| write(v, out));
            }
            Value::Object(map) => {
                head(5, map.len() as u64, out);
                for (k, v) in map {
                    head(3, k.len() as u64, out);
                    out.extend(k.as_bytes());
                    write(v, out);
                }
            }
        }
    }
}
