//! The builder's form as typed: read from the posted fields (named by the paths problems are
//! reported at, e.g. `sections[1].questions[0].options[2].label`), changed by the add, move and
//! remove buttons without losing anything typed, and turned into a [`ScorecardInput`].

use std::collections::{BTreeMap, HashMap};

use scoreline_core::{GroupId, ScorecardDefinition, ScorecardInput};

use super::card::{CardView, OptionView, QuestionView, SectionView};

#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub name: String,
    pub description: String,
    pub target: String,
    pub dispute_days: String,
    pub blind: bool,
    pub self_score: bool,
    pub group_ids: Vec<String>,
    pub sections: Vec<DraftSection>,
}

#[derive(Debug, Clone, Default)]
pub struct DraftSection {
    pub id: String,
    pub title: String,
    pub weight: String,
    pub questions: Vec<DraftQuestion>,
}

#[derive(Debug, Clone, Default)]
pub struct DraftQuestion {
    pub id: String,
    pub text: String,
    pub guidance: String,
    pub allow_na: bool,
    pub options: Vec<DraftOption>,
}

#[derive(Debug, Clone, Default)]
pub struct DraftOption {
    pub id: String,
    pub label: String,
    pub points: String,
    pub fail: String,
    pub comment_required: bool,
}

impl DraftSection {
    fn blank() -> Self {
        Self { weight: "1".to_owned(), questions: vec![DraftQuestion::blank()], ..Self::default() }
    }
}

impl DraftQuestion {
    fn blank() -> Self {
        let option = |label: &str, points: &str| DraftOption {
            label: label.to_owned(),
            points: points.to_owned(),
            fail: "none".to_owned(),
            ..DraftOption::default()
        };
        Self { options: vec![option("No", "0"), option("Yes", "1")], ..Self::default() }
    }
}

impl Draft {
    /// A new scorecard: one section, one question, two options.
    pub fn blank() -> Self {
        Self {
            target: "80".to_owned(),
            dispute_days: "7".to_owned(),
            sections: vec![DraftSection::blank()],
            ..Self::default()
        }
    }

    pub fn of(definition: &ScorecardDefinition) -> Self {
        Self {
            name: definition.name.clone(),
            description: definition.description.clone(),
            target: definition.target.to_string(),
            dispute_days: definition.dispute_days.to_string(),
            blind: definition.blind,
            self_score: definition.self_score,
            group_ids: definition.group_ids.iter().map(ToString::to_string).collect(),
            sections: definition
                .sections
                .iter()
                .map(|section| DraftSection {
                    id: section.id.to_string(),
                    title: section.title.clone(),
                    weight: section.weight.to_string(),
                    questions: section
                        .questions
                        .iter()
                        .map(|question| DraftQuestion {
                            id: question.id.to_string(),
                            text: question.text.clone(),
                            guidance: question.guidance.clone(),
                            allow_na: question.allow_na,
                            options: question
                                .options
                                .iter()
                                .map(|option| DraftOption {
                                    id: option.id.to_string(),
                                    label: option.label.clone(),
                                    points: option.points.to_string(),
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

    /// From the posted fields; checkboxes count when present.
    pub fn from_fields(fields: &HashMap<String, Vec<String>>) -> Self {
        let text = |name: &str| fields.get(name).and_then(|v| v.last()).cloned().unwrap_or_default();
        let mut sections: BTreeMap<usize, DraftSection> = BTreeMap::new();
        let mut questions: BTreeMap<(usize, usize), DraftQuestion> = BTreeMap::new();
        let mut options: BTreeMap<(usize, usize, usize), DraftOption> = BTreeMap::new();
        for (name, values) in fields {
            let value = values.last().cloned().unwrap_or_default();
            let Some(path) = Path::parse(name) else { continue };
            match path {
                Path::Section(s, field) => {
                    let section = sections.entry(s).or_default();
                    match field {
                        "id" => section.id = value,
                        "title" => section.title = value,
                        "weight" => section.weight = value,
                        _ => {}
                    }
                }
                Path::Question(s, q, field) => {
                    sections.entry(s).or_default();
                    let question = questions.entry((s, q)).or_default();
                    match field {
                        "id" => question.id = value,
                        "text" => question.text = value,
                        "guidance" => question.guidance = value,
                        "allow_na" => question.allow_na = true,
                        _ => {}
                    }
                }
                Path::Option(s, q, o, field) => {
                    sections.entry(s).or_default();
                    questions.entry((s, q)).or_default();
                    let option = options.entry((s, q, o)).or_default();
                    match field {
                        "id" => option.id = value,
                        "label" => option.label = value,
                        "points" => option.points = value,
                        "fail" => option.fail = value,
                        "comment_required" => option.comment_required = true,
                        _ => {}
                    }
                }
            }
        }
        for ((s, q, _), option) in options {
            if let Some(question) = questions.get_mut(&(s, q)) {
                question.options.push(option);
            }
        }
        for ((s, _), question) in questions {
            if let Some(section) = sections.get_mut(&s) {
                section.questions.push(question);
            }
        }
        Self {
            name: text("name"),
            description: text("description"),
            target: text("target"),
            dispute_days: text("dispute_days"),
            blind: fields.contains_key("blind"),
            self_score: fields.contains_key("self_score"),
            group_ids: fields
                .get("group_ids")
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|g| !g.is_empty())
                .collect(),
            sections: sections.into_values().collect(),
        }
    }

    /// Applies a structure button (`add-question:0`, `up-option:1.0.2`, …); `false` when `op`
    /// is not one.
    pub fn apply(&mut self, op: &str) -> bool {
        let Some((verb, at)) = op.split_once(':') else { return false };
        let at: Vec<usize> = at.split('.').filter_map(|n| n.parse().ok()).collect();
        let sections = &mut self.sections;
        match (verb, at.as_slice()) {
            ("add-section", []) => sections.push(DraftSection::blank()),
            ("add-question", [s]) => match sections.get_mut(*s) {
                Some(section) => section.questions.push(DraftQuestion::blank()),
                None => return false,
            },
            ("add-option", [s, q]) => match sections.get_mut(*s).and_then(|x| x.questions.get_mut(*q)) {
                Some(question) => {
                    question.options.push(DraftOption { fail: "none".to_owned(), ..DraftOption::default() })
                }
                None => return false,
            },
            ("remove-section" | "up-section" | "down-section", [s]) => return shift(sections, verb, *s),
            ("remove-question" | "up-question" | "down-question", [s, q]) => match sections.get_mut(*s) {
                Some(section) => return shift(&mut section.questions, verb, *q),
                None => return false,
            },
            ("remove-option" | "up-option" | "down-option", [s, q, o]) => {
                match sections.get_mut(*s).and_then(|x| x.questions.get_mut(*q)) {
                    Some(question) => return shift(&mut question.options, verb, *o),
                    None => return false,
                }
            }
            _ => return false,
        }
        true
    }

    /// What the scorecard's use cases validate. A number that is not one is kept as out of
    /// range, so its problem is reported beside it.
    pub fn to_input(&self) -> ScorecardInput {
        let number = |text: &str| match text.trim() {
            "" => None,
            text => Some(text.parse::<i64>().unwrap_or(-1)),
        };
        ScorecardInput {
            name: self.name.clone(),
            description: self.description.clone(),
            target: number(&self.target),
            dispute_days: number(&self.dispute_days),
            blind: self.blind,
            self_score: self.self_score,
            group_ids: self.group_ids.iter().filter_map(|g| g.parse::<GroupId>().ok()).collect(),
            sections: self
                .sections
                .iter()
                .map(|section| scoreline_core::SectionInput {
                    id: section.id.parse().ok(),
                    title: section.title.clone(),
                    weight: number(&section.weight),
                    questions: section
                        .questions
                        .iter()
                        .map(|question| scoreline_core::QuestionInput {
                            id: question.id.parse().ok(),
                            text: question.text.clone(),
                            guidance: question.guidance.clone(),
                            allow_na: question.allow_na,
                            options: question
                                .options
                                .iter()
                                .map(|option| scoreline_core::OptionInput {
                                    id: option.id.parse().ok(),
                                    label: option.label.clone(),
                                    points: number(&option.points),
                                    fail: option.fail.clone(),
                                    comment_required: option.comment_required,
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The form as an evaluator will see it, with each section's maximum (numbers not yet
    /// valid count as 0).
    pub fn preview(&self) -> CardView {
        let points = |text: &str| text.trim().parse::<u32>().unwrap_or(0);
        CardView {
            blind: self.blind,
            sections: self
                .sections
                .iter()
                .enumerate()
                .map(|(s, section)| SectionView {
                    id: section.id.clone(),
                    title: section.title.clone(),
                    weight: section.weight.clone(),
                    maximum: section
                        .questions
                        .iter()
                        .map(|q| q.options.iter().map(|o| points(&o.points)).max().unwrap_or(0))
                        .sum(),
                    questions: section
                        .questions
                        .iter()
                        .enumerate()
                        .map(|(q, question)| QuestionView {
                            key: format!("preview-{s}-{q}"),
                            text: question.text.clone(),
                            guidance: question.guidance.clone(),
                            allow_na: question.allow_na,
                            options: question
                                .options
                                .iter()
                                .enumerate()
                                .map(|(o, option)| OptionView {
                                    id: format!("{s}.{q}.{o}"),
                                    label: option.label.clone(),
                                    points: points(&option.points),
                                    fail: option.fail.clone(),
                                    comment_required: option.comment_required,
                                })
                                .collect(),
                            ..QuestionView::default()
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Removes or moves item `at` of `items`; `false` when there is no such item or move.
fn shift<T>(items: &mut Vec<T>, verb: &str, at: usize) -> bool {
    if at >= items.len() {
        return false;
    }
    if verb.starts_with("remove") {
        items.remove(at);
    } else if verb.starts_with("up") && at > 0 {
        items.swap(at, at - 1);
    } else if verb.starts_with("down") && at + 1 < items.len() {
        items.swap(at, at + 1);
    } else {
        return false;
    }
    true
}

/// A field name of the builder: `sections[s].field`, `sections[s].questions[q].field` or
/// `sections[s].questions[q].options[o].field`.
enum Path<'a> {
    Section(usize, &'a str),
    Question(usize, usize, &'a str),
    Option(usize, usize, usize, &'a str),
}

impl<'a> Path<'a> {
    fn parse(name: &'a str) -> Option<Self> {
        let (s, rest) = index(name, "sections[")?;
        let Some((q, rest)) = index(rest, ".questions[") else {
            return Some(Self::Section(s, rest.strip_prefix('.')?));
        };
        let Some((o, rest)) = index(rest, ".options[") else {
            return Some(Self::Question(s, q, rest.strip_prefix('.')?));
        };
        Some(Self::Option(s, q, o, rest.strip_prefix('.')?))
    }
}

/// `prefix` then a number then `]`: the number and what follows.
fn index<'a>(text: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let rest = text.strip_prefix(prefix)?;
    let (number, rest) = rest.split_once(']')?;
    Some((number.parse().ok().filter(|n| *n < 1000)?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in pairs {
            map.entry((*name).to_owned()).or_default().push((*value).to_owned());
        }
        map
    }

    #[test]
    fn the_posted_form_reads_back_in_order_and_buttons_keep_what_was_typed() {
        let posted = fields(&[
            ("name", "Quality"),
            ("sections[1].title", "Second"),
            ("sections[0].title", "First"),
            ("sections[0].questions[0].text", "Greets"),
            ("sections[0].questions[0].allow_na", "on"),
            ("sections[0].questions[0].options[1].label", "Yes"),
            ("sections[0].questions[0].options[0].label", "No"),
            ("sections[0].questions[0].options[0].points", "0"),
            ("sections[0].questions[0].options[1].points", "2"),
            ("sections[1].questions[0].text", "Right"),
        ]);
        let mut draft = Draft::from_fields(&posted);
        assert_eq!(draft.sections.iter().map(|s| s.title.as_str()).collect::<Vec<_>>(), ["First", "Second"]);
        let question = &draft.sections[0].questions[0];
        assert!(question.allow_na);
        assert_eq!(question.options.iter().map(|o| o.label.as_str()).collect::<Vec<_>>(), ["No", "Yes"]);
        assert_eq!(draft.preview().sections[0].maximum, 2);
        assert!(draft.apply("up-section:1"));
        assert_eq!(draft.sections[0].title, "Second");
        assert!(draft.apply("add-option:1.0"));
        assert_eq!(draft.sections[1].questions[0].options.len(), 3);
        assert!(draft.apply("remove-option:1.0.0"));
        assert_eq!(draft.sections[1].questions[0].options[0].label, "Yes", "the rest stays as typed");
        assert!(!draft.apply("up-section:0"), "the first cannot move up");
        assert!(!draft.apply("remove-question:7.0"));
        assert!(!draft.apply("publish"));
    }
}
