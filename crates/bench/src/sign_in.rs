//! `sign-in-burst`: many sign-ins at once against a real `scoreline serve` in a child process,
//! while a prober measures how the rest of the server answers (DESIGN.md §4 "Sign-in and
//! credentials": bounded password checks, never unbounded memory).

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::report::{Budget, Report};
use crate::rss;

#[derive(Debug, Args)]
pub struct SignInArgs {
    /// The `scoreline` binary to run (build it with `cargo build --release -p scoreline`).
    #[arg(long, default_value = "target/release/scoreline")]
    server: PathBuf,
    /// Sign-ins sent at once, each from its own loopback address and for its own unknown
    /// email, so that the throttle lets every one through to a password check.
    #[arg(long, default_value_t = 200)]
    concurrent: u16,
}

/// `scoreline serve` on a fresh SQLite database, with one user and an API token for the prober.
struct Server {
    child: Child,
    base_url: String,
    token: String,
    _dir: tempfile::TempDir,
}

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

impl Server {
    fn start(binary: &PathBuf) -> Result<Self> {
        let binary =
            &std::fs::canonicalize(binary).with_context(|| format!("no server at {}", binary.display()))?;
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let command = |args: &[&str]| {
            let mut command = Command::new(binary);
            command
                .args(args)
                .current_dir(dir.path())
                .env("SCORELINE_DATABASE_URL", &url)
                .env("SCORELINE_SECRET_KEY", KEY)
                .env("SCORELINE_LISTEN", "127.0.0.1:0")
                .env("RUST_LOG", "warn");
            command
        };
        let mut create = command(&[
            "users",
            "create",
            "--email",
            "bench@example.com",
            "--name",
            "Bench",
            "--role",
            "global_admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", binary.display()))?;
        use std::io::Write;
        create.stdin.take().context("stdin")?.write_all(b"a bench password\n")?;
        if !create.wait()?.success() {
            bail!("scoreline users create failed");
        }
        let token = command(&["tokens", "create", "--email", "bench@example.com"]).output()?;
        if !token.status.success() {
            bail!("scoreline tokens create failed: {}", String::from_utf8_lossy(&token.stderr));
        }
        let token = String::from_utf8(token.stdout)?.trim().to_owned();
        let mut child = command(&["serve"]).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let base_url = loop {
            let line = lines.next().context("the server exited before listening")??;
            if let Some(address) = line.strip_prefix("Scoreline is listening on ") {
                break address.to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, base_url, token, _dir: dir })
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Latencies of one probed route, in order of arrival.
#[derive(Default)]
struct Probe {
    latencies: Vec<Duration>,
    failures: usize,
}

impl Probe {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }
}

/// The n-th loopback address past 127.0.0.1 (127.0.1.0 …): one client address per sign-in.
fn address(n: u16) -> IpAddr {
    let [high, low] = n.to_be_bytes();
    IpAddr::V4(Ipv4Addr::new(127, 0, high.saturating_add(1), low))
}

async fn probe(http: reqwest::Client, url: String, token: Option<String>, stop: Arc<AtomicBool>) -> Probe {
    let mut probe = Probe::default();
    while !stop.load(Ordering::Relaxed) {
        let mut request = http.get(&url);
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let started = Instant::now();
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                let _ = response.bytes().await;
                probe.latencies.push(started.elapsed());
            }
            _ => probe.failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    probe
}

pub async fn run(args: SignInArgs) -> Result<()> {
    let mut report = Report::new(&crate::machine());
    eprintln!("starting {} serve…", args.server.display());
    let server = Server::start(&args.server)?;
    let idle = rss::read(&server.pid())?;
    let peak_reset = std::fs::write(format!("/proc/{}/clear_refs", server.pid()), "5").is_ok();

    let stop = Arc::new(AtomicBool::new(false));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let health =
        tokio::spawn(probe(http.clone(), format!("{}/healthz", server.base_url), None, stop.clone()));
    let cases = tokio::spawn(probe(
        http.clone(),
        format!("{}/api/v1/cases", server.base_url),
        Some(server.token.clone()),
        stop.clone(),
    ));
    // A moment of probing before the burst, so the probes' connections are open.
    tokio::time::sleep(Duration::from_millis(200)).await;

    eprintln!("{} sign-ins at once…", args.concurrent);
    // Every client is built and waiting before the first sign-in leaves.
    let start = Arc::new(tokio::sync::Barrier::new(usize::from(args.concurrent) + 1));
    let mut burst = Vec::new();
    for n in 0..args.concurrent {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(address(n))
            .timeout(Duration::from_secs(60))
            .build()?;
        let (url, start) = (format!("{}/sign-in", server.base_url), start.clone());
        burst.push(tokio::spawn(async move {
            let email = format!("nobody{n}@example.com");
            let form = [("email", email.as_str()), ("password", "a wrong password"), ("next", "/")];
            start.wait().await;
            let started = Instant::now();
            let status = client.post(url).form(&form).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            (status, started.elapsed())
        }));
    }
    start.wait().await;
    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut slowest = Duration::ZERO;
    for task in burst {
        let (status, took) = task.await?;
        *statuses.entry(status).or_default() += 1;
        slowest = slowest.max(took);
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (health, cases) = (health.await?, cases.await?);
    let memory = rss::read(&server.pid())?;

    let answers: Vec<String> = statuses.iter().map(|(status, n)| format!("{n}× {status}")).collect();
    report.note(format!(
        "{} sign-ins (unknown emails, wrong passwords, one loopback address each) answered in {:.2} s, \
         slowest {:.2} s: {}",
        args.concurrent,
        elapsed.as_secs_f64(),
        slowest.as_secs_f64(),
        answers.join(", ")
    ));
    report.note(format!(
        "server RSS idle {:.1} MiB, peak during the burst {:.1} MiB{}",
        rss::mib(idle.rss),
        rss::mib(memory.peak),
        if peak_reset { "" } else { " (peak since start: clear_refs not permitted)" }
    ));
    for (name, probe) in [("/healthz", &health), ("GET /api/v1/cases", &cases)] {
        report.note(format!(
            "{name} during the burst: {} answers, {} failed, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            probe.latencies.len(),
            probe.failures,
            probe.percentile(0.5).as_secs_f64() * 1e3,
            probe.percentile(0.95).as_secs_f64() * 1e3,
            probe.percentile(1.0).as_secs_f64() * 1e3,
        ));
    }
    let millis = |value: f64| format!("{value:.1} ms");
    report.budget(Budget::at_most(
        "server peak RSS during the burst",
        memory.peak as f64,
        300e6,
        Budget::megabytes,
    ));
    report.budget(Budget::at_most("/healthz p95", health.percentile(0.95).as_secs_f64() * 1e3, 50.0, millis));
    report.budget(Budget::at_most(
        "GET /api/v1/cases p95",
        cases.percentile(0.95).as_secs_f64() * 1e3,
        500.0,
        millis,
    ));
    report.print();
    Ok(())
}
