//! The QA team the demo starts with: a group with the simulated account's teams, a QA manager,
//! two evaluators, a lead per team and a staff member for each HelpDesk agent, a published
//! scorecard, and — once HelpDesk is connected — lists ready to run.

use anyhow::Context;
use scoreline_app::{Actor, App, CreateGroup, CreateTeam, CreateUser};
use scoreline_core::{ListDefinition, PageRequest, Role, ScorecardInput, TeamId, User};
use scoreline_helpdesk_sim::AgentCard;
use serde_json::json;

/// Every seeded person signs in with this password.
pub const PASSWORD: &str = "scoreline-demo";
const GROUP_NAME: &str = "Customer Support";
const SCORECARD: &str = include_str!("support-quality.toml");
const WEEKLY_LIST: &str = "Weekly sample: 5 solved cases per agent";
const TIME_ZONE: &str = "Europe/London";

/// One in this many agents is on the staff under another e-mail address, so matching by e-mail
/// leaves some for Manage Users, where the name suggests the match.
const OTHER_EMAIL_EVERY: usize = 6;

const LEAD_NAMES: &[&str] =
    &["Priya Raman", "Jonas Berg", "Lucía Moreno", "Tom Okafor", "Hana Sato", "Ilse de Vries"];

/// Who may sign in, one line per role, for the demo's banner.
pub struct SignIns {
    pub qa_manager: String,
    pub evaluators: Vec<String>,
    pub team_lead: Option<String>,
    pub agent: Option<String>,
}

const QA_MANAGER: (&str, &str) = ("morgan.reyes@scoreline.demo", "Morgan Reyes");
const EVALUATORS: [(&str, &str); 2] =
    [("eva.lind@scoreline.demo", "Eva Lind"), ("omar.haddad@scoreline.demo", "Omar Haddad")];

/// What the list watcher found.
pub enum Lists {
    /// No integration yet.
    Waiting,
    Created,
    /// The lists exist already, or the demo's QA manager is gone.
    NotNeeded,
}

/// Creates the team on an empty database; returns who may sign in.
pub async fn seed(app: &App, agents: &[AgentCard]) -> anyhow::Result<Option<SignIns>> {
    let system = Actor::System;
    let group = app.create_group(&system, CreateGroup { name: GROUP_NAME.to_owned() }).await?;
    let mut teams: Vec<(String, TeamId)> = Vec::new();
    for name in agents.iter().flat_map(|agent| agent.team_names.iter()) {
        if !teams.iter().any(|(known, _)| known == name) {
            let input = CreateTeam { group_id: Some(group.id), name: name.clone() };
            teams.push((name.clone(), app.create_team(&system, input).await?.id));
        }
    }
    let all_teams: Vec<TeamId> = teams.iter().map(|(_, id)| *id).collect();
    let first_team = all_teams.first().copied().context("the simulated account has no team")?;

    let qa_manager = person(app, QA_MANAGER.0, QA_MANAGER.1, "group_admin", vec![first_team]).await?;
    for (email, name) in EVALUATORS {
        person(app, email, name, "supervisor", all_teams.clone()).await?;
    }
    for ((team_name, team_id), lead_name) in teams.iter().zip(LEAD_NAMES.iter().cycle()) {
        person(app, &lead_email(team_name), lead_name, "team_admin", vec![*team_id]).await?;
    }

    for (index, agent) in agents.iter().filter(|agent| agent.active).enumerate() {
        let team_ids = agent
            .team_names
            .first()
            .and_then(|name| teams.iter().find(|(known, _)| known == name))
            .map(|(_, id)| vec![*id])
            .unwrap_or_default();
        let email = if index % OTHER_EMAIL_EVERY == OTHER_EMAIL_EVERY - 1 {
            format!("{}.{index}@staff.scoreline.demo", slug(&agent.name))
        } else {
            agent.email.to_lowercase()
        };
        person(app, &email, &agent.name, "employee", team_ids).await?;
    }

    let manager = app.actor_for(qa_manager).await?;
    // A group admin's scorecards belong to their groups.
    let mut scorecard: ScorecardInput = toml::from_str(SCORECARD).context("the demo scorecard")?;
    scorecard.group_ids = vec![group.id];
    let scorecard = app.create_scorecard(&manager, &scorecard).await.context("the demo scorecard")?;
    app.publish_scorecard(&manager, scorecard.id).await?;
    let agent_emails: Vec<String> = agents.iter().map(|agent| agent.email.to_lowercase()).collect();
    find_sign_ins_among(app, &agent_emails).await
}

/// The seeded sign-ins, when the demo's QA manager exists: what a resumed demo prints.
pub async fn find_sign_ins(app: &App, agents: &[AgentCard]) -> anyhow::Result<Option<SignIns>> {
    let agent_emails: Vec<String> = agents.iter().map(|agent| agent.email.to_lowercase()).collect();
    find_sign_ins_among(app, &agent_emails).await
}

async fn find_sign_ins_among(app: &App, agent_emails: &[String]) -> anyhow::Result<Option<SignIns>> {
    let Some(qa_manager) = find(app, QA_MANAGER.0).await? else { return Ok(None) };
    let mut evaluators = Vec::new();
    for (email, _) in EVALUATORS {
        evaluators.extend(find(app, email).await?.map(|user| user.email));
    }
    let mut team_lead = None;
    let mut agent = None;
    for user in app.list_users(&Actor::System, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items {
        if team_lead.is_none() && user.role == Role::TeamAdmin {
            team_lead = Some(user.email.clone());
        }
        if agent.is_none() && user.role == Role::Employee && agent_emails.contains(&user.email) {
            agent = Some(user.email.clone());
        }
    }
    Ok(Some(SignIns { qa_manager: qa_manager.email, evaluators, team_lead, agent }))
}

async fn find(app: &App, email: &str) -> anyhow::Result<Option<User>> {
    Ok(app.find_user_by_email(&Actor::System, email).await?)
}

fn lead_email(team_name: &str) -> String {
    format!("lead.{}@scoreline.demo", slug(team_name))
}

/// Once an integration is connected, the lists a QA manager would have set up, unless they are
/// there already.
pub async fn add_lists_once_connected(app: &App) -> anyhow::Result<Lists> {
    let integrations =
        app.list_integrations(&Actor::System, PageRequest::first(PageRequest::MAX_LIMIT)).await?;
    if integrations.items.is_empty() {
        return Ok(Lists::Waiting);
    }
    let Some(manager) = find(app, QA_MANAGER.0).await? else { return Ok(Lists::NotNeeded) };
    let actor = app.actor_for(manager).await?;
    let existing = app.list_lists(&actor, false, PageRequest::first(PageRequest::MAX_LIMIT)).await?;
    if existing.items.iter().any(|list| list.definition.name == WEEKLY_LIST) {
        return Ok(Lists::NotNeeded);
    }
    let mut evaluators = Vec::new();
    for (email, _) in EVALUATORS {
        evaluators.extend(find(app, email).await?.map(|user| user.id));
    }
    let scorecard = app
        .list_scorecards(&actor, false, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items
        .into_iter()
        .find(|card| card.latest.is_some())
        .map(|card| card.id);
    let integration_ids: Vec<_> = integrations.items.iter().map(|integration| integration.id).collect();
    let weekly = json!({
        "name": WEEKLY_LIST,
        "description": "Every Monday morning: five solved cases of each agent from the last seven days, split between the evaluators.",
        "time_zone": TIME_ZONE,
        "integration_ids": integration_ids,
        "filters": {"date_field": "updated", "relative": {"last_days": 7}, "statuses": ["solved"]},
        "type": "random",
        "count": 5,
        "per": "agent",
        "exclude": {"evaluated": true, "assigned_elsewhere": true},
        "evaluators": evaluators.iter().map(|id| json!({"user_id": id})).collect::<Vec<_>>(),
        "replace_skipped": true,
        "scorecard_id": scorecard,
        "schedule": {"every": "week", "at": "09:00", "weekday": "monday"},
    });
    let urgent = json!({
        "name": "Urgent cases of the last three days",
        "description": "Every urgent case, for a closer look; run it by hand.",
        "time_zone": TIME_ZONE,
        "integration_ids": integration_ids,
        "filters": {"date_field": "created", "relative": {"last_days": 3}, "priorities": [20]},
        "type": "all",
        "per": "total",
        "exclude": {"evaluated": true, "assigned_elsewhere": false},
        "evaluators": evaluators.first().map(|id| vec![json!({"user_id": id})]).unwrap_or_default(),
        "replace_skipped": false,
        "scorecard_id": scorecard,
        "schedule": null,
    });
    for definition in [weekly, urgent] {
        let definition: ListDefinition = serde_json::from_value(definition).context("a demo list")?;
        app.create_list(&actor, definition).await?;
    }
    Ok(Lists::Created)
}

async fn person(
    app: &App,
    email: &str,
    name: &str,
    role: &str,
    team_ids: Vec<TeamId>,
) -> anyhow::Result<User> {
    let input = CreateUser {
        email: email.to_owned(),
        name: name.to_owned(),
        role: role.to_owned(),
        password: Some(PASSWORD.to_owned()),
        team_ids,
    };
    app.create_user(&Actor::System, input).await.with_context(|| format!("cannot create {email}"))
}

/// `Lucía Moreno` → `lucia.moreno`: ASCII letters and digits, words joined by dots.
fn slug(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect();
    let words: Vec<&str> =
        folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty()).collect();
    if words.is_empty() { "staff".to_owned() } else { words.join(".") }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_ascii_words_joined_by_dots() {
        assert_eq!(slug("Lucía Moreno"), "lucia.moreno");
        assert_eq!(slug("Ilse de Vries"), "ilse.de.vries");
        assert_eq!(slug("Technical"), "technical");
        assert_eq!(slug("王 芳"), "staff");
    }
}
