//! Scope (DESIGN.md §7.1), role by role, through the API and the pages: who sees which cases,
//! staff, teams and agents, and who may manage whom. Out-of-scope ids answer 404.
//!
//! The organisation: group North with teams A and B, group South with team C. Agents 0, 1 and 2
//! of the simulated account are matched to employees of A, B and C; the rest are unmatched.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use scoreline_app::{Actor, CreateGroup, CreateTeam, CreateUser};
use scoreline_core::{GroupId, IntegrationId, TeamId, UserId};
use scoreline_helpdesk_sim::SimConfig;
use scoreline_testkit::{PASSWORD, TestApp, TestBackend, on_both_backends};
use serde_json::{Value, json};

struct Org {
    test: TestApp,
    integration: IntegrationId,
    north: GroupId,
    south: GroupId,
    team_a: TeamId,
    team_c: TeamId,
    /// Employees matched to agents 0, 1 and 2.
    employee_a: Person,
    employee_b: Person,
    employee_c: Person,
    global_admin: Person,
    /// Member of team A, so their scope is every team of North.
    group_admin_north: Person,
    group_admin_south: Person,
    team_admin_a: Person,
    team_admin_a2: Person,
    supervisor_a: Person,
    /// The agent ids matched to employee A, B and C, and the ids of unmatched agents.
    agent_a: String,
    agent_c: String,
    unmatched_agents: BTreeSet<String>,
}

#[derive(Clone)]
struct Person {
    id: UserId,
    token: String,
    email: String,
}

impl Org {
    async fn new(backend: TestBackend) -> Self {
        let test =
            TestApp::with_helpdesk(backend, SimConfig { tickets: 150, days: 10, ..SimConfig::default() })
                .await;
        let integration = test.connect_and_sync().await;
        let group = async |name: &str| {
            let name = name.to_owned();
            test.app.create_group(&Actor::System, CreateGroup { name }).await.unwrap().id
        };
        let (north, south) = (group("North").await, group("South").await);
        let team = async |group_id: GroupId, name: &str| {
            let input = CreateTeam { group_id: Some(group_id), name: name.to_owned() };
            test.app.create_team(&Actor::System, input).await.unwrap().id
        };
        let (team_a, team_b, team_c) =
            (team(north, "A").await, team(north, "B").await, team(south, "C").await);
        let person = async |role: &str, label: &str, teams: Vec<TeamId>| {
            let email = format!("{label}@example.com");
            let input = CreateUser {
                email: email.clone(),
                name: format!("Person {label}"),
                role: role.to_owned(),
                password: Some(PASSWORD.to_owned()),
                team_ids: teams,
            };
            let user = test.app.create_user(&Actor::System, input).await.unwrap();
            let token = test.app.create_api_token(&Actor::System, &email, "t").await.unwrap();
            Person { id: user.id, token: token.token.expose().to_owned(), email }
        };
        let employee_a = person("employee", "employee-a", vec![team_a]).await;
        let employee_b = person("employee", "employee-b", vec![team_b]).await;
        let employee_c = person("employee", "employee-c", vec![team_c]).await;
        let global_admin = person("global_admin", "global-admin", vec![]).await;
        let group_admin_north = person("group_admin", "group-admin-north", vec![team_a]).await;
        let group_admin_south = person("group_admin", "group-admin-south", vec![team_c]).await;
        let team_admin_a = person("team_admin", "team-admin-a", vec![team_a]).await;
        let team_admin_a2 = person("team_admin", "team-admin-a2", vec![team_a]).await;
        let supervisor_a = person("supervisor", "supervisor-a", vec![team_a]).await;

        let mut agents: Vec<String> = test
            .app
            .list_agents(&Actor::System, integration)
            .await
            .unwrap()
            .agents
            .into_iter()
            .filter(|entry| entry.agent.case_count > 0)
            .map(|entry| entry.agent.agent_id)
            .collect();
        agents.sort();
        assert!(agents.len() >= 5, "the simulated account needs agents with cases: {agents:?}");
        for (agent, employee) in agents.iter().zip([&employee_a, &employee_b, &employee_c]) {
            test.app.match_agent(&Actor::System, integration, agent, employee.id).await.unwrap();
        }
        Self {
            integration,
            north,
            south,
            team_a,
            team_c,
            agent_a: agents[0].clone(),
            agent_c: agents[2].clone(),
            unmatched_agents: agents[3..].iter().cloned().collect(),
            employee_a,
            employee_b,
            employee_c,
            global_admin,
            group_admin_north,
            group_admin_south,
            team_admin_a,
            team_admin_a2,
            supervisor_a,
            test,
        }
    }

    async fn call(
        &self,
        who: &Person,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.test.call(&who.token, method, &format!("/api/v1{path}"), body.as_ref()).await
    }

    async fn get(&self, who: &Person, path: &str) -> (StatusCode, Value) {
        self.call(who, Method::GET, path, None).await
    }

    async fn all_items(&self, who: &Person, path: &str) -> Vec<Value> {
        self.test.all_items(&who.token, &format!("/api/v1{path}")).await
    }

    /// The staff member each visible case is attributed to (`None` for held-back cases).
    async fn case_owners(&self, who: &Person) -> (usize, BTreeSet<Option<String>>) {
        let cases = self.all_items(who, "/cases").await;
        let owners =
            cases.iter().map(|case| case["assignee"]["user_id"].as_str().map(str::to_owned)).collect();
        (cases.len(), owners)
    }

    async fn staff_emails(&self, who: &Person) -> BTreeSet<String> {
        let users = self.all_items(who, "/users").await;
        users.iter().map(|user| user["email"].as_str().unwrap().to_owned()).collect()
    }

    async fn agent_ids(&self, who: &Person) -> BTreeSet<String> {
        let (status, body) = self.get(who, &format!("/integrations/{}/agents", self.integration)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"].as_array().unwrap().iter().map(|a| a["agent_id"].as_str().unwrap().to_owned()).collect()
    }

    /// A case attributed to `employee`, by id.
    async fn case_of(&self, employee: &Person) -> String {
        let cases =
            self.all_items(&self.global_admin, &format!("/cases?agent_user_id={}", employee.id)).await;
        cases.first().expect("a case of this employee")["id"].as_str().unwrap().to_owned()
    }
}

fn ids(people: &[&Person]) -> BTreeSet<Option<String>> {
    people.iter().map(|p| Some(p.id.to_string())).collect()
}

fn emails(people: &[&Person]) -> BTreeSet<String> {
    people.iter().map(|p| p.email.clone()).collect()
}

on_both_backends!(
    cases_follow_the_scope_of_each_role,
    out_of_scope_cases_answer_404_on_the_api_and_the_page,
    staff_lists_follow_the_scope_of_each_role,
    nobody_manages_staff_outside_their_scope_or_of_their_rank,
    teams_and_groups_follow_the_scope,
    manage_users_shows_and_changes_only_agents_in_scope,
    the_account_page_says_what_each_scope_reaches,
);

async fn cases_follow_the_scope_of_each_role(backend: TestBackend) {
    let org = Org::new(backend).await;
    let (total, owners) = org.case_owners(&org.global_admin).await;
    assert!(owners.contains(&None), "global admins see held-back cases");
    assert!(ids(&[&org.employee_a, &org.employee_b, &org.employee_c]).is_subset(&owners));

    let (north_count, north) = org.case_owners(&org.group_admin_north).await;
    assert_eq!(north, ids(&[&org.employee_a, &org.employee_b]), "teams A and B, nothing held back");
    assert!(north_count < total);
    for who in [&org.team_admin_a, &org.supervisor_a] {
        assert_eq!(org.case_owners(who).await.1, ids(&[&org.employee_a]), "team A only");
    }
    assert_eq!(
        org.case_owners(&org.employee_a).await.1,
        ids(&[&org.employee_a]),
        "an employee sees their own"
    );
    let (_, south) = org.case_owners(&org.group_admin_south).await;
    assert_eq!(south, ids(&[&org.employee_c]));

    // A filter cannot widen the scope: asking for another team's staff finds nothing.
    let path = format!("/cases?agent_user_id={}", org.employee_c.id);
    assert!(org.all_items(&org.team_admin_a, &path).await.is_empty());
}

async fn out_of_scope_cases_answer_404_on_the_api_and_the_page(backend: TestBackend) {
    let org = Org::new(backend).await;
    let case_a = org.case_of(&org.employee_a).await;
    let case_c = org.case_of(&org.employee_c).await;
    for who in [&org.team_admin_a, &org.supervisor_a, &org.employee_a, &org.group_admin_north] {
        assert_eq!(org.get(who, &format!("/cases/{case_a}")).await.0, StatusCode::OK);
        let (status, body) = org.get(who, &format!("/cases/{case_c}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["code"], "not_found");
    }
    assert_eq!(org.get(&org.employee_b, &format!("/cases/{case_a}")).await.0, StatusCode::NOT_FOUND);

    let cookie = org.test.sign_in(&org.team_admin_a.email, PASSWORD).await;
    let page = org.test.get(&cookie, &format!("/cases/{case_a}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = org.test.get(&cookie, &format!("/cases/{case_c}")).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND, "the page hides out-of-scope cases too");
}

async fn staff_lists_follow_the_scope_of_each_role(backend: TestBackend) {
    let org = Org::new(backend).await;
    let everyone = org.staff_emails(&org.global_admin).await;
    assert_eq!(everyone.len(), 9);
    let team_a = emails(&[
        &org.employee_a,
        &org.group_admin_north,
        &org.team_admin_a,
        &org.team_admin_a2,
        &org.supervisor_a,
    ]);
    assert_eq!(org.staff_emails(&org.team_admin_a).await, team_a);
    assert_eq!(org.staff_emails(&org.supervisor_a).await, team_a);
    let mut north = team_a.clone();
    north.insert(org.employee_b.email.clone());
    assert_eq!(org.staff_emails(&org.group_admin_north).await, north);
    assert_eq!(
        org.staff_emails(&org.group_admin_south).await,
        emails(&[&org.employee_c, &org.group_admin_south])
    );
    assert_eq!(org.get(&org.employee_a, "/users").await.0, StatusCode::FORBIDDEN);
    assert_eq!(org.get(&org.employee_a, "/me").await.0, StatusCode::OK);

    assert_eq!(org.get(&org.team_admin_a, &format!("/users/{}", org.employee_a.id)).await.0, StatusCode::OK);
    let (status, body) = org.get(&org.team_admin_a, &format!("/users/{}", org.employee_b.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let cookie = org.test.sign_in(&org.team_admin_a.email, PASSWORD).await;
    let page = org.test.get_text(&cookie, "/users").await;
    assert!(page.contains(&org.employee_a.email));
    assert!(!page.contains(&org.employee_b.email) && !page.contains(&org.employee_c.email));
}

async fn nobody_manages_staff_outside_their_scope_or_of_their_rank(backend: TestBackend) {
    let org = Org::new(backend).await;
    let patch = async |who: &Person, target: &Person, body: Value| {
        org.call(who, Method::PATCH, &format!("/users/{}", target.id), Some(body)).await
    };
    // Team A's admin: not team B's employee (404), not a fellow team admin (403).
    let (status, _) = patch(&org.team_admin_a, &org.employee_b, json!({ "active": false })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = patch(&org.team_admin_a, &org.employee_b, json!({ "name": "Renamed" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = patch(&org.team_admin_a, &org.team_admin_a2, json!({ "name": "Renamed" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = patch(&org.team_admin_a, &org.employee_a, json!({ "name": "Renamed A" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Group admins: not another group admin, nor anyone outside their groups.
    let (status, _) = patch(&org.group_admin_north, &org.group_admin_south, json!({ "name": "X" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = patch(&org.group_admin_north, &org.employee_c, json!({ "active": false })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = patch(&org.group_admin_north, &org.employee_b, json!({ "active": false })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Supervisors manage nobody.
    let (status, _) = patch(&org.supervisor_a, &org.employee_a, json!({ "name": "X" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // New staff go into a team of one's scope.
    let new_user = |email: &str, teams: Vec<TeamId>| json!({ "email": email, "name": "New Person", "role": "employee", "team_ids": teams });
    let (status, body) = org
        .call(&org.team_admin_a, Method::POST, "/users", Some(new_user("n1@example.com", vec![org.team_c])))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"][0]["field"], "team_ids", "{body}");
    let (status, body) =
        org.call(&org.team_admin_a, Method::POST, "/users", Some(new_user("n2@example.com", vec![]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "someone in no team would be out of sight: {body}");
    let (status, body) = org
        .call(&org.team_admin_a, Method::POST, "/users", Some(new_user("n3@example.com", vec![org.team_a])))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The Staff page offers the teams in scope, and a team admin must pick one.
    let cookie = org.test.sign_in(&org.team_admin_a.email, PASSWORD).await;
    let staff_page = org.test.page(&cookie, "/users").await.text;
    assert!(staff_page.contains(&format!("<option value=\"{}\"", org.team_a)));
    assert!(!staff_page.contains(&org.team_c.to_string()), "team C is not offered to team A's admin");
    let typed = |team: String| {
        [
            ("name", "Page Person".to_owned()),
            ("email", "page@example.com".to_owned()),
            ("role", "employee".to_owned()),
            ("team_ids", team),
        ]
    };
    let form = typed(String::new());
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = org.test.submit(&cookie, "/users", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("data-field=\"team_ids\""), "the message sits beside the team field");
    let form = typed(org.team_a.to_string());
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = org.test.submit(&cookie, "/users", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);

    // The CSV import checks each row's team against the scope, by line, and creates nothing.
    let csv =
        "email,name,role,team\nok@example.com,Ok Person,employee,A\nno@example.com,No Person,employee,C\n";
    let (status, body) =
        org.call(&org.team_admin_a, Method::POST, "/users/import", Some(json!({ "csv": csv }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("line 3"), "{body}");
    assert!(!org.staff_emails(&org.global_admin).await.contains("ok@example.com"), "all or nothing");
}

async fn teams_and_groups_follow_the_scope(backend: TestBackend) {
    let org = Org::new(backend).await;
    let names = |items: Vec<Value>| -> BTreeSet<String> {
        items.iter().map(|item| item["name"].as_str().unwrap().to_owned()).collect()
    };
    let set = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(names(org.all_items(&org.global_admin, "/teams").await), set(&["A", "B", "C"]));
    assert_eq!(names(org.all_items(&org.group_admin_north, "/teams").await), set(&["A", "B"]));
    assert_eq!(names(org.all_items(&org.team_admin_a, "/teams").await), set(&["A"]));
    assert_eq!(names(org.all_items(&org.group_admin_north, "/groups").await), set(&["North"]));

    // A group admin creates teams in their own groups only.
    let team = |group: GroupId, name: &str| json!({ "group_id": group, "name": name });
    let (status, body) =
        org.call(&org.group_admin_north, Method::POST, "/teams", Some(team(org.south, "Sneaky"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["fields"][0]["field"], "group_id");
    let (status, body) =
        org.call(&org.group_admin_north, Method::POST, "/teams", Some(team(org.north, "D"))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Members: only teams and people in scope.
    let members = |team: TeamId| format!("/teams/{team}/members");
    let (status, _) = org.get(&org.group_admin_north, &members(org.team_c)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let add = |user: &Person| Some(json!({ "user_id": user.id }));
    let (status, _) =
        org.call(&org.group_admin_north, Method::POST, &members(org.team_a), add(&org.employee_c)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "employee C is not in North's scope");
    let (status, _) =
        org.call(&org.group_admin_north, Method::POST, &members(org.team_c), add(&org.employee_a)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "team C is not in North's scope");
    let (status, body) =
        org.call(&org.group_admin_north, Method::POST, &members(org.team_a), add(&org.employee_b)).await;
    assert!(status.is_success(), "{status} {body}");
}

async fn manage_users_shows_and_changes_only_agents_in_scope(backend: TestBackend) {
    let org = Org::new(backend).await;
    let everything = org.agent_ids(&org.global_admin).await;
    assert!(everything.contains(&org.agent_c) && org.unmatched_agents.is_subset(&everything));

    // A group admin sees the agents of their staff and the unmatched ones they may match.
    let north = org.agent_ids(&org.group_admin_north).await;
    assert!(north.contains(&org.agent_a) && !north.contains(&org.agent_c));
    assert!(org.unmatched_agents.is_subset(&north));
    // A supervisor sees only the agents of their own team's staff.
    assert_eq!(org.agent_ids(&org.supervisor_a).await, BTreeSet::from([org.agent_a.clone()]));

    let match_path = |agent: &str| format!("/integrations/{}/agents/{agent}/match", org.integration);
    let (status, _) = org.call(&org.group_admin_north, Method::DELETE, &match_path(&org.agent_c), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "agent C is matched outside North");
    let unmatched = org.unmatched_agents.iter().next().unwrap();
    let to = |user: &Person| Some(json!({ "user_id": user.id }));
    let (status, _) =
        org.call(&org.group_admin_north, Method::PUT, &match_path(unmatched), to(&org.employee_c)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "employee C is not North's to match");
    let (status, body) =
        org.call(&org.group_admin_north, Method::PUT, &match_path(unmatched), to(&org.employee_b)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(org.agent_ids(&org.group_admin_south).await.len() < everything.len());
}

async fn the_account_page_says_what_each_scope_reaches(backend: TestBackend) {
    let org = Org::new(backend).await;
    let reach = async |who: &Person| {
        let cookie = org.test.sign_in(&who.email, PASSWORD).await;
        let page = org.test.page(&cookie, "/account").await;
        assert_eq!(page.status, StatusCode::OK);
        let listed = page
            .text
            .split("<ul class=\"reach\">")
            .nth(1)
            .map_or("", |rest| rest.split("</ul>").next().unwrap_or(""));
        let teams: BTreeSet<String> = listed
            .split("<li>")
            .skip(1)
            .map(|item| item.split("</li>").next().unwrap_or("").to_owned())
            .collect();
        (page.text, teams)
    };
    let set = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(reach(&org.group_admin_north).await.1, set(&["A", "B"]), "every team of North");
    assert_eq!(reach(&org.team_admin_a).await.1, set(&["A"]));
    let (page, teams) = reach(&org.employee_c).await;
    assert!(teams.is_empty() && page.contains("your own cases"), "{page}");
    assert!(page.contains("<dt>Teams</dt>\n  <dd>C</dd>"), "an employee's page names their team: {page}");
    let (page, _) = reach(&org.global_admin).await;
    assert!(page.contains("You see everyone"), "{page}");
}
