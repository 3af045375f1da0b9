//! A scorecard as an evaluator answers it: the builder's live preview and the evaluate page
//! draw it with the same template (`scorecards/card.html`).

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
