//! Every plan in `examples/` is valid: the README's quick start and the
//! scenario tests depend on them.

use ripcord::plan::load_plan;
use std::path::PathBuf;

#[test]
fn every_example_plan_parses() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let plan = load_plan(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!plan.waves.is_empty());
            checked += 1;
        }
    }
    assert!(checked >= 2, "examples/ should hold the example plans");
}

#[test]
fn the_drill_example_has_the_expected_shape() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let plan = load_plan(&dir.join("drill.yaml")).unwrap();
    let names: Vec<&str> = plan.waves.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["databases", "app-tier", "web-tier"]);
    assert_eq!(plan.server_count(), 7);
    assert!(!plan.waves[1].servers[2].critical);
    assert_eq!(plan.waves[1].post_launch.len(), 1);
    assert_eq!(plan.waves[2].depends_on, [ripcord::ids::WaveNumber(2)]);
}
