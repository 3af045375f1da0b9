use std::sync::Arc;

use scoreline_app::{Actor, App, AppSettings, CreateUser, HelpDeskSettings, RateLimit, WebhookSettings};
use scoreline_core::{Clock, ManualClock, SystemClock, User};
use scoreline_helpdesk_sim::{SimConfig, SimHandle, Simulator};
use scoreline_store::{Db, Sealer};
use scoreline_web::WebConfig;
use tokio::sync::oneshot;

use crate::{Browser, TestBackend, TestDatabase};

/// The whole server on `127.0.0.1:0` over a fresh database, with a clock the test moves,
/// and optionally a HelpDesk simulator it is configured to talk to.
pub struct TestApp {
    pub base_url: String,
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub database: TestDatabase,
    pub sealer: Arc<Sealer>,
    pub sim: Option<SimHandle>,
    stop: Option<oneshot::Sender<()>>,
}

/// The password of every user [`TestApp::new_person`] creates.
pub const PASSWORD: &str = "a long enough password";

pub const OAUTH_CALLBACK_PATH: &str = "/interactions/integrations/oauth/callback";

impl TestApp {
    pub async fn spawn(backend: TestBackend) -> Self {
        Self::start(backend, None, |_| HelpDeskSettings::default(), |_| {}, false).await
    }

    /// With the web settings (limits, metrics access, HSTS) changed by `web`.
    pub async fn with_web(backend: TestBackend, web: impl FnOnce(&mut WebConfig)) -> Self {
        Self::start(backend, None, |_| HelpDeskSettings::default(), web, false).await
    }

    /// With a HelpDesk simulator as its HelpDesk and accounts server, OAuth configured.
    pub async fn with_helpdesk(backend: TestBackend, sim: SimConfig) -> Self {
        Self::with_simulator(backend, sim, false).await
    }

    /// [`Self::with_helpdesk`] with this server's address as its public URL, so integrations
    /// register webhooks at the simulator, which delivers to it.
    pub async fn with_helpdesk_webhooks(backend: TestBackend, sim: SimConfig) -> Self {
        Self::with_simulator(backend, sim, true).await
    }

    async fn with_simulator(backend: TestBackend, sim: SimConfig, webhooks: bool) -> Self {
        let sim = Simulator::spawn(sim).await.expect("start the HelpDesk simulator");
        let (api_url, accounts_url) = (sim.api_base_url(), sim.accounts_url());
        let (client_id, client_secret) = (sim.oauth_client_id(), sim.oauth_client_secret());
        Self::start(
            backend,
            Some(sim),
            move |base_url| HelpDeskSettings {
                api_url,
                accounts_url,
                oauth_client_id: Some(client_id),
                oauth_client_secret: Some(client_secret.into()),
                oauth_redirect_uri: format!("{base_url}{OAUTH_CALLBACK_PATH}"),
                backfill_cap_days: 28,
                rate_limit: RateLimit { requests_per_second: 200.0, burst: 50 },
            },
            |_| {},
            webhooks,
        )
        .await
    }

    /// With HelpDesk settings of the test's choosing, given the server's base URL.
    pub async fn with_settings(
        backend: TestBackend,
        helpdesk: impl FnOnce(&str) -> HelpDeskSettings,
    ) -> Self {
        Self::start(backend, None, helpdesk, |_| {}, false).await
    }

    async fn start(
        backend: TestBackend,
        sim: Option<SimHandle>,
        helpdesk: impl FnOnce(&str) -> HelpDeskSettings,
        web: impl FnOnce(&mut WebConfig),
        webhooks: bool,
    ) -> Self {
        let database = TestDatabase::fresh(backend).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let sealer = Arc::new(Sealer::from_encoded_key(&Sealer::generate_encoded_key()).expect("key"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let webhooks =
            WebhookSettings { public_url: webhooks.then(|| base_url.clone()), ..WebhookSettings::default() };
        let settings = AppSettings { helpdesk: helpdesk(&base_url), webhooks, ..AppSettings::default() };
        let app = App::new(database.db.clone(), clock.clone(), sealer.clone(), settings);
        let mut web_config = WebConfig {
            form_action_origins: sim.iter().map(|s| s.accounts_url()).collect(),
            public_url: base_url.clone(),
            ..WebConfig::default()
        };
        web(&mut web_config);
        let header_read = web_config.limits.header_read;
        let router = scoreline_web::router(app.clone(), web_config);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(scoreline_web::serve(listener, router, header_read, async move {
            let _ = stopped.await;
        }));
        Self { base_url, app, clock, database, sealer, sim, stop: Some(stop) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The database itself, for tests that inspect or arrange raw storage past the use cases.
    pub fn store(&self) -> &Db {
        &self.database.db
    }

    pub fn sim(&self) -> &SimHandle {
        self.sim.as_ref().expect("this TestApp has no HelpDesk simulator")
    }

    /// Creates a user directly, as the operator would at the command line.
    pub async fn create_user(&self, email: &str, role: &str, password: Option<&str>) -> User {
        let input = CreateUser {
            email: email.to_owned(),
            name: format!("Test {role}"),
            role: role.to_owned(),
            password: password.map(str::to_owned),
            team_ids: Vec::new(),
        };
        self.app.create_user(&Actor::System, input).await.expect("create user")
    }

    /// A user of `role` with a fresh email address and [`PASSWORD`] as password.
    pub async fn new_person(&self, role: &str) -> User {
        self.create_user(&fresh_email(role), role, Some(PASSWORD)).await
    }

    /// A user of `role` (without a password) and an API token for them.
    pub async fn api_user(&self, role: &str) -> (User, String) {
        let user = self.create_user(&fresh_email(role), role, None).await;
        let issued = self.app.create_api_token(&Actor::System, &user.email, "test").await.expect("token");
        (user, issued.token.expose().to_owned())
    }

    /// Signs in through the form and returns the `Cookie` header value of the session.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let response = Self::http()
            .post(self.url("/sign-in"))
            .form(&[("email", email), ("password", password), ("next", "/")])
            .send()
            .await
            .expect("sign in");
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .unwrap_or_else(|| panic!("sign-in refused with {}", response.status()))
            .to_str()
            .expect("cookie");
        set_cookie.split(';').next().expect("cookie pair").to_owned()
    }

    /// A new user of `role` with a password, signed in; returns the user and the cookie.
    pub async fn signed_in(&self, role: &str) -> (User, String) {
        let user = self.new_person(role).await;
        let cookie = self.sign_in(&user.email, PASSWORD).await;
        (user, cookie)
    }

    /// A browser signed in as a new user of `role` and showing `path`; `None` without a
    /// browser (allowed only while `SCORELINE_TEST_BROWSER` does not demand one).
    pub async fn browser_as(&self, role: &str, path: &str) -> Option<(User, Browser)> {
        let user = self.new_person(role).await;
        let browser = Browser::start().await?;
        browser.sign_in(&self.url(path), &user.email, PASSWORD).await;
        let shown = url::Url::parse(&self.url(path)).expect("page URL");
        browser.client.wait().for_url(&shown).await.expect("signed in and back on the page");
        Some((user, browser))
    }

    /// Answers the simulator's consent page for `authorize_url` as a person would (Allow or
    /// Deny) and returns where the accounts server sends the browser back to.
    pub async fn answer_consent(authorize_url: &str, allow: bool) -> String {
        let http = Self::http();
        let page =
            http.get(authorize_url).send().await.expect("consent page").text().await.expect("consent html");
        let mut form = hidden_inputs(&page);
        form.retain(|(name, _)| name != "decision");
        form.push(("decision".to_owned(), if allow { "allow" } else { "deny" }.to_owned()));
        let accounts = url::Url::parse(authorize_url).expect("authorize URL");
        let answer =
            http.post(accounts.join("/").expect("accounts root")).form(&form).send().await.expect("decision");
        assert!(answer.status().is_redirection(), "consent answered {}", answer.status());
        answer.headers()["location"].to_str().expect("location").to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn fresh_email(role: &str) -> String {
    format!("{role}.{}@example.com", uuid::Uuid::now_v7().simple())
}

/// The hidden inputs of the first form of a page, unescaped.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let first_form = html.split("</form>").next().unwrap_or(html);
    first_form
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split_once("value=\"")?.1.split_once('"')?.0;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
