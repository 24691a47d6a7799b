//! The 600-server plan the final table is measured on (README, `ripcord
//! status`: 28 lines instead of 1,038): six waves of a hundred, and a
//! scenario where about a hundred of them fail alike, every one of those
//! `critical: false` so each wave still completes. Kept true here, cheaply;
//! run it with `ripcord run tests/fixtures/plans/six-hundred-servers.yaml
//! --scenario tests/fixtures/scenarios/hundred-fail-alike.yaml`.

use ripcord::plan::load_plan;
use ripcord_sim::load_scenario;
use ripcord_sim::scenario::LaunchOutcome;
use ripcord_tests::fixtures;
use std::collections::BTreeSet;

#[test]
fn six_waves_of_a_hundred_with_a_hundred_alike_failures_that_spare_the_waves() {
    let plan = load_plan(&fixtures().join("plans/six-hundred-servers.yaml")).expect("valid");
    let scenario =
        load_scenario(&fixtures().join("scenarios/hundred-fail-alike.yaml")).expect("valid");
    let sizes: Vec<usize> = plan.waves.iter().map(|w| w.servers.len()).collect();
    assert_eq!(sizes, [100; 6]);
    let servers = plan.waves.iter().flat_map(|w| &w.servers);
    let failing: Vec<_> = servers
        .clone()
        .filter(|s| scenario.server(&s.id).outcome == LaunchOutcome::LaunchFailed)
        .collect();
    assert_eq!(failing.len(), 100);
    assert!(
        failing.iter().all(|s| !s.critical),
        "no wave fails for them"
    );
    let errors: BTreeSet<String> = failing
        .iter()
        .map(|s| scenario.server(&s.id).error)
        .collect();
    assert_eq!(errors.len(), 1, "they fail alike: {errors:?}");
    assert!(servers.filter(|s| !s.critical).count() == 100);
}
