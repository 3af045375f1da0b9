//! Agreement between evaluators (DESIGN.md §7.6): Krippendorff's alpha, as defined in
//! "Computing Krippendorff's Alpha-Reliability" (2011), for nominal values (the option chosen
//! for a question) and interval values (section and overall scores).
//!
//! A unit is what several evaluators judged (a question, a section's score); its values are the
//! judgements given, one per evaluator who gave one. A missing value (an evaluator who did not
//! answer, or answered N/A) is simply absent. Only units with at least two values are pairable
//! and count. With the coincidences of the paper, over n pairable values,
//! `alpha = 1 − (n − 1) · Σ_u Σ_{i≠j∈u} δ²(i, j) / (m_u − 1) ÷ Σ_{i≠j} δ²(i, j)`,
//! the last sum over every pair of pairable values. Both sums are computed from counts (nominal)
//! or from Σv and Σv² (interval), so a period of many sessions costs one pass.

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

/// Alpha and what it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Agreement {
    /// 1 is perfect agreement, 0 agreement no better than chance, below 0 systematic
    /// disagreement. `None` when alpha is undefined: no pairable values at all, or no variation
    /// among them (every value the same, so expected disagreement is 0; see [`Self::undefined`]).
    pub alpha: Option<f64>,
    /// Units with at least two values.
    pub units: usize,
    /// Values in those units: the n of the formula.
    pub values: usize,
}

/// Why alpha is undefined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Undefined {
    /// No unit has two values to compare.
    NoPairableValues,
    /// Every pairable value is the same: nothing varies, so agreement cannot be told from chance.
    NoVariation,
}

impl Agreement {
    /// Why `alpha` is `None`; `None` when it is defined.
    pub fn undefined(&self) -> Option<Undefined> {
        match self.alpha {
            Some(_) => None,
            None if self.values == 0 => Some(Undefined::NoPairableValues),
            None => Some(Undefined::NoVariation),
        }
    }
}

/// Observed and expected disagreement sums, gathered unit by unit.
#[derive(Default)]
struct Sums {
    units: usize,
    values: usize,
    /// Σ_u Σ_{i≠j∈u} δ² / (m_u − 1).
    observed: f64,
}

impl Sums {
    fn finish(self, expected: f64) -> Agreement {
        let Sums { units, values, observed } = self;
        #[allow(clippy::cast_precision_loss, reason = "value counts are far below 2^52")]
        let alpha =
            (values >= 2 && expected > 0.0).then(|| 1.0 - (values as f64 - 1.0) * observed / expected);
        Agreement { alpha, units, values }
    }
}

/// Alpha for nominal values: two values agree only when equal.
pub fn nominal_alpha<T, U>(units: impl IntoIterator<Item = U>) -> Agreement
where
    T: Eq + Hash,
    U: IntoIterator<Item = T>,
{
    let mut sums = Sums::default();
    let mut totals: HashMap<T, usize> = HashMap::new();
    for unit in units {
        let mut counts: HashMap<T, usize> = HashMap::new();
        let mut m = 0usize;
        for value in unit {
            *counts.entry(value).or_default() += 1;
            m += 1;
        }
        if m < 2 {
            continue;
        }
        // Ordered pairs of different values within the unit: m² − Σ m_c².
        let alike: usize = counts.values().map(|c| c * c).sum();
        #[allow(clippy::cast_precision_loss, reason = "value counts are far below 2^52")]
        {
            sums.observed += (m * m - alike) as f64 / (m - 1) as f64;
        }
        sums.units += 1;
        sums.values += m;
        for (value, count) in counts {
            *totals.entry(value).or_default() += count;
        }
    }
    let n = sums.values;
    let alike: usize = totals.values().map(|c| c * c).sum();
    #[allow(clippy::cast_precision_loss, reason = "value counts are far below 2^52")]
    let expected = (n * n - alike) as f64;
    sums.finish(expected)
}

/// Alpha for interval values: disagreement is the squared difference.
pub fn interval_alpha<U>(units: impl IntoIterator<Item = U>) -> Agreement
where
    U: IntoIterator<Item = f64>,
{
    let mut sums = Sums::default();
    let (mut total, mut total_squares) = (0.0, 0.0);
    for unit in units {
        let (mut m, mut sum, mut squares) = (0usize, 0.0, 0.0);
        for value in unit {
            m += 1;
            sum += value;
            squares += value * value;
        }
        if m < 2 {
            continue;
        }
        #[allow(clippy::cast_precision_loss, reason = "value counts are far below 2^52")]
        let (m_f, n_minus_1) = (m as f64, (m - 1) as f64);
        // Σ_{i≠j} (vᵢ − vⱼ)² = 2m·Σv² − 2(Σv)².
        sums.observed += (2.0 * m_f * squares - 2.0 * sum * sum).max(0.0) / n_minus_1;
        sums.units += 1;
        sums.values += m;
        total += sum;
        total_squares += squares;
    }
    #[allow(clippy::cast_precision_loss, reason = "value counts are far below 2^52")]
    let n = sums.values as f64;
    let expected = (2.0 * n * total_squares - 2.0 * total * total).max(0.0);
    // Differences below rounding noise are no variation at all.
    let expected = if expected <= f64::EPSILON * (2.0 * n * total_squares).max(1.0) { 0.0 } else { expected };
    sums.finish(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reliability data of Krippendorff (2011), §C: four observers, twelve units, `0` for a
    /// missing value. Unit 12 has one value only and is not pairable.
    const OBSERVERS: [[u8; 12]; 4] = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3],
        [0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0],
    ];

    fn units() -> Vec<Vec<u8>> {
        (0..12).map(|u| OBSERVERS.iter().map(|o| o[u]).filter(|&v| v != 0).collect()).collect()
    }

    fn three_decimals(agreement: Agreement) -> String {
        format!("{:.3}", agreement.alpha.expect("alpha is defined"))
    }

    #[test]
    fn krippendorffs_worked_example_with_missing_values() {
        let nominal = nominal_alpha(units());
        assert_eq!(three_decimals(nominal), "0.743");
        // Eleven pairable units, forty values (unit 12's single value does not count).
        assert_eq!((nominal.units, nominal.values), (11, 40));
        let interval = interval_alpha(units().into_iter().map(|u| u.into_iter().map(f64::from)));
        assert_eq!(three_decimals(interval), "0.849");
        assert_eq!((interval.units, interval.values), (11, 40));
    }

    #[test]
    fn without_missing_values() {
        // Krippendorff (2011) §A: two observers, ten units, binary; alpha = 0.095.
        let a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0];
        let b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0];
        let nominal = nominal_alpha((0..10).map(|u| [a[u], b[u]]));
        assert_eq!(three_decimals(nominal), "0.095");
        assert_eq!((nominal.units, nominal.values), (10, 20));
        // Three raters, four units. Observed: only [1, 1, 2] differs, ordered pairs Σ = 4, ÷ (3 − 1).
        let interval = interval_alpha([[1.0, 1.0, 2.0], [2.0, 2.0, 2.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]);
        // Expected: five 1s and seven 2s, Σv = 19, Σv² = 33: 2·12·33 − 2·19² = 70; n − 1 = 11.
        let expected = 1.0 - 11.0 * 2.0 / 70.0;
        assert!((interval.alpha.unwrap() - expected).abs() < 1e-12, "{interval:?}");
    }

    #[test]
    fn perfect_agreement_is_one_and_nominal_ignores_the_labels() {
        let agreement = nominal_alpha([["x", "x"], ["y", "y"], ["z", "z"]]);
        assert_eq!(agreement.alpha, Some(1.0));
        let interval = interval_alpha([[10.0, 10.0, 10.0], [55.5, 55.5, 55.5]]);
        assert_eq!(interval.alpha, Some(1.0));
    }

    #[test]
    fn undefined_without_pairs_or_without_variation() {
        let none = nominal_alpha(Vec::<Vec<u8>>::new());
        assert_eq!((none.alpha, none.units, none.values), (None, 0, 0));
        assert_eq!(none.undefined(), Some(Undefined::NoPairableValues));
        // Single values are not pairable, whatever they are.
        let lonely = interval_alpha([vec![1.0], vec![2.0], vec![]]);
        assert_eq!(lonely.undefined(), Some(Undefined::NoPairableValues));
        // Everyone gave the same answer everywhere: agreement cannot be told from chance.
        let same = nominal_alpha([[7, 7], [7, 7]]);
        assert_eq!((same.alpha, same.units, same.values), (None, 2, 4));
        assert_eq!(same.undefined(), Some(Undefined::NoVariation));
        let same = interval_alpha([vec![80.0, 80.0], vec![80.0, 80.0, 80.0]]);
        assert_eq!(same.undefined(), Some(Undefined::NoVariation));
        assert_eq!(nominal_alpha([[1, 2]]).undefined(), None);
    }

    #[test]
    fn one_unit_of_pure_disagreement_is_not_better_than_chance() {
        // Within a single unit observed and expected disagreement coincide.
        assert!(nominal_alpha([[1, 2, 3]]).alpha.unwrap().abs() < 1e-12);
        let systematic = nominal_alpha([[1, 2], [2, 1]]);
        assert!(systematic.alpha.unwrap() < 0.0, "{systematic:?}");
    }
}
