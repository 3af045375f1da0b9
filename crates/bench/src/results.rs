//! `scoreline-bench results`: evaluations generated straight into the store, then results by
//! agent per week over 90 days and the CSV export, on SQLite and (with a server URL)
//! PostgreSQL; the budgets of DESIGN.md §6.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::TryStreamExt;
use scoreline_app::{Actor, App, CreateGroup, CreateTeam, CreateUser, ResultsInput};
use scoreline_core::{
    Answer, CaseId, Choice, Clock, Evaluation, EvaluationId, EvaluationKind, EvaluationStatus, ManualClock,
    ResultCell, ResultRow, ResultSink, Scope, ScorecardInput, Timestamp, UserId, score,
};
use scoreline_store::Db;

use crate::lists::next;
use crate::report::{Budget, Report};
use crate::rss;

/// Counts the rows it is offered.
struct Rows(usize);

impl ResultSink for Rows {
    fn offer(&mut self, _row: &ResultRow) {
        self.0 += 1;
    }

    fn offer_cell(&mut self, _cell: &ResultCell) {}
}

/// The budget's query, measured this many times; the median counts.
const RUNS: usize = 5;

pub async fn run(
    backend: &str,
    db: Db,
    evaluations: usize,
    agents: usize,
    report: &mut Report,
) -> Result<()> {
    let now = Timestamp::parse_rfc3339("2026-11-30T12:00:00Z")?;
    let clock = Arc::new(ManualClock::new(now));
    let sealer = Arc::new(scoreline_store::Sealer::from_key(&[7; 32]));
    let app = App::new(db.clone(), clock.clone(), sealer, scoreline_app::AppSettings::default());
    let group = app.create_group(&Actor::System, CreateGroup { name: "Bench".to_owned() }).await?;
    let team = CreateTeam { group_id: Some(group.id), name: "Agents".to_owned() };
    let team = app.create_team(&Actor::System, team).await?;
    let mut staff: Vec<UserId> = Vec::with_capacity(agents);
    for i in 0..agents {
        let input = CreateUser {
            email: format!("agent{i}@bench.example"),
            name: format!("Agent {i}"),
            role: "employee".to_owned(),
            password: None,
            team_ids: vec![team.id],
        };
        staff.push(app.create_user(&Actor::System, input).await?.id);
    }
    let admin = CreateUser {
        email: "admin@bench.example".to_owned(),
        name: "Admin".to_owned(),
        role: "global_admin".to_owned(),
        password: None,
        team_ids: Vec::new(),
    };
    let admin = app.create_user(&Actor::System, admin).await?;
    let admin_id = admin.id;
    let admin = app.actor_for(admin).await?;
    let card: ScorecardInput = serde_json::from_value(serde_json::json!({
        "name": "Bench", "target": 80,
        "sections": [
            { "title": "Tone", "weight": 2, "questions": [
                { "text": "Greets", "allow_na": true, "options": [{ "label": "No", "points": 0 }, { "label": "Yes", "points": 2 }] },
                { "text": "Signs off", "options": [{ "label": "No", "points": 0 }, { "label": "Yes", "points": 1 }] }
            ]},
            { "title": "Accuracy", "questions": [
                { "text": "Right answer", "options": [{ "label": "Wrong", "points": 0, "fail": "all" }, { "label": "Right", "points": 3 }] }
            ]}
        ]
    }))?;
    let card = app.create_scorecard(&admin, &card).await?;
    let version = app.publish_scorecard(&admin, card.id).await?;
    let questions: Vec<_> = version.definition.sections.iter().flat_map(|s| &s.questions).collect();

    eprintln!("{backend}: storing {evaluations} generated evaluations…");
    let started = Instant::now();
    let mut state = 7_u64;
    let day = 86_400_000_u64;
    for i in 0..evaluations {
        let at = Timestamp::from_millis(now.as_millis() - (next(&mut state) % (90 * day)) as i64);
        let answers: Vec<Answer> = questions
            .iter()
            .map(|question| {
                let pick = next(&mut state) % 10;
                let (option_id, na) = match pick {
                    0 if question.allow_na => (None, true),
                    0 | 1 => (Some(question.options[0].id), false),
                    _ => (Some(question.options[1].id), false),
                };
                Answer {
                    question_id: Some(question.id),
                    option_id,
                    na,
                    comment: (i % 7 == 0).then(|| "Generated, with \"quotes\", commas".to_owned()),
                }
            })
            .collect();
        let choices = answers
            .iter()
            .filter_map(|a| {
                let choice = if a.na { Choice::NotApplicable } else { Choice::Option(a.option_id?) };
                Some((a.question_id?, choice))
            })
            .collect();
        let evaluation = Evaluation {
            id: EvaluationId::new(),
            case_id: CaseId::new(),
            case_purged_at: None,
            scorecard_id: card.id,
            scorecard_version_id: version.id,
            scorecard_version: version.number,
            evaluator_id: admin_id,
            agent_user_id: Some(staff[next(&mut state) as usize % agents]),
            assignment_id: None,
            calibration_id: None,
            kind: EvaluationKind::Evaluation,
            status: EvaluationStatus::Submitted,
            outcome: score(&version.definition, &choices),
            answers,
            comment: format!("Evaluation {i}"),
            revision: 1,
            created_at: at,
            updated_at: at,
            submitted_at: Some(at),
            acknowledged_at: None,
            disputes: Vec::new(),
        };
        db.create_evaluation(&evaluation, None).await?;
    }
    report.note(format!(
        "{backend}: stored {evaluations} submitted evaluations of {agents} agents over 90 days in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    // As a running server's scheduler does hourly: PostgreSQL plans with statistics.
    db.refresh_statistics().await?;

    let from = Timestamp::from_millis(now.as_millis() - (90 * day) as i64).to_rfc3339();
    let input = ResultsInput {
        group_by: Some("agent".to_owned()),
        interval: Some("week".to_owned()),
        from: Some(from),
        to: Some(clock.now().to_rfc3339()),
        time_zone: Some("Europe/Berlin".to_owned()),
        ..ResultsInput::default()
    };
    let request = input.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut lines = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let results = app.results(&admin, &request).await?;
        times.push(started.elapsed());
        lines = results.items.len();
    }
    times.sort_unstable();
    let median = times[RUNS / 2];
    // For comparison in the same run: every counted evaluation read as its own row, as results
    // were read before the database summed them.
    let mut row_times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let mut sink = Rows(0);
        let started = Instant::now();
        db.stream_results(&Scope::Everything, &request.filter, false, &mut sink).await?;
        row_times.push(started.elapsed());
        rows = sink.0;
    }
    row_times.sort_unstable();
    report.note(format!(
        "{backend}: the same evaluations read row by row ({rows} rows, no figures): median of {RUNS} {:.0} ms",
        row_times[RUNS / 2].as_secs_f64() * 1000.0
    ));
    report.note(format!(
        "{backend}: results by agent per week over 90 days ({lines} lines): median of {RUNS} {:.0} ms, \
         slowest {:.0} ms",
        median.as_secs_f64() * 1000.0,
        times[RUNS - 1].as_secs_f64() * 1000.0
    ));
    report.budget(Budget::at_most(
        &format!("{backend} results by agent per week, 90 days (ms)"),
        median.as_secs_f64() * 1000.0,
        300.0,
        |v| format!("{v:.0}"),
    ));

    for answers in [false, true] {
        let before = rss::own()?.rss;
        let own_peak = rss::reset_peak();
        let started = Instant::now();
        let mut stream = std::pin::pin!(app.export_csv(&admin, &request, answers)?);
        let (mut rows, mut bytes) = (0_usize, 0_usize);
        while let Some(chunk) = stream.try_next().await? {
            rows += chunk.matches("\r\n").count();
            bytes += chunk.len();
        }
        let elapsed = started.elapsed();
        let peak = rss::own()?.peak;
        let rows = rows.checked_sub(1).context("the export has a header row")?;
        let per_second = rows as f64 / elapsed.as_secs_f64();
        let what = if answers { "answers" } else { "evaluations" };
        report.note(format!(
            "{backend}: CSV export of {what}: {rows} rows, {:.1} MiB in {:.2} s = {per_second:.0} rows/s; \
             RSS {:.0} MiB before, peak {:.0} MiB during{}",
            bytes as f64 / (1024.0 * 1024.0),
            elapsed.as_secs_f64(),
            rss::mib(before),
            rss::mib(peak),
            if own_peak { "" } else { " (process peak)" }
        ));
        report.budget(Budget::at_least(
            &format!("{backend} CSV export of {what} (rows/s)"),
            per_second,
            20_000.0,
            |v| format!("{v:.0}"),
        ));
    }
    Ok(())
}
