//! The container image CI builds and the one users build are the same
//! (README, "Container image"). Both come from the repository's `Dockerfile`;
//! CI changes only the build stage's base (`--build-arg RUST_IMAGE=`, a
//! Debian bookworm root with this machine's toolchain, `scripts/image`).
//! These tests keep the rest of that argument true:
//!
//! - the runtime stage is `FROM scratch` plus the root the build stage
//!   assembled (`scripts/image-rootfs`): no RUN, no ADD, nothing from the
//!   build context, so its contents depend only on the binary and the
//!   libraries it links;
//! - the Rust the Dockerfile gives users is the toolchain running these
//!   tests (the one CI mounts into its builder), and no older than the
//!   workspace's `rust-version`;
//! - the image's user, workdir and entrypoint are the ones the deployment
//!   (`infra/`) relies on.

use std::path::PathBuf;
use std::process::Command;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn dockerfile() -> String {
    std::fs::read_to_string(repository().join("Dockerfile")).expect("a Dockerfile at the root")
}

/// The Dockerfile's instructions, continuation lines joined, comments and
/// blank lines dropped: (keyword in upper case, the rest).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(start) = line.strip_suffix('\\') {
            pending.push_str(start);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let (keyword, rest) = pending.split_once(' ').unwrap_or((&pending, ""));
        out.push((keyword.to_uppercase(), rest.trim().to_owned()));
        pending.clear();
    }
    out
}

/// The instructions of each stage, the `FROM` first; the ARGs before the
/// first `FROM` are left out.
fn stages(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    for instruction in instructions(text) {
        if instruction.0 == "FROM" {
            out.push(vec![instruction]);
        } else if let Some(stage) = out.last_mut() {
            stage.push(instruction);
        }
    }
    out
}

/// What is wrong with the runtime stage (the last one): each sentence one
/// problem.
fn runtime_stage_problems(text: &str) -> Vec<String> {
    let stages = stages(text);
    let Some(runtime) = stages.last() else {
        return vec!["the Dockerfile has no FROM".to_owned()];
    };
    let mut problems = Vec::new();
    if runtime[0].1 != "scratch" {
        problems.push(format!(
            "the runtime stage is FROM {}, not FROM scratch",
            runtime[0].1
        ));
    }
    for (keyword, rest) in &runtime[1..] {
        let fine = match keyword.as_str() {
            "ARG" | "LABEL" => true,
            "COPY" => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                words.contains(&"--from=build")
                    && words
                        .iter()
                        .filter(|w| !w.starts_with("--"))
                        .rev()
                        .skip(1)
                        .all(|source| source.starts_with("/rootfs/"))
            }
            "USER" => rest == "10001:10001",
            "WORKDIR" => rest == "/var/lib/ripcord",
            "ENTRYPOINT" => rest == r#"["/usr/local/bin/ripcord"]"#,
            _ => false,
        };
        if !fine {
            problems.push(format!(
                "the runtime stage has `{keyword} {rest}`: it may only copy from the build stage's /rootfs/ (and set labels, USER 10001:10001, WORKDIR /var/lib/ripcord, ENTRYPOINT [\"/usr/local/bin/ripcord\"]); anything else makes its contents depend on more than the binary and its libraries"
            ));
        }
    }
    for needed in ["USER", "WORKDIR", "ENTRYPOINT"] {
        if !runtime[1..].iter().any(|(keyword, _)| keyword == needed) {
            problems.push(format!("the runtime stage sets no {needed}"));
        }
    }
    problems
}

/// The `X.Y.Z` of `ARG RUST_IMAGE=…rust:X.Y.Z-…`.
fn dockerfile_rust(text: &str) -> Option<String> {
    let (_, image) = instructions(text)
        .into_iter()
        .find(|(keyword, rest)| keyword == "ARG" && rest.starts_with("RUST_IMAGE="))?;
    let tag = image.split("rust:").nth(1)?;
    Some(tag.split('-').next()?.to_owned())
}

fn version_numbers(version: &str) -> Vec<u32> {
    version.split('.').filter_map(|n| n.parse().ok()).collect()
}

/// The value of `key = "…"` in the workspace's Cargo.toml.
fn workspace_value(key: &str) -> String {
    let manifest = std::fs::read_to_string(repository().join("Cargo.toml")).expect("Cargo.toml");
    manifest
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once('=')?;
            (name.trim() == key).then(|| value.trim().trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("the workspace's Cargo.toml sets {key}"))
}

#[test]
fn the_runtime_stage_is_scratch_plus_the_assembled_root() {
    let problems = runtime_stage_problems(&dockerfile());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_build_stage_builds_the_release_binary_and_assembles_the_root() {
    let stages = stages(&dockerfile());
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    let build = &stages[0];
    assert_eq!(build[0].1, "${RUST_IMAGE} AS build");
    let runs: Vec<&str> = build
        .iter()
        .filter(|(keyword, _)| keyword == "RUN")
        .map(|(_, rest)| rest.as_str())
        .collect();
    assert!(
        runs.iter().any(
            |run| run.contains("cargo build --release --locked --bin ripcord")
                && run.contains("scripts/image-rootfs /rootfs target/release/ripcord")
        ),
        "the build stage runs the release build and scripts/image-rootfs: {runs:?}"
    );
}

#[test]
fn the_dockerfile_builds_with_this_toolchain() {
    let text = dockerfile();
    let wanted = dockerfile_rust(&text).expect("ARG RUST_IMAGE=…rust:X.Y.Z-… in the Dockerfile");
    let minimum = workspace_value("rust-version");
    assert!(
        version_numbers(&wanted) >= version_numbers(&minimum),
        "the Dockerfile's Rust {wanted} is older than the workspace's rust-version {minimum}"
    );
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("--version")
        .output()
        .expect("rustc runs");
    let have = String::from_utf8_lossy(&rustc.stdout)
        .split_whitespace()
        .nth(1)
        .expect("rustc X.Y.Z (…)")
        .to_owned();
    assert_eq!(
        wanted, have,
        "the Dockerfile gives users Rust {wanted} but CI builds (and these tests run) with {have}: set ARG RUST_IMAGE to rust:{have}-slim-bookworm so both images come from the same compiler"
    );
}

#[test]
fn the_image_version_label_is_the_workspace_version() {
    let version = workspace_value("version");
    assert!(
        instructions(&dockerfile())
            .iter()
            .any(|(keyword, rest)| keyword == "ARG" && *rest == format!("VERSION={version}")),
        "the Dockerfile's ARG VERSION is not the workspace's version {version}"
    );
}

#[test]
fn the_checks_see_a_runtime_stage_that_runs_or_copies_the_context() {
    let good = "ARG RUST_IMAGE=rust:1.95.0-slim\nFROM ${RUST_IMAGE} AS build\nRUN make\nFROM scratch\nCOPY --from=build /rootfs/ /\nUSER 10001:10001\nWORKDIR /var/lib/ripcord\nENTRYPOINT [\"/usr/local/bin/ripcord\"]\n";
    assert_eq!(runtime_stage_problems(good), Vec::<String>::new());
    assert_eq!(dockerfile_rust(good).as_deref(), Some("1.95.0"));
    for bad in [
        "RUN \\\n  chmod 1777 /tmp\n",
        "COPY examples/ /var/lib/ripcord/\n",
        "COPY --from=build /src/target/release/ripcord /usr/local/bin/\n",
        "ADD root.tar /\n",
        "USER root\n",
    ] {
        let problems = runtime_stage_problems(&format!("{good}{bad}"));
        assert_eq!(problems.len(), 1, "{bad:?} is seen: {problems:?}");
    }
    assert_eq!(
        runtime_stage_problems(&good.replace("FROM scratch", "FROM debian")).len(),
        1
    );
}
