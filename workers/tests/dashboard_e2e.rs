//! The dashboard in a real browser: `ripcord serve --workers` (the API, the
//! dashboard and the workers in one process), a drill started with
//! `ripcord start`, and headless Chromium (driven over WebDriver with
//! fantoccini) on the execution's page. Without reloading, the page must show a wave running
//! and later COMPLETED, then the execution COMPLETED at 100% with the live
//! stream settled, and never show the stream settled beside a status that
//! is not final. A script run before the page's own records the Server-Sent
//! Events it receives; failures print them. A finished 4,000-server drill
//! must keep the page usable (a virtualized table that filters and scrolls
//! to its last server, a drawn timeline); its time to first full render is
//! printed. A `ripcord serve` killed under the page must show the
//! connection banner, and once restarted on the same port and database the
//! page must catch up with what the workers did meanwhile. Every test fails
//! if a page logs an error or a Content-Security-Policy violation (from
//! chromedriver's browser log). Screenshots are saved as target/test-artifacts/dashboard-*.png.
//!
//! The finished drill's page shows the pre-flight panel with what the API
//! says pre-flight found. A page opened on a start no launch worker has
//! taken up says it is queued, not yet started, and follows the execution
//! once a worker creates it.
//!
//! Also runs the unit tests of the page's modules
//! (workers/tests/dashboard/*.test.mjs) with `node --test`.
//!
//! Needs `chromium`, `chromedriver` and `node` (Debian: chromium
//! chromium-driver nodejs); see `e2e::browser::Tools::find_or_skip` for what
//! happens without them.

mod e2e;
mod support;

use e2e::browser::{Browser, Tools, node_or_skip};
use e2e::ripcord::{Serve, TOKEN, Workers, artifact, workspace};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{start, status_in_db};

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
        Drill::open_on(test, plan, "dashboard-watchable.yaml")
    }

    /// Like [`Drill::open`], on the scenario `tests/fixtures/{scenario}`.
    fn open_on(test: &str, plan: &str, scenario: &str) -> Option<Drill> {
        let tools = Tools::find_or_skip(test)?;
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("ripcord.db");
        let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(scenario);
        let serve = Serve::start(&db, &scenario, dir.path());
        // The browser before the drill, so the page is open while wave 1 runs.
        let browser = Browser::start(&tools, 1400, 1000);
        browser.before_each_page(WATCH_PAGE);
        let id = start(&db, &workspace().join("examples").join(plan));
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
        banner: q('connection-banner').textContent.replace(/\s+/g, ' ').trim(),
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

/// Fails on anything the pages logged as an error (an uncaught exception,
/// `console.error`, a failed load) and on any Content-Security-Policy
/// violation, except the failed requests the test itself caused: network
/// entries holding one of `expected`.
fn assert_no_errors_logged(browser: &Browser, expected: &[&str]) {
    let errors: Vec<Value> = browser
        .log()
        .into_iter()
        .filter(|entry| {
            let message = entry["message"].as_str().unwrap_or("");
            let caused =
                entry["source"] == "network" && expected.iter().any(|e| message.contains(e));
            (entry["level"] == "SEVERE" || entry["source"] == "security") && !caused
        })
        .collect();
    assert!(errors.is_empty(), "the page logged errors: {errors:#?}");
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
    assert!(
        report.contains("<h2>Pre-flight</h2>"),
        "{href}: no pre-flight"
    );

    // A drill runs pre-flight first: the page shows what the API says it found.
    let view: Value = reqwest::blocking::get(format!(
        "{}{}",
        drill.serve.base,
        href.trim_end_matches("/report")
    ))
    .and_then(|r| r.error_for_status())
    .and_then(|r| r.text())
    .map(|body| serde_json::from_str(&body).expect("the status JSON"))
    .expect("the execution's status");
    let summary = view["preflight"]["summary"]
        .as_str()
        .unwrap_or_else(|| panic!("a drill runs pre-flight: {view}"));
    let shown = browser.run(
        r#"const panel = document.querySelector('[data-testid="preflight-panel"]');
           return {
               hidden: !panel || panel.hidden,
               summary: panel?.querySelector('[data-testid="preflight-summary"]')?.textContent,
               findings: panel ? panel.querySelectorAll('[data-testid="preflight-finding"]').length : 0,
           };"#,
    );
    assert_eq!(shown["hidden"], false, "no pre-flight panel: {shown}");
    assert_eq!(
        shown["summary"].as_str().map(str::to_lowercase).as_deref(),
        Some(summary),
        "{shown}"
    );
    assert_eq!(
        shown["findings"].as_u64(),
        view["preflight"]["findings"]
            .as_array()
            .map(|f| f.len() as u64),
        "one item per finding: {shown}"
    );
    assert_no_errors_logged(browser, &[]);
    // In the browser too, under its own policy (its one <style> is inline).
    browser.goto(&format!("{}{href}", drill.serve.base));
    let title = browser.run("return document.querySelector('h1')?.textContent;");
    assert!(
        title.as_str().is_some_and(|t| !t.is_empty()),
        "{href}: {title}"
    );
    assert_no_errors_logged(browser, &[]);
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
    wait_for_reading(browser, READ_PAGE, what, timeout, done)
}

/// Runs `read` in the page until what it returns passes `done`; panics
/// after `timeout`.
fn wait_for_reading(
    browser: &Browser,
    read: &str,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let page = browser.run(read);
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
    let last = wait_for(
        browser,
        "the top bar's DRS capacity, every launch over",
        Duration::from_secs(30),
        |page| {
            page["text"]
                .as_str()
                .unwrap_or("")
                .contains("DRS capacity: 0/500 servers · 0/20 jobs · 0 waves waiting")
        },
    );
    assert_eq!(last["status"], "COMPLETED");
    assert_no_errors_logged(
        browser,
        &["/waves/2/approve - Failed to load resource: the server responded with a status of 401"],
    );
}

/// Fills the open dialog's name and token and confirms it.
const CONFIRM_DIALOG: &str = "
    document.querySelector('#field-requestedBy').value = 'e2e-operator';
    document.querySelector('#field-token').value = '__TOKEN__';
    document.querySelector('[data-testid=dialog-confirm]').click();
    return true;";

/// Pause and Resume on a running drill, then Retry on the wave that failed:
/// the page asks for confirmation, the API applies it, and the retried
/// drill completes.
#[test]
fn dashboard_pauses_resumes_and_retries_a_failed_wave() {
    let Some(drill) = Drill::open_on(
        "dashboard_pauses_resumes_and_retries_a_failed_wave",
        "drill.yaml",
        "dashboard-fails-once.yaml",
    ) else {
        return;
    };
    let browser = &drill.browser;
    let confirm = CONFIRM_DIALOG.replace("__TOKEN__", TOKEN);
    let has = |page: &Value, id: &str| page["text"].as_str().unwrap_or("").contains(id);
    wait_for(
        browser,
        "the Pause button",
        Duration::from_secs(60),
        |page| page["status"] == "IN_PROGRESS",
    );
    browser.run("document.querySelector('#pause-button').click(); return true;");
    browser.run(&confirm);
    wait_for(browser, "the pause", Duration::from_secs(60), |page| {
        has(page, "Paused by e2e-operator")
    });
    browser.screenshot(&artifact("dashboard-paused.png"));
    browser.run("document.querySelector('#pause-button').click(); return true;");
    browser.run(&confirm);
    wait_for(browser, "the resume", Duration::from_secs(60), |page| {
        !has(page, "Paused by e2e-operator")
    });

    let failed = wait_for(
        browser,
        "the failed drill",
        Duration::from_secs(180),
        |page| page["live"] == "settled",
    );
    assert_eq!(failed["status"], "FAILED", "{failed}");
    browser.screenshot(&artifact("dashboard-retry.png"));
    // The failed wave offers Retry and Skip; the wave that completed neither.
    let buttons = browser.run(
        "return ['#retry-wave-2', '#skip-wave-2', '#retry-wave-1', '#skip-wave-1']
            .map((s) => Boolean(document.querySelector(s)));",
    );
    assert_eq!(buttons, serde_json::json!([true, true, false, false]));
    browser.run("document.querySelector('#retry-wave-2').click(); return true;");
    browser.run(&confirm);
    wait_for(
        browser,
        "the retry toast",
        Duration::from_secs(20),
        |page| has(page, "Retry of wave 2 requested"),
    );
    // The page follows the reopened execution without a reload.
    browser.run("window.__ripcordRetryMarker = true; return true;");
    wait_for(
        browser,
        "the retried drill completing, on the same page",
        Duration::from_secs(180),
        |page| page["status"] == "COMPLETED" && has(page, "attempt 2"),
    );
    let same = browser.run("return window.__ripcordRetryMarker === true;");
    assert_eq!(same, true, "the page reloaded");
    assert_no_errors_logged(browser, &[]);
}

/// The 4,000-server drill: 40 waves of 100 (DRS' quota of source servers),
/// hostnames `srv-0001` to `srv-4000`. Every 160th server is optional and
/// fails to launch (25 in all), so the execution still completes.
const BIG_WAVES: usize = 40;
const BIG_PER_WAVE: usize = 100;
const BIG_FAILED_EVERY: usize = 160;

fn big_server_id(n: usize) -> String {
    format!("s-{n:017}")
}

/// Writes the plan and the simulator scenario of the 4,000-server drill.
fn write_big_drill(dir: &Path) -> (PathBuf, PathBuf) {
    // At 600x, timeouts this long are minutes of wall-clock time: a loaded
    // machine slows the drill down but does not time it out.
    let mut plan = String::from(
        "name: scale-drill\nmode: drill\nregion: us-east-1\n\
         options: { execution_timeout: 48h }\ndefaults: { launch_timeout: 6h }\nwaves:\n",
    );
    let mut scenario = String::from(
        "seed: 4000\ntime_scale: 600\njob_pending: 2s\n\
         launch_duration: { min: 10s, max: 40s }\nservers:\n",
    );
    for wave in 0..BIG_WAVES {
        plan.push_str(&format!("  - name: tier-{:02}\n    servers:\n", wave + 1));
        for i in 0..BIG_PER_WAVE {
            let n = wave * BIG_PER_WAVE + i + 1;
            let id = big_server_id(n);
            if n.is_multiple_of(BIG_FAILED_EVERY) {
                plan.push_str(&format!(
                    "      - {{ id: {id}, hostname: srv-{n:04}, critical: false }}\n"
                ));
                scenario.push_str(&format!(
                    "  {id}: {{ outcome: launch_failed, error: \"InsufficientInstanceCapacity\" }}\n"
                ));
            } else {
                plan.push_str(&format!("      - {{ id: {id}, hostname: srv-{n:04} }}\n"));
            }
        }
    }
    let plan_path = dir.join("scale-drill.yaml");
    let scenario_path = dir.join("scale-scenario.yaml");
    std::fs::write(&plan_path, plan).expect("plan written");
    std::fs::write(&scenario_path, scenario).expect("scenario written");
    (plan_path, scenario_path)
}

/// Runs before the page's scripts: at the first animation frame where the
/// server table shows its rows and the count of all 4,000 servers and the
/// timeline has drawn bars, stores `performance.now()` (milliseconds since
/// the navigation started) in `window.__ripcordFullRender`.
const TIME_FULL_RENDER: &str = r#"
    const check = () => {
        const count = document.querySelector('[data-testid="server-count"]');
        const rows = document.querySelectorAll('[data-testid="server-row"]').length;
        const canvas = document.querySelector('.gantt-canvas');
        if (count && count.textContent === '4,000 servers' && rows > 0 && canvas && canvas.width > 0) {
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < pixels.length; i += 4) {
                if (pixels[i] !== 0) {
                    window.__ripcordFullRender = performance.now();
                    return;
                }
            }
        }
        requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
"#;

/// The server table and the timeline as the page shows them.
const READ_TABLE: &str = r#"
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    const rows = [...document.querySelectorAll('[data-testid="server-row"]')];
    const canvas = document.querySelector('.gantt-canvas');
    // Pixels of the COMPLETED colour (--tone-ok, #3fb950): the bars of
    // completed servers and waves.
    const pixels = canvas && canvas.width > 0
        ? canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
        : [];
    let completedPixels = 0;
    for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i] === 0x3f && pixels[i + 1] === 0xb9 && pixels[i + 2] === 0x50) completedPixels++;
    }
    return {
        fullRenderMs: window.__ripcordFullRender ?? null,
        status: q('execution-status')?.dataset.status ?? null,
        live: q('live-state')?.dataset.state ?? null,
        count: q('server-count')?.textContent ?? null,
        ariaRowCount: q('server-table')?.getAttribute('aria-rowcount') ?? null,
        rows: rows.map((r) => [
            r.dataset.sourceServerId,
            r.querySelector('.host')?.textContent,
            r.dataset.status,
        ]),
        completedPixels,
    };
"#;

#[test]
fn dashboard_stays_usable_with_4000_servers() {
    let Some(tools) = Tools::find_or_skip("dashboard_stays_usable_with_4000_servers") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ripcord.db");
    let (plan, scenario) = write_big_drill(dir.path());
    let serve = Serve::start(&db, &scenario, dir.path());
    let began = Instant::now();
    let id = start(&db, &plan);
    let http = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let finished = loop {
        let response = http
            .get(format!("{}/api/executions/{id}", serve.base))
            .send()
            .expect("GET the execution");
        // 202 (queued) until the launch worker has taken the start message.
        let view: Value = match response.status().as_u16() {
            202 => Value::Null,
            _ => response
                .error_for_status()
                .and_then(|r| r.json())
                .expect("the execution's view"),
        };
        if !view.is_null() && view["status"] != "PENDING" && view["status"] != "IN_PROGRESS" {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "the 4,000-server drill did not end within 300 s: {}",
            view["progress"]
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    eprintln!(
        "the 4,000-server drill ran in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    assert_eq!(finished["status"], "COMPLETED", "{}", finished["progress"]);
    assert_eq!(finished["progress"]["totalServers"], 4000);
    let failed = BIG_WAVES * BIG_PER_WAVE / BIG_FAILED_EVERY;
    assert_eq!(finished["progress"]["failedServers"], failed);

    // Tall enough for the screenshot to show the server table too.
    let browser = Browser::start(&tools, 1400, 1800);
    browser.before_each_page(WATCH_PAGE);
    browser.before_each_page(TIME_FULL_RENDER);
    browser.goto(&format!("{}/executions/{id}", serve.base));
    let first = wait_for_reading(
        &browser,
        READ_TABLE,
        "the 4,000 servers",
        Duration::from_secs(60),
        |page| !page["fullRenderMs"].is_null(),
    );
    let rows = first["rows"].as_array().expect("rows").len();
    eprintln!(
        "time to first full render of 4,000 servers: {:.0} ms from navigation start \
         ({rows} table rows in the DOM)",
        first["fullRenderMs"].as_f64().expect("milliseconds")
    );
    browser.screenshot(&artifact("dashboard-4000.png"));

    // Virtualized: the DOM holds the rows in view, not 4,000.
    assert!(
        (10..=60).contains(&rows),
        "{rows} server rows in the DOM for 4,000 servers"
    );
    assert_eq!(first["ariaRowCount"], "4001", "{first}");
    assert_eq!(first["rows"][0][1], "srv-0001", "{first}");
    // At least ten server bars' worth of COMPLETED (each ≥ 2 × 12 px).
    let completed_pixels = first["completedPixels"].as_u64().expect("a count");
    assert!(
        completed_pixels >= 240,
        "the timeline drew {completed_pixels} pixels of completed bars"
    );

    // A hostname narrows the table to that server.
    browser.run(
        "const search = document.querySelector('[data-testid=server-search]');
         search.value = 'srv-2718';
         search.dispatchEvent(new Event('input'));
         return true;",
    );
    let found = wait_for_reading(
        &browser,
        READ_TABLE,
        "the server srv-2718 alone",
        Duration::from_secs(10),
        |page| {
            page["count"] == "1 of 4,000 servers"
                && page["rows"].as_array().is_some_and(|r| r.len() == 1)
        },
    );
    assert_eq!(
        found["rows"],
        serde_json::json!([[big_server_id(2718), "srv-2718", "COMPLETED"]]),
        "{found}"
    );

    // A launch status narrows it to the servers in it. Chosen right after
    // the search box is cleared (before the search applies), it must not
    // bring the old search text back.
    browser.run(
        "const search = document.querySelector('[data-testid=server-search]');
         search.value = '';
         search.dispatchEvent(new Event('input'));
         const status = document.querySelector('[data-testid=server-filter-status]');
         status.value = 'FAILED';
         status.dispatchEvent(new Event('change'));
         return true;",
    );
    let failed_rows = wait_for_reading(
        &browser,
        READ_TABLE,
        "the failed servers",
        Duration::from_secs(10),
        |page| {
            page["count"] == format!("{failed} of 4,000 servers").as_str()
                && page["rows"][0][2] == "FAILED"
        },
    );
    // The table shows the first of them (the rest below the fold), in order.
    let shown = failed_rows["rows"].as_array().expect("rows");
    assert!(!shown.is_empty() && shown.len() <= failed, "{failed_rows}");
    for (k, row) in shown.iter().enumerate() {
        let n = (k + 1) * BIG_FAILED_EVERY;
        assert_eq!(
            *row,
            serde_json::json!([big_server_id(n), format!("srv-{n:04}"), "FAILED"]),
            "{failed_rows}"
        );
    }
    assert_eq!(
        failed_rows["ariaRowCount"],
        (failed + 1).to_string(),
        "{failed_rows}"
    );

    // Unfiltered again, the end of the table shows the last server.
    browser.run(
        "const status = document.querySelector('[data-testid=server-filter-status]');
         status.value = '';
         status.dispatchEvent(new Event('change'));
         const table = document.querySelector('[data-testid=server-table]');
         table.scrollTop = table.scrollHeight;
         return true;",
    );
    let end = wait_for_reading(
        &browser,
        READ_TABLE,
        "the last server",
        Duration::from_secs(10),
        |page| {
            page["rows"]
                .as_array()
                .and_then(|rows| rows.last())
                .is_some_and(|last| last[1] == "srv-4000")
        },
    );
    let rows = end["rows"].as_array().expect("rows");
    assert!(rows.len() <= 60, "{} rows at the end", rows.len());
    assert_eq!(rows.last().unwrap()[0], big_server_id(4000).as_str());
    assert_eq!(end["count"], "4,000 servers", "{end}");
    assert_no_errors_logged(&browser, &[]);
}

#[test]
fn dashboard_reconnects_to_a_restarted_server() {
    let Some(tools) = Tools::find_or_skip("dashboard_reconnects_to_a_restarted_server") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ripcord.db");
    let scenario =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dashboard-watchable.yaml");
    // The workers in their own processes, so that the drill goes on while
    // the server is down.
    let _workers = Workers::start(&db, &scenario, dir.path());
    let serve = Serve::alone(&db, 0, dir.path());
    let (base, port) = (serve.base.clone(), serve.port());
    let browser = Browser::start(&tools, 1400, 1000);
    browser.before_each_page(WATCH_PAGE);
    let id = start(&db, &workspace().join("examples/drill.yaml"));
    browser.goto(&format!("{base}/executions/{id}"));
    browser.run("window.__ripcordE2e = true; return true;");
    wait_for(
        &browser,
        "the drill running live",
        Duration::from_secs(60),
        |page| page["live"] == "live" && page["status"] == "IN_PROGRESS",
    );

    drop(serve);
    let down = wait_for(
        &browser,
        "the connection banner",
        Duration::from_secs(20),
        |page| page["bannerHidden"] == false,
    );
    browser.screenshot(&artifact("dashboard-reconnecting.png"));
    assert_eq!(down["live"], "reconnecting", "{down}");
    assert_eq!(down["status"], "IN_PROGRESS", "{down}");
    let banner = down["banner"].as_str().unwrap_or("");
    assert!(
        banner.starts_with("Connection lost — reconnecting… Showing the state received at"),
        "{down}"
    );

    // The workers finish the drill while no server answers the page.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let view = status_in_db(&db, &id);
        if view.as_ref().is_some_and(|v| v["status"] == "COMPLETED") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the drill did not complete within 180 s: {view:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let still = browser.run(READ_PAGE);
    assert_eq!(
        still["bannerHidden"], false,
        "banner hidden while down: {still}"
    );
    assert_eq!(still["status"], "IN_PROGRESS", "{still}");

    // Back on the same port and database: the page catches up by itself.
    let serve = Serve::alone(&db, port, dir.path());
    assert_eq!(serve.base, base);
    let back = wait_for(
        &browser,
        "the final state after the restart",
        Duration::from_secs(60),
        |page| page["live"] == "settled",
    );
    assert_eq!(back["sameDocument"], true, "the page reloaded: {back}");
    // It learnt the end from a new connection's snapshot.
    let events: Vec<&str> = back["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let lost = events.iter().position(|e| e.contains(" error "));
    let caught_up = events
        .iter()
        .rposition(|e| e.contains(" snapshot COMPLETED "));
    assert!(
        matches!((lost, caught_up), (Some(l), Some(c)) if l < c),
        "no snapshot of the final state after the connection was lost: {events:#?}"
    );
    // The stream cut and the refused reconnections are expected.
    // The stream and the top bar's capacity reads fail while the server is
    // down; the page says so in its banner and carries on.
    assert_no_errors_logged(
        &browser,
        &[
            "/events - Failed to load resource: net::ERR_",
            "/api/capacity - Failed to load resource: net::ERR_",
        ],
    );
    assert_eq!(back["bannerHidden"], true, "{back}");
    assert_settled_in_step(&back);
    assert_eq!(back["status"], "COMPLETED", "{back}");
    assert_eq!(back["percent"], "100%", "{back}");
    assert_eq!(
        back["waves"],
        serde_json::json!([[1, "COMPLETED"], [2, "COMPLETED"], [3, "COMPLETED"]]),
        "{back}"
    );
}

#[test]
fn dashboard_shows_a_queued_start_then_the_execution() {
    let Some(tools) = Tools::find_or_skip("dashboard_shows_a_queued_start_then_the_execution")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ripcord.db");
    let scenario =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dashboard-watchable.yaml");
    // No worker yet: the start stays queued.
    let id = start(&db, &workspace().join("examples/drill.yaml"));
    let serve = Serve::alone(&db, 0, dir.path());
    let browser = Browser::start(&tools, 1400, 1000);
    browser.goto(&format!("{}/executions/{id}", serve.base));
    let read_queued = r#"
        const queued = document.querySelector('[data-testid="queued"]');
        return { queued: queued ? queued.textContent.replace(/\s+/g, ' ').trim() : null };
    "#;
    let page = wait_for_reading(
        &browser,
        read_queued,
        "the queued notice",
        Duration::from_secs(20),
        |page| page["queued"].is_string(),
    );
    let text = page["queued"].as_str().unwrap_or("");
    assert!(
        text.contains("payments-drill: queued, not yet started"),
        "{page}"
    );
    assert!(text.contains("no launch worker has polled"), "{page}");
    browser.screenshot(&artifact("dashboard-queued.png"));

    // A launch worker creates the execution: the page shows it, live.
    let _workers = Workers::start(&db, &scenario, dir.path());
    browser.run("window.__ripcordE2e = true; return true;");
    wait_for(
        &browser,
        "the execution once a worker took it up",
        Duration::from_secs(60),
        |page| page["status"] == "IN_PROGRESS" || page["status"] == "COMPLETED",
    );
    assert_no_errors_logged(&browser, &[]);
}

/// What the page shows of a drill clean-up.
const READ_CLEANUP: &str = r#"
    const q = (id) => document.querySelector(`[data-testid="${id}"]`);
    return {
        buttonShown: !!q('cleanup-button') && !q('cleanup-button').hidden,
        summary: q('cleanup-summary') && !q('cleanup-summary').hidden ? q('cleanup-summary').textContent : null,
        servers: [...document.querySelectorAll('[data-testid="server-cleanup-status"]')].map((b) => b.textContent.trim()),
        live: q('live-state') ? q('live-state').dataset.state : null,
        status: q('execution-status') ? q('execution-status').dataset.status : null,
    };
"#;

#[test]
fn dashboard_cleans_up_a_settled_drill_after_confirmation() {
    let Some(drill) = Drill::open(
        "dashboard_cleans_up_a_settled_drill_after_confirmation",
        "drill.yaml",
    ) else {
        return;
    };
    let browser = &drill.browser;
    let running = browser.run(READ_CLEANUP);
    assert_eq!(
        running["buttonShown"], false,
        "no clean-up while it runs: {running}"
    );
    wait_for_reading(
        browser,
        READ_CLEANUP,
        "the Clean up button on the settled drill",
        Duration::from_secs(180),
        |page| page["live"] == "settled" && page["buttonShown"] == true,
    );
    browser.run(&format!(
        "document.querySelector('[data-testid=cleanup-button]').click();
         document.querySelector('#field-reason').value = 'drill reviewed';
         document.querySelector('#field-requestedBy').value = 'e2e-cleaner';
         document.querySelector('#field-token').value = '{TOKEN}';
         document.querySelector('[data-testid=dialog-confirm]').click();
         return true;"
    ));
    let last = wait_for_reading(
        browser,
        READ_CLEANUP,
        "every instance terminated, live",
        Duration::from_secs(120),
        |page| {
            page["summary"]
                .as_str()
                .is_some_and(|s| s.contains("COMPLETED") && s.contains("7 terminated"))
                && page["servers"].as_array().is_some_and(|s| {
                    s.len() == 7
                        && s.iter()
                            .all(|b| b.as_str().unwrap_or("").contains("TERMINATED"))
                })
        },
    );
    browser.screenshot(&artifact("dashboard-cleanup.png"));
    assert!(
        last["summary"].as_str().unwrap().contains("e2e-cleaner"),
        "{last}"
    );
    assert_eq!(last["buttonShown"], false, "cleaned once: {last}");
    assert_eq!(last["status"], "COMPLETED", "the drill keeps its status");
    assert_no_errors_logged(browser, &[]);
}
