use reqwest::StatusCode;
use scoreline_testkit::{TestBackend, TestDatabase, on_both_backends};
use serde_json::Value;

use crate::{KEY, Server, run_with_stdin, scoreline};

#[tokio::test]
async fn a_fresh_serve_needs_no_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let page = reqwest::get(server.url("/sign-in")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Sign in to Scoreline"));
    assert!(dir.path().join("data/scoreline.db").exists(), "embedded database created in ./data");
    assert!(dir.path().join("data/secret.key").exists(), "secret key generated beside it");
}

on_both_backends!(
    a_user_and_a_token_made_at_the_console_work_against_the_api,
    users_create_names_every_bad_flag,
    operators_rotate_passwords_and_tokens_at_the_console,
);

async fn a_user_and_a_token_made_at_the_console_work_against_the_api(backend: TestBackend) {
    let database = TestDatabase::fresh(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [("SCORELINE_DATABASE_URL", database.url.as_str()), ("SCORELINE_SECRET_KEY", KEY)];

    let mut create = scoreline(dir.path(), &env);
    create.args([
        "users",
        "create",
        "--email",
        "Ops@Example.com",
        "--name",
        "Ops",
        "--role",
        "global_admin",
        "--password-stdin",
    ]);
    let created = run_with_stdin(create, "a strong password\n");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("created ops@example.com"));

    let token = scoreline(dir.path(), &env)
        .args(["tokens", "create", "--email", "ops@example.com"])
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();

    let server = Server::start(dir.path(), &env);
    let me: Value = reqwest::Client::new()
        .get(server.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ops@example.com");
}

async fn users_create_names_every_bad_flag(backend: TestBackend) {
    let database = TestDatabase::fresh(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [("SCORELINE_DATABASE_URL", database.url.as_str()), ("SCORELINE_SECRET_KEY", KEY)];
    let mut bad = scoreline(dir.path(), &env);
    bad.args(["users", "create", "--email", "nope", "--name", "", "--role", "boss"]);
    let refused = run_with_stdin(bad, "");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("--email") && message.contains("--role") && message.contains("--name"),
        "{message}"
    );
}

/// `users set-password`, and `tokens create --expires-in-days`, `list` and `revoke`.
async fn operators_rotate_passwords_and_tokens_at_the_console(backend: TestBackend) {
    let database = TestDatabase::fresh(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [("SCORELINE_DATABASE_URL", database.url.as_str()), ("SCORELINE_SECRET_KEY", KEY)];
    let run = |args: &[&str]| {
        let output = scoreline(dir.path(), &env).args(args).output().unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (output.status.success(), text(&output.stdout), text(&output.stderr))
    };
    let mut create = scoreline(dir.path(), &env);
    create.args(["users", "create", "--email", "ops@example.com", "--name", "Ops", "--role", "employee"]);
    assert!(run_with_stdin(create, "").status.success());

    let mut short = scoreline(dir.path(), &env);
    short.args(["users", "set-password", "--email", "ops@example.com", "--password-stdin"]);
    let refused = run_with_stdin(short, "short\n");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--password"), "names the flag");
    let mut set = scoreline(dir.path(), &env);
    set.args(["users", "set-password", "--email", "ops@example.com", "--password-stdin"]);
    let set = run_with_stdin(set, "a new console password\n");
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));

    let (ok, first, _) = run(&[
        "tokens",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "nightly",
        "--expires-in-days",
        "7",
    ]);
    assert!(ok);
    let (ok, second, _) = run(&["tokens", "create", "--email", "ops@example.com", "--name", "adhoc"]);
    assert!(ok);
    let (ok, _, refused) = run(&["tokens", "create", "--email", "ops@example.com", "--expires-in-days", "0"]);
    assert!(!ok && refused.contains("--expires-in-days"), "{refused}");
    let (ok, listed, _) = run(&["tokens", "list", "--email", "ops@example.com"]);
    assert!(ok);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].contains("nightly") && !lines[0].contains("expires never"), "{listed}");
    assert!(lines[1].contains("adhoc") && lines[1].contains("expires never"), "{listed}");
    assert!(!listed.contains(first.trim()) && !listed.contains(second.trim()), "a secret was listed");

    let (ok, _, refused) = run(&["tokens", "revoke", "--email", "ops@example.com"]);
    assert!(!ok && refused.contains("--id") && refused.contains("--all"), "{refused}");
    let nightly_id = lines[0].split_whitespace().next().unwrap();
    let (ok, _, _) = run(&["tokens", "revoke", "--email", "ops@example.com", "--id", nightly_id]);
    assert!(ok);
    let (ok, _, again) = run(&["tokens", "revoke", "--email", "ops@example.com", "--id", nightly_id]);
    assert!(!ok && again.contains("no live token"), "{again}");

    let server = Server::start(dir.path(), &env);
    let me = |token: String| {
        let url = server.url("/api/v1/me");
        async move { reqwest::Client::new().get(url).bearer_auth(token.trim()).send().await.unwrap().status() }
    };
    assert_eq!(me(first.clone()).await, StatusCode::UNAUTHORIZED, "the revoked token");
    assert_eq!(me(second.clone()).await, StatusCode::OK);
    let (ok, said, _) = run(&["tokens", "revoke", "--email", "ops@example.com", "--all"]);
    assert!(ok && said.contains("revoked 1 token"), "{said}");
    assert_eq!(me(second).await, StatusCode::UNAUTHORIZED);
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(server.url("/sign-in"))
        .form(&[("email", "ops@example.com"), ("password", "a new console password"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "the password set at the console signs in");
}

#[test]
fn bad_configuration_is_explained_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = scoreline(dir.path(), &[("SCORELINE_DATABASE_URL", "mysql://localhost/x")])
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("sqlite://"));

    std::fs::write(dir.path().join("scoreline.toml"), "listen = \"not an address\"\n").unwrap();
    let output = scoreline(dir.path(), &[]).arg("migrate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("listen"));
}

#[test]
#[cfg(not(feature = "demo"))]
fn a_build_without_the_demo_feature_has_no_demo_command() {
    let dir = tempfile::tempdir().unwrap();
    let output = scoreline(dir.path(), &[]).arg("demo").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unrecognized subcommand"));
}

#[tokio::test]
#[cfg(feature = "demo")]
async fn the_demo_seeds_a_qa_team_sets_up_lists_once_connected_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Server::run(dir.path(), &[], &["demo", "--tickets", "50"]);
    let banner = demo.banner.join("\n");
    let value_of = |label: &str| {
        demo.banner
            .iter()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("{label} missing from {banner}"))
    };
    let (account_id, token) = (value_of("Account ID"), value_of("Token"));
    assert!(banner.contains("started a fresh demo"), "{banner}");
    for role in ["admin", "QA manager", "evaluator", "team lead", "agent"] {
        assert!(demo.banner.iter().any(|line| line.trim().starts_with(role)), "{role} missing from {banner}");
    }
    assert!(dir.path().join("data/demo.db").exists(), "demo data is kept apart from data/scoreline.db");

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let sign_in = async |email: &str| demo.sign_in(&http, email, "scoreline-demo").await;
    let manager = sign_in(&value_of("QA manager")).await;
    let evaluator = sign_in(&value_of("evaluator")).await;
    let get = async |cookie: &str, path: &str| -> serde_json::Value {
        let answer = http.get(demo.url(path)).header("cookie", cookie).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        answer.json().await.unwrap()
    };
    let cards = get(&manager, "/api/v1/scorecards").await;
    assert!(
        cards["items"].as_array().unwrap().iter().any(|card| card["latest_version"] == 1),
        "a published scorecard: {cards}"
    );
    let admin = sign_in("admin@scoreline.demo").await;
    let connected = http
        .post(demo.url("/api/v1/integrations"))
        .header("cookie", &admin)
        .json(&serde_json::json!({
            "kind": "helpdesk", "label": "Demo HelpDesk",
            "auth": { "method": "token", "account_id": account_id, "token": token },
            "retention": { "value": 3, "unit": "months" }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), StatusCode::CREATED, "{}", connected.text().await.unwrap());
    let integration: serde_json::Value = connected.json().await.unwrap();
    let agents_path =
        format!("/api/v1/integrations/{}/agents?limit=500", integration["id"].as_str().unwrap());

    // Matching by email (on connect) and the lists (made by the demo in the background) follow.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (lists, agents) = loop {
        let lists = get(&manager, "/api/v1/lists").await;
        let agents = get(&admin, &agents_path).await;
        let matched =
            agents["items"].as_array().unwrap().iter().filter(|a| !a["matched_user"].is_null()).count();
        if lists["items"].as_array().unwrap().len() == 2 && matched > 0 {
            break (lists, agents);
        }
        assert!(std::time::Instant::now() < deadline, "no lists or matches after 30 s: {lists} {agents}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let agents = agents["items"].as_array().unwrap();
    let matched = agents.iter().filter(|agent| !agent["matched_user"].is_null()).count();
    assert!(matched * 3 >= agents.len() * 2, "most agents match by email: {matched} of {}", agents.len());
    assert!(matched < agents.len(), "some are left for Manage Users");
    let weekly = &lists["items"][0];
    assert_eq!(weekly["per"], "agent", "{weekly}");
    assert_eq!(weekly["evaluators"].as_array().unwrap().len(), 2, "{weekly}");
    let work = get(&evaluator, "/api/v1/assignments").await;
    assert!(work["items"].as_array().unwrap().is_empty(), "nothing assigned before a run: {work}");
    drop(demo);

    let resumed = Server::run(dir.path(), &[], &["demo", "--tickets", "50"]);
    let banner = resumed.banner.join("\n");
    assert!(banner.contains("resumed the demo") && banner.contains("--fresh"), "{banner}");
    assert!(banner.contains("QA manager"), "{banner}");
    drop(resumed);
    let fresh = Server::run(dir.path(), &[], &["demo", "--tickets", "50", "--fresh"]);
    assert!(fresh.banner.join("\n").contains("started a fresh demo"), "{:?}", fresh.banner);
}

#[tokio::test]
async fn metrics_move_to_their_own_address_behind_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("metrics-token");
    std::fs::write(&token_file, "scrape-me-with-this-token\n").unwrap();
    // A free port for the metrics listener (the server's own port is chosen with :0).
    let metrics_address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("SCORELINE_METRICS_LISTEN", &metrics_address.to_string()),
            ("SCORELINE_METRICS_TOKEN_FILE", token_file.to_str().unwrap()),
            ("SCORELINE_PUBLIC_URL", "https://qa.example.com"),
        ],
    );
    let page = reqwest::get(server.url("/sign-in")).await.unwrap();
    assert_eq!(page.headers()["strict-transport-security"], "max-age=31536000");
    assert_eq!(reqwest::get(server.url("/metrics")).await.unwrap().status(), StatusCode::NOT_FOUND);

    let metrics = format!("http://{metrics_address}/metrics");
    assert_eq!(reqwest::get(&metrics).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let scraped =
        reqwest::Client::new().get(&metrics).bearer_auth("scrape-me-with-this-token").send().await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(scraped.text().await.unwrap().contains("scoreline_http_requests_total"));
}
