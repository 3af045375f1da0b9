//! A newcomer's first ten minutes, in a real browser against `scoreline demo`: the admin connects
//! the simulated HelpDesk with the printed token and fixes the agents matching by email left
//! over, the QA manager builds and runs a random list of 5 per agent with its preview, an
//! evaluator scores a case beside its conversation, and the agent of that case sees the result.
//! With `SCORELINE_SCREENSHOTS=<dir>` the main pages are saved there at 1366×768.

use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use scoreline_testkit::Browser;

use crate::Server;

const PASSWORD: &str = "scoreline-demo";
const ADMIN: &str = "admin@scoreline.demo";
/// The sync and the demo's background work finish well within this; a wait past it is a failure.
const PATIENCE: Duration = Duration::from_secs(60);

/// What `scoreline demo` printed: who signs in, and what to paste into the connect form.
struct Banner(Vec<String>);

impl Banner {
    fn value(&self, label: &str) -> String {
        let values = self.values(label);
        values.into_iter().next().unwrap_or_else(|| panic!("{label} missing from {:?}", self.0))
    }

    /// Every line's value under `label` (there are two evaluators).
    fn values(&self, label: &str) -> Vec<String> {
        let values = self.0.iter().filter_map(|line| line.trim().strip_prefix(label));
        values.map(|value| value.trim().to_owned()).collect()
    }
}

async fn text(client: &Client, css: &str) -> String {
    let element = client.wait().at_most(PATIENCE).for_element(Locator::Css(css)).await;
    let element = element.unwrap_or_else(|error| panic!("{css}: {error}"));
    element.text().await.unwrap().split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn number(client: &Client, css: &str) -> u64 {
    let text = text(client, css).await;
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("{css} starts with no number: {text:?}"))
}

async fn find(client: &Client, css: &str) -> Element {
    let found = client.wait().for_element(Locator::Css(css)).await;
    found.unwrap_or_else(|error| panic!("{css}: {error}"))
}

async fn fill(client: &Client, css: &str, value: &str) {
    let input = find(client, css).await;
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Ticks a checkbox the form may have ticked already.
async fn tick(checkbox: Element) {
    if !checkbox.is_selected().await.unwrap() {
        checkbox.click().await.unwrap();
    }
}

/// Clicks `element` and waits until the page it leads to has replaced this one.
async fn click_to_next_page(client: &Client, element: Element) {
    let old_page = client.find(Locator::Css("html")).await.unwrap();
    element.click().await.unwrap();
    let deadline = Instant::now() + PATIENCE;
    while old_page.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "the page did not change");
        tokio::task::yield_now().await;
    }
    client.wait().for_element(Locator::Css("main")).await.unwrap();
}

async fn click(client: &Client, css: &str) {
    click_to_next_page(client, find(client, css).await).await;
}

/// Saves the page as `<name>.png` at 1366×768 when `SCORELINE_SCREENSHOTS` names a folder
/// (a relative one from the workspace's root, as the README's command gives it).
async fn screenshot(client: &Client, name: &str) {
    let Ok(folder) = std::env::var("SCORELINE_SCREENSHOTS") else { return };
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(folder);
    std::fs::create_dir_all(&folder).unwrap();
    // At the top of the page and of each pane that scrolls on its own.
    let to_top = "for (const e of [document.scrollingElement, ...document.querySelectorAll('main *')]) \
                  if (e.scrollTop > 0) e.scrollTop = 0;";
    client.execute(to_top, Vec::new()).await.unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

/// Sizes the window so that the page itself, without the browser's frame, is `width`×`height`.
async fn viewport(client: &Client, width: u32, height: u32) {
    client.set_window_size(width, height).await.unwrap();
    let inner = client.execute("return [window.innerWidth, window.innerHeight]", Vec::new()).await.unwrap();
    let frame = |i: usize, set: u32| set.saturating_sub(inner[i].as_u64().unwrap() as u32);
    client.set_window_size(width + frame(0, width), height + frame(1, height)).await.unwrap();
}

/// Signs out whoever is signed in, then signs `email` in and waits for their home page.
async fn sign_in_as(browser: &Browser, server: &Server, email: &str) {
    let client = &browser.client;
    if let Ok(sign_out) = client.find(Locator::Css("form[action='/sign-out'] button")).await {
        click_to_next_page(client, sign_out).await;
    }
    browser.sign_in(&server.url("/"), email, PASSWORD).await;
    let home = url::Url::parse(&server.url("/")).unwrap();
    client.wait().at_most(PATIENCE).for_url(&home).await.unwrap();
    find(client, "form[action='/sign-out']").await;
}

/// From View Integrations through the HelpDesk tile and the token form to the confirmation page;
/// returns the integration's page. Kept in one place, as the connect form changes most.
async fn connect_with_token(client: &Client, account_id: &str, token: &str) -> String {
    click(client, "#tile-helpdesk").await;
    find(client, "#connect-form input[name=auth_method][value=token]").await.click().await.unwrap();
    fill(client, "#connect-form [name=label]", "Demo HelpDesk").await;
    fill(client, "#connect-form [name=description]", "The simulated account of the demo").await;
    fill(client, "#connect-form [name=account_id]", account_id).await;
    fill(client, "#connect-form [name=token]", token).await;
    screenshot(client, "connect").await;
    click(client, "#connect-form button[type=submit]").await;
    assert_eq!(text(client, "#connected").await, "HelpDesk is connected to Scoreline");
    let manage_users = find(client, "#manage-users").await.attr("href").await.unwrap().unwrap();
    manage_users.strip_suffix("/users").expect("Manage Users of the integration").to_owned()
}

/// The agents' rows once the first sync has brought them (the page says when there are none).
async fn agent_rows(client: &Client) -> Vec<Element> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let rows = client.find_all(Locator::Css("#agents tbody tr[data-agent-id]")).await.unwrap();
        if !rows.is_empty() {
            return rows;
        }
        assert!(client.find(Locator::Id("no-agents")).await.is_ok(), "neither agents nor the empty state");
        assert!(Instant::now() < deadline, "no agents after {PATIENCE:?}");
        client.refresh().await.unwrap();
        find(client, "#match-summary").await;
    }
}

/// The preview once it answers the form as it stands: (would pick, agents with a pool). htmx
/// marks the panel `htmx-request` while a request is in flight or queued behind one, and each
/// answer replaces the whole table, so both figures are read in one script between answers.
async fn settled_preview(client: &Client) -> (u64, u64) {
    const READ: &str = "const table = document.getElementById('preview-agents'); \
        if (!table || document.querySelector('.preview-panel.htmx-request')) return null; \
        return [Number(document.getElementById('preview-would-pick').textContent), \
                table.querySelectorAll('tbody tr').length];";
    let deadline = Instant::now() + PATIENCE;
    loop {
        let settled = Locator::Css(".preview-panel:not(.htmx-request) #preview-agents");
        if client.wait().at_most(PATIENCE).for_element(settled).await.is_err() {
            panic!("no per-agent preview: {}", text(client, "#preview").await);
        }
        let read = client.execute(READ, Vec::new()).await.unwrap();
        if let Some([would_pick, agents]) = serde_json::from_value::<Option<[u64; 2]>>(read).unwrap() {
            return (would_pick, agents);
        }
        assert!(Instant::now() < deadline, "the preview kept changing for {PATIENCE:?}");
    }
}

/// Unmatched agents whose first suggestion is staff of the same name, as the demo seeds them
/// under other addresses: (agent id, suggested user id).
async fn suggested(client: &Client) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for row in agent_rows(client).await {
        let Ok(button) = row.find(Locator::Css("button.accept-suggestion")).await else { continue };
        let name = row.find(Locator::Css(".agent-name")).await.unwrap().text().await.unwrap();
        if button.text().await.unwrap().contains(&name) {
            let agent = row.attr("data-agent-id").await.unwrap().unwrap();
            found.push((agent, button.attr("data-user-id").await.unwrap().unwrap()));
        }
    }
    found
}

/// Waits until htmx has replaced the agent's row with a matched one.
async fn wait_matched(client: &Client, agent_id: &str) {
    let css = format!("tr.matched[data-agent-id=\"{agent_id}\"]");
    client.wait().at_most(PATIENCE).for_element(Locator::Css(&css)).await.unwrap();
}

/// The JSON API as `email`, for the few facts a person would read off another page.
struct Api {
    http: reqwest::Client,
    cookie: String,
    base: String,
}

impl Api {
    async fn sign_in(server: &Server, email: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie = server.sign_in(&http, email, PASSWORD).await;
        Self { http, cookie, base: server.url("") }
    }

    async fn user_id(&self, email: &str) -> String {
        let users = self.get("/api/v1/users?limit=500").await;
        let user = users["items"].as_array().unwrap().iter().find(|user| user["email"] == email);
        user.unwrap_or_else(|| panic!("{email} is not on the staff"))["id"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str) -> serde_json::Value {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        answer.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_connects_matches_runs_a_list_evaluates_and_the_agent_sees_the_result() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    // No trickle of new activity: the preview and the run then see the same pool.
    let server = Server::run(dir.path(), &[], &["demo", "--tickets", "600", "--activity-per-minute", "0"]);
    let banner = Banner(server.banner.clone());
    let Some(browser) = Browser::start().await else { return };
    let client = &browser.client;
    viewport(client, 1366, 768).await;

    // The admin signs in and finds View Integrations in the Score menu.
    client.goto(&server.url("/")).await.unwrap();
    find(client, "input[name=email]").await;
    screenshot(client, "sign-in").await;
    sign_in_as(&browser, &server, ADMIN).await;
    assert!(text(client, "#home-empty").await.contains("connect HelpDesk"), "a fresh demo has no cases");
    screenshot(client, "home-before-connecting").await;
    let score_menu = "nav details.menu:has(a[href='/interactions/integrations']) summary";
    find(client, score_menu).await.click().await.unwrap();
    click(client, "nav a[href='/interactions/integrations']").await;
    screenshot(client, "integrations").await;
    let integration = connect_with_token(client, &banner.value("Account ID"), &banner.value("Token")).await;
    screenshot(client, "connected").await;

    // Manage Users: matching by email (done on connect) leaves the staff under other addresses.
    click(client, "#manage-users").await;
    let total = agent_rows(client).await.len() as u64;
    click(client, "#auto-match").await;
    assert!(!text(client, "#notice").await.is_empty(), "the outcome is reported");
    let matched = number(client, "#matched-count").await;
    let unmatched = number(client, "#unmatched-count").await;
    assert_eq!(matched + unmatched, total);
    assert!(matched * 3 >= total * 2, "most match by email: {matched} of {total}");
    let to_fix = suggested(client).await;
    assert!(to_fix.len() >= 2, "the demo leaves a few for their name suggestions: {to_fix:?}");
    let held_back_before = number(client, "#held-back-total").await;
    screenshot(client, "manage-users").await;
    // The first by hand, choosing the staff member from the list; the rest by their suggestion.
    let (by_hand, user) = &to_fix[0];
    let row = format!("tr[data-agent-id=\"{by_hand}\"]");
    find(client, &format!("{row} form.manual-match select[name=user_id]"))
        .await
        .select_by_value(user)
        .await
        .unwrap();
    find(client, &format!("{row} form.manual-match button.match")).await.click().await.unwrap();
    wait_matched(client, by_hand).await;
    for (agent, _) in &to_fix[1..] {
        let button = format!("tr[data-agent-id=\"{agent}\"] button.accept-suggestion");
        find(client, &button).await.click().await.unwrap();
        wait_matched(client, agent).await;
    }
    let fixed = to_fix.len() as u64;
    assert_eq!(number(client, "#matched-count").await, matched + fixed);
    assert_eq!(number(client, "#unmatched-count").await, unmatched - fixed);
    assert!(suggested(client).await.is_empty(), "every same-name suggestion is taken");
    let row = text(client, &format!("tr[data-agent-id=\"{by_hand}\"] .matched-user")).await;
    assert!(row.contains("matched by hand"), "{row}");
    // The summary follows each change in place; reloaded, it counts every case stored by now.
    client.refresh().await.unwrap();
    assert_eq!(number(client, "#matched-count").await, matched + fixed);
    assert!(number(client, "#held-back-total").await <= held_back_before);

    // The integration's page follows the backfill until it is live.
    client.goto(&server.url(&integration)).await.unwrap();
    let live = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("#sync-phase[data-phase=live]"))
        .await
        .unwrap();
    assert_eq!(live.text().await.unwrap().trim(), "Up to date");
    screenshot(client, "integration").await;
    let counts = text(client, "#case-counts").await;
    let stored: u64 = counts.split(' ').next().unwrap().parse().unwrap();
    assert!(stored > 50, "a week of 600 tickets over six weeks: {counts}");

    // The QA manager builds a random list of 5 per agent; the preview counts the pool meanwhile.
    sign_in_as(&browser, &server, &banner.value("QA manager")).await;
    client.goto(&server.url("/lists/new")).await.unwrap();
    fill(client, "#list-form [name=name]", "First sample").await;
    tick(find(client, "#list-form input[name=integration_ids]").await).await;
    assert!(find(client, "#list-form input[name=kind][value=random]").await.is_selected().await.unwrap());
    fill(client, "#list-form [name=count]", "5").await;
    assert!(find(client, "#list-form input[name=per][value=agent]").await.is_selected().await.unwrap());
    let admin = Api::sign_in(&server, ADMIN).await;
    for email in banner.values("evaluator") {
        let id = admin.user_id(&email).await;
        tick(find(client, &format!("#list-form input[name=evaluator_ids][value=\"{id}\"]")).await).await;
    }
    find(client, "#list-form select[name=scorecard_id]").await.select_by_index(1).await.unwrap();
    let (would_pick, agents) = settled_preview(client).await;
    assert!(agents > 0 && would_pick > 0, "the pool is shown per agent");
    assert!(would_pick <= 5 * agents, "at most 5 per agent: {would_pick}");
    screenshot(client, "list-preview").await;
    click(client, "#save-list").await;
    assert!(find(client, "#no-runs").await.is_displayed().await.unwrap());
    click(client, "#run-now").await;
    let picks = client.find_all(Locator::Css("#picks tbody tr")).await.unwrap();
    assert_eq!(picks.len() as u64, would_pick, "the run picks what the preview said");
    screenshot(client, "list-run").await;

    // An evaluator finds their share under My work and scores one beside its conversation.
    let evaluator = banner.value("evaluator");
    sign_in_as(&browser, &server, &evaluator).await;
    click(client, "a[href='/work']").await;
    let open = client.find_all(Locator::Css("#work tbody tr")).await.unwrap().len() as u64;
    assert!(open > 0 && open < would_pick, "one share of the picks between two evaluators: {open}");
    screenshot(client, "my-work").await;
    click(client, "#work .evaluate-case").await;
    click(client, "#start button[type=submit]").await;
    assert!(client.find(Locator::Css(".conversation-pane .conversation")).await.is_ok());
    // The best answer of every question: the first option of each.
    let mut questions = Vec::new();
    for radio in client.find_all(Locator::Css("#evaluate input[type=radio]")).await.unwrap() {
        let name = radio.attr("name").await.unwrap().unwrap();
        if !questions.contains(&name) {
            radio.click().await.unwrap();
            questions.push(name);
        }
    }
    assert!(questions.len() >= 3, "{questions:?}");
    screenshot(client, "evaluate").await;
    click(client, "#evaluate button[value=submit]").await;
    assert!(text(client, "#notice").await.contains("Evaluation submitted."));
    assert_eq!(text(client, "#score").await, "100.00");
    let evaluation = client.current_url().await.unwrap().path().to_owned();
    client.goto(&server.url("/work")).await.unwrap();
    let left = client.find_all(Locator::Css("#work tbody tr")).await.unwrap().len() as u64;
    assert_eq!(left, open - 1, "the scored case has left My work");

    // The agent of that case signs in and sees the evaluation and their results.
    let id = evaluation.trim_start_matches("/evaluations/");
    let agent = admin.get(&format!("/api/v1/evaluations/{id}")).await["agent_user_id"].clone();
    let agent = admin.get(&format!("/api/v1/users/{}", agent.as_str().unwrap())).await;
    sign_in_as(&browser, &server, agent["email"].as_str().unwrap()).await;
    client.goto(&server.url("/evaluations")).await.unwrap();
    let mine = client.find_all(Locator::Css("#evaluations tbody tr")).await.unwrap();
    assert_eq!(mine.len(), 1, "the agent's one evaluation");
    screenshot(client, "agent-evaluations").await;
    click(client, "#evaluations a").await;
    assert_eq!(text(client, "#score").await, "100.00");
    assert!(find(client, "#dispute").await.is_displayed().await.unwrap(), "the agent may dispute it");
    screenshot(client, "agent-evaluation").await;
    client.goto(&server.url("/results")).await.unwrap();
    let overall = text(client, "#results-overall").await;
    assert!(overall.starts_with("1 evaluation (0 N/A) 100.00 average score"), "{overall}");
    screenshot(client, "agent-results").await;
    browser.close().await;
    eprintln!("the walkthrough took {:?}", started.elapsed());
}
