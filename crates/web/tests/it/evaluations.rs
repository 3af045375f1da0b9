//! Evaluations over the API: drafts, submit refusals by question, the stored score, scope,
//! the dispute window on the injected clock, resolution as a new revision, and retention.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use scoreline_app::Actor;
use scoreline_core::{CaseFilter, PageRequest};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{MatchedIntegration, TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::scorecards::two_section_card;

/// A synced HelpDesk with matched employees, a supervisor of their team, one of another team,
/// and the two-section scorecard published.
pub struct Scene {
    pub test: TestApp,
    pub matched: MatchedIntegration,
    pub supervisor: String,
    pub outsider: String,
    /// The published version: its id, and its question and option ids in order.
    pub version_id: String,
    pub version: Value,
}

impl Scene {
    pub async fn new(backend: TestBackend) -> Self {
        let test = TestApp::with_helpdesk(
            backend,
            SimConfig { tickets: 40, agents: 4, days: 10, ..SimConfig::default() },
        )
        .await;
        let matched = test.connected_with_matched_agents().await;
        let (supervisor_user, supervisor) = test.api_user("supervisor").await;
        test.app.add_team_member(&Actor::System, matched.team_id, supervisor_user.id).await.unwrap();
        let (_, outsider) = test.api_user("supervisor").await;
        let (_, admin) = test.api_user("global_admin").await;
        let (_, card) =
            test.call(&admin, Method::POST, "/api/v1/scorecards", Some(&two_section_card("Quality"))).await;
        let publish = format!("/api/v1/scorecards/{}/publish", card["id"].as_str().unwrap());
        let (status, version) = test.call(&admin, Method::POST, &publish, None).await;
        assert_eq!(status, StatusCode::CREATED);
        let version_id = version["id"].as_str().unwrap().to_owned();
        Self { test, matched, supervisor, outsider, version_id, version }
    }

    /// Question `q` (0, 1, 2 across both sections) and its option `o`.
    pub fn question(&self, q: usize) -> String {
        let (s, q) = if q < 2 { (0, q) } else { (1, q - 2) };
        self.version["sections"][s]["questions"][q]["id"].as_str().unwrap().to_owned()
    }

    pub fn option(&self, q: usize, o: usize) -> String {
        let (s, q) = if q < 2 { (0, q) } else { (1, q - 2) };
        self.version["sections"][s]["questions"][q]["options"][o]["id"].as_str().unwrap().to_owned()
    }

    /// An answer picking option `o` of question `q`.
    pub fn pick(&self, q: usize, o: usize) -> Value {
        json!({ "question_id": self.question(q), "option_id": self.option(q, o) })
    }

    /// Cases of the first matched agent, by id, and an API token for that agent.
    pub async fn agent_cases(&self, agent: usize) -> (Vec<String>, String) {
        let agent = &self.matched.agents[agent];
        let filter = CaseFilter { agent_user_ids: vec![agent.user_id], ..CaseFilter::default() };
        let cases =
            self.test.app.list_cases(&Actor::System, &filter, PageRequest::first(50)).await.unwrap().items;
        let token = self.test.app.create_api_token(&Actor::System, &agent.email, "test").await.unwrap();
        (cases.iter().map(|c| c.id.to_string()).collect(), token.token.expose().to_owned())
    }
}

on_both_backends!(
    a_draft_is_resumed_checked_at_submit_and_scored,
    disputes_follow_the_window_and_resolve_as_revisions
);

async fn a_draft_is_resumed_checked_at_submit_and_scored(backend: TestBackend) {
    let scene = Scene::new(backend).await;
    let test = &scene.test;
    let (cases, agent) = scene.agent_cases(0).await;
    let (_, other_agent) = scene.agent_cases(1).await;
    let start = json!({ "case_id": cases[0], "scorecard_version_id": scene.version_id, "answers": [scene.pick(2, 1)] });
    let (status, draft) =
        test.call(&scene.supervisor, Method::POST, "/api/v1/evaluations", Some(&start)).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!((draft["status"].as_str(), draft["revision"].as_u64()), (Some("draft"), Some(0)));
    assert_eq!(draft["agent_user_id"].as_str(), Some(scene.matched.agents[0].user_id.to_string().as_str()));
    let path = format!("/api/v1/evaluations/{}", draft["id"].as_str().unwrap());

    // Submit points at every missing answer and required comment, by question.
    let incomplete = json!({ "answers": [scene.pick(1, 0), scene.pick(2, 1)], "submit": true });
    let (status, refused) = test.call(&scene.supervisor, Method::PATCH, &path, Some(&incomplete)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        refused["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        [format!("questions.{}", scene.question(0)), format!("questions.{}.comment", scene.question(1))]
    );
    let (_, still) = test.call(&scene.supervisor, Method::GET, &path, None).await;
    assert_eq!(still["status"], "draft", "nothing was submitted");

    // N/A, "No" with its comment, "Right": Tone 0 of 1, Accuracy 3 of 3: (2 × 0 + 1 × 100) ÷ 3.
    let mut commented = scene.pick(1, 0);
    commented["comment"] = json!("No sign-off at all");
    let complete = json!({
        "answers": [{ "question_id": scene.question(0), "na": true }, commented, scene.pick(2, 1)],
        "comment": "Right answer, abrupt tone",
        "submit": true,
    });
    let (status, submitted) = test.call(&scene.supervisor, Method::PATCH, &path, Some(&complete)).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["score"].as_f64(), Some(33.33));
    assert_eq!((submitted["passed"].as_bool(), submitted["fail_all"].as_bool()), (Some(false), Some(false)));
    assert_eq!(submitted["sections"][0]["score"].as_f64(), Some(0.0));
    assert_eq!(submitted["sections"][1]["score"].as_f64(), Some(100.0));
    assert_eq!(submitted["revision"], 1);
    let (status, _) = test.call(&scene.supervisor, Method::PATCH, &path, Some(&complete)).await;
    assert_eq!(status, StatusCode::CONFLICT, "a submitted evaluation changes only through a dispute");

    // Scope: the agent sees it, another agent and another team's supervisor do not.
    let mine = test.all_items(&agent, "/api/v1/evaluations").await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["score"].as_f64(), Some(33.33));
    assert!(test.all_items(&other_agent, "/api/v1/evaluations").await.is_empty());
    assert!(test.all_items(&scene.outsider, "/api/v1/evaluations").await.is_empty());
    let (status, _) = test.call(&scene.outsider, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = test.call(&other_agent, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Drafts stay the evaluator's: the agent does not see them.
    let (_, second) = test
        .call(
            &scene.supervisor,
            Method::POST,
            "/api/v1/evaluations",
            Some(&json!({ "case_id": cases[1], "scorecard_version_id": scene.version_id })),
        )
        .await;
    let (status, _) = test
        .call(&agent, Method::GET, &format!("/api/v1/evaluations/{}", second["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Out-of-scope cases are not found; nobody evaluates their own case.
    let (status, _) = test.call(&scene.outsider, Method::POST, "/api/v1/evaluations", Some(&start)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, own) = test.call(&agent, Method::POST, "/api/v1/evaluations", Some(&start)).await;
    assert_eq!(
        (status, own["fields"][0]["message"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("nobody evaluates their own case"))
    );

    let audit = test.store().list_audit(PageRequest::first(200)).await.unwrap().items;
    assert!(audit.iter().any(|a| a.action == "evaluation.submit" && path.ends_with(&a.target_id)));
}

async fn disputes_follow_the_window_and_resolve_as_revisions(backend: TestBackend) {
    let scene = Scene::new(backend).await;
    let test = &scene.test;
    let (cases, agent) = scene.agent_cases(0).await;
    let all_right = [scene.pick(0, 1), scene.pick(1, 1), scene.pick(2, 1)];
    let mut ids = Vec::new();
    for case in &cases[..3] {
        let body = json!({ "case_id": case, "scorecard_version_id": scene.version_id, "answers": all_right, "submit": true });
        let (status, evaluation) =
            test.call(&scene.supervisor, Method::POST, "/api/v1/evaluations", Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{evaluation}");
        assert_eq!(evaluation["score"].as_f64(), Some(100.0));
        ids.push(evaluation["id"].as_str().unwrap().to_owned());
    }
    let at = |id: &str, rest: &str| format!("/api/v1/evaluations/{id}{rest}");

    let (status, acknowledged) = test.call(&agent, Method::POST, &at(&ids[0], "/acknowledge"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(acknowledged["acknowledged_at"].is_string());
    let (status, _) = test
        .call(&scene.supervisor, Method::POST, &at(&ids[1], "/disputes"), Some(&json!({ "reason": "mine" })))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "only the agent disputes");
    let (status, _) =
        test.call(&agent, Method::POST, &at(&ids[1], "/disputes"), Some(&json!({ "reason": " " }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Four days in: within the five-day window.
    test.clock.advance(Duration::from_secs(4 * 24 * 3600));
    let reason = json!({ "reason": "The answer was right for this plan" });
    let (status, dispute) = test.call(&agent, Method::POST, &at(&ids[1], "/disputes"), Some(&reason)).await;
    assert_eq!(status, StatusCode::CREATED, "{dispute}");
    let (status, _) = test.call(&agent, Method::POST, &at(&ids[1], "/disputes"), Some(&reason)).await;
    assert_eq!(status, StatusCode::CONFLICT, "one open dispute at a time");
    // Past the window for the third.
    test.clock.advance(Duration::from_secs(2 * 24 * 3600));
    let (status, late) = test.call(&agent, Method::POST, &at(&ids[2], "/disputes"), Some(&reason)).await;
    assert_eq!(
        (status, late["message"].as_str()),
        (StatusCode::CONFLICT, Some("The dispute window of this evaluation has closed."))
    );

    // Retention: the disputed case keeps its content, the others are purged; evaluations stay.
    let (_, before) = test.call(&scene.supervisor, Method::GET, &at(&ids[0], ""), None).await;
    test.clock.advance(Duration::from_secs(60 * 24 * 3600));
    let reports = test.app.purge(&Actor::System, false).await.unwrap();
    assert_eq!(reports[0].held_for_disputes, 1, "{reports:?}");
    let (_, after) = test.call(&scene.supervisor, Method::GET, &at(&ids[0], ""), None).await;
    let mut expected = before.clone();
    expected["case_purged"] = json!(true);
    assert_eq!(after, expected, "a purge changes nothing but the case's purged flag");
    let held = test.app.get_case(&Actor::System, cases[1].parse().unwrap()).await.unwrap();
    assert!(held.purged_at.is_none() && held.content.is_some(), "an open dispute holds the content");

    // The agent cannot resolve; the supervisor changes it as revision 2 with a reason.
    let dispute_path = format!("/api/v1/disputes/{}/resolve", dispute["id"].as_str().unwrap());
    let wrong = [scene.pick(0, 1), scene.pick(1, 1), scene.pick(2, 0)];
    let change =
        json!({ "outcome": "changed", "reason": "Re-checked: the answer was wrong", "answers": wrong });
    let (status, _) = test.call(&agent, Method::POST, &dispute_path, Some(&change)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = test.call(&scene.outsider, Method::POST, &dispute_path, Some(&change)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = test
        .call(
            &scene.supervisor,
            Method::POST,
            &dispute_path,
            Some(&json!({ "outcome": "changed", "reason": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "changed needs the answers");
    let (status, changed) = test.call(&scene.supervisor, Method::POST, &dispute_path, Some(&change)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!((changed["revision"].as_u64(), changed["score"].as_f64()), (Some(2), Some(0.0)));
    assert_eq!(
        (changed["fail_all"].as_bool(), changed["disputes"][0]["status"].as_str()),
        (Some(true), Some("changed"))
    );
    let (status, _) = test.call(&scene.supervisor, Method::POST, &dispute_path, Some(&change)).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Every revision is kept; the agent sees the new score.
    let revisions = test.all_items(&agent, &at(&ids[1], "/revisions")).await;
    let scores: Vec<Option<f64>> = revisions.iter().map(|r| r["score"].as_f64()).collect();
    assert_eq!(scores, [Some(100.0), Some(0.0)]);
    assert_eq!(revisions[1]["reason"], "Re-checked: the answer was wrong");
    let (_, seen) = test.call(&agent, Method::GET, &at(&ids[1], ""), None).await;
    assert_eq!(seen["score"].as_f64(), Some(0.0));
    // Now closed, the next purge takes the content.
    let reports = test.app.purge(&Actor::System, false).await.unwrap();
    assert_eq!((reports[0].held_for_disputes, reports[0].cases), (0, 1));

    let audit = test.store().list_audit(PageRequest::first(300)).await.unwrap().items;
    for action in ["dispute.open", "dispute.resolve", "evaluation.revise", "evaluation.acknowledge"] {
        assert!(audit.iter().any(|a| a.action == action), "{action} is audited");
    }
}

on_both_backends!(
    the_evaluate_page_saves_as_one_answers_and_submits,
    an_agent_scores_their_own_case_only_with_a_self_score_card
);

async fn the_evaluate_page_saves_as_one_answers_and_submits(backend: TestBackend) {
    let scene = Scene::new(backend).await;
    let test = &scene.test;
    let (supervisor, cookie) = test.signed_in("supervisor").await;
    test.app.add_team_member(&Actor::System, scene.matched.team_id, supervisor.id).await.unwrap();
    let (cases, _) = scene.agent_cases(0).await;
    let case_page = test.page(&cookie, &format!("/cases/{}", cases[0])).await;
    assert!(case_page.text.contains(&format!("href=\"/cases/{}/evaluate\"", cases[0])), "{}", case_page.text);
    let choose = test.page(&cookie, &format!("/cases/{}/evaluate", cases[0])).await;
    assert!(choose.text.contains("Quality") && choose.text.contains("version 1"), "{}", choose.text);
    let card_id = scene.version["scorecard_id"].as_str().unwrap();
    let started =
        test.submit(&cookie, &format!("/cases/{}/evaluate", cases[0]), &[("scorecard_id", card_id)]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let page_path = started.location.unwrap();
    let page = test.page(&cookie, &page_path).await;
    assert!(
        page.text.contains("class=\"conversation\"") && page.text.contains("id=\"evaluate\""),
        "{}",
        page.text
    );
    // Resuming: the case's Evaluate leads to the same draft.
    let again = test.page(&cookie, &format!("/cases/{}/evaluate", cases[0])).await;
    assert_eq!(again.location.as_deref(), Some(page_path.as_str()));

    // As one answers, htmx saves the draft and gets the running score back.
    let (q0, q1, q2) = (scene.question(0), scene.question(1), scene.question(2));
    let (a0, a2) = (format!("answer.{q0}"), format!("answer.{q2}"));
    let (yes, right) = (scene.option(0, 1), scene.option(2, 1));
    let running = TestApp::http()
        .post(test.url(&page_path))
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .form(&[(a0.as_str(), yes.as_str()), (a2.as_str(), right.as_str()), ("op", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(running.status(), StatusCode::OK);
    let fragment = running.text().await.unwrap();
    assert!(fragment.contains("100.00") && fragment.contains("Draft saved."), "{fragment}");
    let id = page_path.rsplit('/').next().unwrap();
    let (_, stored) = test.call(&cookie, Method::GET, &format!("/api/v1/evaluations/{id}"), None).await;
    assert_eq!(stored["answers"].as_array().unwrap().len(), 2, "{stored}");

    // Submit refuses beside the unanswered question; then goes through.
    let refused = test.submit(&cookie, &page_path, &[(a0.as_str(), yes.as_str()), ("op", "submit")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains(&format!("data-field=\"questions.{q1}\"")), "{}", refused.text);
    let a1 = format!("answer.{q1}");
    let no = scene.option(1, 0);
    let c1 = format!("comment.{q1}");
    let form = [
        (a0.as_str(), yes.as_str()),
        (a1.as_str(), no.as_str()),
        (c1.as_str(), "Ended abruptly"),
        (a2.as_str(), right.as_str()),
        ("op", "submit"),
    ];
    let submitted = test.submit(&cookie, &page_path, &form).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER, "{}", submitted.text);
    let (_, stored) = test.call(&cookie, Method::GET, &format!("/api/v1/evaluations/{id}"), None).await;
    // Tone: 2 of 3; Accuracy: 3 of 3 → (2 × 66.67 + 100) ÷ 3 = 77.78.
    assert_eq!((stored["status"].as_str(), stored["score"].as_f64()), (Some("submitted"), Some(77.78)));
    let shown = test.page(&cookie, &page_path).await;
    assert!(shown.text.contains("77.78") && shown.text.contains("Ended abruptly"), "{}", shown.text);
}

/// The agent's own case offers "Score yourself"; only scorecards that allow self-scores are
/// offered, and the evaluation is kept apart as a self-score.
async fn an_agent_scores_their_own_case_only_with_a_self_score_card(backend: TestBackend) {
    let scene = Scene::new(backend).await;
    let test = &scene.test;
    let (agent, cookie) = test.signed_in("employee").await;
    test.app.add_team_member(&Actor::System, scene.matched.team_id, agent.id).await.unwrap();
    let first = &scene.matched.agents[0];
    test.app.match_agent(&Actor::System, scene.matched.id, &first.agent_id, agent.id).await.unwrap();
    let filter = CaseFilter { agent_user_ids: vec![agent.id], ..CaseFilter::default() };
    let case = test.app.list_cases(&Actor::System, &filter, PageRequest::first(1)).await.unwrap().items;
    let case = case[0].id;
    let case_page = test.page(&cookie, &format!("/cases/{case}")).await;
    assert!(case_page.text.contains("id=\"self-score\"") && !case_page.text.contains("id=\"evaluate\""));
    let choose = test.page(&cookie, &format!("/cases/{case}/evaluate")).await;
    assert!(choose.text.contains("id=\"no-self-score\""), "the Quality card allows none: {}", choose.text);

    let (_, admin) = test.api_user("global_admin").await;
    let mut card = two_section_card("Self check");
    card["self_score"] = json!(true);
    let (_, card) = test.call(&admin, Method::POST, "/api/v1/scorecards", Some(&card)).await;
    let card_id = card["id"].as_str().unwrap();
    let (status, _) =
        test.call(&admin, Method::POST, &format!("/api/v1/scorecards/{card_id}/publish"), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let choose = test.page(&cookie, &format!("/cases/{case}/evaluate")).await;
    assert!(choose.text.contains("Self check") && !choose.text.contains("Quality"), "{}", choose.text);
    let quality = scene.version["scorecard_id"].as_str().unwrap();
    let refused =
        test.submit(&cookie, &format!("/cases/{case}/evaluate"), &[("scorecard_id", quality)]).await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER, "not with a card that allows no self-score");
    let started =
        test.submit(&cookie, &format!("/cases/{case}/evaluate"), &[("scorecard_id", card_id)]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text);
    let page = test.page(&cookie, started.location.as_deref().unwrap()).await;
    assert!(page.text.contains("id=\"evaluate\""), "{}", page.text);
}
