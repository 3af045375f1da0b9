//! `/api/v1/calibrations`: sessions where several evaluators score one case blind, their
//! comparison and agreement once closed. Participants save and submit their scoring through
//! `PUT /calibrations/{id}/scoring` (not `/evaluations`, which never shows calibration scorings).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use scoreline_app::{Actor, CalibrationDetail, CreateCalibration, PeriodAgreement, ScoreCalibration};
use scoreline_core::{
    Agreed, Answer, Calibration, CalibrationFilter, CalibrationId, CalibrationStatus, CaseId, Comparison,
    FieldErrors, ScorecardId, ScorecardVersionId, Timestamp, UserId,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::evaluations::api::EvaluationView;
use crate::extract::{ApiJson, ApiQuery, IdPath, PageQuery, Permitted, grant};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_calibrations, create_calibration))
        .routes(routes!(period_agreement))
        .routes(routes!(get_calibration))
        .routes(routes!(score))
        .routes(routes!(close))
        .routes(routes!(agree))
}

/// A calibration session. While it is open, nobody sees anyone's answers but their own
/// (`own`, for a participant); once closed, `comparison` sets every submitted scoring side by
/// side with its spread, the deviations from the agreed answers and Krippendorff's alpha.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalibrationView {
    #[schema(value_type = String, format = Uuid)]
    pub id: CalibrationId,
    #[schema(value_type = String, format = Uuid)]
    pub case_id: CaseId,
    #[schema(value_type = String, format = Uuid)]
    pub agent_user_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub scorecard_id: ScorecardId,
    #[schema(value_type = String, format = Uuid)]
    pub scorecard_version_id: ScorecardVersionId,
    pub scorecard_version: u32,
    #[schema(value_type = String, format = Uuid)]
    pub facilitator_id: UserId,
    #[schema(value_type = Vec<String>)]
    pub participant_ids: Vec<UserId>,
    /// Who has submitted (never what).
    #[schema(value_type = Vec<String>)]
    pub submitted_ids: Vec<UserId>,
    /// `open` or `closed`.
    #[schema(value_type = String)]
    pub status: CalibrationStatus,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    /// The viewer's own scoring, when they take part and have started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own: Option<EvaluationView>,
    /// The agreed answers and their score, once the facilitator has recorded them.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreed: Option<Agreed>,
    /// Once closed: `{questions, sections, overall, deviations, options_agreement,
    /// scores_agreement}`, each agreement `{alpha, units, values}` (`alpha` null when undefined).
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

impl CalibrationView {
    /// A list entry: who has submitted, nothing anyone answered.
    pub fn summary(calibration: Calibration) -> Self {
        Self {
            id: calibration.id,
            case_id: calibration.case_id,
            agent_user_id: calibration.agent_user_id,
            scorecard_id: calibration.scorecard_id,
            scorecard_version_id: calibration.scorecard_version_id,
            scorecard_version: calibration.scorecard_version,
            facilitator_id: calibration.facilitator_id,
            participant_ids: calibration.participants,
            submitted_ids: calibration.submitted,
            status: calibration.status,
            due_at: calibration.due_at,
            created_at: calibration.created_at,
            closed_at: calibration.closed_at,
            own: None,
            agreed: None,
            comparison: None,
        }
    }

    fn detail(detail: CalibrationDetail) -> Self {
        let agreed = detail.calibration.agreed.clone();
        Self {
            own: detail.own.map(|e| EvaluationView::of(e, None)),
            agreed,
            comparison: detail.comparison,
            ..Self::summary(detail.calibration)
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct CalibrationQuery {
    /// `open` or `closed`.
    pub status: Option<String>,
    /// A user id, or `me`: sessions they take part in.
    pub participant: Option<String>,
    /// RFC 3339: closed at or after.
    pub closed_from: Option<String>,
    /// RFC 3339: closed before.
    pub closed_to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

fn given(text: &Option<String>) -> Option<String> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

fn time(errors: &mut FieldErrors, field: &str, text: &Option<String>) -> Option<Timestamp> {
    let text = given(text)?;
    errors.check(
        field,
        Timestamp::parse_rfc3339(&text)
            .map_err(|_| format!("{field} must be an RFC 3339 time such as 2026-11-01T00:00:00Z.")),
    )
}

fn invalid(errors: FieldErrors) -> Result<(), ApiError> {
    errors.into_result().map_err(|e| ApiError::from(scoreline_app::AppError::from(e)))
}

impl CalibrationQuery {
    fn filter(&self, me: Option<UserId>) -> Result<CalibrationFilter, ApiError> {
        let mut errors = FieldErrors::new();
        let status = given(&self.status).and_then(|t| {
            errors.check(
                "status",
                CalibrationStatus::parse(&t).ok_or_else(|| "status must be open or closed.".to_owned()),
            )
        });
        let participant = given(&self.participant).and_then(|t| {
            if t == "me" {
                return me;
            }
            errors.check(
                "participant",
                t.parse().map_err(|_| "participant must be a user id or `me`.".to_owned()),
            )
        });
        let closed_from = time(&mut errors, "closed_from", &self.closed_from);
        let closed_to = time(&mut errors, "closed_to", &self.closed_to);
        invalid(errors)?;
        Ok(CalibrationFilter { status, participant, closed_from, closed_to })
    }
}

#[utoipa::path(get, path = "/calibrations", tag = "calibrations", params(CalibrationQuery),
    responses((status = 200, body = ItemList<CalibrationView>), (status = 403), (status = 422)))]
async fn list_calibrations(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    ApiQuery(query): ApiQuery<CalibrationQuery>,
) -> Result<Json<ItemList<CalibrationView>>, ApiError> {
    let filter = query.filter(actor.user().map(|user| user.id))?;
    let page = PageQuery { cursor: query.cursor.clone(), limit: query.limit }.to_request()?;
    let sessions = state.app.list_calibrations(&actor, &filter, page).await?;
    Ok(Json(ItemList::from_page(sessions, CalibrationView::summary)))
}

/// Opens a session on a case in scope with a published version; participants are people in
/// scope who may evaluate, at least two, never the case's agent. Each problem by its field.
#[utoipa::path(post, path = "/calibrations", tag = "calibrations",
    request_body(content = Object, description = "{case_id, scorecard_version_id, participant_ids:[user id], due_at?}"),
    responses((status = 201, body = CalibrationView), (status = 403), (status = 422)))]
async fn create_calibration(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    ApiJson(body): ApiJson<CreateCalibration>,
) -> Result<(StatusCode, Json<CalibrationView>), ApiError> {
    let calibration = state.app.create_calibration(&actor, body).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &actor, calibration.id).await?)))
}

async fn view(state: &WebState, actor: &Actor, id: CalibrationId) -> Result<CalibrationView, ApiError> {
    Ok(CalibrationView::detail(state.app.get_calibration(actor, id).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct PeriodQuery {
    /// RFC 3339: sessions closed at or after.
    pub from: Option<String>,
    /// RFC 3339: sessions closed before.
    pub to: Option<String>,
}

/// Krippendorff's alpha over every closed session in scope closed in the period: nominal over
/// the options chosen per question, interval over section and overall scores, each with the
/// units and values it rests on (`alpha` null when undefined).
#[utoipa::path(get, path = "/calibrations/agreement", tag = "calibrations", params(PeriodQuery),
    responses((status = 200, body = Object), (status = 403), (status = 422)))]
async fn period_agreement(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> Result<Json<PeriodAgreement>, ApiError> {
    let mut errors = FieldErrors::new();
    let from = time(&mut errors, "from", &query.from);
    let to = time(&mut errors, "to", &query.to);
    invalid(errors)?;
    Ok(Json(state.app.calibration_agreement(&actor, from, to).await?))
}

#[utoipa::path(get, path = "/calibrations/{id}", tag = "calibrations", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = CalibrationView), (status = 403), (status = 404)))]
async fn get_calibration(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<CalibrationId>,
) -> Result<Json<CalibrationView>, ApiError> {
    Ok(Json(view(&state, &actor, id).await?))
}

/// A participant saves their scoring as a draft, or submits it with `submit: true` (refused
/// with every missing answer and comment named, like an evaluation); only while open.
#[utoipa::path(put, path = "/calibrations/{id}/scoring", tag = "calibrations", params(("id" = String, Path, format = Uuid)),
    request_body(content = Object, description = "{answers:[{question_id, option_id | na:true, comment?}], comment?, submit}"),
    responses((status = 200, body = EvaluationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn score(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<CalibrationId>,
    ApiJson(body): ApiJson<ScoreCalibration>,
) -> Result<Json<EvaluationView>, ApiError> {
    let scoring = state.app.score_calibration(&actor, id, body).await?;
    Ok(Json(EvaluationView::of(scoring, None)))
}

/// The facilitator closes the session: scoring ends and the comparison is shown.
#[utoipa::path(post, path = "/calibrations/{id}/close", tag = "calibrations", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = CalibrationView), (status = 403), (status = 404), (status = 409)))]
async fn close(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<CalibrationId>,
) -> Result<Json<CalibrationView>, ApiError> {
    Ok(Json(CalibrationView::detail(state.app.close_calibration(&actor, id).await?)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AgreedBody {
    /// The agreed answer of each decided question; undecided ones are left out.
    #[schema(value_type = Vec<Object>)]
    pub answers: Vec<Answer>,
}

/// The facilitator records the agreed answers of a closed session (replacing earlier ones).
#[utoipa::path(put, path = "/calibrations/{id}/agreed", tag = "calibrations", params(("id" = String, Path, format = Uuid)),
    request_body = AgreedBody,
    responses((status = 200, body = CalibrationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn agree(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::Evaluate>,
    IdPath(id): IdPath<CalibrationId>,
    ApiJson(body): ApiJson<AgreedBody>,
) -> Result<Json<CalibrationView>, ApiError> {
    Ok(Json(CalibrationView::detail(state.app.agree_calibration(&actor, id, body.answers).await?)))
}
