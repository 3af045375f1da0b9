//! `/api/v1/evaluations` and `/api/v1/disputes`: scoring cases, and the agent's answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use scoreline_app::{App, ResolveDispute, StartEvaluation, UpdateEvaluation};
use scoreline_core::{
    Answer, CaseId, Dispute, DisputeId, Evaluation, EvaluationFilter, EvaluationId, EvaluationKind,
    EvaluationStatus, FieldErrors, Revision, Score, ScorecardId, ScorecardVersion, ScorecardVersionId,
    SectionScore, Timestamp, UserId,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiActor, ApiJson, ApiQuery, IdPath, PageQuery, Permitted, grant};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_evaluations, start_evaluation))
        .routes(routes!(get_evaluation, update_evaluation))
        .routes(routes!(list_revisions))
        .routes(routes!(acknowledge))
        .routes(routes!(open_dispute))
        .routes(routes!(resolve_dispute))
}

/// An evaluation: its answers, score and per-section breakdown as stored at submit (or at its
/// latest revision), and its disputes. `score` is 0–100 with two decimals, or `null` when
/// every section is N/A.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationView {
    #[schema(value_type = String, format = Uuid)]
    pub id: EvaluationId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    /// Retention removed the case's content; the evaluation is unchanged.
    pub case_purged: bool,
    #[schema(value_type = String, format = Uuid)]
    pub scorecard_id: ScorecardId,
    pub scorecard_version: u32,
    #[schema(value_type = String, format = Uuid)]
    pub scorecard_version_id: ScorecardVersionId,
    #[schema(value_type = String, format = Uuid)]
    pub evaluator_id: UserId,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub agent_user_id: Option<UserId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignment_id: Option<uuid::Uuid>,
    /// `evaluation`, `self_score` for an agent's score of their own case, or `calibration` for a
    /// participant's scoring in a calibration session (read through `/calibrations` only).
    #[schema(value_type = String)]
    pub kind: EvaluationKind,
    /// `draft` or `submitted`.
    #[schema(value_type = String)]
    pub status: EvaluationStatus,
    #[schema(value_type = Option<f64>)]
    pub score: Option<Score>,
    pub passed: Option<bool>,
    pub fail_all: bool,
    #[schema(value_type = Vec<Object>)]
    pub sections: Vec<SectionScore>,
    #[schema(value_type = Vec<Object>)]
    pub answers: Vec<Answer>,
    pub comment: String,
    pub revision: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    /// Until when the agent may dispute it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub dispute_until: Option<Timestamp>,
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub disputes: Vec<Dispute>,
}

impl EvaluationView {
    pub fn of(evaluation: Evaluation, version: Option<&ScorecardVersion>) -> Self {
        let dispute_until = version.and_then(|v| App::dispute_deadline(&evaluation, &v.definition));
        Self {
            id: evaluation.id,
            case_id: evaluation.case_id,
            case_purged: evaluation.case_purged_at.is_some(),
            scorecard_id: evaluation.scorecard_id,
            scorecard_version: evaluation.scorecard_version,
            scorecard_version_id: evaluation.scorecard_version_id,
            evaluator_id: evaluation.evaluator_id,
            agent_user_id: evaluation.agent_user_id,
            assignment_id: evaluation.assignment_id,
            kind: evaluation.kind,
            status: evaluation.status,
            score: evaluation.outcome.score,
            passed: evaluation.outcome.passed,
            fail_all: evaluation.outcome.fail_all,
            sections: evaluation.outcome.sections,
            answers: evaluation.answers,
            comment: evaluation.comment,
            revision: evaluation.revision,
            created_at: evaluation.created_at,
            updated_at: evaluation.updated_at,
            submitted_at: evaluation.submitted_at,
            acknowledged_at: evaluation.acknowledged_at,
            dispute_until,
            disputes: evaluation.disputes,
        }
    }
}

async fn view(
    state: &WebState,
    actor: &scoreline_app::Actor,
    id: EvaluationId,
) -> Result<EvaluationView, ApiError> {
    let (evaluation, version) = state.app.evaluation_with_version(actor, id).await?;
    Ok(EvaluationView::of(evaluation, Some(&version)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationQuery {
    /// A user id, or `me`.
    pub agent_user_id: Option<String>,
    /// A user id, or `me`.
    pub evaluator_id: Option<String>,
    pub scorecard_id: Option<String>,
    pub case_id: Option<String>,
    /// `draft` or `submitted`.
    pub status: Option<String>,
    /// `evaluation` or `self_score`.
    pub kind: Option<String>,
    /// RFC 3339: submitted at or after.
    pub from: Option<String>,
    /// RFC 3339: submitted before.
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl EvaluationQuery {
    fn filter(&self, me: Option<UserId>) -> Result<EvaluationFilter, ApiError> {
        let mut errors = FieldErrors::new();
        let given = |text: &Option<String>| {
            text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
        };
        let mut user = |field: &str, text: &Option<String>| -> Option<UserId> {
            let text = given(text)?;
            if text == "me" {
                return me;
            }
            errors.check(field, text.parse().map_err(|_| format!("{field} must be a user id or `me`.")))
        };
        let agent_user_id = user("agent_user_id", &self.agent_user_id);
        let evaluator_id = user("evaluator_id", &self.evaluator_id);
        let scorecard_id = given(&self.scorecard_id).and_then(|t| {
            errors.check("scorecard_id", t.parse().map_err(|_| "scorecard_id must be a UUID.".to_owned()))
        });
        let case_id = given(&self.case_id).and_then(|t| {
            errors.check("case_id", t.parse().map_err(|_| "case_id must be a UUID.".to_owned()))
        });
        let status = given(&self.status).and_then(|t| {
            errors.check(
                "status",
                EvaluationStatus::parse(&t).ok_or_else(|| "status must be draft or submitted.".to_owned()),
            )
        });
        let kind = given(&self.kind).and_then(|t| {
            let parsed = match t.as_str() {
                "evaluation" => Some(EvaluationKind::Evaluation),
                "self_score" => Some(EvaluationKind::SelfScore),
                _ => None,
            };
            errors.check("kind", parsed.ok_or_else(|| "kind must be evaluation or self_score.".to_owned()))
        });
        let mut time = |field: &str, text: &Option<String>| {
            let text = given(text)?;
            errors.check(
                field,
                Timestamp::parse_rfc3339(&text)
                    .map_err(|_| format!("{field} must be an RFC 3339 time such as 2026-11-01T00:00:00Z.")),
            )
        };
        let from = time("from", &self.from);
        let to = time("to", &self.to);
        errors.into_result().map_err(|e| ApiError::from(scoreline_app::AppError::from(e)))?;
        Ok(EvaluationFilter { agent_user_id, evaluator_id, scorecard_id, case_id, status, kind, from, to })
    }
}

#[utoipa::path(get, path = "/evaluations", tag = "evaluations", params(EvaluationQuery),
    responses((status = 200, body = ItemList<EvaluationView>), (status = 422)))]
async fn list_evaluations(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewOwnEvaluations>,
    ApiQuery(query): ApiQuery<EvaluationQuery>,
) -> Result<Json<ItemList<EvaluationView>>, ApiError> {
    let filter = query.filter(actor.user().map(|user| user.id))?;
    let page = PageQuery { cursor: query.cursor.clone(), limit: query.limit }.to_request()?;
    let evaluations = state.app.list_evaluations(&actor, &filter, page).await?;
    Ok(Json(ItemList::from_page(evaluations, |e| EvaluationView::of(e, None))))
}

/// Starts an evaluation of a case in scope with a published version: a draft, or submitted at
/// once with `submit: true` (refused with every missing answer and comment named).
#[utoipa::path(post, path = "/evaluations", tag = "evaluations",
    request_body(content = Object, description = "{case_id, scorecard_version_id, assignment_id?, answers:[{question_id, option_id | na:true, comment?}], comment?, submit}"),
    responses((status = 201, body = EvaluationView), (status = 403), (status = 404), (status = 422)))]
async fn start_evaluation(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<StartEvaluation>,
) -> Result<(StatusCode, Json<EvaluationView>), ApiError> {
    let evaluation = state.app.start_evaluation(&actor, body).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &actor, evaluation.id).await?)))
}

#[utoipa::path(get, path = "/evaluations/{id}", tag = "evaluations", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = EvaluationView), (status = 404)))]
async fn get_evaluation(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewOwnEvaluations>,
    IdPath(id): IdPath<EvaluationId>,
) -> Result<Json<EvaluationView>, ApiError> {
    Ok(Json(view(&state, &actor, id).await?))
}

/// Saves a draft's answers, or submits it with `submit: true`.
#[utoipa::path(patch, path = "/evaluations/{id}", tag = "evaluations", params(("id" = String, Path, format = Uuid)),
    request_body(content = Object, description = "{answers?, comment?, submit}"),
    responses((status = 200, body = EvaluationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn update_evaluation(
    State(state): State<WebState>,
    ApiActor(actor): ApiActor,
    IdPath(id): IdPath<EvaluationId>,
    ApiJson(body): ApiJson<UpdateEvaluation>,
) -> Result<Json<EvaluationView>, ApiError> {
    state.app.update_evaluation(&actor, id, body).await?;
    Ok(Json(view(&state, &actor, id).await?))
}

/// Every revision: the first submission, then one per change after a dispute.
#[utoipa::path(get, path = "/evaluations/{id}/revisions", tag = "evaluations", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ItemList<Object>), (status = 404)))]
async fn list_revisions(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewOwnEvaluations>,
    IdPath(id): IdPath<EvaluationId>,
) -> Result<Json<ItemList<Revision>>, ApiError> {
    let revisions = state.app.evaluation_revisions(&actor, id).await?;
    Ok(Json(ItemList { items: revisions, next_cursor: None }))
}

#[utoipa::path(post, path = "/evaluations/{id}/acknowledge", tag = "evaluations", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = EvaluationView), (status = 404), (status = 409)))]
async fn acknowledge(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewOwnEvaluations>,
    IdPath(id): IdPath<EvaluationId>,
) -> Result<Json<EvaluationView>, ApiError> {
    state.app.acknowledge_evaluation(&actor, id).await?;
    Ok(Json(view(&state, &actor, id).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DisputeBody {
    pub reason: String,
}

/// The agent disputes the evaluation, within its dispute window.
#[utoipa::path(post, path = "/evaluations/{id}/disputes", tag = "evaluations", params(("id" = String, Path, format = Uuid)),
    request_body = DisputeBody, responses((status = 201, body = Object), (status = 404), (status = 409), (status = 422)))]
async fn open_dispute(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewOwnEvaluations>,
    IdPath(id): IdPath<EvaluationId>,
    ApiJson(body): ApiJson<DisputeBody>,
) -> Result<(StatusCode, Json<Dispute>), ApiError> {
    let dispute = state.app.open_dispute(&actor, id, &body.reason).await?;
    Ok((StatusCode::CREATED, Json(dispute)))
}

/// Upholds the dispute, or changes the evaluation as a new revision (`answers` required).
#[utoipa::path(post, path = "/disputes/{id}/resolve", tag = "evaluations", params(("id" = String, Path, format = Uuid)),
    request_body(content = Object, description = "{outcome: upheld | changed, reason, answers?, comment?}"),
    responses((status = 200, body = EvaluationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn resolve_dispute(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<DisputeId>,
    ApiJson(body): ApiJson<ResolveDispute>,
) -> Result<Json<EvaluationView>, ApiError> {
    let evaluation = state.app.resolve_dispute(&actor, id, body).await?;
    Ok(Json(view(&state, &actor, evaluation.id).await?))
}
