use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use scoreline_app::{App, AppSettings};
use scoreline_core::{SharedClock, SystemClock};
use scoreline_store::Db;

use crate::config::Config;

pub async fn connect(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact_url(&config.database_url)))?;
    db.migrate().await.context("cannot migrate the database")?;
    Ok(db)
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    connect(config).await?;
    println!("database is up to date");
    Ok(())
}

/// The app for commands that serve no web pages.
pub async fn build_app(config: &Config) -> anyhow::Result<App> {
    build_app_at(config, &format!("http://{}", config.listen)).await
}

/// The app as served at `public_base` (where OAuth sends browsers back to).
pub async fn build_app_at(config: &Config, public_base: &str) -> anyhow::Result<App> {
    let db = connect(config).await?;
    let sealer = Arc::new(config.sealer()?);
    let clock: SharedClock = Arc::new(SystemClock);
    let settings = AppSettings {
        helpdesk: config.helpdesk_settings(public_base),
        sync: config.sync_settings(),
        webhooks: config.webhook_settings(),
        ..AppSettings::default()
    };
    Ok(App::new(db, clock, sealer, settings))
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let (listener, public_base) = bind(&config).await?;
    let app = build_app_at(&config, &public_base).await?;
    serve_app(&config, listener, app).await
}

/// Binds the configured address; returns the listener and the base URL users reach it at.
pub async fn bind(config: &Config) -> anyhow::Result<(tokio::net::TcpListener, String)> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    Ok((listener, public_base(config, address)))
}

/// The configured public URL without its trailing slash, or the address listened on.
fn public_base(config: &Config, address: std::net::SocketAddr) -> String {
    match &config.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None => format!("http://{address}"),
    }
}

pub async fn serve_app(config: &Config, listener: tokio::net::TcpListener, app: App) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    let web_config = config.web_config(public_base(config, address));
    let header_read = web_config.limits.header_read;
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            shutdown_signal().await;
            stop.cancel();
        }
    });
    let metrics = match config.metrics_listen {
        Some(metrics_address) => {
            let metrics_listener = tokio::net::TcpListener::bind(metrics_address)
                .await
                .with_context(|| format!("cannot listen on {metrics_address} (metrics_listen)"))?;
            tracing::info!(address = %metrics_listener.local_addr()?, "serving /metrics");
            let router = scoreline_web::metrics_router(app.clone(), web_config.clone());
            Some(tokio::spawn(scoreline_web::serve(
                metrics_listener,
                router,
                header_read,
                stop.clone().cancelled_owned(),
            )))
        }
        None => None,
    };
    let router = scoreline_web::router(app.clone(), web_config);
    let background = tokio_util::sync::CancellationToken::new();
    tokio::spawn(expire_sessions(app.clone()));
    let worker = {
        let (app, background) = (app.clone(), background.clone());
        tokio::spawn(async move { app.run_background(background).await })
    };
    tracing::info!(%address, "listening");
    // Tests and scripts read this line to find a port chosen with :0.
    println!("Scoreline is listening on http://{address}");
    scoreline_web::serve(listener, router, header_read, stop.clone().cancelled_owned()).await?;
    if let Some(metrics) = metrics {
        metrics.await??;
    }
    background.cancel();
    let _ = worker.await;
    tracing::info!("stopped");
    Ok(())
}

/// Removes expired sessions, stale sign-in attempts and spent reset links hourly.
async fn expire_sessions(app: App) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    every_hour.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        every_hour.tick().await;
        match app.delete_expired_credentials().await {
            Ok(removed) if removed > 0 => tracing::info!(removed, "expired credentials removed"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not remove expired credentials"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
