//! The simulator served over HTTP in DRS' and SSM's real wire protocols
//! (`ripcord sim serve`), so the real aws-sdk-drs and aws-sdk-ssm clients,
//! and boto3, talk to it unchanged.
//!
//! One listener serves both: a request with an `X-Amz-Target` header is SSM
//! (awsJson1_1, [`ssm`]), a path under
//! `/service/GraniteServiceVersion20100801/` is CloudWatch (Smithy RPC v2
//! CBOR, [`cloudwatch`]: PutMetricData, which moto cannot serve), any other
//! is DRS (restJson1, `POST /<Operation>`, [`drs`]); `/sim-api/*` is the
//! test API ([`admin`]). Signatures are not checked: any credentials are
//! accepted.
//!
//! - [`ec2_mirror`]: with an EC2 endpoint (moto), launched recovery
//!   instances are real instances there, and their ids are the ones DRS and
//!   SSM report.
//! - [`launch_events`]: with an EventBridge endpoint, each launch result is
//!   published as DRS' "DRS Source Server Launch Result" event.
//! - [`wire`]: errors, pages, times and input checks both protocols share.

mod admin;
pub mod cbor;
pub mod cloudwatch;
mod drs;
pub mod ec2_mirror;
pub mod launch_events;
mod ssm;
mod wire;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use ripcord::ids::SourceServerId;
use ripcord::ports::clock::ScaledClock;
use ripcord_sim::scenario::ServerEntry;
use ripcord_sim::{LaunchResultSink, Scenario, ScenarioSource, Simulator};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// The source servers of the default inventory (no scenario given): ids
/// and hostnames. Every one launches; unlisted ids do not exist.
pub const DEFAULT_INVENTORY: [(&str, &str); 12] = [
    ("s-aaaa0000000000001", "web-01"),
    ("s-aaaa0000000000002", "web-02"),
    ("s-aaaa0000000000003", "web-03"),
    ("s-aaaa0000000000004", "web-04"),
    ("s-aaaa0000000000005", "app-01"),
    ("s-aaaa0000000000006", "app-02"),
    ("s-aaaa0000000000007", "app-03"),
    ("s-aaaa0000000000008", "app-04"),
    ("s-aaaa0000000000009", "db-01"),
    ("s-aaaa0000000000010", "db-02"),
    ("s-aaaa0000000000011", "cache-01"),
    ("s-aaaa0000000000012", "queue-01"),
];

/// The account id in ARNs (moto's default account).
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// The default page size of every paginated operation: small, so that
/// clients' pagination is exercised.
pub const DEFAULT_PAGE_SIZE: usize = 10;

/// How `serve` runs the simulator.
#[derive(Clone, Debug)]
pub struct SimServerConfig {
    /// The scenario served at start and after an empty reset; `None`: the
    /// [`default_inventory`].
    pub scenario: Option<ScenarioSource>,
    /// Overrides the scenario's `time_scale` (simulated seconds per real second).
    pub time_scale: Option<f64>,
    /// Overrides the scenario's `seed`.
    pub seed: Option<u64>,
    /// Items per page when a request gives no `maxResults` / `MaxResults`.
    pub page_size: usize,
    /// The account in ARNs and events.
    pub account_id: String,
    /// An EC2 endpoint (moto) in which every launched recovery instance
    /// also runs; requests to it use dummy static credentials.
    pub ec2_endpoint: Option<String>,
    /// The image the mirrored instances run.
    pub ec2_image_id: String,
    /// An EventBridge endpoint (moto) to publish launch results on.
    pub events_endpoint: Option<String>,
}

impl Default for SimServerConfig {
    fn default() -> Self {
        Self {
            scenario: None,
            time_scale: None,
            seed: None,
            page_size: DEFAULT_PAGE_SIZE,
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            ec2_endpoint: None,
            ec2_image_id: ec2_mirror::DEFAULT_IMAGE_ID.to_owned(),
            events_endpoint: None,
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimServerError {
    #[error(
        "--time-scale {0} must be a positive number of simulated seconds per real second, e.g. 60"
    )]
    TimeScale(f64),
    #[error("--page-size must be at least 1")]
    PageSize,
    #[error("serving HTTP failed: {0}; check that the port is free and reachable")]
    Io(#[from] std::io::Error),
}

/// The built-in scenario of `ripcord sim serve` without `--scenario`: the
/// twelve servers of [`DEFAULT_INVENTORY`], all launching fine, and only
/// those (`strict_inventory`).
pub fn default_inventory() -> Scenario {
    let mut scenario = Scenario {
        strict_inventory: true,
        ..Scenario::default()
    };
    for (id, hostname) in DEFAULT_INVENTORY {
        let id = SourceServerId::parse(id).expect("the default inventory's ids are valid");
        scenario.servers.by_id.insert(
            id,
            ServerEntry {
                hostname: Some(hostname.to_owned()),
                ..ServerEntry::default()
            },
        );
    }
    scenario
}

/// Serves the simulator on `listener` until the future is dropped or the
/// listener fails. Bind port 0 to let the system pick a port (tests).
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SimServerConfig,
) -> Result<(), SimServerError> {
    let server = SimServer::start(config).await?;
    axum::serve(listener, router(server)).await?;
    Ok(())
}

fn router(server: Arc<SimServer>) -> Router {
    Router::new()
        .route("/sim-api/reset", post(admin::reset))
        .route("/sim-api/calls", get(admin::calls))
        .route("/sim-api/metrics", get(admin::metrics))
        .fallback(dispatch)
        .with_state(server)
}

/// SSM by its target header, DRS by its path.
async fn dispatch(
    State(server): State<Arc<SimServer>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default();
        tracing::debug!(target, "SSM request");
        return ssm::handle(&server, target, &body).await;
    }
    if let Some(operation) = uri.path().strip_prefix(cloudwatch::PATH_PREFIX) {
        tracing::debug!(operation, "CloudWatch request");
        return cloudwatch::handle(&server, operation, &headers, &body);
    }
    let operation = uri.path().trim_start_matches('/');
    tracing::debug!(operation, "DRS request");
    if method != Method::POST {
        return drs::error_response(&wire::ApiError::unknown_operation(format!(
            "{method} {uri} is not a DRS operation: DRS operations are POST /<OperationName>"
        )));
    }
    drs::handle(&server, operation, &body).await
}

/// What stays the same across resets.
struct Settings {
    /// The scenario an empty reset restores (overrides applied).
    scenario: ScenarioSource,
    page_size: usize,
    account_id: String,
}

/// One simulated world: a simulator on its own clock, its pusher, and the
/// metric data CloudWatch was sent.
struct World {
    simulator: Arc<Simulator>,
    scenario_name: String,
    pusher: Option<tokio::task::JoinHandle<()>>,
    metrics: Mutex<Vec<cloudwatch::ReceivedDatum>>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(p) = &self.pusher {
            p.abort();
        }
    }
}

/// The server's state: the current world and the AWS stand-ins it feeds.
pub(crate) struct SimServer {
    settings: Settings,
    world: RwLock<Arc<World>>,
    mirror: Option<ec2_mirror::Ec2Mirror>,
    events: Option<aws_sdk_eventbridge::Client>,
}

impl SimServer {
    async fn start(config: SimServerConfig) -> Result<Arc<Self>, SimServerError> {
        if let Some(scale) = config.time_scale.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(SimServerError::TimeScale(scale));
        }
        if config.page_size == 0 {
            return Err(SimServerError::PageSize);
        }
        let mut scenario = config.scenario.unwrap_or_else(|| ScenarioSource {
            file: "the default inventory".to_owned(),
            text: String::new(),
            scenario: default_inventory(),
        });
        if let Some(scale) = config.time_scale {
            scenario.scenario.time_scale = scale;
        }
        if let Some(seed) = config.seed {
            scenario.scenario.seed = seed;
        }
        let region = scenario.scenario.region.clone();
        let mirror = match &config.ec2_endpoint {
            Some(url) => {
                let sdk = stand_in_config(url, &region).await;
                Some(ec2_mirror::Ec2Mirror::new(
                    aws_sdk_ec2::Client::new(&sdk),
                    url,
                    &config.ec2_image_id,
                ))
            }
            None => None,
        };
        let events = match &config.events_endpoint {
            Some(url) => Some(aws_sdk_eventbridge::Client::new(
                &stand_in_config(url, &region).await,
            )),
            None => None,
        };
        let settings = Settings {
            scenario,
            page_size: config.page_size,
            account_id: config.account_id,
        };
        let world = Self::new_world(&settings, events.as_ref(), settings.scenario.clone());
        Ok(Arc::new(Self {
            settings,
            world: RwLock::new(Arc::new(world)),
            mirror,
            events,
        }))
    }

    fn new_world(
        settings: &Settings,
        events: Option<&aws_sdk_eventbridge::Client>,
        source: ScenarioSource,
    ) -> World {
        let scenario = source.scenario;
        let clock = Arc::new(ScaledClock::new(chrono::Utc::now(), scenario.time_scale));
        let region = scenario.region.clone();
        let simulator = Simulator::new(scenario, clock);
        let pusher = events.map(|client| {
            let sink: Arc<dyn LaunchResultSink> =
                Arc::new(launch_events::EventBridgeLaunchResults::new(
                    client.clone(),
                    &region,
                    &settings.account_id,
                ));
            simulator.set_launch_result_sink(sink);
            simulator.spawn_pusher()
        });
        World {
            simulator,
            scenario_name: source.file,
            pusher,
            metrics: Mutex::new(Vec::new()),
        }
    }

    fn world(&self) -> Arc<World> {
        self.world
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The simulator of the current world.
    fn simulator(&self) -> Arc<Simulator> {
        self.world().simulator.clone()
    }

    /// Keeps metric data CloudWatch accepted, for `GET /sim-api/metrics`.
    fn record_metrics(&self, data: Vec<cloudwatch::ReceivedDatum>) {
        self.world()
            .metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(data);
    }

    /// Replaces the world with a fresh one running `source`.
    fn reset(&self, source: ScenarioSource) -> Arc<World> {
        let world = Arc::new(Self::new_world(
            &self.settings,
            self.events.as_ref(),
            source,
        ));
        *self.world.write().unwrap_or_else(PoisonError::into_inner) = world.clone();
        world
    }
}

/// An SDK configuration for a local stand-in (moto): its endpoint, the
/// region, dummy static credentials, two attempts per call, and the
/// adapters' timeouts (a hung moto call fails instead of hanging a DRS call).
async fn stand_in_config(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    use aws_config::retry::RetryConfig;
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "ripcord-sim",
            "ripcord-sim",
            None,
            None,
            "ripcord-sim",
        ))
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(ripcord_aws::config::timeouts())
        .load()
        .await
}
