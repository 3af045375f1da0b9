//! Scorecards (DESIGN.md §7.3): the definition as an evaluator answers it, the input it is
//! validated from (the API body and the TOML file share it), and the checks of answers.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::scoring::Choice;
use crate::{
    FieldError, GroupId, OptionId, QuestionId, ScorecardId, ScorecardVersionId, SectionId, Timestamp, UserId,
};

/// A scorecard as stored: its draft, if one is pending, and its latest published version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scorecard {
    pub id: ScorecardId,
    pub name: String,
    /// What is being edited as the next version; `None` when nothing changed since `latest`.
    pub draft: Option<ScorecardDefinition>,
    pub latest: Option<ScorecardVersion>,
    pub archived_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Scorecard {
    /// The draft if one is pending, else the latest version: what editing starts from.
    pub fn current(&self) -> Option<&ScorecardDefinition> {
        self.draft.as_ref().or(self.latest.as_ref().map(|v| &v.definition))
    }

    pub fn latest_number(&self) -> u32 {
        self.latest.as_ref().map_or(0, |v| v.number)
    }

    /// `draft`, `published` or `archived`.
    pub fn state(&self) -> &'static str {
        if self.archived_at.is_some() {
            "archived"
        } else if self.latest.is_some() {
            "published"
        } else {
            "draft"
        }
    }
}

/// A published version: never changes once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardVersion {
    pub id: ScorecardVersionId,
    pub scorecard_id: ScorecardId,
    pub number: u32,
    pub definition: ScorecardDefinition,
    pub published_at: Timestamp,
    pub published_by: Option<UserId>,
}

/// What an answer option does to the score besides its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailRule {
    None,
    /// The option's section scores 0.
    Section,
    /// The whole evaluation scores 0.
    All,
}

impl FailRule {
    pub const fn as_str(self) -> &'static str {
        match self {
            FailRule::None => "none",
            FailRule::Section => "section",
            FailRule::All => "all",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [FailRule::None, FailRule::Section, FailRule::All].into_iter().find(|rule| rule.as_str() == text)
    }
}

/// A validated scorecard: every id present, every rule of §7.3 met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorecardDefinition {
    pub name: String,
    pub description: String,
    /// The score (0–100) an evaluation must reach to pass.
    pub target: u32,
    /// Days after submission during which the agent may dispute.
    pub dispute_days: u32,
    /// Evaluators do not see points or the running score.
    pub blind: bool,
    /// Agents may score their own cases with it (kept apart from evaluations).
    pub self_score: bool,
    /// When not empty, only these groups' staff are scored with it.
    pub group_ids: Vec<GroupId>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub id: SectionId,
    pub title: String,
    pub weight: u32,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub text: String,
    pub guidance: String,
    pub allow_na: bool,
    pub options: Vec<AnswerOption>,
}

impl Question {
    /// The highest points of its options.
    pub fn maximum(&self) -> u32 {
        self.options.iter().map(|option| option.points).max().unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerOption {
    pub id: OptionId,
    pub label: String,
    pub points: u32,
    pub fail: FailRule,
    pub comment_required: bool,
}

impl Section {
    /// The section's maximum when no question is N/A.
    pub fn maximum(&self) -> u32 {
        self.questions.iter().map(Question::maximum).sum()
    }
}

impl ScorecardDefinition {
    pub const MAX_SECTIONS: usize = 30;
    pub const MAX_QUESTIONS: usize = 60;
    pub const MAX_OPTIONS: usize = 12;
    pub const MAX_POINTS: i64 = 1000;
    pub const MAX_WEIGHT: i64 = 1000;
    pub const MAX_DISPUTE_DAYS: i64 = 365;

    pub fn question(&self, id: QuestionId) -> Option<&Question> {
        self.sections.iter().flat_map(|s| &s.questions).find(|q| q.id == id)
    }

    /// The same definition as input, ids kept (`with_ids`) or left out (for a file that any
    /// instance can import).
    pub fn to_input(&self, with_ids: bool) -> ScorecardInput {
        ScorecardInput {
            name: self.name.clone(),
            description: self.description.clone(),
            target: Some(i64::from(self.target)),
            dispute_days: Some(i64::from(self.dispute_days)),
            blind: self.blind,
            self_score: self.self_score,
            group_ids: self.group_ids.clone(),
            sections: self
                .sections
                .iter()
                .map(|section| SectionInput {
                    id: with_ids.then_some(section.id),
                    title: section.title.clone(),
                    weight: Some(i64::from(section.weight)),
                    questions: section
                        .questions
                        .iter()
                        .map(|question| QuestionInput {
                            id: with_ids.then_some(question.id),
                            text: question.text.clone(),
                            guidance: question.guidance.clone(),
                            allow_na: question.allow_na,
                            options: question
                                .options
                                .iter()
                                .map(|option| OptionInput {
                                    id: with_ids.then_some(option.id),
                                    label: option.label.clone(),
                                    points: Some(i64::from(option.points)),
                                    fail: option.fail.as_str().to_owned(),
                                    comment_required: option.comment_required,
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A scorecard as submitted: the API body, the builder's form and the TOML file. Numbers are
/// read loosely so that every problem is reported by its path, not the first only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScorecardInput {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Default 80.
    pub target: Option<i64>,
    /// Default 7.
    pub dispute_days: Option<i64>,
    pub blind: bool,
    pub self_score: bool,
    pub group_ids: Vec<GroupId>,
    pub sections: Vec<SectionInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SectionInput {
    /// Kept when given (editing a draft keeps its ids), else a new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<SectionId>,
    pub title: String,
    /// Default 1.
    pub weight: Option<i64>,
    pub questions: Vec<QuestionInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuestionInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<QuestionId>,
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub guidance: String,
    pub allow_na: bool,
    pub options: Vec<OptionInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptionInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<OptionId>,
    pub label: String,
    pub points: Option<i64>,
    /// `none` (the default), `section` or `all`.
    pub fail: String,
    pub comment_required: bool,
}

impl Default for OptionInput {
    fn default() -> Self {
        Self {
            id: None,
            label: String::new(),
            points: None,
            fail: "none".to_owned(),
            comment_required: false,
        }
    }
}

/// Collects problems by path, e.g. `sections[1].questions[0].options: needs at least two options`.
struct Problems(Vec<FieldError>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(path, message));
    }

    fn text(&mut self, path: &str, text: &str, required: bool, max_chars: usize) -> String {
        let trimmed = text.trim();
        if required && trimmed.is_empty() {
            self.push(path, "is required");
        } else if trimmed.chars().count() > max_chars {
            self.push(path, format!("must be at most {max_chars} characters"));
        } else if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            self.push(path, "must not contain control characters");
        }
        trimmed.to_owned()
    }

    fn number(&mut self, path: &str, value: Option<i64>, default: Option<i64>, max: i64) -> u32 {
        match value.or(default) {
            None => {
                self.push(path, "is required");
                0
            }
            Some(n) if !(0..=max).contains(&n) => {
                self.push(path, format!("must be a whole number from 0 to {max}"));
                0
            }
            Some(n) => u32::try_from(n).unwrap_or(0),
        }
    }

    fn count<T>(&mut self, path: &str, items: &[T], min: usize, max: usize, what: &str, one: &str) {
        if items.len() < min {
            let least = if min == 1 { format!("one {one}") } else { format!("two {what}") };
            self.push(path, format!("needs at least {least}"));
        } else if items.len() > max {
            self.push(path, format!("may have at most {max} {what}"));
        }
    }
}

/// Ids seen so far, so that none is used twice.
fn unique<T: Eq + std::hash::Hash + Copy>(
    seen: &mut HashSet<T>,
    id: Option<T>,
    fresh: fn() -> T,
    path: &str,
    problems: &mut Problems,
) -> T {
    match id {
        Some(id) if !seen.insert(id) => {
            problems.push(format!("{path}.id"), "is used twice");
            id
        }
        Some(id) => id,
        None => {
            let id = fresh();
            seen.insert(id);
            id
        }
    }
}

impl ScorecardInput {
    /// The definition, or every problem by its path. Ids given are kept; missing ones are new.
    pub fn validate(&self) -> Result<ScorecardDefinition, Vec<FieldError>> {
        let mut problems = Problems(Vec::new());
        let name = problems.text("name", &self.name, true, 100);
        let description = problems.text("description", &self.description, false, 2000);
        let target = problems.number("target", self.target, Some(80), 100);
        let dispute_days = problems.number(
            "dispute_days",
            self.dispute_days,
            Some(7),
            ScorecardDefinition::MAX_DISPUTE_DAYS,
        );
        let mut groups = HashSet::new();
        for (i, group) in self.group_ids.iter().enumerate() {
            if !groups.insert(*group) {
                problems.push(format!("group_ids[{i}]"), "is listed twice");
            }
        }
        problems.count(
            "sections",
            &self.sections,
            1,
            ScorecardDefinition::MAX_SECTIONS,
            "sections",
            "section",
        );
        let (mut section_ids, mut question_ids, mut option_ids) =
            (HashSet::new(), HashSet::new(), HashSet::new());
        let mut sections = Vec::with_capacity(self.sections.len());
        for (s, section) in self.sections.iter().enumerate() {
            let at = format!("sections[{s}]");
            let id = unique(&mut section_ids, section.id, SectionId::new, &at, &mut problems);
            let title = problems.text(&format!("{at}.title"), &section.title, true, 200);
            let weight = problems.number(
                &format!("{at}.weight"),
                section.weight,
                Some(1),
                ScorecardDefinition::MAX_WEIGHT,
            );
            problems.count(
                &format!("{at}.questions"),
                &section.questions,
                1,
                ScorecardDefinition::MAX_QUESTIONS,
                "questions",
                "question",
            );
            let mut questions = Vec::with_capacity(section.questions.len());
            for (q, question) in section.questions.iter().enumerate() {
                let at = format!("{at}.questions[{q}]");
                let id = unique(&mut question_ids, question.id, QuestionId::new, &at, &mut problems);
                let text = problems.text(&format!("{at}.text"), &question.text, true, 500);
                let guidance = problems.text(&format!("{at}.guidance"), &question.guidance, false, 2000);
                problems.count(
                    &format!("{at}.options"),
                    &question.options,
                    2,
                    ScorecardDefinition::MAX_OPTIONS,
                    "options",
                    "option",
                );
                let mut options = Vec::with_capacity(question.options.len());
                for (o, option) in question.options.iter().enumerate() {
                    let at = format!("{at}.options[{o}]");
                    let id = unique(&mut option_ids, option.id, OptionId::new, &at, &mut problems);
                    let label = problems.text(&format!("{at}.label"), &option.label, true, 200);
                    let points = problems.number(
                        &format!("{at}.points"),
                        option.points,
                        None,
                        ScorecardDefinition::MAX_POINTS,
                    );
                    let fail = FailRule::parse(option.fail.trim()).unwrap_or_else(|| {
                        problems.push(format!("{at}.fail"), "must be none, section or all");
                        FailRule::None
                    });
                    options.push(AnswerOption {
                        id,
                        label,
                        points,
                        fail,
                        comment_required: option.comment_required,
                    });
                }
                questions.push(Question { id, text, guidance, allow_na: question.allow_na, options });
            }
            sections.push(Section { id, title, weight, questions });
        }
        if !problems.0.is_empty() {
            return Err(problems.0);
        }
        Ok(ScorecardDefinition {
            name,
            description,
            target,
            dispute_days,
            blind: self.blind,
            self_score: self.self_score,
            group_ids: self.group_ids.clone(),
            sections,
        })
    }
}

/// One answer of an evaluation, as given and as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Answer {
    pub question_id: Option<QuestionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option_id: Option<OptionId>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub na: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Answer {
    pub fn choice(&self) -> Option<Choice> {
        match (self.option_id, self.na) {
            (Some(option), false) => Some(Choice::Option(option)),
            (None, true) => Some(Choice::NotApplicable),
            _ => None,
        }
    }
}

/// Answers by question, for scoring.
pub fn choices_of(answers: &[Answer]) -> HashMap<QuestionId, Choice> {
    answers.iter().filter_map(|a| Some((a.question_id?, a.choice()?))).collect()
}

pub const MAX_COMMENT_CHARS: usize = 5000;

/// Checks `answers` against `definition`, each problem at `answers[i]…` or, for what is
/// missing at submit, at `questions.<question id>`. Drafts (`complete` false) may leave
/// questions unanswered and required comments empty.
pub fn check_answers(
    definition: &ScorecardDefinition,
    answers: &[Answer],
    complete: bool,
) -> Vec<FieldError> {
    let mut problems = Problems(Vec::new());
    let mut seen = HashSet::new();
    for (i, answer) in answers.iter().enumerate() {
        let at = format!("answers[{i}]");
        let Some(question_id) = answer.question_id else {
            problems.push(format!("{at}.question_id"), "is required");
            continue;
        };
        let Some(question) = definition.question(question_id) else {
            problems.push(format!("{at}.question_id"), "is not a question of this scorecard version");
            continue;
        };
        if !seen.insert(question_id) {
            problems.push(format!("{at}.question_id"), "is answered twice");
        }
        if answer.na && answer.option_id.is_some() {
            problems.push(format!("{at}.na"), "an answer is either an option or N/A, not both");
        }
        if answer.na && !question.allow_na {
            problems.push(format!("{at}.na"), "this question may not be answered N/A");
        }
        if let Some(option_id) = answer.option_id
            && !question.options.iter().any(|o| o.id == option_id)
        {
            problems.push(format!("{at}.option_id"), "is not an option of this question");
        }
        if let Some(comment) = &answer.comment {
            problems.text(&format!("{at}.comment"), comment, false, MAX_COMMENT_CHARS);
        }
    }
    if complete {
        let by_question: HashMap<QuestionId, &Answer> =
            answers.iter().filter_map(|a| Some((a.question_id?, a))).collect();
        for question in definition.sections.iter().flat_map(|s| &s.questions) {
            let answer = by_question.get(&question.id);
            let at = format!("questions.{}", question.id);
            match answer.and_then(|a| a.choice()) {
                None => problems.push(at, "needs an answer"),
                Some(Choice::Option(chosen)) => {
                    let required = question.options.iter().any(|o| o.id == chosen && o.comment_required);
                    let commented =
                        answer.and_then(|a| a.comment.as_deref()).is_some_and(|c| !c.trim().is_empty());
                    if required && !commented {
                        problems.push(format!("{at}.comment"), "this answer needs a comment");
                    }
                }
                Some(Choice::NotApplicable) => {}
            }
        }
    }
    problems.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(label: &str, points: i64) -> OptionInput {
        OptionInput { label: label.to_owned(), points: Some(points), ..OptionInput::default() }
    }

    fn two_sections() -> ScorecardInput {
        ScorecardInput {
            name: "Support quality".to_owned(),
            sections: vec![
                SectionInput {
                    title: "Tone".to_owned(),
                    weight: Some(2),
                    questions: vec![QuestionInput {
                        text: "Greets the customer".to_owned(),
                        options: vec![option("No", 0), option("Yes", 1)],
                        ..QuestionInput::default()
                    }],
                    ..SectionInput::default()
                },
                SectionInput {
                    title: "Accuracy".to_owned(),
                    questions: vec![QuestionInput {
                        text: "Right answer".to_owned(),
                        options: vec![
                            OptionInput { fail: "all".to_owned(), ..option("Wrong", 0) },
                            option("Right", 2),
                        ],
                        ..QuestionInput::default()
                    }],
                    ..SectionInput::default()
                },
            ],
            ..ScorecardInput::default()
        }
    }

    #[test]
    fn defaults_apply_and_ids_are_given() {
        let card = two_sections().validate().unwrap();
        assert_eq!((card.target, card.dispute_days, card.sections[1].weight), (80, 7, 1));
        assert_eq!(card.sections[1].questions[0].options[0].fail, FailRule::All);
        assert_eq!(card.sections[1].maximum(), 2);
        // Ids given back are kept.
        let again = card.to_input(true).validate().unwrap();
        assert_eq!(again, card);
    }

    #[test]
    fn every_problem_is_reported_by_its_path() {
        let mut input = two_sections();
        input.name = " ".to_owned();
        input.target = Some(101);
        input.sections[1].questions[0].options.truncate(1);
        input.sections[0].weight = Some(-1);
        input.sections[0].questions[0].options[1].fail = "maybe".to_owned();
        input.sections[0].questions[0].options[1].points = None;
        input.sections.push(SectionInput { title: "Empty".to_owned(), ..SectionInput::default() });
        let problems: Vec<String> = input.validate().unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "name: is required",
                "target: must be a whole number from 0 to 100",
                "sections[0].weight: must be a whole number from 0 to 1000",
                "sections[0].questions[0].options[1].points: is required",
                "sections[0].questions[0].options[1].fail: must be none, section or all",
                "sections[1].questions[0].options: needs at least two options",
                "sections[2].questions: needs at least one question",
            ]
        );
        let empty = ScorecardInput::default().validate().unwrap_err();
        assert_eq!(empty.last().unwrap().to_string(), "sections: needs at least one section");
    }

    #[test]
    fn an_id_used_twice_is_refused() {
        let card = two_sections().validate().unwrap();
        let mut input = card.to_input(true);
        input.sections[1].questions[0].id = input.sections[0].questions[0].id;
        let problems = input.validate().unwrap_err();
        assert_eq!(problems[0].to_string(), "sections[1].questions[0].id: is used twice");
    }

    #[test]
    fn answers_are_checked_and_submit_needs_them_all() {
        let mut input = two_sections();
        input.sections[1].questions[0].options[1].comment_required = true;
        let card = input.validate().unwrap();
        let tone = &card.sections[0].questions[0];
        let accuracy = &card.sections[1].questions[0];
        let na = Answer { question_id: Some(tone.id), na: true, ..Answer::default() };
        let problems = check_answers(&card, std::slice::from_ref(&na), false);
        assert_eq!(problems[0].to_string(), "answers[0].na: this question may not be answered N/A");
        let right = Answer {
            question_id: Some(accuracy.id),
            option_id: Some(accuracy.options[1].id),
            ..Answer::default()
        };
        assert!(check_answers(&card, std::slice::from_ref(&right), false).is_empty());
        let missing: Vec<String> = check_answers(&card, std::slice::from_ref(&right), true)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            missing,
            [
                format!("questions.{}: needs an answer", tone.id),
                format!("questions.{}.comment: this answer needs a comment", accuracy.id),
            ]
        );
        let foreign = Answer { question_id: Some(accuracy.id), option_id: Some(tone.options[0].id), ..right };
        assert_eq!(
            check_answers(&card, &[foreign], false)[0].to_string(),
            "answers[0].option_id: is not an option of this question"
        );
    }
}

/// What changed from `old` to `new`, one readable line a change, parts matched by their ids
/// (so a renamed question is a rename, not a removal and an addition).
pub fn diff(old: &ScorecardDefinition, new: &ScorecardDefinition) -> Vec<String> {
    let mut lines = Vec::new();
    let mut changed = |what: &str, before: String, after: String| {
        if before != after {
            lines.push(format!("{what}: {before} → {after}"));
        }
    };
    changed("Name", quoted(&old.name), quoted(&new.name));
    changed("Description", quoted(&old.description), quoted(&new.description));
    changed("Target", old.target.to_string(), new.target.to_string());
    changed("Dispute window (days)", old.dispute_days.to_string(), new.dispute_days.to_string());
    changed("Blind scoring", on_off(old.blind), on_off(new.blind));
    changed("Self-scores", on_off(old.self_score), on_off(new.self_score));
    changed(
        "Groups",
        format!("{} group(s)", old.group_ids.len()),
        format!("{} group(s)", new.group_ids.len()),
    );
    let old_positions: Vec<SectionId> = old.sections.iter().map(|s| s.id).collect();
    let new_positions: Vec<SectionId> = new.sections.iter().map(|s| s.id).collect();
    for section in &old.sections {
        if !new_positions.contains(&section.id) {
            lines.push(format!("Section {} removed", quoted(&section.title)));
        }
    }
    for (position, section) in new.sections.iter().enumerate() {
        let name = format!("Section {}", quoted(&section.title));
        let Some(before) = old.sections.iter().find(|s| s.id == section.id) else {
            lines.push(format!("{name} added ({} question(s))", section.questions.len()));
            continue;
        };
        if before.title != section.title {
            lines.push(format!("Section {} renamed {}", quoted(&before.title), quoted(&section.title)));
        }
        if before.weight != section.weight {
            lines.push(format!("{name}: weight {} → {}", before.weight, section.weight));
        }
        if old_positions.iter().position(|id| *id == section.id) != Some(position) {
            lines.push(format!("{name} moved to position {}", position + 1));
        }
        diff_questions(before, section, &mut lines);
    }
    lines
}

fn diff_questions(old: &Section, new: &Section, lines: &mut Vec<String>) {
    let here = format!("in {}", quoted(&new.title));
    for question in &old.questions {
        if !new.questions.iter().any(|q| q.id == question.id) {
            lines.push(format!("Question {} {here} removed", quoted(&question.text)));
        }
    }
    for (position, question) in new.questions.iter().enumerate() {
        let name = format!("Question {} {here}", quoted(&question.text));
        let Some(before_at) = old.questions.iter().position(|q| q.id == question.id) else {
            lines.push(format!("{name} added"));
            continue;
        };
        let before = &old.questions[before_at];
        if before.text != question.text {
            lines.push(format!(
                "Question {} {here} reworded {}",
                quoted(&before.text),
                quoted(&question.text)
            ));
        }
        if before.guidance != question.guidance {
            lines.push(format!(
                "{name}: guidance {} → {}",
                quoted(&before.guidance),
                quoted(&question.guidance)
            ));
        }
        if before.allow_na != question.allow_na {
            lines.push(format!(
                "{name}: N/A allowed {} → {}",
                on_off(before.allow_na),
                on_off(question.allow_na)
            ));
        }
        if before_at != position {
            lines.push(format!("{name} moved to position {}", position + 1));
        }
        for option in &before.options {
            if !question.options.iter().any(|o| o.id == option.id) {
                lines.push(format!("{name}: option {} removed", quoted(&option.label)));
            }
        }
        for option in &question.options {
            let label = format!("{name}: option {}", quoted(&option.label));
            let Some(was) = before.options.iter().find(|o| o.id == option.id) else {
                lines.push(format!("{label} added ({} points)", option.points));
                continue;
            };
            if was.label != option.label {
                lines.push(format!(
                    "{name}: option {} renamed {}",
                    quoted(&was.label),
                    quoted(&option.label)
                ));
            }
            if was.points != option.points {
                lines.push(format!("{label}: points {} → {}", was.points, option.points));
            }
            if was.fail != option.fail {
                lines.push(format!("{label}: fail rule {} → {}", was.fail.as_str(), option.fail.as_str()));
            }
            if was.comment_required != option.comment_required {
                lines.push(format!(
                    "{label}: comment required {} → {}",
                    on_off(was.comment_required),
                    on_off(option.comment_required)
                ));
            }
        }
    }
}

fn quoted(text: &str) -> String {
    format!("“{text}”")
}

fn on_off(flag: bool) -> String {
    if flag { "on" } else { "off" }.to_owned()
}

#[cfg(test)]
mod diff_tests {
    use super::*;

    #[test]
    fn a_diff_names_each_change_by_what_it_is() {
        let input = ScorecardInput {
            name: "Quality".to_owned(),
            sections: vec![SectionInput {
                title: "Tone".to_owned(),
                questions: vec![QuestionInput {
                    text: "Greets".to_owned(),
                    options: vec![
                        OptionInput { label: "No".to_owned(), points: Some(0), ..OptionInput::default() },
                        OptionInput { label: "Yes".to_owned(), points: Some(1), ..OptionInput::default() },
                    ],
                    ..QuestionInput::default()
                }],
                ..SectionInput::default()
            }],
            ..ScorecardInput::default()
        };
        let old = input.validate().unwrap();
        let mut next = old.to_input(true);
        next.target = Some(90);
        next.sections[0].questions[0].text = "Greets by name".to_owned();
        next.sections[0].questions[0].options[1].points = Some(2);
        next.sections[0].questions[0].options[0].fail = "all".to_owned();
        next.sections.push(SectionInput { title: "Accuracy".to_owned(), ..next.sections[0].clone() });
        next.sections[1].id = None;
        next.sections[1].questions[0].id = None;
        next.sections[1].questions[0].options.iter_mut().for_each(|o| o.id = None);
        let new = next.validate().unwrap();
        assert_eq!(
            diff(&old, &new),
            [
                "Target: 80 → 90",
                "Question “Greets” in “Tone” reworded “Greets by name”",
                "Question “Greets by name” in “Tone”: option “No”: fail rule none → all",
                "Question “Greets by name” in “Tone”: option “Yes”: points 1 → 2",
                "Section “Accuracy” added (1 question(s))",
            ]
        );
        assert!(diff(&new, &new).is_empty());
    }
}
