//! The measured phases: raw page download with the HelpDesk client, and a full backfill through
//! `App::sync_integration` into a fresh database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt};
use scoreline_app::{
    Actor, App, AppSettings, ConnectIntegration, HelpDeskSettings, PacerStatus, RateLimit, SyncOutcome,
    plan_windows,
};
use scoreline_core::ManualClock;
use scoreline_helpdesk::{Credentials, HelpDeskClient, HelpDeskConfig, SecretString, Silo, TicketQuery};
use scoreline_store::{Db, Sealer};
use scoreline_testkit::{create_postgres_database, drop_postgres_database};

use crate::rss;
use crate::sim::ChildSim;

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub tickets: u64,
    pub pages: u64,
    pub elapsed: Duration,
    pub rss_before: u64,
    pub peak_rss: u64,
    /// Whether `peak_rss` is this phase's own peak (false: the peak since the process started).
    pub peak_is_phase_own: bool,
    /// CPU seconds this process (Scoreline alone) used in the phase.
    pub cpu: f64,
    /// What the HelpDesk pacer did by the end of the phase.
    pub pacer: PacerStatus,
}

impl Phase {
    pub fn per_second(&self) -> f64 {
        self.tickets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Settings the engine runs with against `sim`: the default sync settings (window, concurrency,
/// retries) and the given client rate limit.
pub fn settings(sim: &ChildSim, rate_limit: RateLimit) -> AppSettings {
    AppSettings {
        helpdesk: HelpDeskSettings {
            api_url: sim.api_url.clone(),
            accounts_url: sim.accounts_url.clone(),
            backfill_cap_days: 28,
            rate_limit,
            ..HelpDeskSettings::default()
        },
        ..AppSettings::default()
    }
}

/// Runs `work` with this process's peak RSS reset first, and records memory around it.
async fn with_memory<T>(work: impl Future<Output = Result<T>>) -> Result<(T, Usage)> {
    let rss_before = rss::own()?.rss;
    let own_peak = rss::reset_peak();
    let cpu_before = rss::cpu_seconds();
    let value = work.await?;
    let cpu = rss::cpu_seconds() - cpu_before;
    let peak_rss = rss::own()?.peak;
    Ok((value, Usage { rss_before, peak_rss, own_peak, cpu }))
}

struct Usage {
    rss_before: u64,
    peak_rss: u64,
    own_peak: bool,
    cpu: f64,
}

/// Lists every ticket of the backfill range, as the engine would (same windows, silos, page
/// size, concurrency, client settings), and throws the pages away.
pub async fn raw_download(
    name: &str,
    sim: &ChildSim,
    settings: &AppSettings,
    backfill_days: u32,
) -> Result<Phase> {
    let mut config = HelpDeskConfig::new(&settings.helpdesk.api_url)?;
    config.rate_limit = settings.helpdesk.rate_limit;
    config.retry = settings.sync.retry;
    let credentials =
        Credentials::personal_access_token(sim.account_id.clone(), SecretString::from(sim.pat.clone()));
    let client = HelpDeskClient::new(config, credentials, Arc::new(ManualClock::new(sim.now)))?;
    let windows = plan_windows(sim.now, backfill_days, settings.sync.window);
    let concurrency = settings.sync.concurrency.max(1);
    let work = async {
        let started = Instant::now();
        // The engine refreshes the agent list before a backfill; so does this.
        client.list_agents().await?;
        let counts: Vec<(u64, u64)> = futures::stream::iter(windows.into_iter().map(|window| {
            let client = client.clone();
            async move {
                let silo = if window.silo == "archive" { Silo::Archive } else { Silo::Tickets };
                let query = TicketQuery::default()
                    .silo(silo)
                    .updated(Some(window.start.into()), Some(window.end.into()));
                client
                    .list_tickets(query)
                    .try_fold((0u64, 0u64), |(tickets, pages), page| async move {
                        Ok((tickets + page.tickets.len() as u64, pages + 1))
                    })
                    .await
            }
        }))
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
        let elapsed = started.elapsed();
        let (tickets, pages) =
            counts.iter().fold((0, 0), |(t, p), (tickets, pages)| (t + tickets, p + pages));
        Ok::<_, anyhow::Error>((tickets, pages, elapsed))
    };
    let ((tickets, pages, elapsed), usage) = with_memory(work).await?;
    Ok(Phase {
        name: name.to_owned(),
        tickets,
        pages,
        elapsed,
        rss_before: usage.rss_before,
        peak_rss: usage.peak_rss,
        peak_is_phase_own: usage.own_peak,
        cpu: usage.cpu,
        pacer: client.pacer().status(),
    })
}

/// A fresh integration connected to `sim` with a token, then one timed `sync_integration`
/// (the whole backfill) into `db`.
pub async fn backfill(
    name: &str,
    sim: &ChildSim,
    settings: AppSettings,
    db: Db,
    backfill_days: u32,
    before_sync: impl AsyncFnOnce() -> Result<()>,
) -> Result<Phase> {
    let clock = Arc::new(ManualClock::new(sim.now));
    let sealer = Arc::new(Sealer::from_encoded_key(&Sealer::generate_encoded_key())?);
    let app = App::new(db.clone(), clock, sealer, settings);
    let input = ConnectIntegration {
        label: "Benchmark".into(),
        auth_method: "token".into(),
        account_id: sim.account_id.clone(),
        token: Some(sim.pat.clone().into()),
        retention_value: Some(1),
        retention_unit: "years".into(),
        backfill_days: Some(i64::from(backfill_days)),
        ..ConnectIntegration::default()
    };
    let integration =
        app.connect_with_token(&Actor::System, input).await.context("connect the integration")?;
    before_sync().await?;
    let work = async {
        let started = Instant::now();
        let outcome = app.sync_integration(integration.id, None).await.context("backfill")?;
        let elapsed = started.elapsed();
        let SyncOutcome::Synced { written } = outcome else {
            bail!("the backfill did not run: {outcome:?}");
        };
        Ok((written, elapsed))
    };
    let ((written, elapsed), usage) = with_memory(work).await?;
    let state = db.sync_state(integration.id, sim.now).await?;
    let stored = db.count_cases(integration.id).await?;
    let pacer = app.pacer_status(integration.id)?;
    if stored != written {
        bail!("{name}: the run reported {written} cases written but {stored} are stored");
    }
    db.close().await;
    Ok(Phase {
        name: name.to_owned(),
        tickets: written,
        // The last checkpoint (the incremental cursor) is a bookkeeping write, not a page.
        pages: state.pages_fetched.saturating_sub(1),
        elapsed,
        rss_before: usage.rss_before,
        peak_rss: usage.peak_rss,
        peak_is_phase_own: usage.own_peak,
        cpu: usage.cpu,
        pacer,
    })
}

/// A fresh, migrated SQLite database in a temporary directory (removed with the guard).
pub async fn fresh_sqlite() -> Result<(Db, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("scoreline.db").display());
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    Ok((db, dir))
}

/// A fresh PostgreSQL database on the server of `admin_url`.
pub struct FreshPostgres {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl FreshPostgres {
    pub async fn create(admin_url: &str) -> Result<(Db, Self)> {
        let name = format!("scoreline_bench_{}", uuid::Uuid::now_v7().simple());
        let url = create_postgres_database(admin_url, &name).await.context("create a PostgreSQL database")?;
        let fresh = Self { admin_url: admin_url.to_owned(), name, url };
        let db = match Db::connect(&fresh.url).await {
            Ok(db) => db,
            Err(error) => {
                fresh.drop_database().await;
                return Err(error.into());
            }
        };
        if let Err(error) = db.migrate().await {
            db.close().await;
            fresh.drop_database().await;
            return Err(error.into());
        }
        Ok((db, fresh))
    }

    pub async fn drop_database(&self) {
        if let Err(error) = drop_postgres_database(&self.admin_url, &self.name).await {
            eprintln!("could not drop the benchmark database {}: {error}", self.name);
        }
    }
}
