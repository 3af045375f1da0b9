//! Calibration sessions over the API: bad input by field, blind scoring until the facilitator
//! closes, the comparison with its agreement, agreed answers and deviations, retention held
//! while open, and calibration scorings kept out of evaluations.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use scoreline_app::Actor;
use scoreline_core::{CalibrationId, EvaluationFilter, EvaluationKind, PageRequest};
use scoreline_testkit::{TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::evaluations::Scene;

/// Two participants of the team, the first matched agent's case, an open session.
pub struct Session {
    pub scene: Scene,
    pub participants: [(String, String); 2],
    pub agent: String,
    pub case_id: String,
    pub id: String,
}

impl Session {
    pub async fn open(backend: TestBackend) -> Self {
        let scene = Scene::new(backend).await;
        let test = &scene.test;
        let mut participants = Vec::new();
        for _ in 0..2 {
            // Signed in: the cookie serves the API and the pages alike.
            let (user, token) = test.signed_in("supervisor").await;
            test.app.add_team_member(&Actor::System, scene.matched.team_id, user.id).await.unwrap();
            participants.push((user.id.to_string(), token));
        }
        let (cases, agent) = scene.agent_cases(0).await;
        let body = json!({
            "case_id": cases[0], "scorecard_version_id": scene.version_id,
            "participant_ids": [participants[0].0, participants[1].0],
        });
        let (status, created) =
            test.call(&scene.supervisor, Method::POST, "/api/v1/calibrations", Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let participants = [participants.remove(0), participants.remove(0)];
        Self { scene, participants, agent, case_id: cases[0].clone(), id }
    }

    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/calibrations/{}{rest}", self.id)
    }

    /// Participant `p` saves (or submits) these answers.
    pub async fn score(&self, p: usize, answers: &[Value], submit: bool) -> (StatusCode, Value) {
        let body = json!({ "answers": answers, "submit": submit });
        self.scene.test.call(&self.participants[p].1, Method::PUT, &self.path("/scoring"), Some(&body)).await
    }
}

fn fields(refused: &Value) -> Vec<(String, String)> {
    refused["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_owned(), f["message"].as_str().unwrap().to_owned()))
        .collect()
}

on_both_backends!(
    bad_sessions_are_refused_by_field,
    participants_score_blind_until_closed_then_compare,
    an_open_session_holds_the_case_past_retention
);

async fn bad_sessions_are_refused_by_field(backend: TestBackend) {
    let scene = Scene::new(backend).await;
    let test = &scene.test;
    let (cases, agent) = scene.agent_cases(0).await;
    let agent_id = scene.matched.agents[0].user_id.to_string();
    let (employee, _) = test.api_user("employee").await;
    test.app.add_team_member(&Actor::System, scene.matched.team_id, employee.id).await.unwrap();
    let supervisor = scene.supervisor.as_str();
    let post =
        async |body: Value| test.call(supervisor, Method::POST, "/api/v1/calibrations", Some(&body)).await;

    let (status, refused) = post(json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let names: Vec<String> = fields(&refused).into_iter().map(|(f, _)| f).collect();
    assert_eq!(names, ["case_id", "scorecard_version_id", "participant_ids"], "{refused}");

    // The agent, an employee and someone twice: each named at its place.
    let (supervisor_user, _) = test.api_user("supervisor").await;
    test.app.add_team_member(&Actor::System, scene.matched.team_id, supervisor_user.id).await.unwrap();
    let body = json!({
        "case_id": cases[0], "scorecard_version_id": scene.version_id,
        "participant_ids": [agent_id, employee.id, supervisor_user.id, supervisor_user.id],
        "due_at": "2000-01-01T00:00:00Z",
    });
    let (status, refused) = post(body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let found = fields(&refused);
    let at: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(at, ["participant_ids[0]", "participant_ids[1]", "participant_ids[3]", "due_at"], "{refused}");
    assert!(found[0].1.contains("this case's agent"), "{}", found[0].1);
    assert!(found[1].1.contains("may not evaluate"), "{}", found[1].1);
    // A case outside the facilitator's scope is not one they can see.
    let body =
        json!({ "case_id": cases[0], "scorecard_version_id": scene.version_id, "participant_ids": [] });
    let (status, refused) =
        test.call(&scene.outsider, Method::POST, "/api/v1/calibrations", Some(&body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&refused)[0], ("case_id".to_owned(), "is not a case you can see".to_owned()));
    // Employees may not facilitate; nothing was created.
    let (status, _) = test.call(&agent, Method::POST, "/api/v1/calibrations", Some(&json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(test.all_items(&scene.supervisor, "/api/v1/calibrations").await.is_empty());
}

async fn participants_score_blind_until_closed_then_compare(backend: TestBackend) {
    let session = Session::open(backend).await;
    let scene = &session.scene;
    let test = &scene.test;
    let [(_, first), (second_id, second)] = &session.participants;

    // First: all Yes and Right (100); second: No greeting, Yes, Right (55.56), via a draft.
    let all_right = [scene.pick(0, 1), scene.pick(1, 1), scene.pick(2, 1)];
    let (status, mine) = session.score(0, &all_right, true).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!((mine["kind"].as_str(), mine["score"].as_f64()), (Some("calibration"), Some(100.0)));
    let (status, draft) = session.score(1, &[scene.pick(0, 0)], false).await;
    assert_eq!((status, draft["status"].as_str()), (StatusCode::OK, Some("draft")), "{draft}");
    let (status, refused) = session.score(1, &[scene.pick(0, 0)], true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "submit names what is missing: {refused}");
    let mut never_greeted = scene.pick(0, 0);
    never_greeted["comment"] = json!("Never greeted the customer");
    let (status, theirs) = session.score(1, &[never_greeted, scene.pick(1, 1), scene.pick(2, 1)], true).await;
    assert_eq!((status, theirs["score"].as_f64()), (StatusCode::OK, Some(55.56)), "{theirs}");
    let (status, _) = session.score(1, &all_right, true).await;
    assert_eq!(status, StatusCode::CONFLICT, "a submitted scoring changes no more");

    // Blind: each sees their own scoring only; the facilitator sees who, not what.
    let (_, seen) = test.call(first, Method::GET, &session.path(""), None).await;
    assert_eq!(seen["own"]["score"].as_f64(), Some(100.0), "{seen}");
    assert!(seen.get("comparison").is_none(), "{seen}");
    let text = seen.to_string();
    assert!(!text.contains(theirs["id"].as_str().unwrap()) && !text.contains("55.56"), "{text}");
    let page_path = format!("/calibrations/{}", session.id);
    let page = test.page(first, &page_path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"submitted\"") && !page.text.contains("Never greeted"), "{}", page.text);
    assert!(!page.text.contains("svg"), "no chart before the close");
    let (_, facilitating) = test.call(&scene.supervisor, Method::GET, &session.path(""), None).await;
    assert_eq!(facilitating["submitted_ids"].as_array().unwrap().len(), 2);
    assert!(facilitating.get("own").is_none() && facilitating.get("comparison").is_none(), "{facilitating}");
    // Nobody reaches a scoring through evaluations: not the other participant, not the agent.
    for token in [first, second, &scene.supervisor, &session.agent] {
        let listed = test.all_items(token, "/api/v1/evaluations").await;
        assert!(listed.is_empty(), "{listed:?}");
    }
    let (status, _) = test
        .call(first, Method::GET, &format!("/api/v1/evaluations/{}", theirs["id"].as_str().unwrap()), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Calibration scorings are their own kind, never `evaluation` (what results count).
    let everything =
        test.app.list_evaluations(&Actor::System, &EvaluationFilter::default(), PageRequest::first(50)).await;
    assert!(everything.unwrap().items.is_empty(), "not even the operator lists them as evaluations");
    let id: CalibrationId = session.id.parse().unwrap();
    let stored = test.store().calibration_scorings(id).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(
        stored.iter().all(|e| e.kind == EvaluationKind::Calibration && e.kind != EvaluationKind::Evaluation)
    );
    // Outside scope: not found; an employee: forbidden; only the facilitator closes.
    let (status, _) = test.call(&scene.outsider, Method::GET, &session.path(""), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = test.call(&session.agent, Method::GET, &session.path(""), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = test.call(first, Method::POST, &session.path("/close"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        test.call(&scene.supervisor, Method::PUT, &session.path("/agreed"), Some(&json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "agreed answers wait for the close");

    let (status, closed) = test.call(&scene.supervisor, Method::POST, &session.path("/close"), None).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let (status, _) = session.score(0, &all_right, false).await;
    assert_eq!(status, StatusCode::CONFLICT, "scoring ends at the close");

    // Closed: everyone who may see it sees the comparison, on the page too.
    let page = test.page(first, &page_path).await;
    assert!(
        page.text.contains("Never greeted") && page.text.contains("id=\"options-alpha\""),
        "{}",
        page.text
    );
    let (_, seen) = test.call(second, Method::GET, &session.path(""), None).await;
    let comparison = &seen["comparison"];
    let greeting = &comparison["questions"][0];
    let counts: Vec<u64> =
        greeting["options"].as_array().unwrap().iter().map(|o| o["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [1, 1], "one No, one Yes: {greeting}");
    assert_eq!(greeting["answers"].as_array().unwrap().len(), 2);
    assert_eq!(comparison["overall"]["min"].as_f64(), Some(55.56));
    assert_eq!(comparison["overall"]["max"].as_f64(), Some(100.0));
    assert_eq!(comparison["overall"]["mean"].as_f64(), Some(77.78));
    // Options: units [a, b], [c, c], [d, d]: 1 − 5 · 2 ÷ (36 − 10) = 0.615.
    let alpha = |which: &str| format!("{:.3}", comparison[which]["alpha"].as_f64().unwrap());
    assert_eq!(alpha("options_agreement"), "0.615");
    assert_eq!(
        (
            comparison["options_agreement"]["units"].as_u64(),
            comparison["options_agreement"]["values"].as_u64()
        ),
        (Some(3), Some(6))
    );
    // Scores in hundredths: Tone [10000, 3333], Accuracy [10000, 10000], overall [10000, 5556].
    assert_eq!(alpha("scores_agreement"), "-0.226");
    let (_, period) = test.call(&scene.supervisor, Method::GET, "/api/v1/calibrations/agreement", None).await;
    assert_eq!(period["sessions"], 1);
    assert_eq!(period["options"], comparison["options_agreement"], "{period}");
    let (_, outside) = test.call(&scene.outsider, Method::GET, "/api/v1/calibrations/agreement", None).await;
    assert_eq!((outside["sessions"].as_u64(), outside["options"]["alpha"].as_f64()), (Some(0), None));

    // Agreed: the greeting was not made; the second participant was right there.
    let agreed = json!({ "answers": [scene.pick(0, 0), scene.pick(2, 1)] });
    let (status, _) = test.call(first, Method::PUT, &session.path("/agreed"), Some(&agreed)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let bad = json!({ "answers": [{ "question_id": scene.question(0), "option_id": scene.option(2, 1) }] });
    let (status, _) = test.call(&scene.supervisor, Method::PUT, &session.path("/agreed"), Some(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, recorded) =
        test.call(&scene.supervisor, Method::PUT, &session.path("/agreed"), Some(&agreed)).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    let deviations = recorded["comparison"]["deviations"].as_array().unwrap();
    let first_deviation = deviations.iter().find(|d| d["user_id"] != json!(second_id)).unwrap();
    let second_deviation = deviations.iter().find(|d| d["user_id"] == json!(second_id)).unwrap();
    assert_eq!(first_deviation["questions_differing"], json!([scene.question(0)]));
    assert_eq!(first_deviation["questions_agreed"], 2);
    assert_eq!(second_deviation["questions_differing"], json!([]));
    // Agreed: Tone 0 of 2 (the sign-off undecided), Accuracy 100: (0 + 100) ÷ 3 = 33.33.
    assert_eq!(recorded["agreed"]["score"].as_f64(), Some(33.33), "{recorded}");
    assert_eq!(first_deviation["score_difference"].as_f64(), Some(66.67));
    assert_eq!(second_deviation["score_difference"].as_f64(), Some(22.23));

    let audit = test.store().list_audit(PageRequest::first(300)).await.unwrap().items;
    for action in ["calibration.create", "calibration.submit", "calibration.close", "calibration.agree"] {
        assert!(audit.iter().any(|a| a.action == action && a.target_id == session.id), "{action} is audited");
    }
}

async fn an_open_session_holds_the_case_past_retention(backend: TestBackend) {
    let session = Session::open(backend).await;
    let test = &session.scene.test;
    test.clock.advance(Duration::from_secs(60 * 24 * 3600));
    let reports = test.app.purge(&Actor::System, true).await.unwrap();
    assert_eq!(reports[0].held_for_calibrations, 1, "{reports:?}");
    let reports = test.app.purge(&Actor::System, false).await.unwrap();
    assert_eq!(reports[0].held_for_calibrations, 1, "{reports:?}");
    let case = test.app.get_case(&Actor::System, session.case_id.parse().unwrap()).await.unwrap();
    assert!(case.purged_at.is_none() && case.content.is_some(), "an open calibration holds the content");
    let (status, _) = test.call(&session.scene.supervisor, Method::POST, &session.path("/close"), None).await;
    assert_eq!(status, StatusCode::OK);
    let reports = test.app.purge(&Actor::System, false).await.unwrap();
    assert_eq!((reports[0].held_for_calibrations, reports[0].cases), (0, 1));
}

on_both_backends!(the_create_form_takes_a_short_id_and_answers_each_field);

/// From the case page's Calibrate link to a session; bad input beside its field.
async fn the_create_form_takes_a_short_id_and_answers_each_field(backend: TestBackend) {
    let scene = Scene::new(backend).await;
    let test = &scene.test;
    let (facilitator, cookie) = test.signed_in("supervisor").await;
    test.app.add_team_member(&Actor::System, scene.matched.team_id, facilitator.id).await.unwrap();
    let (other, _) = test.signed_in("supervisor").await;
    test.app.add_team_member(&Actor::System, scene.matched.team_id, other.id).await.unwrap();
    let (cases, _) = scene.agent_cases(0).await;
    let case = test.app.get_case(&Actor::System, cases[0].parse().unwrap()).await.unwrap();
    let case_page = test.page(&cookie, &format!("/cases/{}", case.id)).await;
    let link = format!("href=\"/calibrations/new?case_id={}\"", case.id);
    assert!(case_page.text.contains(&link), "{}", case_page.text);
    let form = test.page(&cookie, &format!("/calibrations/new?case_id={}", case.id)).await;
    assert!(form.text.contains(&format!("value=\"{}\"", case.id)), "the case is filled in: {}", form.text);

    let refused = test.submit(&cookie, "/calibrations", &[("case_id", "no-such-case")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("no case you can see has this id"), "{}", refused.text);
    let refused = test.submit(&cookie, "/calibrations", &[("case_id", &case.id.to_string())]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["scorecard_version_id", "participant_ids"] {
        assert!(refused.text.contains(&format!("data-field=\"{field}\"")), "{field}: {}", refused.text);
    }

    let short = format!("#{}", case.short_id.clone().unwrap_or_else(|| case.source_id.clone()));
    let card = scene.version["scorecard_id"].as_str().unwrap();
    let (me, them) = (facilitator.id.to_string(), other.id.to_string());
    let form = [
        ("case_id", short.as_str()),
        ("scorecard_id", card),
        ("participant_ids", me.as_str()),
        ("participant_ids", them.as_str()),
    ];
    let created = test.submit(&cookie, "/calibrations", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let session = test.page(&cookie, created.location.as_deref().unwrap()).await;
    assert!(
        session.text.contains("id=\"calibration-score\""),
        "the facilitator takes part: {}",
        session.text
    );
    let list = test.page(&cookie, "/calibrations").await;
    assert!(
        list.text.contains("id=\"open-sessions\"") && list.text.contains("you take part"),
        "{}",
        list.text
    );
    let work = test.page(&cookie, "/work").await;
    assert!(work.text.contains("id=\"work-calibrations\""), "{}", work.text);
}
