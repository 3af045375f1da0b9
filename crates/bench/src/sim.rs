//! The HelpDesk simulator in a child process (this same binary, `scoreline-bench sim`), so
//! the benchmark process holds Scoreline alone and its RSS is Scoreline's.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use scoreline_core::Timestamp;
use scoreline_helpdesk_sim::{
    ClockMode, DEFAULT_START, Knobs, RateLimit, RequestRecord, SimConfig, Simulator,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// What the child simulator serves.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    #[arg(long, default_value_t = 100_000)]
    pub tickets: usize,
    /// Tickets are spread over this many days before the (fixed) sim time.
    #[arg(long, default_value_t = 28)]
    pub days: u32,
    /// The backfill range, to count the tickets a backfill must store.
    #[arg(long, default_value_t = 28)]
    pub backfill_days: u32,
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Requests per second allowed on /v1 (429 with Retry-After beyond it).
    #[arg(long)]
    pub rate_limit: Option<f64>,
    #[arg(long, default_value_t = 1)]
    pub rate_burst: u32,
}

/// `scoreline-bench sim`: serves until its stdin closes (the parent exited or hung up).
pub async fn serve(args: SimArgs) -> Result<()> {
    let config = SimConfig {
        tickets: args.tickets,
        days: args.days,
        clock: ClockMode::Fixed(DEFAULT_START),
        knobs: Knobs {
            latency_ms: args.latency_ms,
            rate_limit: args.rate_limit.map(|per_second| RateLimit { per_second, burst: args.rate_burst }),
            ..Knobs::default()
        },
        ..SimConfig::default()
    };
    let sim = Simulator::spawn(config).await.context("start the simulator")?;
    let now = sim.now();
    let from = now.saturating_sub(days(args.backfill_days));
    let truth = sim.truth();
    let in_range = truth
        .iter()
        .filter(|t| t.updated_at >= from && t.updated_at < now)
        .filter(|t| matches!(t.silo.as_str(), "tickets" | "archive"))
        .count();
    println!("api_base_url: {}", sim.api_base_url());
    println!("accounts_url: {}", sim.accounts_url());
    println!("account_id: {}", sim.account_id());
    println!("pat: {}", sim.pat());
    println!("now_millis: {}", now.as_millis());
    println!("tickets: {}", truth.len());
    println!("backfill_tickets: {in_range}");
    println!("ready");
    drop(truth);
    // Blocking std I/O on its own thread: tokio's stdin needs a feature the workspace leaves off.
    let _ = tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink())).await;
    sim.shutdown().await;
    Ok(())
}

pub fn days(days: u32) -> Duration {
    Duration::from_secs(u64::from(days) * 24 * 3600)
}

/// A running child simulator; killed when dropped.
pub struct ChildSim {
    child: Child,
    pub api_url: String,
    pub accounts_url: String,
    pub account_id: String,
    pub pat: String,
    pub now: Timestamp,
    pub tickets: u64,
    /// Tickets in the `tickets` and `archive` silos within the backfill range.
    pub backfill_tickets: u64,
    pub startup: Duration,
    http: reqwest::Client,
}

impl ChildSim {
    pub async fn spawn(args: &SimArgs) -> Result<Self> {
        let exe = std::env::current_exe().context("find the benchmark executable")?;
        let mut command = Command::new(exe);
        command
            .arg("sim")
            .args(["--tickets", &args.tickets.to_string()])
            .args(["--days", &args.days.to_string()])
            .args(["--backfill-days", &args.backfill_days.to_string()])
            .args(["--latency-ms", &args.latency_ms.to_string()])
            .args(["--rate-burst", &args.rate_burst.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(rate) = args.rate_limit {
            command.args(["--rate-limit", &rate.to_string()]);
        }
        let started = std::time::Instant::now();
        let mut child = command.spawn().context("start the simulator process")?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout from the simulator"))?;
        let mut lines = BufReader::new(stdout).lines();
        let mut fields = std::collections::HashMap::new();
        loop {
            let Some(line) = lines.next_line().await? else {
                bail!("the simulator exited before it was ready");
            };
            if line == "ready" {
                break;
            }
            if let Some((key, value)) = line.split_once(": ") {
                fields.insert(key.to_owned(), value.to_owned());
            }
        }
        let field =
            |key: &str| fields.get(key).cloned().ok_or_else(|| anyhow!("simulator did not print {key}"));
        let number = |key: &str| -> Result<u64> { Ok(field(key)?.parse()?) };
        Ok(Self {
            api_url: field("api_base_url")?,
            accounts_url: field("accounts_url")?,
            account_id: field("account_id")?,
            pat: field("pat")?,
            now: Timestamp::from_millis(field("now_millis")?.parse()?),
            tickets: number("tickets")?,
            backfill_tickets: number("backfill_tickets")?,
            startup: started.elapsed(),
            http: reqwest::Client::new(),
            child,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn clear_requests(&self) -> Result<()> {
        self.http.delete(format!("{}/_sim/requests", self.api_url)).send().await?.error_for_status()?;
        Ok(())
    }

    /// The `/v1` requests in the simulator's log.
    pub async fn api_requests(&self) -> Result<Vec<RequestRecord>> {
        let records: Vec<RequestRecord> = self
            .http
            .get(format!("{}/_sim/requests", self.api_url))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(records.into_iter().filter(|record| record.uri.starts_with("/v1")).collect())
    }

    /// Closes the child's stdin (it shuts down) and waits for it a little, then kills it.
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}
