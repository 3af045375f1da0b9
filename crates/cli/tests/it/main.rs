//! The real `scoreline` binary: configuration, administration commands, and a browser
//! signing in to the server it runs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

mod browser;
mod commands;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub const BINARY: &str = env!("CARGO_BIN_EXE_scoreline");

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

/// A running `scoreline serve`, stopped when dropped.
pub struct Server {
    pub base_url: String,
    child: Child,
}

impl Server {
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut env = env.to_vec();
        env.push(("SCORELINE_LISTEN", "127.0.0.1:0"));
        let mut child = scoreline(dir, &env)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // The server prints its address once it listens: read it instead of polling.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next().expect("serve printed nothing").unwrap();
        let base_url = line.rsplit(' ').next().unwrap().to_owned();
        assert!(base_url.starts_with("http://127.0.0.1:"), "{line}");
        std::thread::spawn(move || lines.for_each(drop));
        Self { base_url, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
