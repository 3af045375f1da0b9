//! A scorecard as an evaluator answers it: the builder's live preview and the evaluate page
//! draw it with the same template (`scorecards/card.html`).

use scoreline_core::{Answer, ScorecardDefinition};

#[derive(Debug, Clone, Default)]
pub struct CardView {
    /// Points and the running score stay hidden.
    pub blind: bool,
    pub sections: Vec<SectionView>,
}

#[derive(Debug, Clone, Default)]
pub struct SectionView {
    pub id: String,
    pub title: String,
    pub weight: String,
    /// Σ of the questions' highest points.
    pub maximum: u32,
    pub questions: Vec<QuestionView>,
}

#[derive(Debug, Clone, Default)]
pub struct QuestionView {
    /// Names the question's inputs: the question id on the evaluate page.
    pub key: String,
    pub text: String,
    pub guidance: String,
    pub allow_na: bool,
    pub options: Vec<OptionView>,
    /// The chosen option's id, `na`, or empty.
    pub chosen: String,
    pub comment: String,
}

#[derive(Debug, Clone, Default)]
pub struct OptionView {
    pub id: String,
    pub label: String,
    pub points: u32,
    pub fail: String,
    pub comment_required: bool,
}

impl QuestionView {
    pub fn is_chosen(&self, option: &OptionView) -> bool {
        self.chosen == option.id
    }

    pub fn is_na(&self) -> bool {
        self.chosen == "na"
    }
}

impl CardView {
    /// A published definition with the answers given so far.
    pub fn answering(definition: &ScorecardDefinition, answers: &[Answer]) -> Self {
        let answer_of = |id| answers.iter().find(|a| a.question_id == Some(id));
        Self {
            blind: definition.blind,
            sections: definition
                .sections
                .iter()
                .map(|section| SectionView {
                    id: section.id.to_string(),
                    title: section.title.clone(),
                    weight: section.weight.to_string(),
                    maximum: section.maximum(),
                    questions: section
                        .questions
                        .iter()
                        .map(|question| {
                            let answer = answer_of(question.id);
                            QuestionView {
                                key: question.id.to_string(),
                                text: question.text.clone(),
                                guidance: question.guidance.clone(),
                                allow_na: question.allow_na,
                                options: question
                                    .options
                                    .iter()
                                    .map(|option| OptionView {
                                        id: option.id.to_string(),
                                        label: option.label.clone(),
                                        points: option.points,
                                        fail: option.fail.as_str().to_owned(),
                                        comment_required: option.comment_required,
                                    })
                                    .collect(),
                                chosen: match answer {
                                    Some(a) if a.na => "na".to_owned(),
                                    Some(a) => a.option_id.map(|o| o.to_string()).unwrap_or_default(),
                                    None => String::new(),
                                },
                                comment: answer.and_then(|a| a.comment.clone()).unwrap_or_default(),
                            }
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
