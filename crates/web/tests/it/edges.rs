//! The edges of the HTTP surface: refusals in the error shape, request time limits, HSTS and
//! who may read `/metrics`.

use std::time::Duration;

use reqwest::StatusCode;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

on_both_backends!(
    api_refusals_come_in_the_error_shape,
    an_oversized_body_is_refused_before_it_is_read,
    a_stalled_request_is_closed,
    hsts_only_with_an_https_public_url,
    metrics_can_require_a_token_and_move_away,
    the_role_is_checked_before_the_input,
    a_body_of_the_wrong_json_type_is_refused,
    the_openapi_document_says_what_the_server_does,
);

/// The error shape, with the request id of the response.
fn assert_error_shape(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["request_id"].as_str().is_some_and(|id| id.len() > 8), "{body}");
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert!(
        response.headers()["content-type"].to_str().unwrap().starts_with("application/json"),
        "{status} is not JSON"
    );
    (status, response.json().await.unwrap())
}

async fn api_refusals_come_in_the_error_shape(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, session) = test.signed_in("global_admin").await;
    let (_, token) = test.api_user("global_admin").await;
    let http = TestApp::http();

    // A form on another site posting with the admin's cookie.
    let forged = http
        .post(test.url("/api/v1/groups"))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "name": "Forged" }))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(forged).await;
    assert_error_shape(status, &body, StatusCode::FORBIDDEN, "cross_site_refused");
    assert!(test.all_items(&token, "/api/v1/groups").await.is_empty(), "nothing was created");
    // Pages keep their HTML error page.
    let page = http
        .post(test.url("/groups"))
        .header("cookie", &session)
        .header("sec-fetch-site", "cross-site")
        .form(&[("name", "Forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));

    let wrong_method = http.delete(test.url("/api/v1/groups")).bearer_auth(&token).send().await.unwrap();
    let allow = wrong_method.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = json_of(wrong_method).await;
    assert_error_shape(status, &body, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let allow = allow.expect("an Allow header");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    let unknown = http.get(test.url("/api/v1/no-such-thing")).bearer_auth(&token).send().await.unwrap();
    let (status, body) = json_of(unknown).await;
    assert_error_shape(status, &body, StatusCode::NOT_FOUND, "not_found");

    let not_json = http
        .post(test.url("/api/v1/groups"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("name=EMEA")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(not_json).await;
    assert_error_shape(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let broken = http
        .post(test.url("/api/v1/groups"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(broken).await;
    assert_error_shape(status, &body, StatusCode::BAD_REQUEST, "bad_request");
}

/// Sends `head` and whatever of the body is given, and reads what the server answers until it
/// closes the connection (or 10 s pass, which fails the test).
async fn raw_exchange(test: &TestApp, head: &str, body: &[u8]) -> String {
    let address = test.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before it takes all of the body: that is the point.
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the connection open; it answered {:?}",
        String::from_utf8_lossy(&answer)
    );
    String::from_utf8_lossy(&answer).into_owned()
}

async fn an_oversized_body_is_refused_before_it_is_read(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, token) = test.api_user("global_admin").await;
    let length = 2 * 1024 * 1024 + 1;
    let head = format!(
        "POST /api/v1/groups HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    // Only the start of the body: the length alone is enough to refuse it.
    let answer = raw_exchange(&test, &head, b"{\"name\": \"").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(body.contains("\"code\":\"payload_too_large\"") && body.contains("request_id"), "{answer}");
}

async fn a_stalled_request_is_closed(backend: TestBackend) {
    let test = TestApp::with_web(backend, |web| {
        web.limits.header_read = Duration::from_millis(300);
        web.limits.body_read = Duration::from_millis(300);
    })
    .await;
    let (_, token) = test.api_user("global_admin").await;

    // Headers that never end: the connection is closed without an answer.
    let answer = raw_exchange(&test, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", b"").await;
    assert!(!answer.contains("200 OK"), "{answer}");

    // A body that stops halfway: 408 in the error shape, and nothing is created.
    let head = format!(
        "POST /api/v1/groups HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    let answer = raw_exchange(&test, &head, b"{\"name\": \"Half").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(test.all_items(&token, "/api/v1/groups").await.is_empty());

    // A prompt client is unaffected.
    let healthy = reqwest::get(test.url("/healthz")).await.unwrap();
    assert_eq!(healthy.status(), StatusCode::OK);
}

async fn hsts_only_with_an_https_public_url(backend: TestBackend) {
    let plain = TestApp::spawn(backend).await;
    for path in ["/healthz", "/sign-in", "/api/v1/openapi.json"] {
        let response = reqwest::get(plain.url(path)).await.unwrap();
        assert!(response.headers().get("strict-transport-security").is_none(), "{path}");
    }
    let https = TestApp::with_web(backend, |web| web.hsts = true).await;
    let (_, token) = https.api_user("employee").await;
    for response in [
        reqwest::get(https.url("/sign-in")).await.unwrap(),
        TestApp::http().get(https.url("/api/v1/users")).bearer_auth(&token).send().await.unwrap(),
        reqwest::get(https.url("/api/v1/no-such-thing")).await.unwrap(),
    ] {
        let hsts =
            response.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(hsts.as_deref(), Some("max-age=31536000"), "{}", response.url());
    }
}

async fn metrics_can_require_a_token_and_move_away(backend: TestBackend) {
    const TOKEN: &str = "a-metrics-token-for-the-scraper";
    let test = TestApp::with_web(backend, |web| web.metrics.token = Some(TOKEN.to_owned().into())).await;
    let http = TestApp::http();
    let (_, api_token) = test.api_user("global_admin").await;
    for refused in [
        http.get(test.url("/metrics")).send().await.unwrap(),
        http.get(test.url("/metrics")).bearer_auth("a-metrics-token-for-the-scrapeR").send().await.unwrap(),
        http.get(test.url("/metrics")).bearer_auth(&api_token).send().await.unwrap(),
    ] {
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(refused.headers()["www-authenticate"], "Bearer");
        let text = refused.text().await.unwrap();
        assert!(!text.contains("scoreline_http_requests_total") && !text.contains(TOKEN), "{text}");
    }
    let scraped = http.get(test.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(scraped.text().await.unwrap().contains("scoreline_http_requests_total"));

    // With a listener of its own, the public address does not serve it at all.
    let moved = TestApp::with_web(backend, |web| web.metrics.separate_listener = true).await;
    let answer = http.get(moved.url("/metrics")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let router = scoreline_web::metrics_router(moved.app.clone(), scoreline_web::WebConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(scoreline_web::serve(listener, router, Duration::from_secs(5), std::future::pending()));
    let scraped = reqwest::get(format!("http://{address}/metrics")).await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    let elsewhere = reqwest::get(format!("http://{address}/api/v1/users")).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}

async fn the_role_is_checked_before_the_input(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (employee, token) = test.api_user("employee").await;
    let bogus = "not-an-id";
    let cases: [(reqwest::Method, String, Option<Value>); 8] = [
        (reqwest::Method::GET, "/api/v1/groups?limit=0".into(), None),
        (reqwest::Method::GET, "/api/v1/users?cursor=garbage".into(), None),
        (reqwest::Method::POST, "/api/v1/groups".into(), Some(json!([]))),
        (reqwest::Method::POST, "/api/v1/teams".into(), Some(json!({ "name": 7, "extra": true }))),
        (reqwest::Method::PATCH, format!("/api/v1/users/{bogus}"), Some(json!({ "role": "nobody" }))),
        (reqwest::Method::PATCH, format!("/api/v1/users/{}", employee.id), Some(json!({ "active": "no" }))),
        (reqwest::Method::GET, format!("/api/v1/integrations/{bogus}"), None),
        (reqwest::Method::DELETE, format!("/api/v1/integrations/{bogus}?cases=some"), None),
    ];
    for (method, path, body) in cases {
        let (status, answer) = test.call(&token, method.clone(), &path, body.as_ref()).await;
        assert_error_shape(status, &answer, StatusCode::FORBIDDEN, "forbidden");
        assert!(answer.get("fields").is_none(), "{method} {path}: {answer}");
    }
    // Someone with the role gets the input errors.
    let (_, admin) = test.api_user("global_admin").await;
    let (status, answer) = test.call(&admin, reqwest::Method::GET, "/api/v1/groups?limit=0", None).await;
    assert_error_shape(status, &answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert_eq!(answer["fields"][0]["field"], "limit");
}

async fn a_body_of_the_wrong_json_type_is_refused(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let user = test.new_person("employee").await;
    for body in [json!([]), json!("name"), json!(7), json!(null), json!([{ "name": "x" }])] {
        let path = format!("/api/v1/users/{}", user.id);
        let (status, answer) = test.call(&admin, reqwest::Method::PATCH, &path, Some(&body)).await;
        assert_error_shape(status, &answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert_eq!(answer["fields"][0]["field"], "body", "{body}: {answer}");
        let (status, _) = test.call(&admin, reqwest::Method::POST, "/api/v1/groups", Some(&body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    assert!(test.all_items(&admin, "/api/v1/groups").await.is_empty());
    let (status, answer) = test.call(&admin, reqwest::Method::POST, "/api/v1/groups", Some(&json!({}))).await;
    assert_error_shape(status, &answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert_eq!(answer["fields"][0]["field"], "name", "{answer}");
}

async fn the_openapi_document_says_what_the_server_does(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let doc: Value = reqwest::get(test.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    let required = |schema: &str| -> Vec<String> {
        schemas[schema]["required"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    for (schema, fields) in [
        ("NewGroupBody", &["name"][..]),
        ("NewTeamBody", &["group_id", "name"]),
        ("NewUserBody", &["email", "name", "role"]),
        ("NewIntegrationBody", &["kind", "label", "auth"]),
        ("AuthBody", &["method"]),
        ("MemberBody", &["user_id"]),
        ("ImportBody", &["csv"]),
        ("Error", &["code", "message", "request_id"]),
    ] {
        for field in fields {
            assert!(
                required(schema).contains(&field.to_string()),
                "{schema}.{field} is not required: {}",
                schemas[schema]
            );
        }
    }
    assert!(!required("NewUserBody").contains(&"password".to_owned()));

    // Connecting answers an integration (token) or the OAuth start, and says so.
    let created = &doc["paths"]["/api/v1/integrations"]["post"]["responses"]["201"];
    let reference = created["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
    let variants = &schemas[reference.rsplit('/').next().unwrap()]["oneOf"];
    let names: Vec<&str> = variants.as_array().unwrap().iter().map(|v| v["$ref"].as_str().unwrap()).collect();
    assert_eq!(names, ["#/components/schemas/IntegrationView", "#/components/schemas/OAuthStarted"]);

    // Every error response has the error schema; every operation documents 401.
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(doc["security"], json!([{ "bearer": [] }]));
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("401") && responses.contains_key("default"), "{method} {path}");
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path} lacks {status}");
                }
            }
            for (status, response) in responses {
                if status == "default" || status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/Error", "{method} {path} {status}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked}");
}
