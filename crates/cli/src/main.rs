//! `scoreline`: the server and its administration commands.

mod admin;
mod config;
#[cfg(feature = "demo")]
mod demo;
mod serve;
mod telemetry;
mod work;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "scoreline", version, about = "Quality assurance for support teams")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (migrating the database first).
    Serve,
    /// Serve with a simulated HelpDesk account to connect and a ready admin login.
    #[cfg(feature = "demo")]
    Demo(demo::DemoArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Sync HelpDesk now: ask running servers to, or with --wait run it here and show progress.
    Sync(work::SyncArgs),
    /// Remove the content of cases past their integration's retention.
    Purge(work::PurgeArgs),
    /// Manage users.
    #[command(subcommand)]
    Users(admin::UsersCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Tokens(admin::TokensCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("scoreline: {error:#}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("scoreline: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve::run(config).await,
            #[cfg(feature = "demo")]
            Command::Demo(args) => demo::run(config, args).await,
            Command::Migrate => serve::migrate(&config).await,
            Command::Sync(args) => work::sync(&config, args).await,
            Command::Purge(args) => work::purge(&config, args).await,
            Command::Users(command) => admin::users(&config, command).await,
            Command::Tokens(command) => admin::tokens(&config, command).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("scoreline: {error:#}");
            ExitCode::FAILURE
        }
    }
}
