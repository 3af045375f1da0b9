//! Synced cases over the API and pages, "Sync now", and the retention purge.

use reqwest::StatusCode;
use scoreline_app::Actor;
use scoreline_core::Clock;
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{SeedCase, TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

const CANARY: &str = "canary-7f3a9c-purge-me";

async fn synced(backend: TestBackend) -> (TestApp, String, String) {
    let test =
        TestApp::with_helpdesk(backend, SimConfig { tickets: 120, days: 10, ..SimConfig::default() }).await;
    test.clock.set(test.sim().now());
    test.sim()
        .create_ticket(&json!({ "subject": "Canary ticket", "message": { "text": CANARY }, "requester": { "email": "c@example.com" } }))
        .unwrap();
    let (_, admin) = test.signed_in("global_admin").await;
    let created: Value = TestApp::http()
        .post(test.url("/api/v1/integrations"))
        .header("cookie", &admin)
        .json(&json!({
            "kind": "helpdesk", "label": "Synced",
            "auth": { "method": "token", "account_id": test.sim().account_id(), "token": test.sim().pat() },
            "retention": { "value": 1, "unit": "months" }, "backfill_days": 14
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["phase"], "pending");
    let id = created["id"].as_str().unwrap().to_owned();
    test.clock.advance(std::time::Duration::from_secs(120));
    test.app.sync_integration(id.parse().unwrap(), None).await.unwrap();
    (test, id, admin)
}

on_both_backends!(
    cases_are_listed_filtered_and_shown,
    purged_cases_keep_a_tombstone_and_lose_their_content,
    a_purge_of_many_batches_removes_each_expired_case_once,
    the_purge_and_the_sync_write_at_the_same_time,
);

async fn cases_are_listed_filtered_and_shown(backend: TestBackend) {
    let (test, id, admin) = synced(backend).await;
    let http = TestApp::http();
    let integration: Value = test.get_json(&admin, &format!("/api/v1/integrations/{id}")).await;
    assert_eq!(integration["phase"], "live");
    let total = integration["cases_count"].as_u64().unwrap();
    assert!(total > 20, "{integration}");
    assert!(integration["held_back_count"].as_u64().unwrap() > 0, "no agent is matched yet");
    assert!(integration["last_synced_at"].is_string());

    let mut seen = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http
            .get(test.url("/api/v1/cases"))
            .header("cookie", &admin)
            .query(&[("integration_id", id.as_str()), ("limit", "25")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        assert!(page["items"].is_array(), "{page}");
        seen += page["items"].as_array().unwrap().len() as u64;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, total);

    let open: Value = http
        .get(test.url("/api/v1/cases"))
        .header("cookie", &admin)
        .query(&[("status", "open"), ("limit", "500")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(open["items"].as_array().unwrap().iter().all(|c| c["status"] == "open"));
    let bad = http
        .get(test.url("/api/v1/cases?updated_from=yesterday&agent_user_id=x"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["fields"].as_array().unwrap().len(), 2);

    let all: Value = http
        .get(test.url("/api/v1/cases"))
        .header("cookie", &admin)
        .query(&[("limit", "500")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let canary = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"] == "Canary ticket")
        .expect("the canary was synced");
    let case_id = canary["id"].as_str().unwrap();
    let case: Value = test.get_json(&admin, &format!("/api/v1/cases/{case_id}")).await;
    assert!(case["events"].as_array().unwrap().iter().any(|e| e["message"]["text"] == CANARY));
    assert_eq!(case["requester"]["email"], "c@example.com");
    let page = test.get_text(&admin, &format!("/cases/{case_id}")).await;
    assert!(page.contains("Canary ticket") && page.contains(CANARY));
    let detail = test.get_text(&admin, &format!("/interactions/integrations/{id}")).await;
    assert!(
        detail.contains("Sync now") && detail.contains("href=\"/cases/"),
        "the integration page lists cases"
    );

    let (_, employee) = test.api_user("employee").await;
    let own: Value = test.get_json(&employee, "/api/v1/cases").await;
    assert_eq!(own["items"], json!([]), "an employee matched to no agent has no cases of their own");

    let metrics = test.get_text(&admin, "/metrics").await;
    for name in
        ["scoreline_sync_pages_total", "scoreline_sync_tickets_stored_total", "scoreline_sync_runs_total"]
    {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }

    let requested = http
        .post(test.url(&format!("/api/v1/integrations/{id}/sync")))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(requested.status(), StatusCode::ACCEPTED);
    let state = test.app.integration_overview(&Actor::System, id.parse().unwrap()).await.unwrap();
    assert!(state.sync.requested_at.is_some());
}

async fn purged_cases_keep_a_tombstone_and_lose_their_content(backend: TestBackend) {
    let (test, id, _) = synced(backend).await;
    let http = TestApp::http();
    let dry = test.app.purge(&Actor::System, true).await.unwrap();
    assert_eq!(dry[0].cases, 0, "nothing is past a month yet");

    test.clock.advance(std::time::Duration::from_secs(40 * 24 * 3600));
    let dry = test.app.purge(&Actor::System, true).await.unwrap();
    let expected = dry[0].cases;
    assert!(expected > 0);
    let done = test.app.purge(&Actor::System, false).await.unwrap();
    assert_eq!(done[0].cases, expected);
    assert_eq!(test.app.purge(&Actor::System, true).await.unwrap()[0].cases, 0, "purged once");

    // Forty days on, the earlier session has expired.
    let (_, admin) = test.signed_in("global_admin").await;
    let all: Value = http
        .get(test.url("/api/v1/cases"))
        .header("cookie", &admin)
        .query(&[("integration_id", id.as_str()), ("limit", "500")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let purged: Vec<&Value> =
        all["items"].as_array().unwrap().iter().filter(|c| c["purged"] == true).collect();
    assert_eq!(purged.len() as u64, expected, "tombstones stay listed");
    let tombstone = purged[0];
    assert!(tombstone["subject"].is_null() && tombstone["requester"].is_null());
    assert!(
        tombstone["status"].is_string()
            && tombstone["source_id"].is_string()
            && tombstone["updated_at"].is_string()
    );
    let case: Value =
        test.get_json(&admin, &format!("/api/v1/cases/{}", tombstone["id"].as_str().unwrap())).await;
    assert!(case.get("events").is_none(), "{case}");

    let actions: Vec<String> = {
        test.store()
            .list_audit(scoreline_core::PageRequest::first(100))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|a| a.action)
            .collect()
    };
    assert!(actions.iter().any(|a| a == "retention.purge"));

    if let Some(path) = test.database.sqlite_path() {
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "purged text is still in the SQLite files"
        );
    }
}

/// More expired cases than two batches hold, among recent ones: the purge removes the content of
/// every expired case and of no other, marks each once, and a second purge finds none left.
async fn a_purge_of_many_batches_removes_each_expired_case_once(backend: TestBackend) {
    let test = TestApp::with_helpdesk(backend, SimConfig { tickets: 0, ..SimConfig::default() }).await;
    let integration = test.connect_token(|_| {}).await;
    let expired = 2 * u64::from(scoreline_app::PURGE_BATCH) + 7;
    let ago = |hours: u64| test.clock.now().saturating_sub(std::time::Duration::from_secs(hours * 3600));
    let mut cases: Vec<SeedCase> =
        (0..expired).map(|i| SeedCase::new(format!("old-{i}"), Some("ann"), ago(24 * 40 + i % 50))).collect();
    cases.extend((0..20).map(|i| SeedCase::new(format!("new-{i}"), Some("ann"), ago(i))));
    test.seed_cases(integration, &cases).await;

    let done = test.app.purge(&Actor::System, false).await.unwrap();
    assert_eq!(done[0].cases, expired);
    assert_eq!(test.app.purge(&Actor::System, false).await.unwrap()[0].cases, 0, "each case once");
    let scope = scoreline_core::Scope::Everything;
    let filter = scoreline_core::CaseFilter { integration_ids: vec![integration], ..Default::default() };
    let mut purged = 0;
    let mut page = scoreline_core::PageRequest::first(scoreline_core::PageRequest::MAX_LIMIT);
    loop {
        let cases = test.store().list_cases(&scope, &filter, page).await.unwrap();
        for case in &cases.items {
            let old = case.source_id.starts_with("old-");
            assert_eq!(case.purged_at.is_some(), old, "{}", case.source_id);
            assert_eq!(case.subject.is_none(), old, "{}: content kept only when recent", case.source_id);
            purged += u64::from(old);
        }
        match cases.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    assert_eq!(purged, expired);
}

/// Each purge batch reads the cases it removes and then writes. On SQLite a transaction that
/// had read before another connection committed used to fail at its first write ("database is
/// locked", at once, whatever the busy timeout), so a purge failed whenever the sync stored a
/// page between a batch's read and its write. Both now run side by side, and neither fails.
async fn the_purge_and_the_sync_write_at_the_same_time(backend: TestBackend) {
    let test = TestApp::with_helpdesk(backend, SimConfig { tickets: 0, ..SimConfig::default() }).await;
    let integration = test.connect_token(|_| {}).await;
    let expired = 150;
    let ago = |hours: u64| test.clock.now().saturating_sub(std::time::Duration::from_secs(hours * 3600));
    let old: Vec<SeedCase> =
        (0..expired).map(|i| SeedCase::new(format!("old-{i}"), Some("ann"), ago(24 * 40 + i))).collect();
    test.seed_cases(integration, &old).await;
    let mut settings = test.app.settings().clone();
    settings.purge_batch = 1;
    let purging =
        scoreline_app::App::new(test.store().clone(), test.clock.clone(), test.sealer.clone(), settings);

    let purge = tokio::spawn(async move { purging.purge(&Actor::System, false).await });
    let mut pages = 0;
    while !purge.is_finished() || pages < 20 {
        let page = [SeedCase::new(format!("new-{pages}"), Some("ann"), ago(1))];
        test.seed_cases(integration, &page).await;
        pages += 1;
    }
    let done = purge.await.unwrap().expect("the purge runs beside the sync");
    assert_eq!(done[0].cases, expired);
    assert_eq!(test.store().count_cases(integration).await.unwrap(), expired + pages);
    assert_eq!(test.store().count_purgeable(integration, ago(24 * 30)).await.unwrap(), 0);
}
