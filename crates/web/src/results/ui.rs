//! *Score ▸ Results*: the filters in the URL (a reload keeps the place), the trend and the
//! score distribution as charts with their tables, the figures by key, and the exports; and an
//! agent's page: trend, weakest questions, latest evaluations, disputes.

use std::collections::HashMap;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scoreline_app::{AgentResults, ResultsReport, ResultsRequest};
use scoreline_core::{
    Dispute, ExportedEvaluation, GroupBy, IntegrationId, Interval, ResultItem, ScorecardId, Team, Timestamp,
    UserId, local_date,
};

use super::api::{ExportQuery, ResultsQuery, csv_response};
use crate::WebState;
use crate::charts::{Chart, Point, bar_chart, column_chart, line_chart, shortened};
use crate::error::ApiError;
use crate::extract::{IdPath, QueryFields};
use crate::page::form::{FormErrors, rejected};
use crate::page::{Layout, PageActor};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/results", get(results))
        .route("/results/export.csv", get(export))
        .route("/results/agents/{id}", get(agent))
}

/// Without dates, the page shows the last 90 days.
const DEFAULT_DAYS: u64 = 90;

/// One line of the figures table, as shown.
pub struct Line {
    pub name: String,
    pub href: Option<String>,
    pub period: String,
    pub count: u64,
    pub scored: u64,
    pub average: String,
    pub pass_rate: String,
    pub fail_all: u64,
    pub na: u64,
}

fn shown(score: Option<scoreline_core::Score>) -> String {
    score.map_or("—".to_owned(), |s| s.to_string())
}

impl Line {
    fn of(item: &ResultItem, period: String, href: Option<String>) -> Self {
        Self {
            name: item.key.name.clone(),
            href,
            period,
            count: item.count,
            scored: item.scored,
            average: shown(item.average_score),
            pass_rate: shown(item.pass_rate),
            fail_all: item.fail_all,
            na: item.na,
        }
    }
}

/// The most periods a trend draws (a year and a month of days).
const MAX_TREND_PERIODS: usize = 400;

/// A chart and the table of its figures.
pub struct Trend {
    pub svg: String,
    pub lines: Vec<Line>,
}

fn trend(id: &str, title: &str, items: &[ResultItem], request: &ResultsRequest) -> Trend {
    let interval = request.interval.unwrap_or(Interval::Week);
    let tz = &request.time_zone;
    let label = |item: &ResultItem| item.interval_start.map(|s| interval.label(s, tz)).unwrap_or_default();
    // Every period from the first to the last, so one without evaluations breaks the line
    // instead of joining its neighbours as if they were adjacent.
    let averages: HashMap<Timestamp, Option<f64>> = items
        .iter()
        .filter_map(|item| {
            Some((item.interval_start?, item.average_score.map(|s| f64::from(s.hundredths()) / 100.0)))
        })
        .collect();
    let mut points = Vec::new();
    let first = items.iter().filter_map(|item| item.interval_start).min();
    let last = items.iter().filter_map(|item| item.interval_start).max();
    if let (Some(mut start), Some(last)) = (first, last) {
        while start <= last && points.len() < MAX_TREND_PERIODS {
            points.push(Point {
                label: interval.short_label(start, tz),
                value: averages.get(&start).copied().flatten(),
            });
            start = interval.bounds(start, tz).1;
        }
    }
    let empty = points.len().saturating_sub(averages.len());
    let axis = match interval {
        Interval::Day => "Day",
        Interval::Week => "Week (from Monday)",
        Interval::Month => "Month",
    };
    let description = format!(
        "Average score per {} over {} periods{}; the table below gives every figure.",
        interval.as_str(),
        points.len(),
        if empty > 0 {
            format!(", {empty} of them without evaluations (a gap in the line)")
        } else {
            String::new()
        }
    );
    Trend {
        svg: line_chart(
            &Chart { id, title, description: &description, y_axis: "Average score", x_axis: axis },
            &points,
        ),
        lines: items.iter().map(|item| Line::of(item, label(item), None)).collect(),
    }
}

/// The query with the page's defaults: the last 90 days, per week, by agent, in UTC.
fn with_defaults(mut query: ResultsQuery, page: &PageActor) -> ResultsQuery {
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
    if blank(&query.time_zone) {
        query.time_zone = Some("UTC".to_owned());
    }
    let zone = query.time_zone.as_deref().unwrap_or("UTC");
    if blank(&query.from)
        && blank(&query.to)
        && let Ok(tz) = scoreline_core::time_zone(zone).or_else(|_| scoreline_core::time_zone("UTC"))
    {
        let now = page.layout().now();
        let back = Duration::from_secs((DEFAULT_DAYS - 1) * 86_400);
        query.from = Some(local_date(now.saturating_sub(back), &tz));
        query.to = Some(local_date(now, &tz));
    }
    if blank(&query.group_by) {
        query.group_by = Some("agent".to_owned());
    }
    if query.interval.is_none() {
        query.interval = Some("week".to_owned());
    }
    query
}

#[derive(Template, WebTemplate)]
#[template(path = "results/index.html")]
struct ResultsPage {
    layout: Layout,
    query: ResultsQuery,
    errors: FormErrors,
    scorecards: Vec<(ScorecardId, String)>,
    teams: Vec<Team>,
    integrations: Vec<(IntegrationId, String)>,
    /// `None` when the filters were refused.
    view: Option<ResultsView>,
}

struct ResultsView {
    group_by: GroupBy,
    overall: Line,
    trend: Trend,
    distribution: String,
    /// (band, evaluations), then N/A.
    bands: Vec<(String, u64)>,
    distribution_na: u64,
    lines: Vec<Line>,
    export: String,
    export_answers: String,
}

impl ResultsPage {
    fn is(value: &Option<String>, wanted: &str) -> bool {
        value.as_deref() == Some(wanted)
    }

    fn one(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("")
    }
}

const GROUPINGS: [(&str, &str); 6] = [
    ("agent", "Agent"),
    ("team", "Team (current members)"),
    ("group", "Group (of current teams)"),
    ("scorecard", "Scorecard"),
    ("question", "Question"),
    ("evaluator", "Evaluator"),
];
const INTERVALS: [(&str, &str); 4] =
    [("", "Whole period"), ("day", "Day"), ("week", "Week (from Monday)"), ("month", "Month")];

fn results_view(report: &ResultsReport, request: &ResultsRequest, query: &ResultsQuery) -> ResultsView {
    let tz = &request.time_zone;
    let agent_query = query.query_string(&[("group_by", "")]);
    let lines = report
        .items
        .iter()
        .map(|item| {
            let period = match (request.interval, item.interval_start) {
                (Some(interval), Some(start)) => interval.label(start, tz),
                _ => "Whole period".to_owned(),
            };
            let href = (item.key.kind == GroupBy::Agent)
                .then(|| format!("/results/agents/{}?{agent_query}", item.key.id));
            Line::of(item, period, href)
        })
        .collect();
    let bands: Vec<(String, u64)> =
        scoreline_core::Distribution::bands().into_iter().zip(report.distribution.tenths).collect();
    let chart = Chart {
        id: "distribution",
        title: "Score distribution",
        description: "How many scored evaluations fall in each band of ten points; the table below gives every count.",
        y_axis: "Evaluations",
        x_axis: "Score",
    };
    let distribution = bar_chart(&chart, &bands);
    let export = query.query_string(&[("group_by", ""), ("interval", "")]);
    ResultsView {
        group_by: request.group_by,
        overall: Line::of(&report.overall, "Whole period".to_owned(), None),
        trend: trend("trend", "Average score over time", &report.trend, request),
        distribution,
        bands,
        distribution_na: report.distribution.na,
        lines,
        export_answers: match export.as_str() {
            "" => "answers=1".to_owned(),
            filters => format!("{filters}&answers=1"),
        },
        export,
    }
}

async fn results(
    State(state): State<WebState>,
    page: PageActor,
    QueryFields(query): QueryFields<ResultsQuery>,
) -> Result<Response, ApiError> {
    let actor = &page.actor;
    let query = with_defaults(query, &page);
    let (scorecards, teams) = state.app.results_choices(actor).await?;
    let integrations = state.app.integration_choices(actor).await?;
    let mut view = ResultsPage {
        layout: page.layout(),
        query: query.clone(),
        errors: FormErrors::none(),
        scorecards,
        teams,
        integrations,
        view: None,
    };
    let computed = match query.input().parse() {
        Ok(request) => state.app.results(actor, &request).await.map(|report| (request, report)),
        Err(error) => Err(error),
    };
    match computed {
        Ok((request, report)) => {
            view.view = Some(results_view(&report, &request, &query));
            Ok(view.into_response())
        }
        Err(error) => {
            let (status, errors) = rejected("filters", error)?;
            view.errors = errors;
            Ok((status, view).into_response())
        }
    }
}

/// The export for the page's link: the same file as the API's, with the session.
async fn export(
    State(state): State<WebState>,
    page: PageActor,
    QueryFields(query): QueryFields<ExportQuery>,
) -> Result<Response, ApiError> {
    csv_response(&state.app, &page.actor, &query)
}

impl AgentPage {
    fn one(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("")
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "results/agent.html")]
struct AgentPage {
    layout: Layout,
    query: ResultsQuery,
    agent: scoreline_core::User,
    overall: Line,
    trend: Trend,
    weakest: Vec<Line>,
    weakest_svg: String,
    latest: Vec<ExportedEvaluation>,
    disputes: Vec<Dispute>,
    back: String,
}

async fn agent(
    State(state): State<WebState>,
    page: PageActor,
    IdPath(id): IdPath<UserId>,
    QueryFields(query): QueryFields<ResultsQuery>,
) -> Result<Response, ApiError> {
    let query = with_defaults(query, &page);
    let request = query.input().parse()?;
    let AgentResults { agent, trend: points, overall, weakest, latest, disputes } =
        state.app.agent_results(&page.actor, id, &request).await?;
    let weakest_points: Vec<Point> = weakest
        .iter()
        .map(|item| Point {
            label: shortened(&item.key.name, 22),
            value: item.average_score.map(|s| f64::from(s.hundredths()) / 100.0),
        })
        .collect();
    let chart = Chart {
        id: "weakest",
        title: "Weakest questions",
        description: "Share of points on each of the agent's weakest questions; the table below names them in full.",
        y_axis: "Share of points (%)",
        x_axis: "Question",
    };
    let weakest_svg = column_chart(&chart, &weakest_points);
    let view = AgentPage {
        layout: page.layout(),
        back: format!("/results?{}", query.query_string(&[])),
        trend: trend("agent-trend", &format!("{}: average score over time", agent.name), &points, &request),
        overall: Line::of(&overall, "Whole period".to_owned(), None),
        weakest: weakest.iter().map(|item| Line::of(item, String::new(), None)).collect(),
        weakest_svg,
        latest,
        disputes,
        agent,
        query,
    };
    Ok((StatusCode::OK, view).into_response())
}

#[cfg(test)]
mod tests {
    use scoreline_core::{Figures, ResultFilter, ResultKey};

    use super::*;

    #[test]
    fn a_week_without_evaluations_breaks_the_trend_line() {
        let at = |text: &str| Timestamp::parse_rfc3339(text).unwrap();
        let request = ResultsRequest::new(
            GroupBy::Agent,
            Some(Interval::Week),
            scoreline_core::time_zone("UTC").unwrap(),
            ResultFilter::default(),
        );
        let key = ResultKey { kind: GroupBy::Agent, id: uuid::Uuid::nil(), name: String::new() };
        let figures = Figures { count: 1, scored: 1, total: 8000, ..Figures::default() };
        let items = [
            ResultItem::new(key.clone(), Some(at("2026-11-02T00:00:00Z")), &figures),
            ResultItem::new(key, Some(at("2026-11-16T00:00:00Z")), &figures),
        ];
        let drawn = trend("t", "Trend", &items, &request);
        assert!(drawn.svg.contains("over 3 periods, 1 of them without evaluations"), "{}", drawn.svg);
        // Two separate strokes: the pen lifts over the empty week.
        let path = drawn.svg.split("<path d=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(drawn.lines.len(), 2, "the table lists the weeks with figures");
    }
}
