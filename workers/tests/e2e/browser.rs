//! Headless Chromium for the dashboard's browser tests: `chromedriver` in a
//! child process and one session driven with the `fantoccini` WebDriver
//! client, over plain HTTP on loopback (no TLS stack).
//!
//! fantoccini is async; `Browser` runs it on its own small runtime and
//! offers blocking calls, so that the tests read as a sequence of steps
//! and that dropping a `Browser` — also while a failed test unwinds — can
//! end the session: Chromium outlives a killed chromedriver otherwise.
//!
//! `Tools::find_or_skip` locates the tools (`RIPCORD_CHROMEDRIVER` /
//! `RIPCORD_CHROMIUM`, else `chromedriver` and `chromium` on PATH), and
//! `node_or_skip` finds node for the modules' unit tests. A test without
//! its tools fails when `RIPCORD_REQUIRE_BROWSER_TESTS=1` (CI) and
//! otherwise says why it is skipped.

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::net::{TcpListener, TcpStream};
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
    client: Client,
    runtime: tokio::runtime::Runtime,
    driver: Child,
}

impl Browser {
    pub fn start(tools: &Tools, width: u32, height: u32) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut driver = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", tools.chromedriver.display()));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() >= deadline {
                let _ = driver.kill();
                panic!("chromedriver did not listen on port {port}");
            }
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
        let mut capabilities = Capabilities::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        // Keeps what the pages log (console, errors, CSP violations).
        capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let connected = runtime.block_on(
            ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}")),
        );
        let client = match connected {
            Ok(client) => client,
            Err(e) => {
                let _ = driver.kill();
                panic!("no WebDriver session from chromedriver: {e}");
            }
        };
        Browser {
            client,
            runtime,
            driver,
        }
    }

    pub fn goto(&self, url: &str) {
        self.runtime
            .block_on(self.client.goto(url))
            .unwrap_or_else(|e| panic!("WebDriver goto {url}: {e}"));
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    pub fn run(&self, script: &str) -> Value {
        self.runtime
            .block_on(self.client.execute(script, vec![]))
            .unwrap_or_else(|e| panic!("WebDriver execute failed: {e}\nscript: {script}"))
    }

    /// Runs `script` in every page opened from now on, before the page's
    /// own scripts (Chrome DevTools' `Page.addScriptToEvaluateOnNewDocument`).
    pub fn before_each_page(&self, script: &str) {
        self.chrome(
            "goog/cdp/execute",
            json!({
                "cmd": "Page.addScriptToEvaluateOnNewDocument",
                "params": { "source": script },
            }),
        );
    }

    /// What the pages logged since the last call (each entry's `level`,
    /// `source` and `message`): console calls, uncaught errors, failed
    /// loads, Content-Security-Policy violations.
    pub fn log(&self) -> Vec<Value> {
        match self.chrome("se/log", json!({ "type": "browser" })) {
            Value::Array(entries) => entries,
            other => panic!("chromedriver's log is not a list: {other}"),
        }
    }

    /// A chromedriver command beyond W3C WebDriver; returns its `value`.
    fn chrome(&self, path: &'static str, body: Value) -> Value {
        self.runtime
            .block_on(self.client.issue_cmd(ChromeCommand { path, body }))
            .unwrap_or_else(|e| panic!("chromedriver {path}: {e}"))
    }

    /// Saves a PNG screenshot of the window at `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self
            .runtime
            .block_on(self.client.screenshot())
            .unwrap_or_else(|e| panic!("WebDriver screenshot: {e}"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("artifact directory");
        }
        std::fs::write(path, png).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.runtime.block_on(self.client.clone().close());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A command of chromedriver's own: `POST /session/{id}/{path}` with a
/// JSON body.
#[derive(Debug)]
struct ChromeCommand {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for ChromeCommand {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}
