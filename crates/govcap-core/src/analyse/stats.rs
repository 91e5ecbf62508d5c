//! Descriptive statistics shared by the engine and the report.
//!
//! Every figure govcap publishes (a mean, a standard deviation, a quantile, a rank) is computed
//! here, once and one way, so the engine, the analyses and the report can never disagree in the
//! last digit.
//!
//! Conventions (why: a published table must never show `NaN`):
//! * Moment and quantile helpers return `None` when the slice is empty, too short for the
//!   statistic, holds a value that is not finite (`NaN`, `±inf`), or the result would overflow
//!   (values near `f64::MAX`). They never return `NaN` or `±inf`.
//! * Sums use Neumaier compensated summation, so a mean of 337 scores is correct to the last
//!   bit or two whatever the order of the units.
//! * On a constant slice the mean is that constant exactly and the standard deviations are
//!   exactly 0 (no `1e-17` residue from rounding the mean).
//! * Rank helpers only order values; they never fail. Callers drop missing values first; a `NaN`
//!   that slips through is ordered by the IEEE total order (a positive `NaN` above `+inf`), never
//!   a panic. `-0.0` and `0.0` are the same value and tie.
//! * Functions taking `values` and `groups` panic if the two slices differ in length: that is a
//!   programming error, not a data problem.

use serde::Serialize;
use std::cmp::Ordering;
use std::ops::Range;

/// Neumaier compensated sum: keeps sums of many scores exact to about one rounding.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Acc {
    sum: f64,
    comp: f64,
}

impl Acc {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    pub(crate) fn value(&self) -> f64 {
        self.sum + self.comp
    }
}

/// `Some(x)` only for a finite x: the last guard that keeps `NaN`/`inf` out of a report.
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// One pass over a slice: size, mean, min, max. `None` on empty or non-finite input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Basic {
    pub(crate) n: usize,
    pub(crate) mean: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Basic {
    pub(crate) fn of(values: &[f64]) -> Option<Basic> {
        let first = *values.first()?;
        let (mut min, mut max) = (first, first);
        let mut acc = Acc::default();
        for &x in values {
            if !x.is_finite() {
                return None;
            }
            min = min.min(x);
            max = max.max(x);
            acc.add(x);
        }
        let n = values.len();
        let mean = if min == max {
            min
        } else {
            finite(acc.value() / n as f64)
                .unwrap_or_else(|| {
                    // the sum overflowed (values near f64::MAX): average pre-divided values
                    let mut scaled = Acc::default();
                    for &x in values {
                        scaled.add(x / n as f64);
                    }
                    scaled.value()
                })
                .clamp(min, max)
        };
        Some(Basic { n, mean, min, max })
    }

    fn is_constant(&self) -> bool {
        self.min == self.max
    }
}

/// Σd², Σd³, Σd⁴ of the deviations d = x − mean, compensated.
fn central_sums(values: &[f64], mean: f64) -> (f64, f64, f64) {
    let (mut m2, mut m3, mut m4) = (Acc::default(), Acc::default(), Acc::default());
    for &x in values {
        let d = x - mean;
        let d2 = d * d;
        m2.add(d2);
        m3.add(d2 * d);
        m4.add(d2 * d2);
    }
    (m2.value(), m3.value(), m4.value())
}

/// Arithmetic mean. `None` on empty or non-finite input.
pub fn mean(values: &[f64]) -> Option<f64> {
    Basic::of(values).map(|b| b.mean)
}

/// Sample standard deviation (divisor n − 1), the figure the blue book prints as "标准差".
/// Needs n ≥ 2.
pub fn sd_sample(values: &[f64]) -> Option<f64> {
    let b = Basic::of(values)?;
    if b.n < 2 {
        return None;
    }
    if b.is_constant() {
        return Some(0.0);
    }
    let (m2, _, _) = central_sums(values, b.mean);
    finite((m2 / (b.n - 1) as f64).sqrt())
}

/// Population standard deviation (divisor n): the one inside GE(2) = ½·CV². Needs n ≥ 1.
pub fn sd_population(values: &[f64]) -> Option<f64> {
    let b = Basic::of(values)?;
    if b.is_constant() {
        return Some(0.0);
    }
    let (m2, _, _) = central_sums(values, b.mean);
    finite((m2 / b.n as f64).sqrt())
}

/// Smallest and largest value, as `(min, max)`.
pub fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    Basic::of(values).map(|b| (b.min, b.max))
}

/// Median: the middle value, or the mean of the two middle values when n is even
/// (same as numpy `median` and R `median`). O(n) selection on a copy.
pub fn median(values: &[f64]) -> Option<f64> {
    let b = Basic::of(values)?;
    if b.is_constant() {
        return Some(b.min);
    }
    let mut v = values.to_vec();
    let mid = b.n / 2;
    let (left, &mut upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    if b.n % 2 == 1 {
        return Some(upper);
    }
    let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // halves first: same rounding as (a + b)/2 for normal numbers, but cannot overflow
    Some(0.5 * lower + 0.5 * upper)
}

/// Quantile by R's type 7 (numpy's default "linear"): with h = 1 + (n − 1)·p and
/// lo = ⌊h⌋, the result is (1 − (h − lo))·x₍lo₎ + (h − lo)·x₍lo+1₎ on the sorted values
/// (1-based). The arithmetic follows R's `quantile.default` step by step so COINr's rank
/// statistics (Q5/Q95) are reproduced bit for bit. `None` if p is outside [0, 1].
pub fn quantile_type7(values: &[f64], p: f64) -> Option<f64> {
    if !(0.0..=1.0).contains(&p) {
        return None;
    }
    let b = Basic::of(values)?;
    if b.is_constant() {
        return Some(b.min);
    }
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let index = 1.0 + (b.n - 1) as f64 * p;
    let lo = index.floor();
    let hi = index.ceil();
    let x_lo = v[lo as usize - 1];
    let x_hi = v[hi as usize - 1];
    if index > lo && x_hi != x_lo {
        let h = index - lo;
        finite((1.0 - h) * x_lo + h * x_hi)
    } else {
        Some(x_lo)
    }
}

/// Sample skewness, e1071 type 2 (what COINr's outlier treatment tests against |skew| < 2):
/// g1·√(n(n−1))/(n−2) with g1 = √n·Σd³/(Σd²)^1.5. Equals scipy `skew(x, bias=False)`.
/// Needs n ≥ 3 and values that are not all equal (otherwise 0/0).
pub fn skewness_type2(values: &[f64]) -> Option<f64> {
    let b = Basic::of(values)?;
    if b.n < 3 || b.is_constant() {
        return None;
    }
    let n = b.n as f64;
    let (m2, m3, _) = central_sums(values, b.mean);
    let g1 = n.sqrt() * m3 / m2.powf(1.5);
    finite(g1 * (n * (n - 1.0)).sqrt() / (n - 2.0))
}

/// Sample excess kurtosis, e1071 type 2 (COINr's kurt < 3.5 test):
/// ((n+1)(r−3)+6)(n−1)/((n−2)(n−3)) with r = n·Σd⁴/(Σd²)². Equals scipy
/// `kurtosis(x, fisher=True, bias=False)`. Needs n ≥ 4 and values that are not all equal.
pub fn kurtosis_type2(values: &[f64]) -> Option<f64> {
    let b = Basic::of(values)?;
    if b.n < 4 || b.is_constant() {
        return None;
    }
    let n = b.n as f64;
    let (m2, _, m4) = central_sums(values, b.mean);
    let r = n * m4 / (m2 * m2);
    finite(((n + 1.0) * (r - 3.0) + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)))
}

/// Sort key: `-0.0` and `0.0` must tie, everything else by IEEE total order.
fn key(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x
    }
}

fn same(a: f64, b: f64) -> bool {
    key(a).total_cmp(&key(b)) == Ordering::Equal
}

/// Competition ranks ("min" ties) of the units listed in `order`, already sorted descending.
fn assign_competition(values: &[f64], order: &[usize], ranks: &mut [usize]) {
    for (pos, &i) in order.iter().enumerate() {
        ranks[i] = if pos > 0 && same(values[order[pos - 1]], values[i]) {
            ranks[order[pos - 1]]
        } else {
            pos + 1
        };
    }
}

/// Rank 1 = highest value; tied units share the smallest rank of their block and the next
/// rank is skipped (1, 2, 2, 4), like R `rank(-x, ties = "min")`: the way the blue book and
/// the UN EGDI number their tables.
pub fn rank_competition_desc(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| key(values[j]).total_cmp(&key(values[i])));
    let mut ranks = vec![0; values.len()];
    assign_competition(values, &order, &mut ranks);
    ranks
}

/// Indices sorted by group label (stable, so each group keeps the original order) and the
/// range of `order` each group occupies, groups in ascending label order.
pub(crate) fn group_runs<G: AsRef<str>>(groups: &[G]) -> (Vec<usize>, Vec<Range<usize>>) {
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&i, &j| groups[i].as_ref().cmp(groups[j].as_ref()));
    let mut runs = Vec::new();
    let mut start = 0;
    for pos in 1..=order.len() {
        if pos == order.len() || groups[order[pos]].as_ref() != groups[order[start]].as_ref() {
            runs.push(start..pos);
            start = pos;
        }
    }
    (order, runs)
}

/// Competition ranks (1 = highest, ties "min") computed separately inside each group: a
/// unit's rank within its province.
///
/// # Panics
/// If `values` and `groups` differ in length.
pub fn rank_within_groups<G: AsRef<str>>(values: &[f64], groups: &[G]) -> Vec<usize> {
    assert_eq!(values.len(), groups.len(), "one group label per value");
    let (mut order, runs) = group_runs(groups);
    let mut ranks = vec![0; values.len()];
    for run in runs {
        let slice = &mut order[run];
        slice.sort_by(|&i, &j| key(values[j]).total_cmp(&key(values[i])));
        assign_competition(values, slice, &mut ranks);
    }
    ranks
}

/// Percentile rank of every unit in 0..=1: the share of the *other* n − 1 units that score
/// strictly lower, with each tied other unit counted as half:
///
/// p_i = (#{j ≠ i : x_j < x_i} + ½·#{j ≠ i : x_j = x_i}) / (n − 1)
///
/// Equivalently (average ascending rank − 1)/(n − 1), i.e. scipy
/// `(rankdata(x, "average") - 1) / (n - 1)`. The lowest unit gets 0, the highest 1, and units
/// that tie get the same figure. `None` when n < 2 (no other units to compare with).
pub fn percentile_rank(values: &[f64]) -> Option<Vec<f64>> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| key(values[i]).total_cmp(&key(values[j])));
    let mut out = vec![0.0; n];
    let denom = 2.0 * (n - 1) as f64;
    let mut start = 0;
    for pos in 1..=n {
        if pos == n || !same(values[order[pos]], values[order[start]]) {
            // positions start..pos (0-based) tie: strictly lower = start, other ties = pos-start-1
            let p = (start + pos - 1) as f64 / denom;
            for &i in &order[start..pos] {
                out[i] = p;
            }
            start = pos;
        }
    }
    Some(out)
}

/// Share (0..=1) of values strictly greater than `threshold`, e.g. the share of units whose
/// score rate is above 60 %. `None` on an empty slice or if any value or the threshold is NaN.
pub fn share_above(values: &[f64], threshold: f64) -> Option<f64> {
    if values.is_empty() || threshold.is_nan() || values.iter().any(|x| x.is_nan()) {
        return None;
    }
    let above = values.iter().filter(|&&x| x > threshold).count();
    Some(above as f64 / values.len() as f64)
}

/// Size, mean, spread and range of one group (a province, a region, a tier).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSummary {
    pub group: String,
    pub n: usize,
    pub mean: f64,
    /// `None` for a group of one unit (a spread needs two).
    pub sd_sample: Option<f64>,
    pub min: f64,
    pub max: f64,
}

/// One [`GroupSummary`] per distinct group label, sorted by label so the output is the same
/// on every run. `None` if any value is not finite (a summary would otherwise carry NaN).
///
/// # Panics
/// If `values` and `groups` differ in length.
pub fn group_summaries<G: AsRef<str>>(values: &[f64], groups: &[G]) -> Option<Vec<GroupSummary>> {
    assert_eq!(values.len(), groups.len(), "one group label per value");
    if values.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let (order, runs) = group_runs(groups);
    let mut scratch = Vec::new();
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        scratch.clear();
        scratch.extend(order[run.clone()].iter().map(|&i| values[i]));
        let b = Basic::of(&scratch)?;
        out.push(GroupSummary {
            group: groups[order[run.start]].as_ref().to_owned(),
            n: b.n,
            mean: b.mean,
            sd_sample: sd_sample(&scratch),
            min: b.min,
            max: b.max,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    macro_rules! assert_close {
        ($a:expr, $b:expr) => {
            assert_close!($a, $b, 1e-12)
        };
        ($a:expr, $b:expr, $tol:expr) => {{
            let (a, b): (f64, f64) = ($a, $b);
            assert!(
                close(a, b, $tol),
                "{} = {a:e}, expected {b:e}",
                stringify!($a)
            );
        }};
    }

    // Small sample used by the hand computations: x = [1, 2, 3, 6], mean 3,
    // deviations d = -2, -1, 0, 3; Σd² = 4+1+0+9 = 14, Σd³ = -8-1+0+27 = 18,
    // Σd⁴ = 16+1+0+81 = 98.
    const X: [f64; 4] = [6.0, 1.0, 3.0, 2.0];

    #[test]
    fn moments_by_hand() {
        assert_eq!(mean(&X), Some(3.0));
        // sd_sample = sqrt(14/3), sd_population = sqrt(14/4)
        assert_close!(sd_sample(&X).unwrap(), (14.0f64 / 3.0).sqrt());
        assert_close!(sd_population(&X).unwrap(), 3.5f64.sqrt());
        assert_eq!(min_max(&X), Some((1.0, 6.0)));
        // skew: g1 = √4·18/14^1.5; skew = g1·√(4·3)/2 = (9/7)·√(6/7)
        assert_close!(
            skewness_type2(&X).unwrap(),
            9.0 / 7.0 * (6.0f64 / 7.0).sqrt()
        );
        // kurt: r = 4·98/14² = 2; ((5)(2−3)+6)(3)/((2)(1)) = 1·3/2 = 1.5
        assert_close!(kurtosis_type2(&X).unwrap(), 1.5);
    }

    #[test]
    fn median_and_quantiles_by_hand() {
        assert_eq!(median(&X), Some(2.5)); // (2 + 3)/2
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[7.0]), Some(7.0));
        // p = 0.25: h = 1 + 3·0.25 = 1.75, lo = 1 → 0.25·x(1) + 0.75·x(2) = 0.25 + 1.5
        assert_close!(quantile_type7(&X, 0.25).unwrap(), 1.75);
        // p = 0.9: h = 1 + 2.7 = 3.7, lo = 3 → 0.3·3 + 0.7·6 = 5.1
        assert_close!(quantile_type7(&X, 0.9).unwrap(), 5.1);
        assert_eq!(quantile_type7(&X, 0.0), Some(1.0));
        assert_eq!(quantile_type7(&X, 1.0), Some(6.0));
        assert_eq!(quantile_type7(&X, 0.5), Some(2.5));
        assert_eq!(quantile_type7(&X, 1.5), None);
        assert_eq!(quantile_type7(&X, f64::NAN), None);
    }

    #[test]
    fn too_short_empty_or_non_finite_gives_none() {
        let empty: [f64; 0] = [];
        assert_eq!(mean(&empty), None);
        assert_eq!(median(&empty), None);
        assert_eq!(min_max(&empty), None);
        assert_eq!(quantile_type7(&empty, 0.5), None);
        assert_eq!(sd_population(&empty), None);
        assert_eq!(sd_sample(&[1.0]), None);
        assert_eq!(sd_population(&[1.0]), Some(0.0));
        assert_eq!(skewness_type2(&[1.0, 2.0]), None);
        assert_eq!(kurtosis_type2(&[1.0, 2.0, 4.0]), None);
        let bad = [1.0, f64::NAN, 3.0];
        assert_eq!(mean(&bad), None);
        assert_eq!(sd_sample(&bad), None);
        assert_eq!(median(&bad), None);
        assert_eq!(mean(&[1.0, f64::INFINITY]), None);
        // near f64::MAX: the mean survives an overflowing sum, the variance cannot
        assert_eq!(mean(&[f64::MAX, f64::MAX, 0.0]), Some(f64::MAX / 3.0 * 2.0));
        assert_eq!(sd_sample(&[f64::MAX, -f64::MAX]), None);
        assert_eq!(median(&[f64::MAX, f64::MAX * 0.75]), Some(f64::MAX * 0.875));
        assert_eq!(share_above(&[], 1.0), None);
        assert_eq!(share_above(&bad, 1.0), None);
    }

    #[test]
    fn constant_values_are_exact() {
        let c = [0.1; 7];
        assert_eq!(mean(&c), Some(0.1));
        assert_eq!(sd_sample(&c), Some(0.0));
        assert_eq!(sd_population(&c), Some(0.0));
        assert_eq!(median(&c), Some(0.1));
        assert_eq!(quantile_type7(&c, 0.33), Some(0.1));
        // 0/0: undefined rather than NaN
        assert_eq!(skewness_type2(&c), None);
        assert_eq!(kurtosis_type2(&c), None);
    }

    #[test]
    fn compensated_mean_is_exact_where_naive_sum_drifts() {
        // Naive left-to-right: 1e16 + 1 + 1 - 1e16 = 0 (each +1 is lost), Neumaier keeps it.
        assert_eq!(mean(&[1e16, 1.0, 1.0, -1e16]), Some(0.5));
    }

    #[test]
    fn ranks_min_ties() {
        assert_eq!(
            rank_competition_desc(&[5.0, 7.0, 7.0, 1.0]),
            vec![3, 1, 1, 4]
        );
        assert_eq!(
            rank_competition_desc(&[10.0, 20.0, 20.0, 30.0, 5.0]),
            vec![4, 2, 2, 1, 5]
        );
        assert_eq!(rank_competition_desc(&[0.0, -0.0, 1.0]), vec![2, 2, 1]);
        assert_eq!(rank_competition_desc(&[]), Vec::<usize>::new());
        // a NaN is ordered, not a panic
        assert_eq!(rank_competition_desc(&[1.0, f64::NAN, 2.0]).len(), 3);
    }

    #[test]
    fn ranks_within_groups() {
        let v = [90.0, 80.0, 85.0, 80.0, 70.0, 95.0];
        let g = ["粤", "苏", "粤", "苏", "粤", "苏"];
        // 粤: 90, 85, 70 → 1, 2, 3; 苏: 80, 80, 95 → 2, 2, 1
        assert_eq!(rank_within_groups(&v, &g), vec![1, 2, 2, 2, 3, 1]);
        let owned: Vec<String> = g.iter().map(|s| s.to_string()).collect();
        assert_eq!(rank_within_groups(&v, &owned), vec![1, 2, 2, 2, 3, 1]);
    }

    #[test]
    #[should_panic(expected = "one group label per value")]
    fn ranks_within_groups_length_mismatch_panics() {
        rank_within_groups(&[1.0, 2.0], &["a"]);
    }

    #[test]
    fn percentile_rank_by_hand() {
        // 10: 0 of 3 others below → 0; 20 (twice): 1 below + ½ tie = 1.5 of 3 → 0.5; 30: 3/3 → 1
        assert_eq!(
            percentile_rank(&[20.0, 10.0, 30.0, 20.0]),
            Some(vec![0.5, 0.0, 1.0, 0.5])
        );
        assert_eq!(percentile_rank(&[4.0, 4.0]), Some(vec![0.5, 0.5]));
        assert_eq!(percentile_rank(&[4.0]), None);
    }

    #[test]
    fn share_above_is_strict() {
        let v = [60.0, 59.9, 60.1, 75.0];
        assert_eq!(share_above(&v, 60.0), Some(0.5));
        assert_eq!(share_above(&v, 100.0), Some(0.0));
    }

    #[test]
    fn group_summaries_sorted_by_label() {
        let v = [3.0, 10.0, 5.0, 4.0];
        let g = ["west", "east", "west", "central"];
        let s = group_summaries(&v, &g).unwrap();
        let names: Vec<&str> = s.iter().map(|x| x.group.as_str()).collect();
        assert_eq!(names, ["central", "east", "west"]);
        assert_eq!(s[0].sd_sample, None);
        assert_eq!((s[2].n, s[2].mean, s[2].min, s[2].max), (2, 4.0, 3.0, 5.0));
        // west: [3, 5], mean 4, Σd² = 2, sd = √(2/1)
        assert_close!(s[2].sd_sample.unwrap(), 2f64.sqrt());
        assert_eq!(group_summaries(&[1.0, f64::NAN], &["a", "b"]), None);
        assert_eq!(group_summaries::<&str>(&[], &[]), Some(vec![]));
    }

    // Oracle: numpy 2.4.6 / scipy 1.17.1 (`import numpy as np, scipy.stats as st`) on
    // x = np.array([71.5, 63.25, 88.0, 54.75, 63.25, 92.5, 47.0, 80.125, 66.0, 71.5, 59.875, 83.0])
    const Y: [f64; 12] = [
        71.5, 63.25, 88.0, 54.75, 63.25, 92.5, 47.0, 80.125, 66.0, 71.5, 59.875, 83.0,
    ];

    #[test]
    fn cross_check_numpy_scipy() {
        // np.mean(x)
        assert_close!(mean(&Y).unwrap(), 70.0625, 1e-15);
        // np.std(x, ddof=1)
        assert_close!(sd_sample(&Y).unwrap(), 13.742508289643093, 1e-14);
        // np.std(x)
        assert_close!(sd_population(&Y).unwrap(), 13.157449965070485, 1e-14);
        // np.median(x)
        assert_close!(median(&Y).unwrap(), 68.75, 1e-15);
        // np.quantile(x, [0.05, 0.95])
        assert_close!(quantile_type7(&Y, 0.05).unwrap(), 51.2625, 1e-14);
        assert_close!(quantile_type7(&Y, 0.95).unwrap(), 90.02499999999999, 1e-14);
        // scipy.stats.skew(x, bias=False)
        assert_close!(skewness_type2(&Y).unwrap(), 0.11114300745253335, 1e-12);
        // scipy.stats.kurtosis(x, fisher=True, bias=False)
        assert_close!(kurtosis_type2(&Y).unwrap(), -0.7265532221983215, 1e-12);
        // scipy.stats.rankdata(-x, method="min")
        assert_eq!(
            rank_competition_desc(&Y),
            vec![5, 8, 2, 11, 8, 1, 12, 4, 7, 5, 10, 3]
        );
        // (scipy.stats.rankdata(x, method="average") - 1) / (len(x) - 1)
        let p = percentile_rank(&Y).unwrap();
        let expected = [
            0.5909090909090909,
            0.3181818181818182,
            0.9090909090909091,
            0.09090909090909091,
            0.3181818181818182,
            1.0,
            0.0,
            0.7272727272727273,
            0.45454545454545453,
            0.5909090909090909,
            0.18181818181818182,
            0.8181818181818182,
        ];
        for (a, b) in p.iter().zip(expected) {
            assert_close!(*a, b, 1e-15);
        }
    }
}
