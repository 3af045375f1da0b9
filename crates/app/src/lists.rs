//! Lists of cases for evaluators (DESIGN.md §7.2): definitions checked field by field, versions,
//! archive and restore, the preview, runs (now and on schedule), and evaluators' work.

use std::collections::HashMap;

use scoreline_core::{
    Assignment, AssignmentId, CaseFilter, CaseId, DateRange, FieldErrors, Label, List, ListDefinition,
    ListId, ListKind, ListRun, Page, PageRequest, Per, Permission, Pick, PoolPage, RunId, Sampler, Scope,
    ScorecardId, StoredCase, TeamId, Timestamp, UserId, check_schedule, latest_slot, resolve_window,
    sample_key, split_evaluators, time_zone,
};
use scoreline_store::lists::{ListVersion, NewAssignment, NewPick, NewRun, PoolQuery};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, App, AppError, AppResult};

/// The most cases one run may pick per staff member or in total.
pub const MAX_COUNT: u32 = 10_000;

/// What a run of an unsaved definition would find (`POST /lists/preview`).
#[derive(Debug, Clone, Serialize)]
pub struct ListPreview {
    pub pool_total: u64,
    /// Cases that pass the filters but whose agent is matched to nobody, left out.
    pub held_back: u64,
    pub would_pick: u64,
    pub window_from: Option<Timestamp>,
    pub window_to: Option<Timestamp>,
    pub per_agent: Vec<AgentPreview>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentPreview {
    pub user_id: UserId,
    pub name: String,
    pub pool: u64,
    pub would_pick: u64,
}

/// A page of a list's pool to pick from (a manual list).
#[derive(Debug, Clone)]
pub struct PoolChoices {
    /// Cases in the pool (with the search, if any).
    pub total: u64,
    pub cases: Vec<StoredCase>,
    /// Where the next page starts: the date and id of this page's last case.
    pub next: Option<(Timestamp, CaseId)>,
}

/// A skip and what replaced it.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub skipped: Assignment,
    pub replacement: Option<Assignment>,
}

/// A definition that passed every check, with what saving needs.
struct Checked {
    definition: ListDefinition,
    teams: Vec<TeamId>,
    whole_scope: bool,
}

impl App {
    /// Every problem of `definition` for `actor`, each by its field, or what to save.
    async fn check_definition(&self, actor: &Actor, mut definition: ListDefinition) -> AppResult<Checked> {
        let mut errors = FieldErrors::new();
        let scope = actor.scope();
        if let Some(name) =
            errors.check("name", Label::parse(&definition.name).map_err(|m| m.replace("Label", "The name")))
        {
            definition.name = name.as_str().to_owned();
        }
        if definition.description.chars().count() > 1000 {
            errors.push("description", "The description must be at most 1000 characters.");
        }
        errors.check("time_zone", time_zone(&definition.time_zone).map(|_| ()));
        if definition.integration_ids.is_empty() {
            errors.push("integration_ids", "Choose at least one integration.");
        }
        for id in &definition.integration_ids {
            if self.db().get_integration(*id).await?.is_none() {
                errors.push("integration_ids", format!("No integration has the id {id}."));
            }
        }
        let mut teams: Vec<TeamId> = Vec::new();
        for id in &definition.scope.group_ids {
            if self.db().get_group(scope, *id).await?.is_none() {
                errors.push("scope.group_ids", format!("No group in your scope has the id {id}."));
            }
        }
        if !definition.scope.group_ids.is_empty() {
            let all =
                self.db().list_teams(&Scope::Everything, PageRequest::first(PageRequest::MAX_LIMIT)).await?;
            teams.extend(
                all.items.iter().filter(|t| definition.scope.group_ids.contains(&t.group_id)).map(|t| t.id),
            );
            // A group admin's groups may hold teams they reach only through the group.
            teams.retain(|team| scope.covers_team(*team));
        }
        for id in &definition.scope.team_ids {
            if self.db().get_team(scope, *id).await?.is_none() || !scope.covers_team(*id) {
                errors.push("scope.team_ids", format!("No team in your scope has the id {id}."));
            } else {
                teams.push(*id);
            }
        }
        for id in &definition.scope.user_ids {
            match self.db().get_user(scope, *id).await? {
                Some(user) if user.active => teams
                    .extend(self.db().teams_of(user.id).await?.into_iter().filter(|t| scope.covers_team(*t))),
                Some(_) => errors.push("scope.user_ids", "This staff member is deactivated."),
                None => {
                    errors.push("scope.user_ids", format!("No staff member in your scope has the id {id}."))
                }
            }
        }
        let whole_scope = definition.scope.is_empty() && scope.is_everything();
        if definition.scope.is_empty()
            && let Scope::Teams(own) = scope
        {
            teams.extend(own.iter().copied());
        }
        teams.sort_unstable();
        teams.dedup();
        let filters = &definition.filters;
        if let (Some(from), Some(to)) = (filters.from, filters.to)
            && from >= to
        {
            errors.push("filters.to", "The end of the range must come after its start.");
        }
        if filters.relative.is_some() && (filters.from.is_some() || filters.to.is_some()) {
            errors.push("filters.relative", "Give either a relative window or dates, not both.");
        }
        if let Some(scoreline_core::Relative::LastDays { last_days }) = filters.relative
            && !(1..=366).contains(&last_days)
        {
            errors.push("filters.relative", "The last 1 to 366 days.");
        }
        for (field, values) in [
            ("filters.statuses", &filters.statuses),
            ("filters.tags", &filters.tags),
            ("filters.helpdesk_team_ids", &filters.helpdesk_team_ids),
        ] {
            if values.iter().any(|v| v.trim().is_empty() || v.chars().count() > 200) {
                errors.push(field, "Values must not be empty or longer than 200 characters.");
            }
        }
        match definition.kind {
            ListKind::Random | ListKind::Sequential => match definition.count {
                Some(1..=MAX_COUNT) => {}
                Some(0) | None => errors.push("count", "Pick at least one case."),
                Some(_) => errors.push("count", format!("At most {MAX_COUNT} cases per run.")),
            },
            ListKind::All | ListKind::Manual => definition.count = None,
        }
        if definition.evaluators.is_empty() {
            errors.push("evaluators", "Choose at least one evaluator.");
        }
        let mut seen = Vec::new();
        for share in &definition.evaluators {
            if seen.contains(&share.user_id) {
                errors.push("evaluators", "Each evaluator once.");
            }
            seen.push(share.user_id);
            if share.weight == Some(0) {
                errors.push("evaluators", "A weight is a whole number of at least 1.");
            }
            match self.db().get_user(scope, share.user_id).await? {
                Some(user) if user.active && user.role.can(Permission::Evaluate) => {}
                Some(user) if !user.active => {
                    errors.push("evaluators", format!("{} is deactivated.", user.name))
                }
                Some(user) => errors.push(
                    "evaluators",
                    format!(
                        "{} is an employee and cannot evaluate; choose supervisors or admins.",
                        user.name
                    ),
                ),
                None => errors.push(
                    "evaluators",
                    format!("No staff member in your scope has the id {}.", share.user_id),
                ),
            }
        }
        if let Some(id) = definition.scorecard_id {
            match self.db().get_scorecard(ScorecardId::from_uuid(id)).await? {
                Some(card) if card.archived_at.is_none() => {}
                Some(card) => errors.push(
                    "scorecard_id",
                    format!("The scorecard {} is archived; choose another or restore it.", card.name),
                ),
                None => errors.push("scorecard_id", format!("No scorecard has the id {id}.")),
            }
        }
        if let Some(schedule) = &definition.schedule {
            for (field, message) in check_schedule(schedule) {
                errors.push(field, message);
            }
        }
        errors.into_result()?;
        Ok(Checked { definition, teams, whole_scope })
    }

    pub async fn create_list(&self, actor: &Actor, definition: ListDefinition) -> AppResult<List> {
        actor.require(Permission::ManageLists)?;
        let checked = self.check_definition(actor, definition).await?;
        let id = ListId::new();
        self.save_version(actor, id, 1, checked, "list.create").await?;
        self.get_list(actor, id).await
    }

    /// A new version from `change`: the current definition with the given fields replaced.
    pub async fn update_list(&self, actor: &Actor, id: ListId, change: serde_json::Value) -> AppResult<List> {
        actor.require(Permission::ManageLists)?;
        let list = self.get_list(actor, id).await?;
        let mut merged =
            serde_json::to_value(&list.definition).map_err(|e| AppError::Internal(e.to_string()))?;
        match (merged.as_object_mut(), change) {
            (Some(current), serde_json::Value::Object(fields)) => current.extend(fields),
            _ => return Err(AppError::field("body", "Send an object with the fields to change.")),
        }
        let definition: ListDefinition = serde_json::from_value(merged).map_err(|e| definition_error(&e))?;
        let checked = self.check_definition(actor, definition).await?;
        self.save_version(actor, id, list.version + 1, checked, "list.edit").await?;
        self.get_list(actor, id).await
    }

    async fn save_version(
        &self,
        actor: &Actor,
        id: ListId,
        version: u32,
        checked: Checked,
        action: &str,
    ) -> AppResult<()> {
        let by = actor.user().map(|u| u.id).ok_or(AppError::Unauthenticated)?;
        let audit = self.audit(
            actor,
            action,
            "list",
            &id.to_string(),
            json!({ "version": version, "name": checked.definition.name }),
        );
        let list = ListVersion {
            id,
            version,
            definition: checked.definition,
            teams: checked.teams,
            whole_scope: checked.whole_scope,
            by,
            at: self.clock().now(),
        };
        Ok(self.db().save_list_version(&list, &audit).await?)
    }

    pub async fn set_list_archived(&self, actor: &Actor, id: ListId, archived: bool) -> AppResult<List> {
        actor.require(Permission::ManageLists)?;
        self.get_list(actor, id).await?;
        let action = if archived { "list.archive" } else { "list.restore" };
        let audit = self.audit(actor, action, "list", &id.to_string(), json!({}));
        let at = archived.then(|| self.clock().now());
        self.db().set_list_archived(id, at, &audit).await?;
        self.get_list(actor, id).await
    }

    pub async fn get_list(&self, actor: &Actor, id: ListId) -> AppResult<List> {
        actor.require(Permission::ManageLists)?;
        self.db().get_list(actor.scope(), id).await?.ok_or(AppError::NotFound("list"))
    }

    pub async fn list_lists(
        &self,
        actor: &Actor,
        archived: bool,
        page: PageRequest,
    ) -> AppResult<Page<List>> {
        actor.require(Permission::ManageLists)?;
        Ok(self.db().list_lists(actor.scope(), archived, page).await?)
    }

    /// The pool of an unsaved definition and what a run would pick, writing nothing.
    pub async fn preview_list(&self, actor: &Actor, definition: ListDefinition) -> AppResult<ListPreview> {
        actor.require(Permission::ManageLists)?;
        let checked = self.check_definition(actor, definition).await?;
        let now = self.clock().now();
        let definition = &checked.definition;
        let (mut query, window) = pool_query(definition, None, actor.scope().clone(), now)?;
        query.count_held_back = true;
        let mut sampler = Sampler::new(definition.kind, definition.per, definition.count.unwrap_or(0), 0);
        let held_back = self.db().stream_pool(&query, &mut sampler).await?;
        let pools = sampler.pool().clone();
        let pool_total = sampler.pool_total();
        let picks = sampler.finish();
        let mut would: HashMap<UserId, u64> = HashMap::new();
        for pick in &picks {
            *would.entry(pick.user_id).or_default() += 1;
        }
        let ids: Vec<UserId> = pools.keys().copied().collect();
        let names: HashMap<UserId, String> = self.db().user_names(&ids).await?.into_iter().collect();
        let mut per_agent: Vec<AgentPreview> = pools
            .into_iter()
            .map(|(user_id, pool)| AgentPreview {
                user_id,
                name: names.get(&user_id).cloned().unwrap_or_default(),
                pool,
                would_pick: would.get(&user_id).copied().unwrap_or(0),
            })
            .collect();
        per_agent.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
        let would_pick = if definition.kind == ListKind::Manual { 0 } else { picks.len() as u64 };
        Ok(ListPreview {
            pool_total,
            held_back,
            would_pick,
            window_from: window.0,
            window_to: window.1,
            per_agent,
        })
    }

    /// "Run now": picks from the current pool with a fresh seed; a manual list takes `chosen`.
    pub async fn run_list(&self, actor: &Actor, id: ListId, chosen: Vec<CaseId>) -> AppResult<ListRun> {
        actor.require(Permission::ManageLists)?;
        let list = self.get_list(actor, id).await?;
        if list.archived_at.is_some() {
            return Err(AppError::Conflict("This list is archived; restore it to run it."));
        }
        if list.definition.kind == ListKind::Manual && chosen.is_empty() {
            return Err(AppError::field("case_ids", "Choose the cases to pick from the pool."));
        }
        let seed: u64 = rand::random();
        let run = self.make_run(actor, &list, seed, None, chosen).await?;
        run.ok_or(AppError::Conflict("This run was already made."))
    }

    /// Makes one run: streams the pool, picks, splits among evaluators, writes it all at once.
    /// `None` when `slot` already ran.
    async fn make_run(
        &self,
        actor: &Actor,
        list: &List,
        seed: u64,
        slot: Option<Timestamp>,
        chosen: Vec<CaseId>,
    ) -> AppResult<Option<ListRun>> {
        let definition = &list.definition;
        let now = self.clock().now();
        let (mut query, window) = pool_query(definition, Some(list.id), actor.scope().clone(), now)?;
        query.count_held_back = true;
        let mut sampler = Sampler::new(definition.kind, definition.per, definition.count.unwrap_or(0), seed);
        if definition.kind == ListKind::Manual {
            sampler = sampler.with_chosen(chosen.clone());
        }
        if definition.kind == ListKind::Sequential {
            sampler = sampler.continue_after(self.where_sequential_stopped(list).await?);
        }
        let held_back = self.db().stream_pool(&query, &mut sampler).await?;
        let pools = sampler.pool().clone();
        let pool_total = sampler.pool_total();
        let picks = sampler.finish();
        if definition.kind == ListKind::Manual && picks.len() < chosen.len() {
            return Err(AppError::field("case_ids", "Some chosen cases are not in this list's pool."));
        }
        let evaluators = split_evaluators(&picks, &definition.evaluators, seed);
        let run_id = RunId::new();
        let mut picked: HashMap<UserId, u64> = HashMap::new();
        let total_pool = pool_total;
        let new_picks: Vec<NewPick> = picks
            .iter()
            .zip(evaluators)
            .enumerate()
            .map(|(position, (pick, evaluator))| {
                *picked.entry(pick.user_id).or_default() += 1;
                let pool = match definition.per {
                    Per::Agent => pools.get(&pick.user_id).copied().unwrap_or(0),
                    Per::Total => total_pool,
                };
                NewPick {
                    case_id: pick.case_id,
                    agent_user_id: pick.user_id,
                    position: position as u32 + 1,
                    rank: pick.rank,
                    pool,
                    evaluator_id: evaluator,
                    assignment_id: evaluator.map(|_| AssignmentId::new()),
                }
            })
            .collect();
        let mut agents: Vec<(UserId, u64, u64)> =
            pools.iter().map(|(user, pool)| (*user, *pool, picked.get(user).copied().unwrap_or(0))).collect();
        agents.sort_unstable();
        let run = NewRun {
            id: run_id,
            list_id: list.id,
            list_version: list.version,
            seed,
            slot_at: slot,
            window_from: window.0,
            window_to: window.1,
            pool_total,
            held_back,
            started_by: actor.user().map(|u| u.id),
            at: now,
            agents,
            picks: new_picks,
        };
        let audit = self.audit(
            actor,
            "list.run",
            "list",
            &list.id.to_string(),
            json!({ "run_id": run_id, "version": list.version, "seed": seed.to_string(), "picked": run.picks.len(), "slot_at": slot }),
        );
        if !self.db().create_run(&run, &audit).await? {
            return Ok(None);
        }
        Ok(self.db().get_run(list.id, run_id).await?)
    }

    /// A page of a list's current pool, newest first, for a person picking a manual list's
    /// cases: the cases (in the actor's scope) and the cursor of the next page. `search` narrows
    /// it to subjects containing the text.
    pub async fn pool_page(
        &self,
        actor: &Actor,
        id: ListId,
        search: Option<String>,
        after: Option<(Timestamp, CaseId)>,
        limit: u32,
    ) -> AppResult<PoolChoices> {
        let list = self.get_list(actor, id).await?;
        let (mut query, _) =
            pool_query(&list.definition, Some(list.id), actor.scope().clone(), self.clock().now())?;
        query.search = search;
        query.oldest_first = false;
        let mut page = PoolPage::new(limit.clamp(1, PageRequest::MAX_LIMIT), after);
        self.db().stream_pool(&query, &mut page).await?;
        let total = page.total();
        let (entries, next) = page.finish();
        let ids: Vec<CaseId> = entries.iter().map(|entry| entry.case_id).collect();
        let mut found: HashMap<CaseId, StoredCase> = self
            .db()
            .cases_by_ids(actor.scope(), &ids)
            .await?
            .into_iter()
            .map(|case| (case.id, case))
            .collect();
        let cases = ids.iter().filter_map(|id| found.remove(id)).collect();
        Ok(PoolChoices { total, cases, next })
    }

    /// For a sequential list, the last case it picked per staff member (or in total).
    async fn where_sequential_stopped(
        &self,
        list: &List,
    ) -> AppResult<HashMap<Option<UserId>, (Timestamp, CaseId)>> {
        let positions = self.db().list_picked_positions(list.id, list.definition.filters.date_field).await?;
        let mut after: HashMap<Option<UserId>, (Timestamp, CaseId)> = HashMap::new();
        for (user, date, case) in positions {
            let key = match list.definition.per {
                Per::Agent => Some(user),
                Per::Total => None,
            };
            let entry = after.entry(key).or_insert((date, case));
            if (date, case) > *entry {
                *entry = (date, case);
            }
        }
        Ok(after)
    }

    pub async fn get_run(&self, actor: &Actor, list: ListId, run: RunId) -> AppResult<ListRun> {
        self.get_list(actor, list).await?;
        self.db().get_run(list, run).await?.ok_or(AppError::NotFound("run"))
    }

    /// The definition at `version`, as a run of it used it.
    pub async fn list_definition(
        &self,
        actor: &Actor,
        list: ListId,
        version: u32,
    ) -> AppResult<ListDefinition> {
        self.get_list(actor, list).await?;
        self.db().list_definition(list, version).await?.ok_or(AppError::NotFound("list version"))
    }

    pub async fn list_runs(
        &self,
        actor: &Actor,
        list: ListId,
        page: PageRequest,
    ) -> AppResult<Page<ListRun>> {
        self.get_list(actor, list).await?;
        Ok(self.db().list_runs(list, page).await?)
    }

    /// Assignments of a run (its page shows their state), for those who see the list.
    pub async fn run_assignments(
        &self,
        actor: &Actor,
        list: ListId,
        run: RunId,
    ) -> AppResult<Vec<Assignment>> {
        self.get_list(actor, list).await?;
        Ok(self.db().run_assignments(run).await?)
    }

    /// An evaluator's own assignments, oldest first (`status`: `open`, `todo`, `done`, `skipped`…).
    pub async fn my_assignments(
        &self,
        actor: &Actor,
        status: Option<String>,
        page: PageRequest,
    ) -> AppResult<Page<Assignment>> {
        actor.require(Permission::Evaluate)?;
        let me = actor.user().map(|u| u.id).ok_or(AppError::Unauthenticated)?;
        Ok(self.db().list_assignments(me, status, page).await?)
    }

    pub async fn count_my_open_assignments(&self, actor: &Actor) -> AppResult<u64> {
        match actor.user() {
            Some(user) if actor.can(Permission::Evaluate) => {
                Ok(self.db().count_open_assignments(user.id).await?)
            }
            _ => Ok(0),
        }
    }

    /// The lists and evaluations a case is in, as its page shows them.
    pub async fn case_assignments(&self, actor: &Actor, case: CaseId) -> AppResult<Vec<Assignment>> {
        self.get_case(actor, case).await?;
        Ok(self.db().case_assignments(case).await?)
    }

    /// Skips one's own open assignment with a reason; if the list allows it, the next case of
    /// the same agent's pool, in the run's order, replaces it for the same evaluator.
    pub async fn skip_assignment(&self, actor: &Actor, id: AssignmentId, reason: &str) -> AppResult<Skipped> {
        actor.require(Permission::Evaluate)?;
        let me = actor.user().map(|u| u.id).ok_or(AppError::Unauthenticated)?;
        let assignment = match self.db().get_assignment(id).await? {
            Some(found) if found.evaluator_id == me => found,
            _ => return Err(AppError::NotFound("assignment")),
        };
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::field("reason", "Say why you skip this case."));
        }
        if reason.chars().count() > 500 || reason.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(AppError::field("reason", "The reason must be at most 500 characters of text."));
        }
        if !matches!(assignment.status.as_str(), "todo" | "in_progress") {
            return Err(AppError::Conflict("This assignment is no longer open."));
        }
        let replacement = self.replacement_for(&assignment).await?;
        let audit = self.audit(
            actor,
            "assignment.skip",
            "assignment",
            &id.to_string(),
            json!({ "reason": reason, "replacement_case_id": replacement.map(|r| r.case_id) }),
        );
        if !self.db().skip_assignment(id, reason, replacement.as_ref(), self.clock().now(), &audit).await? {
            return Err(AppError::Conflict("This assignment is no longer open."));
        }
        let skipped = self.db().get_assignment(id).await?.ok_or(AppError::NotFound("assignment"))?;
        let replacement = match replacement {
            Some(new) => self.db().get_assignment(new.id).await?,
            None => None,
        };
        Ok(Skipped { skipped, replacement })
    }

    /// The scorecard named by the list of one's own assignment, to offer first when evaluating
    /// its case; `None` for someone else's assignment or a list without one.
    pub async fn assignment_scorecard(
        &self,
        actor: &Actor,
        id: AssignmentId,
    ) -> AppResult<Option<ScorecardId>> {
        let Some(me) = actor.user().map(|u| u.id) else { return Ok(None) };
        let Some(list_id) =
            self.db().get_assignment(id).await?.filter(|a| a.evaluator_id == me).and_then(|a| a.list_id)
        else {
            return Ok(None);
        };
        let list = self.db().get_list(&Scope::Everything, list_id).await?;
        Ok(list.and_then(|list| list.definition.scorecard_id).map(ScorecardId::from_uuid))
    }

    /// The next case of the agent's pool in the run's order (its seed, its window, its list
    /// version), when the list replaces skipped cases.
    async fn replacement_for(&self, assignment: &Assignment) -> AppResult<Option<NewAssignment>> {
        let (Some(list_id), Some(run_id)) = (assignment.list_id, assignment.run_id) else { return Ok(None) };
        let Some(run) = self.db().get_run(list_id, run_id).await? else { return Ok(None) };
        let Some(definition) = self.db().list_definition(list_id, run.list_version).await? else {
            return Ok(None);
        };
        if !definition.replace_skipped || !matches!(definition.kind, ListKind::Random | ListKind::Sequential)
        {
            return Ok(None);
        }
        let mut query =
            pool_query_at(&definition, Some(list_id), Scope::Everything, (run.window_from, run.window_to));
        query.agent = Some(assignment.agent_user_id);
        let mut sampler = Sampler::new(definition.kind, Per::Agent, 1, run.seed);
        self.db().stream_pool(&query, &mut sampler).await?;
        let next: Option<Pick> = sampler.finish().into_iter().next();
        Ok(next.map(|pick| NewAssignment {
            id: AssignmentId::new(),
            list_id: Some(list_id),
            run_id: Some(run_id),
            case_id: pick.case_id,
            evaluator_id: assignment.evaluator_id,
            agent_user_id: pick.user_id,
            replaces: Some(assignment.id),
            at: self.clock().now(),
        }))
    }

    /// Runs the latest due slot of every scheduled list that has not run it. The unique
    /// (list, slot) row makes each slot run once across every server; a slot before the list's
    /// current version was saved does not run, and after a downtime only the latest one does.
    pub async fn run_due_lists(&self) -> AppResult<u64> {
        let now = self.clock().now();
        let mut ran = 0;
        for list in self.db().scheduled_lists().await? {
            let Some(schedule) = &list.definition.schedule else { continue };
            let Ok(tz) = time_zone(&list.definition.time_zone) else { continue };
            let Some(slot) = latest_slot(schedule, &tz, now) else { continue };
            if slot < list.updated_at {
                continue;
            }
            // The same seed on every server, so a slot's picks do not depend on who made them.
            let seed = sample_key(slot.as_millis() as u64, CaseId::from_uuid(list.id.as_uuid()));
            match self.make_run(&Actor::System, &list, seed, Some(slot), Vec::new()).await {
                Ok(Some(_)) => ran += 1,
                Ok(None) => {}
                Err(error) => tracing::warn!(list_id = %list.id, %error, "scheduled list run failed"),
            }
        }
        Ok(ran)
    }
}

/// A definition that does not parse, as a field error.
pub fn definition_error(error: &serde_json::Error) -> AppError {
    AppError::field("body", format!("The list definition is not valid: {error}"))
}

/// A resolved `[from, to)`; either end may be open.
type Window = (Option<Timestamp>, Option<Timestamp>);

/// The pool of `definition` for a run at `now`, and the window it resolved to.
fn pool_query(
    definition: &ListDefinition,
    list_id: Option<ListId>,
    within: Scope,
    now: Timestamp,
) -> AppResult<(PoolQuery, Window)> {
    let tz = time_zone(&definition.time_zone).map_err(|m| AppError::field("time_zone", m))?;
    let window = resolve_window(&definition.filters, &tz, now);
    Ok((pool_query_at(definition, list_id, within, window), window))
}

fn pool_query_at(
    definition: &ListDefinition,
    list_id: Option<ListId>,
    within: Scope,
    window: Window,
) -> PoolQuery {
    let filters = &definition.filters;
    let mut filter = CaseFilter {
        integration_ids: definition.integration_ids.clone(),
        statuses: filters.statuses.clone(),
        priorities: filters.priorities.clone(),
        helpdesk_team_ids: filters.helpdesk_team_ids.clone(),
        tags: filters.tags.clone(),
        subject_contains: filters.subject_contains.clone(),
        min_agent_messages: filters.min_agent_messages,
        ..CaseFilter::default()
    };
    if window.0.is_some() || window.1.is_some() {
        filter.dates.push(DateRange { field: filters.date_field, from: window.0, to: window.1 });
    }
    PoolQuery {
        list_id,
        filter,
        staff: definition.scope.clone(),
        within,
        exclude: definition.exclude,
        date_field: filters.date_field,
        oldest_first: definition.kind == ListKind::Sequential,
        agent: None,
        search: None,
        count_held_back: false,
    }
}
