//! The pages of lists (*Score ▸ Interactions ▸ Lists*): the index, the form with a live
//! preview (htmx; a Preview button without it), a list with its runs, a run with the reason of
//! every pick; and an evaluator's *My work* with skips.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scoreline_app::{AppError, ListPreview, PoolChoices};
use scoreline_core::{
    Assignment, AssignmentId, CaseId, DateField, EvaluatorShare, Every, Exclusions, FieldErrors, Group,
    IntegrationId, List, ListDefinition, ListFilters, ListId, ListKind, ListRun, ListScope, PageRequest, Per,
    Period, Permission, Relative, RunId, Schedule, Scorecard, Team, Timestamp, User, UserId,
};
use serde::Deserialize;

use crate::WebState;
use crate::cases::{PRIORITIES, STATUSES, status_label};
use crate::error::ApiError;
use crate::extract::{IdPath, IdPath2, PageForm, QueryFields};
use crate::page::form::{FormErrors, answer, done, rejected};
use crate::page::{Layout, PageActor, is_htmx};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/lists", get(index).post(create))
        .route("/lists/new", get(new))
        .route("/lists/preview", post(preview))
        .route("/lists/{id}", get(show).post(update))
        .route("/lists/{id}/edit", get(edit))
        .route("/lists/{id}/archive", post(archive))
        .route("/lists/{id}/restore", post(restore))
        .route("/lists/{id}/runs", post(run_now))
        .route("/lists/{id}/runs/{run_id}", get(show_run))
        .route("/work", get(work))
        .route("/work/{id}/skip", post(skip))
}

const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// The list form as typed; every value is text so a bad one is an error beside its field.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ListForm {
    name: String,
    description: String,
    time_zone: String,
    integration_ids: Vec<String>,
    group_ids: Vec<String>,
    team_ids: Vec<String>,
    user_ids: Vec<String>,
    date_field: String,
    /// `last_days`, `previous_week`, `previous_month`, `range` or `any`.
    window: String,
    last_days: String,
    from: String,
    to: String,
    statuses: Vec<String>,
    priorities: Vec<String>,
    tags: String,
    helpdesk_team_ids: String,
    min_agent_messages: String,
    subject_contains: String,
    kind: String,
    count: String,
    per: String,
    exclude_evaluated: Option<String>,
    exclude_assigned: Option<String>,
    evaluator_ids: Vec<String>,
    /// Every evaluator offered, in the order of `weights`: the weight typed beside each.
    weight_for: Vec<String>,
    weights: Vec<String>,
    replace_skipped: Option<String>,
    scorecard_id: String,
    every: String,
    at: String,
    weekday: String,
    day: String,
}

impl Default for ListForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            time_zone: "UTC".to_owned(),
            integration_ids: Vec::new(),
            group_ids: Vec::new(),
            team_ids: Vec::new(),
            user_ids: Vec::new(),
            date_field: "created".to_owned(),
            window: "last_days".to_owned(),
            last_days: "7".to_owned(),
            from: String::new(),
            to: String::new(),
            statuses: vec!["solved".to_owned()],
            priorities: Vec::new(),
            tags: String::new(),
            helpdesk_team_ids: String::new(),
            min_agent_messages: String::new(),
            subject_contains: String::new(),
            kind: "random".to_owned(),
            count: "5".to_owned(),
            per: "agent".to_owned(),
            exclude_evaluated: Some("on".to_owned()),
            exclude_assigned: Some("on".to_owned()),
            evaluator_ids: Vec::new(),
            weight_for: Vec::new(),
            weights: Vec::new(),
            replace_skipped: Some("on".to_owned()),
            scorecard_id: String::new(),
            every: String::new(),
            at: "07:00".to_owned(),
            weekday: "monday".to_owned(),
            day: "1".to_owned(),
        }
    }
}

fn commas(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

pub(crate) fn day(text: &str, field: &str, end: bool, errors: &mut FieldErrors) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| if end { d.next_day().unwrap_or(d) } else { d })
        .map(|d| Timestamp::from_offset_date_time(d.midnight().assume_utc()))
        .map_err(|_| "Give a day such as 2026-11-01.".to_owned());
    errors.check(field, parsed)
}

impl ListForm {
    fn of(definition: &ListDefinition) -> Self {
        let date = |at: Option<Timestamp>| at.map(|t| t.to_rfc3339()[..10].to_owned()).unwrap_or_default();
        let filters = &definition.filters;
        let (window, last_days) = match filters.relative {
            Some(Relative::LastDays { last_days }) => ("last_days", last_days.to_string()),
            Some(Relative::Previous { previous: Period::Week }) => ("previous_week", String::new()),
            Some(Relative::Previous { previous: Period::Month }) => ("previous_month", String::new()),
            None if filters.from.is_some() || filters.to.is_some() => ("range", String::new()),
            None => ("any", String::new()),
        };
        let schedule = definition.schedule.as_ref();
        Self {
            name: definition.name.clone(),
            description: definition.description.clone(),
            time_zone: definition.time_zone.clone(),
            integration_ids: definition.integration_ids.iter().map(ToString::to_string).collect(),
            group_ids: definition.scope.group_ids.iter().map(ToString::to_string).collect(),
            team_ids: definition.scope.team_ids.iter().map(ToString::to_string).collect(),
            user_ids: definition.scope.user_ids.iter().map(ToString::to_string).collect(),
            date_field: filters.date_field.as_str().to_owned(),
            window: window.to_owned(),
            last_days,
            // The form shows days; the stored end is the start of the day after.
            from: date(filters.from),
            to: date(filters.to.map(|t| t.saturating_sub(std::time::Duration::from_secs(86_400)))),
            statuses: filters.statuses.clone(),
            priorities: filters.priorities.iter().map(ToString::to_string).collect(),
            tags: filters.tags.join(", "),
            helpdesk_team_ids: filters.helpdesk_team_ids.join(", "),
            min_agent_messages: filters.min_agent_messages.map(|n| n.to_string()).unwrap_or_default(),
            subject_contains: filters.subject_contains.clone().unwrap_or_default(),
            kind: definition.kind.as_str().to_owned(),
            count: definition.count.map(|n| n.to_string()).unwrap_or_default(),
            per: if definition.per == Per::Total { "total" } else { "agent" }.to_owned(),
            exclude_evaluated: definition.exclude.evaluated.then(|| "on".to_owned()),
            exclude_assigned: definition.exclude.assigned_elsewhere.then(|| "on".to_owned()),
            evaluator_ids: definition.evaluators.iter().map(|e| e.user_id.to_string()).collect(),
            weight_for: definition.evaluators.iter().map(|e| e.user_id.to_string()).collect(),
            weights: definition
                .evaluators
                .iter()
                .map(|e| e.weight.map(|w| w.to_string()).unwrap_or_default())
                .collect(),
            replace_skipped: definition.replace_skipped.then(|| "on".to_owned()),
            scorecard_id: definition.scorecard_id.map(|id| id.to_string()).unwrap_or_default(),
            every: schedule
                .map(|s| match s.every {
                    Every::Day => "day",
                    Every::Week => "week",
                    Every::Month => "month",
                })
                .unwrap_or_default()
                .to_owned(),
            at: schedule.map_or_else(|| "07:00".to_owned(), |s| s.at.clone()),
            weekday: schedule.and_then(|s| s.weekday.clone()).unwrap_or_else(|| "monday".to_owned()),
            day: schedule.and_then(|s| s.day).map_or_else(|| "1".to_owned(), |d| d.to_string()),
        }
    }

    /// The definition, or the problems of what was typed, each beside its field.
    fn definition(&self) -> Result<ListDefinition, AppError> {
        let mut errors = FieldErrors::new();
        let ids = |field: &str, values: &[String], errors: &mut FieldErrors| -> Vec<uuid::Uuid> {
            values
                .iter()
                .filter(|v| !v.trim().is_empty())
                .filter_map(|v| {
                    errors.check(field, v.trim().parse().map_err(|_| "Choose from the list.".to_owned()))
                })
                .collect()
        };
        let number = |field: &str, text: &str, errors: &mut FieldErrors| -> Option<u32> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            errors.check(field, text.parse::<u32>().map_err(|_| "Give a whole number.".to_owned()))
        };
        let relative = match self.window.as_str() {
            "last_days" => Some(Relative::LastDays {
                last_days: number("filters.relative", &self.last_days, &mut errors).unwrap_or(0),
            }),
            "previous_week" => Some(Relative::Previous { previous: Period::Week }),
            "previous_month" => Some(Relative::Previous { previous: Period::Month }),
            _ => None,
        };
        let (from, to) = if self.window == "range" {
            (
                day(&self.from, "filters.from", false, &mut errors),
                day(&self.to, "filters.to", true, &mut errors),
            )
        } else {
            (None, None)
        };
        let date_field =
            errors.check("filters.date_field", DateField::parse(&self.date_field)).unwrap_or_default();
        let priorities = self
            .priorities
            .iter()
            .filter_map(|p| {
                errors
                    .check("filters.priorities", p.parse::<i64>().map_err(|_| "Choose from the list.".into()))
            })
            .collect();
        let weights: HashMap<String, String> =
            self.weight_for.iter().cloned().zip(self.weights.iter().map(|w| w.trim().to_owned())).collect();
        let mut evaluators = Vec::new();
        for id in ids("evaluators", &self.evaluator_ids, &mut errors) {
            let weight = match weights.get(&id.to_string()).filter(|w| !w.is_empty()) {
                Some(weight) => number("evaluators", weight, &mut errors),
                None => None,
            };
            evaluators.push(EvaluatorShare { user_id: UserId::from_uuid(id), weight });
        }
        let kind = match self.kind.as_str() {
            "sequential" => ListKind::Sequential,
            "all" => ListKind::All,
            "manual" => ListKind::Manual,
            _ => ListKind::Random,
        };
        let schedule = match self.every.as_str() {
            "day" | "week" | "month" => Some(Schedule {
                every: match self.every.as_str() {
                    "day" => Every::Day,
                    "week" => Every::Week,
                    _ => Every::Month,
                },
                at: self.at.clone(),
                weekday: (self.every == "week").then(|| self.weekday.clone()),
                day: if self.every == "month" {
                    number("schedule.day", &self.day, &mut errors).map(|d| u8::try_from(d).unwrap_or(u8::MAX))
                } else {
                    None
                },
            }),
            _ => None,
        };
        let definition = ListDefinition {
            name: self.name.clone(),
            description: self.description.trim().to_owned(),
            time_zone: self.time_zone.trim().to_owned(),
            integration_ids: ids("integration_ids", &self.integration_ids, &mut errors)
                .into_iter()
                .map(IntegrationId::from_uuid)
                .collect(),
            scope: ListScope {
                group_ids: ids("scope.group_ids", &self.group_ids, &mut errors)
                    .into_iter()
                    .map(scoreline_core::GroupId::from_uuid)
                    .collect(),
                team_ids: ids("scope.team_ids", &self.team_ids, &mut errors)
                    .into_iter()
                    .map(scoreline_core::TeamId::from_uuid)
                    .collect(),
                user_ids: ids("scope.user_ids", &self.user_ids, &mut errors)
                    .into_iter()
                    .map(UserId::from_uuid)
                    .collect(),
            },
            filters: ListFilters {
                date_field,
                from,
                to,
                relative,
                statuses: self.statuses.clone(),
                priorities,
                helpdesk_team_ids: commas(&self.helpdesk_team_ids),
                tags: commas(&self.tags),
                min_agent_messages: number(
                    "filters.min_agent_messages",
                    &self.min_agent_messages,
                    &mut errors,
                ),
                subject_contains: Some(self.subject_contains.trim().to_owned()).filter(|s| !s.is_empty()),
            },
            kind,
            count: number("count", &self.count, &mut errors),
            per: if self.per == "total" { Per::Total } else { Per::Agent },
            exclude: Exclusions {
                evaluated: self.exclude_evaluated.is_some(),
                assigned_elsewhere: self.exclude_assigned.is_some(),
            },
            evaluators,
            replace_skipped: self.replace_skipped.is_some(),
            scorecard_id: ids("scorecard_id", std::slice::from_ref(&self.scorecard_id), &mut errors)
                .into_iter()
                .next(),
            schedule,
        };
        errors.into_result()?;
        Ok(definition)
    }

    fn has(values: &[String], value: &str) -> bool {
        values.iter().any(|v| v == value)
    }

    fn weight_of(&self, user: &UserId) -> String {
        let user = user.to_string();
        self.weight_for
            .iter()
            .zip(&self.weights)
            .find(|(id, _)| **id == user)
            .map(|(_, w)| w.clone())
            .unwrap_or_default()
    }
}

/// What the form chooses from: integrations, groups, teams and staff in scope, who can
/// evaluate, and the scorecards not archived.
struct Choices {
    integrations: Vec<(IntegrationId, String)>,
    groups: Vec<Group>,
    teams: Vec<Team>,
    staff: Vec<User>,
    scorecards: Vec<Scorecard>,
}

impl Choices {
    async fn load(state: &WebState, page: &PageActor) -> Result<Self, ApiError> {
        let everyone = PageRequest::first(PageRequest::MAX_LIMIT);
        Ok(Self {
            integrations: state.app.integration_choices(&page.actor).await?,
            groups: state.app.list_groups(&page.actor, everyone).await?.items,
            teams: state.app.list_teams(&page.actor, everyone).await?.items,
            scorecards: state.app.list_scorecards(&page.actor, false, everyone).await?.items,
            staff: state
                .app
                .list_users(&page.actor, everyone)
                .await?
                .items
                .into_iter()
                .filter(|u| u.active)
                .collect(),
        })
    }

    fn evaluators(&self) -> Vec<&User> {
        self.staff.iter().filter(|u| u.role.can(Permission::Evaluate)).collect()
    }

    fn name_of(&self, id: &UserId) -> String {
        self.staff
            .iter()
            .find(|u| u.id == *id)
            .map_or_else(|| "someone outside your scope".to_owned(), |u| u.name.clone())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "lists/form.html")]
struct FormPage {
    layout: Layout,
    /// `None` for a new list.
    list: Option<List>,
    form: ListForm,
    errors: FormErrors,
    choices: Choices,
    preview: Option<PreviewPart>,
}

impl FormPage {
    fn action(&self) -> String {
        self.list.as_ref().map_or_else(|| "/lists".to_owned(), |list| format!("/lists/{}", list.id))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "lists/preview.html")]
struct PreviewPart {
    result: Option<ListPreview>,
    /// Why there is no preview: the fields to fix.
    problems: Vec<String>,
    layout_now: Timestamp,
}

impl PreviewPart {
    fn when(&self, at: &Timestamp) -> crate::page::time::When {
        crate::page::time::When::new(*at, self.layout_now)
    }
}

async fn form_page(
    state: &WebState,
    page: &PageActor,
    list: Option<List>,
    form: ListForm,
    errors: FormErrors,
    preview: Option<PreviewPart>,
) -> Result<FormPage, ApiError> {
    page.actor.require(Permission::ManageLists).map_err(ApiError::from)?;
    let choices = Choices::load(state, page).await?;
    Ok(FormPage { layout: page.layout(), list, form, errors, choices, preview })
}

async fn new(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    let mut form = ListForm::default();
    let integrations = state.app.integration_choices(&page.actor).await?;
    if integrations.len() == 1 {
        form.integration_ids = vec![integrations[0].0.to_string()];
    }
    Ok(form_page(&state, &page, None, form, FormErrors::none(), None).await?.into_response())
}

async fn create(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<ListForm>,
) -> Result<Response, ApiError> {
    let result = async { state.app.create_list(&page.actor, form.definition()?).await }.await;
    let saved = |list: List| {
        done(format!("/lists/{}", list.id), format!("Saved the list “{}”.", list.definition.name))
    };
    answer("list-form", result, saved, async |errors| {
        form_page(&state, &page, None, form.clone(), errors, None).await
    })
    .await
}

async fn edit(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ListId>,
) -> Result<Response, ApiError> {
    let list = state.app.get_list(&page.actor, id).await?;
    let form = ListForm::of(&list.definition);
    Ok(form_page(&state, &page, Some(list), form, FormErrors::none(), None).await?.into_response())
}

async fn update(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ListId>,
    PageForm(form): PageForm<ListForm>,
) -> Result<Response, ApiError> {
    let list = state.app.get_list(&page.actor, id).await?;
    let result = async {
        let definition =
            serde_json::to_value(form.definition()?).map_err(|e| AppError::Internal(e.to_string()))?;
        state.app.update_list(&page.actor, id, definition).await
    }
    .await;
    let saved = |list: List| done(format!("/lists/{}", list.id), format!("Saved version {}.", list.version));
    answer("list-form", result, saved, async |errors| {
        form_page(&state, &page, Some(list), form.clone(), errors, None).await
    })
    .await
}

/// The preview of the form as it stands: the part alone for htmx, else the whole form page.
async fn preview(
    State(state): State<WebState>,
    page: PageActor,
    headers: HeaderMap,
    PageForm(form): PageForm<ListForm>,
) -> Result<Response, ApiError> {
    let now = state.app.clock().now();
    let outcome = async { state.app.preview_list(&page.actor, form.definition()?).await }.await;
    let (part, errors) = match outcome {
        Ok(result) => {
            (PreviewPart { result: Some(result), problems: Vec::new(), layout_now: now }, FormErrors::none())
        }
        Err(error) => {
            let (_, errors) = rejected("list-form", error)?;
            let problems = errors.all_messages();
            (PreviewPart { result: None, problems, layout_now: now }, errors)
        }
    };
    if is_htmx(&headers) {
        return Ok(part.into_response());
    }
    Ok(form_page(&state, &page, None, form, errors, Some(part)).await?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IndexQuery {
    archived: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "lists/index.html")]
struct IndexPage {
    layout: Layout,
    lists: Vec<List>,
    archived: bool,
}

pub(crate) fn summary(definition: &ListDefinition) -> String {
    let count = definition.count.map(|n| n.to_string()).unwrap_or_default();
    let per = if definition.per == Per::Agent { " per agent" } else { " in total" };
    let kind = match definition.kind {
        ListKind::Random => format!("Random, {count}{per}"),
        ListKind::Sequential => format!("Sequential, {count}{per}"),
        ListKind::All => "All of the pool".to_owned(),
        ListKind::Manual => "Picked by hand".to_owned(),
    };
    let window = match definition.filters.relative {
        // The window runs from midnight `last_days` days back to now (DESIGN.md §7.2's calendar
        // days): the days before today, and today so far.
        Some(Relative::LastDays { last_days }) => format!(", last {last_days} days and today"),
        Some(Relative::Previous { previous: Period::Week }) => ", previous week".to_owned(),
        Some(Relative::Previous { previous: Period::Month }) => ", previous month".to_owned(),
        None if definition.filters.from.is_some() || definition.filters.to.is_some() => {
            ", fixed dates".to_owned()
        }
        None => String::new(),
    };
    let statuses = if definition.filters.statuses.is_empty() {
        String::new()
    } else {
        let labels: Vec<&str> = definition.filters.statuses.iter().map(|s| status_label(s)).collect();
        format!(", {}", labels.join(" or "))
    };
    format!("{kind}{window}{statuses}")
}

/// `monday` is "Monday": the form's value of a weekday, as a person reads it.
pub(crate) fn weekday_label(day: &str) -> String {
    let mut letters = day.chars();
    letters.next().map(|first| first.to_uppercase().chain(letters).collect()).unwrap_or_default()
}

pub(crate) fn schedule_text(definition: &ListDefinition) -> String {
    match &definition.schedule {
        None => "Runs when someone runs it".to_owned(),
        Some(s) => match s.every {
            Every::Day => format!("Daily at {} ({})", s.at, definition.time_zone),
            Every::Week => format!(
                "Every {} at {} ({})",
                weekday_label(s.weekday.as_deref().unwrap_or_default()),
                s.at,
                definition.time_zone
            ),
            Every::Month => {
                format!("Monthly on day {} at {} ({})", s.day.unwrap_or(1), s.at, definition.time_zone)
            }
        },
    }
}

async fn index(
    State(state): State<WebState>,
    page: PageActor,
    QueryFields(query): QueryFields<IndexQuery>,
) -> Result<Response, ApiError> {
    let archived = query.archived.as_deref() == Some("true");
    let lists =
        state.app.list_lists(&page.actor, archived, PageRequest::first(PageRequest::MAX_LIMIT)).await?;
    Ok(IndexPage { layout: page.layout(), lists: lists.items, archived }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "lists/show.html")]
struct ShowPage {
    layout: Layout,
    list: List,
    runs: Vec<ListRun>,
    errors: FormErrors,
    choices: Choices,
    /// A manual list's pool to tick cases in, a page at a time.
    pool: Option<PoolChoices>,
    search: PoolSearch,
}

impl ShowPage {
    /// The link to the pool's next page, keeping the search.
    fn next_page(&self) -> Option<String> {
        let (date, case) = self.pool.as_ref()?.next?;
        Some(self.pool_link(Some(format!("{}.{case}", date.as_millis()))))
    }

    /// The link to the pool's first page, keeping the search.
    fn first_page(&self) -> String {
        self.pool_link(None)
    }

    fn pool_link(&self, after: Option<String>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("q", &self.search.q);
        if let Some(after) = after {
            query.append_pair("after", &after);
        }
        format!("/lists/{}?{}#pool", self.list.id, query.finish())
    }
}

/// The search and the page of a manual list's pool (`?q=…&after=<millis>.<case id>`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct PoolSearch {
    q: String,
    after: String,
}

impl PoolSearch {
    /// The cursor, or the first page for one that does not parse (it only comes from our links).
    fn cursor(&self) -> Option<(Timestamp, CaseId)> {
        let (millis, case) = self.after.split_once('.')?;
        Some((Timestamp::from_millis(millis.parse().ok()?), case.parse().ok()?))
    }
}

async fn show_page(
    state: &WebState,
    page: &PageActor,
    id: ListId,
    errors: FormErrors,
    search: PoolSearch,
) -> Result<ShowPage, ApiError> {
    let list = state.app.get_list(&page.actor, id).await?;
    let runs = state.app.list_runs(&page.actor, id, PageRequest::first(50)).await?.items;
    let choices = Choices::load(state, page).await?;
    let pool = if list.definition.kind == ListKind::Manual && list.archived_at.is_none() {
        let text = Some(search.q.trim().to_owned()).filter(|q| !q.is_empty());
        Some(state.app.pool_page(&page.actor, id, text, search.cursor(), POOL_PAGE).await?)
    } else {
        None
    };
    Ok(ShowPage { layout: page.layout(), list, runs, errors, choices, pool, search })
}

/// Cases of a manual list's pool shown at once.
const POOL_PAGE: u32 = 20;

async fn show(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ListId>,
    QueryFields(search): QueryFields<PoolSearch>,
) -> Result<Response, ApiError> {
    Ok(show_page(&state, &page, id, FormErrors::none(), search).await?.into_response())
}

async fn archive(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ListId>,
) -> Result<Response, ApiError> {
    let result = state.app.set_list_archived(&page.actor, id, true).await;
    let archived =
        |_| done("/lists", "Archived the list. Its runs and assignments stay; restore it to run it again.");
    answer("list-actions", result, archived, async |errors| {
        show_page(&state, &page, id, errors, PoolSearch::default()).await
    })
    .await
}

async fn restore(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ListId>,
) -> Result<Response, ApiError> {
    let result = state.app.set_list_archived(&page.actor, id, false).await;
    let restored = |_| done(format!("/lists/{id}"), "Restored the list.");
    answer("list-actions", result, restored, async |errors| {
        show_page(&state, &page, id, errors, PoolSearch::default()).await
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RunForm {
    case_ids: Vec<String>,
}

async fn run_now(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ListId>,
    PageForm(form): PageForm<RunForm>,
) -> Result<Response, ApiError> {
    let result = async {
        let mut chosen = Vec::new();
        for text in form.case_ids.iter().filter(|t| !t.trim().is_empty()) {
            chosen.push(
                text.trim()
                    .parse::<CaseId>()
                    .map_err(|_| AppError::field("case_ids", "Tick cases of the pool below."))?,
            );
        }
        state.app.run_list(&page.actor, id, chosen).await
    }
    .await;
    let ran = |run: ListRun| {
        done(format!("/lists/{id}/runs/{}", run.id), format!("The run picked {} cases.", run.picks.len()))
    };
    answer("list-actions", result, ran, async |errors| {
        show_page(&state, &page, id, errors, PoolSearch::default()).await
    })
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "lists/run.html")]
struct RunPage {
    layout: Layout,
    list: List,
    run: ListRun,
    definition: ListDefinition,
    assignments: Vec<Assignment>,
    names: HashMap<UserId, String>,
    cases: HashMap<CaseId, String>,
}

impl RunPage {
    fn name(&self, id: &UserId) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| "someone outside your scope".to_owned())
    }

    fn case_label(&self, id: &CaseId) -> String {
        self.cases.get(id).cloned().unwrap_or_else(|| "a case outside your scope".to_owned())
    }

    fn state_of(&self, pick: &scoreline_core::RunPick) -> String {
        let Some(id) = pick.assignment_id else { return "Not assigned".to_owned() };
        match self.assignments.iter().find(|a| a.id == id) {
            Some(a) if a.status == "skipped" => {
                format!("Skipped: {}", a.skip_reason.clone().unwrap_or_default())
            }
            Some(a) if a.status == "todo" => "To do".to_owned(),
            Some(a) if a.status == "in_progress" => "In progress".to_owned(),
            Some(a) if a.status == "done" => "Done".to_owned(),
            Some(a) => a.status.clone(),
            None => "—".to_owned(),
        }
    }

    /// "Why this case", from the run alone.
    fn why(&self, pick: &scoreline_core::RunPick) -> String {
        let whose = match self.definition.per {
            Per::Agent => format!("{}'s pool of {}", self.name(&pick.agent_user_id), pick.pool),
            Per::Total => format!("the whole pool of {}", pick.pool),
        };
        let how = match self.definition.kind {
            ListKind::Random => {
                format!("ranked {} of {whose} in the random order of seed {}", pick.rank, self.run.seed)
            }
            ListKind::Sequential => format!(
                "number {} of {whose}, oldest first by {}, after the cases this list picked before",
                pick.rank,
                self.definition.filters.date_field.label().to_lowercase()
            ),
            ListKind::All => format!("part of {whose}: this list takes all of it"),
            ListKind::Manual => "chosen by hand from the pool".to_owned(),
        };
        let given = match pick.evaluator_id {
            Some(evaluator) => format!("; given to {}", self.name(&evaluator)),
            None => "; not assigned, as only its own agent evaluates this list".to_owned(),
        };
        format!("Picked as {how}{given}.")
    }
}

async fn show_run(
    State(state): State<WebState>,
    page: PageActor,
    IdPath2(list_id, run_id): IdPath2<ListId, RunId>,
) -> Result<Response, ApiError> {
    let list = state.app.get_list(&page.actor, list_id).await?;
    let run = state.app.get_run(&page.actor, list_id, run_id).await?;
    let definition = state.app.list_definition(&page.actor, list_id, run.list_version).await?;
    let assignments = state.app.run_assignments(&page.actor, list_id, run_id).await?;
    let staff = state.app.list_users(&page.actor, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items;
    let names = staff.into_iter().map(|u| (u.id, u.name)).collect();
    let mut cases = HashMap::new();
    for pick in &run.picks {
        if let Ok(case) = state.app.get_case(&page.actor, pick.case_id).await {
            let label = case.short_id.map_or(case.source_id, |short| format!("#{short}"));
            let subject = case.subject.unwrap_or_else(|| "(content removed)".to_owned());
            cases.insert(pick.case_id, format!("{label} {subject}"));
        }
    }
    Ok(RunPage { layout: page.layout(), list, run, definition, assignments, names, cases }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "lists/work.html")]
struct WorkPage {
    layout: Layout,
    open: Vec<Assignment>,
    /// Open calibration sessions the person has yet to submit a scoring to.
    calibrations: Vec<scoreline_core::Calibration>,
    errors: FormErrors,
}

async fn work_page(state: &WebState, page: &PageActor, errors: FormErrors) -> Result<WorkPage, ApiError> {
    let open = state
        .app
        .my_assignments(&page.actor, Some("open".to_owned()), PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items;
    let me = page.actor.user().map(|u| u.id);
    let filter = scoreline_core::CalibrationFilter {
        status: Some(scoreline_core::CalibrationStatus::Open),
        participant: me,
        ..Default::default()
    };
    let calibrations = match me {
        Some(me) => state
            .app
            .list_calibrations(&page.actor, &filter, PageRequest::first(PageRequest::MAX_LIMIT))
            .await?
            .items
            .into_iter()
            .filter(|c| !c.submitted.contains(&me))
            .collect(),
        None => Vec::new(),
    };
    Ok(WorkPage { layout: page.layout(), open, calibrations, errors })
}

async fn work(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    Ok(work_page(&state, &page, FormErrors::none()).await?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SkipForm {
    reason: String,
}

async fn skip(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<AssignmentId>,
    PageForm(form): PageForm<SkipForm>,
) -> Result<Response, ApiError> {
    let result = state.app.skip_assignment(&page.actor, id, &form.reason).await;
    let skipped = |s: scoreline_app::Skipped| {
        let message = match s.replacement {
            Some(_) => "Skipped. A case of the same agent took its place.",
            None => "Skipped. This list does not replace skipped cases.",
        };
        done("/work", message)
    };
    answer(&format!("skip-{id}"), result, skipped, async |errors| work_page(&state, &page, errors).await)
        .await
}
