//! Sign-in over HTTP from real client addresses, API tokens and passwords through the API, and
//! the reset page.

use std::net::{IpAddr, Ipv4Addr};

use reqwest::{Method, StatusCode};
use scoreline_testkit::{PASSWORD, TestApp, TestBackend, on_both_backends};
use serde_json::json;

on_both_backends!(
    concurrent_guesses_lock_their_address_but_not_the_owner,
    tokens_are_created_listed_and_revoked_through_the_api,
    a_password_change_ends_the_other_sessions,
    an_admins_reset_link_sets_a_password_once,
    the_staff_page_hands_out_a_reset_link_once,
);

/// A client whose connections come from `127.0.0.n`: the server sees that address.
fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .build()
        .unwrap()
}

async fn post_sign_in(
    test: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> (StatusCode, bool, String) {
    let response = client
        .post(test.url("/sign-in"))
        .form(&[("email", email), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .is_some_and(|v| v.to_str().unwrap().starts_with("scoreline_session="));
    (response.status(), cookie, response.text().await.unwrap())
}

async fn concurrent_guesses_lock_their_address_but_not_the_owner(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let user = test.new_person("employee").await;
    let attacker = client_from(2);
    let guesses = (0..30).map(|i| {
        let (client, url, email) = (attacker.clone(), test.url("/sign-in"), user.email.clone());
        tokio::spawn(async move {
            let password = format!("guess number {i}");
            let form = [("email", email.as_str()), ("password", password.as_str()), ("next", "/")];
            client.post(url).form(&form).send().await.unwrap().status()
        })
    });
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert_eq!(checked, 5, "only the limit's worth were checked: {statuses:?}");
    assert!(statuses.iter().all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s)));

    let (status, signed_in, page) = post_sign_in(&test, &attacker, &user.email, PASSWORD).await;
    assert_eq!((status, signed_in), (StatusCode::TOO_MANY_REQUESTS, false), "the pair is locked");
    assert!(page.contains("Too many failed attempts. Try again in 15 minutes."), "{page}");

    let owner = client_from(3);
    let (status, signed_in, _) =
        post_sign_in(&test, &owner, &format!(" {} ", user.email.to_uppercase()), PASSWORD).await;
    assert_eq!(
        (status, signed_in),
        (StatusCode::SEE_OTHER, true),
        "the owner signs in from their own address"
    );
}

async fn tokens_are_created_listed_and_revoked_through_the_api(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (user, cookie) = test.signed_in("supervisor").await;

    let (status, bad) = test
        .call(&cookie, Method::POST, "/api/v1/me/tokens", Some(&json!({"name": "", "expires_in_days": 0})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let fields: Vec<_> =
        bad["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "expires_in_days"]);

    let body = json!({"name": "weekly report", "expires_in_days": 30});
    let (status, created) = test.call(&cookie, Method::POST, "/api/v1/me/tokens", Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(created["expires_at"].is_string() && created["expired"] == false, "{created}");

    let (status, me) = test.call(&token, Method::GET, "/api/v1/me", None).await;
    assert_eq!((status, me["email"].as_str()), (StatusCode::OK, Some(user.email.as_str())));
    let listed = test.all_items(&token, "/api/v1/me/tokens").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "weekly report");
    assert!(listed[0]["last_used_at"].is_string(), "the use just made is recorded: {}", listed[0]);
    assert!(listed[0].get("token").is_none(), "a listed token shows no secret: {}", listed[0]);

    let id = listed[0]["id"].as_str().unwrap();
    let (status, _) = test.call(&cookie, Method::DELETE, &format!("/api/v1/me/tokens/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = test.call(&token, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
    let (status, again) = test.call(&cookie, Method::DELETE, &format!("/api/v1/me/tokens/{id}"), None).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));

    // Admins list and revoke the tokens of people they manage; others may not.
    let (admin, _) = test.api_user("global_admin").await;
    let admin_token =
        test.app.create_api_token(&scoreline_app::Actor::System, &admin.email, "admin").await.unwrap();
    let admin_token = admin_token.token.expose().to_owned();
    let (_, created) =
        test.call(&cookie, Method::POST, "/api/v1/me/tokens", Some(&json!({"name": "second"}))).await;
    let listed = test.all_items(&admin_token, &format!("/api/v1/users/{}/tokens", user.id)).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0]["expires_at"].is_null());
    let path = format!("/api/v1/users/{}/tokens/{}", user.id, listed[0]["id"].as_str().unwrap());
    let (status, _) = test.call(&admin_token, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = test.call(created["token"].as_str().unwrap(), Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        test.call(&cookie, Method::GET, &format!("/api/v1/users/{}/tokens", admin.id), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn a_password_change_ends_the_other_sessions(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let user = test.new_person("employee").await;
    let here = test.sign_in(&user.email, PASSWORD).await;
    let elsewhere = test.sign_in(&user.email, PASSWORD).await;

    let wrong = json!({"current_password": "not my password", "new_password": "a brand new passphrase"});
    let (status, refused) = test.call(&here, Method::POST, "/api/v1/me/password", Some(&wrong)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["fields"][0]["field"], "current_password");

    let change = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"});
    let (status, _) = test.call(&here, Method::POST, "/api/v1/me/password", Some(&change)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(test.call(&here, Method::GET, "/api/v1/me", None).await.0, StatusCode::OK);
    assert_eq!(test.call(&elsewhere, Method::GET, "/api/v1/me", None).await.0, StatusCode::UNAUTHORIZED);
    test.sign_in(&user.email, "a brand new passphrase").await;

    // The same through the form on the account page, which says so once.
    let form = [
        ("current_password", "a brand new passphrase"),
        ("new_password", "yet another passphrase"),
        ("confirm_password", "yet another typo"),
    ];
    let refused = test.submit(&here, "/account/password", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("id=\"password-confirm_password-error\""), "{}", refused.text);
    let form = [
        ("current_password", "a brand new passphrase"),
        ("new_password", "yet another passphrase"),
        ("confirm_password", "yet another passphrase"),
    ];
    let changed = test.submit(&here, "/account/password", &form).await;
    assert_eq!((changed.status, changed.location.as_deref()), (StatusCode::SEE_OTHER, Some("/account")));
}

async fn an_admins_reset_link_sets_a_password_once(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let user = test.new_person("employee").await;
    let session = test.sign_in(&user.email, PASSWORD).await;

    let (status, employee_try) =
        test.call(&session, Method::POST, &format!("/api/v1/users/{}/password-reset", user.id), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{employee_try}");
    let (status, link) =
        test.call(&admin, Method::POST, &format!("/api/v1/users/{}/password-reset", user.id), None).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap();
    let path = url.strip_prefix(&test.base_url).expect("an absolute link to this server").to_owned();
    assert!(path.starts_with("/reset-password/slr_"), "{path}");

    let page = test.page("", &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(&user.email), "the page names whose password it sets");
    let typo = test
        .submit("", &path, &[("new_password", "a brand new passphrase"), ("confirm_password", "other")])
        .await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);
    let set = test
        .submit(
            "",
            &path,
            &[("new_password", "a brand new passphrase"), ("confirm_password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(
        (set.status, set.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/sign-in")),
        "{}",
        set.text
    );
    assert_eq!(test.call(&session, Method::GET, "/api/v1/me", None).await.0, StatusCode::UNAUTHORIZED);
    test.sign_in(&user.email, "a brand new passphrase").await;

    let used = test.page("", &path).await;
    assert_eq!(used.status, StatusCode::NOT_FOUND);
    assert!(used.text.contains("id=\"reset-unavailable\""), "{}", used.text);
    let again = test
        .submit(
            "",
            &path,
            &[("new_password", "third passphrase!"), ("confirm_password", "third passphrase!")],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "a used link sets nothing");
}

#[tokio::test]
async fn the_openapi_document_describes_the_credential_routes() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let doc: serde_json::Value =
        reqwest::get(test.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method, statuses) in [
        ("/api/v1/me/tokens", "get", &["200", "401", "422"][..]),
        ("/api/v1/me/tokens", "post", &["201", "401", "422"]),
        ("/api/v1/me/tokens/{id}", "delete", &["204", "401", "404"]),
        ("/api/v1/me/password", "post", &["204", "401", "422", "429"]),
        ("/api/v1/users/{id}/tokens", "get", &["200", "401", "403", "404"]),
        ("/api/v1/users/{id}/tokens/{token_id}", "delete", &["204", "401", "403", "404"]),
        ("/api/v1/users/{id}/password-reset", "post", &["201", "401", "403", "404", "422"]),
    ] {
        let responses =
            paths[path][method]["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}"));
        let mut listed: Vec<&str> = responses.keys().map(String::as_str).collect();
        listed.sort_unstable();
        assert_eq!(listed, statuses, "{method} {path}");
    }
    let issued = serde_json::to_string(&doc["components"]["schemas"]["IssuedTokenView"]).unwrap();
    for field in ["\"token\"", "TokenView"] {
        assert!(issued.contains(field), "{field} missing from {issued}");
    }
}

async fn the_staff_page_hands_out_a_reset_link_once(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.signed_in("global_admin").await;
    let user = test.new_person("employee").await;
    let page = test.page(&admin, "/users").await;
    assert!(page.text.contains(&format!("action=\"/users/{}/password-reset\"", user.id)), "{}", page.text);

    let shown = test.submit(&admin, &format!("/users/{}/password-reset", user.id), &[]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    let start = shown.text.find(&format!("{}/reset-password/", test.base_url)).expect("the link on the page");
    let url = shown.text[start..].split('<').next().unwrap();
    let path = url.strip_prefix(&test.base_url).unwrap();
    assert_eq!(test.page("", path).await.status, StatusCode::OK, "the link works");
    let again = test.page(&admin, "/users").await;
    assert!(!again.text.contains(path), "the link is shown only once");

    let (_, supervisor) = test.signed_in("supervisor").await;
    let refused = test.submit(&supervisor, &format!("/users/{}/password-reset", user.id), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
