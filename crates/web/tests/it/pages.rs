use reqwest::StatusCode;
use scoreline_testkit::{TestApp, TestBackend};

const PASSWORD: &str = "a long enough password";

async fn sign_in(test: &TestApp, email: &str, password: &str) -> reqwest::Response {
    TestApp::http()
        .post(test.url("/sign-in"))
        .form(&[("email", email), ("password", password), ("next", "/interactions/integrations")])
        .send()
        .await
        .unwrap()
}

/// Follows a form post's redirect as a browser would, with the session `cookie` and the flash
/// cookie the answer set; returns where it led and that page.
pub async fn follow(test: &TestApp, cookie: &str, answer: reqwest::Response) -> (String, String) {
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let flash = flash_cookie(&answer);
    assert!(!location.contains('?'), "the message rides in a cookie, not the URL: {location}");
    let page = TestApp::http()
        .get(test.url(&location))
        .header("cookie", format!("{cookie}; {flash}"))
        .send()
        .await
        .unwrap();
    (location, page.text().await.unwrap())
}

/// The `name=value` of the flash cookie a response set.
pub fn flash_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next())
        .find(|pair| pair.starts_with("scoreline_flash=") && pair.len() > "scoreline_flash=".len())
        .expect("a flash message")
        .to_owned()
}

fn session_cookie(response: &reqwest::Response) -> String {
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn sign_in_sets_a_session_cookie_and_follows_next() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    test.create_user("admin@example.com", "global_admin", Some(PASSWORD)).await;

    let wrong = sign_in(&test, "admin@example.com", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("do not match"));

    let ok = sign_in(&test, "admin@example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/interactions/integrations");
    let cookie = session_cookie(&ok);
    let page = TestApp::http()
        .get(test.url("/interactions/integrations"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("View Integrations") && html.contains("HelpDesk"));
}

#[tokio::test]
async fn pages_need_a_session_and_the_right_role() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let anonymous = TestApp::http().get(test.url("/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()["location"], "/sign-in?next=%2Fusers");

    test.create_user("emp@example.com", "employee", Some(PASSWORD)).await;
    let cookie = session_cookie(&sign_in(&test, "emp@example.com", PASSWORD).await);
    for path in ["/interactions/integrations", "/users"] {
        let page = TestApp::http().get(test.url(path)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(page.text().await.unwrap().contains("Request id"));
    }
}

#[tokio::test]
async fn cross_site_form_posts_are_refused_and_headers_are_strict() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let forged = TestApp::http()
        .post(test.url("/sign-in"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", "a@b.co"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let page = TestApp::http().get(test.url("/sign-in")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    let htmx = reqwest::get(test.url("/static/htmx-2.0.11.min.js")).await.unwrap();
    assert_eq!(htmx.status(), StatusCode::OK);
}

#[tokio::test]
async fn staff_page_creates_users_and_reports_field_errors() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    test.create_user("admin@example.com", "global_admin", Some(PASSWORD)).await;
    let cookie = session_cookie(&sign_in(&test, "admin@example.com", PASSWORD).await);
    let post = |form: [(&'static str, &'static str); 4]| {
        TestApp::http().post(test.url("/users")).header("cookie", cookie.clone()).form(&form).send()
    };
    let bad =
        post([("name", "Zed"), ("email", "nope"), ("role", "employee"), ("password", "")]).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("Enter an email address") && html.contains("value=\"Zed\""),
        "form keeps what was typed"
    );

    let good =
        post([("name", "Zed Agent"), ("email", "zed@example.com"), ("role", "employee"), ("password", "")])
            .await
            .unwrap();
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let list = TestApp::http()
        .get(test.url("/users"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("zed@example.com"));
}
