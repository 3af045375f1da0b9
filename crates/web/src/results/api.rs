//! `/api/v1/results` and `/api/v1/results/export.csv`: the figures of submitted evaluations in
//! the caller's scope, and the evaluations (or their answers) as CSV, streamed.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use scoreline_app::{Actor, App, ResultsInput};
use scoreline_core::{ResultItem, Score, Timestamp};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::WebState;
use crate::api::ItemList;
use crate::error::ApiError;
use crate::extract::{ApiQuery, Permitted, grant};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(results)).routes(routes!(export_csv))
}

/// Results' filters, as the query string of the API and of the page.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct ResultsQuery {
    /// `agent` (the default), `team`, `group`, `scorecard`, `question` or `evaluator`. Team and
    /// group are the agent's current teams and their groups.
    pub group_by: Option<String>,
    /// `day`, `week` (from Monday) or `month` in `time_zone`; absent gives one line per key.
    pub interval: Option<String>,
    /// Submitted at or after: an RFC 3339 time, or a date (its start in `time_zone`).
    pub from: Option<String>,
    /// Submitted before: an RFC 3339 time, or a date (up to its end in `time_zone`).
    pub to: Option<String>,
    pub scorecard_id: Option<String>,
    /// Agents who are members of this team now.
    pub team_id: Option<String>,
    pub integration_id: Option<String>,
    /// One agent (a user id).
    pub agent_user_id: Option<String>,
    /// An IANA time zone such as `Europe/Berlin`; UTC by default. Times in the CSV file are UTC.
    pub time_zone: Option<String>,
}

/// What the export takes beside the filters: the figures count evaluations, so one row per
/// answer is the export's alone (the figures per question are `group_by=question`).
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ExportRows {
    /// `1` gives one row per answer instead of one per evaluation (`0`, the default).
    pub answers: Option<String>,
}

/// The export's query string: the filters of results, and [`ExportRows`].
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    #[serde(flatten)]
    pub filters: ResultsQuery,
    #[serde(flatten)]
    pub rows: ExportRows,
    /// Whatever else was given: refused, as every other route refuses an unknown parameter
    /// (`deny_unknown_fields` does not work across `flatten`).
    #[serde(flatten)]
    unknown: BTreeMap<String, IgnoredAny>,
}

impl ResultsQuery {
    /// The filters as a query string, for links that keep them; `with` replaces some.
    pub fn query_string(&self, with: &[(&str, &str)]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let fields = [
            ("group_by", &self.group_by),
            ("interval", &self.interval),
            ("from", &self.from),
            ("to", &self.to),
            ("scorecard_id", &self.scorecard_id),
            ("team_id", &self.team_id),
            ("integration_id", &self.integration_id),
            ("time_zone", &self.time_zone),
        ];
        for (name, value) in fields {
            let value = match with.iter().find(|(n, _)| *n == name) {
                Some((_, replaced)) => Some(*replaced),
                None => value.as_deref(),
            };
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                out.append_pair(name, value);
            }
        }
        out.finish()
    }

    pub fn input(&self) -> ResultsInput {
        ResultsInput {
            group_by: self.group_by.clone(),
            interval: self.interval.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            scorecard_id: self.scorecard_id.clone(),
            team_id: self.team_id.clone(),
            integration_id: self.integration_id.clone(),
            agent_user_id: self.agent_user_id.clone(),
            time_zone: self.time_zone.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultKeyView {
    /// What the line is counted by: `agent`, `team`, `group`, `scorecard`, `question`, `evaluator`.
    pub kind: String,
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
}

/// One line of results. Only submitted evaluations by someone else count (never self-scores),
/// each as its latest revision stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultItemView {
    pub key: ResultKeyView,
    /// The first instant of the day, week (Monday) or month in the requested time zone.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_start: Option<Timestamp>,
    /// Evaluations (for a question: its answers, N/A included).
    pub count: u64,
    /// Of them with a score (for a question: answers that are not N/A).
    pub scored: u64,
    /// The mean score of the scored ones, 0–100 with two decimals, rounded half up once; for a
    /// question 100 × Σ points ÷ Σ maxima of its non-N/A answers. `null` when none is scored.
    #[schema(value_type = Option<f64>)]
    pub average_score: Option<Score>,
    /// Percentage of the scored ones at or above their scorecard's target; `null` when none is
    /// scored, and for questions.
    #[schema(value_type = Option<f64>)]
    pub pass_rate: Option<Score>,
    /// Evaluations with a `fail: all` answer (for a question: answers choosing such an option).
    pub fail_all: u64,
    /// Evaluations whose every section was N/A (for a question: N/A answers).
    pub na: u64,
}

impl From<ResultItem> for ResultItemView {
    fn from(item: ResultItem) -> Self {
        Self {
            key: ResultKeyView {
                kind: item.key.kind.as_str().to_owned(),
                id: item.key.id.to_string(),
                name: item.key.name,
            },
            interval_start: item.interval_start,
            count: item.count,
            scored: item.scored,
            average_score: item.average_score,
            pass_rate: item.pass_rate,
            fail_all: item.fail_all,
            na: item.na,
        }
    }
}

/// Count, average score, pass rate, fail-all and N/A count of the submitted evaluations in the
/// caller's scope (an employee: their own), by key and period. `answers` belongs to the export
/// and is refused here, like any parameter this route does not take.
#[utoipa::path(get, path = "/results", tag = "results", params(ResultsQuery),
    responses((status = 200, body = ItemList<ResultItemView>), (status = 422)))]
async fn results(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewOwnEvaluations>,
    ApiQuery(query): ApiQuery<ResultsQuery>,
) -> Result<Json<ItemList<ResultItemView>>, ApiError> {
    let request = query.input().parse()?;
    let report = state.app.results(&actor, &request).await?;
    Ok(Json(ItemList {
        items: report.items.into_iter().map(ResultItemView::from).collect(),
        next_cursor: None,
    }))
}

/// The answer of an export: a CSV file streamed a page at a time.
pub fn csv_response(app: &App, actor: &Actor, query: &ExportQuery) -> Result<Response, ApiError> {
    if let Some(name) = query.unknown.keys().next() {
        return Err(scoreline_app::AppError::field(
            name,
            "is not a parameter of the export: it takes the filters of results and `answers`",
        )
        .into());
    }
    let answers = match query.rows.answers.as_deref().map(str::trim) {
        None | Some("" | "0") => false,
        Some("1") => true,
        Some(_) => {
            return Err(
                scoreline_app::AppError::field("answers", "must be 1 (one row per answer) or 0").into()
            );
        }
    };
    let filters = &query.filters;
    let request = filters.input().parse()?;
    let chunks = app.export_csv(actor, &request, answers)?.inspect_err(|error| {
        tracing::error!(error = %error, "the CSV export stopped");
    });
    let name = if answers { "scoreline-answers.csv" } else { "scoreline-evaluations.csv" };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

/// The submitted evaluations in the caller's scope as CSV (RFC 4180, a header row, times in
/// RFC 3339 UTC), oldest submission first; with `answers=1`, one row per answer. Grouping and
/// interval do not apply.
#[utoipa::path(get, path = "/results/export.csv", tag = "results", params(ResultsQuery, ExportRows),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422)))]
async fn export_csv(
    State(state): State<WebState>,
    Permitted(actor, _): Permitted<grant::ViewOwnEvaluations>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    csv_response(&state.app, &actor, &query)
}
