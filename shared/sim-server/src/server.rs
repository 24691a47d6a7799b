//! The server's state: the current simulated world (a simulator on its own
//! clock, its pusher, the metric data CloudWatch was sent) and the AWS
//! stand-ins it feeds. Every handler takes it as its axum state.

use crate::config::{SimServerConfig, SimServerError, default_inventory};
use crate::{ec2_mirror, launch_events};
use ripcord::ports::clock::ScaledClock;
use ripcord_sim::{LaunchResultSink, ScenarioSource, Simulator};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// One datum CloudWatch accepted, as `GET /sim-api/metrics` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedDatum {
    pub namespace: String,
    pub metric_name: String,
    pub value: f64,
    pub unit: Option<String>,
    pub dimensions: BTreeMap<String, String>,
    /// Epoch seconds, as sent.
    pub timestamp: Option<f64>,
}

/// What stays the same across resets.
pub(crate) struct Settings {
    /// The scenario an empty reset restores (overrides applied).
    pub(crate) scenario: ScenarioSource,
    pub(crate) page_size: usize,
    pub(crate) account_id: String,
    /// `--call-latency`: wins over every scenario's `call_latency`.
    pub(crate) call_latency: Option<std::time::Duration>,
}

/// One simulated world: a simulator on its own clock, its pusher, and the
/// metric data CloudWatch was sent.
pub(crate) struct World {
    pub(crate) simulator: Arc<Simulator>,
    pub(crate) scenario_name: String,
    pub(crate) pusher: Option<tokio::task::JoinHandle<()>>,
    pub(crate) metrics: Mutex<Vec<ReceivedDatum>>,
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
    pub(crate) settings: Settings,
    pub(crate) world: RwLock<Arc<World>>,
    pub(crate) mirror: Option<ec2_mirror::Ec2Mirror>,
    pub(crate) events: Option<aws_sdk_eventbridge::Client>,
}

impl SimServer {
    pub(crate) async fn start(config: SimServerConfig) -> Result<Arc<Self>, SimServerError> {
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
            call_latency: config.call_latency,
        };
        let world = Self::new_world(&settings, events.as_ref(), settings.scenario.clone());
        Ok(Arc::new(Self {
            settings,
            world: RwLock::new(Arc::new(world)),
            mirror,
            events,
        }))
    }

    pub(crate) fn new_world(
        settings: &Settings,
        events: Option<&aws_sdk_eventbridge::Client>,
        source: ScenarioSource,
    ) -> World {
        let mut scenario = source.scenario;
        scenario.call_latency = settings.call_latency.unwrap_or(scenario.call_latency);
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

    pub(crate) fn world(&self) -> Arc<World> {
        self.world
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The simulator of the current world.
    pub(crate) fn simulator(&self) -> Arc<Simulator> {
        self.world().simulator.clone()
    }

    /// Keeps metric data CloudWatch accepted, for `GET /sim-api/metrics`.
    pub(crate) fn record_metrics(&self, data: Vec<ReceivedDatum>) {
        self.world()
            .metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(data);
    }

    /// Replaces the world with a fresh one running `source`.
    pub(crate) fn reset(&self, source: ScenarioSource) -> Arc<World> {
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
