//! Scoring (DESIGN.md §7.4), exactly: every sum is kept as an exact fraction and rounded half up
//! to two decimals once, at the end, so a score can be checked by hand.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{FailRule, OptionId, QuestionId, ScorecardDefinition, SectionId};

/// A score from 0 to 100 in hundredths (8333 is 83.33). JSON shows it as a number with two
/// decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(u32);

impl Score {
    pub const ZERO: Score = Score(0);
    pub const FULL: Score = Score(10_000);

    pub const fn from_hundredths(hundredths: u32) -> Self {
        Self(hundredths)
    }

    pub const fn hundredths(self) -> u32 {
        self.0
    }

    /// Whether this score reaches `target` (a whole percentage).
    pub fn reaches(self, target: u32) -> bool {
        self.0 >= target.saturating_mul(100)
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Score {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The nearest double to n/100 prints as exactly two decimals (or fewer).
        serializer.serialize_f64(f64::from(self.0) / 100.0)
    }
}

impl<'de> Deserialize<'de> for Score {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        if !(0.0..=100.0).contains(&value) {
            return Err(serde::de::Error::custom("a score lies between 0 and 100"));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "checked range")]
        Ok(Self((value * 100.0).round() as u32))
    }
}

/// What an evaluator chose for one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Option(OptionId),
    NotApplicable,
}

/// One section's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionScore {
    pub section_id: SectionId,
    /// `None` when the section is excluded (all its questions N/A, or its maxima sum to 0).
    pub score: Option<Score>,
    /// A chosen option failed the section.
    pub failed: bool,
}

/// The result of scoring one set of answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// `None` when every section is excluded: the evaluation counts as N/A.
    pub score: Option<Score>,
    /// `score ≥ target`; `None` with the score.
    pub passed: Option<bool>,
    pub fail_all: bool,
    pub sections: Vec<SectionScore>,
}

/// Scores `choices` against `definition`. Questions without a choice count nowhere (as while a
/// draft is being answered); choices of unknown questions or options are ignored — checking
/// them is [`crate::check_answers`]'s job.
pub fn score(definition: &ScorecardDefinition, choices: &HashMap<QuestionId, Choice>) -> Outcome {
    let mut fail_all = false;
    let mut sections = Vec::with_capacity(definition.sections.len());
    // (weight, points, maximum) of each counted section that did not fail.
    let mut counted: Vec<(u64, u64, u64)> = Vec::new();
    let mut counted_weight: u64 = 0;
    let mut any_counted = false;
    for section in &definition.sections {
        let (mut points, mut maximum, mut failed) = (0u64, 0u64, false);
        for question in &section.questions {
            let Some(Choice::Option(chosen)) = choices.get(&question.id) else { continue };
            let Some(option) = question.options.iter().find(|o| o.id == *chosen) else { continue };
            points += u64::from(option.points);
            maximum += u64::from(question.maximum());
            match option.fail {
                FailRule::None => {}
                FailRule::Section => failed = true,
                FailRule::All => fail_all = true,
            }
        }
        let weight = u64::from(section.weight);
        let section_score = if failed {
            any_counted = true;
            counted_weight += weight;
            Some(Score::ZERO)
        } else if maximum == 0 {
            None
        } else {
            any_counted = true;
            counted_weight += weight;
            counted.push((weight, points, maximum));
            Some(Score(round_half_up(u128::from(points) * 10_000, u128::from(maximum))))
        };
        sections.push(SectionScore { section_id: section.id, score: section_score, failed });
    }
    let any_failed = sections.iter().any(|s| s.failed);
    let score = if fail_all {
        Some(Score::ZERO)
    } else if !any_counted || counted_weight == 0 {
        // Fail rules win over exclusion: a failed section makes it 0, never null.
        any_failed.then_some(Score::ZERO)
    } else {
        Some(weighted_mean(&counted, counted_weight))
    };
    let passed = score.map(|s| s.reaches(definition.target));
    Outcome { score, passed, fail_all, sections }
}

/// `round(n / d)` with halves rounded up, for `d > 0`.
pub(crate) fn round_half_up(n: u128, d: u128) -> u32 {
    u32::try_from((2 * n + d) / (2 * d)).unwrap_or(u32::MAX)
}

/// Σ wᵢ·100·pᵢ/mᵢ ÷ W in hundredths, rounded half up. Over the common denominator D = Π mᵢ
/// the exact value is N / (D·W) with N = Σ wᵢ·100·pᵢ·Π_{j≠i} mⱼ; the result r is the largest
/// with r·2·D·W ≤ 200·N + D·W. These products grow with the number of sections, so they are
/// kept as unbounded integers rather than risk an overflow.
fn weighted_mean(counted: &[(u64, u64, u64)], total_weight: u64) -> Score {
    let mut denominator = Big::from(1);
    for &(_, _, maximum) in counted {
        denominator.mul_small(maximum);
    }
    let mut numerator = Big::from(0);
    for (i, &(weight, points, _)) in counted.iter().enumerate() {
        let mut term = Big::from(weight * 100 * points);
        for (j, &(_, _, maximum)) in counted.iter().enumerate() {
            if i != j {
                term.mul_small(maximum);
            }
        }
        numerator.add(&term);
    }
    // bound = 200·N + D·W; step = 2·D·W.
    let mut bound = numerator;
    bound.mul_small(200);
    let mut dw = denominator;
    dw.mul_small(total_weight);
    bound.add(&dw);
    let mut step = dw;
    step.mul_small(2);
    let (mut low, mut high) = (0u32, Score::FULL.0);
    while low < high {
        let mid = (low + high).div_ceil(2);
        let mut at = step.clone();
        at.mul_small(u64::from(mid));
        if at.cmp(&bound) == Ordering::Greater {
            high = mid - 1;
        } else {
            low = mid;
        }
    }
    Score(low)
}

/// An unsigned integer of any size, little-endian in base 2³²: only what `weighted_mean` needs.
#[derive(Debug, Clone)]
struct Big(Vec<u32>);

impl Big {
    fn from(value: u64) -> Self {
        let mut big = Self(vec![(value & 0xFFFF_FFFF) as u32, (value >> 32) as u32]);
        big.trim();
        big
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn mul_small(&mut self, by: u64) {
        let mut carry: u128 = 0;
        for limb in &mut self.0 {
            let product = u128::from(*limb) * u128::from(by) + carry;
            *limb = (product & 0xFFFF_FFFF) as u32;
            carry = product >> 32;
        }
        while carry > 0 {
            self.0.push((carry & 0xFFFF_FFFF) as u32);
            carry >>= 32;
        }
        self.trim();
    }

    fn add(&mut self, other: &Big) {
        let mut carry = 0u64;
        for i in 0..self.0.len().max(other.0.len()) {
            if i == self.0.len() {
                self.0.push(0);
            }
            let sum = u64::from(self.0[i]) + u64::from(other.0.get(i).copied().unwrap_or(0)) + carry;
            self.0[i] = (sum & 0xFFFF_FFFF) as u32;
            carry = sum >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AnswerOption, Question, Section};

    /// A section of questions, each given as its options' (points, fail rule).
    fn section(weight: u32, questions: &[&[(u32, FailRule)]]) -> Section {
        Section {
            id: SectionId::new(),
            title: "S".to_owned(),
            weight,
            questions: questions
                .iter()
                .map(|options| Question {
                    id: QuestionId::new(),
                    text: "Q".to_owned(),
                    guidance: String::new(),
                    allow_na: true,
                    options: options
                        .iter()
                        .map(|&(points, fail)| AnswerOption {
                            id: OptionId::new(),
                            label: format!("{points}"),
                            points,
                            fail,
                            comment_required: false,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn card(target: u32, sections: Vec<Section>) -> ScorecardDefinition {
        ScorecardDefinition {
            name: "Card".to_owned(),
            description: String::new(),
            target,
            dispute_days: 7,
            blind: false,
            self_score: false,
            group_ids: Vec::new(),
            sections,
        }
    }

    /// What is picked per question, section by section: the option's index, or `None` for N/A.
    /// A section with fewer entries than questions leaves the rest unanswered.
    fn choices(card: &ScorecardDefinition, picks: &[&[Option<usize>]]) -> HashMap<QuestionId, Choice> {
        let mut map = HashMap::new();
        for (section, picks) in card.sections.iter().zip(picks) {
            for (question, pick) in section.questions.iter().zip(picks.iter()) {
                let choice = match pick {
                    Some(index) => Choice::Option(question.options[*index].id),
                    None => Choice::NotApplicable,
                };
                map.insert(question.id, choice);
            }
        }
        map
    }

    const N: FailRule = FailRule::None;
    const S: FailRule = FailRule::Section;
    const A: FailRule = FailRule::All;
    const YES_NO: &[(u32, FailRule)] = &[(0, N), (1, N)];
    const SCALE: &[(u32, FailRule)] = &[(0, N), (1, N), (2, N), (3, N)];

    /// Each row: what it shows, the card, the picks, then the expected overall score (as text,
    /// or `None` for null), fail-all, and each section's score (`None` = excluded) and failure.
    #[test]
    fn scores_follow_the_design_exactly() {
        struct Row {
            what: &'static str,
            card: ScorecardDefinition,
            picks: Vec<Vec<Option<usize>>>,
            score: Option<&'static str>,
            fail_all: bool,
            sections: Vec<(Option<&'static str>, bool)>,
        }
        let rows = vec![
            Row {
                what: "one section: Σ points ÷ Σ maxima (2 of 3, then rounded once)",
                card: card(80, vec![section(1, &[YES_NO, YES_NO, YES_NO])]),
                picks: vec![vec![Some(1), Some(1), Some(0)]],
                score: Some("66.67"),
                fail_all: false,
                sections: vec![(Some("66.67"), false)],
            },
            Row {
                what: "weights: (3 × 100 + 1 × 0) ÷ 4",
                card: card(80, vec![section(3, &[YES_NO]), section(1, &[YES_NO])]),
                picks: vec![vec![Some(1)], vec![Some(0)]],
                score: Some("75.00"),
                fail_all: false,
                sections: vec![(Some("100.00"), false), (Some("0.00"), false)],
            },
            Row {
                what: "a question's maximum is its best option; N/A counts nowhere",
                card: card(80, vec![section(1, &[SCALE, SCALE, YES_NO])]),
                picks: vec![vec![Some(2), None, Some(1)]],
                score: Some("75.00"),
                fail_all: false,
                sections: vec![(Some("75.00"), false)],
            },
            Row {
                what: "a section of only N/A is excluded, its weight too",
                card: card(80, vec![section(5, &[YES_NO, YES_NO]), section(1, &[SCALE])]),
                picks: vec![vec![None, None], vec![Some(1)]],
                score: Some("33.33"),
                fail_all: false,
                sections: vec![(None, false), (Some("33.33"), false)],
            },
            Row {
                what: "a section whose maxima sum to 0 is excluded",
                card: card(80, vec![section(1, &[&[(0, N), (0, N)]]), section(1, &[YES_NO])]),
                picks: vec![vec![Some(1)], vec![Some(1)]],
                score: Some("100.00"),
                fail_all: false,
                sections: vec![(None, false), (Some("100.00"), false)],
            },
            Row {
                what: "rounding happens once: sections 33.333… and 66.666… average to 50 exactly",
                card: card(50, vec![section(1, &[SCALE]), section(1, &[SCALE])]),
                picks: vec![vec![Some(1)], vec![Some(2)]],
                score: Some("50.00"),
                fail_all: false,
                sections: vec![(Some("33.33"), false), (Some("66.67"), false)],
            },
            Row {
                what: "halves round up: 1 of 8 is 12.5, 1 of 16 is 6.25, 1 of 32 is 3.125 → 3.13",
                card: card(0, vec![section(1, &[&[(0, N), (1, N), (32, N)]])]),
                picks: vec![vec![Some(1)]],
                score: Some("3.13"),
                fail_all: false,
                sections: vec![(Some("3.13"), false)],
            },
            Row {
                what: "averaging rounded section scores would be off: (50 + 16.666…) ÷ 2 is 33.33, not 33.34",
                card: card(
                    0,
                    vec![section(1, &[&[(0, N), (1, N), (2, N)]]), section(1, &[&[(0, N), (1, N), (6, N)]])],
                ),
                picks: vec![vec![Some(1)], vec![Some(1)]],
                score: Some("33.33"),
                fail_all: false,
                sections: vec![(Some("50.00"), false), (Some("16.67"), false)],
            },
            Row {
                what: "fail section: that section scores 0 but still counts",
                card: card(80, vec![section(1, &[&[(0, S), (1, N)], YES_NO]), section(1, &[YES_NO])]),
                picks: vec![vec![Some(0), Some(1)], vec![Some(1)]],
                score: Some("50.00"),
                fail_all: false,
                sections: vec![(Some("0.00"), true), (Some("100.00"), false)],
            },
            Row {
                what: "fail section wins over exclusion (its maxima sum to 0)",
                card: card(80, vec![section(1, &[&[(0, S), (0, N)]]), section(1, &[YES_NO])]),
                picks: vec![vec![Some(0)], vec![Some(1)]],
                score: Some("50.00"),
                fail_all: false,
                sections: vec![(Some("0.00"), true), (Some("100.00"), false)],
            },
            Row {
                what: "a failed section of weight 0 with nothing else counted: 0, not null",
                card: card(80, vec![section(0, &[&[(0, S), (1, N)]]), section(1, &[YES_NO])]),
                picks: vec![vec![Some(0)], vec![None]],
                score: Some("0.00"),
                fail_all: false,
                sections: vec![(Some("0.00"), true), (None, false)],
            },
            Row {
                what: "fail all: overall 0, sections as they are",
                card: card(80, vec![section(1, &[&[(0, A), (1, N)], YES_NO]), section(1, &[YES_NO])]),
                picks: vec![vec![Some(0), Some(1)], vec![Some(1)]],
                score: Some("0.00"),
                fail_all: true,
                sections: vec![(Some("50.00"), false), (Some("100.00"), false)],
            },
            Row {
                what: "fail all on an option worth nothing in an otherwise excluded card: 0, never null",
                card: card(80, vec![section(1, &[&[(0, A), (0, N)]])]),
                picks: vec![vec![Some(0)]],
                score: Some("0.00"),
                fail_all: true,
                sections: vec![(None, false)],
            },
            Row {
                what: "every section excluded: null",
                card: card(80, vec![section(1, &[YES_NO]), section(2, &[SCALE])]),
                picks: vec![vec![None], vec![None]],
                score: None,
                fail_all: false,
                sections: vec![(None, false), (None, false)],
            },
            Row {
                what: "counted weights summing to 0: null",
                card: card(80, vec![section(0, &[YES_NO]), section(0, &[YES_NO])]),
                picks: vec![vec![Some(1)], vec![Some(0)]],
                score: None,
                fail_all: false,
                sections: vec![(Some("100.00"), false), (Some("0.00"), false)],
            },
            Row {
                what: "unanswered questions (a draft) count nowhere",
                card: card(80, vec![section(1, &[YES_NO, YES_NO]), section(1, &[YES_NO])]),
                picks: vec![vec![Some(1)], vec![]],
                score: Some("100.00"),
                fail_all: false,
                sections: vec![(Some("100.00"), false), (None, false)],
            },
        ];
        for row in rows {
            let picks: Vec<&[Option<usize>]> = row.picks.iter().map(Vec::as_slice).collect();
            let outcome = score(&row.card, &choices(&row.card, &picks));
            assert_eq!(outcome.score.map(|s| s.to_string()).as_deref(), row.score, "{}", row.what);
            assert_eq!(outcome.fail_all, row.fail_all, "{}", row.what);
            let sections: Vec<(Option<String>, bool)> =
                outcome.sections.iter().map(|s| (s.score.map(|s| s.to_string()), s.failed)).collect();
            let expected: Vec<(Option<String>, bool)> =
                row.sections.iter().map(|(s, f)| (s.map(str::to_owned), *f)).collect();
            assert_eq!(sections, expected, "{}", row.what);
        }
    }

    #[test]
    fn passed_means_reaching_the_target_and_is_null_with_the_score() {
        let at = card(75, vec![section(3, &[YES_NO]), section(1, &[YES_NO])]);
        let outcome = score(&at, &choices(&at, &[&[Some(1)], &[Some(0)]]));
        assert_eq!((outcome.score, outcome.passed), (Some(Score(7500)), Some(true)));
        let above = card(76, at.sections);
        assert_eq!(score(&above, &choices(&above, &[&[Some(1)], &[Some(0)]])).passed, Some(false));
        assert_eq!(score(&above, &choices(&above, &[&[None], &[None]])).passed, None);
    }

    #[test]
    fn many_sections_with_coprime_maxima_stay_exact() {
        // Maxima 2, 3, 5, …: their product overflows 128 bits; the result must still be exact.
        let primes = [2u32, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71];
        let options: Vec<Vec<(u32, FailRule)>> =
            primes.iter().map(|&p| vec![(0, N), (1, N), (p, N)]).collect();
        let sections = options.iter().map(|o| section(1, &[o.as_slice()])).collect();
        let big = card(0, sections);
        let picks: Vec<Vec<Option<usize>>> = primes.iter().map(|_| vec![Some(1)]).collect();
        let picks: Vec<&[Option<usize>]> = picks.iter().map(Vec::as_slice).collect();
        let outcome = score(&big, &choices(&big, &picks));
        // Σ 100/p over these primes ÷ 20 = 8.7143…, so 8.71.
        assert_eq!(outcome.score, Some(Score(871)));
    }

    #[test]
    fn scores_print_and_serialize_with_two_decimals() {
        assert_eq!(Score(8333).to_string(), "83.33");
        assert_eq!(Score(7).to_string(), "0.07");
        assert_eq!(serde_json::to_string(&Score(8333)).unwrap(), "83.33");
        assert_eq!(serde_json::to_string(&Score(10_000)).unwrap(), "100.0");
        assert_eq!(serde_json::from_str::<Score>("83.33").unwrap(), Score(8333));
    }
}
