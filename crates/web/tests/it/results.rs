//! Results over the API: every figure equals the one computed here from the individual
//! evaluations (N/A scores, the latest revision only, no self-scores or drafts, weeks in the
//! viewer's time zone), scope, the agent page's 404, and the CSV export parsed back.

use std::collections::{BTreeMap, HashMap};

use reqwest::{Method, StatusCode};
use scoreline_app::{Actor, CreateTeam};
use scoreline_core::{Aggregation, Distribution, GroupBy, Interval, ResultFilter, Scope, Timestamp, User};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{SeedCase, TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

use crate::scorecards::two_section_card;

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// A scorecard whose only question may be N/A (so a score can be null), open to self-scores.
fn optional_card() -> Value {
    json!({
        "name": "Optional", "description": "", "target": 50, "self_score": true,
        "sections": [{ "title": "Extras", "questions": [
            { "text": "Offers a follow-up", "allow_na": true,
              "options": [{ "label": "No", "points": 0 }, { "label": "Yes", "points": 1 }] }
        ]}]
    })
}

/// Ann in Tier 1, Bob in Tier 2, Cid in both (one group, Support); a supervisor of Tier 1 and
/// a global admin evaluate; a team admin of Tier 1 and Ann read.
pub struct World {
    pub test: TestApp,
    pub ann: User,
    pub bob: User,
    pub cid: User,
    pub ann_token: String,
    pub bob_token: String,
    pub supervisor: String,
    pub team_admin: String,
    pub admin: String,
    pub tier1: String,
    pub tier2: String,
    pub group: String,
    /// Case ids by agent name.
    pub cases: HashMap<&'static str, Vec<String>>,
    /// (version id, version JSON) of Quality and Optional.
    pub quality: (String, Value),
    pub optional: (String, Value),
}

impl World {
    pub async fn new(backend: TestBackend) -> Self {
        let test = TestApp::with_helpdesk(backend, SimConfig { tickets: 0, ..SimConfig::default() }).await;
        let integration = test.connect_token(|_| {}).await;
        let (group, tier1) = test.support_team().await;
        let tier2 = CreateTeam { group_id: Some(group), name: "Tier 2".to_owned() };
        let tier2 = test.app.create_team(&Actor::System, tier2).await.unwrap().id;
        let ann = test.seed_matched_agent(integration, "ann", "Ann Archer", Some(tier1)).await;
        let bob = test.seed_matched_agent(integration, "bob", "Bob Baker", Some(tier2)).await;
        let cid = test.seed_matched_agent(integration, "cid", "Cid Cole", Some(tier1)).await;
        test.app.add_team_member(&Actor::System, tier2, cid.id).await.unwrap();
        let (supervisor_user, supervisor) = test.api_user("supervisor").await;
        test.app.add_team_member(&Actor::System, tier1, supervisor_user.id).await.unwrap();
        let (team_admin_user, team_admin) = test.api_user("team_admin").await;
        test.app.add_team_member(&Actor::System, tier1, team_admin_user.id).await.unwrap();
        let (_, admin) = test.api_user("global_admin").await;
        let mut seeds = Vec::new();
        for agent in ["ann", "bob", "cid"] {
            for i in 0..8 {
                seeds.push(SeedCase::new(format!("{agent}-{i}"), Some(agent), at("2026-10-01T08:00:00Z")));
            }
        }
        let ids = test.seed_cases(integration, &seeds).await;
        let mut cases: HashMap<&'static str, Vec<String>> = HashMap::new();
        for (seed, id) in seeds.iter().zip(ids) {
            let agent = ["ann", "bob", "cid"].into_iter().find(|a| seed.source_id.starts_with(a)).unwrap();
            cases.entry(agent).or_default().push(id.to_string());
        }
        let publish = async |card: Value| {
            let (status, created) = test.call(&admin, Method::POST, "/api/v1/scorecards", Some(&card)).await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            let path = format!("/api/v1/scorecards/{}/publish", created["id"].as_str().unwrap());
            let (status, version) = test.call(&admin, Method::POST, &path, None).await;
            assert_eq!(status, StatusCode::CREATED, "{version}");
            (version["id"].as_str().unwrap().to_owned(), version)
        };
        let quality = publish(two_section_card("Quality")).await;
        let optional = publish(optional_card()).await;
        let token = async |user: &User| {
            test.app
                .create_api_token(&Actor::System, &user.email, "t")
                .await
                .unwrap()
                .token
                .expose()
                .to_owned()
        };
        let (ann_token, bob_token) = (token(&ann).await, token(&bob).await);
        Self {
            test,
            ann,
            bob,
            cid,
            ann_token,
            bob_token,
            supervisor,
            team_admin,
            admin,
            tier1: tier1.to_string(),
            tier2: tier2.to_string(),
            group: group.to_string(),
            cases,
            quality,
            optional,
        }
    }

    /// Option `o` of question `q` (0, 1, 2 across Quality's sections; 0 on Optional).
    fn pick(version: &Value, q: usize, o: usize) -> Value {
        let question = questions(version)[q];
        json!({ "question_id": question["id"], "option_id": question["options"][o]["id"] })
    }

    fn na(version: &Value, q: usize) -> Value {
        json!({ "question_id": questions(version)[q]["id"], "na": true })
    }

    /// Submits (or saves as a draft) an evaluation of the `n`th case of `agent` at `when`.
    #[allow(clippy::too_many_arguments, reason = "each evaluation of the scene on one line")]
    async fn evaluate(
        &self,
        token: &str,
        agent: &str,
        n: usize,
        version: &str,
        answers: Value,
        when: &str,
        comment: &str,
        submit: bool,
    ) -> String {
        self.test.clock.set(at(when));
        let body = json!({ "case_id": self.cases[agent][n], "scorecard_version_id": version,
                           "answers": answers, "comment": comment, "submit": submit });
        let (status, evaluation) =
            self.test.call(token, Method::POST, "/api/v1/evaluations", Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{evaluation}");
        evaluation["id"].as_str().unwrap().to_owned()
    }

    /// The evaluations the results tests count on, in time order: one before the period, N/A,
    /// fail-all, a Sunday 23:30 and a Monday 00:30 in Berlin, a self-score and a draft that do
    /// not count, and a dispute resolved as changed (its latest revision counts).
    pub async fn evaluated(backend: TestBackend) -> Self {
        let w = Self::new(backend).await;
        let (q, o) = (&w.quality.1, &w.optional.1);
        let (qv, ov) = (w.quality.0.as_str(), w.optional.0.as_str());
        let right = json!([Self::pick(q, 0, 1), Self::pick(q, 1, 1), Self::pick(q, 2, 1)]);
        let mut no_sign_off = Self::pick(q, 1, 0);
        no_sign_off["comment"] = json!("No sign-off, \"abrupt\", and short;\nsee line two ✓");
        w.evaluate(&w.admin, "bob", 0, qv, right.clone(), "2026-10-01T10:00:00Z", "before", true).await;
        // Monday 23 November (Berlin and UTC alike).
        w.evaluate(&w.supervisor, "ann", 0, qv, right.clone(), "2026-11-23T09:00:00Z", "Great, thanks", true)
            .await;
        let disputed =
            w.evaluate(&w.admin, "bob", 1, qv, right.clone(), "2026-11-23T09:30:00Z", "all good", true).await;
        w.test.clock.set(at("2026-11-23T10:00:00Z"));
        let path = format!("/api/v1/evaluations/{disputed}/disputes");
        let (status, dispute) =
            w.test.call(&w.bob_token, Method::POST, &path, Some(&json!({ "reason": "check Q3" }))).await;
        assert_eq!(status, StatusCode::CREATED, "{dispute}");
        let wrong = json!([Self::pick(q, 0, 1), Self::pick(q, 1, 1), Self::pick(q, 2, 0)]);
        let resolve = format!("/api/v1/disputes/{}/resolve", dispute["id"].as_str().unwrap());
        let change = json!({ "outcome": "changed", "reason": "It was wrong after all", "answers": wrong });
        let (status, changed) = w.test.call(&w.admin, Method::POST, &resolve, Some(&change)).await;
        assert_eq!((status, changed["score"].as_f64()), (StatusCode::OK, Some(0.0)), "{changed}");
        // Sunday 29 November, 23:30 in Berlin: the week of the 23rd there.
        let mixed = json!([Self::na(q, 0), no_sign_off, Self::pick(q, 2, 1)]);
        w.evaluate(
            &w.supervisor,
            "ann",
            1,
            qv,
            mixed,
            "2026-11-29T22:30:00Z",
            "Tone, \"mostly\"\nfine ✓",
            true,
        )
        .await;
        w.evaluate(&w.supervisor, "cid", 0, qv, right.clone(), "2026-11-29T22:45:00Z", "", true).await;
        // Monday 30 November, 00:30 in Berlin (still Sunday in UTC): the next week there.
        w.evaluate(&w.admin, "ann", 2, ov, json!([Self::na(o, 0)]), "2026-11-29T23:30:00Z", "n/a", true)
            .await;
        let partly = json!([Self::pick(q, 0, 0), Self::pick(q, 1, 1), Self::pick(q, 2, 1)]);
        w.evaluate(&w.admin, "cid", 1, qv, partly, "2026-11-29T23:40:00Z", "", true).await;
        let fails = json!([Self::pick(q, 0, 1), Self::pick(q, 1, 1), Self::pick(q, 2, 0)]);
        w.evaluate(&w.supervisor, "ann", 3, qv, fails, "2026-12-02T12:00:00Z", "Wrong answer", true).await;
        w.evaluate(&w.admin, "bob", 2, ov, json!([Self::pick(o, 0, 0)]), "2026-12-02T13:00:00Z", "", true)
            .await;
        w.evaluate(
            &w.ann_token,
            "ann",
            4,
            ov,
            json!([Self::pick(o, 0, 1)]),
            "2026-12-02T14:00:00Z",
            "me",
            true,
        )
        .await;
        w.evaluate(&w.supervisor, "ann", 5, qv, right.clone(), "2026-12-03T09:00:00Z", "draft", false).await;
        w.evaluate(&w.admin, "cid", 2, ov, json!([Self::pick(o, 0, 1)]), "2026-12-08T08:00:00Z", "", true)
            .await;
        w.test.clock.set(at("2026-12-10T08:00:00Z"));
        w
    }
}

/// The questions of a version, across its sections.
fn questions(version: &Value) -> Vec<&Value> {
    version["sections"].as_array().unwrap().iter().flat_map(|s| s["questions"].as_array().unwrap()).collect()
}

/// (count, scored, average, pass rate, fail_all, na) as the API writes them.
type Shown = (u64, u64, Option<f64>, Option<f64>, u64, u64);

/// The figures of one bucket as the test computes them.
#[derive(Debug, Default)]
struct Expected {
    count: u64,
    scored: u64,
    total: u64,
    maximum: u64,
    passed: u64,
    fail_all: u64,
    na: u64,
}

impl Expected {
    fn figures(&self, question: bool) -> Shown {
        let half_up = |n: u64, d: u64| (d > 0).then(|| ((2 * n + d) / (2 * d)) as f64 / 100.0);
        let (average, pass_rate) = if question {
            (half_up(self.total * 10_000, self.maximum), None)
        } else {
            (half_up(self.total, self.scored), half_up(self.passed * 10_000, self.scored))
        };
        (self.count, self.scored, average, pass_rate, self.fail_all, self.na)
    }
}

/// Monday 00:00 in Berlin, as UTC, of the week holding `millis` (CET, +1 h, all of this period).
fn berlin_week(millis: i64) -> i64 {
    const HOUR: i64 = 3_600_000;
    const WEEK: i64 = 7 * 24 * HOUR;
    // 5 January 1970 was a Monday.
    let monday = 4 * 24 * HOUR;
    let local = millis + HOUR;
    (local - monday).div_euclid(WEEK) * WEEK + monday - HOUR
}

fn items_of(value: &Value) -> BTreeMap<(String, Option<String>), Shown> {
    value["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let key = (
                item["key"]["id"].as_str().unwrap().to_owned(),
                item["interval_start"].as_str().map(str::to_owned),
            );
            let figures = (
                item["count"].as_u64().unwrap(),
                item["scored"].as_u64().unwrap(),
                item["average_score"].as_f64(),
                item["pass_rate"].as_f64(),
                item["fail_all"].as_u64().unwrap(),
                item["na"].as_u64().unwrap(),
            );
            (key, figures)
        })
        .collect()
}

on_both_backends!(
    every_figure_equals_the_one_computed_from_the_evaluations,
    scope_narrows_results_and_out_of_scope_agent_pages_are_not_found,
    the_csv_export_parses_back_with_every_column_and_quote
);

async fn every_figure_equals_the_one_computed_from_the_evaluations(backend: TestBackend) {
    let w = World::evaluated(backend).await;
    let test = &w.test;
    // The individual evaluations, as the evaluations API gives them, in the period.
    let all = test.all_items(&w.admin, "/api/v1/evaluations?status=submitted&kind=evaluation").await;
    let (from, to) =
        (at("2026-11-01T00:00:00+01:00").as_millis(), at("2026-12-31T00:00:00+01:00").as_millis());
    let counted: Vec<&Value> = all
        .iter()
        .filter(|e| {
            let t = Timestamp::parse_rfc3339(e["submitted_at"].as_str().unwrap()).unwrap().as_millis();
            (from..to).contains(&t)
        })
        .collect();
    assert_eq!(counted.len(), 9, "the draft, the self-score and the one before the period do not count");
    let versions: HashMap<&str, &Value> =
        [(w.quality.0.as_str(), &w.quality.1), (w.optional.0.as_str(), &w.optional.1)].into();
    let membership: HashMap<String, Vec<&str>> = [
        (w.ann.id.to_string(), vec![w.tier1.as_str()]),
        (w.bob.id.to_string(), vec![w.tier2.as_str()]),
        (w.cid.id.to_string(), vec![w.tier1.as_str(), w.tier2.as_str()]),
    ]
    .into();
    let group_id = w.group.clone();

    for group_by in ["agent", "team", "group", "scorecard", "evaluator", "question"] {
        for weekly in [false, true] {
            let mut expected: BTreeMap<(String, Option<String>), Expected> = BTreeMap::new();
            for e in &counted {
                let submitted = Timestamp::parse_rfc3339(e["submitted_at"].as_str().unwrap()).unwrap();
                let period =
                    weekly.then(|| Timestamp::from_millis(berlin_week(submitted.as_millis())).to_rfc3339());
                let agent = e["agent_user_id"].as_str().unwrap().to_owned();
                if group_by == "question" {
                    let version = versions[e["scorecard_version_id"].as_str().unwrap()];
                    for answer in e["answers"].as_array().unwrap() {
                        let question =
                            *questions(version).iter().find(|q| q["id"] == answer["question_id"]).unwrap();
                        let bucket = expected
                            .entry((answer["question_id"].as_str().unwrap().to_owned(), period.clone()))
                            .or_default();
                        bucket.count += 1;
                        if answer["na"] == json!(true) {
                            bucket.na += 1;
                            continue;
                        }
                        let options = question["options"].as_array().unwrap();
                        let chosen = options.iter().find(|o| o["id"] == answer["option_id"]).unwrap();
                        bucket.scored += 1;
                        bucket.total += chosen["points"].as_u64().unwrap();
                        bucket.maximum +=
                            options.iter().map(|o| o["points"].as_u64().unwrap()).max().unwrap();
                        bucket.fail_all += u64::from(chosen["fail"] == "all");
                    }
                    continue;
                }
                let keys: Vec<String> = match group_by {
                    "agent" => vec![agent],
                    "team" => membership[&agent].iter().map(|t| (*t).to_owned()).collect(),
                    "group" => vec![group_id.clone()],
                    "scorecard" => vec![e["scorecard_id"].as_str().unwrap().to_owned()],
                    _ => vec![e["evaluator_id"].as_str().unwrap().to_owned()],
                };
                for key in keys {
                    let bucket = expected.entry((key, period.clone())).or_default();
                    bucket.count += 1;
                    match e["score"].as_f64() {
                        Some(score) => {
                            bucket.scored += 1;
                            bucket.total += (score * 100.0).round() as u64;
                            bucket.passed += u64::from(e["passed"] == json!(true));
                        }
                        None => bucket.na += 1,
                    }
                    bucket.fail_all += u64::from(e["fail_all"] == json!(true));
                }
            }
            let expected: BTreeMap<_, _> =
                expected.into_iter().map(|(k, v)| (k, v.figures(group_by == "question"))).collect();
            let interval = if weekly { "&interval=week" } else { "" };
            let path = format!(
                "/api/v1/results?group_by={group_by}{interval}&from=2026-11-01&to=2026-12-30&time_zone=Europe/Berlin"
            );
            let (status, answer) = test.call(&w.admin, Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(items_of(&answer), expected, "{group_by}, weekly {weekly}");
        }
    }

    // Spelled out: Ann's weeks in Berlin. Sunday 23:30 lands in the week of the 23rd; the N/A
    // of Monday 00:30 starts the next one, where her fail-all is too.
    let path = format!(
        "/api/v1/results?group_by=agent&interval=week&agent_user_id={}&time_zone=Europe/Berlin",
        w.ann.id
    );
    let (_, answer) = test.call(&w.admin, Method::GET, &path, None).await;
    let weeks: Vec<(&str, u64, Option<f64>, u64, u64)> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["interval_start"].as_str().unwrap(),
                i["count"].as_u64().unwrap(),
                i["average_score"].as_f64(),
                i["fail_all"].as_u64().unwrap(),
                i["na"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        weeks,
        [("2026-11-22T23:00:00Z", 2, Some(66.67), 0, 0), ("2026-11-29T23:00:00Z", 2, Some(0.0), 1, 1)]
    );
    assert_eq!(answer["items"][0]["key"]["name"], "Ann Archer");
    // In UTC, both Sunday evaluations fall in the week of the 23rd.
    let (_, utc) = test.call(&w.admin, Method::GET, &path.replace("Europe/Berlin", "UTC"), None).await;
    assert_eq!(utc["items"][0]["count"], 3);

    // The sums the database makes per week give what the evaluations give one by one: the
    // trend, the overall figures and the distribution, across Berlin's weeks.
    let berlin = scoreline_core::time_zone("Europe/Berlin").unwrap();
    let filter = ResultFilter {
        from: Some(Timestamp::from_millis(from)),
        to: Some(Timestamp::from_millis(to)),
        ..ResultFilter::default()
    };
    let periods = Interval::Week
        .periods(Timestamp::from_millis(from), Timestamp::from_millis(to), &berlin, 100)
        .unwrap();
    let sinks = || {
        (
            (
                Aggregation::overall(Some(Interval::Week), berlin.clone()),
                Aggregation::new(GroupBy::Team, None, berlin.clone(), HashMap::new()),
            ),
            Distribution::default(),
        )
    };
    let (mut by_row, mut by_cell) = (sinks(), sinks());
    test.store().stream_results(&Scope::Everything, &filter, false, &mut by_row).await.unwrap();
    test.store().summarise_results(&Scope::Everything, &filter, &periods, &mut by_cell).await.unwrap();
    let sorted = |a: Aggregation| {
        let mut buckets = a.finish(|_| None);
        buckets.sort_by_key(|(bucket, _)| *bucket);
        buckets
    };
    let ((row_trend, _), row_distribution) = by_row;
    let ((cell_trend, _), cell_distribution) = by_cell;
    assert_eq!(row_distribution, cell_distribution);
    let mut expected_tenths = [0_u64; 10];
    for e in &counted {
        if let Some(score) = e["score"].as_f64() {
            expected_tenths[((score * 100.0).round() as usize / 1000).min(9)] += 1;
        }
    }
    assert_eq!(cell_distribution.tenths, expected_tenths);
    assert_eq!(cell_distribution.na, counted.iter().filter(|e| e["score"].is_null()).count() as u64);
    let trend = sorted(cell_trend);
    assert!(trend.len() >= 2, "the evaluations span more than one week");
    assert_eq!(trend, sorted(row_trend));

    let (status, refused) = test
        .call(&w.admin, Method::GET, "/api/v1/results?group_by=planet&interval=year&time_zone=Mars", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        refused["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["group_by", "interval", "time_zone"]);
}

async fn scope_narrows_results_and_out_of_scope_agent_pages_are_not_found(backend: TestBackend) {
    let w = World::evaluated(backend).await;
    let test = &w.test;
    let keys = async |token: &str, group_by: &str| -> Vec<String> {
        let (status, answer) =
            test.call(token, Method::GET, &format!("/api/v1/results?group_by={group_by}"), None).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys(&w.admin, "agent").await, ["Ann Archer", "Bob Baker", "Cid Cole"]);
    // A team admin of Tier 1: Ann and Cid (also in Tier 2), and of teams only Tier 1.
    assert_eq!(keys(&w.team_admin, "agent").await, ["Ann Archer", "Cid Cole"]);
    assert_eq!(keys(&w.team_admin, "team").await, ["Tier 1"]);
    assert_eq!(keys(&w.admin, "team").await, ["Tier 1", "Tier 2"]);
    // An employee: themselves only, and their self-score still does not count.
    assert_eq!(keys(&w.ann_token, "agent").await, ["Ann Archer"]);
    let (_, own) = test.call(&w.ann_token, Method::GET, "/api/v1/results", None).await;
    assert_eq!(own["items"][0]["count"], 4);
    let (status, refused) =
        test.call(&w.team_admin, Method::GET, &format!("/api/v1/results?team_id={}", w.tier2), None).await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("team_id"))
    );
    // Bob's evaluations reach the team admin neither through results nor the export.
    let csv = test.get_text(&w.team_admin, "/api/v1/results/export.csv").await;
    assert!(!csv.contains(&w.bob.id.to_string()) && csv.contains(&w.cid.id.to_string()));

    let team_admin_session = {
        let user = test.new_person("team_admin").await;
        let tier1 = w.tier1.parse().unwrap();
        test.app.add_team_member(&Actor::System, tier1, user.id).await.unwrap();
        test.sign_in(&user.email, scoreline_testkit::PASSWORD).await
    };
    let bob_page = test.page(&team_admin_session, &format!("/results/agents/{}", w.bob.id)).await;
    assert_eq!(bob_page.status, StatusCode::NOT_FOUND);
    let ann_page = test.page(&team_admin_session, &format!("/results/agents/{}", w.ann.id)).await;
    assert_eq!(ann_page.status, StatusCode::OK);
    let ann_session = test.sign_in(&w.ann.email, scoreline_testkit::PASSWORD).await;
    let cid_page = test.page(&ann_session, &format!("/results/agents/{}", w.cid.id)).await;
    assert_eq!(cid_page.status, StatusCode::NOT_FOUND, "an employee sees only their own page");
    let not_an_id = test.page(&ann_session, "/results/agents/not-an-id").await;
    assert_eq!(not_an_id.status, StatusCode::NOT_FOUND);
}

/// Records of an RFC 4180 file: quoted fields may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => {
                assert!(c != '"' && c != '\n' && c != '\r', "an unquoted field holds {c:?}");
                field.push(c);
            }
        }
    }
    assert!(!quoted && field.is_empty() && record.is_empty(), "the file ends with a whole record");
    records
}

async fn the_csv_export_parses_back_with_every_column_and_quote(backend: TestBackend) {
    let w = World::evaluated(backend).await;
    let test = &w.test;
    let response =
        test.get(&w.admin, "/api/v1/results/export.csv?from=2026-11-01&time_zone=Europe/Berlin").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let records = parse_csv(&response.text().await.unwrap());
    let header = &records[0];
    assert_eq!(
        header.join(","),
        "evaluation_id,submitted_at,integration_id,case_id,case_short_id,scorecard_id,scorecard,\
         scorecard_version,agent_user_id,agent,evaluator_id,evaluator,score,passed,fail_all,revision,comment"
    );
    let rows: Vec<HashMap<&str, &str>> = records[1..]
        .iter()
        .map(|r| header.iter().map(String::as_str).zip(r.iter().map(String::as_str)).collect())
        .collect();
    assert_eq!(rows.len(), 9);
    let api = test
        .all_items(
            &w.admin,
            "/api/v1/evaluations?status=submitted&kind=evaluation&from=2026-11-01T00:00:00%2B01:00",
        )
        .await;
    let times: Vec<&str> = rows.iter().map(|r| r["submitted_at"]).collect();
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted, "oldest submission first");
    for row in &rows {
        let e = api.iter().find(|e| e["id"] == row["evaluation_id"]).expect("an evaluation of the API");
        assert_eq!(row["submitted_at"], e["submitted_at"].as_str().unwrap(), "RFC 3339 UTC");
        assert!(row["submitted_at"].ends_with('Z'));
        assert_eq!(row["comment"], e["comment"].as_str().unwrap());
        assert_eq!(row["score"], e["score"].as_f64().map(|s| format!("{s:.2}")).unwrap_or_default());
        assert_eq!(row["revision"], e["revision"].to_string());
        assert_eq!(row["agent_user_id"], e["agent_user_id"].as_str().unwrap());
    }
    let quoted = rows
        .iter()
        .find(|r| r["comment"] == "Tone, \"mostly\"\nfine ✓")
        .expect("the comma and quotes survive");
    assert_eq!((quoted["agent"], quoted["evaluator"].is_empty()), ("Ann Archer", false));
    let changed = rows.iter().find(|r| r["comment"] == "all good").unwrap();
    assert_eq!((changed["revision"], changed["score"], changed["fail_all"]), ("2", "0.00", "true"));
    let na = rows.iter().find(|r| r["comment"] == "n/a").unwrap();
    assert_eq!((na["score"], na["passed"]), ("", ""));

    let path = format!(
        "/api/v1/results/export.csv?answers=1&agent_user_id={}&from=2026-11-29&time_zone=Europe/Berlin",
        w.ann.id
    );
    let records = parse_csv(&test.get_text(&w.admin, &path).await);
    assert_eq!(
        records[0].join(","),
        "evaluation_id,submitted_at,case_id,scorecard,scorecard_version,agent_user_id,agent,evaluator,section,\
         question_id,question,answer,points,max_points,na,fail,comment"
    );
    // Ann from 29 November: the mixed one (3 answers), the N/A (1), the fail-all (3).
    assert_eq!(records.len(), 1 + 7);
    let answer = records.iter().find(|r| r[10] == "Signs off politely" && r[11] == "No").unwrap();
    assert_eq!(answer[16], "No sign-off, \"abrupt\", and short;\nsee line two ✓");
    assert_eq!((answer[8].as_str(), answer[12].as_str(), answer[13].as_str()), ("Tone", "0", "1"));
    let na = records.iter().find(|r| r[10] == "Greets the customer" && r[14] == "true").unwrap();
    assert_eq!((na[11].as_str(), na[12].as_str()), ("N/A", ""));
    let failed = records.iter().find(|r| r[11] == "Wrong").unwrap();
    assert_eq!(failed[15], "all");

    let (status, refused) =
        test.call(&w.admin, Method::GET, "/api/v1/results/export.csv?answers=yes", None).await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("answers"))
    );
}

/// The figures count evaluations, so one row per answer is the export's alone: the results
/// route refuses `answers` like any parameter it does not take, the export refuses what is
/// neither a filter nor `answers`, and the OpenAPI document says so.
#[tokio::test]
async fn answers_is_a_parameter_of_the_export_only() {
    let test = TestApp::spawn(TestBackend::Sqlite).await;
    let (_, admin) = test.api_user("global_admin").await;
    let (status, refused) = test.call(&admin, Method::GET, "/api/v1/results?answers=1", None).await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("answers"))
    );
    let (status, refused) =
        test.call(&admin, Method::GET, "/api/v1/results/export.csv?answers=1&rows=all", None).await;
    assert_eq!(
        (status, refused["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("rows"))
    );
    let export = test.get(&admin, "/api/v1/results/export.csv?answers=1&group_by=agent").await;
    assert_eq!(export.status(), StatusCode::OK);
    assert!(export.text().await.unwrap().starts_with("evaluation_id,submitted_at,case_id,scorecard,"));

    let doc: Value = reqwest::get(test.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    let names = |path: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (results, export) = (names("/api/v1/results"), names("/api/v1/results/export.csv"));
    assert!(!results.contains(&"answers".to_owned()), "{results:?}");
    assert!(export.contains(&"answers".to_owned()) && export.contains(&"time_zone".to_owned()), "{export:?}");
}
