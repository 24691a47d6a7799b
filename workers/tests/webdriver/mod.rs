//! A W3C WebDriver client just big enough for the dashboard's browser test:
//! start `chromedriver`, open one headless Chromium session, navigate, run
//! a script, take a screenshot. The protocol is JSON over HTTP, so it is a
//! few calls on the blocking `reqwest` client the tests already use, rather
//! than a WebDriver crate and the HTTP stack it would bring along.
//!
//! `Browser::find` locates the tools (`RIPCORD_CHROMEDRIVER` /
//! `RIPCORD_CHROMIUM`, else `chromedriver` and `chromium` on PATH), and
//! `node_or_skip` finds node for the modules' unit tests. A test without its
//! tools fails when `RIPCORD_REQUIRE_BROWSER_TESTS=1` (CI) and otherwise
//! says why it is skipped.

use base64::Engine as _;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The browser tools found on this machine.
pub struct Tools {
    chromedriver: PathBuf,
    chromium: Option<PathBuf>,
}

impl Tools {
    /// The tools, or None after printing why the test is skipped; panics
    /// instead when `RIPCORD_REQUIRE_BROWSER_TESTS=1`.
    pub fn find_or_skip(test: &str) -> Option<Tools> {
        let chromedriver = env_path("RIPCORD_CHROMEDRIVER").or_else(|| on_path("chromedriver"));
        let chromium = env_path("RIPCORD_CHROMIUM").or_else(|| {
            ["chromium", "chromium-browser", "google-chrome"]
                .into_iter()
                .find_map(on_path)
        });
        let missing = match (&chromedriver, &chromium) {
            (Some(_), Some(_)) => None,
            (None, _) => Some("chromedriver"),
            (_, None) => Some("chromium"),
        };
        match missing {
            None => Some(Tools {
                chromedriver: chromedriver.expect("found"),
                // Debian's /usr/bin/chromium is a wrapper script chromedriver
                // finds by itself; pass a binary only when one was named.
                chromium: env_path("RIPCORD_CHROMIUM"),
            }),
            Some(tool) => {
                skip(&format!(
                    "{test}: {tool} not found (apt-get install chromium chromium-driver, \
                     or set RIPCORD_CHROMEDRIVER / RIPCORD_CHROMIUM)"
                ));
                None
            }
        }
    }
}

/// `node`, for the dashboard modules' unit tests, or None after `skip`.
pub fn node_or_skip(test: &str) -> Option<PathBuf> {
    let node = on_path("node").or_else(|| on_path("nodejs"));
    if node.is_none() {
        skip(&format!("{test}: node not found (apt-get install nodejs)"));
    }
    node
}

/// Says why a dashboard test does not run; fails it instead under
/// `RIPCORD_REQUIRE_BROWSER_TESTS=1`.
fn skip(why: &str) {
    if std::env::var("RIPCORD_REQUIRE_BROWSER_TESTS").as_deref() == Ok("1") {
        panic!("{why}; RIPCORD_REQUIRE_BROWSER_TESTS=1 requires the dashboard tests to run");
    }
    eprintln!("SKIPPED {why}");
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// One headless Chromium session; the session and chromedriver end on drop.
pub struct Browser {
    driver: Child,
    http: reqwest::blocking::Client,
    session: String,
}

impl Browser {
    pub fn start(tools: &Tools, width: u32, height: u32) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", tools.chromedriver.display()));
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {base}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut options = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                format!("--window-size={width},{height}"),
            ]
        });
        if let Some(binary) = &tools.chromium {
            options["binary"] = json!(binary);
        }
        let capabilities = json!({
            "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": options } }
        });
        let mut browser = Browser {
            driver,
            http,
            session: base,
        };
        let created = browser.command("POST", "/session", Some(capabilities));
        let id = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {created}"));
        browser.session = format!("{}/session/{id}", browser.session);
        browser
    }

    /// One WebDriver command relative to the session (or to the driver
    /// before a session exists); returns its `value`, panics on an error.
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let request = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .json(&body.unwrap_or_else(|| json!({}))),
        };
        let response = request
            .send()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = response.status();
        let reply: Value = response
            .json()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: no JSON ({e})"));
        assert!(
            status.is_success(),
            "WebDriver {method} {path} failed with {status}: {reply}"
        );
        reply["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    pub fn run(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Saves a PNG screenshot of the window at `path`.
    pub fn screenshot(&self, path: &Path) {
        let data = self.command("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 screenshot"))
            .expect("valid base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("artifact directory");
        }
        std::fs::write(path, png).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.session.contains("/session/") {
            let _ = self.http.delete(&self.session).send();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
