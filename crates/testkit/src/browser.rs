//! A real browser: Debian's Chromium driven through chromedriver.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};

/// A headless Chromium session. Dropping it ends chromedriver and the browser.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

impl Browser {
    /// `None` when no browser is installed, unless `SCORELINE_TEST_BROWSER=1` demands one
    /// (CI sets it, so browser tests cannot be skipped there by accident).
    pub async fn start() -> Option<Self> {
        let required = std::env::var("SCORELINE_TEST_BROWSER").as_deref() == Ok("1");
        if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
            assert!(!required, "SCORELINE_TEST_BROWSER=1 but {CHROMEDRIVER} or {CHROMIUM} is missing");
            eprintln!("skipping browser test: install chromium and chromium-driver to run it");
            return None;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("XDG_CONFIG_HOME", profile.path())
            .env("XDG_CACHE_HOME", profile.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // chromedriver says when it listens: wait for that line instead of sleeping, then keep
        // draining its output so it never blocks on a full pipe.
        let stdout = driver.stdout.take().expect("chromedriver stdout");
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("started successfully")
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(());
                }
            }
        });
        assert!(ready_rx.await.is_ok(), "chromedriver did not start");

        let mut capabilities = serde_json::Map::new();
        let user_data_dir = format!("--user-data-dir={}", profile.path().join("chromium").display());
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--window-size=1280,900", user_data_dir
                ]
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("connect to chromedriver");
        Some(Self { client, driver, _profile: profile })
    }

    /// Opens `start`, which sends a visitor without a session to the sign-in page, then fills
    /// that page in and submits it. Callers wait for what they expect next: the page they
    /// asked for, or the sign-in error.
    pub async fn sign_in(&self, start: &str, email: &str, password: &str) {
        let client = &self.client;
        client.goto(start).await.expect("open the start page");
        let field = client.wait().for_element(Locator::Css("input[name=email]")).await.expect("sign-in page");
        field.send_keys(email).await.expect("type the email");
        let password_field = client.find(Locator::Css("input[name=password]")).await.expect("password field");
        password_field.send_keys(password).await.expect("type the password");
        let button = client.find(Locator::Css("form button[type=submit]")).await.expect("sign-in button");
        button.click().await.expect("submit sign-in");
    }

    /// Ends the browser session cleanly.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
