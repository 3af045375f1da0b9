//! Calibration (DESIGN.md §7.6): several evaluators score one case blind against one published
//! version; once the facilitator closes the session, their answers are compared question by
//! question, set against the answers the facilitator records as agreed, and their agreement is
//! measured with Krippendorff's alpha.
//!
//! Alpha of a session rests on these units: for options (nominal), each question, its values
//! the options chosen (N/A or no answer is a missing value); for scores (interval), each
//! section's score and the overall score (an excluded section or a null score is missing).
//! Over a period the units of every session are pooled.

use std::collections::HashMap;

use serde::Serialize;

use crate::{
    Agreement, Answer, CalibrationId, CaseId, Choice, Evaluation, EvaluationStatus, OptionId, Outcome,
    QuestionId, Score, ScorecardDefinition, ScorecardId, ScorecardVersionId, SectionId, Timestamp, UserId,
    choices_of, interval_alpha, nominal_alpha,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationStatus {
    /// Participants are scoring; nobody sees anyone else's answers.
    Open,
    /// Scoring is over; the comparison is shown to everyone who may see the session.
    Closed,
}

impl CalibrationStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Closed].into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calibration {
    pub id: CalibrationId,
    pub case_id: CaseId,
    /// The staff member matched to the case's agent when the session was created.
    pub agent_user_id: UserId,
    pub scorecard_id: ScorecardId,
    pub scorecard_version_id: ScorecardVersionId,
    pub scorecard_version: u32,
    pub facilitator_id: UserId,
    /// Sorted.
    pub participants: Vec<UserId>,
    /// The participants who have submitted their scoring: who, never what.
    pub submitted: Vec<UserId>,
    pub due_at: Option<Timestamp>,
    pub status: CalibrationStatus,
    pub created_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub agreed: Option<Agreed>,
}

impl Calibration {
    pub fn is_open(&self) -> bool {
        self.status == CalibrationStatus::Open
    }
}

/// The answers the facilitator recorded as agreed (any questions may stay undecided), scored
/// like an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agreed {
    pub answers: Vec<Answer>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub by: UserId,
    pub at: Timestamp,
}

/// Which sessions a list wants; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalibrationFilter {
    pub status: Option<CalibrationStatus>,
    /// Sessions this person takes part in.
    pub participant: Option<UserId>,
    /// Closed at or after.
    pub closed_from: Option<Timestamp>,
    /// Closed before.
    pub closed_to: Option<Timestamp>,
}

/// One closed session's answers side by side, its spread, deviations and agreement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub questions: Vec<QuestionSpread>,
    pub sections: Vec<ScoreSpread>,
    pub overall: ScoreSpread,
    /// One per participant who submitted, in the order of the session's participants.
    pub deviations: Vec<Deviation>,
    /// Nominal alpha over the options chosen per question.
    pub options_agreement: Agreement,
    /// Interval alpha over the section scores and the overall score.
    pub scores_agreement: Agreement,
}

/// How the participants answered one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionSpread {
    pub question_id: QuestionId,
    pub section_id: SectionId,
    /// Each option of the question with how many chose it, in the scorecard's order.
    pub options: Vec<OptionCount>,
    pub na: usize,
    /// Submitted scorings that left it unanswered (possible for questions added as N/A only).
    pub unanswered: usize,
    /// Each participant's answer, in the order of `Comparison::deviations`.
    pub answers: Vec<ParticipantAnswer>,
    /// The agreed answer, if recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreed: Option<ChoiceView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionCount {
    pub option_id: OptionId,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantAnswer {
    pub user_id: UserId,
    pub answer: Option<ChoiceView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A choice as JSON shows it: `{"option_id": …}` or `{"na": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ChoiceView {
    Option { option_id: OptionId },
    NotApplicable { na: bool },
}

impl From<Choice> for ChoiceView {
    fn from(choice: Choice) -> Self {
        match choice {
            Choice::Option(option_id) => Self::Option { option_id },
            Choice::NotApplicable => Self::NotApplicable { na: true },
        }
    }
}

/// The scores the participants gave one section (or overall), and how far apart they lie.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreSpread {
    /// `None` for the overall score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_id: Option<SectionId>,
    /// Each participant's score, in the order of `Comparison::deviations`; `None` when N/A.
    pub scores: Vec<Option<Score>>,
    pub min: Option<Score>,
    pub max: Option<Score>,
    /// The mean of the scores given, to two decimals.
    pub mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreed: Option<Score>,
}

/// How one participant's scoring differs from the agreed answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deviation {
    pub user_id: UserId,
    pub score: Option<Score>,
    /// Questions with an agreed answer that this participant answered otherwise.
    pub questions_differing: Vec<QuestionId>,
    /// Questions with an agreed answer (what `questions_differing` is out of).
    pub questions_agreed: usize,
    /// This score minus the agreed score, in points; `None` without both scores.
    pub score_difference: Option<f64>,
}

/// The units of alpha one session contributes: options per question, scores per section and
/// overall (in hundredths). Only submitted scorings count.
pub struct Units {
    pub options: Vec<Vec<OptionId>>,
    pub scores: Vec<Vec<f64>>,
}

impl Units {
    pub fn of<'a>(
        definition: &ScorecardDefinition,
        scorings: impl IntoIterator<Item = &'a Evaluation>,
    ) -> Self {
        let submitted: Vec<&Evaluation> =
            scorings.into_iter().filter(|e| e.status == EvaluationStatus::Submitted).collect();
        let choices: Vec<HashMap<QuestionId, Choice>> =
            submitted.iter().map(|e| choices_of(&e.answers)).collect();
        let options = definition
            .sections
            .iter()
            .flat_map(|s| &s.questions)
            .map(|question| {
                choices
                    .iter()
                    .filter_map(|c| match c.get(&question.id) {
                        Some(Choice::Option(option)) => Some(*option),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let hundredths = |score: Option<Score>| score.map(|s| f64::from(s.hundredths()));
        let mut scores: Vec<Vec<f64>> = definition
            .sections
            .iter()
            .map(|section| {
                submitted.iter().filter_map(|e| hundredths(section_score(&e.outcome, section.id))).collect()
            })
            .collect();
        scores.push(submitted.iter().filter_map(|e| hundredths(e.outcome.score)).collect());
        Self { options, scores }
    }

    /// Alpha over these units: (options, scores).
    pub fn agreement(units: &[Units]) -> (Agreement, Agreement) {
        (
            nominal_alpha(units.iter().flat_map(|u| u.options.iter().map(|o| o.iter().copied()))),
            interval_alpha(units.iter().flat_map(|u| u.scores.iter().map(|s| s.iter().copied()))),
        )
    }
}

fn section_score(outcome: &Outcome, section: SectionId) -> Option<Score> {
    outcome.sections.iter().find(|s| s.section_id == section).and_then(|s| s.score)
}

fn spread(section_id: Option<SectionId>, scores: Vec<Option<Score>>, agreed: Option<Score>) -> ScoreSpread {
    let given: Vec<u32> = scores.iter().flatten().map(|s| s.hundredths()).collect();
    let mean = (!given.is_empty()).then(|| {
        let total: u64 = given.iter().map(|&s| u64::from(s)).sum();
        #[allow(clippy::cast_precision_loss, reason = "sums of a few scores")]
        let mean = total as f64 / given.len() as f64 / 100.0;
        (mean * 100.0).round() / 100.0
    });
    ScoreSpread {
        section_id,
        min: given.iter().min().map(|&s| Score::from_hundredths(s)),
        max: given.iter().max().map(|&s| Score::from_hundredths(s)),
        mean,
        scores,
        agreed,
    }
}

impl Comparison {
    /// Compares the submitted scorings of a session (drafts left at closing are left out), in
    /// the order of `participants`.
    pub fn of(
        definition: &ScorecardDefinition,
        participants: &[UserId],
        scorings: &[Evaluation],
        agreed: Option<&Agreed>,
    ) -> Self {
        let submitted: Vec<&Evaluation> = participants
            .iter()
            .filter_map(|p| {
                scorings.iter().find(|e| e.evaluator_id == *p && e.status == EvaluationStatus::Submitted)
            })
            .collect();
        let choices: Vec<HashMap<QuestionId, Choice>> =
            submitted.iter().map(|e| choices_of(&e.answers)).collect();
        let agreed_choices = agreed.map(|a| choices_of(&a.answers)).unwrap_or_default();
        let mut questions = Vec::new();
        for section in &definition.sections {
            for question in &section.questions {
                let chosen: Vec<Option<Choice>> =
                    choices.iter().map(|c| c.get(&question.id).copied()).collect();
                let count = |wanted: Choice| chosen.iter().filter(|c| **c == Some(wanted)).count();
                questions.push(QuestionSpread {
                    question_id: question.id,
                    section_id: section.id,
                    options: question
                        .options
                        .iter()
                        .map(|o| OptionCount { option_id: o.id, count: count(Choice::Option(o.id)) })
                        .collect(),
                    na: count(Choice::NotApplicable),
                    unanswered: chosen.iter().filter(|c| c.is_none()).count(),
                    answers: submitted
                        .iter()
                        .zip(&chosen)
                        .map(|(e, choice)| ParticipantAnswer {
                            user_id: e.evaluator_id,
                            answer: choice.map(ChoiceView::from),
                            comment: e
                                .answers
                                .iter()
                                .find(|a| a.question_id == Some(question.id))
                                .and_then(|a| a.comment.clone()),
                        })
                        .collect(),
                    agreed: agreed_choices.get(&question.id).copied().map(ChoiceView::from),
                });
            }
        }
        let agreed_outcome = agreed.map(|a| &a.outcome);
        let sections = definition
            .sections
            .iter()
            .map(|section| {
                let scores = submitted.iter().map(|e| section_score(&e.outcome, section.id)).collect();
                spread(Some(section.id), scores, agreed_outcome.and_then(|o| section_score(o, section.id)))
            })
            .collect();
        let overall = spread(
            None,
            submitted.iter().map(|e| e.outcome.score).collect(),
            agreed_outcome.and_then(|o| o.score),
        );
        let deviations = submitted
            .iter()
            .zip(&choices)
            .map(|(e, mine)| {
                let questions_differing = definition
                    .sections
                    .iter()
                    .flat_map(|s| &s.questions)
                    .filter(|q| agreed_choices.get(&q.id).is_some_and(|a| mine.get(&q.id) != Some(a)))
                    .map(|q| q.id)
                    .collect();
                let difference = match (e.outcome.score, agreed_outcome.and_then(|o| o.score)) {
                    (Some(mine), Some(agreed)) => {
                        Some((f64::from(mine.hundredths()) - f64::from(agreed.hundredths())) / 100.0)
                    }
                    _ => None,
                };
                Deviation {
                    user_id: e.evaluator_id,
                    score: e.outcome.score,
                    questions_differing,
                    questions_agreed: agreed_choices.len(),
                    score_difference: difference,
                }
            })
            .collect();
        let units = Units::of(definition, submitted.iter().copied());
        let (options_agreement, scores_agreement) = Units::agreement(&[units]);
        Self { questions, sections, overall, deviations, options_agreement, scores_agreement }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        EvaluationId, EvaluationKind, OptionInput, QuestionInput, ScorecardInput, SectionInput, score,
    };

    fn definition() -> ScorecardDefinition {
        let option = |label: &str, points| OptionInput {
            label: label.to_owned(),
            points: Some(points),
            ..OptionInput::default()
        };
        let question = |text: &str| QuestionInput {
            text: text.to_owned(),
            allow_na: true,
            options: vec![option("No", 0), option("Yes", 1)],
            ..QuestionInput::default()
        };
        ScorecardInput {
            name: "Card".to_owned(),
            sections: vec![SectionInput {
                title: "Only".to_owned(),
                questions: vec![question("Greets"), question("Thanks")],
                ..SectionInput::default()
            }],
            ..ScorecardInput::default()
        }
        .validate()
        .expect("a valid card")
    }

    fn scoring(
        definition: &ScorecardDefinition,
        by: UserId,
        answers: Vec<Answer>,
        submitted: bool,
    ) -> Evaluation {
        let outcome = score(definition, &choices_of(&answers));
        Evaluation {
            id: EvaluationId::new(),
            case_id: CaseId::new(),
            case_purged_at: None,
            scorecard_id: ScorecardId::new(),
            scorecard_version_id: ScorecardVersionId::new(),
            scorecard_version: 1,
            evaluator_id: by,
            agent_user_id: None,
            assignment_id: None,
            kind: EvaluationKind::Calibration,
            calibration_id: None,
            status: if submitted { EvaluationStatus::Submitted } else { EvaluationStatus::Draft },
            answers,
            comment: String::new(),
            outcome,
            revision: u32::from(submitted),
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
            submitted_at: None,
            acknowledged_at: None,
            disputes: Vec::new(),
        }
    }

    #[test]
    fn drafts_are_left_out_and_deviations_count_agreed_questions_only() {
        let definition = definition();
        let questions: Vec<&crate::Question> = definition.sections[0].questions.iter().collect();
        let answer = |q: usize, o: Option<usize>| Answer {
            question_id: Some(questions[q].id),
            option_id: o.map(|o| questions[q].options[o].id),
            na: o.is_none(),
            comment: None,
        };
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let scorings = [
            scoring(&definition, a, vec![answer(0, Some(1)), answer(1, Some(1))], true),
            scoring(&definition, b, vec![answer(0, None), answer(1, Some(0))], true),
            scoring(&definition, c, vec![answer(0, Some(0))], false),
        ];
        // Agreed: N/A for the greeting, the thanks undecided.
        let agreed_answers = vec![answer(0, None)];
        let agreed = Agreed {
            outcome: score(&definition, &choices_of(&agreed_answers)),
            answers: agreed_answers,
            by: a,
            at: Timestamp::from_millis(0),
        };
        let comparison = Comparison::of(&definition, &[a, b, c], &scorings, Some(&agreed));
        assert_eq!(comparison.deviations.len(), 2, "the draft is not compared");
        assert_eq!(comparison.questions[0].na, 1);
        assert_eq!(comparison.questions[0].options.iter().map(|o| o.count).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(comparison.deviations[0].questions_differing, [questions[0].id]);
        assert!(comparison.deviations[1].questions_differing.is_empty());
        assert_eq!(comparison.deviations[0].questions_agreed, 1);
        // Every section of the agreed answers is N/A: no agreed score, no difference.
        assert_eq!((agreed.outcome.score, comparison.deviations[0].score_difference), (None, None));
        assert_eq!(comparison.overall.scores, [Some(Score::FULL), Some(Score::ZERO)]);
        assert_eq!(comparison.overall.mean, Some(50.0));
        // Options: the greeting has one option value (N/A is missing), the thanks two.
        assert_eq!((comparison.options_agreement.units, comparison.options_agreement.values), (1, 2));
    }
}
