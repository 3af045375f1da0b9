//! Results (DESIGN.md §7.6): what submitted evaluations say, by agent, team, group, scorecard,
//! question or evaluator, per day, week or month in the viewer's time zone.
//!
//! Only evaluations by someone else (`kind = evaluation`), submitted, count, each as its latest
//! revision stands; self-scores and calibration scores never do. The store streams one
//! [`ResultRow`] per evaluation, or one [`ResultCell`] per period and key that the database
//! summed, into a [`ResultSink`]; [`Aggregation`] keeps only the running sums, so the figures
//! are exact however many evaluations there are.

use std::collections::HashMap;

use jiff::ToSpan;
use jiff::tz::TimeZone;
use serde::Serialize;
use uuid::Uuid;

use crate::lists::{start_of, zoned};
use crate::scoring::round_half_up;
use crate::{
    Answer, CaseId, EvaluationId, FailRule, IntegrationId, OptionId, QuestionId, Score, ScorecardDefinition,
    ScorecardId, ScorecardVersionId, TeamId, Timestamp, UserId,
};

/// What results are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Agent,
    /// The agent's current teams: someone in two teams counts in both, someone in none in none.
    Team,
    /// The groups of the agent's current teams.
    Group,
    Scorecard,
    /// Each answered question, from the answers of the latest revision.
    Question,
    Evaluator,
}

impl GroupBy {
    pub const ALL: [GroupBy; 6] =
        [Self::Agent, Self::Team, Self::Group, Self::Scorecard, Self::Question, Self::Evaluator];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Team => "team",
            Self::Group => "group",
            Self::Scorecard => "scorecard",
            Self::Question => "question",
            Self::Evaluator => "evaluator",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Agent => "Agent",
            Self::Team => "Team",
            Self::Group => "Group",
            Self::Scorecard => "Scorecard",
            Self::Question => "Question",
            Self::Evaluator => "Evaluator",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// The length of the periods a trend is counted in. Weeks start on Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Day,
    Week,
    Month,
}

impl Interval {
    pub const ALL: [Interval; 3] = [Self::Day, Self::Week, Self::Month];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == text)
    }

    /// The first instant, in `tz`, of the period that holds `at`: the day's start, Monday's
    /// start, or the first of the month's start (in local time, so a week is 167 or 169 hours
    /// long across a change of clocks).
    pub fn start(self, at: Timestamp, tz: &TimeZone) -> Timestamp {
        let date = zoned(at, tz).date();
        let first = match self {
            Self::Day => date,
            Self::Week => {
                date.checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days()).unwrap_or(date)
            }
            Self::Month => date.first_of_month(),
        };
        start_of(first, tz)
    }

    /// The `[start, end)` of the period that holds `at`, in `tz`.
    pub fn bounds(self, at: Timestamp, tz: &TimeZone) -> (Timestamp, Timestamp) {
        let start = self.start(at, tz);
        let first = zoned(start, tz).date();
        let next = match self {
            Self::Day => first.checked_add(1.day()),
            Self::Week => first.checked_add(7.days()),
            Self::Month => first.checked_add(1.month()),
        };
        (start, next.map_or(Timestamp::from_millis(i64::MAX), |date| start_of(date, tz)))
    }

    /// The periods, in `tz` and in order, that cover `[from, to)`: the first holds `from`.
    /// `None` when there are more than `limit` of them.
    pub fn periods(
        self,
        from: Timestamp,
        to: Timestamp,
        tz: &TimeZone,
        limit: usize,
    ) -> Option<Vec<(Timestamp, Timestamp)>> {
        let mut periods = Vec::new();
        let mut period = self.bounds(from, tz);
        while period.0 < to {
            if periods.len() == limit {
                return None;
            }
            periods.push(period);
            if period.1 == Timestamp::from_millis(i64::MAX) {
                break;
            }
            period = self.bounds(period.1, tz);
        }
        Some(periods)
    }

    /// The period that starts at `start`, as a person reads it in `tz`: `24 Nov 2026`,
    /// `Week of 23 Nov 2026`, `Nov 2026`.
    pub fn label(self, start: Timestamp, tz: &TimeZone) -> String {
        let local = zoned(start, tz);
        match self {
            Self::Day => local.strftime("%-d %b %Y").to_string(),
            Self::Week => format!("Week of {}", local.strftime("%-d %b %Y")),
            Self::Month => local.strftime("%b %Y").to_string(),
        }
    }

    /// A short form for a chart's axis: `24 Nov`, `Nov 2026`.
    pub fn short_label(self, start: Timestamp, tz: &TimeZone) -> String {
        let local = zoned(start, tz);
        match self {
            Self::Day | Self::Week => local.strftime("%-d %b").to_string(),
            Self::Month => local.strftime("%b %Y").to_string(),
        }
    }
}

/// The calendar date of `at` in `tz`, as `2026-11-24`.
pub fn local_date(at: Timestamp, tz: &TimeZone) -> String {
    zoned(at, tz).date().to_string()
}

/// Which evaluations results look at; every part is optional. Times are of submission.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultFilter {
    /// Submitted at or after.
    pub from: Option<Timestamp>,
    /// Submitted before.
    pub to: Option<Timestamp>,
    pub scorecard_id: Option<ScorecardId>,
    /// Agents who are members of this team now.
    pub team_id: Option<TeamId>,
    /// Evaluations of cases of this integration.
    pub integration_id: Option<IntegrationId>,
    pub agent_user_id: Option<UserId>,
}

/// One counted evaluation as results read it (its latest revision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub evaluation_id: EvaluationId,
    pub case_id: CaseId,
    pub scorecard_id: ScorecardId,
    pub scorecard_version_id: ScorecardVersionId,
    pub evaluator_id: UserId,
    pub agent_user_id: UserId,
    pub submitted_at: Timestamp,
    /// `None`: every section was N/A.
    pub score: Option<Score>,
    pub passed: Option<bool>,
    pub fail_all: bool,
    /// Read only when questions are counted.
    pub answers: Vec<Answer>,
}

/// Takes the rows of a results query one at a time, so none of them is held by the store.
pub trait ResultSink: Send {
    fn offer(&mut self, row: &ResultRow);

    /// Evaluations already summed by the database, per period of the interval the cells were
    /// made for, which is the sink's own (a sink without an interval ignores the period).
    /// Never offered to a sink that counts questions: those need every row's answers.
    fn offer_cell(&mut self, cell: &ResultCell);
}

impl<A: ResultSink, B: ResultSink> ResultSink for (A, B) {
    fn offer(&mut self, row: &ResultRow) {
        self.0.offer(row);
        self.1.offer(row);
    }

    fn offer_cell(&mut self, cell: &ResultCell) {
        self.0.offer_cell(cell);
        self.1.offer_cell(cell);
    }
}

/// The counted evaluations of one period that share agent, evaluator and scorecard version,
/// summed by the database: a results read without questions takes a few thousand of these
/// instead of one row per evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultCell {
    pub period_start: Timestamp,
    pub agent_user_id: UserId,
    pub evaluator_id: UserId,
    pub scorecard_id: ScorecardId,
    pub scorecard_version_id: ScorecardVersionId,
    pub figures: Figures,
    /// Of the scored ones, how many fall in each tenth of the scale, as [`Distribution`] counts.
    pub tenths: [u64; 10],
}

/// The running sums of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Evaluations (for a question: answers, N/A included).
    pub count: u64,
    /// Of them with a score (for a question: answers that are not N/A).
    pub scored: u64,
    /// Σ score in hundredths over the scored ones (for a question: Σ points).
    pub total: u64,
    /// For a question: Σ maxima of the answered questions; unused otherwise.
    pub maximum: u64,
    /// Of the scored ones, those at or above their scorecard's target.
    pub passed: u64,
    /// With a `fail: all` answer (for a question: answers that chose such an option).
    pub fail_all: u64,
    /// Without a score (for a question: answered N/A).
    pub na: u64,
}

impl Figures {
    fn of_evaluation(row: &ResultRow) -> Self {
        let scored = row.score.is_some();
        Self {
            count: 1,
            scored: u64::from(scored),
            total: row.score.map_or(0, |score| u64::from(score.hundredths())),
            maximum: 0,
            passed: u64::from(scored && row.passed == Some(true)),
            fail_all: u64::from(row.fail_all),
            na: u64::from(!scored),
        }
    }

    fn add(&mut self, other: &Figures) {
        self.count += other.count;
        self.scored += other.scored;
        self.total += other.total;
        self.maximum += other.maximum;
        self.passed += other.passed;
        self.fail_all += other.fail_all;
        self.na += other.na;
    }
}

/// One line of results: a key (and period), and its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultItem {
    pub key: ResultKey,
    /// The period's first instant in the viewer's time zone; absent without an interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_start: Option<Timestamp>,
    /// Evaluations counted (for a question: its answers, N/A included).
    pub count: u64,
    /// Of them with a score (for a question: answers that are not N/A).
    pub scored: u64,
    /// The mean of the scored evaluations' scores, computed in hundredths and rounded half up
    /// to two decimals once; for a question, 100 × Σ points ÷ Σ maxima over its non-N/A
    /// answers. `None` when nothing is scored.
    pub average_score: Option<Score>,
    /// 100 × passed ÷ scored, two decimals rounded half up; `None` when nothing is scored, and
    /// always for questions (they have no target).
    pub pass_rate: Option<Score>,
    /// Evaluations with a `fail: all` answer (for a question: answers that chose such an option).
    pub fail_all: u64,
    /// Evaluations whose every section was N/A (for a question: N/A answers).
    pub na: u64,
}

impl ResultItem {
    pub fn new(key: ResultKey, interval_start: Option<Timestamp>, figures: &Figures) -> Self {
        let share = |part: u64, whole: u64| {
            (whole > 0).then(|| Score::from_hundredths(round_half_up(u128::from(part), u128::from(whole))))
        };
        let (average_score, pass_rate) = if key.kind == GroupBy::Question {
            (share(figures.total * 10_000, figures.maximum), None)
        } else {
            (share(figures.total, figures.scored), share(figures.passed * 10_000, figures.scored))
        };
        Self {
            key,
            interval_start,
            count: figures.count,
            scored: figures.scored,
            average_score,
            pass_rate,
            fail_all: figures.fail_all,
            na: figures.na,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultKey {
    pub kind: GroupBy,
    pub id: Uuid,
    pub name: String,
}

/// One bucket: the key's id and the period's start (`None` without an interval).
type Bucket = (Uuid, Option<Timestamp>);

/// A question's answers of one version, by choice: the option, or `None` for N/A.
type QuestionTally = HashMap<(ScorecardVersionId, QuestionId, Option<OptionId>, Option<Timestamp>), u64>;

/// Counts rows into buckets of `group_by` (and `interval`, in `tz`).
pub struct Aggregation {
    group_by: GroupBy,
    interval: Option<Interval>,
    tz: TimeZone,
    /// For teams and groups: the ids each agent counts under (their current teams or groups).
    memberships: HashMap<UserId, Vec<Uuid>>,
    /// Every row under one key (the nil id): the overall figures.
    overall: bool,
    buckets: HashMap<Bucket, Figures>,
    /// Questions are tallied by choice and scored at the end, once per version.
    questions: QuestionTally,
    /// The bounds of the last row's period: rows come in time order, so most share it and the
    /// time zone is not consulted again.
    last_period: Option<(Timestamp, Timestamp)>,
}

impl Aggregation {
    /// `memberships` matters for [`GroupBy::Team`] and [`GroupBy::Group`] only: an agent
    /// without an entry counts under none.
    pub fn new(
        group_by: GroupBy,
        interval: Option<Interval>,
        tz: TimeZone,
        memberships: HashMap<UserId, Vec<Uuid>>,
    ) -> Self {
        Self {
            group_by,
            interval,
            tz,
            memberships,
            overall: false,
            buckets: HashMap::new(),
            questions: HashMap::new(),
            last_period: None,
        }
    }

    /// Every row under one key, the nil id, per `interval`: the trend of all of them.
    pub fn overall(interval: Option<Interval>, tz: TimeZone) -> Self {
        Self { overall: true, ..Self::new(GroupBy::Scorecard, interval, tz, HashMap::new()) }
    }

    fn period_of(&mut self, at: Timestamp) -> Option<Timestamp> {
        let interval = self.interval?;
        match self.last_period {
            Some((start, end)) if start <= at && at < end => Some(start),
            _ => {
                let (start, end) = interval.bounds(at, &self.tz);
                self.last_period = Some((start, end));
                Some(start)
            }
        }
    }

    /// The scorecard versions whose definitions [`Aggregation::finish`] asks for.
    pub fn versions(&self) -> std::collections::HashSet<ScorecardVersionId> {
        self.questions.keys().map(|(version, ..)| *version).collect()
    }

    /// Every bucket's figures; for questions, `definition` gives each version's points.
    pub fn finish(
        self,
        definition: impl Fn(ScorecardVersionId) -> Option<std::sync::Arc<ScorecardDefinition>>,
    ) -> Vec<(Bucket, Figures)> {
        if self.group_by != GroupBy::Question {
            return self.buckets.into_iter().collect();
        }
        let mut buckets: HashMap<Bucket, Figures> = HashMap::new();
        for ((version, question_id, option, period), times) in self.questions {
            let Some(definition) = definition(version) else { continue };
            let Some(question) = definition.question(question_id) else { continue };
            let figures = buckets.entry((question_id.as_uuid(), period)).or_default();
            figures.count += times;
            let Some(option) = option else {
                figures.na += times;
                continue;
            };
            let Some(option) = question.options.iter().find(|o| o.id == option) else { continue };
            figures.scored += times;
            figures.total += times * u64::from(option.points);
            figures.maximum += times * u64::from(question.maximum());
            if option.fail == FailRule::All {
                figures.fail_all += times;
            }
        }
        buckets.into_iter().collect()
    }
}

impl Aggregation {
    /// Adds `figures` of evaluations of `agent` by `evaluator` on `scorecard` to the buckets
    /// they count under; questions are tallied from answers instead.
    fn add(
        &mut self,
        period: Option<Timestamp>,
        agent: UserId,
        evaluator: UserId,
        scorecard: ScorecardId,
        figures: &Figures,
    ) {
        let id = match self.group_by {
            _ if self.overall => Uuid::nil(),
            GroupBy::Agent => agent.as_uuid(),
            GroupBy::Evaluator => evaluator.as_uuid(),
            GroupBy::Scorecard => scorecard.as_uuid(),
            GroupBy::Team | GroupBy::Group => {
                for id in self.memberships.get(&agent).into_iter().flatten() {
                    self.buckets.entry((*id, period)).or_default().add(figures);
                }
                return;
            }
            GroupBy::Question => return,
        };
        self.buckets.entry((id, period)).or_default().add(figures);
    }
}

impl ResultSink for Aggregation {
    fn offer(&mut self, row: &ResultRow) {
        let period = self.period_of(row.submitted_at);
        if self.group_by == GroupBy::Question && !self.overall {
            for answer in &row.answers {
                let Some(question) = answer.question_id else { continue };
                let choice = if answer.na { None } else { answer.option_id };
                if choice.is_none() && !answer.na {
                    continue;
                }
                let key = (row.scorecard_version_id, question, choice, period);
                *self.questions.entry(key).or_default() += 1;
            }
            return;
        }
        let figures = Figures::of_evaluation(row);
        self.add(period, row.agent_user_id, row.evaluator_id, row.scorecard_id, &figures);
    }

    fn offer_cell(&mut self, cell: &ResultCell) {
        debug_assert!(
            self.overall || self.group_by != GroupBy::Question,
            "questions need every row's answers"
        );
        let period = self.interval.map(|_| cell.period_start);
        self.add(period, cell.agent_user_id, cell.evaluator_id, cell.scorecard_id, &cell.figures);
    }
}

/// How many scored evaluations fall in each tenth of the scale (0–9.99, …, 90–100), and how
/// many are N/A: the score distribution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution {
    pub tenths: [u64; 10],
    pub na: u64,
}

impl Distribution {
    /// The bands' labels, such as `"90–100"`.
    pub fn bands() -> [String; 10] {
        std::array::from_fn(|i| format!("{}–{}", i * 10, if i == 9 { 100 } else { i * 10 + 9 }))
    }
}

impl Distribution {
    /// The tenth of the scale that `score` falls in.
    pub fn tenth(score: Score) -> usize {
        (score.hundredths() / 1000).min(9) as usize
    }
}

impl ResultSink for Distribution {
    fn offer(&mut self, row: &ResultRow) {
        match row.score {
            Some(score) => self.tenths[Self::tenth(score)] += 1,
            None => self.na += 1,
        }
    }

    fn offer_cell(&mut self, cell: &ResultCell) {
        for (total, cell) in self.tenths.iter_mut().zip(cell.tenths) {
            *total += cell;
        }
        self.na += cell.figures.na;
    }
}

/// One evaluation as the export writes it: its latest revision with the names around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedEvaluation {
    pub id: EvaluationId,
    pub submitted_at: Timestamp,
    pub case_id: CaseId,
    /// `None` once the case's row is gone (its integration was disconnected and deleted).
    pub integration_id: Option<IntegrationId>,
    pub case_short_id: Option<String>,
    pub scorecard_id: ScorecardId,
    pub scorecard_name: String,
    pub scorecard_version_id: ScorecardVersionId,
    pub scorecard_version: u32,
    pub agent_user_id: UserId,
    pub agent_name: String,
    pub evaluator_id: UserId,
    pub evaluator_name: String,
    pub score: Option<Score>,
    pub passed: Option<bool>,
    pub fail_all: bool,
    pub revision: u32,
    pub comment: String,
    pub answers: Vec<Answer>,
}

/// Where the next page of an export starts: after this (submission time, evaluation id).
pub type ExportCursor = (Timestamp, EvaluationId);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{AnswerOption, Question, Section, SectionId};

    fn row(
        agent: UserId,
        at: Timestamp,
        score: Option<u32>,
        passed: Option<bool>,
        fail_all: bool,
    ) -> ResultRow {
        ResultRow {
            evaluation_id: EvaluationId::new(),
            case_id: CaseId::new(),
            scorecard_id: ScorecardId::from_uuid(Uuid::nil()),
            scorecard_version_id: ScorecardVersionId::from_uuid(Uuid::nil()),
            evaluator_id: UserId::from_uuid(Uuid::nil()),
            agent_user_id: agent,
            submitted_at: at,
            score: score.map(Score::from_hundredths),
            passed,
            fail_all,
            answers: Vec::new(),
        }
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn averages_round_half_up_once_over_scored_evaluations() {
        let agent = UserId::new();
        let mut aggregation = Aggregation::new(GroupBy::Agent, None, TimeZone::UTC, HashMap::new());
        let t = at("2026-11-02T10:00:00Z");
        // 33.33 + 33.34 + 33.34 = 100.01 / 3 = 33.3366… → 33.34; the N/A one counts nowhere.
        for (score, passed) in [(3333, false), (3334, true), (3334, true)] {
            aggregation.offer(&row(agent, t, Some(score), Some(passed), false));
        }
        aggregation.offer(&row(agent, t, None, None, true));
        let buckets = aggregation.finish(|_| None);
        let key = ResultKey { kind: GroupBy::Agent, id: agent.as_uuid(), name: String::new() };
        let item = ResultItem::new(key, None, &buckets[0].1);
        assert_eq!((item.count, item.scored, item.na, item.fail_all), (4, 3, 1, 1));
        assert_eq!(item.average_score, Some(Score::from_hundredths(3334)));
        // 2 of 3 = 66.666… → 66.67.
        assert_eq!(item.pass_rate, Some(Score::from_hundredths(6667)));
        let half = ResultItem::new(
            ResultKey { kind: GroupBy::Agent, id: agent.as_uuid(), name: String::new() },
            None,
            &Figures { count: 2, scored: 2, total: 1, passed: 0, ..Figures::default() },
        );
        assert_eq!(half.average_score, Some(Score::from_hundredths(1)), "0.005 rounds up to 0.01");
    }

    #[test]
    fn periods_cover_the_range_without_gaps_across_a_change_of_clocks() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let (from, to) = (at("2026-03-25T12:00:00Z"), at("2026-04-06T00:00:00Z"));
        let weeks = Interval::Week.periods(from, to, &berlin, 10).unwrap();
        assert_eq!(
            weeks,
            [
                (at("2026-03-22T23:00:00Z"), at("2026-03-29T22:00:00Z")),
                (at("2026-03-29T22:00:00Z"), at("2026-04-05T22:00:00Z")),
                (at("2026-04-05T22:00:00Z"), at("2026-04-12T22:00:00Z")),
            ]
        );
        assert_eq!(Interval::Day.periods(from, to, &berlin, 5), None, "more than the limit");
        assert_eq!(Interval::Day.periods(to, from, &berlin, 5), Some(Vec::new()));
    }

    #[test]
    fn cells_summed_by_the_database_give_the_figures_of_their_rows() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let (ann, bob) = (UserId::new(), UserId::new());
        let rows = [
            row(ann, at("2026-11-29T22:30:00Z"), Some(9500), Some(true), false),
            row(ann, at("2026-11-29T23:30:00Z"), Some(4000), Some(false), true),
            row(ann, at("2026-11-30T10:00:00Z"), None, None, false),
            row(bob, at("2026-11-30T10:00:00Z"), Some(10_000), Some(true), false),
        ];
        let sinks = || {
            let memberships: HashMap<UserId, Vec<Uuid>> =
                [(ann, vec![Uuid::from_u128(1), Uuid::from_u128(2)])].into();
            (
                (
                    Aggregation::new(GroupBy::Team, Some(Interval::Week), berlin.clone(), memberships),
                    Distribution::default(),
                ),
                (
                    Aggregation::overall(Some(Interval::Week), berlin.clone()),
                    Aggregation::new(GroupBy::Agent, None, berlin.clone(), HashMap::new()),
                ),
            )
        };
        let mut by_row = sinks();
        for r in &rows {
            by_row.offer(r);
        }
        // The same rows summed per week, agent, evaluator and version, as the store does.
        let mut cells: HashMap<(Timestamp, UserId), ResultCell> = HashMap::new();
        for r in &rows {
            let period_start = Interval::Week.start(r.submitted_at, &berlin);
            let cell = cells.entry((period_start, r.agent_user_id)).or_insert_with(|| ResultCell {
                period_start,
                agent_user_id: r.agent_user_id,
                evaluator_id: r.evaluator_id,
                scorecard_id: r.scorecard_id,
                scorecard_version_id: r.scorecard_version_id,
                figures: Figures::default(),
                tenths: [0; 10],
            });
            cell.figures.add(&Figures::of_evaluation(r));
            if let Some(score) = r.score {
                cell.tenths[Distribution::tenth(score)] += 1;
            }
        }
        let mut by_cell = sinks();
        for cell in cells.values() {
            by_cell.offer_cell(cell);
        }
        let sorted = |a: Aggregation| {
            let mut buckets = a.finish(|_| None);
            buckets.sort_by_key(|(bucket, _)| *bucket);
            buckets
        };
        let ((rows_team, rows_distribution), (rows_overall, rows_agent)) = by_row;
        let ((cells_team, cells_distribution), (cells_overall, cells_agent)) = by_cell;
        assert_eq!(rows_distribution, cells_distribution);
        assert_eq!(rows_distribution.tenths[9], 2);
        assert_eq!(rows_distribution.na, 1);
        let team = sorted(rows_team);
        assert_eq!(team.len(), 4, "Ann's two weeks in each of her two teams");
        assert_eq!(team, sorted(cells_team));
        assert_eq!(sorted(rows_overall), sorted(cells_overall));
        assert_eq!(sorted(rows_agent), sorted(cells_agent));
    }

    #[test]
    fn weeks_start_on_monday_in_the_viewers_time_zone() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // Sunday 23:30 in Berlin is Sunday 22:30 UTC: still the week of Monday 2026-11-23.
        let sunday_late = at("2026-11-29T22:30:00Z");
        assert_eq!(Interval::Week.start(sunday_late, &berlin), at("2026-11-22T23:00:00Z"));
        // Monday 00:30 in Berlin (Sunday 23:30 UTC) starts the next week there, not in UTC.
        let monday_early = at("2026-11-29T23:30:00Z");
        assert_eq!(Interval::Week.start(monday_early, &berlin), at("2026-11-29T23:00:00Z"));
        assert_eq!(Interval::Week.start(monday_early, &TimeZone::UTC), at("2026-11-23T00:00:00Z"));
        // Across the change of clocks (29 March 2026), the week still starts at local midnight.
        assert_eq!(Interval::Week.start(at("2026-03-31T12:00:00Z"), &berlin), at("2026-03-29T22:00:00Z"));
        assert_eq!(Interval::Month.start(at("2026-03-31T12:00:00Z"), &berlin), at("2026-02-28T23:00:00Z"));
        assert_eq!(Interval::Day.start(at("2026-03-31T12:00:00Z"), &berlin), at("2026-03-30T22:00:00Z"));
        // The week of the change is 167 hours long; a month ends where the next one starts.
        let (start, end) = Interval::Week.bounds(at("2026-03-27T12:00:00Z"), &berlin);
        assert_eq!((start, end), (at("2026-03-22T23:00:00Z"), at("2026-03-29T22:00:00Z")));
        assert_eq!(
            Interval::Month.bounds(at("2026-03-31T12:00:00Z"), &berlin),
            (at("2026-02-28T23:00:00Z"), at("2026-03-31T22:00:00Z"))
        );
        assert_eq!(
            Interval::Day.bounds(at("2026-03-29T12:00:00Z"), &berlin),
            (at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"))
        );
        assert_eq!(Interval::Week.label(at("2026-11-22T23:00:00Z"), &berlin), "Week of 23 Nov 2026");
        assert_eq!(Interval::Month.label(at("2026-02-28T23:00:00Z"), &berlin), "Mar 2026");
    }

    #[test]
    fn questions_share_points_over_answers_that_are_not_na() {
        let (q, yes, no, fail) = (QuestionId::new(), OptionId::new(), OptionId::new(), OptionId::new());
        let option = |id, points, fail| AnswerOption {
            id,
            label: String::new(),
            points,
            fail,
            comment_required: false,
        };
        let definition = Arc::new(ScorecardDefinition {
            name: String::new(),
            description: String::new(),
            target: 80,
            dispute_days: 7,
            blind: false,
            self_score: false,
            group_ids: Vec::new(),
            sections: vec![Section {
                id: SectionId::new(),
                title: String::new(),
                weight: 1,
                questions: vec![Question {
                    id: q,
                    text: "Greets".to_owned(),
                    guidance: String::new(),
                    allow_na: true,
                    options: vec![
                        option(yes, 2, FailRule::None),
                        option(no, 1, FailRule::None),
                        option(fail, 0, FailRule::All),
                    ],
                }],
            }],
        });
        let mut aggregation = Aggregation::new(GroupBy::Question, None, TimeZone::UTC, HashMap::new());
        let answer = |option: Option<OptionId>| Answer {
            question_id: Some(q),
            option_id: option,
            na: option.is_none(),
            comment: None,
        };
        for chosen in [Some(yes), Some(no), Some(fail), None] {
            let mut r = row(UserId::new(), at("2026-11-02T10:00:00Z"), Some(0), Some(false), false);
            r.answers = vec![answer(chosen)];
            aggregation.offer(&r);
        }
        let buckets = aggregation.finish(|_| Some(definition.clone()));
        let key = ResultKey { kind: GroupBy::Question, id: q.as_uuid(), name: String::new() };
        let item = ResultItem::new(key, None, &buckets[0].1);
        // (2 + 1 + 0) / (2 + 2 + 2) = 50%.
        assert_eq!((item.count, item.scored, item.na, item.fail_all), (4, 3, 1, 1));
        assert_eq!(item.average_score, Some(Score::from_hundredths(5000)));
        assert_eq!(item.pass_rate, None);
    }

    #[test]
    fn the_distribution_puts_100_in_the_top_band() {
        let mut distribution = Distribution::default();
        for score in [Some(0), Some(999), Some(1000), Some(9999), Some(10_000), None] {
            distribution.offer(&row(UserId::new(), Timestamp::from_millis(0), score, None, false));
        }
        assert_eq!(distribution.tenths, [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(distribution.na, 1);
        assert_eq!(Distribution::bands()[9], "90–100");
    }
}
