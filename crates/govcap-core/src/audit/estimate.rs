//! Estimators: rank statistics and variance-based sensitivity indices, exactly as COINr's
//! `get_sensitivity` / `SA_estimate` compute them (`R/sensitivity.R`, MIT, © 2022 William
//! Becker), so that COINr's saved results can be reproduced from its saved ranks.
//!
//! # Sensitivity indices
//!
//! The model outputs `y` come in COINr's (and the Saltelli 2010 paper's) design order:
//! `N` runs of matrix A, `N` runs of B, then `N` runs of each `AB_i` (A with the inputs of
//! factor `i` taken from B). With `V = var(y_A ∪ y_B)` (sample variance, n − 1):
//!
//! * first order (Saltelli et al. 2010): `S_i = mean(y_B · (y_ABi − y_A)) / V`;
//! * total effect (Jansen 1999): `ST_i = Σ (y_A − y_ABi)² / (2 N V)`.
//!
//! Means, variances and sums are accumulated in double-double arithmetic and rounded once,
//! which is what R's long-double accumulators give, so the results agree with R to the last
//! bit in all but pathological cases.
//!
//! Confidence intervals follow COINr: for each of `bootstrap` replicates the per-run terms
//! `y_B (y_ABi − y_A)` and `(y_A − y_ABi)` are resampled with replacement (the variance is held
//! at its full-sample value), and the 5th and 95th percentiles (R type 7) of the replicate
//! indices are reported. The resampling uses SplitMix64 from the audit seed, so intervals are
//! reproducible but differ from R's, whose generator is not reproduced.

use serde::{Deserialize, Serialize};

use super::sobol::SplitMix64;
use crate::analyse::stats::quantile_type7;

/// First-order and total-effect indices of one factor with their bootstrap intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SobolIndices {
    /// First-order index S_i (Saltelli 2010): the share of the output variance the factor
    /// explains on its own. Estimates can fall slightly below 0.
    pub si: f64,
    /// Total-effect index ST_i (Jansen): the factor's share including all its interactions.
    pub sti: f64,
    pub si_q05: f64,
    pub si_q95: f64,
    pub sti_q05: f64,
    pub sti_q95: f64,
}

/// Mean, median and 5th / 95th percentile (R type 7) of one unit's ranks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankStats {
    pub mean: f64,
    pub median: f64,
    pub q05: f64,
    pub q95: f64,
}

/// Double-double accumulator (Knuth's TwoSum): exact to about 106 bits for these sums.
#[derive(Debug, Clone, Copy, Default)]
struct Dd {
    hi: f64,
    lo: f64,
}

impl Dd {
    fn add(&mut self, x: f64) {
        let s = self.hi + x;
        let bb = s - self.hi;
        let err = (self.hi - (s - bb)) + (x - bb);
        self.hi = s;
        self.lo += err;
    }

    /// The accumulated value divided by `n`, rounded once.
    fn div(self, n: f64) -> f64 {
        let s = self.hi + self.lo;
        let tail = self.lo - (s - self.hi);
        let q = s / n;
        let r = (-q).mul_add(n, s);
        q + (r + tail) / n
    }

    fn value(self) -> f64 {
        self.hi + self.lo
    }
}

/// R's `mean(x)`: the mean accumulated in extended precision, rounded once.
pub fn r_mean(x: &[f64]) -> f64 {
    let mut s = Dd::default();
    for &v in x {
        s.add(v);
    }
    s.div(x.len() as f64)
}

/// R's `sum(x)` (extended-precision accumulator).
pub fn r_sum(x: impl IntoIterator<Item = f64>) -> f64 {
    let mut s = Dd::default();
    for v in x {
        s.add(v);
    }
    s.value()
}

/// R's `var(x)`: sample variance (n − 1) around the rounded mean, squares in double,
/// accumulated in extended precision. `NaN` for fewer than two values.
pub fn r_var(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = r_mean(x);
    let mut s = Dd::default();
    for &v in x {
        let d = v - m;
        s.add(d * d);
    }
    s.div((x.len() - 1) as f64)
}

/// Mean, median, Q5 and Q95 of one unit's ranks (R `mean`, `median`, `quantile(type = 7)`).
/// `None` for an empty slice.
pub fn rank_stats(ranks: &[f64]) -> Option<RankStats> {
    if ranks.is_empty() {
        return None;
    }
    Some(RankStats {
        mean: r_mean(ranks),
        median: median(ranks),
        q05: quantile_type7(ranks, 0.05)?,
        q95: quantile_type7(ranks, 0.95)?,
    })
}

fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Rank statistics from a histogram of integer ranks (`counts[r]` = how many draws gave rank
/// `r`), with the same arithmetic as [`rank_stats`]: O(units) per unit instead of a sort.
pub(crate) fn rank_stats_from_counts(counts: &[u32]) -> Option<RankStats> {
    let m: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    if m == 0 {
        return None;
    }
    let sum: f64 = counts
        .iter()
        .enumerate()
        .map(|(r, &c)| r as f64 * f64::from(c))
        .sum();
    // k-th smallest (0-based).
    let nth = |k: u64| -> f64 {
        let mut cum = 0u64;
        for (r, &c) in counts.iter().enumerate() {
            cum += u64::from(c);
            if cum > k {
                return r as f64;
            }
        }
        unreachable!("k < m")
    };
    let q7 = |p: f64| -> f64 {
        let index = 1.0 + (m - 1) as f64 * p;
        let lo = index.floor();
        let hi = index.ceil();
        let x_lo = nth(lo as u64 - 1);
        let x_hi = nth(hi as u64 - 1);
        if index > lo && x_hi != x_lo {
            let h = index - lo;
            (1.0 - h) * x_lo + h * x_hi
        } else {
            x_lo
        }
    };
    let median = if m % 2 == 1 {
        nth(m / 2)
    } else {
        (nth(m / 2 - 1) + nth(m / 2)) / 2.0
    };
    Some(RankStats {
        // Integer sums up to 2^53 are exact, so this is the correctly rounded mean, as R's.
        mean: sum / m as f64,
        median,
        q05: q7(0.05),
        q95: q7(0.95),
    })
}

/// First-order and total-effect indices of `d` factors from outputs in design order
/// (`y.len() == N·(d + 2)`), with `bootstrap` replicates for the intervals (0 = none: the
/// intervals are then the point estimates). `None` when the outputs do not vary or are not
/// all finite: there is no variance to attribute.
///
/// # Panics
/// If `y.len()` is not `n·(d + 2)`.
pub fn sobol_indices(
    y: &[f64],
    n: usize,
    d: usize,
    bootstrap: usize,
    seed: u64,
) -> Option<Vec<SobolIndices>> {
    assert_eq!(y.len(), n * (d + 2), "outputs must be N·(d + 2) long");
    if n < 2 || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let (ya, yb) = (&y[..n], &y[n..2 * n]);
    let var = r_var(&y[..2 * n]);
    if var.is_nan() || var <= 0.0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed ^ 0x5EED_B007_u64);
    let mut si_terms = vec![0.0; n];
    let mut st_terms = vec![0.0; n];
    let mut si_boot = vec![0.0; bootstrap];
    let mut st_boot = vec![0.0; bootstrap];
    let mut idx = vec![0usize; n];
    let denom = (2 * n) as f64 * var;
    let mut out = Vec::with_capacity(d);
    for i in 0..d {
        let yab = &y[(2 + i) * n..(3 + i) * n];
        for j in 0..n {
            si_terms[j] = yb[j] * (yab[j] - ya[j]);
            st_terms[j] = ya[j] - yab[j];
        }
        let si = r_mean(&si_terms) / var;
        let sti = r_sum(st_terms.iter().map(|x| x * x)) / denom;
        for b in 0..bootstrap {
            for k in idx.iter_mut() {
                *k = rng.below(n as u64) as usize;
            }
            let mut s = Dd::default();
            for &k in &idx {
                s.add(si_terms[k]);
            }
            si_boot[b] = s.div(n as f64) / var;
            let mut t = Dd::default();
            for &k in &idx {
                t.add(st_terms[k] * st_terms[k]);
            }
            st_boot[b] = t.value() / denom;
        }
        let q = |v: &[f64], p: f64, point: f64| {
            if v.is_empty() {
                point
            } else {
                quantile_type7(v, p).unwrap_or(f64::NAN)
            }
        };
        out.push(SobolIndices {
            si,
            sti,
            si_q05: q(&si_boot, 0.05, si),
            si_q95: q(&si_boot, 0.95, si),
            sti_q05: q(&st_boot, 0.05, sti),
            sti_q95: q(&st_boot, 0.95, sti),
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accurate_mean_and_var() {
        // Cancellation that plain f64 summation gets wrong.
        let x = [1e16, 1.0, -1e16, 1.0];
        assert_eq!(r_sum(x.iter().copied()), 2.0);
        assert_eq!(r_mean(&x), 0.5);
        assert_eq!(r_var(&[1.0, 2.0, 3.0, 4.0]), 5.0 / 3.0);
    }

    #[test]
    fn histogram_stats_equal_sorted_stats() {
        let ranks = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0];
        let mut counts = vec![0u32; 10];
        for &r in &ranks {
            counts[r as usize] += 1;
        }
        assert_eq!(rank_stats_from_counts(&counts), rank_stats(&ranks));
        let s = rank_stats(&ranks).unwrap();
        // numpy: mean 4.0, median 4.0, percentile 5 -> 1.0, 95 -> 7.5
        assert_eq!((s.mean, s.median, s.q05, s.q95), (4.0, 4.0, 1.0, 7.5));
    }

    #[test]
    fn inert_factor_has_zero_indices() {
        // y depends on factor 0 only: AB_1 rows equal A rows exactly.
        let n = 8;
        let a: Vec<f64> = (0..n).map(|j| (j * j % 5) as f64).collect();
        let b: Vec<f64> = (0..n).map(|j| (j * 3 % 7) as f64).collect();
        let mut y = a.clone();
        y.extend(&b);
        y.extend(&b); // AB_0 = A with factor 0 from B → y_B
        y.extend(&a); // AB_1 = A with factor 1 from B → y_A
        let s = sobol_indices(&y, n, 2, 50, 1).unwrap();
        assert_eq!((s[1].si, s[1].sti), (0.0, 0.0));
        assert_eq!((s[1].si_q05, s[1].sti_q95), (0.0, 0.0));
    }
}
