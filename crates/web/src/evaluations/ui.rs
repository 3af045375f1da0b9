//! The evaluate page (the case's conversation beside the scorecard, drafts saved as one
//! answers through htmx, the running score unless blind), *Evaluations* (one's own or those in
//! scope), and an evaluation as the agent and supervisors see it: acknowledge, dispute,
//! resolve, revisions.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use scoreline_app::{Actor, App, AppError, Conversation, ResolveDispute, StartEvaluation, UpdateEvaluation};
use scoreline_core::{
    Answer, AssignmentId, CaseId, Evaluation, EvaluationFilter, EvaluationId, EvaluationStatus, Outcome,
    PageRequest, Permission, Revision, Scorecard, ScorecardDefinition, ScorecardId, ScorecardVersion,
    StoredCase, UserId,
};
use serde::Deserialize;

use crate::WebState;
use crate::error::ApiError;
use crate::extract::{IdPath, PageForm};
use crate::page::form::{FormErrors, done, rejected, required_pick};
use crate::page::{Layout, PageActor, is_htmx};
use crate::scorecards::card::CardView;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/evaluations", get(list))
        .route("/cases/{id}/evaluate", get(choose).post(start))
        .route("/evaluations/{id}", get(show).post(save))
        .route("/evaluations/{id}/acknowledge", post(acknowledge))
        .route("/evaluations/{id}/dispute", post(dispute))
        .route("/evaluations/{id}/resolve", post(resolve))
}

fn evaluation_path(id: EvaluationId) -> String {
    format!("/evaluations/{id}")
}

pub(crate) type Fields = HashMap<String, Vec<String>>;

pub(crate) fn last<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).and_then(|v| v.last()).map_or("", String::as_str)
}

/// The answers of the scorecard form (`answer.<question id>` = option id or `na`,
/// `comment.<question id>`), in the scorecard's order.
pub(crate) fn answers_of(definition: &ScorecardDefinition, fields: &Fields) -> Vec<Answer> {
    definition
        .sections
        .iter()
        .flat_map(|s| &s.questions)
        .filter_map(|question| {
            let chosen = last(fields, &format!("answer.{}", question.id));
            let comment = last(fields, &format!("comment.{}", question.id)).trim();
            if chosen.is_empty() && comment.is_empty() {
                return None;
            }
            Some(Answer {
                question_id: Some(question.id),
                option_id: chosen.parse().ok(),
                na: chosen == "na",
                comment: (!comment.is_empty()).then(|| comment.to_owned()),
            })
        })
        .collect()
}

/// A running or stored score in words, and each section's.
pub struct ScoreSummary {
    pub overall: String,
    pub passed: Option<bool>,
    pub fail_all: bool,
    pub sections: Vec<(String, String)>,
}

impl ScoreSummary {
    fn of(outcome: &Outcome, definition: &ScorecardDefinition) -> Self {
        let shown = |score: Option<scoreline_core::Score>| score.map_or("N/A".to_owned(), |s| s.to_string());
        Self {
            overall: shown(outcome.score),
            passed: outcome.passed,
            fail_all: outcome.fail_all,
            sections: definition
                .sections
                .iter()
                .map(|section| {
                    let result = outcome.sections.iter().find(|s| s.section_id == section.id);
                    let text = match result {
                        Some(s) if s.failed => "0.00 (failed)".to_owned(),
                        Some(s) => shown(s.score),
                        None => "N/A".to_owned(),
                    };
                    (section.title.clone(), text)
                })
                .collect(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluations/list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    mine_only: bool,
}

struct Row {
    evaluation: Evaluation,
    agent: String,
    evaluator: String,
}

/// How a page names a person of an evaluation: "you", their name, or "—" for nobody.
fn name_of(names: &HashMap<UserId, String>, actor: &Actor, user: Option<UserId>) -> String {
    let Some(id) = user else { return "—".to_owned() };
    if actor.user().map(|u| u.id) == Some(id) {
        return "you".to_owned();
    }
    names.get(&id).cloned().unwrap_or_else(|| "a removed user".to_owned())
}

async fn list(State(state): State<WebState>, page: PageActor) -> Result<Response, ApiError> {
    let actor = &page.actor;
    let evaluations = state
        .app
        .list_evaluations(actor, &EvaluationFilter::default(), PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items;
    let names = state.app.evaluation_people(&evaluations).await?;
    let rows = evaluations
        .into_iter()
        .rev()
        .map(|evaluation| Row {
            agent: name_of(&names, actor, evaluation.agent_user_id),
            evaluator: name_of(&names, actor, Some(evaluation.evaluator_id)),
            evaluation,
        })
        .collect();
    let mine_only = !actor.can(Permission::Evaluate);
    Ok(ListPage { layout: page.layout(), rows, mine_only }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluations/choose.html")]
struct ChoosePage {
    layout: Layout,
    case: StoredCase,
    scorecards: Vec<Scorecard>,
    /// The assignment from My work this evaluation answers.
    assignment: Option<AssignmentId>,
    /// The agent scoring their own case.
    self_score: bool,
    /// The scorecard chosen at first: the one the assignment's list names, else the first.
    checked: Option<ScorecardId>,
    errors: FormErrors,
}

impl ChoosePage {
    fn is_checked(&self, card: &Scorecard) -> bool {
        self.checked == Some(card.id)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChooseQuery {
    assignment: String,
}

/// Resumes one's draft of this case, or asks which scorecard to score it with.
async fn choose(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(case_id): IdPath<CaseId>,
    Query(query): Query<ChooseQuery>,
) -> Result<Response, ApiError> {
    let case = state.app.get_case(&page.actor, case_id).await?;
    if let Some(draft) = own_draft(&state.app, &page.actor, case_id).await? {
        return Ok(Redirect::to(&evaluation_path(draft)).into_response());
    }
    // A malformed id cannot come from My work's links; the evaluation then answers none.
    let assignment = query.assignment.trim().parse().ok();
    Ok(choose_page(&state, &page, case, assignment, FormErrors::none()).await?.into_response())
}

async fn own_draft(app: &App, actor: &Actor, case_id: CaseId) -> Result<Option<EvaluationId>, ApiError> {
    let Some(me) = actor.user().map(|u| u.id) else { return Ok(None) };
    let filter = EvaluationFilter {
        case_id: Some(case_id),
        evaluator_id: Some(me),
        status: Some(EvaluationStatus::Draft),
        ..EvaluationFilter::default()
    };
    Ok(app.list_evaluations(actor, &filter, PageRequest::first(1)).await?.items.first().map(|e| e.id))
}

async fn choose_page(
    state: &WebState,
    page: &PageActor,
    case: StoredCase,
    assignment: Option<AssignmentId>,
    errors: FormErrors,
) -> Result<ChoosePage, ApiError> {
    let scorecards: Vec<Scorecard> = state
        .app
        .list_scorecards(&page.actor, false, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items
        .into_iter()
        .filter(|card| card.latest.is_some())
        .collect();
    let self_score = case.agent_user_id.is_some() && case.agent_user_id == page.actor.user().map(|u| u.id);
    let named = match assignment {
        Some(id) => state.app.assignment_scorecard(&page.actor, id).await?,
        None => None,
    };
    let checked = named
        .filter(|id| scorecards.iter().any(|card| card.id == *id))
        .or_else(|| scorecards.first().map(|card| card.id));
    Ok(ChoosePage { layout: page.layout(), case, scorecards, assignment, self_score, checked, errors })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StartForm {
    scorecard_id: String,
    assignment_id: String,
}

async fn start(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(case_id): IdPath<CaseId>,
    PageForm(form): PageForm<StartForm>,
) -> Result<Response, ApiError> {
    let assignment = form.assignment_id.trim().parse::<AssignmentId>().ok();
    let result = async {
        let card_id =
            required_pick::<ScorecardId>("scorecard_id", &form.scorecard_id, "Choose a scorecard.")?;
        let card = state.app.get_scorecard(&page.actor, card_id).await?;
        let version = card
            .latest
            .ok_or_else(|| AppError::field("scorecard_id", "This scorecard is not published yet."))?;
        let input = StartEvaluation {
            case_id: Some(case_id),
            scorecard_version_id: Some(version.id),
            assignment_id: assignment.map(|id| id.as_uuid()),
            ..StartEvaluation::default()
        };
        state.app.start_evaluation(&page.actor, input).await
    }
    .await;
    match result {
        Ok(evaluation) => Ok(Redirect::to(&evaluation_path(evaluation.id)).into_response()),
        Err(error) => {
            let (status, errors) = rejected("start", error)?;
            let case = state.app.get_case(&page.actor, case_id).await?;
            Ok((status, choose_page(&state, &page, case, assignment, errors).await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluations/show.html")]
struct EvaluationPage {
    layout: Layout,
    evaluation: Evaluation,
    version: ScorecardVersion,
    case: Option<StoredCase>,
    conversation: Conversation,
    card: CardView,
    summary: ScoreSummary,
    agent: String,
    evaluator: String,
    /// The evaluator answering their draft.
    answering: bool,
    is_agent: bool,
    can_dispute: bool,
    dispute_until: Option<scoreline_core::Timestamp>,
    can_resolve: bool,
    revisions: Vec<Revision>,
    comment: String,
    errors: FormErrors,
}

async fn evaluation_page(
    state: &WebState,
    page: &PageActor,
    id: EvaluationId,
    typed: Option<(Vec<Answer>, String)>,
    errors: FormErrors,
) -> Result<EvaluationPage, ApiError> {
    let actor = &page.actor;
    let (evaluation, version) = state.app.evaluation_with_version(actor, id).await?;
    let me = actor.user().map(|u| u.id);
    let case = state.app.get_case(actor, evaluation.case_id).await.ok();
    let conversation = case
        .as_ref()
        .map(|case| Conversation::of(case.requester.as_ref(), case.content.as_ref().map(|c| &c.events)))
        .unwrap_or_default();
    let answering = evaluation.status == EvaluationStatus::Draft && me == Some(evaluation.evaluator_id);
    let (answers, comment) =
        typed.unwrap_or_else(|| (evaluation.answers.clone(), evaluation.comment.clone()));
    let outcome = scoreline_core::score(&version.definition, &scoreline_core::choices_of(&answers));
    let is_agent = me.is_some() && evaluation.agent_user_id == me;
    let dispute_until = App::dispute_deadline(&evaluation, &version.definition);
    let submitted = evaluation.status == EvaluationStatus::Submitted;
    let can_dispute = is_agent
        && submitted
        && evaluation.kind == scoreline_core::EvaluationKind::Evaluation
        && evaluation.open_dispute().is_none()
        && dispute_until.is_some_and(|until| state.app.clock().now() <= until);
    let can_resolve = !is_agent && actor.can(Permission::Evaluate) && evaluation.open_dispute().is_some();
    let revisions = if submitted { state.app.evaluation_revisions(actor, id).await? } else { Vec::new() };
    let names = state.app.evaluation_people(std::slice::from_ref(&evaluation)).await?;
    Ok(EvaluationPage {
        layout: page.layout(),
        agent: name_of(&names, actor, evaluation.agent_user_id),
        evaluator: name_of(&names, actor, Some(evaluation.evaluator_id)),
        card: CardView::answering(&version.definition, &answers),
        summary: ScoreSummary::of(&outcome, &version.definition),
        evaluation,
        case,
        conversation,
        answering,
        is_agent,
        can_dispute,
        dispute_until,
        can_resolve,
        revisions,
        comment,
        version,
        errors,
    })
}

async fn show(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<EvaluationId>,
) -> Result<Response, ApiError> {
    Ok(evaluation_page(&state, &page, id, None, FormErrors::none()).await?.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "evaluations/running_fragment.html")]
struct RunningScore {
    summary: ScoreSummary,
    blind: bool,
    saved: bool,
}

/// Saves the draft (htmx: as one answers, answered with the running score), or submits it.
async fn save(
    State(state): State<WebState>,
    page: PageActor,
    headers: axum::http::HeaderMap,
    IdPath(id): IdPath<EvaluationId>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, ApiError> {
    let (_, version) = state.app.evaluation_with_version(&page.actor, id).await?;
    let answers = answers_of(&version.definition, &fields);
    let comment = last(&fields, "comment").to_owned();
    let submit = last(&fields, "op") == "submit";
    let input = UpdateEvaluation { answers: Some(answers.clone()), comment: Some(comment.clone()), submit };
    let result = state.app.update_evaluation(&page.actor, id, input).await;
    if is_htmx(&headers) && !submit {
        let outcome = scoreline_core::score(&version.definition, &scoreline_core::choices_of(&answers));
        let summary = ScoreSummary::of(&outcome, &version.definition);
        let saved = result.is_ok();
        return Ok(RunningScore { summary, blind: version.definition.blind, saved }.into_response());
    }
    match result {
        Ok(evaluation) => {
            let message = if submit { "Evaluation submitted." } else { "Draft saved." };
            Ok(done(evaluation_path(evaluation.id), message).into_response())
        }
        Err(error) => {
            let (status, errors) = rejected("evaluate", error)?;
            let again = evaluation_page(&state, &page, id, Some((answers, comment)), errors).await?;
            Ok((status, again).into_response())
        }
    }
}

async fn acknowledge(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<EvaluationId>,
) -> Result<Response, ApiError> {
    let result = state.app.acknowledge_evaluation(&page.actor, id).await;
    answer_feedback(&state, &page, id, "feedback", result.map(|_| "Acknowledged.")).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DisputeForm {
    reason: String,
}

async fn dispute(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<EvaluationId>,
    PageForm(form): PageForm<DisputeForm>,
) -> Result<Response, ApiError> {
    let result = state.app.open_dispute(&page.actor, id, &form.reason).await;
    answer_feedback(
        &state,
        &page,
        id,
        "dispute",
        result.map(|_| "Dispute sent; a supervisor will resolve it."),
    )
    .await
}

/// Resolves the open dispute: upheld, or changed with the answers of the scorecard form.
async fn resolve(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<EvaluationId>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, ApiError> {
    let (evaluation, version) = state.app.evaluation_with_version(&page.actor, id).await?;
    let Some(dispute) = evaluation.open_dispute() else {
        return Ok(done(evaluation_path(id), "This dispute is resolved already.").into_response());
    };
    let outcome = last(&fields, "outcome").to_owned();
    let input = ResolveDispute {
        answers: (outcome == "changed").then(|| answers_of(&version.definition, &fields)),
        comment: None,
        reason: last(&fields, "reason").to_owned(),
        outcome,
    };
    let result = state.app.resolve_dispute(&page.actor, dispute.id, input).await;
    answer_feedback(&state, &page, id, "resolve", result.map(|_| "Dispute resolved.")).await
}

async fn answer_feedback(
    state: &WebState,
    page: &PageActor,
    id: EvaluationId,
    form: &str,
    result: Result<&'static str, AppError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(message) => Ok(done(evaluation_path(id), message).into_response()),
        Err(error) => {
            let (status, errors) = rejected(form, error)?;
            Ok((status, evaluation_page(state, page, id, None, errors).await?).into_response())
        }
    }
}
