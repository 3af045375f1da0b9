//! Results (DESIGN.md §7.6): the figures of submitted evaluations in the actor's scope (a team
//! admin sees their teams' agents, an employee themselves), an agent's page, and the CSV
//! export, streamed a page at a time so memory stays flat however many rows it writes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::Stream;
use jiff::tz::TimeZone;
use scoreline_core::{
    Aggregation, Dispute, Distribution, ExportCursor, ExportedEvaluation, FieldErrors, Figures, GroupBy,
    Interval, Permission, ResultFilter, ResultItem, ResultKey, ResultSink, Scope, ScorecardDefinition,
    ScorecardId, ScorecardVersionId, Team, Timestamp, User, UserId, time_zone,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{Actor, App, AppError, AppResult};

/// The most periods one summing statement binds (two parameters each, well under either
/// database's limit): two years of days. A longer span is read row by row.
const MAX_SUMMED_PERIODS: usize = 731;

/// Results as the API's query string and the page's filters give them; every part optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResultsInput {
    /// agent (the default), team, group, scorecard, question or evaluator.
    pub group_by: Option<String>,
    /// day, week or month; none gives one line per key.
    pub interval: Option<String>,
    /// An RFC 3339 time, or a date (the start of that day in `time_zone`).
    pub from: Option<String>,
    /// An RFC 3339 time (exclusive), or a date (up to the end of that day in `time_zone`).
    pub to: Option<String>,
    pub scorecard_id: Option<String>,
    pub team_id: Option<String>,
    pub integration_id: Option<String>,
    pub agent_user_id: Option<String>,
    /// The IANA time zone days, weeks and months are counted in; UTC by default.
    pub time_zone: Option<String>,
}

/// What results to compute, checked.
#[derive(Debug, Clone)]
pub struct ResultsRequest {
    pub group_by: GroupBy,
    pub interval: Option<Interval>,
    pub time_zone: TimeZone,
    pub filter: ResultFilter,
}

impl ResultsRequest {
    pub fn new(
        group_by: GroupBy,
        interval: Option<Interval>,
        time_zone: TimeZone,
        filter: ResultFilter,
    ) -> Self {
        Self { group_by, interval, time_zone, filter }
    }
}

fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// An RFC 3339 time, or a date in `tz`: its start, or (for `end`) the start of the next day.
fn moment(text: &str, tz: &TimeZone, end: bool) -> Result<Timestamp, String> {
    if let Ok(at) = Timestamp::parse_rfc3339(text) {
        return Ok(at);
    }
    let date: jiff::civil::Date = text
        .parse()
        .map_err(|_| "give a date (2026-11-01) or an RFC 3339 time (2026-11-01T00:00:00Z)".to_owned())?;
    let date = if end { date.tomorrow().map_err(|e| e.to_string())? } else { date };
    let start = date.to_zoned(tz.clone()).map_err(|e| e.to_string())?;
    Ok(Timestamp::from_millis(start.timestamp().as_millisecond()))
}

impl ResultsInput {
    /// The request, or every problem by its field.
    pub fn parse(&self) -> AppResult<ResultsRequest> {
        let mut errors = FieldErrors::new();
        let group_by = match given(&self.group_by) {
            None => Some(GroupBy::Agent),
            Some(text) => errors.check(
                "group_by",
                GroupBy::parse(text)
                    .ok_or_else(|| "choose agent, team, group, scorecard, question or evaluator".to_owned()),
            ),
        };
        let interval = given(&self.interval).and_then(|text| {
            errors.check(
                "interval",
                Interval::parse(text).ok_or_else(|| "choose day, week or month".to_owned()),
            )
        });
        let tz = match given(&self.time_zone) {
            None => Some(TimeZone::UTC),
            Some(name) => errors.check("time_zone", time_zone(name)),
        };
        let zone = tz.clone().unwrap_or(TimeZone::UTC);
        let from = given(&self.from).and_then(|t| errors.check("from", moment(t, &zone, false)));
        let to = given(&self.to).and_then(|t| errors.check("to", moment(t, &zone, true)));
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            errors.push("to", "must come after from");
        }
        let mut id = |field: &str, text: &Option<String>| {
            given(text).and_then(|t| {
                errors.check(field, t.parse::<Uuid>().map_err(|_| format!("{field} must be a UUID")))
            })
        };
        let scorecard_id = id("scorecard_id", &self.scorecard_id).map(scoreline_core::ScorecardId::from_uuid);
        let team_id = id("team_id", &self.team_id).map(scoreline_core::TeamId::from_uuid);
        let integration_id =
            id("integration_id", &self.integration_id).map(scoreline_core::IntegrationId::from_uuid);
        let agent_user_id = id("agent_user_id", &self.agent_user_id).map(UserId::from_uuid);
        errors.into_result()?;
        let filter = ResultFilter { from, to, scorecard_id, team_id, integration_id, agent_user_id };
        Ok(ResultsRequest {
            group_by: group_by.unwrap_or(GroupBy::Agent),
            interval,
            time_zone: tz.unwrap_or(TimeZone::UTC),
            filter,
        })
    }
}

/// The figures of one request: its lines, the overall trend, and the score distribution.
#[derive(Debug, Clone)]
pub struct ResultsReport {
    /// By key (by name, then period).
    pub items: Vec<ResultItem>,
    /// All counted evaluations per period (the request's interval, else per week).
    pub trend: Vec<ResultItem>,
    /// All counted evaluations together.
    pub overall: ResultItem,
    pub distribution: Distribution,
}

/// An agent's page: their trend, weakest questions, latest evaluations and disputes.
#[derive(Debug, Clone)]
pub struct AgentResults {
    pub agent: User,
    pub trend: Vec<ResultItem>,
    pub overall: ResultItem,
    /// Lowest share of points first; at most five.
    pub weakest: Vec<ResultItem>,
    /// Newest first; at most ten.
    pub latest: Vec<ExportedEvaluation>,
    /// Newest first; at most ten.
    pub disputes: Vec<Dispute>,
}

const WEAKEST_QUESTIONS: usize = 5;
const LATEST_EVALUATIONS: u32 = 10;
/// Rows read per page of an export: enough to keep the database busy, few enough to stay small.
pub const EXPORT_PAGE: u32 = 500;

/// The scorecard definitions of the versions results name, read once each.
#[derive(Default)]
struct Definitions(HashMap<ScorecardVersionId, Option<Arc<ScorecardDefinition>>>);

impl Definitions {
    async fn load(
        &mut self,
        app: &App,
        versions: impl IntoIterator<Item = ScorecardVersionId>,
    ) -> AppResult<()> {
        for version in versions {
            if let std::collections::hash_map::Entry::Vacant(entry) = self.0.entry(version) {
                let found = app.db().get_scorecard_version_by_id(version).await?;
                entry.insert(found.map(|v| Arc::new(v.definition)));
            }
        }
        Ok(())
    }

    fn get(&self, version: ScorecardVersionId) -> Option<Arc<ScorecardDefinition>> {
        self.0.get(&version).cloned().flatten()
    }

    /// Question texts by id, from whichever loaded version names the question.
    fn question_names(&self) -> HashMap<Uuid, String> {
        let mut names = HashMap::new();
        for definition in self.0.values().flatten() {
            for question in definition.sections.iter().flat_map(|s| &s.questions) {
                names.insert(question.id.as_uuid(), question.text.clone());
            }
        }
        names
    }
}

impl App {
    /// Checks what only the actor's scope decides: a team filter must name a team in it.
    fn check_results_access(&self, actor: &Actor, filter: &ResultFilter) -> AppResult<()> {
        actor.require(Permission::ViewOwnEvaluations)?;
        if let Some(team) = filter.team_id
            && !actor.scope().covers_team(team)
        {
            return Err(AppError::field("team_id", "is not a team in your scope"));
        }
        Ok(())
    }

    /// Offers the counted evaluations to `sinks` summed per period of `interval` (the interval of
    /// every sink that has one) by the database, or row by row when the filter's span holds
    /// more periods than one statement should bind.
    async fn summarise_results(
        &self,
        scope: &Scope,
        filter: &ResultFilter,
        interval: Interval,
        tz: &TimeZone,
        sinks: &mut (dyn ResultSink + '_),
    ) -> AppResult<()> {
        let span = match (filter.from, filter.to) {
            (Some(from), Some(to)) => Some((from, to)),
            _ => self.db().result_span(scope, filter).await?.map(|(first, last)| {
                let after_last = Timestamp::from_millis(last.as_millis().saturating_add(1));
                (filter.from.unwrap_or(first), filter.to.unwrap_or(after_last))
            }),
        };
        let Some((from, to)) = span else { return Ok(()) };
        let periods = interval.periods(from, to, tz, MAX_SUMMED_PERIODS);
        match periods {
            Some(periods) => self.db().summarise_results(scope, filter, &periods, sinks).await?,
            None => self.db().stream_results(scope, filter, false, sinks).await?,
        }
        Ok(())
    }

    /// The figures of `request` over the counted evaluations in the actor's scope.
    pub async fn results(&self, actor: &Actor, request: &ResultsRequest) -> AppResult<ResultsReport> {
        self.check_results_access(actor, &request.filter)?;
        let scope = actor.scope();
        let memberships = match request.group_by {
            GroupBy::Team | GroupBy::Group => self.db().memberships_in_scope(scope).await?,
            _ => Vec::new(),
        };
        let mut by_agent: HashMap<UserId, Vec<Uuid>> = HashMap::new();
        let mut names: HashMap<Uuid, String> = HashMap::new();
        for m in &memberships {
            let (id, name) = if request.group_by == GroupBy::Team {
                (m.team_id.as_uuid(), &m.team_name)
            } else {
                (m.group_id.as_uuid(), &m.group_name)
            };
            let ids = by_agent.entry(m.user_id).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
            names.insert(id, name.clone());
        }
        let tz = request.time_zone.clone();
        let trend_interval = request.interval.unwrap_or(Interval::Week);
        let mut sinks = (
            Aggregation::new(request.group_by, request.interval, tz.clone(), by_agent),
            (
                (
                    Aggregation::overall(Some(trend_interval), tz.clone()),
                    Aggregation::overall(None, tz.clone()),
                ),
                Distribution::default(),
            ),
        );
        match request.group_by {
            GroupBy::Question => self.db().stream_results(scope, &request.filter, true, &mut sinks).await?,
            _ => self.summarise_results(scope, &request.filter, trend_interval, &tz, &mut sinks).await?,
        }
        let (grouped, ((trend, overall), distribution)) = sinks;
        let mut definitions = Definitions::default();
        definitions.load(self, grouped.versions()).await?;
        let buckets = grouped.finish(|v| definitions.get(v));
        match request.group_by {
            GroupBy::Agent | GroupBy::Evaluator => {
                let ids: Vec<UserId> = buckets
                    .iter()
                    .map(|((id, _), _)| UserId::from_uuid(*id))
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect();
                names.extend(self.db().user_names(&ids).await?.into_iter().map(|(id, n)| (id.as_uuid(), n)));
            }
            GroupBy::Scorecard => {
                names.extend(self.db().scorecard_names().await?.into_iter().map(|(id, n)| (id.as_uuid(), n)));
            }
            GroupBy::Question => names.extend(definitions.question_names()),
            GroupBy::Team | GroupBy::Group => {}
        }
        let items = named_items(request.group_by, buckets, &names);
        let trend = named_items(request.group_by, trend.finish(|_| None), &HashMap::new());
        let overall = overall_item(request.group_by, &overall.finish(|_| None));
        Ok(ResultsReport { items, trend, overall, distribution })
    }

    /// One agent's page, when they lie in the actor's scope (else "not found").
    pub async fn agent_results(
        &self,
        actor: &Actor,
        agent: UserId,
        request: &ResultsRequest,
    ) -> AppResult<AgentResults> {
        self.check_results_access(actor, &request.filter)?;
        let scope = actor.scope();
        let agent = self.db().get_user(scope, agent).await?.ok_or(AppError::NotFound("user"))?;
        let filter = ResultFilter { agent_user_id: Some(agent.id), ..request.filter.clone() };
        let tz = request.time_zone.clone();
        let mut sinks = (
            (
                Aggregation::overall(request.interval.or(Some(Interval::Week)), tz.clone()),
                Aggregation::overall(None, tz.clone()),
            ),
            Aggregation::new(GroupBy::Question, None, tz, HashMap::new()),
        );
        self.db().stream_results(scope, &filter, true, &mut sinks).await?;
        let ((trend, overall), questions) = sinks;
        let mut definitions = Definitions::default();
        definitions.load(self, questions.versions()).await?;
        let names = definitions.question_names();
        let mut weakest = named_items(GroupBy::Question, questions.finish(|v| definitions.get(v)), &names);
        weakest.retain(|item| item.average_score.is_some());
        weakest
            .sort_by(|a, b| a.average_score.cmp(&b.average_score).then_with(|| a.key.name.cmp(&b.key.name)));
        weakest.truncate(WEAKEST_QUESTIONS);
        let latest = self.db().latest_evaluations(scope, &filter, LATEST_EVALUATIONS).await?;
        let disputes = self.db().agent_disputes(scope, agent.id, LATEST_EVALUATIONS).await?;
        Ok(AgentResults {
            agent,
            trend: named_items(GroupBy::Agent, trend.finish(|_| None), &HashMap::new()),
            overall: overall_item(GroupBy::Agent, &overall.finish(|_| None)),
            weakest,
            latest,
            disputes,
        })
    }

    /// What the results filters offer the actor: every scorecard, and the teams of their scope
    /// (none for employees, who see only themselves).
    pub async fn results_choices(&self, actor: &Actor) -> AppResult<(Vec<(ScorecardId, String)>, Vec<Team>)> {
        actor.require(Permission::ViewOwnEvaluations)?;
        let mut scorecards = self.db().scorecard_names().await?;
        scorecards.sort_by_key(|(_, name)| name.to_lowercase());
        let teams = if matches!(actor.scope(), scoreline_core::Scope::Own(_)) {
            Vec::new()
        } else {
            self.db()
                .list_teams(
                    actor.scope(),
                    scoreline_core::PageRequest::first(scoreline_core::PageRequest::MAX_LIMIT),
                )
                .await?
                .items
        };
        Ok((scorecards, teams))
    }

    /// Open disputes of evaluations in the actor's scope, for the home page.
    pub async fn count_open_disputes(&self, actor: &Actor) -> AppResult<u64> {
        actor.require(Permission::ViewOwnEvaluations)?;
        Ok(self.db().count_open_disputes(actor.scope()).await?)
    }

    /// The CSV export of `request`'s evaluations (with `answers`, one row per answer), as a
    /// stream of chunks of text, one per page of [`EXPORT_PAGE`] evaluations. The access is
    /// checked before the first byte, so a refusal is an error, not a broken file.
    pub fn export_csv(
        &self,
        actor: &Actor,
        request: &ResultsRequest,
        answers: bool,
    ) -> AppResult<impl Stream<Item = AppResult<String>> + Send + 'static> {
        self.check_results_access(actor, &request.filter)?;
        let state = Export {
            app: self.clone(),
            scope: actor.scope().clone(),
            filter: request.filter.clone(),
            answers,
            after: None,
            header: true,
            done: false,
            definitions: Definitions::default(),
        };
        Ok(futures::stream::try_unfold(state, |mut state| async move {
            if state.done {
                return Ok(None);
            }
            let chunk = state.next_chunk().await?;
            Ok(Some((chunk, state)))
        }))
    }
}

fn named_items(
    group_by: GroupBy,
    buckets: Vec<((Uuid, Option<Timestamp>), Figures)>,
    names: &HashMap<Uuid, String>,
) -> Vec<ResultItem> {
    let mut items: Vec<ResultItem> = buckets
        .into_iter()
        .map(|((id, start), figures)| {
            let name = names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| if id.is_nil() { "All".to_owned() } else { id.to_string() });
            ResultItem::new(ResultKey { kind: group_by, id, name }, start, &figures)
        })
        .collect();
    items.sort_by(|a, b| {
        (a.key.name.to_lowercase(), a.key.id, a.interval_start).cmp(&(
            b.key.name.to_lowercase(),
            b.key.id,
            b.interval_start,
        ))
    });
    items
}

fn overall_item(group_by: GroupBy, buckets: &[((Uuid, Option<Timestamp>), Figures)]) -> ResultItem {
    let figures = buckets.first().map(|(_, f)| *f).unwrap_or_default();
    ResultItem::new(ResultKey { kind: group_by, id: Uuid::nil(), name: "All".to_owned() }, None, &figures)
}

/// Where a CSV export stands between pages.
struct Export {
    app: App,
    scope: scoreline_core::Scope,
    filter: ResultFilter,
    answers: bool,
    after: Option<ExportCursor>,
    header: bool,
    done: bool,
    definitions: Definitions,
}

const EVALUATION_COLUMNS: [&str; 17] = [
    "evaluation_id",
    "submitted_at",
    "integration_id",
    "case_id",
    "case_short_id",
    "scorecard_id",
    "scorecard",
    "scorecard_version",
    "agent_user_id",
    "agent",
    "evaluator_id",
    "evaluator",
    "score",
    "passed",
    "fail_all",
    "revision",
    "comment",
];

const ANSWER_COLUMNS: [&str; 17] = [
    "evaluation_id",
    "submitted_at",
    "case_id",
    "scorecard",
    "scorecard_version",
    "agent_user_id",
    "agent",
    "evaluator",
    "section",
    "question_id",
    "question",
    "answer",
    "points",
    "max_points",
    "na",
    "fail",
    "comment",
];

impl Export {
    async fn next_chunk(&mut self) -> AppResult<String> {
        let rows =
            self.app.db().export_evaluations(&self.scope, &self.filter, self.after, EXPORT_PAGE).await?;
        self.done = rows.len() < EXPORT_PAGE as usize;
        self.after = rows.last().map(|row| (row.submitted_at, row.id));
        let mut out = String::with_capacity(rows.len() * 256);
        if std::mem::take(&mut self.header) {
            let columns: &[&str] = if self.answers { &ANSWER_COLUMNS } else { &EVALUATION_COLUMNS };
            write_record(&mut out, columns.iter().copied());
        }
        if self.answers {
            let versions: Vec<ScorecardVersionId> = rows.iter().map(|r| r.scorecard_version_id).collect();
            self.definitions.load(&self.app, versions).await?;
        }
        for row in &rows {
            if self.answers {
                self.write_answers(&mut out, row);
            } else {
                write_evaluation(&mut out, row);
            }
        }
        Ok(out)
    }

    fn write_answers(&self, out: &mut String, row: &ExportedEvaluation) {
        let definition = self.definitions.get(row.scorecard_version_id);
        for answer in &row.answers {
            let Some(question_id) = answer.question_id else { continue };
            let found = definition.as_deref().and_then(|d| {
                d.sections
                    .iter()
                    .find_map(|s| s.questions.iter().find(|q| q.id == question_id).map(|q| (s, q)))
            });
            let (section, question) = match found {
                Some((section, question)) => (section.title.as_str(), Some(question)),
                None => ("", None),
            };
            let option = question.and_then(|q| q.options.iter().find(|o| Some(o.id) == answer.option_id));
            let label = if answer.na { "N/A" } else { option.map_or("", |o| o.label.as_str()) };
            let points = if answer.na {
                String::new()
            } else {
                option.map(|o| o.points.to_string()).unwrap_or_default()
            };
            let maximum = if answer.na {
                String::new()
            } else {
                question.map(|q| q.maximum().to_string()).unwrap_or_default()
            };
            let fail = option.map_or("none", |o| o.fail.as_str());
            write_record(
                out,
                [
                    row.id.to_string().as_str(),
                    &row.submitted_at.to_rfc3339(),
                    &row.case_id.to_string(),
                    &row.scorecard_name,
                    &row.scorecard_version.to_string(),
                    &row.agent_user_id.to_string(),
                    &row.agent_name,
                    &row.evaluator_name,
                    section,
                    &question_id.to_string(),
                    question.map_or("", |q| q.text.as_str()),
                    label,
                    &points,
                    &maximum,
                    if answer.na { "true" } else { "false" },
                    fail,
                    answer.comment.as_deref().unwrap_or(""),
                ],
            );
        }
    }
}

fn write_evaluation(out: &mut String, row: &ExportedEvaluation) {
    write_record(
        out,
        [
            row.id.to_string().as_str(),
            &row.submitted_at.to_rfc3339(),
            &row.integration_id.map(|id| id.to_string()).unwrap_or_default(),
            &row.case_id.to_string(),
            row.case_short_id.as_deref().unwrap_or(""),
            &row.scorecard_id.to_string(),
            &row.scorecard_name,
            &row.scorecard_version.to_string(),
            &row.agent_user_id.to_string(),
            &row.agent_name,
            &row.evaluator_id.to_string(),
            &row.evaluator_name,
            &row.score.map(|s| s.to_string()).unwrap_or_default(),
            row.passed.map_or("", |p| if p { "true" } else { "false" }),
            if row.fail_all { "true" } else { "false" },
            &row.revision.to_string(),
            &row.comment,
        ],
    );
}

/// One CSV record (RFC 4180): fields with a comma, quote, CR or LF are quoted, quotes doubled;
/// lines end in CRLF. A field that a spreadsheet would run as a formula (it starts with `=`, `+`,
/// `-`, `@`, a tab or a CR; our own figures never do) gets a leading `'`, so a comment typed
/// as `=HYPERLINK(…)` stays text when the export is opened.
fn write_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let guard = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) { "'" } else { "" };
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(guard);
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(guard);
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_quote_what_needs_quoting() {
        let mut out = String::new();
        write_record(&mut out, ["plain", "a,b", "say \"hi\"", "two\nlines", "ünïcødé ✓", ""]);
        assert_eq!(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",ünïcødé ✓,\r\n");
    }

    #[test]
    fn records_keep_formulas_as_text() {
        let mut out = String::new();
        write_record(&mut out, ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "a=b", "42"]);
        assert_eq!(out, "\"'=HYPERLINK(\"\"x\"\")\",'+1,'-2,'@SUM(A1),'\tx,a=b,42\r\n");
    }

    #[test]
    fn dates_are_days_in_the_time_zone_and_to_is_inclusive() {
        let input = ResultsInput {
            from: Some("2026-11-01".to_owned()),
            to: Some("2026-11-30".to_owned()),
            time_zone: Some("Europe/Berlin".to_owned()),
            ..ResultsInput::default()
        };
        let request = input.parse().unwrap();
        assert_eq!(request.filter.from, Some(Timestamp::parse_rfc3339("2026-10-31T23:00:00Z").unwrap()));
        assert_eq!(request.filter.to, Some(Timestamp::parse_rfc3339("2026-11-30T23:00:00Z").unwrap()));
        let bad = ResultsInput {
            group_by: Some("planet".to_owned()),
            interval: Some("year".to_owned()),
            time_zone: Some("Mars/Olympus".to_owned()),
            team_id: Some("x".to_owned()),
            ..ResultsInput::default()
        };
        let Err(AppError::Validation(errors)) = bad.parse() else { panic!("accepted") };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["group_by", "interval", "time_zone", "team_id"]);
    }
}
