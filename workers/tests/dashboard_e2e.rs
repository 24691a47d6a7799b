//! The dashboard in a real browser: `ripcord serve --workers` (the API, the
//! dashboard and the workers in one process), a drill started with
//! `ripcord start`, and headless Chromium (driven over WebDriver with fantoccini) on the
//! execution's page. Without reloading, the page must show a wave running
//! and later COMPLETED, then the execution COMPLETED at 100% with the live
//! stream settled, and never show the stream settled beside a status that
//! is not final. A script run before the page's own records the Server-Sent
//! Events it receives; failures print them. Screenshots are saved as target/test-artifacts/dashboard-*.png.
//!
//! Also runs the unit tests of the page's DOM-free modules
//! (workers/tests/dashboard/*.test.mjs) with `node --test`.
//!
//! Needs `chromium`, `chromedriver` and `node` (Debian: chromium
//! chromium-driver nodejs); see `browser::Tools::find_or_skip` for what
//! happens without them.

mod browser;

use browser::{Browser, Tools, node_or_skip};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const RIPCORD: &str = env!("CARGO_BIN_EXE_ripcord");
const TOKEN: &str = "e2e-token";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn artifact(name: &str) -> PathBuf {
    workspace().join("target/test-artifacts").join(name)
}

/// `ripcord serve --port 0 --workers` on a database: the API, the dashboard
/// and the four workers in one process. Killed when dropped; on a panic its
/// stderr is printed.
struct Serve {
    child: Child,
    log: PathBuf,
    base: String,
}

impl Serve {
    fn start(db: &Path, scenario: &Path, dir: &Path) -> Serve {
        let log = dir.join("serve.log");
        let mut child = Command::new(RIPCORD)
            .args(["serve", "--port", "0", "--workers", "--db"])
            .arg(db)
            .arg("--scenario")
            .arg(scenario)
            .env("RUST_LOG", "warn")
            .env("RIPCORD_API_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("the ripcord binary starts");
        // It prints `listening on http://HOST:PORT` first.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                }
            }
        });
        let mut serve = Serve {
            child,
            log,
            base: String::new(),
        };
        serve.base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("`ripcord serve` prints the URL it listens on");
        serve
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- ripcord serve stderr ---\n{log}");
        }
    }
}

/// `ripcord start examples/<plan>`; returns the execution id.
fn start(db: &Path, plan: &str) -> String {
    let plan = workspace().join("examples").join(plan);
    let output = Command::new(RIPCORD)
        .arg("start")
        .arg(plan)
        .arg("--db")
        .arg(db)
        .output()
        .expect("ripcord start runs");
    assert!(
        output.status.success(),
        "ripcord start failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// A plan started on `ripcord serve --workers` and the browser on its page.
struct Drill {
    // Dropped in this order: the browser, the server, then its directory.
    browser: Browser,
    serve: Serve,
    _dir: tempfile::TempDir,
}

impl Drill {
    /// None (the test skips) without the browser tools.
    fn open(test: &str, plan: &str) -> Option<Drill> {
        let tools = Tools::find_or_skip(test)?;
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("ripcord.db");
        let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/dashboard-watchable.yaml");
        let serve = Serve::start(&db, &scenario, dir.path());
        // The browser before the drill, so the page is open while wave 1 runs.
        let browser = Browser::start(&tools, 1400, 1000);
        browser.before_each_page(WATCH_PAGE);
        let id = start(&db, plan);
        browser.goto(&format!("{}/executions/{id}", serve.base));
        Some(Drill {
            browser,
            serve,
            _dir: dir,
        })
    }
}

/// Runs before the page's scripts, and keeps two records that READ_PAGE
/// returns (so a failure prints them):
/// - `events`: every Server-Sent Event the page receives, with the
///   execution status it carries and the one the page showed on arrival;
/// - `settledEarly`: every moment the page showed the stream settled
///   beside an execution status that is not final. Checked on each change
///   of the page, not only when the test reads it: it may last a frame.
const WATCH_PAGE: &str = r#"
    const events = (window.__ripcordEvents = []);
    const settledEarly = (window.__ripcordSettledEarly = []);
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const shown = () => q('execution-status')?.dataset.status;
    const Native = window.EventSource;
    window.EventSource = class extends Native {
        constructor(url, init) {
            super(url, init);
            const record = (name, e) => {
                let carried = '';
                try {
                    const view = JSON.parse(e.data);
                    const waves = (view.waves || []).map((w) => `${w.waveNumber}:${w.status}`);
                    carried = view.status ? ` ${view.status} [${waves.join(' ')}]` : '';
                } catch {}
                events.push(`${Math.round(performance.now())}ms ${name}${carried}, page showed ${shown()}`);
            };
            for (const name of ['open', 'snapshot', 'update', 'settled']) {
                this.addEventListener(name, (e) => record(name, e));
            }
            this.addEventListener('error', () => record(`error (readyState ${this.readyState})`, {}));
        }
    };
    const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'];
    new MutationObserver(() => {
        const live = q('live-state')?.dataset.state;
        const status = shown();
        if (live === 'settled' && !FINAL.includes(status)) {
            settledEarly.push(`${Math.round(performance.now())}ms settled beside ${status}`);
        }
    }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
"#;

/// What the page shows, read through its data-testid attributes.
const READ_PAGE: &str = r#"
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const status = q('execution-status');
    return {
        status: status ? status.dataset.status : null,
        percent: q('execution-percent') ? q('execution-percent').textContent : null,
        live: q('live-state') ? q('live-state').dataset.state : null,
        bannerHidden: q('connection-banner').hidden,
        waves: [...document.querySelectorAll('[data-testid="wave-row"]')]
            .map((w) => [Number(w.dataset.waveNumber), w.dataset.status]),
        serverRows: document.querySelectorAll('[data-testid="server-row"]').length,
        awaitingApproval: [...document.querySelectorAll('[data-testid="wave-row"][data-awaiting-approval="true"]')]
            .map((w) => Number(w.dataset.waveNumber)),
        text: document.body.innerText,
        sameDocument: window.__ripcordE2e === true,
        events: window.__ripcordEvents,
        settledEarly: window.__ripcordSettledEarly,
    };
"#;

/// The page never showed the stream settled beside a status that was not
/// final (it did for a frame when it drew the last update a frame after
/// marking the stream settled: a test reading it then saw IN_PROGRESS).
fn assert_settled_in_step(last: &Value) {
    assert_eq!(
        last["settledEarly"],
        serde_json::json!([]),
        "the page showed the stream settled before the final status; \
         the events it received: {:#}",
        last["events"]
    );
}

#[test]
fn dashboard_shows_a_drill_live_until_completed() {
    let Some(drill) = Drill::open("dashboard_shows_a_drill_live_until_completed", "drill.yaml")
    else {
        return;
    };
    let browser = &drill.browser;
    // A marker that a reload would wipe out.
    browser.run("window.__ripcordE2e = true; return true;");

    let mut seen: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut running_shot = false;
    let deadline = Instant::now() + Duration::from_secs(180);
    let last = loop {
        let page = browser.run(READ_PAGE);
        assert_eq!(
            page["sameDocument"],
            Value::Bool(true),
            "the page reloaded: {page}"
        );
        for wave in page["waves"].as_array().into_iter().flatten() {
            let n = wave[0].as_u64().expect("wave number");
            let status = wave[1].as_str().expect("wave status").to_string();
            if matches!(status.as_str(), "LAUNCHING" | "POST_ACTIONS") && !running_shot {
                browser.screenshot(&artifact("dashboard-running.png"));
                running_shot = true;
            }
            seen.entry(n).or_default().insert(status);
        }
        if page["live"] == "settled" {
            break page;
        }
        assert!(
            Instant::now() < deadline,
            "the page did not settle within 180 s; it shows {page}; waves seen {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(150));
    };
    browser.screenshot(&artifact("dashboard-final.png"));

    assert_settled_in_step(&last);
    assert_eq!(last["status"], "COMPLETED", "final page: {last}");
    assert_eq!(last["percent"], "100%", "final page: {last}");
    assert_eq!(
        last["bannerHidden"], true,
        "connection banner shown: {last}"
    );
    assert_eq!(
        seen.len(),
        3,
        "the page shows the plan's three waves: {seen:?}"
    );
    let watched_running = seen.values().any(|statuses| {
        statuses.contains("COMPLETED")
            && (statuses.contains("LAUNCHING") || statuses.contains("POST_ACTIONS"))
    });
    assert!(
        watched_running,
        "no wave was seen running and then COMPLETED: {seen:?}"
    );
    for (n, statuses) in &seen {
        assert!(
            statuses.contains("COMPLETED"),
            "wave {n} never COMPLETED: {statuses:?}"
        );
    }
    assert_eq!(
        last["waves"],
        serde_json::json!([[1, "COMPLETED"], [2, "COMPLETED"], [3, "COMPLETED"]]),
        "final page: {last}"
    );
    assert_eq!(
        last["serverRows"], 7,
        "the server table lists the plan's 7 servers: {last}"
    );

    // The page links the drill report, which the API renders.
    let href = browser.run(
        "return document.querySelector('[data-testid=\"report-link\"]').getAttribute('href');",
    );
    let href = href.as_str().expect("a report link");
    let report = reqwest::blocking::get(format!("{}{href}", drill.serve.base))
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.text())
        .expect("the linked report");
    assert!(report.starts_with("<!DOCTYPE html>"), "{href}");
    assert!(report.contains("RTO"), "{href}: no RTO in the report");
}

#[test]
fn dashboard_modules_pass_their_unit_tests() {
    let Some(node) = node_or_skip("dashboard_modules_pass_their_unit_tests") else {
        return;
    };
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dashboard");
    let output = Command::new(node)
        .arg("--test")
        .arg(&tests)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "node --test {tests:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Reads the page until `done` holds; panics after `timeout`.
fn wait_for(
    browser: &Browser,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let page = browser.run(READ_PAGE);
        if done(&page) {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "the page did not show {what} within {timeout:?}; it shows {page}"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}

#[test]
fn dashboard_approves_a_gated_wave_with_the_token() {
    let Some(drill) = Drill::open(
        "dashboard_approves_a_gated_wave_with_the_token",
        "approval-drill.yaml",
    ) else {
        return;
    };
    let browser = &drill.browser;
    wait_for(
        browser,
        "wave 2 awaiting approval",
        Duration::from_secs(120),
        |page| page["awaitingApproval"] == serde_json::json!([2]),
    );
    browser.screenshot(&artifact("dashboard-approval.png"));

    // A wrong token is refused in the dialog, which stays open.
    browser.run(
        "document.querySelector('#approve-wave-2').click();
         document.querySelector('#field-approvedBy').value = 'e2e-approver';
         document.querySelector('#field-token').value = 'not-the-token';
         document.querySelector('[data-testid=dialog-confirm]').click();
         return true;",
    );
    wait_for(
        browser,
        "the refused token",
        Duration::from_secs(20),
        |page| {
            page["text"]
                .as_str()
                .unwrap_or("")
                .contains("The token was refused")
        },
    );
    browser.run(&format!(
        "document.querySelector('#field-token').value = '{TOKEN}';
         document.querySelector('[data-testid=dialog-confirm]').click();
         return true;"
    ));
    let last = wait_for(
        browser,
        "the final state",
        Duration::from_secs(180),
        |page| page["live"] == "settled",
    );
    assert_settled_in_step(&last);
    assert_eq!(last["status"], "COMPLETED", "final page: {last}");
    assert!(
        last["text"]
            .as_str()
            .unwrap_or("")
            .contains("Approved by e2e-approver"),
        "the wave shows who approved it: {last}"
    );
}
