//! `/api/openapi.json` is a valid OpenAPI 3.1 document, by an independent
//! validator (`openapi-spec-validator`, the Python package client
//! generators' users run): every response has its description, every
//! `$ref` resolves. scripts/test installs the validator into the virtualenv
//! whose Python it passes as RIPCORD_TEST_PYTHON; without that variable the
//! test is skipped (it says so), unless RIPCORD_REQUIRE_AWS_TESTS=1.

use ripcord_aws::testing::stand_in_url;
use std::process::Command;

#[test]
fn the_openapi_document_passes_openapi_spec_validator() {
    let Some(python) = stand_in_url("RIPCORD_TEST_PYTHON") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, ripcord_workers::serve::openapi::document()).expect("write");
    let out = Command::new(&python)
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .args(["--validation-errors", "all"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{python} does not run: {e}"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !said.contains("No module named"),
        "openapi-spec-validator is not installed for {python}: run scripts/test, which installs it beside moto\n{said}"
    );
    assert!(
        out.status.success(),
        "the OpenAPI document is invalid:\n{said}"
    );
    assert!(said.contains("OK"), "{said}");
}
