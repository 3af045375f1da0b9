//! `scoreline demo`: the server, a simulated HelpDesk account beside it, and an admin login,
//! so the whole flow can be tried on one machine without a HelpDesk account.

use anyhow::Context;
use scoreline_app::{Actor, CreateUser};
use scoreline_helpdesk_sim::{ClockMode, SimConfig, Simulator};

use crate::config::{Config, DEFAULT_DATABASE_URL};
use crate::serve::{bind, build_app_at, serve_app};

pub const DEMO_ADMIN_EMAIL: &str = "admin@scoreline.demo";
pub const DEMO_ADMIN_PASSWORD: &str = "scoreline-demo";
const DEMO_DATABASE_URL: &str = "sqlite://./data/demo.db";

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
}

pub async fn run(mut config: Config, args: DemoArgs) -> anyhow::Result<()> {
    // Demo data stays out of the real database unless one is configured explicitly.
    if config.database_url == DEFAULT_DATABASE_URL {
        config.database_url = DEMO_DATABASE_URL.to_owned();
    }
    let sim = Simulator::spawn(SimConfig {
        seed: args.seed,
        agents: args.agents,
        tickets: args.tickets,
        days: 42,
        clock: ClockMode::System,
        ..SimConfig::default()
    })
    .await
    .context("cannot start the simulated HelpDesk")?;
    config.helpdesk_api_url = sim.api_base_url().parse().context("simulator API URL")?;
    config.accounts_url = sim.accounts_url().parse().context("simulator accounts URL")?;
    config.oauth_client_id = Some(sim.oauth_client_id());
    config.oauth_client_secret = Some(sim.oauth_client_secret().into());

    let (listener, public_base) = bind(&config).await?;
    let app = build_app_at(&config, &public_base).await?;
    if app.find_user_by_email(&Actor::System, DEMO_ADMIN_EMAIL).await?.is_none() {
        let admin = CreateUser {
            email: DEMO_ADMIN_EMAIL.to_owned(),
            name: "Demo Admin".to_owned(),
            role: "global_admin".to_owned(),
            password: Some(DEMO_ADMIN_PASSWORD.to_owned()),
            team_ids: Vec::new(),
        };
        app.create_user(&Actor::System, admin).await?;
    }
    println!(
        "Scoreline demo: sign in at {public_base}/ as {DEMO_ADMIN_EMAIL} with password {DEMO_ADMIN_PASSWORD}"
    );
    println!("Simulated HelpDesk ({} tickets): connect it by OAuth, or with an access token:", args.tickets);
    println!("  Account ID: {}", sim.account_id());
    println!("  Token:      {}", sim.pat());
    let served = serve_app(&config, listener, app).await;
    sim.shutdown().await;
    served
}
