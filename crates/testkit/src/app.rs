use std::sync::Arc;

use scoreline_app::{Actor, App, AppSettings, CreateUser};
use scoreline_core::{Clock, ManualClock, SystemClock};
use scoreline_store::Sealer;
use scoreline_store::model::User;
use scoreline_web::WebConfig;
use tokio::sync::oneshot;

use crate::{TestBackend, TestDatabase};

/// The whole server on `127.0.0.1:0` over a fresh database, with a clock the test moves.
pub struct TestApp {
    pub base_url: String,
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub database: TestDatabase,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn spawn(backend: TestBackend) -> Self {
        let database = TestDatabase::fresh(backend).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let sealer = Arc::new(Sealer::from_encoded_key(&Sealer::generate_encoded_key()).expect("key"));
        let app = App::new(database.db.clone(), clock.clone(), sealer, AppSettings::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let router = scoreline_web::router(app.clone(), WebConfig::default());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(scoreline_web::serve(listener, router, async move {
            let _ = stopped.await;
        }));
        Self { base_url, app, clock, database, stop: Some(stop) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
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

    /// A user of `role` and an API token for them.
    pub async fn api_user(&self, role: &str) -> (User, String) {
        let user = self
            .create_user(&format!("{role}.{}@example.com", uuid::Uuid::now_v7().simple()), role, None)
            .await;
        let issued = self.app.create_api_token(&Actor::System, &user.email, "test").await.expect("token");
        (user, issued.token.expose().to_owned())
    }

    /// A reqwest client that never follows redirects, so tests see them.
    pub fn http() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
