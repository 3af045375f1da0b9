//! *Score ▸ Scorecards*: the list, the builder (sections, questions and options added, moved
//! and removed without losing what was typed, a live preview through htmx), publish, archive,
//! version history with a readable diff, and TOML export and import.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scoreline_app::AppError;
use scoreline_core::{
    FieldError, Group, PageRequest, Permission, Scorecard, ScorecardId, ScorecardVersion, diff,
};
use serde::Deserialize;

use super::builder::Draft;
use super::card::CardView;
use crate::WebState;
use crate::error::ApiError;
use crate::extract::{ApiQuery, IdPath, PageForm};
use crate::page::form::{FormErrors, done, rejected};
use crate::page::{Layout, PageActor};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/score/scorecards", get(list))
        .route("/score/scorecards/new", get(new).post(create))
        .route("/score/scorecards/preview", post(preview))
        .route("/score/scorecards/import", post(import))
        .route("/score/scorecards/{id}", get(show).post(save))
        .route("/score/scorecards/{id}/archive", post(archive))
        .route("/score/scorecards/{id}/versions", get(versions))
        .route("/score/scorecards/{id}/export", get(export))
}

fn builder_path(id: ScorecardId) -> String {
    format!("/score/scorecards/{id}")
}

#[derive(Template, WebTemplate)]
#[template(path = "scorecards/list.html")]
struct ListPage {
    layout: Layout,
    scorecards: Vec<Scorecard>,
    include_archived: bool,
    file: String,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    archived: Option<String>,
}

async fn list_page(
    state: &WebState,
    page: &PageActor,
    include_archived: bool,
    file: String,
    errors: FormErrors,
) -> Result<ListPage, ApiError> {
    page.actor.require(Permission::ManageScorecards)?;
    let scorecards = state
        .app
        .list_scorecards(&page.actor, include_archived, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items;
    Ok(ListPage { layout: page.layout(), scorecards, include_archived, file, errors })
}

async fn list(
    State(state): State<WebState>,
    page: PageActor,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let include_archived = query.archived.is_some_and(|a| !a.is_empty());
    Ok(list_page(&state, &page, include_archived, String::new(), FormErrors::none()).await?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImportForm {
    file: String,
}

async fn import(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<ImportForm>,
) -> Result<Response, ApiError> {
    match state.app.import_scorecard(&page.actor, &form.file).await {
        Ok(card) => {
            Ok(done(builder_path(card.id), format!("Imported {} as a new draft.", card.name)).into_response())
        }
        Err(error) => {
            // Each problem of the file by its path, at the end of the form.
            let error = match error {
                AppError::Validation(fields) => AppError::Validation(
                    fields
                        .into_iter()
                        .map(|f| match f.field.as_str() {
                            "file" => f,
                            path => FieldError::new("", format!("{path}: {}", f.message)),
                        })
                        .collect(),
                ),
                other => other,
            };
            let (status, errors) = rejected("import", error)?;
            Ok((status, list_page(&state, &page, false, form.file, errors).await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "scorecards/builder.html")]
struct BuilderPage {
    layout: Layout,
    title: String,
    action: String,
    scorecard: Option<Scorecard>,
    archived: bool,
    draft: Draft,
    preview: CardView,
    groups: Vec<Group>,
    group_help: &'static str,
    errors: FormErrors,
}

async fn builder_page(
    state: &WebState,
    page: &PageActor,
    scorecard: Option<Scorecard>,
    draft: Draft,
    errors: FormErrors,
) -> Result<BuilderPage, ApiError> {
    page.actor.require(Permission::ManageScorecards)?;
    let groups = state.app.list_groups(&page.actor, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items;
    let group_help = if page.actor.scope().is_everything() {
        "None picked: everyone's cases may be scored with it."
    } else {
        "Pick one or more of your groups."
    };
    let (title, action) = match &scorecard {
        Some(card) => (card.name.clone(), builder_path(card.id)),
        None => ("New scorecard".to_owned(), "/score/scorecards/new".to_owned()),
    };
    Ok(BuilderPage {
        layout: page.layout(),
        title,
        action,
        archived: scorecard.as_ref().is_some_and(|c| c.archived_at.is_some()),
        scorecard,
        preview: draft.preview(),
        draft,
        groups,
        group_help,
        errors,
    })
}

async fn new(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    Ok(builder_page(&state, &page, None, Draft::blank(), FormErrors::none()).await?.into_response())
}

async fn show(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ScorecardId>,
) -> Result<Response, ApiError> {
    let card = state.app.get_scorecard(&page.actor, id).await?;
    let draft = card.current().map(Draft::of).unwrap_or_else(Draft::blank);
    Ok(builder_page(&state, &page, Some(card), draft, FormErrors::none()).await?.into_response())
}

type Fields = HashMap<String, Vec<String>>;

fn op_of(fields: &Fields) -> String {
    fields.get("op").and_then(|v| v.last()).cloned().unwrap_or_else(|| "save".to_owned())
}

async fn create(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, ApiError> {
    let mut draft = Draft::from_fields(&fields);
    let op = op_of(&fields);
    if draft.apply(&op) {
        return Ok(builder_page(&state, &page, None, draft, FormErrors::none()).await?.into_response());
    }
    let result = async {
        let card = state.app.create_scorecard(&page.actor, &draft.to_input()).await?;
        publish_if_asked(&state, &page, &op, card).await
    }
    .await;
    answer_builder(&state, &page, None, draft, result).await
}

async fn save(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ScorecardId>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, ApiError> {
    let card = state.app.get_scorecard(&page.actor, id).await?;
    let mut draft = Draft::from_fields(&fields);
    let op = op_of(&fields);
    if draft.apply(&op) {
        return Ok(builder_page(&state, &page, Some(card), draft, FormErrors::none()).await?.into_response());
    }
    let result = async {
        let saved = state.app.save_scorecard(&page.actor, id, &draft.to_input()).await?;
        publish_if_asked(&state, &page, &op, saved).await
    }
    .await;
    answer_builder(&state, &page, Some(card), draft, result).await
}

/// After a save: publishes when the person asked to, and says what happened.
async fn publish_if_asked(
    state: &WebState,
    page: &PageActor,
    op: &str,
    card: Scorecard,
) -> Result<(Scorecard, String), AppError> {
    if op != "publish" {
        return Ok((card, "Draft saved.".to_owned()));
    }
    let version = state.app.publish_scorecard(&page.actor, card.id).await?;
    Ok((card, format!("Published version {}.", version.number)))
}

async fn answer_builder(
    state: &WebState,
    page: &PageActor,
    card: Option<Scorecard>,
    draft: Draft,
    result: Result<(Scorecard, String), AppError>,
) -> Result<Response, ApiError> {
    match result {
        Ok((saved, message)) => Ok(done(builder_path(saved.id), message).into_response()),
        Err(error) => {
            let (status, errors) = rejected("builder", error)?;
            Ok((status, builder_page(state, page, card, draft, errors).await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "scorecards/preview.html")]
struct PreviewFragment {
    preview: CardView,
    errors: FormErrors,
}

/// The live preview, redrawn by htmx from the builder's fields as they are typed.
async fn preview(page: PageActor, PageForm(fields): PageForm<Fields>) -> Result<Response, ApiError> {
    page.actor.require(Permission::ManageScorecards)?;
    let preview = Draft::from_fields(&fields).preview();
    Ok(PreviewFragment { preview, errors: FormErrors::none() }.into_response())
}

async fn archive(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ScorecardId>,
) -> Result<Response, ApiError> {
    let card = state.app.archive_scorecard(&page.actor, id).await?;
    Ok(done(builder_path(id), format!("Archived {}: it takes no new evaluations.", card.name))
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "scorecards/versions.html")]
struct VersionsPage {
    layout: Layout,
    scorecard: Scorecard,
    versions: Vec<ScorecardVersion>,
    from: u32,
    to: u32,
    changes: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DiffQuery {
    from: Option<u32>,
    to: Option<u32>,
}

async fn versions(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ScorecardId>,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> Result<Response, ApiError> {
    let scorecard = state.app.get_scorecard(&page.actor, id).await?;
    let versions = state.app.scorecard_versions(&page.actor, id).await?;
    let latest = scorecard.latest_number();
    // By default, what the latest version changed.
    let to = query.to.unwrap_or(latest);
    let from = query.from.unwrap_or(to.saturating_sub(1));
    let find = |n: u32| versions.iter().find(|v| v.number == n);
    let changes = match (find(from), find(to)) {
        (Some(old), Some(new)) => Some(diff(&old.definition, &new.definition)),
        _ => None,
    };
    Ok(VersionsPage { layout: page.layout(), scorecard, versions, from, to, changes }.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExportQuery {
    version: Option<u32>,
}

async fn export(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<ScorecardId>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let (name, text) = state.app.export_scorecard(&page.actor, id, query.version).await?;
    Ok(super::api::toml_file(&name, text))
}
