use scoreline_core::PageRequest;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::StatusCode;
use scoreline_helpdesk::{ExposeSecret, RetryPolicy};
use scoreline_helpdesk_sim::{ACCESS_TOKEN_TTL_SECS, SimConfig};
use scoreline_testkit::{OAUTH_CALLBACK_PATH, TestApp, TestBackend};
use serde_json::{Value, json};
use tracing_subscriber::fmt::format::FmtSpan;

/// Everything the server and its clients log, at every level, while recording is on.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>, Arc<AtomicBool>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.1.load(Ordering::Relaxed) {
            self.0.lock().unwrap().extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops appending to the log buffer when the test ends, so later tests do not fill memory.
struct StopRecording(Arc<AtomicBool>);

impl Drop for StopRecording {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Response bodies as the admin's browser or API client received them.
#[derive(Default)]
struct Bodies(Vec<(String, String)>);

impl Bodies {
    async fn keep(&mut self, what: &str, response: reqwest::Response, expected: StatusCode) -> String {
        let status = response.status();
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        assert_eq!(status, expected, "{what}: {body}");
        self.0.push((what.to_owned(), format!("{}\n{body}", location.as_deref().unwrap_or_default())));
        location.unwrap_or(body)
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// An OAuth connection started over the API, approved on the simulator's consent page, and
/// finished by the admin's session at the callback; returns the integration id and the code
/// and state that travelled through the browser.
async fn connect_by_oauth(
    test: &TestApp,
    admin: &str,
    label: &str,
    bodies: &mut Bodies,
) -> (String, Vec<String>) {
    let http = TestApp::http();
    let body = json!({
        "kind": "helpdesk", "label": label, "auth": { "method": "oauth" },
        "retention": { "value": 6, "unit": "months" },
        // The test connects the simulator's one account more than once.
        "confirm_duplicate": true
    });
    let started =
        http.post(test.url("/api/v1/integrations")).header("cookie", admin).json(&body).send().await.unwrap();
    let started = json_of(&bodies.keep("start OAuth", started, StatusCode::CREATED).await);
    let id = started["integration"]["id"].as_str().unwrap().to_owned();
    let authorize_url = started["authorize_url"].as_str().unwrap();

    let callback = TestApp::answer_consent(authorize_url, true).await;
    assert!(callback.starts_with(&test.url(OAUTH_CALLBACK_PATH)), "{callback}");
    let travelled =
        url::Url::parse(&callback).unwrap().query_pairs().map(|(_, value)| value.into_owned()).collect();

    let finished = http.get(&callback).header("cookie", admin).send().await.unwrap();
    let connected = bodies.keep("OAuth callback", finished, StatusCode::SEE_OTHER).await;
    assert_eq!(connected, format!("/interactions/integrations/{id}/connected"));
    let page = http.get(test.url(&connected)).header("cookie", admin).send().await.unwrap();
    bodies.keep("connected page", page, StatusCode::OK).await;
    (id, travelled)
}

/// Where `needle` occurs in `haystack`, with the surrounding bytes, for the failure message.
fn find(haystack: &[u8], needle: &str) -> Option<String> {
    let at = haystack.windows(needle.len()).position(|window| window == needle.as_bytes())?;
    let around = &haystack[at.saturating_sub(80)..(at + needle.len() + 80).min(haystack.len())];
    Some(String::from_utf8_lossy(around).into_owned())
}

#[tokio::test(flavor = "current_thread")]
async fn no_token_appears_in_logs_responses_or_database_files() {
    // A global subscriber, not a thread-local one: with every test of this binary in one
    // process (`cargo test`), callsite interest caching can hide events from a scoped
    // subscriber. Other tests' logs during this test land in the buffer too; that is harmless.
    static LOG: OnceLock<LogBuffer> = OnceLock::new();
    let log = LOG
        .get_or_init(|| {
            let log = LogBuffer::default();
            let writer = log.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in this binary");
            log
        })
        .clone();
    log.1.store(true, Ordering::Relaxed);
    let _stop_recording = StopRecording(log.1.clone());

    let test =
        TestApp::with_helpdesk(TestBackend::Sqlite, SimConfig { tickets: 20, ..SimConfig::default() }).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let sim = test.sim();
    let http = TestApp::http();
    let mut bodies = Bodies::default();
    let account_id = sim.account_id();
    let (pat, replacement_pat, page_pat) = (sim.pat(), sim.issue_pat(), sim.issue_pat());
    let wrong_token = "dal:WrongTokenNobodyIssued0123456789";
    let token_body = |label: &str, token: &str| {
        json!({
            "kind": "helpdesk", "label": label,
            "auth": { "method": "token", "account_id": account_id, "token": token },
            "retention": { "value": 6, "unit": "months" }
        })
    };
    let api = |path: &str| test.url(&format!("/api/v1/integrations{path}"));

    // A wrong token, over the API and through the form.
    let refused = http
        .post(api(""))
        .header("cookie", &admin)
        .json(&token_body("Wrong", wrong_token))
        .send()
        .await
        .unwrap();
    bodies.keep("API wrong token", refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    let form = [
        ("auth_method", "token"),
        ("label", "Wrong"),
        ("account_id", &account_id),
        ("token", wrong_token),
        ("retention_value", "6"),
        ("retention_unit", "months"),
        ("backfill_weeks", "1"),
    ];
    let refused = http
        .post(test.url("/interactions/integrations"))
        .header("cookie", &admin)
        .form(&form)
        .send()
        .await
        .unwrap();
    bodies.keep("form wrong token", refused, StatusCode::UNPROCESSABLE_ENTITY).await;

    // A token that HelpDesk accepts, then replaced over the API and through the detail page.
    let created =
        http.post(api("")).header("cookie", &admin).json(&token_body("By token", &pat)).send().await.unwrap();
    let token_id = json_of(&bodies.keep("API connect", created, StatusCode::CREATED).await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replaced = http
        .put(api(&format!("/{token_id}/token")))
        .header("cookie", &admin)
        .json(&json!({ "token": replacement_pat }))
        .send()
        .await
        .unwrap();
    bodies.keep("API replace token", replaced, StatusCode::OK).await;
    let detail = test.url(&format!("/interactions/integrations/{token_id}"));
    let refused = http
        .post(format!("{detail}/token"))
        .header("cookie", &admin)
        .form(&[("token", wrong_token)])
        .send()
        .await
        .unwrap();
    bodies.keep("form wrong replacement", refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    let replaced = http
        .post(format!("{detail}/token"))
        .header("cookie", &admin)
        .form(&[("token", &page_pat)])
        .send()
        .await
        .unwrap();
    let flash = crate::pages::flash_cookie(&replaced);
    let saved = bodies.keep("form replace token", replaced, StatusCode::SEE_OTHER).await;
    let page = http.get(test.url(&saved)).header("cookie", format!("{admin}; {flash}")).send().await.unwrap();
    assert!(bodies.keep("detail after replacing", page, StatusCode::OK).await.contains("Token replaced"));

    // Two OAuth connections; one refreshes its access token, the other is disconnected (and
    // its tokens revoked at HelpDesk).
    let (oauth_id, mut travelled) = connect_by_oauth(&test, &admin, "By OAuth", &mut bodies).await;
    let (gone_id, more_travelled) = connect_by_oauth(&test, &admin, "Short-lived", &mut bodies).await;
    travelled.extend(more_travelled);
    let mut oauth_tokens = Vec::new();
    for id in [&oauth_id, &gone_id] {
        let stored = test.store().load_credentials(id.parse().unwrap(), &test.sealer).await.unwrap().unwrap();
        let tokens = stored.oauth.unwrap();
        oauth_tokens.push(tokens.access_token.expose_secret().to_owned());
        oauth_tokens.push(tokens.refresh_token.unwrap().expose_secret().to_owned());
    }
    test.clock.advance(Duration::from_secs(ACCESS_TOKEN_TTL_SECS.unsigned_abs()));
    let client = test.app.helpdesk_client(oauth_id.parse().unwrap(), RetryPolicy::default()).await.unwrap();
    assert!(!client.list_agents().await.unwrap().is_empty());
    let refreshed =
        test.store().load_credentials(oauth_id.parse().unwrap(), &test.sealer).await.unwrap().unwrap();
    let refreshed = refreshed.oauth.unwrap();
    assert_ne!(refreshed.access_token.expose_secret(), oauth_tokens[0], "the access token was refreshed");
    oauth_tokens.push(refreshed.access_token.expose_secret().to_owned());
    oauth_tokens.push(refreshed.refresh_token.unwrap().expose_secret().to_owned());
    let removed = http.delete(api(&format!("/{gone_id}"))).header("cookie", &admin).send().await.unwrap();
    bodies.keep("API disconnect", removed, StatusCode::NO_CONTENT).await;
    assert!(!sim.revoke(&oauth_tokens[3]), "the disconnect revoked the refresh token at HelpDesk already");

    // Everything an admin can read about them.
    for path in [String::new(), format!("/{token_id}"), format!("/{oauth_id}"), format!("/{gone_id}")] {
        let read = http.get(api(&path)).header("cookie", &admin).send().await.unwrap();
        bodies.keep(&format!("API GET {path}"), read, StatusCode::OK).await;
    }
    for path in ["", &format!("/{token_id}"), &format!("/{oauth_id}"), &format!("/{token_id}/connected")] {
        let page = http.get(test.url(&format!("/interactions/integrations{path}"))).header("cookie", &admin);
        bodies.keep(&format!("page {path}"), page.send().await.unwrap(), StatusCode::OK).await;
    }
    let audit = test.store().list_audit(PageRequest::first(100)).await.unwrap().items;
    assert!(audit.iter().any(|entry| entry.action == "integration.token.replace"), "{audit:?}");
    bodies.0.push(("audit log".to_owned(), format!("{audit:?}")));

    let mut database = Vec::new();
    let database_path = test.database.sqlite_path().unwrap();
    for entry in std::fs::read_dir(database_path.parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        database.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(
        database.iter().any(|(path, bytes)| path.ends_with("-wal") && !bytes.is_empty()),
        "no WAL to scan"
    );
    let log = log.0.lock().unwrap().clone();

    // Not vacuous: the log saw the requests, the callbacks, the refresh and the disconnect.
    let log_text = String::from_utf8_lossy(&log);
    for expected in
        ["/api/v1/integrations", OAUTH_CALLBACK_PATH, "OAuth access token refreshed", "method=DELETE"]
    {
        assert!(log_text.contains(expected), "the log lacks {expected:?}; {} bytes", log.len());
    }
    assert!(bodies.0.len() >= 20 && database.len() >= 2);

    let tokens = [vec![pat, replacement_pat, page_pat, wrong_token.to_owned()], oauth_tokens].concat();
    // The code and state are in the callback URL by design, but nothing may keep them.
    let secrets = [tokens.clone(), travelled, vec![sim.oauth_client_secret()]].concat();
    for secret in &secrets {
        assert!(secret.len() >= 20, "{secret:?} is too short to search for");
        if let Some(around) = find(&log, secret) {
            panic!("a secret is in the log: …{around}…");
        }
        for (path, bytes) in &database {
            if let Some(around) = find(bytes, secret) {
                panic!("a secret is in {path}: …{around}…");
            }
        }
    }
    for token in &tokens {
        for (what, body) in &bodies.0 {
            if let Some(around) = find(body.as_bytes(), token) {
                panic!("a token is in the response to {what}: …{around}…");
            }
        }
    }
}
