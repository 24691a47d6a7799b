//! How `ripcord sim serve` runs: its settings and their defaults (the
//! built-in inventory, the account, the page size), and why it may not start.

use crate::ec2_mirror;
use ripcord::ids::SourceServerId;
use ripcord_sim::scenario::ServerEntry;
use ripcord_sim::{Scenario, ScenarioSource};

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
    /// Overrides `call_latency` (real time every call takes) of the served
    /// scenario and of every scenario a reset brings.
    pub call_latency: Option<std::time::Duration>,
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
            call_latency: None,
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
