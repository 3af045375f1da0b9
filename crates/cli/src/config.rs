//! Configuration: built-in defaults, then `scoreline.toml` (or the file named by
//! `SCORELINE_CONFIG`), then `SCORELINE_*` environment variables. Secrets also accept a
//! `_FILE` variant naming a file that holds them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/scoreline.db";

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    /// The address users reach the server at; decides `Secure` cookies and OAuth redirects.
    pub public_url: Option<url::Url>,
    pub secret_key: Option<SecretString>,
    pub secret_key_file: Option<PathBuf>,
    pub helpdesk_api_url: url::Url,
    pub accounts_url: url::Url,
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<SecretString>,
    pub oauth_client_secret_file: Option<PathBuf>,
    pub sync_interval_secs: u64,
    /// How long a server's claim on an integration's sync lasts without renewal; when a
    /// server dies, another takes its syncs over after this long.
    pub sync_lease_secs: u64,
    pub rate_limit_per_sec: f64,
    pub backfill_cap_days: u32,
    pub log_format: LogFormat,
    /// When set, `/metrics` answers only `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<SecretString>,
    pub metrics_token_file: Option<PathBuf>,
    /// When set, `/metrics` is served here and no longer on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// How long a client may take to send a request's headers, and then its body.
    pub header_read_timeout_secs: u64,
    pub body_read_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            secret_key: None,
            secret_key_file: None,
            helpdesk_api_url: parse_static_url("https://api.helpdesk.com"),
            accounts_url: parse_static_url("https://accounts.livechat.com"),
            oauth_client_id: None,
            oauth_client_secret: None,
            oauth_client_secret_file: None,
            sync_interval_secs: 300,
            sync_lease_secs: 60,
            rate_limit_per_sec: 5.0,
            backfill_cap_days: 28,
            log_format: LogFormat::Pretty,
            metrics_token: None,
            metrics_token_file: None,
            metrics_listen: None,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
        }
    }
}

fn parse_static_url(text: &str) -> url::Url {
    url::Url::parse(text).unwrap_or_else(|_| unreachable!("built-in URL {text} parses"))
}

/// Variables that configure the tests, not the server, and share our prefix.
const NOT_CONFIG: &[&str] =
    &["CONFIG", "TEST_POSTGRES_URL", "TEST_REQUIRE_POSTGRES", "TEST_BROWSER", "TEST_FUZZ", "SOAK"];

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var_os("SCORELINE_CONFIG").map(PathBuf::from);
        Self::load_from(file.as_deref(), Env::prefixed("SCORELINE_").ignore(NOT_CONFIG))
    }

    fn load_from(file: Option<&Path>, env: Env) -> anyhow::Result<Self> {
        let mut figment = Figment::new();
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!("configuration file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("scoreline.toml")),
        }
        let mut config: Config = figment.merge(env).extract().context("invalid configuration")?;
        config.read_secret_files()?;
        config.validate()?;
        Ok(config)
    }

    fn read_secret_files(&mut self) -> anyhow::Result<()> {
        if let Some(path) = &self.oauth_client_secret_file {
            self.oauth_client_secret = Some(read_secret(path, "oauth_client_secret_file")?);
        }
        if let Some(path) = &self.metrics_token_file {
            self.metrics_token = Some(read_secret(path, "metrics_token_file")?);
        }
        Ok(())
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !self.rate_limit_per_sec.is_finite() || self.rate_limit_per_sec <= 0.0 {
            bail!("rate_limit_per_sec must be above 0 (HelpDesk requests per second per integration)");
        }
        if self.backfill_cap_days < 7 {
            bail!("backfill_cap_days must be at least 7");
        }
        if self.sync_interval_secs < 10 {
            bail!("sync_interval_secs must be at least 10");
        }
        if self.header_read_timeout_secs < 1 || self.body_read_timeout_secs < 1 {
            bail!("header_read_timeout_secs and body_read_timeout_secs must be at least 1");
        }
        if self.metrics_token.as_ref().is_some_and(|token| token.expose_secret().len() < 16) {
            bail!("metrics_token must be at least 16 characters (generate one with `openssl rand -hex 32`)");
        }
        if self.sync_lease_secs < 1 {
            bail!("sync_lease_secs must be at least 1");
        }
        scoreline_store::Db::backend_of(&self.database_url)?;
        Ok(())
    }

    pub fn helpdesk_settings(&self, public_base: &str) -> scoreline_app::HelpDeskSettings {
        scoreline_app::HelpDeskSettings {
            api_url: self.helpdesk_api_url.as_str().trim_end_matches('/').to_owned(),
            accounts_url: self.accounts_url.as_str().to_owned(),
            oauth_client_id: self.oauth_client_id.clone(),
            oauth_client_secret: self.oauth_client_secret.clone(),
            oauth_redirect_uri: format!("{public_base}/interactions/integrations/oauth/callback"),
            backfill_cap_days: self.backfill_cap_days,
            rate_limit: scoreline_app::RateLimit {
                requests_per_second: self.rate_limit_per_sec,
                burst: self.rate_limit_per_sec.ceil().clamp(1.0, 100.0) as u32,
            },
        }
    }

    pub fn sync_settings(&self) -> scoreline_app::SyncSettings {
        scoreline_app::SyncSettings {
            interval: Duration::from_secs(self.sync_interval_secs),
            lease_ttl: Duration::from_secs(self.sync_lease_secs),
            ..scoreline_app::SyncSettings::default()
        }
    }

    /// Webhooks are registered only where HelpDesk can reach us: at the configured public URL.
    pub fn webhook_settings(&self) -> scoreline_app::WebhookSettings {
        scoreline_app::WebhookSettings {
            public_url: self.public_url.as_ref().map(|url| url.as_str().trim_end_matches('/').to_owned()),
            ..scoreline_app::WebhookSettings::default()
        }
    }

    /// How the web server presents itself, given where OAuth's accounts server is.
    /// `public_url`: where people reach this server, for links handed out.
    pub fn web_config(&self, public_url: String) -> scoreline_web::WebConfig {
        scoreline_web::WebConfig {
            public_url,
            secure_cookies: self.secure_cookies(),
            hsts: self.secure_cookies(),
            form_action_origins: vec![self.accounts_url.origin().ascii_serialization()],
            metrics: scoreline_web::MetricsAccess {
                token: self.metrics_token.clone(),
                separate_listener: self.metrics_listen.is_some(),
            },
            limits: scoreline_web::RequestLimits {
                header_read: Duration::from_secs(self.header_read_timeout_secs),
                body_read: Duration::from_secs(self.body_read_timeout_secs),
            },
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_ref().is_some_and(|url| url.scheme() == "https")
    }

    /// The key that seals credentials: configured, or for the embedded default a key file
    /// beside the database, created on first start.
    pub fn sealer(&self) -> anyhow::Result<scoreline_store::Sealer> {
        if let Some(key) = &self.secret_key {
            return Ok(scoreline_store::Sealer::from_encoded_key(key.expose_secret())?);
        }
        let path = match (&self.secret_key_file, self.sqlite_path()) {
            (Some(path), _) => {
                let key = read_secret(path, "secret_key_file")?;
                return Ok(scoreline_store::Sealer::from_encoded_key(key.expose_secret())?);
            }
            (None, Some(db_path)) => db_path.with_file_name("secret.key"),
            (None, None) => bail!(
                "set SCORELINE_SECRET_KEY or SCORELINE_SECRET_KEY_FILE: with PostgreSQL every server must share one key (generate it with `openssl rand -base64 32`)"
            ),
        };
        let (sealer, created) = scoreline_store::Sealer::load_or_create_key_file(&path)?;
        if created {
            tracing::warn!(path = %path.display(), "generated a new secret key; back it up with the database");
        } else {
            tracing::info!(path = %path.display(), "using the secret key file");
        }
        Ok(sealer)
    }

    fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        Some(PathBuf::from(path))
    }
}

fn read_secret(path: &Path, setting: &str) -> anyhow::Result<SecretString> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{setting}: cannot read {}", path.display()))?;
    Ok(SecretString::from(text.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_configuration() {
        let config =
            Config::load_from(Some(Path::new("/dev/null")), Env::prefixed("SCORELINE_NONE_")).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(!config.secure_cookies());
        assert!(config.webhook_settings().public_url.is_none(), "no webhooks without a public URL");
        let web = config.web_config(String::new());
        assert!(!web.hsts && web.metrics.token.is_none() && !web.metrics.separate_listener);
        assert_eq!(web.limits.header_read.as_secs(), 10);
    }

    #[test]
    fn toml_then_environment_and_secret_files() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("scoreline.toml");
        let secret = dir.path().join("client-secret");
        std::fs::write(&secret, "s3cret\n").unwrap();
        let metrics_secret = dir.path().join("metrics-token");
        std::fs::write(&metrics_secret, "scrape-token-of-32-characters-xx\n").unwrap();
        std::fs::write(
            &toml,
            format!("listen = \"127.0.0.1:9000\"\npublic_url = \"https://qa.example.com\"\noauth_client_secret_file = \"{}\"\nmetrics_token_file = \"{}\"\nmetrics_listen = \"127.0.0.1:9100\"\nsync_lease_secs = 3\nsync_interval_secs = 30\n", secret.display(), metrics_secret.display()),
        )
        .unwrap();
        let config = Config::load_from(Some(&toml), Env::prefixed("SCORELINE_NONE_")).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert!(config.secure_cookies());
        assert_eq!(config.webhook_settings().public_url.as_deref(), Some("https://qa.example.com"));
        let sync = config.sync_settings();
        assert_eq!((sync.lease_ttl.as_secs(), sync.interval.as_secs()), (3, 30));
        let web = config.web_config(String::new());
        assert!(web.hsts && web.metrics.separate_listener);
        assert_eq!(web.metrics.token.unwrap().expose_secret(), "scrape-token-of-32-characters-xx");
        assert!(!format!("{config:?}").contains("scrape-token"), "the token is never printed");
        assert_eq!(config.oauth_client_secret.unwrap().expose_secret(), "s3cret");
    }

    #[test]
    fn bad_values_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("bad.toml");
        std::fs::write(&toml, "database_url = \"mysql://x\"\n").unwrap();
        let err = Config::load_from(Some(&toml), Env::prefixed("SCORELINE_NONE_")).unwrap_err();
        assert!(format!("{err:#}").contains("sqlite://"), "{err:#}");
        std::fs::write(&toml, "listn = \"1\"\n").unwrap();
        let err = Config::load_from(Some(&toml), Env::prefixed("SCORELINE_NONE_")).unwrap_err();
        assert!(format!("{err:#}").contains("listn"), "{err:#}");
        let missing = Config::load_from(
            Some(Path::new("/nonexistent/scoreline.toml")),
            Env::prefixed("SCORELINE_NONE_"),
        );
        assert!(missing.is_err());
    }
}
