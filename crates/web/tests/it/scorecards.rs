//! Scorecards over the API: drafts, immutable versions, archive, TOML files, who may build them.

use reqwest::{Method, StatusCode};
use scoreline_app::Actor;
use scoreline_core::PageRequest;
use scoreline_testkit::{TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

/// Two sections: "Tone" (weight 2) and "Accuracy", whose "Wrong" option fails everything.
pub fn two_section_card(name: &str) -> Value {
    json!({
        "name": name,
        "description": "How we answer customers",
        "target": 75,
        "dispute_days": 5,
        "sections": [
            { "title": "Tone", "weight": 2, "questions": [
                { "text": "Greets the customer", "guidance": "By name where known", "allow_na": true,
                  "options": [{ "label": "No", "points": 0 }, { "label": "Yes", "points": 2 }] },
                { "text": "Signs off politely",
                  "options": [{ "label": "No", "points": 0, "comment_required": true }, { "label": "Yes", "points": 1 }] }
            ]},
            { "title": "Accuracy", "questions": [
                { "text": "Gives the right answer",
                  "options": [{ "label": "Wrong", "points": 0, "fail": "all" }, { "label": "Right", "points": 3 }] }
            ]}
        ]
    })
}

/// The definition part of a scorecard or version answer, ids removed.
fn without_ids(value: &Value) -> Value {
    let mut value = value.clone();
    if let Value::Object(fields) = &mut value {
        for key in [
            "id",
            "state",
            "latest_version",
            "latest_version_id",
            "has_draft",
            "archived_at",
            "created_at",
            "updated_at",
            "scorecard_id",
            "number",
            "published_at",
            "published_by",
        ] {
            fields.remove(key);
        }
    }
    strip_ids(&mut value);
    value
}

fn strip_ids(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.remove("id");
            fields.values_mut().for_each(strip_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

on_both_backends!(
    publishing_freezes_a_version_and_editing_makes_the_next_draft,
    every_problem_is_named_by_its_path,
    toml_export_and_import_round_trip,
    only_global_and_group_admins_build_scorecards,
);

async fn publishing_freezes_a_version_and_editing_makes_the_next_draft(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (admin_user, admin) = test.api_user("global_admin").await;
    let (status, card) =
        test.call(&admin, Method::POST, "/api/v1/scorecards", Some(&two_section_card("Quality"))).await;
    assert_eq!(status, StatusCode::CREATED, "{card}");
    assert_eq!((card["state"].as_str(), card["has_draft"].as_bool()), (Some("draft"), Some(true)));
    assert_eq!(card["latest_version"], Value::Null);
    assert_eq!(card["sections"][1]["questions"][0]["options"][0]["fail"], "all");
    assert_eq!((card["target"].as_u64(), card["dispute_days"].as_u64()), (Some(75), Some(5)));
    let id = card["id"].as_str().unwrap().to_owned();
    let question_id = card["sections"][0]["questions"][0]["id"].clone();
    assert!(question_id.is_string(), "ids for every question: {card}");

    let (status, v1) =
        test.call(&admin, Method::POST, &format!("/api/v1/scorecards/{id}/publish"), None).await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    assert_eq!(v1["number"], 1);
    assert_eq!(v1["sections"][0]["questions"][0]["id"], question_id, "publishing keeps the ids");
    assert_eq!(v1["published_by"].as_str(), Some(admin_user.id.to_string().as_str()));
    // Nothing to publish until the scorecard is edited.
    let (status, _) =
        test.call(&admin, Method::POST, &format!("/api/v1/scorecards/{id}/publish"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Editing after publish edits draft 2; version 1 never changes.
    let (status, edited) = test
        .call(&admin, Method::PATCH, &format!("/api/v1/scorecards/{id}"), Some(&json!({ "target": 90 })))
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!((edited["state"].as_str(), edited["has_draft"].as_bool()), (Some("published"), Some(true)));
    assert_eq!((edited["target"].as_u64(), edited["latest_version"].as_u64()), (Some(90), Some(1)));
    assert_eq!(edited["sections"][0]["questions"][0]["id"], question_id, "the draft keeps the ids");
    let (_, again) =
        test.call(&admin, Method::GET, &format!("/api/v1/scorecards/{id}/versions/1"), None).await;
    assert_eq!(again, v1, "a published version never changes");
    let (status, v2) =
        test.call(&admin, Method::POST, &format!("/api/v1/scorecards/{id}/publish"), None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!((v2["number"].as_u64(), v2["target"].as_u64()), (Some(2), Some(90)));
    assert_ne!(v2["id"], v1["id"]);
    let (_, again) =
        test.call(&admin, Method::GET, &format!("/api/v1/scorecards/{id}/versions/1"), None).await;
    assert_eq!(again, v1);
    let versions = test.all_items(&admin, &format!("/api/v1/scorecards/{id}/versions")).await;
    assert_eq!(versions.iter().map(|v| v["number"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 1]);
    let (status, _) =
        test.call(&admin, Method::GET, &format!("/api/v1/scorecards/{id}/versions/3"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        test.call(&admin, Method::GET, &format!("/api/v1/scorecards/{id}/versions/x"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Archived: out of the default list, no more edits.
    let (status, archived) =
        test.call(&admin, Method::POST, &format!("/api/v1/scorecards/{id}/archive"), None).await;
    assert_eq!((status, archived["state"].as_str()), (StatusCode::OK, Some("archived")));
    let (status, _) = test
        .call(&admin, Method::PATCH, &format!("/api/v1/scorecards/{id}"), Some(&json!({ "target": 10 })))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(test.all_items(&admin, "/api/v1/scorecards").await.is_empty());
    assert_eq!(test.all_items(&admin, "/api/v1/scorecards?include_archived=true").await.len(), 1);

    let audit = test.store().list_audit(PageRequest::first(100)).await.unwrap().items;
    let actions: Vec<&str> =
        audit.iter().filter(|a| a.target_id == id).map(|a| a.action.as_str()).rev().collect();
    assert_eq!(
        actions,
        ["scorecard.create", "scorecard.publish", "scorecard.edit", "scorecard.publish", "scorecard.archive"]
    );
}

async fn every_problem_is_named_by_its_path(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let mut card = two_section_card("Broken");
    card["sections"][1]["questions"][0]["options"].as_array_mut().unwrap().truncate(1);
    card["sections"][0]["questions"][1]["options"][0]["fail"] = json!("sometimes");
    card["target"] = json!(120);
    let (status, body) = test.call(&admin, Method::POST, "/api/v1/scorecards", Some(&card)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}: {}", f["field"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            "target: must be a whole number from 0 to 100",
            "sections[0].questions[1].options[0].fail: must be none, section or all",
            "sections[1].questions[0].options: needs at least two options",
        ]
    );
    assert!(test.all_items(&admin, "/api/v1/scorecards").await.is_empty(), "nothing was created");
}

async fn toml_export_and_import_round_trip(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let (_, card) =
        test.call(&admin, Method::POST, "/api/v1/scorecards", Some(&two_section_card("Quality"))).await;
    let id = card["id"].as_str().unwrap();
    let exported = test.get(&admin, &format!("/api/v1/scorecards/{id}/export")).await;
    assert_eq!(exported.status(), StatusCode::OK);
    assert!(exported.headers()["content-type"].to_str().unwrap().starts_with("application/toml"));
    assert_eq!(
        exported.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"quality.toml\""
    );
    let file = exported.text().await.unwrap();
    assert!(file.contains("[[sections.questions.options]]") && !file.contains("id ="), "{file}");

    let imported = TestApp::http()
        .post(test.url("/api/v1/scorecards/import"))
        .bearer_auth(&admin)
        .header("content-type", "application/toml")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), StatusCode::CREATED);
    let imported: Value = imported.json().await.unwrap();
    assert_ne!(imported["id"], card["id"]);
    assert_eq!(without_ids(&imported), without_ids(&card), "export → import is the same scorecard");
    let again = test
        .get_text(&admin, &format!("/api/v1/scorecards/{}/export", imported["id"].as_str().unwrap()))
        .await;
    assert_eq!(again, file, "and exports to the same file");

    // A broken file: every problem by its path, nothing created.
    let broken = file
        .replacen("points = 3", "points = -3", 1)
        .replacen("title = \"Tone\"", "title = \"\"", 1)
        .replacen("fail = \"all\"", "fail = \"everything\"", 1);
    let refused = TestApp::http()
        .post(test.url("/api/v1/scorecards/import"))
        .bearer_auth(&admin)
        .body(broken)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    let paths: Vec<&str> =
        body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "sections[0].title",
            "sections[1].questions[0].options[0].fail",
            "sections[1].questions[0].options[1].points"
        ]
    );
    let unreadable = TestApp::http()
        .post(test.url("/api/v1/scorecards/import"))
        .bearer_auth(&admin)
        .body("name = \"A\"\ntarget = \"high\"\n")
        .send()
        .await
        .unwrap();
    assert_eq!(unreadable.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = unreadable.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], "file");
    assert!(body["fields"][0]["message"].as_str().unwrap().starts_with("line 2:"), "{body}");
    assert_eq!(test.all_items(&admin, "/api/v1/scorecards").await.len(), 2, "nothing more was created");
}

async fn only_global_and_group_admins_build_scorecards(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, admin) = test.api_user("global_admin").await;
    let team = crate::agents::support_team(&test).await;
    let (group_admin_user, group_admin) = test.api_user("group_admin").await;
    test.app.add_team_member(&Actor::System, team.id, group_admin_user.id).await.unwrap();
    let (_, supervisor) = test.api_user("supervisor").await;
    let (_, employee) = test.api_user("employee").await;
    let card = two_section_card("Quality");

    let (status, _) = test.call(&supervisor, Method::POST, "/api/v1/scorecards", Some(&card)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, everyone) = test.call(&admin, Method::POST, "/api/v1/scorecards", Some(&card)).await;
    assert_eq!(status, StatusCode::CREATED);
    // Evaluators read scorecards; employees do not.
    assert_eq!(test.all_items(&supervisor, "/api/v1/scorecards").await.len(), 1);
    let (status, _) = test.call(&employee, Method::GET, "/api/v1/scorecards", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A group admin restricts theirs to their groups, and cannot change one for everyone.
    let (status, body) = test.call(&group_admin, Method::POST, "/api/v1/scorecards", Some(&card)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "group_ids");
    let mut restricted = card.clone();
    restricted["group_ids"] = json!([team.group_id]);
    let (status, mine) = test.call(&group_admin, Method::POST, "/api/v1/scorecards", Some(&restricted)).await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let mut elsewhere = card.clone();
    elsewhere["group_ids"] = json!([uuid::Uuid::now_v7()]);
    let (status, body) = test.call(&group_admin, Method::POST, "/api/v1/scorecards", Some(&elsewhere)).await;
    assert_eq!(
        (status, body["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("group_ids[0]"))
    );
    let publish = |id: &Value| format!("/api/v1/scorecards/{}/publish", id.as_str().unwrap());
    let (status, _) = test.call(&group_admin, Method::POST, &publish(&mine["id"]), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = test.call(&group_admin, Method::POST, &publish(&everyone["id"]), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

on_both_backends!(the_builder_keeps_what_was_typed_publishes_and_compares_versions);

async fn the_builder_keeps_what_was_typed_publishes_and_compares_versions(backend: TestBackend) {
    let test = TestApp::spawn(backend).await;
    let (_, cookie) = test.signed_in("global_admin").await;
    let typed = [
        ("name", "Support quality"),
        ("target", "80"),
        ("dispute_days", "7"),
        ("sections[0].id", ""),
        ("sections[0].title", "Tone"),
        ("sections[0].weight", "2"),
        ("sections[0].questions[0].id", ""),
        ("sections[0].questions[0].text", "Greets the customer"),
        ("sections[0].questions[0].options[0].id", ""),
        ("sections[0].questions[0].options[0].label", "No"),
        ("sections[0].questions[0].options[0].points", "0"),
        ("sections[0].questions[0].options[0].fail", "none"),
        ("sections[0].questions[0].options[1].id", ""),
        ("sections[0].questions[0].options[1].label", "Yes"),
        ("sections[0].questions[0].options[1].points", "3"),
        ("sections[0].questions[0].options[1].fail", "none"),
    ];
    // A structure button answers the builder again, with everything typed and the new part.
    let mut form = typed.to_vec();
    form.push(("op", "add-option:0.0"));
    let added = test.submit(&cookie, "/score/scorecards/new", &form).await;
    assert_eq!(added.status, StatusCode::OK);
    assert!(added.text.contains("value=\"Greets the customer\""), "{}", added.text);
    assert!(added.text.contains("name=\"sections[0].questions[0].options[2].label\""));
    assert!(added.text.contains("max 3 points · weight 2"), "the preview shows the section's maximum");

    // Problems are shown beside their fields; nothing is created.
    let mut broken = typed.to_vec();
    broken.retain(|(name, _)| !name.starts_with("sections[0].questions[0].options[1]"));
    broken.push(("op", "save"));
    let refused = test.submit(&cookie, "/score/scorecards/new", &broken).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("needs at least two options"), "{}", refused.text);
    assert!(refused.text.contains("value=\"Support quality\""));
    let (_, admin) = test.api_user("global_admin").await;
    assert!(test.all_items(&admin, "/api/v1/scorecards").await.is_empty());

    let mut publish = typed.to_vec();
    publish.push(("op", "publish"));
    let published = test.submit(&cookie, "/score/scorecards/new", &publish).await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    let builder = published.location.unwrap();
    let page = test.page(&cookie, &builder).await;
    assert!(page.text.contains("version 1 published"), "{}", page.text);
    let id = builder.rsplit('/').next().unwrap().to_owned();

    // Version 2 from the builder, then the readable diff.
    let (_, card) = test.call(&admin, Method::GET, &format!("/api/v1/scorecards/{id}"), None).await;
    let ids = |path: &str| card.pointer(path).unwrap().as_str().unwrap().to_owned();
    let (s, q, o0, o1) = (
        ids("/sections/0/id"),
        ids("/sections/0/questions/0/id"),
        ids("/sections/0/questions/0/options/0/id"),
        ids("/sections/0/questions/0/options/1/id"),
    );
    let mut next: Vec<(&str, &str)> = typed.to_vec();
    for (name, value) in &mut next {
        *value = match *name {
            "sections[0].id" => &s,
            "sections[0].questions[0].id" => &q,
            "sections[0].questions[0].options[0].id" => &o0,
            "sections[0].questions[0].options[1].id" => &o1,
            "sections[0].questions[0].options[1].points" => "4",
            _ => value,
        };
    }
    next.push(("op", "publish"));
    let second = test.submit(&cookie, &builder, &next).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.text);
    let history = test.page(&cookie, &format!("/score/scorecards/{id}/versions")).await;
    assert!(
        history.text.contains("Question “Greets the customer” in “Tone”: option “Yes”: points 3 → 4"),
        "{}",
        history.text
    );
    let list = test.page(&cookie, "/score/scorecards").await;
    assert!(list.text.contains("Support quality") && list.text.contains("version 2"), "{}", list.text);
}
