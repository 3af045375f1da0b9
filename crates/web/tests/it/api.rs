use reqwest::StatusCode;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    admins_manage_staff_groups_and_teams,
    bad_input_gets_field_errors_never_a_500,
    employees_are_refused_admin_routes,
);

async fn admins_manage_staff_groups_and_teams(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, token) = test.api_user("global_admin").await;
    let http = TestApp::http();

    let group: Value = http
        .post(test.url("/api/v1/groups"))
        .bearer_auth(&token)
        .json(&json!({ "name": "EMEA" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let team = http
        .post(test.url("/api/v1/teams"))
        .bearer_auth(&token)
        .json(&json!({ "group_id": group["id"], "name": "Billing" }))
        .send()
        .await
        .unwrap();
    assert_eq!(team.status(), StatusCode::CREATED);
    let team: Value = team.json().await.unwrap();

    for n in 0..3 {
        let created = http
            .post(test.url("/api/v1/users"))
            .bearer_auth(&token)
            .json(&json!({ "email": format!("Agent{n}@Example.com"), "name": format!("Agent {n}"), "role": "employee", "team_ids": [team["id"]] }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
        let body: Value = created.json().await.unwrap();
        assert_eq!(body["email"], format!("agent{n}@example.com"));
        assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    }

    // Cursor paging walks everyone exactly once.
    let mut emails = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = http.get(test.url("/api/v1/users")).bearer_auth(&token).query(&[("limit", "2")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        emails.extend(
            page["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(emails.len(), 4, "{emails:?}");

    let teams: Value =
        http.get(test.url("/api/v1/teams")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(teams["items"][0]["member_count"], 3);
    let me: Value =
        http.get(test.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "global_admin");
}

async fn bad_input_gets_field_errors_never_a_500(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, token) = test.api_user("global_admin").await;
    let http = TestApp::http();
    let post = |path: &'static str, body: String| {
        http.post(test.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let response = post("/api/v1/users", "{}".into()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_input");
    assert_eq!(body["request_id"], request_id);
    let fields: Vec<&str> =
        body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "name", "role"]);

    let cases: [(&str, &str, StatusCode, &str); 7] = [
        (
            "/api/v1/users",
            r#"{"email": 5, "name": "x", "role": "employee"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            "/api/v1/users",
            r#"{"email": "a@b.co", "name": "x", "role": "employee", "admin": true}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "admin",
        ),
        (
            "/api/v1/users",
            r#"{"email": "a@b.co", "name": "x", "role": "employee", "password": "short"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        ("/api/v1/users", r#"{"email": "#, StatusCode::BAD_REQUEST, ""),
        ("/api/v1/groups", r#"{"name": ""}"#, StatusCode::UNPROCESSABLE_ENTITY, "name"),
        (
            "/api/v1/teams",
            r#"{"group_id": "not-a-uuid", "name": "T"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "group_id",
        ),
        (
            "/api/v1/teams",
            r#"{"group_id": "0191f0e4-0000-7000-8000-000000000000", "name": "T"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "group_id",
        ),
    ];
    for (path, body, status, field) in cases {
        let response = post(path, body.to_owned()).await.unwrap();
        assert_eq!(response.status(), status, "{path} {body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
        if !field.is_empty() {
            assert_eq!(error["fields"][0]["field"], field, "{path} {body}: {error}");
        }
    }

    for query in ["limit=0", "limit=501", "limit=abc", "cursor=garbage"] {
        let response =
            http.get(test.url(&format!("/api/v1/users?{query}"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }

    let no_json =
        http.post(test.url("/api/v1/groups")).bearer_auth(&token).body("name=x").send().await.unwrap();
    assert_eq!(no_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let duplicate = post("/api/v1/groups", r#"{"name": "Same"}"#.into()).await.unwrap();
    assert_eq!(duplicate.status(), StatusCode::CREATED);
    let duplicate = post("/api/v1/groups", r#"{"name": "Same"}"#.into()).await.unwrap();
    assert_eq!(duplicate.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn employees_are_refused_admin_routes(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, token) = test.api_user("employee").await;
    let http = TestApp::http();
    for path in ["/api/v1/users", "/api/v1/groups", "/api/v1/teams"] {
        let listed = http.get(test.url(path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(listed.status(), StatusCode::FORBIDDEN, "GET {path}");
        let created =
            http.post(test.url(path)).bearer_auth(&token).json(&json!({ "name": "x" })).send().await.unwrap();
        assert_eq!(created.status(), StatusCode::FORBIDDEN, "POST {path}");
        let body: Value = created.json().await.unwrap();
        assert_eq!(body["code"], "forbidden");
    }
    let me = http.get(test.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "employees may still see themselves");
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_in_the_error_shape() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let http = TestApp::http();
    for request in [
        http.get(test.url("/api/v1/users")),
        http.get(test.url("/api/v1/users")).bearer_auth("slk_not-a-real-token"),
        http.get(test.url("/api/v1/users")).header("cookie", "scoreline_session=forged"),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthenticated");
        assert!(!body["request_id"].as_str().unwrap().is_empty());
    }
    let missing: Value =
        http.get(test.url("/api/v1/nothing-here")).send().await.unwrap().json().await.unwrap();
    assert_eq!(missing["code"], "not_found");
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let doc: Value = reqwest::get(test.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for path in ["/api/v1/me", "/api/v1/users", "/api/v1/users/{id}", "/api/v1/groups", "/api/v1/teams"] {
        assert!(paths.contains_key(path), "{path} missing from {:?}", paths.keys());
    }
    assert!(paths["/api/v1/users"].get("post").is_some());
    assert!(doc["components"]["schemas"].get("NewUserBody").is_some());
}

#[tokio::test]
async fn probes_and_metrics() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    assert_eq!(reqwest::get(test.url("/healthz")).await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(reqwest::get(test.url("/readyz")).await.unwrap().text().await.unwrap(), "ready");
    let metrics = reqwest::get(test.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("scoreline_http_requests_total"), "{metrics}");
}
