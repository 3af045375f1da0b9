//! `scoreline demo`: the server, a simulated HelpDesk account beside it, and a QA team to sign
//! in as, so the whole flow can be tried on one machine without a HelpDesk account.

mod team;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use scoreline_app::{Actor, App, CreateUser};
use scoreline_helpdesk_sim::{ClockMode, Knobs, SimConfig, Simulator};

use crate::config::{Config, DEFAULT_DATABASE_URL};
use crate::serve::{bind, build_app_at, serve_app};

pub const DEMO_ADMIN_EMAIL: &str = "admin@scoreline.demo";
pub const DEMO_ADMIN_PASSWORD: &str = team::PASSWORD;
const DEMO_DATABASE_URL: &str = "sqlite://./data/demo.db";
const DEMO_DATABASE_PATH: &str = "./data/demo.db";
/// How often the demo looks for a newly connected integration to set its lists up for.
const LIST_WATCH_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Tickets in the simulated HelpDesk account.
    #[arg(long, default_value_t = 2000)]
    tickets: usize,
    /// Agents in the simulated HelpDesk account.
    #[arg(long, default_value_t = 25)]
    agents: usize,
    /// Seed of the simulated data: the same seed gives the same account.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// New tickets and replies per minute in the simulated account, so live sync has work.
    #[arg(long, default_value_t = 2.0)]
    activity_per_minute: f64,
    /// Start from an empty demo database instead of resuming the previous demo.
    #[arg(long)]
    fresh: bool,
}

pub async fn run(mut config: Config, args: DemoArgs) -> anyhow::Result<()> {
    // Demo data stays out of the real database unless one is configured explicitly.
    let own_database = config.database_url == DEFAULT_DATABASE_URL;
    if own_database {
        config.database_url = DEMO_DATABASE_URL.to_owned();
    }
    if args.fresh {
        anyhow::ensure!(
            own_database,
            "--fresh empties only the demo's own database ({DEMO_DATABASE_PATH}), not {}",
            config.database_url
        );
        remove_demo_database()?;
    }
    let sim = Simulator::spawn(SimConfig {
        seed: args.seed,
        agents: args.agents,
        tickets: args.tickets,
        days: 42,
        clock: ClockMode::System,
        knobs: Knobs { activity_per_minute: args.activity_per_minute, ..Knobs::default() },
        ..SimConfig::default()
    })
    .await
    .context("cannot start the simulated HelpDesk")?;
    config.helpdesk_api_url = sim.api_base_url().parse().context("simulator API URL")?;
    config.accounts_url = sim.accounts_url().parse().context("simulator accounts URL")?;
    config.oauth_client_id = Some(sim.oauth_client_id());
    config.oauth_client_secret = Some(sim.oauth_client_secret().into());

    let (listener, public_base) = bind(&config).await?;
    // The simulator runs beside us, so it reaches this address: its webhooks work here too.
    if config.public_url.is_none() {
        config.public_url = Some(public_base.parse().context("demo address")?);
    }
    let app = build_app_at(&config, &public_base).await?;
    let resumed = app.find_user_by_email(&Actor::System, DEMO_ADMIN_EMAIL).await?.is_some();
    let sign_ins = if resumed {
        team::find_sign_ins(&app, &sim.agents()).await?
    } else {
        create_admin(&app).await?;
        team::seed(&app, &sim.agents()).await?
    };

    let start = if resumed {
        format!("resumed the demo in {DEMO_DATABASE_PATH} (`scoreline demo --fresh` starts clean)")
    } else {
        format!("started a fresh demo in {DEMO_DATABASE_PATH}")
    };
    println!("Scoreline demo: {start}");
    println!("  Open {public_base}/ and sign in (every password: {DEMO_ADMIN_PASSWORD})");
    println!("    admin         {DEMO_ADMIN_EMAIL}");
    if let Some(sign_ins) = &sign_ins {
        println!("    QA manager    {}", sign_ins.qa_manager);
        for evaluator in &sign_ins.evaluators {
            println!("    evaluator     {evaluator}");
        }
        if let Some(lead) = &sign_ins.team_lead {
            println!("    team lead     {lead}");
        }
        if let Some(agent) = &sign_ins.agent {
            println!("    agent         {agent}");
        }
    }
    println!("  Simulated HelpDesk ({} tickets): connect it under Score > Interactions > View", args.tickets);
    println!("  Integrations, by OAuth or with this Account ID and token:");
    println!("    Account ID    {}", sim.account_id());
    println!("    Token         {}", sim.pat());
    println!("  Ctrl-C stops the demo.");

    let watcher = tokio::spawn(set_up_lists_when_connected(app.clone()));
    let served = serve_app(&config, listener, app).await;
    watcher.abort();
    sim.shutdown().await;
    served
}

fn remove_demo_database() -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{DEMO_DATABASE_PATH}{suffix}");
        match std::fs::remove_file(Path::new(&path)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error).with_context(|| format!("cannot remove {path}")),
        }
    }
    Ok(())
}

async fn create_admin(app: &App) -> anyhow::Result<()> {
    let admin = CreateUser {
        email: DEMO_ADMIN_EMAIL.to_owned(),
        name: "Demo Admin".to_owned(),
        role: "global_admin".to_owned(),
        password: Some(DEMO_ADMIN_PASSWORD.to_owned()),
        team_ids: Vec::new(),
    };
    app.create_user(&Actor::System, admin).await?;
    Ok(())
}

/// The demo's lists need an integration; they are made as soon as the first one is connected.
async fn set_up_lists_when_connected(app: App) {
    let mut ticks = tokio::time::interval(LIST_WATCH_INTERVAL);
    loop {
        ticks.tick().await;
        match team::add_lists_once_connected(&app).await {
            Ok(team::Lists::Waiting) => continue,
            Ok(team::Lists::Created) => {
                tracing::info!("the demo's lists are ready under Score > Interactions > Lists");
                return;
            }
            Ok(team::Lists::NotNeeded) => return,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "cannot set up the demo's lists");
                return;
            }
        }
    }
}
