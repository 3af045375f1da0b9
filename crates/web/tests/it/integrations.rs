//! Connecting HelpDesk over the JSON API and the pages, against the simulator.

use reqwest::StatusCode;
use scoreline_core::PageRequest;
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

pub(crate) async fn helpdesk(backend: TestBackend) -> TestApp {
    TestApp::with_helpdesk(backend, SimConfig { tickets: 20, ..SimConfig::default() }).await
}

fn token_body(test: &TestApp, label: &str, token: &str) -> Value {
    person_body(label, &test.sim().account_id(), token)
}

/// The API's connect body for the person with `account_id` and their `token`.
pub(crate) fn person_body(label: &str, account_id: &str, token: &str) -> Value {
    json!({
        "kind": "helpdesk",
        "label": label,
        "description": "Support inbox",
        "auth": { "method": "token", "account_id": account_id, "token": token },
        "retention": { "value": 6, "unit": "months" },
        "backfill_days": 14
    })
}

pub(crate) async fn post_integration(test: &TestApp, auth: &str, body: &Value) -> reqwest::Response {
    TestApp::http()
        .post(test.url("/api/v1/integrations"))
        .header("cookie", auth)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn integration_count(test: &TestApp) -> usize {
    test.store().list_integrations(PageRequest::first(100)).await.unwrap().items.len()
}

on_both_backends!(
    a_token_connects_after_helpdesk_accepts_it,
    refused_or_unreachable_credentials_create_nothing,
    bad_settings_get_field_errors,
    the_forms_ask_for_backfill_in_weeks_and_answer_in_weeks,
    oauth_connects_through_consent_and_refuses_forgeries,
    eight_workers_share_one_token_refresh,
    a_revoked_authorization_needs_reconnecting_and_keeps_the_integration,
    the_integration_page_says_whether_webhooks_are_live,
    the_json_shows_the_sync_progress_the_page_shows,
);

/// What the integration page shows of a sync (a run under way, HelpDesk's rate limit, how the
/// last run ended) is in the integration's JSON too, read from the same sync state.
async fn the_json_shows_the_sync_progress_the_page_shows(backend: TestBackend) {
    use scoreline_core::{Clock, RateLimitWait, SyncPhase};
    let test = helpdesk(backend).await;
    let id = test.connect_and_sync().await;
    // A session: the API takes it too, and the page needs it.
    let (_, admin) = test.signed_in("global_admin").await;
    let path = format!("/api/v1/integrations/{id}");
    let (status, synced) = test.call(&admin, reqwest::Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{synced}");
    let progress = &synced["progress"];
    assert_eq!((progress["running"].as_bool(), &progress["rate_limit_wait"]), (Some(false), &Value::Null));
    assert_eq!(
        (&progress["backfill_percent"], &progress["backfill_seconds_left"]),
        (&Value::Null, &Value::Null)
    );
    let last_run = &progress["last_run"];
    assert_eq!(last_run["cases_changed"], synced["cases_count"], "{synced}");
    assert_eq!(last_run["error"], Value::Null);
    assert!(last_run["finished_at"].as_str().is_some_and(|at| at.ends_with('Z')), "{last_run}");

    // Another server runs a sync, and HelpDesk asked it to pause for 3 seconds.
    let now = test.clock.now();
    let lease_until = now.saturating_add(std::time::Duration::from_secs(60));
    assert!(test.store().acquire_sync_lease(id, "server-b", lease_until, now).await.unwrap());
    let until = now.saturating_add(std::time::Duration::from_secs(3));
    test.store().note_rate_limit(id, Some(RateLimitWait::RetryAfter { until })).await.unwrap();
    let (_, waiting) = test.call(&admin, reqwest::Method::GET, &path, None).await;
    assert_eq!(waiting["progress"]["running"], true, "{waiting}");
    assert_eq!(
        waiting["progress"]["rate_limit_wait"],
        json!({ "kind": "retry_after", "until": until.to_rfc3339() })
    );
    let page = test.page(&admin, &format!("/interactions/integrations/{id}")).await;
    assert!(page.text.contains("resuming in 3 seconds"), "the page says the same: {}", page.text);
    test.clock.advance(std::time::Duration::from_secs(4));
    let (_, resumed) = test.call(&admin, reqwest::Method::GET, &path, None).await;
    assert_eq!(resumed["progress"]["rate_limit_wait"], Value::Null, "the pause is over");

    test.store()
        .record_sync_failure(id, SyncPhase::Error, "HelpDesk answered 500", test.clock.now())
        .await
        .unwrap();
    let (_, failed) = test.call(&admin, reqwest::Method::GET, &path, None).await;
    let last_run = &failed["progress"]["last_run"];
    assert_eq!(
        (&last_run["cases_changed"], &last_run["error"]),
        (&Value::Null, &json!("HelpDesk answered 500"))
    );
}

async fn the_integration_page_says_whether_webhooks_are_live(backend: TestBackend) {
    let sim = SimConfig { tickets: 20, ..SimConfig::default() };
    let test = TestApp::with_helpdesk_webhooks(backend, sim).await;
    let id = test.connect_and_sync().await;
    let (_, admin) = test.signed_in("global_admin").await;
    let page = test.page(&admin, &format!("/interactions/integrations/{id}")).await;
    assert!(page.text.contains(r#"id="webhooks" data-live="true""#), "{}", page.text);
    assert!(page.text.contains("Live: HelpDesk sends"));
    assert!(!page.text.contains("slw_"), "the URL's token is never shown");

    let plain = helpdesk(backend).await;
    let id = plain.connect_and_sync().await;
    let (_, admin) = plain.signed_in("global_admin").await;
    let page = plain.page(&admin, &format!("/interactions/integrations/{id}")).await;
    assert!(page.text.contains(r#"data-live="false""#) && page.text.contains("SCORELINE_PUBLIC_URL"));
}

async fn a_token_connects_after_helpdesk_accepts_it(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let pat = test.sim().pat();

    let created = post_integration(&test, &admin, &token_body(&test, "HelpDesk EU", &pat)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let text = created.text().await.unwrap();
    assert!(!text.contains(&pat), "the token came back: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["state"], "connected");
    assert_eq!(body["auth_method"], "token");
    assert_eq!(
        body["token_last4"],
        pat.chars().rev().take(4).collect::<String>().chars().rev().collect::<String>()
    );
    assert_eq!(body["retention"], json!({ "value": 6, "unit": "months" }));
    assert_eq!(body["backfill_days"], 14);
    let id = body["id"].as_str().unwrap().to_owned();

    // Same account, another label: a second integration only when confirmed.
    let second = post_integration(&test, &admin, &token_body(&test, "HelpDesk US", &pat)).await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let error: Value = second.json().await.unwrap();
    assert_eq!(error["code"], "already_connected");
    assert_eq!(error["fields"][0]["field"], "confirm_duplicate");
    assert!(error["message"].as_str().unwrap().contains("already connected as “HelpDesk EU”"), "{error}");
    assert_eq!(integration_count(&test).await, 1);
    let mut confirmed = token_body(&test, "HelpDesk US", &pat);
    confirmed["confirm_duplicate"] = json!(true);
    let second = post_integration(&test, &admin, &confirmed).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let list: Value = test.get_json(&admin, "/api/v1/integrations").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let patched = TestApp::http()
        .patch(test.url(&format!("/api/v1/integrations/{id}")))
        .header("cookie", &admin)
        .json(&json!({ "label": "HelpDesk Europe", "retention": { "value": 1, "unit": "years" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        (patched["label"].as_str(), patched["retention"]["unit"].as_str()),
        (Some("HelpDesk Europe"), Some("years"))
    );

    let too_short = TestApp::http()
        .patch(test.url(&format!("/api/v1/integrations/{id}")))
        .header("cookie", &admin)
        .json(&json!({ "retention": { "value": 1, "unit": "weeks" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(too_short.status(), StatusCode::UNPROCESSABLE_ENTITY, "1 week cannot hold a 14-day backfill");

    // Employees and group admins may not see or change integrations.
    for role in ["employee", "group_admin", "supervisor"] {
        let (_, token) = test.api_user(role).await;
        let listed =
            TestApp::http().get(test.url("/api/v1/integrations")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(listed.status(), StatusCode::FORBIDDEN, "{role}");
        let created = TestApp::http()
            .post(test.url("/api/v1/integrations"))
            .bearer_auth(&token)
            .json(&token_body(&test, "X", &pat))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::FORBIDDEN, "{role}");
    }

    let actions: Vec<String> = test
        .store()
        .list_audit(PageRequest::first(50))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "integration.connect").count(), 2);
    assert!(actions.contains(&"integration.update".to_owned()));

    let removed = TestApp::http()
        .delete(test.url(&format!("/api/v1/integrations/{id}?cases=remove")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(integration_count(&test).await, 1);
}

async fn refused_or_unreachable_credentials_create_nothing(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;

    let wrong =
        post_integration(&test, &admin, &token_body(&test, "Wrong", "dal:not-a-token-the-simulator-knows"))
            .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = wrong.json().await.unwrap();
    assert_eq!(error["fields"][0]["field"], "token");
    assert!(
        error["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("HelpDesk rejected this Account ID or token")
    );

    test.sim().clear_requests();
    let mut malformed = token_body(&test, "Malformed", &test.sim().pat());
    malformed["auth"]["account_id"] = json!("12345");
    let malformed = post_integration(&test, &admin, &malformed).await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = malformed.json().await.unwrap();
    assert_eq!(error["fields"][0]["field"], "account_id");
    assert!(test.sim().requests().is_empty(), "a malformed Account ID is refused before asking HelpDesk");

    // HelpDesk unreachable: a port nobody listens on.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let offline = TestApp::with_settings(backend, |_| scoreline_app::HelpDeskSettings {
        api_url: format!("http://127.0.0.1:{closed_port}"),
        ..scoreline_app::HelpDeskSettings::default()
    })
    .await;
    let (_, offline_admin) = offline.signed_in("global_admin").await;
    let mut body = token_body(&test, "Offline", "dal:whatever");
    body["auth"]["account_id"] = json!("b7eff798-f8df-4364-8059-649c35c9ed0c");
    let unreachable = post_integration(&offline, &offline_admin, &body).await;
    assert_eq!(unreachable.status(), StatusCode::BAD_GATEWAY);
    let error: Value = unreachable.json().await.unwrap();
    assert_eq!(error["code"], "helpdesk_unavailable");
    assert!(error["message"].as_str().unwrap().contains("could not be reached"));

    assert_eq!(integration_count(&test).await, 0);
    assert_eq!(integration_count(&offline).await, 0);
}

async fn bad_settings_get_field_errors(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let pat = test.sim().pat();
    test.sim().clear_requests();
    let cases: [(&str, Value, &str); 6] = [
        ("backfill of 5 weeks", json!({ "backfill_days": 35 }), "backfill_days"),
        ("empty label", json!({ "label": "  " }), "label"),
        ("unknown unit", json!({ "retention": { "value": 3, "unit": "fortnights" } }), "retention"),
        ("retention 0", json!({ "retention": { "value": 0, "unit": "days" } }), "retention"),
        (
            "retention shorter than backfill",
            json!({ "retention": { "value": 5, "unit": "days" } }),
            "retention",
        ),
        ("unknown method", json!({ "auth": { "method": "magic" } }), "auth_method"),
    ];
    for (what, change, field) in cases {
        let mut body = token_body(&test, "Valid label", &pat);
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response = post_integration(&test, &admin, &body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        let error: Value = response.json().await.unwrap();
        let fields: Vec<&str> =
            error["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&field), "{what}: {error}");
    }
    assert!(test.sim().requests().is_empty(), "invalid forms never reach HelpDesk");
    assert_eq!(integration_count(&test).await, 0);
}

async fn the_forms_ask_for_backfill_in_weeks_and_answer_in_weeks(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let pat = test.sim().pat();
    let account_id = test.sim().account_id();
    let connect = |weeks: &'static str| {
        TestApp::http()
            .post(test.url("/interactions/integrations"))
            .header("cookie", &admin)
            .form(&[
                ("auth_method", "token"),
                ("label", "HelpDesk"),
                ("account_id", account_id.as_str()),
                ("token", pat.as_str()),
                ("retention_value", "3"),
                ("retention_unit", "months"),
                ("backfill_weeks", weeks),
            ])
            .send()
    };
    let refused = connect("5").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Backfill must be between 1 and 4 weeks."), "{page}");
    assert!(
        page.contains(r##"<a href="#connect-form-backfill_weeks">"##),
        "the summary links to the field: {page}"
    );
    assert!(!page.contains(&pat), "the token is never written into the page");

    let connected = connect("2").await.unwrap();
    assert_eq!(connected.status(), StatusCode::SEE_OTHER);
    let [integration] =
        test.store().list_integrations(PageRequest::first(10)).await.unwrap().items.try_into().unwrap();
    assert_eq!(integration.backfill_days, 14);
    let id = integration.id;
    let connected_page = test.get_text(&admin, &format!("/interactions/integrations/{id}/connected")).await;
    assert!(connected_page.contains("the last 2 weeks of tickets"), "{connected_page}");

    let settings = TestApp::http()
        .post(test.url(&format!("/interactions/integrations/{id}")))
        .header("cookie", &admin)
        .form(&[
            ("label", "HelpDesk"),
            ("description", ""),
            ("retention_value", "3"),
            ("retention_unit", "months"),
            ("backfill_weeks", "9"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = settings.text().await.unwrap();
    assert!(
        page.contains("Backfill must be between 1 and 4 weeks.")
            && page.contains(r#"id="settings-form-summary""#)
    );
    assert!(page.contains(r#"name="backfill_weeks" value="9""#), "what was typed stays: {page}");
}

/// The connect page's form as a browser posts it (3 months' retention, 2 weeks' backfill),
/// with the fields of its method.
pub(crate) async fn post_connect_form(
    test: &TestApp,
    cookie: &str,
    label: &str,
    confirm_duplicate: bool,
    method: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("label", label),
        ("description", ""),
        ("retention_value", "3"),
        ("retention_unit", "months"),
        ("backfill_weeks", "2"),
        ("confirm_duplicate", if confirm_duplicate { "yes" } else { "" }),
    ];
    form.extend_from_slice(method);
    let request = TestApp::http().post(test.url("/interactions/integrations")).header("cookie", cookie);
    request.form(&form).send().await.unwrap()
}

/// Starts OAuth from the page form and returns where the browser is sent.
async fn start_oauth_from_page(test: &TestApp, cookie: &str, label: &str) -> String {
    start_oauth_with(test, cookie, label, false).await
}

/// The same, with "Connect anyway" ticked when `confirm_duplicate`.
pub(crate) async fn start_oauth_with(
    test: &TestApp,
    cookie: &str,
    label: &str,
    confirm_duplicate: bool,
) -> String {
    let started =
        post_connect_form(test, cookie, label, confirm_duplicate, &[("auth_method", "oauth")]).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let authorize_url = started.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize_url.starts_with(&test.sim().accounts_url()), "{authorize_url}");
    for parameter in ["response_type=code", "code_challenge_method=S256", "state=", "code_challenge="] {
        assert!(authorize_url.contains(parameter), "{parameter} missing from {authorize_url}");
    }
    authorize_url
}

pub(crate) async fn follow_callback(cookie: &str, callback: &str) -> reqwest::Response {
    TestApp::http().get(callback).header("cookie", cookie).send().await.unwrap()
}

/// Connects by OAuth through the consent page; returns the integration id.
async fn connect_by_oauth(test: &TestApp, cookie: &str) -> String {
    let authorize_url = start_oauth_from_page(test, cookie, "HelpDesk OAuth").await;
    let callback = TestApp::answer_consent(&authorize_url, true).await;
    let finished = follow_callback(cookie, &callback).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER, "{}", finished.text().await.unwrap());
    let location = finished.headers()["location"].to_str().unwrap().to_owned();
    location.trim_start_matches("/interactions/integrations/").trim_end_matches("/connected").to_owned()
}

async fn oauth_connects_through_consent_and_refuses_forgeries(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (admin_user, admin) = test.signed_in("global_admin").await;

    // Denied consent: nothing is created, and the form comes back as it was filled in.
    let authorize_url = start_oauth_from_page(&test, &admin, "Denied").await;
    let callback = TestApp::answer_consent(&authorize_url, false).await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let denied = follow_callback(&admin, &callback).await;
    assert_eq!(denied.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = denied.text().await.unwrap();
    assert!(
        page.contains("Access was not granted") && page.contains(r#"id="connect-form-summary""#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="label" value="Denied""#)
            && page.contains(r#"name="backfill_weeks" value="2""#)
    );

    // A forged state is refused.
    let forged =
        follow_callback(&admin, &test.url("/interactions/integrations/oauth/callback?state=forged&code=abc"))
            .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged.text().await.unwrap().contains("not valid"));

    // Another admin's session cannot finish this admin's authorization.
    let (_, other_admin) = test.signed_in("global_admin").await;
    let authorize_url = start_oauth_from_page(&test, &admin, "Stolen").await;
    let callback = TestApp::answer_consent(&authorize_url, true).await;
    let stolen = follow_callback(&other_admin, &callback).await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    assert_eq!(integration_count(&test).await, 0, "nothing is created by refused callbacks");
    // Nor can this admin's other session; and neither consumed the flow: the rightful
    // callback still connects.
    let other_session = test.sign_in(&admin_user.email, scoreline_testkit::PASSWORD).await;
    assert_eq!(follow_callback(&other_session, &callback).await.status(), StatusCode::BAD_REQUEST);
    let rightful = follow_callback(&admin, &callback).await;
    assert_eq!(rightful.status(), StatusCode::SEE_OTHER, "{}", rightful.text().await.unwrap());
    assert_eq!(integration_count(&test).await, 1);

    // The same account again: the callback asks for confirmation and creates nothing.
    let authorize_url = start_oauth_from_page(&test, &admin, "HelpDesk OAuth").await;
    let callback = TestApp::answer_consent(&authorize_url, true).await;
    let duplicate = follow_callback(&admin, &callback).await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let page = duplicate.text().await.unwrap();
    assert!(
        page.contains("is already connected as “Stolen”") && page.contains(r#"name="confirm_duplicate""#),
        "{page}"
    );
    assert_eq!(integration_count(&test).await, 1);

    // Confirmed, the happy path; the same callback cannot be used twice.
    let authorize_url = start_oauth_with(&test, &admin, "HelpDesk OAuth", true).await;
    let callback = TestApp::answer_consent(&authorize_url, true).await;
    let finished = follow_callback(&admin, &callback).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    let connected_page = finished.headers()["location"].to_str().unwrap().to_owned();
    let page = test.get_text(&admin, &connected_page).await;
    assert!(page.contains("HelpDesk is connected to Scoreline") && page.contains("Manage Users"));
    let replayed = follow_callback(&admin, &callback).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);

    let integrations = test.store().list_integrations(PageRequest::first(10)).await.unwrap().items;
    assert_eq!(integrations.len(), 2, "the rightful callback after the stolen one, and this one");
    for integration in &integrations {
        assert_eq!(integration.auth_method.as_str(), "oauth");
        assert_eq!(integration.backfill_days, 14);
        assert!(integration.credential_set && integration.token_last4.is_none());
        assert_eq!(integration.account_id.as_deref(), Some(test.sim().account_id().as_str()));
    }
    let detail = test.get_text(&admin, &format!("/interactions/integrations/{}", integrations[0].id)).await;
    assert!(detail.contains("Account ID") && detail.contains(&test.sim().account_id()), "{detail}");

    // The API flow answers with where to approve access and creates nothing before that; its
    // confirmation of a second connection holds for the callback.
    let api_started = post_integration(&test, &admin, &json!({
        "kind": "helpdesk", "label": "Via API", "auth": { "method": "oauth" }, "retention": { "value": 2, "unit": "months" },
        "confirm_duplicate": true
    }))
    .await;
    assert_eq!(api_started.status(), StatusCode::CREATED);
    let started: Value = api_started.json().await.unwrap();
    assert_eq!(started["integration"]["state"], "awaiting_authorization");
    let callback = TestApp::answer_consent(started["authorize_url"].as_str().unwrap(), true).await;
    assert_eq!(follow_callback(&admin, &callback).await.status(), StatusCode::SEE_OTHER);
    let id = started["integration"]["id"].as_str().unwrap();
    let shown: Value = test.get_json(&admin, &format!("/api/v1/integrations/{id}")).await;
    assert_eq!(shown["label"], "Via API");
    assert_eq!(shown["state"], "connected");
}

async fn eight_workers_share_one_token_refresh(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let id: scoreline_core::IntegrationId = connect_by_oauth(&test, &admin).await.parse().unwrap();

    // A second server on the same database: refreshes must not overlap across processes either.
    let other_server = scoreline_app::App::new(
        test.store().clone(),
        test.clock.clone(),
        test.sealer.clone(),
        test.app.settings().clone(),
    );

    // Past the 8-hour lifetime on our clock: every worker wants a fresh token at once.
    test.clock.advance(std::time::Duration::from_secs(8 * 3600));
    test.sim().clear_requests();
    let mut workers = Vec::new();
    for worker in 0..8 {
        let server = if worker % 2 == 0 { &test.app } else { &other_server };
        let client = server.helpdesk_client(id, scoreline_helpdesk::RetryPolicy::default()).await.unwrap();
        workers.push(tokio::spawn(async move { client.list_agents().await.map(|agents| agents.len()) }));
    }
    for worker in workers {
        assert!(worker.await.unwrap().unwrap() > 0);
    }
    let refreshes =
        test.sim().requests().iter().filter(|r| r.method == "POST" && r.uri.starts_with("/v2/token")).count();
    assert_eq!(refreshes, 1, "exactly one refresh for eight workers on two servers");
}

async fn a_revoked_authorization_needs_reconnecting_and_keeps_the_integration(backend: TestBackend) {
    let test = helpdesk(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let id_text = connect_by_oauth(&test, &admin).await;
    let id: scoreline_core::IntegrationId = id_text.parse().unwrap();
    let stored = test.store().load_credentials(id, &test.sealer).await.unwrap().unwrap().oauth.unwrap();
    use scoreline_helpdesk::ExposeSecret;
    assert!(
        test.sim().revoke(stored.refresh_token.as_ref().unwrap().expose_secret()),
        "the simulator knew the token"
    );

    test.clock.advance(std::time::Duration::from_secs(8 * 3600));
    test.sim().clear_requests();
    let client = test.app.helpdesk_client(id, scoreline_helpdesk::RetryPolicy::default()).await.unwrap();
    let error = client.list_agents().await.unwrap_err();
    assert!(error.needs_reauthorization(), "{error}");
    assert!(test.sim().requests().len() <= 2, "no request flood: {:?}", test.sim().requests());
    let integration = test.store().get_integration(id).await.unwrap().unwrap();
    assert_eq!(integration.state.as_str(), "needs_reauthorization");

    // Reconnect: same integration, connected again.
    let detail = test.get_text(&admin, &format!("/interactions/integrations/{id_text}")).await;
    assert!(detail.contains("Reconnect"));
    let restart = TestApp::http()
        .post(test.url(&format!("/interactions/integrations/{id_text}/reconnect")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(restart.status(), StatusCode::SEE_OTHER);
    let callback = TestApp::answer_consent(restart.headers()["location"].to_str().unwrap(), true).await;
    let finished = follow_callback(&admin, &callback).await;
    assert_eq!(
        finished.headers()["location"].to_str().unwrap(),
        format!("/interactions/integrations/{id_text}/connected")
    );
    assert_eq!(test.store().get_integration(id).await.unwrap().unwrap().state.as_str(), "connected");
    assert_eq!(integration_count(&test).await, 1);

    // Disconnecting revokes the authorization at HelpDesk and deletes the credentials.
    test.sim().clear_requests();
    let gone = TestApp::http()
        .delete(test.url(&format!("/api/v1/integrations/{id_text}")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert!(test.sim().requests().iter().any(|r| r.method == "DELETE" && r.uri.starts_with("/v2/token")));
    let kept = test.store().get_integration(id).await.unwrap().unwrap();
    assert_eq!(kept.state.as_str(), "disconnected");
    assert!(test.store().load_credentials(id, &test.sealer).await.unwrap().is_none());
}
