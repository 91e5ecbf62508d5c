//! Inequality between units (CV, Gini, Theil, MLD) and how much of it lies between groups
//! (NBS regions, provinces) rather than inside them.
//!
//! The blue book asks "how unequal are local governments, and is the gap between east and west
//! or inside each province?". The generalised-entropy family answers the second half with an
//! exact additive split (total = between + within); the Gini does it with Dagum's three-way
//! split, whose overlap term says how often a unit of a weaker region beats one of a stronger.
//!
//! Every function checks its input and returns a [`DisparityError`] instead of a `NaN`.

use super::stats::{self, group_runs, Acc, Basic};
use serde::Serialize;

/// Why a disparity measure could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DisparityError {
    #[error("there are no values to measure")]
    Empty,
    #[error("at least {needed} values are needed, but there are {got}")]
    TooFew { needed: usize, got: usize },
    #[error(
        "there are {values} values but {groups} group labels; every value needs exactly one group"
    )]
    LengthMismatch { values: usize, groups: usize },
    #[error(
        "the value at position {index} (counting from 0) is {value}, which is not a finite number"
    )]
    NotFinite { index: usize, value: f64 },
    #[error("the value at position {index} (counting from 0) is {value}; Theil, MLD and the other entropy measures need every value to be greater than zero")]
    NotPositive { index: usize, value: f64 },
    #[error("the value at position {index} (counting from 0) is {value}; the Gini and the CV need every value to be zero or more")]
    Negative { index: usize, value: f64 },
    #[error("all values are zero, so inequality relative to the mean is undefined")]
    ZeroMean,
    #[error("the entropy parameter alpha is {0}, which is not a finite number")]
    InvalidAlpha(f64),
    #[error("the result overflows: the values (or the power alpha) are too large to compute it")]
    Overflow,
}

/// Passes a finite figure through; an overflow becomes an error rather than `inf`/`NaN`.
fn finite(x: f64) -> Result<f64, DisparityError> {
    x.is_finite().then_some(x).ok_or(DisparityError::Overflow)
}

/// Which values a measure accepts.
#[derive(Clone, Copy)]
enum Domain {
    /// x ≥ 0 and not all zero (Gini, CV).
    NonNegative,
    /// x > 0 (the GE family: logs and negative powers).
    Positive,
}

/// Checks the values (finite, in the domain, at least `min_n`) and returns their basics.
fn check(values: &[f64], domain: Domain, min_n: usize) -> Result<Basic, DisparityError> {
    if values.is_empty() {
        return Err(DisparityError::Empty);
    }
    if values.len() < min_n {
        return Err(DisparityError::TooFew {
            needed: min_n,
            got: values.len(),
        });
    }
    for (index, &value) in values.iter().enumerate() {
        if !value.is_finite() {
            return Err(DisparityError::NotFinite { index, value });
        }
        match domain {
            Domain::Positive if value <= 0.0 => {
                return Err(DisparityError::NotPositive { index, value })
            }
            Domain::NonNegative if value < 0.0 => {
                return Err(DisparityError::Negative { index, value })
            }
            _ => {}
        }
    }
    // values are finite and non-empty here, so `None` can only mean overflow
    let basic = Basic::of(values).ok_or(DisparityError::Overflow)?;
    if basic.max == 0.0 {
        return Err(DisparityError::ZeroMean);
    }
    Ok(basic)
}

fn check_groups<G>(values: &[f64], groups: &[G]) -> Result<(), DisparityError> {
    if values.len() != groups.len() {
        return Err(DisparityError::LengthMismatch {
            values: values.len(),
            groups: groups.len(),
        });
    }
    Ok(())
}

fn check_alpha(alpha: f64) -> Result<(), DisparityError> {
    if alpha.is_finite() {
        Ok(())
    } else {
        Err(DisparityError::InvalidAlpha(alpha))
    }
}

/// Coefficient of variation: **sample** sd (n − 1) over the mean. We use the sample sd because
/// it is the spread the report prints next to the mean, so CV = printed sd / printed mean.
/// (GE(2) = ½·CV² holds with the *population* sd instead; the two differ by √((n−1)/n).)
/// Needs n ≥ 2 and non-negative values that are not all zero.
pub fn cv(values: &[f64]) -> Result<f64, DisparityError> {
    let basic = check(values, Domain::NonNegative, 2)?;
    // n ≥ 2 and finite values were checked, so `None` here can only mean overflow
    let sd = stats::sd_sample(values).ok_or(DisparityError::Overflow)?;
    finite(sd / basic.mean)
}

/// `max(x, 0)` that keeps a `NaN` visible (`f64::max` would silently turn it into 0).
fn non_negative(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else {
        x
    }
}

/// Gini of an ascending-sorted slice with known mean, as Σ_i (2i − n + 1)·(x₍i₎/μ) / n²
/// (0-based i), which equals Σ_i Σ_j |x_i − x_j| / (2n²μ). Working in ratios x/μ ≤ n keeps
/// every term far from overflow whatever the scale. 0 for a constant or all-zero slice.
fn gini_sorted(sorted: &[f64], mean: f64) -> f64 {
    if mean == 0.0 || sorted.first() == sorted.last() {
        return 0.0;
    }
    let n = sorted.len() as f64;
    let mut acc = Acc::default();
    for (i, &x) in sorted.iter().enumerate() {
        acc.add((2.0 * i as f64 - n + 1.0) * (x / mean));
    }
    non_negative(acc.value()) / (n * n)
}

/// Gini coefficient by the mean-absolute-difference definition
/// G = Σ_i Σ_j |x_i − x_j| / (2·n²·μ) (no small-sample n/(n−1) correction), computed in
/// O(n log n) from the sorted values. 0 = all equal; 1 − 1/n = one unit has everything.
/// Needs non-negative values that are not all zero.
pub fn gini(values: &[f64]) -> Result<f64, DisparityError> {
    let basic = check(values, Domain::NonNegative, 1)?;
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    finite(gini_sorted(&sorted, basic.mean))
}

/// f(r) with r = x/μ, so that GE(α) = mean of f(r): −ln r (α = 0), r·ln r (α = 1),
/// (r^α − 1)/(α(α − 1)) otherwise.
fn ge_term(r: f64, alpha: f64) -> f64 {
    if alpha == 0.0 {
        -r.ln()
    } else if alpha == 1.0 {
        r * r.ln()
    } else {
        (r.powf(alpha) - 1.0) / (alpha * (alpha - 1.0))
    }
}

/// GE(α) of positive values with known basics; exactly 0 for a constant slice.
fn ge_with(values: &[f64], basic: &Basic, alpha: f64) -> f64 {
    if basic.min == basic.max {
        return 0.0;
    }
    let mut acc = Acc::default();
    for &x in values {
        acc.add(ge_term(x / basic.mean, alpha));
    }
    acc.value() / basic.n as f64
}

/// Generalised entropy GE(α) = 1/(n·α(α−1))·Σ[(x_i/μ)^α − 1], with the limits MLD at α = 0
/// and Theil T at α = 1. Small α weighs gaps at the bottom, large α gaps at the top; α = 2 is
/// half the squared CV (population sd). Values must be positive for every α, so that Theil
/// and MLD of the same data are always both available.
pub fn generalised_entropy(values: &[f64], alpha: f64) -> Result<f64, DisparityError> {
    check_alpha(alpha)?;
    let basic = check(values, Domain::Positive, 1)?;
    finite(ge_with(values, &basic, alpha))
}

/// Theil T index, GE(1) = (1/n)·Σ (x_i/μ)·ln(x_i/μ): sensitive to gaps at the top.
pub fn theil_t(values: &[f64]) -> Result<f64, DisparityError> {
    generalised_entropy(values, 1.0)
}

/// Mean log deviation (Theil L), GE(0) = (1/n)·Σ ln(μ/x_i): sensitive to gaps at the bottom.
pub fn mld(values: &[f64]) -> Result<f64, DisparityError> {
    generalised_entropy(values, 0.0)
}

/// One group's part of a GE decomposition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupContribution {
    pub group: String,
    pub n: usize,
    pub mean: f64,
    /// GE(α) inside the group.
    pub index: f64,
    /// v_g^(1−α)·s_g^α, v_g = population share, s_g = score share.
    pub weight: f64,
    /// weight·index: this group's share of `within`.
    pub contribution: f64,
}

/// Additive split of a GE(α) index: `total = between + within`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decomposition {
    pub alpha: f64,
    pub total: f64,
    /// GE(α) if every unit had its group's mean.
    pub between: f64,
    /// Σ_g weight_g·index_g.
    pub within: f64,
    /// One entry per group, sorted by group label.
    pub groups: Vec<GroupContribution>,
}

/// Values gathered group by group (stable: original order inside a group) with each group's
/// label, range and basics.
struct Grouped<'a> {
    xs: Vec<f64>,
    parts: Vec<(&'a str, std::ops::Range<usize>, Basic)>,
}

impl<'a> Grouped<'a> {
    fn new<G: AsRef<str>>(values: &[f64], groups: &'a [G]) -> Grouped<'a> {
        let (order, runs) = group_runs(groups);
        let xs: Vec<f64> = order.iter().map(|&i| values[i]).collect();
        let parts = runs
            .into_iter()
            .map(|run| {
                let label = groups[order[run.start]].as_ref();
                // values were checked finite and the run is non-empty
                let basic = Basic::of(&xs[run.clone()]).expect("non-empty finite group");
                (label, run, basic)
            })
            .collect();
        Grouped { xs, parts }
    }
}

/// GE(α) split into between-group and within-group inequality (Shorrocks 1980; Bourguignon
/// 1979 for Theil). With v_g = n_g/n and s_g = n_g·μ_g/(n·μ):
///
/// * between = (1/n)·Σ_g n_g·f(μ_g/μ) (the GE of the group means, each repeated n_g times);
/// * within = Σ_g v_g^(1−α)·s_g^α·GE_g(α): score shares for Theil (α = 1), population shares
///   for MLD (α = 0), s_g²/v_g for α = 2. The population share carries the exponent 1 − α;
///   the other way round (v_g^α·s_g^(1−α)) would weight Theil by population and not add up.
///
/// The two add up to the total exactly in exact arithmetic (to ~1e-15 here). `total` is
/// computed directly from the values, not as the sum.
pub fn ge_decompose<G: AsRef<str>>(
    values: &[f64],
    groups: &[G],
    alpha: f64,
) -> Result<Decomposition, DisparityError> {
    check_alpha(alpha)?;
    check_groups(values, groups)?;
    let basic = check(values, Domain::Positive, 1)?;
    finite_ge(ge_decompose_checked(
        values,
        &basic,
        &Grouped::new(values, groups),
        alpha,
    ))
}

fn finite_ge(d: Decomposition) -> Result<Decomposition, DisparityError> {
    for x in [d.total, d.between, d.within] {
        finite(x)?;
    }
    Ok(d)
}

fn ge_decompose_checked(
    values: &[f64],
    basic: &Basic,
    grouped: &Grouped<'_>,
    alpha: f64,
) -> Decomposition {
    let n = basic.n as f64;
    let mut between = Acc::default();
    let mut within = Acc::default();
    let mut out = Vec::with_capacity(grouped.parts.len());
    for (label, run, gb) in &grouped.parts {
        let ng = gb.n as f64;
        let v = ng / n;
        let ratio = gb.mean / basic.mean;
        let s = v * ratio;
        let weight = if alpha == 0.0 {
            v
        } else if alpha == 1.0 {
            s
        } else {
            v.powf(1.0 - alpha) * s.powf(alpha)
        };
        let index = ge_with(&grouped.xs[run.clone()], gb, alpha);
        let contribution = weight * index;
        between.add(ng * ge_term(ratio, alpha));
        within.add(contribution);
        out.push(GroupContribution {
            group: (*label).to_owned(),
            n: gb.n,
            mean: gb.mean,
            index,
            weight,
            contribution,
        });
    }
    Decomposition {
        alpha,
        total: ge_with(values, basic, alpha),
        between: between.value() / n,
        within: within.value(),
        groups: out,
    }
}

/// Dagum's (1997) split of the Gini: `total = within + between_net + transvariation`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GiniDecomposition {
    /// The Gini of all values, computed directly.
    pub total: f64,
    /// G_w = Σ_j G_jj·p_j·s_j: inequality inside the groups.
    pub within: f64,
    /// G_nb = Σ_{j<h} G_jh·(p_j·s_h + p_h·s_j)·D_jh: the net gap between group levels.
    pub between_net: f64,
    /// G_t = Σ_{j<h} G_jh·(p_j·s_h + p_h·s_j)·(1 − D_jh): overlap, where units of the weaker
    /// group outscore units of the stronger one.
    pub transvariation: f64,
}

/// Σ_i Σ_r max(a_i − b_r, 0) for ascending a and b, by merging in O(|a| + |b|).
fn sum_positive_gaps(a: &[f64], b: &[f64]) -> f64 {
    let mut total = Acc::default();
    let mut below = Acc::default();
    let mut count = 0usize;
    for &x in a {
        while count < b.len() && b[count] < x {
            below.add(b[count]);
            count += 1;
        }
        total.add(count as f64 * x - below.value());
    }
    non_negative(total.value())
}

/// Gini decomposition by groups after Dagum (1997). With p_j = n_j/n, s_j = n_j·μ_j/(n·μ):
///
/// * G_jj = Σ_i Σ_r |y_ji − y_jr| / (2·n_j²·μ_j), the Gini inside group j;
/// * G_jh = Σ_i Σ_r |y_ji − y_hr| / (n_j·n_h·(μ_j + μ_h)), the Gini between j and h;
/// * D_jh = (d_jh − p_jh)/(d_jh + p_jh) where, taking j as the group with the higher mean,
///   d_jh = mean of (y_j − y_h)⁺ over all pairs (gross economic affluence) and p_jh = mean of
///   (y_h − y_j)⁺ (first moment of transvariation); D_jh = 0 if the two groups never differ.
///
/// Then G_w = Σ_j G_jj·p_j·s_j and the gross between part Σ_{j<h} G_jh·(p_j·s_h + p_h·s_j)
/// splits into D_jh (net) and 1 − D_jh (transvariation). Needs non-negative values that are
/// not all zero.
pub fn gini_decompose<G: AsRef<str>>(
    values: &[f64],
    groups: &[G],
) -> Result<GiniDecomposition, DisparityError> {
    check_groups(values, groups)?;
    let basic = check(values, Domain::NonNegative, 1)?;
    finite_gini(gini_decompose_checked(
        values,
        &basic,
        Grouped::new(values, groups),
    ))
}

fn finite_gini(d: GiniDecomposition) -> Result<GiniDecomposition, DisparityError> {
    for x in [d.total, d.within, d.between_net, d.transvariation] {
        finite(x)?;
    }
    Ok(d)
}

fn gini_decompose_checked(
    values: &[f64],
    basic: &Basic,
    mut grouped: Grouped<'_>,
) -> GiniDecomposition {
    let n = basic.n as f64;
    // Every term is scale-free, so work in ratios to the overall mean: no overflow anywhere.
    for x in grouped.xs.iter_mut() {
        *x /= basic.mean;
    }
    for (_, run, _) in &grouped.parts {
        grouped.xs[run.clone()].sort_unstable_by(f64::total_cmp);
    }
    let xs = &grouped.xs;
    let parts = &grouped.parts;
    // (p_j, s_j, μ_j/μ)
    let share = |gb: &Basic| {
        let p = gb.n as f64 / n;
        let m = gb.mean / basic.mean;
        (p, p * m, m)
    };

    let mut within = Acc::default();
    let mut net = Acc::default();
    let mut trans = Acc::default();
    for (j, (_, run_j, bj)) in parts.iter().enumerate() {
        let (pj, sj, mj) = share(bj);
        within.add(gini_sorted(&xs[run_j.clone()], mj) * pj * sj);
        for (_, run_h, bh) in &parts[j + 1..] {
            let (ph, sh, mh) = share(bh);
            let pairs = (bj.n * bh.n) as f64;
            let j_above = sum_positive_gaps(&xs[run_j.clone()], &xs[run_h.clone()]) / pairs;
            let h_above = sum_positive_gaps(&xs[run_h.clone()], &xs[run_j.clone()]) / pairs;
            let mean_gap = j_above + h_above;
            if mean_gap == 0.0 {
                continue; // identical constant groups: no between-group inequality at all
            }
            let g_jh = mean_gap / (mj + mh);
            // d − p with d taken for the richer group, whichever of j, h that is.
            let d_jh = (j_above - h_above).abs() / mean_gap;
            let gross = g_jh * (pj * sh + ph * sj);
            net.add(gross * d_jh);
            trans.add(gross * (1.0 - d_jh));
        }
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    GiniDecomposition {
        total: gini_sorted(&sorted, basic.mean),
        within: within.value(),
        between_net: net.value(),
        transvariation: trans.value(),
    }
}

/// Every disparity figure for one grouping (e.g. units by NBS region, or by province).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disparity {
    pub n: usize,
    /// Sample sd / mean (see [`cv`]).
    pub cv: f64,
    pub gini: f64,
    /// GE(1) and its between/within split.
    pub theil: Decomposition,
    /// GE(0) and its between/within split.
    pub mld: Decomposition,
    pub gini_decomposition: GiniDecomposition,
}

/// CV, Gini, Theil T and MLD (each split by `groups`) and Dagum's Gini split, in one pass of
/// checks. Needs n ≥ 2 positive values and one group label per value.
pub fn disparity<G: AsRef<str>>(values: &[f64], groups: &[G]) -> Result<Disparity, DisparityError> {
    check_groups(values, groups)?;
    let basic = check(values, Domain::Positive, 2)?;
    let grouped = Grouped::new(values, groups);
    let theil = finite_ge(ge_decompose_checked(values, &basic, &grouped, 1.0))?;
    let mld = finite_ge(ge_decompose_checked(values, &basic, &grouped, 0.0))?;
    let gini_decomposition = finite_gini(gini_decompose_checked(values, &basic, grouped))?;
    Ok(Disparity {
        n: basic.n,
        cv: cv(values)?,
        gini: gini_decomposition.total,
        theil,
        mld,
        gini_decomposition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! assert_close {
        ($a:expr, $b:expr) => {{
            let (a, b): (f64, f64) = ($a, $b);
            assert!(
                (a - b).abs() <= 1e-14 * b.abs().max(1.0),
                "{} = {a:e}, expected {b:e}",
                stringify!($a)
            );
        }};
    }

    // The hand-worked example used below: group A = [1, 3], group B = [2, 6].
    // n = 4, μ = 3, p_A = p_B = ½, μ_A = 2, μ_B = 4, s_A = ½·2/3 = 1/3, s_B = ½·4/3 = 2/3.
    const V: [f64; 4] = [1.0, 2.0, 3.0, 6.0];
    const G: [&str; 4] = ["A", "B", "A", "B"];

    #[test]
    fn gini_by_hand() {
        // [1, 2, 3, 4]: unordered |differences| 1+2+3+1+2+1 = 10, ordered 20;
        // G = 20/(2·4²·2.5) = 20/80 = 0.25
        assert_close!(gini(&[4.0, 1.0, 3.0, 2.0]).unwrap(), 0.25);
        // V: unordered |differences| 1+2+5+1+4+3 = 16, ordered 32; G = 32/(2·16·3) = 1/3
        assert_close!(gini(&V).unwrap(), 1.0 / 3.0);
        // one unit holds everything: G = 1 − 1/n
        assert_close!(gini(&[0.0, 0.0, 0.0, 5.0]).unwrap(), 0.75);
    }

    #[test]
    fn dagum_by_hand() {
        // G_AA: |1−3| twice = 4, /(2·2²·2) = 4/16 = ¼.  G_BB: |2−6| twice = 8, /(2·2²·4) = ¼.
        // G_w = ¼·½·⅓ + ¼·½·⅔ = ⅛.
        // Pairs (a, b): (1,2) 1, (1,6) 5, (3,2) 1, (3,6) 3 → Σ|·| = 10, mean gap Δ = 10/4 = 2.5,
        // G_AB = 2.5/(2 + 4) = 5/12, weight p_A·s_B + p_B·s_A = ½·⅔ + ½·⅓ = ½, gross = 5/24.
        // B is richer: d = (1 + 5 + 3)/4 = 2.25, p = 1/4 = 0.25, D = (2.25 − 0.25)/2.5 = 0.8.
        // G_nb = 5/24·0.8 = 1/6, G_t = 5/24·0.2 = 1/24; ⅛ + ⅙ + 1/24 = 8/24 = ⅓ = G. ✓
        let d = gini_decompose(&V, &G).unwrap();
        assert_close!(d.total, 1.0 / 3.0);
        assert_close!(d.within, 0.125);
        assert_close!(d.between_net, 1.0 / 6.0);
        assert_close!(d.transvariation, 1.0 / 24.0);
    }

    #[test]
    fn theil_by_hand() {
        // [1, 3]: μ = 2, r = ½, 3/2; T = ½(½·ln½ + 3/2·ln 3/2) = ¾·ln 3 − ln 2
        let (ln2, ln3) = (2f64.ln(), 3f64.ln());
        assert_close!(theil_t(&[1.0, 3.0]).unwrap(), 0.75 * ln3 - ln2);
        // V: r = ⅓, ⅔, 1, 2: T = ¼(−⅓ln3 + ⅔(ln2 − ln3) + 0 + 2ln2) = ⅔ln2 − ¼ln3
        // between = Σ s_g ln(μ_g/μ) = ⅓ln⅔ + ⅔ln(4/3) = 5/3·ln2 − ln3
        // within: both groups have r = ½, 3/2, so T_A = T_B = ¾ln3 − ln2 and
        // within = (s_A + s_B)(¾ln3 − ln2) = ¾ln3 − ln2.  Sum = ⅔ln2 − ¼ln3 ✓
        let d = ge_decompose(&V, &G, 1.0).unwrap();
        assert_close!(d.total, 2.0 / 3.0 * ln2 - 0.25 * ln3);
        assert_close!(d.between, 5.0 / 3.0 * ln2 - ln3);
        assert_close!(d.within, 0.75 * ln3 - ln2);
        assert_eq!(d.groups.len(), 2);
        assert_eq!((d.groups[0].group.as_str(), d.groups[0].n), ("A", 2));
        assert_close!(d.groups[0].weight, 1.0 / 3.0);
        assert_close!(d.groups[1].weight, 2.0 / 3.0);
        assert_close!(d.groups[1].index, 0.75 * ln3 - ln2);
        assert_close!(d.groups[1].contribution, 2.0 / 3.0 * (0.75 * ln3 - ln2));
    }

    #[test]
    fn mld_by_hand() {
        // V: MLD = ¼(ln3 + ln(3/2) + ln1 + ln½) = ¼(2ln3 − 2ln2) = ½ln(3/2)
        // between = ½ln(3/2) + ½ln(3/4) = ½ln(9/8)
        // within: MLD_A = ½(ln2 + ln⅔) = ½ln(4/3) = MLD_B; weights v = ½ → ½ln(4/3)
        // ½ln(9/8) + ½ln(4/3) = ½ln(3/2) ✓
        let d = ge_decompose(&V, &G, 0.0).unwrap();
        assert_close!(d.total, 0.5 * 1.5f64.ln());
        assert_close!(d.between, 0.5 * (9.0f64 / 8.0).ln());
        assert_close!(d.within, 0.5 * (4.0f64 / 3.0).ln());
        assert_close!(d.groups[0].weight, 0.5);
        assert_close!(mld(&V).unwrap(), 0.5 * 1.5f64.ln());
    }

    #[test]
    fn ge2_by_hand_is_half_squared_population_cv() {
        // V: population variance (4+1+0+9)/4 = 3.5, GE(2) = ½·3.5/9 = 7/36
        // between = ½·Σ v_g((μ_g/μ)² − 1) = ¼(4/9 − 1 + 16/9 − 1) = 1/18
        // within: w_g = s_g²/v_g = 2/9 and 8/9; GE_A(2) = ½·1/4 = ⅛ = GE_B(2)
        // → (2/9 + 8/9)/8 = 5/36; 1/18 + 5/36 = 7/36 ✓
        let d = ge_decompose(&V, &G, 2.0).unwrap();
        assert_close!(d.total, 7.0 / 36.0);
        assert_close!(d.between, 1.0 / 18.0);
        assert_close!(d.within, 5.0 / 36.0);
        assert_close!(d.groups[0].weight, 2.0 / 9.0);
        assert_close!(d.groups[1].weight, 8.0 / 9.0);
        assert_close!(d.groups[0].index, 0.125);
    }

    #[test]
    fn cv_by_hand() {
        // V: sample sd = √(14/3), mean 3
        assert_close!(cv(&V).unwrap(), (14.0f64 / 3.0).sqrt() / 3.0);
    }

    #[test]
    fn equal_values_give_exactly_zero() {
        let c = [0.7; 9];
        let g = ["x", "y", "x", "y", "z", "x", "y", "z", "z"];
        assert_eq!(cv(&c), Ok(0.0));
        assert_eq!(gini(&c), Ok(0.0));
        assert_eq!(theil_t(&c), Ok(0.0));
        assert_eq!(mld(&c), Ok(0.0));
        assert_eq!(generalised_entropy(&c, -1.5), Ok(0.0));
        let d = disparity(&c, &g).unwrap();
        assert_eq!(
            (d.theil.total, d.theil.between, d.theil.within),
            (0.0, 0.0, 0.0)
        );
        assert_eq!((d.mld.total, d.mld.between, d.mld.within), (0.0, 0.0, 0.0));
        let gd = d.gini_decomposition;
        assert_eq!(
            (gd.total, gd.within, gd.between_net, gd.transvariation),
            (0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn single_group_has_no_between_part() {
        let v = [12.5, 40.0, 33.25, 7.75, 61.0, 33.25];
        let g = ["all"; 6];
        for alpha in [0.0, 1.0, 2.0, 0.5, -1.0, 3.0] {
            let d = ge_decompose(&v, &g, alpha).unwrap();
            assert_eq!(d.between, 0.0, "alpha {alpha}");
            assert_eq!(d.groups[0].weight, 1.0);
            assert_eq!(d.within, d.total, "alpha {alpha}");
        }
        let gd = gini_decompose(&v, &g).unwrap();
        assert_eq!((gd.between_net, gd.transvariation), (0.0, 0.0));
        assert_eq!(gd.within, gd.total);
    }

    #[test]
    fn separated_groups_have_no_transvariation() {
        // every unit of B outscores every unit of A: D = 1, overlap 0
        let d = gini_decompose(&[1.0, 2.0, 10.0, 11.0], &["A", "A", "B", "B"]).unwrap();
        assert_eq!(d.transvariation, 0.0);
        assert_close!(d.within + d.between_net, d.total);
    }

    #[test]
    fn typed_errors_instead_of_nan() {
        use DisparityError::*;
        assert_eq!(
            theil_t(&[1.0, 0.0]),
            Err(NotPositive {
                index: 1,
                value: 0.0
            })
        );
        assert_eq!(
            mld(&[-2.0, 1.0]),
            Err(NotPositive {
                index: 0,
                value: -2.0
            })
        );
        assert_eq!(
            gini(&[1.0, -1.0]),
            Err(Negative {
                index: 1,
                value: -1.0
            })
        );
        assert_eq!(gini(&[0.0, 0.0]), Err(ZeroMean));
        assert_eq!(cv(&[0.0, 0.0]), Err(ZeroMean));
        assert_eq!(cv(&[3.0]), Err(TooFew { needed: 2, got: 1 }));
        assert_eq!(gini(&[]), Err(Empty));
        assert!(matches!(
            gini(&[1.0, f64::NAN]),
            Err(NotFinite { index: 1, .. })
        ));
        assert_eq!(
            generalised_entropy(&[1.0, 2.0], f64::NAN)
                .unwrap_err()
                .to_string(),
            "the entropy parameter alpha is NaN, which is not a finite number"
        );
        assert_eq!(
            ge_decompose(&[1.0, 2.0], &["a"], 1.0),
            Err(LengthMismatch {
                values: 2,
                groups: 1
            })
        );
        assert_eq!(
            disparity(&[1.0, 0.0], &["a", "b"]).unwrap_err(),
            NotPositive {
                index: 1,
                value: 0.0
            }
        );
        // absurd alpha or huge values: an error, never inf or NaN
        assert_eq!(generalised_entropy(&[1.0, 1e6], 2000.0), Err(Overflow));
        assert_eq!(cv(&[f64::MAX, 0.0]), Err(Overflow));
        // the Gini works in ratios to the mean, so it survives values near f64::MAX:
        // [M, M/2, 0]: |differences| M/2 + M + M/2 = 2M, ordered 4M, μ = M/2 → 4M/(2·9·M/2) = 4/9
        assert_close!(gini(&[f64::MAX, f64::MAX / 2.0, 0.0]).unwrap(), 4.0 / 9.0);
        let huge = gini_decompose(&[f64::MAX, f64::MAX / 2.0, 0.0, 1.0], &["a", "a", "b", "b"]);
        let huge = huge.unwrap();
        assert_close!(
            huge.within + huge.between_net + huge.transvariation,
            huge.total
        );
        // zeros are fine for the Gini and the CV
        assert_close!(gini(&[0.0, 2.0]).unwrap(), 0.5);
        assert_close!(cv(&[0.0, 2.0]).unwrap(), 2f64.sqrt());
    }

    #[test]
    fn positive_gaps_merge_matches_double_loop() {
        let a: [f64; 5] = [1.0, 2.0, 2.0, 5.0, 9.0];
        let b: [f64; 4] = [0.5, 2.0, 3.0, 9.0];
        let naive: f64 = a
            .iter()
            .flat_map(|x| b.iter().map(move |y| (x - y).max(0.0)))
            .sum();
        // by hand: 1→0.5; 2→1.5; 2→1.5; 5→4.5+3+2; 9→8.5+7+6+0 → 0.5+1.5+1.5+9.5+21.5 = 34.5
        assert_eq!(naive, 34.5);
        assert_eq!(sum_positive_gaps(&a, &b), 34.5);
        // Σ(b − a)⁺ = Σ(a − b)⁺ − Σ(a − b) = 34.5 − (4·Σa − 5·Σb) = 34.5 − (76 − 72.5) = 31
        assert_eq!(sum_positive_gaps(&b, &a), 31.0);
    }
}
