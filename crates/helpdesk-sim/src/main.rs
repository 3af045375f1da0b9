//! `helpdesk-sim`: serves a generated HelpDesk account and prints how to reach it.

use std::time::Duration;

use clap::Parser;
use scoreline_core::Timestamp;
use scoreline_helpdesk_sim::{ClockMode, Knobs, Options, Precision, RateLimit, SimConfig, Simulator};

/// A local HelpDesk API v1 + accounts (OAuth) server over seeded, generated data.
#[derive(Debug, Parser)]
#[command(name = "helpdesk-sim", version)]
struct Args {
    /// Seed of the data generator: the same seed gives the same account.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of agents.
    #[arg(long, default_value_t = 25)]
    agents: usize,
    /// Number of tickets.
    #[arg(long, default_value_t = 200)]
    tickets: usize,
    /// Tickets are spread over this many days before now.
    #[arg(long, default_value_t = 14)]
    days: u32,
    /// API port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Accounts (OAuth) port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    accounts_port: u16,
    /// Freeze sim time at this RFC 3339 time instead of following the system clock.
    #[arg(long, value_name = "RFC3339")]
    fixed_time: Option<String>,
    /// Latency added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests per second allowed on /v1 (answers 429 with Retry-After beyond it).
    #[arg(long)]
    rate_limit: Option<f64>,
    /// Burst size of the rate limit.
    #[arg(long, default_value_t = 1)]
    rate_burst: u32,
    /// Chance in [0, 1] that a request gets a random fault (500/502/503, truncated or HTML body).
    #[arg(long, default_value_t = 0.0)]
    fault_probability: f64,
    /// Tickets show in list results only this many milliseconds after their updatedAt.
    #[arg(long, default_value_t = 0)]
    visibility_lag_ms: u64,
    /// Simulated customer and agent changes per minute (new tickets, replies), 0 = none.
    #[arg(long, default_value_t = 0.0)]
    activity_per_minute: f64,
    /// Write and store timestamps with whole seconds instead of milliseconds.
    #[arg(long)]
    second_precision: bool,
    /// Grant OAuth consent without showing the consent page.
    #[arg(long)]
    auto_approve: bool,
    /// Options for unconfirmed HelpDesk behaviour as JSON, e.g. '{"validation_status": 422}'
    /// (see the crate README; unnamed options keep their defaults).
    #[arg(long, value_name = "JSON")]
    options: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let clock = match &args.fixed_time {
        Some(text) => ClockMode::Fixed(Timestamp::parse_rfc3339(text)?),
        None => ClockMode::System,
    };
    let knobs = Knobs {
        latency_ms: args.latency_ms,
        rate_limit: args.rate_limit.map(|per_second| RateLimit { per_second, burst: args.rate_burst }),
        random_faults: (args.fault_probability > 0.0).then(|| scoreline_helpdesk_sim::RandomFaults {
            probability: args.fault_probability,
            kinds: Vec::new(),
        }),
        visibility_lag_ms: args.visibility_lag_ms,
        activity_per_minute: args.activity_per_minute,
        precision: if args.second_precision { Precision::Seconds } else { Precision::Millis },
        ..Knobs::default()
    };
    let options = match &args.options {
        Some(json) => serde_json::from_str(json)?,
        None => Options::default(),
    };
    let config = SimConfig {
        seed: args.seed,
        agents: args.agents,
        tickets: args.tickets,
        days: args.days,
        clock,
        api_port: args.port,
        accounts_port: args.accounts_port,
        knobs,
        oauth_auto_approve: args.auto_approve,
        options,
        ..SimConfig::default()
    };
    let started = tokio::time::Instant::now();
    let sim = Simulator::spawn(config).await?;
    let generated_in: Duration = started.elapsed();
    println!("api_base_url: {}", sim.api_base_url());
    println!("accounts_url: {}", sim.accounts_url());
    println!("admin_url: {}/_sim", sim.api_base_url());
    println!("account_id: {}", sim.account_id());
    println!("pat: {}", sim.pat());
    println!("license_id: {}", sim.license_id());
    println!("oauth_client_id: {}", sim.oauth_client_id());
    println!("oauth_client_secret: {}", sim.oauth_client_secret());
    println!("redirect_uris: {}", sim.redirect_uris().join(" "));
    println!("tickets: {}", sim.truth().len());
    println!("generated_in_ms: {}", generated_in.as_millis());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted?,
        _ = terminate.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}
