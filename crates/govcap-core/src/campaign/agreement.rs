//! Inter-rater agreement on the campaign's double-coding sample.
//!
//! A share of the (unit, indicator) tasks is coded independently by two evaluators so that the
//! report can say how far the coding is reproducible, indicator by indicator. The statistics
//! are the ones a reader can recompute with standard tools, so each one follows a named
//! reference implementation exactly, including where it declares the value undefined:
//!
//! * [`cohen_kappa`] and [`weighted_cohen_kappa`] — binary and graded (ordinal) indicators,
//!   as scikit-learn's `cohen_kappa_score(y1, y2, weights=None | "linear" | "quadratic")`;
//! * [`krippendorff_alpha_interval`] — continuous indicators (ratios, counts, amounts), as the
//!   `krippendorff` package's `alpha(data, level_of_measurement="interval")`;
//! * [`krippendorff_alpha_nominal`] — the same coefficient on categories; it is a cross-check
//!   of kappa that also tolerates missing codings and more than two coders.
//!
//! # Undefined values
//!
//! Both coefficients divide by the disagreement expected by chance. When every coding in the
//! sample is the same value that expectation is zero and the coefficient is 0/0: the raters
//! agree perfectly, but the data cannot show that the agreement is better than chance. The
//! reference tools answer NaN: scikit-learn 1.x returns `nan` with a warning (up to 1.8 from
//! the 0/0 division itself, from 1.9 as the default of `replace_undefined_by`); `krippendorff`
//! raises when the whole matrix holds one value, and returns `nan` when only the pairable
//! values do.
//! Here that case is `Some` with a NaN coefficient, so the counts and the observed agreement
//! (which are meaningful: "100 % agreement, one category only") can still be reported; the
//! report has to print it as "undefined", never as 0 or 1. `None` is kept for "no data at
//! all": no pair for kappa, no unit coded twice for alpha.
//!
//! Serialising a NaN coefficient with `serde_json` gives `null`, which is the intended reading.
//!
//! # Exactness
//!
//! Kappa is computed from integer counts (disagreement sums in `u128`), so the only rounding is
//! in the final division: the result is at least as accurate as scikit-learn's floating-point
//! sum over the confusion matrix. That needs fewer than 2³² pairs, far beyond any sample.
//! Alpha's sums of squares are taken around the mean (with the corrected two-pass formula and
//! compensated summation), so large values such as budgets in yuan do not lose the digits
//! that carry the disagreement.

use std::collections::BTreeMap;

use serde::Serialize;

/// Cohen's kappa for one indicator, with the two proportions it is made of.
///
/// The proportions are kept because a kappa alone hides the prevalence problem: with a very
/// skewed indicator (nearly every unit "yes") kappa can be low while the raters agree on
/// almost every task, and the report has to show both.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Kappa {
    /// `(p_o − p_e) / (1 − p_e)`; NaN when `p_e = 1` (see the module docs).
    pub kappa: f64,
    /// Share of pairs on which the raters agree. For a weighted kappa, the mean agreement
    /// weight `1 − w/w_max` (Cohen 1968), so that the kappa formula above still holds.
    pub observed_agreement: f64,
    /// Agreement expected from the two raters' marginal distributions alone, weighted as
    /// `observed_agreement` is.
    pub expected_agreement: f64,
    /// Number of double-coded pairs.
    pub n: usize,
}

/// Disagreement weights of a weighted kappa, scikit-learn's `weights="linear" | "quadratic"`.
///
/// Categories are ranked by their `Ord` among the categories that occur in the sample, and a
/// disagreement between ranks `i` and `j` weighs `|i − j|` or `(i − j)²`. Ranks, not values:
/// a level of the scale that neither rater used does not widen the gap between its
/// neighbours, exactly as in scikit-learn without `labels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Weights {
    /// Each step between adjacent levels costs the same.
    Linear,
    /// Disagreements cost the square of their distance; this is the kappa that equals the
    /// intraclass correlation for large samples (Fleiss & Cohen 1973).
    Quadratic,
}

/// Krippendorff's alpha for one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Alpha {
    /// `1 − D_o / D_e`; NaN when all pairable values are equal (see the module docs).
    pub alpha: f64,
    /// Units with at least two values; the others carry no information on agreement.
    pub pairable_units: usize,
    /// Values in the pairable units (Krippendorff's `n..`).
    pub values: usize,
}

/// Unweighted Cohen's kappa of two raters, as scikit-learn's `cohen_kappa_score(y1, y2)`.
///
/// Each pair is `(first rater's category, second rater's category)` for one task; the label
/// set is the union of both raters' categories. `None` when there is no pair (scikit-learn
/// raises there).
///
/// Only `Ord` is required (not `Hash`): the categories are counted in a `BTreeMap`, which also
/// gives the deterministic rank order that [`weighted_cohen_kappa`] needs.
pub fn cohen_kappa<C: Ord>(pairs: &[(C, C)]) -> Option<Kappa> {
    kappa(pairs, None)
}

/// Weighted Cohen's kappa for graded levels, as scikit-learn's
/// `cohen_kappa_score(y1, y2, weights="linear" | "quadratic")`.
///
/// The category type's `Ord` must be the order of the levels: pass a level's rank or score,
/// not its label ("high" < "low" as strings).
pub fn weighted_cohen_kappa<C: Ord>(pairs: &[(C, C)], weights: Weights) -> Option<Kappa> {
    kappa(pairs, Some(weights))
}

/// How often each category was used by each rater, and its rank among all categories.
#[derive(Default)]
struct Margins {
    first: u128,
    second: u128,
    rank: u128,
}

fn kappa<C: Ord>(pairs: &[(C, C)], weights: Option<Weights>) -> Option<Kappa> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as u128;
    let mut margins: BTreeMap<&C, Margins> = BTreeMap::new();
    for (a, b) in pairs {
        margins.entry(a).or_default().first += 1;
        margins.entry(b).or_default().second += 1;
    }
    for (rank, m) in margins.values_mut().enumerate() {
        m.rank = rank as u128;
    }
    let weight = |i: u128, j: u128| -> u128 {
        let d = i.abs_diff(j);
        match weights {
            None => u128::from(d != 0),
            Some(Weights::Linear) => d,
            Some(Weights::Quadratic) => d * d,
        }
    };

    // Observed disagreement, Σ w(i, j) over the pairs.
    let observed: u128 = match weights {
        None => pairs.iter().filter(|(a, b)| a != b).count() as u128,
        Some(_) => pairs
            .iter()
            .map(|(a, b)| weight(margins[a].rank, margins[b].rank))
            .sum(),
    };

    // Chance disagreement times n, Σ_ij w(i, j)·r_i·c_j, in O(categories) rather than over the
    // full matrix: the unweighted sum is n² − Σ r_i·c_i, the quadratic one expands the square,
    // and the linear one walks the ranks with running totals of the second rater's margins.
    let expected: u128 = match weights {
        None => n * n - margins.values().map(|m| m.first * m.second).sum::<u128>(),
        Some(Weights::Quadratic) => {
            let (mut r1, mut r2, mut c1, mut c2) = (0u128, 0u128, 0u128, 0u128);
            for m in margins.values() {
                r1 += m.first * m.rank;
                r2 += m.first * m.rank * m.rank;
                c1 += m.second * m.rank;
                c2 += m.second * m.rank * m.rank;
            }
            // Σ r_i c_j (i − j)² = n·Σ r_i i² + n·Σ c_j j² − 2·(Σ r_i i)(Σ c_j j), never negative.
            n * r2 + n * c2 - 2 * r1 * c1
        }
        Some(Weights::Linear) => {
            // For rank i: Σ_{j<i} (i − j) c_j + Σ_{j>i} (j − i) c_j, from running totals of
            // c_j and j·c_j below i and the grand totals.
            let total_c: u128 = n;
            let total_jc: u128 = margins.values().map(|m| m.second * m.rank).sum();
            let (mut below_c, mut below_jc) = (0u128, 0u128);
            let mut sum = 0u128;
            for m in margins.values() {
                let i = m.rank;
                let above_c = total_c - below_c - m.second;
                let above_jc = total_jc - below_jc - m.second * i;
                let row = (i * below_c - below_jc) + (above_jc - i * above_c);
                sum += m.first * row;
                below_c += m.second;
                below_jc += m.second * i;
            }
            sum
        }
    };

    let top = (margins.len() as u128).saturating_sub(1);
    let w_max = weight(0, top) as f64;
    let nf = n as f64;
    let (q_o, q_e) = (observed as f64 / nf, expected as f64 / (nf * nf));
    let (observed_agreement, expected_agreement) = if w_max == 0.0 {
        // One category only: every pair agrees, and so would any chance pairing.
        (1.0, 1.0)
    } else {
        (1.0 - q_o / w_max, 1.0 - q_e / w_max)
    };
    let kappa = if expected == 0 {
        f64::NAN
    } else {
        // 1 − n·D_o / (n·D_e·n / n): both sides integral, so a single rounded division.
        1.0 - (n * observed) as f64 / expected as f64
    };
    Some(Kappa {
        kappa,
        observed_agreement,
        expected_agreement,
        n: pairs.len(),
    })
}

/// Krippendorff's alpha with the interval metric `(a − b)²`, as the `krippendorff` package's
/// `alpha(reliability_data, level_of_measurement="interval")`.
///
/// `units[u][c]` is coder `c`'s value for unit `u`, `None` when that coder did not code it.
/// This is the transpose of the package's `reliability_data`, which is coders × units: here a
/// row is what the campaign stores for one task. Rows may differ in length. A `Some(NaN)` is
/// taken as missing, as the package does with `nan`. Units with fewer than two values cannot
/// be paired and are left out; `None` when no unit has two values (the package raises).
pub fn krippendorff_alpha_interval(units: &[Vec<Option<f64>>]) -> Option<Alpha> {
    // First pass: which units are pairable, and the grand mean of their values.
    let (mut pairable_units, mut values) = (0usize, 0usize);
    let mut total = Sum::default();
    for row in units {
        let m = present(row).count();
        if m >= 2 {
            pairable_units += 1;
            values += m;
            present(row).for_each(|x| total.add(x));
        }
    }
    if pairable_units == 0 {
        return None;
    }
    let n = values as f64;
    let grand_mean = total.value() / n;

    // Second pass: D_o ∝ Σ_u m_u·SS_u/(m_u − 1) and D_e ∝ n·SS/(n − 1), where SS_u and SS are
    // the sums of squares around the unit's and the grand mean. These are the package's sums
    // of (a − b)² over all ordered pairs, divided by 2, which is what makes them O(n).
    let (mut within, mut ss, mut drift) = (Sum::default(), Sum::default(), Sum::default());
    for row in units {
        let m = present(row).count();
        if m < 2 {
            continue;
        }
        let mut s = Sum::default();
        present(row).for_each(|x| s.add(x));
        let mean = s.value() / m as f64;
        let (mut ss_u, mut drift_u) = (Sum::default(), Sum::default());
        for x in present(row) {
            ss_u.add((x - mean) * (x - mean));
            drift_u.add(x - mean);
            ss.add((x - grand_mean) * (x - grand_mean));
            drift.add(x - grand_mean);
        }
        let mf = m as f64;
        let ss_u = corrected(ss_u.value(), drift_u.value(), mf);
        within.add(mf * ss_u / (mf - 1.0));
    }
    let ss = corrected(ss.value(), drift.value(), n);
    let alpha = if ss == 0.0 {
        f64::NAN
    } else {
        1.0 - (n - 1.0) * within.value() / (n * ss)
    };
    Some(Alpha {
        alpha,
        pairable_units,
        values,
    })
}

/// Krippendorff's alpha with the nominal metric, as the `krippendorff` package's
/// `alpha(reliability_data, level_of_measurement="nominal")`.
///
/// Same layout and rules as [`krippendorff_alpha_interval`] (units × coders, `None` missing).
/// With two coders and no missing value it is close to, but not equal to, Scott's pi: alpha
/// corrects the chance term for sampling without replacement (`n − 1` instead of `n`).
pub fn krippendorff_alpha_nominal<C: Ord>(units: &[Vec<Option<C>>]) -> Option<Alpha> {
    let (mut pairable_units, mut values) = (0usize, 0usize);
    let mut totals: BTreeMap<&C, u128> = BTreeMap::new();
    // One buffer for all units: a unit's values are sorted so equal ones form runs.
    let mut buf: Vec<&C> = Vec::new();
    let mut within = Sum::default();
    for row in units {
        buf.clear();
        buf.extend(row.iter().flatten());
        let m = buf.len();
        if m < 2 {
            continue;
        }
        pairable_units += 1;
        values += m;
        buf.sort_unstable();
        // Ordered pairs of different values in the unit: m² − Σ_c n_uc².
        let mut same = 0u128;
        for run in buf.chunk_by(|a, b| a == b) {
            let k = run.len() as u128;
            same += k * k;
            *totals.entry(run[0]).or_default() += k;
        }
        let m = m as u128;
        within.add((m * m - same) as f64 / (m - 1) as f64);
    }
    if pairable_units == 0 {
        return None;
    }
    let n = values as u128;
    let expected = n * n - totals.values().map(|k| k * k).sum::<u128>();
    let alpha = if expected == 0 {
        f64::NAN
    } else {
        1.0 - (n - 1) as f64 * within.value() / expected as f64
    };
    Some(Alpha {
        alpha,
        pairable_units,
        values,
    })
}

/// The values a coder gave to one unit; NaN counts as missing, as in the package.
fn present(row: &[Option<f64>]) -> impl Iterator<Item = f64> + '_ {
    row.iter().flatten().copied().filter(|x| !x.is_nan())
}

/// Sum of squares around an inexact mean, corrected by the drift `Σ(x − mean)` (the corrected
/// two-pass formula of Chan, Golub & LeVeque 1983); never negative.
fn corrected(ss: f64, drift: f64, n: f64) -> f64 {
    (ss - drift * drift / n).max(0.0)
}

/// Neumaier's compensated sum, so that a campaign's thousands of units add up to the same
/// digits however they are ordered, within an ulp or two.
#[derive(Default, Clone, Copy)]
struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    /// Expands a 2-rater contingency table into pairs `(row, column)`.
    fn from_table(table: &[&[usize]]) -> Vec<(usize, usize)> {
        let mut pairs = Vec::new();
        for (i, row) in table.iter().enumerate() {
            for (j, &count) in row.iter().enumerate() {
                pairs.extend(std::iter::repeat_n((i, j), count));
            }
        }
        pairs
    }

    /// Cohen (1960), "A coefficient of agreement for nominal scales", worked example: two
    /// judges, 200 cases, three categories, cell proportions .44 .07 .09 / .05 .20 .05 /
    /// .01 .03 .06; p_o = .70, p_c = .41, κ = .29/.59 = .492.
    #[test]
    fn cohen_1960_example() {
        let pairs = from_table(&[&[88, 14, 18], &[10, 40, 10], &[2, 6, 12]]);
        let k = cohen_kappa(&pairs).unwrap();
        assert_eq!(k.n, 200);
        assert!(close(k.observed_agreement, 0.70));
        assert!(close(k.expected_agreement, 0.41));
        assert!(close(k.kappa, 0.29 / 0.59));
    }

    /// scikit-learn's own docstring example: `cohen_kappa_score(y1, y2)` is 0.6875.
    #[test]
    fn sklearn_docstring_example() {
        let y1 = ["negative", "positive", "negative", "neutral", "positive"];
        let y2 = ["negative", "positive", "negative", "neutral", "negative"];
        let pairs: Vec<_> = y1.iter().zip(y2).map(|(a, b)| (*a, b)).collect();
        assert_eq!(cohen_kappa(&pairs).unwrap().kappa, 0.6875);
    }

    /// By hand: the 2×2 table [[40, 9], [6, 45]] has margins (49, 51) and (46, 54), so
    /// p_o = .85, p_e = .49·.46 + .51·.54 = .5008 and κ = .3492/.4992.
    #[test]
    fn two_by_two_by_hand() {
        let pairs = from_table(&[&[40, 9], &[6, 45]]);
        let k = cohen_kappa(&pairs).unwrap();
        assert!(close(k.observed_agreement, 0.85));
        assert!(close(k.expected_agreement, 0.5008));
        assert!(close(k.kappa, 0.3492 / 0.4992));
        // Weights on two categories are all 0 or 1: every kappa is the same one.
        for w in [Weights::Linear, Weights::Quadratic] {
            assert!(close(
                weighted_cohen_kappa(&pairs, w).unwrap().kappa,
                k.kappa
            ));
        }
    }

    /// By hand: the 3×3 table [[2, 1, 0], [0, 1, 1], [1, 0, 2]], n = 8, margins r = c =
    /// (3, 2, 3). Linear: Σ w·O = 1 + 1 + 2 = 4 and Σ w·r_i·c_j = 6 + 18 + 6 + 6 + 18 + 6 = 60,
    /// so κ = 1 − 8·4/60 = 7/15. Quadratic: Σ w·O = 1 + 1 + 4 = 6 and Σ w·r_i·c_j = 96, so
    /// κ = 1 − 8·6/96 = 1/2.
    #[test]
    fn weighted_by_hand() {
        let pairs = from_table(&[&[2, 1, 0], &[0, 1, 1], &[1, 0, 2]]);
        let lin = weighted_cohen_kappa(&pairs, Weights::Linear).unwrap();
        assert!(close(lin.kappa, 7.0 / 15.0));
        // Agreement weights 1 − |i − j|/2: p_o = 1 − (4/8)/2.
        assert!(close(lin.observed_agreement, 0.75));
        let quad = weighted_cohen_kappa(&pairs, Weights::Quadratic).unwrap();
        assert!(close(quad.kappa, 0.5));
    }

    #[test]
    fn degenerate_kappa_is_nan_not_none() {
        assert_eq!(cohen_kappa::<u8>(&[]), None);
        let k = cohen_kappa(&[(1, 1), (1, 1)]).unwrap();
        assert!(k.kappa.is_nan());
        assert_eq!(
            (k.observed_agreement, k.expected_agreement, k.n),
            (1.0, 1.0, 2)
        );
        let k = weighted_cohen_kappa(&[(3, 3)], Weights::Quadratic).unwrap();
        assert!(k.kappa.is_nan());
        // One pair that disagrees: p_o = 0 = p_e, so κ = 0 (scikit-learn agrees).
        assert_eq!(cohen_kappa(&[(0, 1)]).unwrap().kappa, 0.0);
    }

    /// Coders × units, NaN for missing, turned into this module's units × coders.
    fn transpose(coders: &[&[f64]]) -> Vec<Vec<Option<f64>>> {
        (0..coders[0].len())
            .map(|u| {
                coders
                    .iter()
                    .map(|c| Some(c[u]).filter(|x| !x.is_nan()))
                    .collect()
            })
            .collect()
    }

    fn to_int(units: &[Vec<Option<f64>>]) -> Vec<Vec<Option<i64>>> {
        units
            .iter()
            .map(|r| r.iter().map(|x| x.map(|x| x as i64)).collect())
            .collect()
    }

    /// Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), the 4 coders × 12
    /// units example with missing values: nominal α = .743, interval α = .849 (the
    /// `krippendorff` package's docstring also gives nominal 0.743 for it).
    #[test]
    fn krippendorff_2011_example() {
        const X: f64 = f64::NAN;
        let units = transpose(&[
            &[1., 2., 3., 3., 2., 1., 4., 1., 2., X, X, X],
            &[1., 2., 3., 3., 2., 2., 4., 1., 2., 5., X, 3.],
            &[X, 3., 3., 3., 2., 3., 4., 2., 2., 5., 1., X],
            &[1., 2., 3., 3., 2., 4., 4., 1., 2., 5., 1., X],
        ]);
        let nominal = krippendorff_alpha_nominal(&to_int(&units)).unwrap();
        assert_eq!((nominal.pairable_units, nominal.values), (11, 40));
        assert!((nominal.alpha - 0.743).abs() < 5e-4);
        let interval = krippendorff_alpha_interval(&units).unwrap();
        assert_eq!((interval.pairable_units, interval.values), (11, 40));
        assert!((interval.alpha - 0.849).abs() < 5e-4);
    }

    /// The `krippendorff` package's docstring example, 3 coders × 15 units: nominal 0.691358,
    /// interval 0.810845 (printed rounded to 6 places).
    #[test]
    fn krippendorff_package_docstring_example() {
        const X: f64 = f64::NAN;
        let units = transpose(&[
            &[X, X, X, X, X, 3., 4., 1., 2., 1., 1., 3., 3., X, 3.],
            &[1., X, 2., 1., 3., 3., 4., 3., X, X, X, X, X, X, X],
            &[X, X, 2., 1., 3., 4., 4., X, 2., 1., 1., 3., 3., X, 4.],
        ]);
        let interval = krippendorff_alpha_interval(&units).unwrap();
        assert!((interval.alpha - 0.810_845).abs() < 5e-7);
        let nominal = krippendorff_alpha_nominal(&to_int(&units)).unwrap();
        assert!((nominal.alpha - 0.691_358).abs() < 5e-7);
    }

    #[test]
    fn alpha_edge_cases() {
        assert_eq!(krippendorff_alpha_interval(&[]), None);
        // Only singly-coded units: nothing to pair.
        let single = [vec![Some(1.0), None], vec![None, Some(f64::NAN)]];
        assert_eq!(krippendorff_alpha_interval(&single), None);
        // Pairable values all equal: undefined, even though an unpaired unit differs.
        let flat = [vec![Some(1.0), Some(1.0)], vec![None, Some(7.0)]];
        let a = krippendorff_alpha_interval(&flat).unwrap();
        assert!(a.alpha.is_nan());
        assert_eq!((a.pairable_units, a.values), (1, 2));
        // Shifting every value by a large constant does not change alpha.
        let base = transpose(&[&[1.0, 4.0, 0.0, 2.5], &[2.0, 4.5, -1.0, 3.0]]);
        let shifted: Vec<Vec<Option<f64>>> = base
            .iter()
            .map(|r| r.iter().map(|x| x.map(|x| x + 1e9)).collect())
            .collect();
        let a = krippendorff_alpha_interval(&base).unwrap().alpha;
        let b = krippendorff_alpha_interval(&shifted).unwrap().alpha;
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}
