//! `scoreline sync` and `scoreline purge`: the background work, on demand.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use scoreline_app::{Actor, App, SyncOutcome, SyncProgress};
use scoreline_core::{Integration, IntegrationId, IntegrationState, PageRequest};

use crate::config::Config;
use crate::serve::build_app;

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Only this integration (its id); all connected ones otherwise.
    #[arg(long)]
    integration: Option<IntegrationId>,
    /// Run the sync in this process and wait for it, instead of asking running servers to.
    #[arg(long)]
    wait: bool,
}

#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// Only count what would be removed.
    #[arg(long)]
    dry_run: bool,
}

async fn chosen_integrations(app: &App, only: Option<IntegrationId>) -> anyhow::Result<Vec<Integration>> {
    let all = app.list_integrations(&Actor::System, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items;
    let chosen: Vec<Integration> = match only {
        Some(id) => all.into_iter().filter(|i| i.id == id).collect(),
        None => all.into_iter().filter(|i| i.state == IntegrationState::Connected).collect(),
    };
    if chosen.is_empty() {
        match only {
            Some(id) => bail!("no integration has the id {id}"),
            None => bail!("no connected integration to sync; connect HelpDesk under View Integrations first"),
        }
    }
    Ok(chosen)
}

pub async fn sync(config: &Config, args: SyncArgs) -> anyhow::Result<()> {
    let app = build_app(config).await?;
    for integration in chosen_integrations(&app, args.integration).await? {
        if !args.wait {
            app.request_sync(&Actor::System, integration.id).await?;
            println!(
                "{}: sync requested; a running `scoreline serve` starts it within seconds",
                integration.label
            );
            continue;
        }
        run_with_progress(&app, &integration)
            .await
            .with_context(|| format!("syncing {}", integration.label))?;
    }
    Ok(())
}

/// Runs one sync here, with a progress bar on a terminal and plain lines otherwise.
async fn run_with_progress(app: &App, integration: &Integration) -> anyhow::Result<()> {
    let terminal = std::io::stdout().is_terminal();
    let bar = if terminal { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} windows · {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(integration.label.clone());
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let label = integration.label.clone();
    let reporter = {
        let bar = bar.clone();
        tokio::spawn(async move {
            let mut stored = 0u64;
            while let Some(event) = events.recv().await {
                match event {
                    SyncProgress::Windows { done, total } => {
                        bar.set_length(total);
                        bar.set_position(done);
                        if !terminal {
                            println!("{label}: {done}/{total} backfill windows done, {stored} cases stored");
                        }
                    }
                    SyncProgress::Page { written } => {
                        stored += written;
                        bar.set_message(format!("{stored} cases stored"));
                    }
                }
            }
            stored
        })
    };
    let outcome = loop {
        match app.sync_integration(integration.id, Some(sender.clone())).await? {
            // Another server is syncing it: wait for its lease to end, then run.
            SyncOutcome::Busy => tokio::time::sleep(Duration::from_secs(2)).await,
            other => break other,
        }
    };
    drop(sender);
    let _ = reporter.await;
    bar.finish_and_clear();
    match outcome {
        SyncOutcome::Synced { written } => {
            println!("{}: synced, {written} cases stored or updated", integration.label)
        }
        SyncOutcome::NotConnected => println!("{}: not connected; reconnect it first", integration.label),
        SyncOutcome::Busy => {}
    }
    Ok(())
}

pub async fn purge(config: &Config, args: PurgeArgs) -> anyhow::Result<()> {
    let app = build_app(config).await?;
    let reports = app.purge(&Actor::System, args.dry_run).await?;
    if reports.is_empty() {
        println!("no integrations");
    }
    for report in reports {
        let verb = if report.dry_run { "would remove" } else { "removed" };
        println!(
            "{}: {verb} the content of {} cases last active before {}",
            report.label, report.cases, report.cutoff
        );
        if report.held_for_disputes > 0 {
            println!(
                "{}: kept the content of {} cases past retention while their evaluations are disputed",
                report.label, report.held_for_disputes
            );
        }
        if report.held_for_calibrations > 0 {
            println!(
                "{}: kept the content of {} cases past retention while their calibration sessions are open",
                report.label, report.held_for_calibrations
            );
        }
    }
    Ok(())
}
