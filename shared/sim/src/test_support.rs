//! Helpers for the simulator's tests: a simulator on a manual clock.

use super::{Scenario, Simulator, parse_scenario};
use ripcord::ids::SourceServerId;
use ripcord::ports::clock::ManualClock;
use ripcord::ports::drs::StartRecoveryRequest;
use ripcord::time::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub(super) fn t0() -> Timestamp {
    chrono::DateTime::parse_from_rfc3339("2025-11-28T17:00:00Z")
        .expect("valid time")
        .to_utc()
}

pub(super) fn scenario(yaml: &str) -> Scenario {
    parse_scenario(yaml, "test.yaml").expect("test scenario parses")
}

/// A simulator on a manual clock at `t0()`.
pub(super) fn sim(yaml: &str) -> (Arc<Simulator>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0()));
    (Simulator::new(scenario(yaml), clock.clone()), clock)
}

pub(super) fn server(n: u32) -> SourceServerId {
    SourceServerId::parse(&format!("s-1234567890abcdef{n:x}")).expect("valid id")
}

pub(super) fn wave_tags(wave: u32) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("ripcord:execution-id".to_owned(), "exec-1".to_owned()),
        ("ripcord:wave".to_owned(), wave.to_string()),
    ])
}

pub(super) fn start(servers: &[SourceServerId], wave: u32) -> StartRecoveryRequest {
    StartRecoveryRequest {
        source_servers: servers.to_vec(),
        is_drill: true,
        tags: wave_tags(wave),
        recovery_snapshots: BTreeMap::new(),
    }
}

pub(super) fn mins(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}
