//! Matching HelpDesk agents to staff: automatically by email, by hand, or by creating staff
//! from agents. A case counts for a person only through its agent's match, so every change
//! here is audited and takes effect on the next case query, without a sync.

use std::collections::{HashMap, HashSet};

use scoreline_core::{
    AgentMatch, AuditRecord, Email, FieldErrors, Integration, IntegrationId, MatchSource, Permission,
    PersonName, Role, Scope, StaffCandidate, TeamId, User, UserId,
};
use scoreline_store::matching::{AutoMatch, StaffFromAgent};
use scoreline_store::model::NewUser;
use serde::Serialize;
use serde_json::json;

use crate::{Actor, App, AppError, AppResult};

/// Suggestions below this name similarity (0 to 1) are not offered.
const SUGGESTION_THRESHOLD: f64 = 0.5;
/// At most this many suggestions per agent.
const MAX_SUGGESTIONS: usize = 3;

/// A staff member whose name resembles an unmatched agent's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchSuggestion {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    /// Name similarity from 0 to 1; 1 is the same name.
    pub score: f64,
}

/// An agent as the Manage Users page and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentEntry {
    pub agent: AgentMatch,
    /// Cases not offered to lists because this agent is unmatched.
    pub held_back_count: u64,
    /// For unmatched agents only, best first.
    pub suggestions: Vec<MatchSuggestion>,
}

/// Every agent of an integration with the totals of its matching.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentDirectory {
    pub integration: Integration,
    pub agents: Vec<AgentEntry>,
    pub matched: u64,
    pub unmatched: u64,
    /// All cases held back: those of unmatched agents, and of agents HelpDesk never listed.
    pub held_back_total: u64,
}

/// What an automatic matching run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AutoMatchReport {
    /// `(agent_id, user_id)` of each new match.
    pub matched: Vec<(String, UserId)>,
}

/// Staff to create from unmatched agents, as employees of one team.
#[derive(Debug, Clone, Default)]
pub struct CreateStaffFromAgents {
    pub agent_ids: Vec<String>,
    pub team_id: Option<TeamId>,
}

impl App {
    /// Every agent with its match, held-back cases and, when unmatched, suggestions.
    pub async fn list_agents(
        &self,
        actor: &Actor,
        integration_id: IntegrationId,
    ) -> AppResult<AgentDirectory> {
        actor.require(Permission::ViewStaff)?;
        let integration = self.require_integration(integration_id).await?;
        let mut agents = self.db().list_agent_matches(actor.scope(), integration_id).await?;
        agents.retain(|agent| shown_to(actor, agent));
        let staff = self.db().list_staff_candidates(actor.scope()).await?;
        let held_back_total = if actor.scope().is_everything() {
            self.db().case_counts(integration_id).await?.held_back
        } else {
            agents.iter().map(AgentMatch::held_back_count).sum()
        };
        let taken: HashSet<UserId> =
            agents.iter().filter_map(|a| a.matched_user.as_ref().map(|u| u.id)).collect();
        let available: Vec<NameKey<'_>> =
            staff.iter().filter(|s| !taken.contains(&s.id)).map(NameKey::of).collect();
        let matched = agents.iter().filter(|a| a.matched_user.is_some()).count() as u64;
        let unmatched = agents.len() as u64 - matched;
        let agents = agents
            .into_iter()
            .map(|agent| {
                let suggestions =
                    if agent.matched_user.is_some() { Vec::new() } else { suggest(&agent.name, &available) };
                AgentEntry { held_back_count: agent.held_back_count(), suggestions, agent }
            })
            .collect();
        Ok(AgentDirectory { integration, agents, matched, unmatched, held_back_total })
    }

    pub async fn get_agent(
        &self,
        actor: &Actor,
        integration_id: IntegrationId,
        agent_id: &str,
    ) -> AppResult<AgentMatch> {
        actor.require(Permission::ViewStaff)?;
        self.agent_of(actor, integration_id, agent_id).await
    }

    /// Matches an agent to an active staff member by hand.
    pub async fn match_agent(
        &self,
        actor: &Actor,
        integration_id: IntegrationId,
        agent_id: &str,
        user_id: UserId,
    ) -> AppResult<AgentMatch> {
        actor.require(Permission::ManageMatches)?;
        let agent = self.agent_of(actor, integration_id, agent_id).await?;
        let user = match self.db().get_user(actor.scope(), user_id).await? {
            Some(user) if user.active => user,
            Some(_) => return Err(AppError::field("user_id", "This staff member is deactivated.")),
            None => return Err(AppError::field("user_id", "No staff member has this id.")),
        };
        let previous = agent.matched_user.as_ref().map(|u| u.id);
        if previous == Some(user.id) && agent.match_source == Some(MatchSource::Manual) {
            return Ok(agent);
        }
        self.write_manual_match(actor, &agent, Some(user.id), "agent.match").await
    }

    /// Unmatches an agent. It stays unmatched, also through later automatic matching, until
    /// someone matches it again.
    pub async fn unmatch_agent(
        &self,
        actor: &Actor,
        integration_id: IntegrationId,
        agent_id: &str,
    ) -> AppResult<AgentMatch> {
        actor.require(Permission::ManageMatches)?;
        let agent = self.agent_of(actor, integration_id, agent_id).await?;
        if agent.matched_user.is_none() && agent.match_source == Some(MatchSource::Manual) {
            return Ok(agent);
        }
        self.write_manual_match(actor, &agent, None, "agent.unmatch").await
    }

    async fn write_manual_match(
        &self,
        actor: &Actor,
        agent: &AgentMatch,
        user_id: Option<UserId>,
        action: &str,
    ) -> AppResult<AgentMatch> {
        let audit = self.match_audit(actor, action, agent, user_id, MatchSource::Manual);
        let found = self.db().set_agent_match(agent.integration_id, &agent.agent_id, user_id, &audit).await?;
        if !found {
            return Err(AppError::NotFound("agent"));
        }
        self.agent_of(actor, agent.integration_id, &agent.agent_id).await
    }

    /// Matches every agent that nobody matched or unmatched by hand to the active staff member
    /// with the same email, ignoring case and surrounding spaces.
    pub async fn auto_match_agents(
        &self,
        actor: &Actor,
        integration_id: IntegrationId,
    ) -> AppResult<AutoMatchReport> {
        actor.require(Permission::ManageMatches)?;
        self.require_integration(integration_id).await?;
        self.auto_match(actor, integration_id).await
    }

    /// Run by the sync after each refresh of the agents.
    pub(crate) async fn auto_match_after_refresh(&self, integration_id: IntegrationId) -> AppResult<()> {
        let report = self.auto_match(&Actor::System, integration_id).await?;
        if !report.matched.is_empty() {
            tracing::info!(%integration_id, matched = report.matched.len(), "matched agents by email");
        }
        Ok(())
    }

    async fn auto_match(&self, actor: &Actor, integration_id: IntegrationId) -> AppResult<AutoMatchReport> {
        let agents = self.db().list_agent_matches(actor.scope(), integration_id).await?;
        let staff = self.db().list_staff_candidates(actor.scope()).await?;
        let by_email: HashMap<&str, UserId> = staff.iter().map(|s| (s.email.as_str(), s.id)).collect();
        let matches: Vec<AutoMatch> = agents
            .iter()
            .filter(|agent| agent.matched_user.is_none() && agent.match_source != Some(MatchSource::Manual))
            .filter_map(|agent| {
                let user_id = *by_email.get(normalized_email(&agent.email).as_str())?;
                let audit = self.match_audit(actor, "agent.match", agent, Some(user_id), MatchSource::Auto);
                Some(AutoMatch { agent_id: agent.agent_id.clone(), user_id, audit })
            })
            .collect();
        if matches.is_empty() {
            return Ok(AutoMatchReport::default());
        }
        let applied: HashSet<String> =
            self.db().apply_auto_matches(integration_id, &matches).await?.into_iter().collect();
        let matched = matches
            .into_iter()
            .filter(|m| applied.contains(&m.agent_id))
            .map(|m| (m.agent_id, m.user_id))
            .collect();
        Ok(AutoMatchReport { matched })
    }

    /// Creates an employee for each selected unmatched agent, in the chosen team, matched to
    /// the agent. All or nothing: any problem is reported and nothing is created.
    pub async fn create_staff_from_agents(
        &self,
        actor: &Actor,
        integration_id: IntegrationId,
        input: CreateStaffFromAgents,
    ) -> AppResult<Vec<User>> {
        actor.require(Permission::ManageMatches)?;
        actor.require(Permission::ManageStaff)?;
        self.require_integration(integration_id).await?;
        let mut errors = FieldErrors::new();
        let team_id = match input.team_id {
            Some(id) if self.db().get_team(actor.scope(), id).await?.is_some() => Some(id),
            Some(_) => errors.check("team_id", Err("This team does not exist.".to_owned())),
            None => errors.check("team_id", Err("Choose the team the new staff join.".to_owned())),
        };
        if input.agent_ids.is_empty() {
            errors.push("agent_ids", "Select at least one unmatched agent.");
        }
        let mut planned = Vec::new();
        let mut emails = HashSet::new();
        for agent_id in &input.agent_ids {
            let Some(agent) = self.db().get_agent_match(actor.scope(), integration_id, agent_id).await?
            else {
                errors.push("agent_ids", format!("There is no agent {agent_id}."));
                continue;
            };
            if agent.matched_user.is_some() {
                errors.push("agent_ids", format!("{} is already matched.", agent.name));
                continue;
            }
            let Ok(email) = Email::parse(&agent.email) else {
                errors.push("agent_ids", format!("{} has no usable email address.", agent.name));
                continue;
            };
            if !emails.insert(email.as_str().to_owned()) {
                errors.push(
                    "agent_ids",
                    format!("{} shares an email address with another selected agent.", agent.name),
                );
                continue;
            }
            if self.db().find_user_credentials(email.as_str()).await?.is_some() {
                errors.push(
                    "agent_ids",
                    format!(
                        "{email} already belongs to a staff member; match {} to them instead.",
                        agent.name
                    ),
                );
                continue;
            }
            let name = PersonName::parse(&agent.name)
                .or_else(|_| PersonName::parse(email.as_str()))
                .map_err(|message| AppError::field("agent_ids", message))?;
            planned.push((agent, email, name));
        }
        errors.into_result()?;
        let Some(team_id) = team_id else {
            return Err(AppError::Internal("validated team missing".to_owned()));
        };
        let now = self.clock().now();
        let mut staff = Vec::with_capacity(planned.len());
        for (agent, email, name) in planned {
            let user = NewUser {
                id: UserId::new(),
                email,
                name,
                role: Role::Employee,
                password_hash: None,
                created_at: now,
            };
            let user_target = user.id.to_string();
            let audits = vec![
                self.audit(
                    actor,
                    "user.create",
                    "user",
                    &user_target,
                    json!({ "email": user.email.as_str(), "role": Role::Employee.as_str(), "from_agent": agent.agent_id }),
                ),
                self.audit(actor, "team.member.add", "team", &team_id.to_string(), json!({ "user_id": user.id })),
                self.match_audit(actor, "agent.match", &agent, Some(user.id), MatchSource::Manual),
            ];
            staff.push(StaffFromAgent { agent_id: agent.agent_id, user, audits });
        }
        self.db().create_staff_from_agents(integration_id, team_id, &staff, now).await?;
        let mut created = Vec::with_capacity(staff.len());
        for person in &staff {
            if let Some(user) = self.db().get_user(&Scope::Everything, person.user.id).await? {
                created.push(user);
            }
        }
        Ok(created)
    }

    /// Active staff, by name: whom an agent may be matched to.
    pub async fn list_match_staff(&self, actor: &Actor) -> AppResult<Vec<StaffCandidate>> {
        actor.require(Permission::ViewStaff)?;
        Ok(self.db().list_staff_candidates(actor.scope()).await?)
    }

    /// The audit record of a change to `agent`'s match.
    fn match_audit(
        &self,
        actor: &Actor,
        action: &str,
        agent: &AgentMatch,
        user_id: Option<UserId>,
        source: MatchSource,
    ) -> AuditRecord {
        self.audit(
            actor,
            action,
            "helpdesk_agent",
            &format!("{}/{}", agent.integration_id, agent.agent_id),
            json!({
                "integration_id": agent.integration_id,
                "agent_id": agent.agent_id,
                "agent_email": agent.email,
                "user_id": user_id,
                "previous_user_id": agent.matched_user.as_ref().map(|u| u.id),
                "source": source.as_str(),
            }),
        )
    }

    async fn require_integration(&self, id: IntegrationId) -> AppResult<Integration> {
        self.db().get_integration(id).await?.ok_or(AppError::NotFound("integration"))
    }

    /// The agent, if `actor`'s scope shows it: matched to staff in scope, or unmatched.
    async fn agent_of(
        &self,
        actor: &Actor,
        integration_id: IntegrationId,
        agent_id: &str,
    ) -> AppResult<AgentMatch> {
        self.require_integration(integration_id).await?;
        let agent = self.db().get_agent_match(actor.scope(), integration_id, agent_id).await?;
        agent.filter(|agent| shown_to(actor, agent)).ok_or(AppError::NotFound("agent"))
    }
}

/// Whether `actor` sees `agent` (which the store already found in their scope): unmatched
/// agents are there to be matched, so only those who may match see them.
fn shown_to(actor: &Actor, agent: &AgentMatch) -> bool {
    agent.matched_user.is_some() || actor.can(Permission::ManageMatches)
}

/// The form staff emails are stored in.
fn normalized_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A staff member's name prepared for comparison.
struct NameKey<'a> {
    staff: &'a StaffCandidate,
    grams: HashSet<(char, char)>,
}

impl<'a> NameKey<'a> {
    fn of(staff: &'a StaffCandidate) -> Self {
        Self { staff, grams: bigrams(&staff.name) }
    }
}

/// The best-matching staff by name, at most [`MAX_SUGGESTIONS`].
fn suggest(agent_name: &str, staff: &[NameKey<'_>]) -> Vec<MatchSuggestion> {
    let grams = bigrams(agent_name);
    let mut scored: Vec<(f64, &StaffCandidate)> = staff
        .iter()
        .map(|key| (dice(&grams, &key.grams), key.staff))
        .filter(|(score, _)| *score >= SUGGESTION_THRESHOLD)
        .collect();
    scored.sort_by(|(a, x), (b, y)| b.total_cmp(a).then_with(|| x.name.cmp(&y.name)).then(x.id.cmp(&y.id)));
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(score, staff)| MatchSuggestion {
            user_id: staff.id,
            name: staff.name.clone(),
            email: staff.email.clone(),
            score: (score * 100.0).round() / 100.0,
        })
        .collect()
}

/// Character pairs of the name's words, lower-cased and in sorted order, so that "Kowalska,
/// Anna" and "anna kowalska" compare as the same name.
fn bigrams(name: &str) -> HashSet<(char, char)> {
    let lower = name.to_lowercase();
    let mut words: Vec<&str> =
        lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    let text: Vec<char> = format!(" {} ", words.join(" ")).chars().collect();
    text.windows(2).map(|pair| (pair[0], pair[1])).collect()
}

/// Sørensen–Dice coefficient of two bigram sets.
fn dice(a: &HashSet<(char, char)>, b: &HashSet<(char, char)>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(b).count();
    (2 * shared) as f64 / (a.len() + b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(name: &str) -> StaffCandidate {
        StaffCandidate {
            id: UserId::new(),
            name: name.to_owned(),
            email: format!("{}@example.com", name.len()),
        }
    }

    #[test]
    fn names_compare_regardless_of_case_order_and_punctuation() {
        assert!((dice(&bigrams("Anna Kowalska"), &bigrams("kowalska, ANNA")) - 1.0).abs() < f64::EPSILON);
        assert!(dice(&bigrams("Anna Kowalska"), &bigrams("Anna Kowalski")) > 0.7);
        assert!(dice(&bigrams("Anna Kowalska"), &bigrams("Tomás García")) < SUGGESTION_THRESHOLD);
        assert!((dice(&bigrams("佐藤 花子"), &bigrams("佐藤 花子")) - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn suggestions_are_the_closest_names_first() {
        let people =
            [staff("Anna Kowalski"), staff("Anna Kowalska"), staff("Bob Stone"), staff("Anne Kowal")];
        let keys: Vec<NameKey<'_>> = people.iter().map(NameKey::of).collect();
        let suggestions = suggest("Anna Kowalska", &keys);
        assert_eq!(suggestions[0].name, "Anna Kowalska");
        assert!((suggestions[0].score - 1.0).abs() < f64::EPSILON);
        assert!(suggestions.iter().all(|s| s.name != "Bob Stone"));
        assert!(suggestions.len() <= MAX_SUGGESTIONS);
    }

    #[test]
    fn emails_are_compared_as_staff_emails_are_stored() {
        let stored = Email::parse("Anna.Kowalska12@Example.com").unwrap();
        assert_eq!(normalized_email("  Anna.Kowalska12@EXAMPLE.com \t"), stored.as_str());
    }
}
