//! Classification of scores into tiers and sub-levels.
//!
//! Four ways to cut a list of scores into `k` ordered classes (class 0 is the LOWEST):
//!
//! * [`Method::Difference`] — the blue book's "差分趋势" rule: cut where the gap between
//!   consecutive sorted scores jumps relative to the local trend of the gaps (see below);
//! * [`Method::NaturalBreaks`] — exact Fisher-Jenks natural breaks, giving the same breaks as
//!   jenkspy 0.4.1 (see [`jenks_breaks`]);
//! * [`Method::Thresholds`] — fixed cut lines, e.g. a published "top-tier cut line 83.59";
//! * [`Method::Quantile`] — classes of (nearly) equal counts.
//!
//! Whatever the method, equal values always land in the same class (and the same sub-level):
//! a tier is a statement about a score, so two units with the same score cannot be told apart.
//!
//! # Breaks
//!
//! [`Classes::breaks`] follows jenkspy's convention: `k + 1` ascending values
//! `[min, b1, …, b(k-1), max]`, and class `i` holds the values in `(b_i, b_(i+1)]`, the first
//! class being closed at `min`. So an inner break is the HIGHEST value of the class below it.
//! [`cut_lines`] gives the other view the blue book prints: the LOWEST value of each class.
//! [`Method::Thresholds`] is the exception, as its cut lines are by definition lowest values of
//! the class above: there class `i` holds `[cut_i, cut_(i+1))`.
//!
//! # The difference-trend rule (差分趋势)
//!
//! The blue book sorts the total scores and cuts "where the differences of consecutive scores
//! jump". The exact procedure was never published; this module implements this one:
//!
//! 1. sort the `n` scores descending, `s_0 ≥ s_1 ≥ … ≥ s_(n-1)`;
//! 2. gaps `g_i = s_i − s_(i+1)` for `i = 0 … n−2`;
//! 3. the trend `t_i` is the median of the gaps `g_j` with `|j − i| ≤ window / 2` (a centred
//!    moving median, truncated at both ends; an even-length neighbourhood takes the mean of its
//!    two middle gaps; `window` defaults to 9);
//! 4. the jump ratio is `r_i = g_i / t_i`, or `g_i / g_min` when `t_i = 0`, where `g_min` is the
//!    smallest positive gap;
//! 5. a cut may only sit where `g_i > 0`, so tied scores are never separated;
//! 6. the `k − 1` cuts are chosen greedily by descending jump ratio (ties: larger gap first,
//!    then the cut between higher scores first), skipping any cut that would leave a class
//!    with fewer than `max(1, ceil(min_class_share · n))` units (`min_class_share` defaults to
//!    0.03);
//! 7. if fewer than `k − 1` admissible cuts exist, the rule fails with an error rather than
//!    return fewer classes.
//!
//! Why not simply cut at the `k − 1` largest gaps? Scores are roughly bell-shaped: the gaps are
//! small in the dense middle and large in the sparse tails, so the largest raw gaps would cut
//! off two or three extreme units and leave one huge middle class. Dividing a gap by the local
//! trend of the gaps measures how unusual it is for its neighbourhood — a jump relative to the
//! local density, which is what a reader sees as a "break" in a sorted score chart. The minimum
//! class share stops the rule from turning a single outlier into a tier of its own; a tier of
//! one or two units says nothing about a group of governments.

mod difference;
mod jenks;
mod quantile;
mod sublevel;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use jenks::jenks_breaks;
pub use sublevel::sublevels;

/// Largest magnitude accepted: squares of larger values could overflow in the variance sums.
pub const MAX_ABS_VALUE: f64 = 1e100;

/// How to cut scores into classes. Serialised with a `method` tag so a run's configuration
/// records the method and its parameters together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Method {
    /// The blue book's difference-trend rule (差分趋势); see the module docs.
    Difference(DifferenceParams),
    /// Exact Fisher-Jenks natural breaks, identical to jenkspy 0.4.1.
    NaturalBreaks,
    /// Fixed cut lines, strictly ascending; `k = cuts.len() + 1`. A value equal to a cut goes
    /// to the HIGHER class: a cut line is the lowest score of the class above it.
    Thresholds { cuts: Vec<f64> },
    /// Classes of equal counts as far as ties allow: tied values are never split, so a cut
    /// moves to the nearest boundary between distinct values.
    Quantile,
}

/// Parameters of the difference-trend rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DifferenceParams {
    /// Length of the centred moving-median window that gives the local trend of the gaps.
    pub window: usize,
    /// Smallest share of all units any class may hold (the floor is one unit).
    pub min_class_share: f64,
}

impl Default for DifferenceParams {
    fn default() -> Self {
        DifferenceParams {
            window: 9,
            min_class_share: 0.03,
        }
    }
}

/// The result of a classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classes {
    /// `k + 1` ascending values `[min, b1, …, max]` (jenkspy's convention, see module docs).
    pub breaks: Vec<f64>,
    /// Number of values in each class, lowest class first.
    pub counts: Vec<usize>,
    /// Class of each input value, in input order; 0 is the lowest class.
    pub class_of: Vec<usize>,
}

/// Which ends of a class's interval `[breaks[i], breaks[i + 1]]` belong to it. Fixed cut lines
/// give a score equal to a line to the class above (`[c_i, c_(i+1))`, the top class closed);
/// every other method follows jenkspy (`(b_i, b_(i+1)]`, the lowest class closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closure {
    /// The lower bound belongs to the class.
    pub lower: bool,
    /// The upper bound belongs to the class.
    pub upper: bool,
}

impl Method {
    /// The ends of class `i` (0 = lowest) of `k` that belong to it under this method.
    pub fn closure(&self, i: usize, k: usize) -> Closure {
        match self {
            Method::Thresholds { .. } => Closure {
                lower: true,
                upper: i + 1 == k,
            },
            _ => Closure {
                lower: i == 0,
                upper: true,
            },
        }
    }
}

impl Closure {
    /// The interval in mathematical notation, e.g. `(66.04, 73.98]`, numbers to `decimals`.
    pub fn interval(&self, lo: f64, hi: f64, decimals: usize) -> String {
        format!(
            "{}{lo:.decimals$}, {hi:.decimals$}{}",
            if self.lower { '[' } else { '(' },
            if self.upper { ']' } else { ')' }
        )
    }
}

/// How to split a class into sub-levels (A+, A, A-).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SublevelMethod {
    /// The seed report's rule: `n` bands of equal width between the class minimum and maximum.
    #[default]
    EqualWidth,
    /// Equal counts inside the class (the UN EGDI rating classes are within-group quartiles).
    Quantile,
}

/// Why a classification could not be made. Every variant is a problem with the input or the
/// parameters, never an internal failure.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClassifyError {
    #[error("there are no values to classify")]
    Empty,
    #[error("value number {index} is {value}, but only finite numbers can be classified")]
    NonFinite { index: usize, value: f64 },
    #[error(
        "value number {index} is {value}, larger in magnitude than the limit {MAX_ABS_VALUE:e}"
    )]
    TooLarge { index: usize, value: f64 },
    #[error("the number of classes must be at least 1")]
    NoClasses,
    #[error("{k} classes were asked for, but the values hold only {distinct} distinct numbers")]
    TooManyClasses { k: usize, distinct: usize },
    #[error("{cuts} cut lines make {} classes, but {k} classes were asked for", cuts + 1)]
    ThresholdCount { k: usize, cuts: usize },
    #[error("cut line number {index} is {value}, but cut lines must be finite numbers")]
    NonFiniteThreshold { index: usize, value: f64 },
    #[error("cut lines must be strictly ascending, but cut {index} ({value}) does not exceed the one before it ({previous})")]
    ThresholdsNotAscending {
        index: usize,
        value: f64,
        previous: f64,
    },
    #[error("the moving-median window must be at least 1")]
    ZeroWindow,
    #[error("the minimum class share must be in [0, 1), not {0}")]
    BadClassShare(f64),
    #[error("the difference-trend rule found only {found} admissible cuts for {k} classes (each class needs at least {min_size} units and tied scores cannot be split)")]
    NotEnoughCuts {
        k: usize,
        found: usize,
        min_size: usize,
    },
}

/// Cuts `values` into `k` classes by `method`.
///
/// Deterministic: the same values and parameters always give the same classes, whatever the
/// input order of equal values.
pub fn classify(values: &[f64], k: usize, method: &Method) -> Result<Classes, ClassifyError> {
    check_values(values)?;
    if k < 1 {
        return Err(ClassifyError::NoClasses);
    }
    if let Method::Thresholds { cuts } = method {
        return thresholds(values, k, cuts);
    }
    let s = sorted(values);
    let distinct = distinct_sorted(&s);
    if k > distinct {
        return Err(ClassifyError::TooManyClasses { k, distinct });
    }
    let breaks = match method {
        Method::NaturalBreaks => jenks::breaks_sorted(&s, k),
        Method::Quantile => quantile::breaks_sorted(&s, k),
        Method::Difference(p) => difference::breaks_sorted(&s, k, p)?,
        Method::Thresholds { .. } => unreachable!("handled above"),
    };
    Ok(from_breaks(values, breaks))
}

/// Assigns classes from jenkspy-style breaks: class `i` is `(b_i, b_(i+1)]`, the first closed.
fn from_breaks(values: &[f64], breaks: Vec<f64>) -> Classes {
    let k = breaks.len() - 1;
    let inner = &breaks[1..k];
    let class_of: Vec<usize> = values
        .iter()
        .map(|&v| inner.iter().filter(|&&b| v > b).count())
        .collect();
    let mut counts = vec![0; k];
    for &c in &class_of {
        counts[c] += 1;
    }
    Classes {
        breaks,
        counts,
        class_of,
    }
}

fn thresholds(values: &[f64], k: usize, cuts: &[f64]) -> Result<Classes, ClassifyError> {
    if cuts.len() + 1 != k {
        return Err(ClassifyError::ThresholdCount {
            k,
            cuts: cuts.len(),
        });
    }
    for (index, &value) in cuts.iter().enumerate() {
        if !value.is_finite() {
            return Err(ClassifyError::NonFiniteThreshold { index, value });
        }
        if index > 0 && value <= cuts[index - 1] {
            return Err(ClassifyError::ThresholdsNotAscending {
                index,
                value,
                previous: cuts[index - 1],
            });
        }
    }
    let (min, max) = min_max(values);
    let mut breaks = Vec::with_capacity(k + 1);
    breaks.push(cuts.first().map_or(min, |&c| min.min(c)));
    breaks.extend_from_slice(cuts);
    breaks.push(cuts.last().map_or(max, |&c| max.max(c)));
    let class_of: Vec<usize> = values
        .iter()
        .map(|&v| cuts.iter().filter(|&&c| v >= c).count())
        .collect();
    let mut counts = vec![0; k];
    for &c in &class_of {
        counts[c] += 1;
    }
    Ok(Classes {
        breaks,
        counts,
        class_of,
    })
}

/// The lowest value in each class (the blue book's "分数线", cut line), lowest class first;
/// `None` for an empty class.
pub fn cut_lines(values: &[f64], classes: &Classes) -> Vec<Option<f64>> {
    let mut lows: Vec<Option<f64>> = vec![None; classes.counts.len()];
    for (&v, &c) in values.iter().zip(&classes.class_of) {
        lows[c] = Some(lows[c].map_or(v, |m: f64| m.min(v)));
    }
    lows
}

/// Goodness of variance fit, `1 − SDCM / SDAM`: the share of the total sum of squared
/// deviations that the classes explain (1 = classes perfectly homogeneous). The usual quality
/// figure reported next to natural breaks; 1 when all values are equal.
pub fn gvf(values: &[f64], classes: &Classes) -> f64 {
    let k = classes.counts.len();
    let mut sums = vec![0.0; k];
    for (&v, &c) in values.iter().zip(&classes.class_of) {
        sums[c] += v;
    }
    let means: Vec<f64> = sums
        .iter()
        .zip(&classes.counts)
        .map(|(s, &n)| if n > 0 { s / n as f64 } else { 0.0 })
        .collect();
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    let sdam: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    let sdcm: f64 = values
        .iter()
        .zip(&classes.class_of)
        .map(|(v, &c)| (v - means[c]).powi(2))
        .sum();
    if sdam > 0.0 {
        1.0 - sdcm / sdam
    } else {
        1.0
    }
}

/// Rejects empty input, NaN, infinities and values too large to square safely.
fn check_values(values: &[f64]) -> Result<(), ClassifyError> {
    if values.is_empty() {
        return Err(ClassifyError::Empty);
    }
    for (index, &value) in values.iter().enumerate() {
        if !value.is_finite() {
            return Err(ClassifyError::NonFinite { index, value });
        }
        if value.abs() > MAX_ABS_VALUE {
            return Err(ClassifyError::TooLarge { index, value });
        }
    }
    Ok(())
}

/// The values sorted ascending (a total order, so the result never depends on input order).
/// `-0.0` becomes `0.0` (`x + 0.0`): they are one value, and where a sort leaves either of them
/// is arbitrary (numpy's is not even stable), so a break is never printed as "-0".
fn sorted(values: &[f64]) -> Vec<f64> {
    let mut s: Vec<f64> = values.iter().map(|&v| v + 0.0).collect();
    s.sort_unstable_by(f64::total_cmp);
    s
}

/// Number of distinct values in a non-empty sorted slice (`-0.0` and `0.0` are one value).
fn distinct_sorted(s: &[f64]) -> usize {
    1 + s.windows(2).filter(|w| w[0] != w[1]).count()
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

#[cfg(test)]
mod closure_tests {
    use super::*;

    /// The stated closure is the one the assignment uses: every value lies in its class's
    /// interval with exactly those ends included, for every method, on values that hit the
    /// breaks and cut lines exactly.
    #[test]
    fn every_value_lies_in_its_class_interval_as_stated() {
        let values: Vec<f64> = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 6.0, 8.0, 9.0, 9.0, 12.0, 13.0]
            .into_iter()
            .chain((0..40).map(|i| 20.0 + (i * i % 17) as f64))
            .collect();
        let methods = [
            Method::NaturalBreaks,
            Method::Quantile,
            Method::Difference(DifferenceParams {
                min_class_share: 0.0,
                ..DifferenceParams::default()
            }),
            Method::Thresholds {
                cuts: vec![5.0, 9.0, 25.0],
            },
        ];
        for m in &methods {
            let c = classify(&values, 4, m).unwrap();
            for (&v, &i) in values.iter().zip(&c.class_of) {
                let (lo, hi) = (c.breaks[i], c.breaks[i + 1]);
                let cl = m.closure(i, 4);
                let inside = (v > lo || (cl.lower && v == lo)) && (v < hi || (cl.upper && v == hi));
                assert!(inside, "{m:?}: {v} in class {i} {}", cl.interval(lo, hi, 2));
            }
        }
    }
}
