//! The real `scoreline` binary: configuration, administration commands, a browser signing in
//! to the server it runs, sync surviving SIGKILL, two servers sharing one PostgreSQL, and the
//! newcomer's walkthrough of the demo in a browser.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod browser;
mod commands;
mod crash;
#[cfg(feature = "demo")]
mod walkthrough;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub const BINARY: &str = env!("CARGO_BIN_EXE_scoreline");
/// A fixed `SCORELINE_SECRET_KEY`, so processes sharing a database can read each other's secrets.
pub const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// `scoreline <args>` in `dir` with only the given configuration in its environment.
pub fn scoreline(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(dir).env("RUST_LOG", "warn");
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("SCORELINE_")) {
        command.env_remove(key);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

pub fn run_with_stdin(mut command: Command, stdin: &str) -> Output {
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// A running `scoreline serve` (or `demo`), stopped when dropped.
pub struct Server {
    pub base_url: String,
    /// What it printed before it listened.
    pub banner: Vec<String>,
    child: Child,
}

impl Server {
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::run(dir, env, &["serve"])
    }

    pub fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        let mut env = env.to_vec();
        env.push(("SCORELINE_LISTEN", "127.0.0.1:0"));
        let mut child =
            scoreline(dir, &env).args(args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        // The server prints its address once it listens: read it instead of polling.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = Vec::new();
        let base_url = loop {
            let line = lines.next().expect("the server exited before listening").unwrap();
            if let Some(address) = line.strip_prefix("Scoreline is listening on ") {
                break address.to_owned();
            }
            banner.push(line);
        };
        assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
        std::thread::spawn(move || lines.for_each(drop));
        Self { base_url, banner, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Signs `email` in with `http` (which must not follow redirects); returns the session cookie.
    #[cfg(feature = "demo")]
    pub async fn sign_in(&self, http: &reqwest::Client, email: &str, password: &str) -> String {
        let signed_in = http
            .post(self.url("/sign-in"))
            .form(&[("email", email), ("password", password), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER, "{email} signs in");
        signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and waits for it to be gone.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
