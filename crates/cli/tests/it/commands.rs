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
async fn the_demo_serves_a_simulated_helpdesk_and_an_admin_login() {
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
    let (account_id, token) = (value_of("Account ID:"), value_of("Token:"));
    assert!(banner.contains("admin@scoreline.demo") && banner.contains("scoreline-demo"), "{banner}");
    assert!(dir.path().join("data/demo.db").exists(), "demo data is kept apart from data/scoreline.db");

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed_in = http
        .post(demo.url("/sign-in"))
        .form(&[("email", "admin@scoreline.demo"), ("password", "scoreline-demo"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let connected = http
        .post(demo.url("/api/v1/integrations"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({
            "kind": "helpdesk", "label": "Demo HelpDesk",
            "auth": { "method": "token", "account_id": account_id, "token": token },
            "retention": { "value": 3, "unit": "months" }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), StatusCode::CREATED, "{}", connected.text().await.unwrap());
}
