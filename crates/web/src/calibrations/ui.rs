//! *Score ▸ Calibration*: the list (open and closed sessions, the agreement over a period), the
//! create form (also reached from a case's Calibrate link), and a session's page: the scoring
//! form beside the conversation for a participant, who has submitted for the facilitator, and
//! once closed the comparison with its charts, the agreed answers, deviations and alpha.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scoreline_app::{
    Actor, AppError, CalibrationDetail, Conversation, CreateCalibration, PeriodAgreement, ScoreCalibration,
};
use scoreline_core::{
    Agreement, Answer, Calibration, CalibrationFilter, CalibrationId, CalibrationStatus, CaseId, ChoiceView,
    FieldErrors, PageRequest, Permission, Scorecard, ScorecardDefinition, ScorecardId, StoredCase, User,
    UserId,
};
use serde::Deserialize;

use crate::WebState;
use crate::charts::{Chart, Strip, row_chart, strip_chart};
use crate::error::ApiError;
use crate::evaluations::ui::{Fields, answers_of, last};
use crate::extract::{IdPath, PageForm};
use crate::page::form::{FormErrors, answer, done, picked};
use crate::page::{Layout, PageActor};
use crate::scorecards::card::CardView;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/calibrations", get(list).post(create))
        .route("/calibrations/new", get(new))
        .route("/calibrations/{id}", get(show).post(score))
        .route("/calibrations/{id}/close", post(close))
        .route("/calibrations/{id}/agreed", post(agree))
}

fn session_path(id: CalibrationId) -> String {
    format!("/calibrations/{id}")
}

/// Names of the people the viewer can see, for the pages; others read as "a participant".
async fn names(state: &WebState, actor: &Actor) -> Result<HashMap<UserId, String>, ApiError> {
    let mut names = HashMap::new();
    if let Some(me) = actor.user() {
        names.insert(me.id, format!("{} (you)", me.name));
    }
    if actor.can(Permission::ViewStaff) {
        for user in state.app.list_users(actor, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items {
            names.entry(user.id).or_insert(user.name);
        }
    }
    Ok(names)
}

fn name(names: &HashMap<UserId, String>, id: UserId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| "a participant outside your teams".to_owned())
}

/// Alpha in words, with what it rests on.
pub struct AlphaView {
    pub figure: String,
    pub rests_on: String,
}

impl AlphaView {
    fn of(agreement: &Agreement, units: &str) -> Self {
        let figure = match (agreement.alpha, agreement.undefined()) {
            (Some(alpha), _) => format!("α = {alpha:.3}"),
            (None, Some(scoreline_core::Undefined::NoVariation)) => {
                "undefined: every answer was the same, so agreement cannot be told from chance".to_owned()
            }
            (None, _) => "undefined: no two submitted answers to compare yet".to_owned(),
        };
        Self { figure, rests_on: format!("{} {units}, {} values", agreement.units, agreement.values) }
    }
}

// The list.

#[derive(Template, WebTemplate)]
#[template(path = "calibrations/list.html")]
struct ListPage {
    layout: Layout,
    open: Vec<SessionRow>,
    closed: Vec<SessionRow>,
    from: String,
    to: String,
    period: PeriodAgreement,
    options: AlphaView,
    scores: AlphaView,
    errors: FormErrors,
}

struct SessionRow {
    calibration: Calibration,
    case: String,
    facilitator: String,
    mine: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PeriodForm {
    from: String,
    to: String,
}

async fn case_label(state: &WebState, id: CaseId) -> String {
    match state.app.get_case(&Actor::System, id).await {
        Ok(case) => match (case.short_id, case.subject) {
            (Some(short), Some(subject)) => format!("#{short} {subject}"),
            (_, Some(subject)) => subject,
            (Some(short), None) => format!("#{short} (content removed)"),
            (None, None) => format!("case {}", case.source_id),
        },
        Err(_) => "a removed case".to_owned(),
    }
}

async fn rows(
    state: &WebState,
    actor: &Actor,
    status: CalibrationStatus,
) -> Result<Vec<SessionRow>, ApiError> {
    let filter = CalibrationFilter { status: Some(status), ..CalibrationFilter::default() };
    let sessions =
        state.app.list_calibrations(actor, &filter, PageRequest::first(PageRequest::MAX_LIMIT)).await?.items;
    let names = names(state, actor).await?;
    let me = actor.user().map(|u| u.id);
    let mut rows = Vec::with_capacity(sessions.len());
    for calibration in sessions {
        rows.push(SessionRow {
            case: case_label(state, calibration.case_id).await,
            facilitator: name(&names, calibration.facilitator_id),
            mine: me.is_some_and(|me| calibration.participants.contains(&me)),
            calibration,
        });
    }
    Ok(rows)
}

async fn list(
    State(state): State<WebState>,
    page: PageActor,
    Query(period): Query<PeriodForm>,
) -> Result<Response, ApiError> {
    let actor = &page.actor;
    let mut errors = FieldErrors::new();
    let from = crate::lists::ui::day(&period.from, "from", false, &mut errors);
    let to = crate::lists::ui::day(&period.to, "to", true, &mut errors);
    let form_errors = match errors.into_result() {
        Ok(()) => FormErrors::none(),
        Err(error) => crate::page::form::rejected("period", AppError::from(error))?.1,
    };
    let agreement = state.app.calibration_agreement(actor, from, to).await?;
    Ok(ListPage {
        layout: page.layout(),
        open: rows(&state, actor, CalibrationStatus::Open).await?,
        closed: rows(&state, actor, CalibrationStatus::Closed).await?,
        options: AlphaView::of(&agreement.options, "questions"),
        scores: AlphaView::of(&agreement.scores, "scores"),
        period: agreement,
        from: period.from,
        to: period.to,
        errors: form_errors,
    }
    .into_response())
}

// The create form.

#[derive(Template, WebTemplate)]
#[template(path = "calibrations/new.html")]
struct NewPage {
    layout: Layout,
    form: NewForm,
    scorecards: Vec<Scorecard>,
    people: Vec<User>,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewForm {
    case_id: String,
    scorecard_id: String,
    participant_ids: Vec<String>,
    due_at: String,
}

impl NewForm {
    fn picks(&self, id: &UserId) -> bool {
        self.participant_ids.iter().any(|p| p == &id.to_string())
    }
}

async fn new_page(
    state: &WebState,
    page: &PageActor,
    form: NewForm,
    errors: FormErrors,
) -> Result<NewPage, ApiError> {
    let actor = &page.actor;
    let scorecards = state
        .app
        .list_scorecards(actor, false, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items
        .into_iter()
        .filter(|card| card.latest.is_some())
        .collect();
    let people = state
        .app
        .list_users(actor, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items
        .into_iter()
        .filter(|user| user.active && user.role.can(Permission::Evaluate))
        .collect();
    Ok(NewPage { layout: page.layout(), form, scorecards, people, errors })
}

async fn new(
    State(state): State<WebState>,
    page: PageActor,
    Query(form): Query<NewForm>,
) -> Result<Response, ApiError> {
    page.actor.require(Permission::Evaluate)?;
    Ok(new_page(&state, &page, form, FormErrors::none()).await?.into_response())
}

/// The case a person typed: its id, or the short id or HelpDesk ticket id they quote.
async fn typed_case(state: &WebState, actor: &Actor, text: &str) -> Result<Option<CaseId>, AppError> {
    let text = text.trim().trim_start_matches('#');
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(id) = text.parse() {
        return Ok(Some(id));
    }
    let found = state.app.find_cases_by_reference(actor, text).await?;
    match found.as_slice() {
        [one] => Ok(Some(one.id)),
        [] => Err(AppError::field("case_id", "no case you can see has this id, short id or ticket id")),
        _ => Err(AppError::field(
            "case_id",
            "several cases have this short id; give the case's id from its page",
        )),
    }
}

async fn create(
    State(state): State<WebState>,
    page: PageActor,
    PageForm(form): PageForm<NewForm>,
) -> Result<Response, ApiError> {
    let actor = &page.actor;
    let result = async {
        let case_id = typed_case(&state, actor, &form.case_id).await?;
        let card: Option<ScorecardId> =
            picked("scorecard_version_id", &form.scorecard_id, "Choose a scorecard.")?;
        let version = match card {
            Some(card) => state.app.get_scorecard(actor, card).await?.latest.map(|v| v.id),
            None => None,
        };
        let mut errors = FieldErrors::new();
        let due_at = crate::lists::ui::day(&form.due_at, "due_at", true, &mut errors);
        let participant_ids = form
            .participant_ids
            .iter()
            .filter_map(|id| {
                errors
                    .check("participant_ids", id.parse().map_err(|_| "Pick people from the list.".to_owned()))
            })
            .collect();
        errors.into_result()?;
        state
            .app
            .create_calibration(
                actor,
                CreateCalibration { case_id, scorecard_version_id: version, participant_ids, due_at },
            )
            .await
    }
    .await;
    answer(
        "calibrate",
        result,
        |calibration| {
            done(
                session_path(calibration.id),
                "Calibration session opened; the participants find it under My work.",
            )
        },
        async |errors| new_page(&state, &page, form, errors).await,
    )
    .await
}

// A session.

#[derive(Template, WebTemplate)]
#[template(path = "calibrations/show.html")]
struct SessionPage {
    layout: Layout,
    detail: CalibrationDetail,
    case: Option<StoredCase>,
    case_label: String,
    conversation: Conversation,
    facilitator: String,
    /// Each participant by name, whether they have submitted.
    people: Vec<(String, bool)>,
    /// A participant answering their draft while the session is open.
    answering: bool,
    card: CardView,
    comment: String,
    comparison: Option<ComparisonView>,
    errors: FormErrors,
}

/// What the closed session shows, in words and charts.
struct ComparisonView {
    participants: Vec<String>,
    questions: Vec<QuestionView>,
    /// The scores chart (inline SVG).
    scores: String,
    /// A row per section and overall: title, each participant's score, min–max, mean, agreed.
    score_rows: Vec<ScoreRow>,
    deviations: Vec<DeviationRow>,
    options: AlphaView,
    scores_alpha: AlphaView,
    agreed_card: CardView,
}

struct QuestionView {
    id: String,
    section: String,
    text: String,
    /// The answers chart (inline SVG).
    chart: String,
    /// Option label, count, who chose it.
    rows: Vec<(String, usize, String)>,
    agreed: String,
    /// The participants' comments, by name.
    comments: Vec<(String, String)>,
}

struct ScoreRow {
    title: String,
    scores: Vec<String>,
    range: String,
    mean: String,
    agreed: String,
}

struct DeviationRow {
    name: String,
    score: String,
    differing: String,
    difference: String,
}

fn shown(score: Option<scoreline_core::Score>) -> String {
    score.map_or("N/A".to_owned(), |s| s.to_string())
}

fn comparison_view(detail: &CalibrationDetail, names: &HashMap<UserId, String>) -> Option<ComparisonView> {
    let comparison = detail.comparison.as_ref()?;
    let definition: &ScorecardDefinition = &detail.version.definition;
    let participants: Vec<String> = comparison.deviations.iter().map(|d| name(names, d.user_id)).collect();
    let choice_label = |question: &scoreline_core::Question, choice: Option<&ChoiceView>| match choice {
        Some(ChoiceView::Option { option_id }) => {
            question.options.iter().find(|o| o.id == *option_id).map_or("?".to_owned(), |o| o.label.clone())
        }
        Some(ChoiceView::NotApplicable { .. }) => "N/A".to_owned(),
        None => "no answer".to_owned(),
    };
    let mut questions = Vec::new();
    for spread in &comparison.questions {
        let Some(question) = definition.question(spread.question_id) else { continue };
        let section = definition
            .sections
            .iter()
            .find(|s| s.id == spread.section_id)
            .map_or(String::new(), |s| s.title.clone());
        let who = |wanted: &dyn Fn(Option<&ChoiceView>) -> bool| {
            spread
                .answers
                .iter()
                .filter(|a| wanted(a.answer.as_ref()))
                .map(|a| name(names, a.user_id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut rows: Vec<(String, usize, String)> = question
            .options
            .iter()
            .zip(&spread.options)
            .map(|(option, count)| {
                let chose =
                    who(&|a| matches!(a, Some(ChoiceView::Option { option_id }) if *option_id == option.id));
                (option.label.clone(), count.count, chose)
            })
            .collect();
        if question.allow_na || spread.na > 0 {
            rows.push((
                "N/A".to_owned(),
                spread.na,
                who(&|a| matches!(a, Some(ChoiceView::NotApplicable { .. }))),
            ));
        }
        let bars: Vec<(String, u64)> =
            rows.iter().map(|(label, count, _)| (label.clone(), *count as u64)).collect();
        let id = format!("answers-chart-{}", question.id);
        let title = format!("How the participants answered: {}", question.text);
        let chart = Chart {
            id: &id,
            title: &title,
            description: "How many participants chose each answer; the table beside names them.",
            y_axis: "Answer",
            x_axis: "Participants",
        };
        questions.push(QuestionView {
            id: question.id.to_string(),
            section,
            text: question.text.clone(),
            chart: row_chart(&chart, &bars),
            rows,
            agreed: spread
                .agreed
                .as_ref()
                .map_or("not decided".to_owned(), |a| choice_label(question, Some(a))),
            comments: spread
                .answers
                .iter()
                .filter_map(|a| Some((name(names, a.user_id), a.comment.clone()?)))
                .collect(),
        });
    }
    let mut strips = Vec::new();
    let mut score_rows = Vec::new();
    let titled = comparison
        .sections
        .iter()
        .map(|s| {
            let title = definition
                .sections
                .iter()
                .find(|d| Some(d.id) == s.section_id)
                .map_or(String::new(), |d| d.title.clone());
            (title, s)
        })
        .chain(std::iter::once(("Overall".to_owned(), &comparison.overall)));
    for (title, spread) in titled {
        let value = |score: scoreline_core::Score| f64::from(score.hundredths()) / 100.0;
        strips.push(Strip {
            label: title.clone(),
            values: spread.scores.iter().flatten().map(|s| value(*s)).collect(),
            marked: spread.agreed.map(value),
        });
        score_rows.push(ScoreRow {
            title,
            scores: spread.scores.iter().map(|s| shown(*s)).collect(),
            range: match (spread.min, spread.max) {
                (Some(min), Some(max)) => format!("{min} – {max}"),
                _ => "—".to_owned(),
            },
            mean: spread.mean.map_or("—".to_owned(), |m| format!("{m:.2}")),
            agreed: spread.agreed.map_or("—".to_owned(), |s| s.to_string()),
        });
    }
    let deviations = comparison
        .deviations
        .iter()
        .map(|d| DeviationRow {
            name: name(names, d.user_id),
            score: shown(d.score),
            differing: if d.questions_agreed == 0 {
                "no agreed answers yet".to_owned()
            } else {
                format!("{} of {}", d.questions_differing.len(), d.questions_agreed)
            },
            difference: d.score_difference.map_or("—".to_owned(), |v| format!("{v:+.2}")),
        })
        .collect();
    let agreed_answers: &[Answer] = detail.calibration.agreed.as_ref().map_or(&[], |a| &a.answers);
    Some(ComparisonView {
        participants,
        questions,
        scores: strip_chart(
            &Chart {
                id: "scores-chart",
                title: "Scores by section and overall",
                description: "A circle per participant's score and a diamond for the agreed score, from 0 to 100; the table beside gives every score.",
                y_axis: "Section",
                x_axis: "Score",
            },
            &strips,
            "a participant's score",
            "the agreed score",
        ),
        score_rows,
        deviations,
        options: AlphaView::of(&comparison.options_agreement, "questions"),
        scores_alpha: AlphaView::of(&comparison.scores_agreement, "scores"),
        agreed_card: CardView { blind: false, ..CardView::answering(definition, agreed_answers) },
    })
}

async fn session_page(
    state: &WebState,
    page: &PageActor,
    id: CalibrationId,
    typed: Option<(Vec<Answer>, String)>,
    errors: FormErrors,
) -> Result<SessionPage, ApiError> {
    let actor = &page.actor;
    let detail = state.app.get_calibration(actor, id).await?;
    let case = state.app.calibration_case(actor, id).await?;
    let conversation = case
        .as_ref()
        .map(|case| Conversation::of(case.requester.as_ref(), case.content.as_ref().map(|c| &c.events)))
        .unwrap_or_default();
    let names = names(state, actor).await?;
    let calibration = &detail.calibration;
    let answering = detail.is_participant
        && calibration.is_open()
        && detail.own.as_ref().is_none_or(|own| own.status == scoreline_core::EvaluationStatus::Draft);
    let (answers, comment) = typed.unwrap_or_else(|| {
        detail.own.as_ref().map(|own| (own.answers.clone(), own.comment.clone())).unwrap_or_default()
    });
    let people = calibration
        .participants
        .iter()
        .map(|p| (name(&names, *p), calibration.submitted.contains(p)))
        .collect();
    Ok(SessionPage {
        layout: page.layout(),
        case_label: case_label(state, calibration.case_id).await,
        facilitator: name(&names, calibration.facilitator_id),
        people,
        answering,
        card: CardView::answering(&detail.version.definition, &answers),
        comment,
        comparison: comparison_view(&detail, &names),
        detail,
        case,
        conversation,
        errors,
    })
}

async fn show(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<CalibrationId>,
) -> Result<Response, ApiError> {
    Ok(session_page(&state, &page, id, None, FormErrors::none()).await?.into_response())
}

/// The answers of the scorecard form posted on the session's page.
async fn posted_answers(
    state: &WebState,
    actor: &Actor,
    id: CalibrationId,
    fields: &Fields,
) -> Result<Vec<Answer>, ApiError> {
    let detail = state.app.get_calibration(actor, id).await?;
    Ok(answers_of(&detail.version.definition, fields))
}

/// A participant's scoring: saved as a draft, or submitted.
async fn score(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<CalibrationId>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, ApiError> {
    let answers = posted_answers(&state, &page.actor, id, &fields).await?;
    let comment = last(&fields, "comment").to_owned();
    let submit = last(&fields, "op") == "submit";
    let input = ScoreCalibration { answers: answers.clone(), comment: comment.clone(), submit };
    let result = state.app.score_calibration(&page.actor, id, input).await;
    let message = if submit {
        "Scoring submitted; the comparison opens when the facilitator closes the session."
    } else {
        "Draft saved."
    };
    back_to_session(&state, &page, id, "calibration-score", result, message, Some((answers, comment))).await
}

/// Back to the session's page with `message`, or the page again with the errors of `form`
/// (and what was typed).
async fn back_to_session<T>(
    state: &WebState,
    page: &PageActor,
    id: CalibrationId,
    form: &str,
    result: Result<T, AppError>,
    message: &str,
    typed: Option<(Vec<Answer>, String)>,
) -> Result<Response, ApiError> {
    answer(
        form,
        result,
        |_| done(session_path(id), message),
        async |errors| session_page(state, page, id, typed, errors).await,
    )
    .await
}

async fn close(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<CalibrationId>,
) -> Result<Response, ApiError> {
    let result = state.app.close_calibration(&page.actor, id).await;
    let message = "Session closed: the answers are side by side below.";
    back_to_session(&state, &page, id, "close", result, message, None).await
}

async fn agree(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<CalibrationId>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, ApiError> {
    let answers = posted_answers(&state, &page.actor, id, &fields).await?;
    let result = state.app.agree_calibration(&page.actor, id, answers).await;
    let message = "Agreed answers recorded; each participant's deviation is below.";
    back_to_session(&state, &page, id, "agreed", result, message, None).await
}
