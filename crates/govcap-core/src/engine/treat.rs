//! Outlier treatment: tame heavily skewed indicators before normalisation.
//!
//! Reproduces COINr 1.1.14's default `Treat()` (`R/treat.R`, MIT, © 2022 William Becker): an
//! indicator passes when `|skew| < skew` OR `kurt < kurt` (type-2 sample statistics as in
//! e1071 / Excel). A failing indicator is winsorised one step at a time — the whole group tied at
//! the maximum (skew ≥ 0) or minimum (skew < 0) takes the next value — until it passes or
//! `max_points` values have been changed. If it still fails, the fallback `log_CT`
//! `ln(x − min + 0.01·(max − min))` is applied to the ORIGINAL column (COINr's
//! `combine_treat = FALSE`), so a log-treated indicator carries no winsorised points.
//!
//! Observed values are expected to be finite (normalisation and aggregation reject non-finite
//! values). Where the statistics are undefined — fewer than 3 (skew) or 4 (kurtosis) observed
//! values, or zero spread — the column cannot be judged and is left as it is; COINr would stop
//! with an error instead.

use crate::analyse::stats;
use serde::{Deserialize, Serialize};

/// What to do with outliers (the `treatment` table of a framework).
///
/// Serialised with a `method` tag in kebab-case, e.g.
/// `{ method = "winsorise", skew = 2.0, kurt = 3.5, max_points = 5, fallback = "log" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Treatment {
    /// Leave the column as it is.
    None,
    /// COINr's winsorise-then-log rule.
    Winsorise {
        /// Absolute skewness threshold (COINr default 2).
        #[serde(default = "default_skew")]
        skew: f64,
        /// Kurtosis threshold (COINr default 3.5).
        #[serde(default = "default_kurt")]
        kurt: f64,
        /// Most values that may be changed (COINr `winmax`, default 5).
        #[serde(default = "default_max_points")]
        max_points: usize,
        /// What to do when winsorising is not enough.
        #[serde(default)]
        fallback: Fallback,
    },
}

fn default_skew() -> f64 {
    2.0
}
fn default_kurt() -> f64 {
    3.5
}
fn default_max_points() -> usize {
    5
}

impl Treatment {
    /// COINr's default: winsorise up to 5 points at |skew| 2 / kurtosis 3.5, then log.
    pub fn coinr_default() -> Self {
        Treatment::Winsorise {
            skew: 2.0,
            kurt: 3.5,
            max_points: 5,
            fallback: Fallback::Log,
        }
    }
}

/// Second-stage treatment when winsorising does not bring the indicator within the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// `ln(x − min + 0.01·(max − min))` on the original values (COINr `log_CT`).
    #[default]
    Log,
    /// Keep the winsorised values even though they still fail.
    None,
}

/// The treated column plus what was done, for the method log and the report.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatOutcome {
    /// Treated values (missing stays missing).
    pub values: Vec<Option<f64>>,
    /// Unit positions whose value was changed by winsorising (empty if the log was applied).
    pub winsorised: Vec<usize>,
    /// Whether the log fallback replaced the column.
    pub log_applied: bool,
    /// Type-2 skewness before treatment (`None` if fewer than 3 values or no spread).
    pub skew_before: Option<f64>,
    /// Type-2 excess kurtosis before treatment (`None` if fewer than 4 values or no spread).
    pub kurt_before: Option<f64>,
    /// Skewness of the returned values.
    pub skew_after: Option<f64>,
    /// Kurtosis of the returned values.
    pub kurt_after: Option<f64>,
}

/// Treat one indicator column for outliers according to `t`.
pub fn treat(x: &[Option<f64>], t: &Treatment) -> TreatOutcome {
    let skew_before = skewness(x);
    let kurt_before = kurtosis(x);
    let (skew_t, kurt_t, max_points, fallback) = match t {
        Treatment::None => {
            return TreatOutcome {
                values: x.to_vec(),
                winsorised: Vec::new(),
                log_applied: false,
                skew_before,
                kurt_before,
                skew_after: skew_before,
                kurt_after: kurt_before,
            }
        }
        Treatment::Winsorise {
            skew,
            kurt,
            max_points,
            fallback,
        } => (*skew, *kurt, *max_points, *fallback),
    };
    let passes = |sk: Option<f64>, kt: Option<f64>| match (sk, kt) {
        (Some(s), Some(k)) => s.abs() < skew_t || k < kurt_t,
        _ => true, // cannot be judged: leave it alone
    };

    let mut values = x.to_vec();
    let mut pass = passes(skew_before, kurt_before);
    // COINr counts the size of the latest tied group at each end (the group absorbs earlier
    // winsorised points, so it only grows).
    let (mut n_high, mut n_low) = (0usize, 0usize);
    let mut sk = skew_before;
    while !pass && n_high + n_low < max_points {
        let high_end = sk.is_some_and(|s| s >= 0.0);
        let Some(group) = winsorise_step(&mut values, high_end) else {
            break; // every observed value is tied: nothing left to step to
        };
        if high_end {
            n_high = group;
        } else {
            n_low = group;
        }
        sk = skewness(&values);
        pass = passes(sk, kurtosis(&values));
    }

    let mut log_applied = false;
    if !pass && fallback == Fallback::Log {
        values = log_ct(x);
        log_applied = true;
    }
    let winsorised = if log_applied {
        Vec::new()
    } else {
        (0..x.len()).filter(|&i| values[i] != x[i]).collect()
    };
    TreatOutcome {
        skew_after: skewness(&values),
        kurt_after: kurtosis(&values),
        values,
        winsorised,
        log_applied,
        skew_before,
        kurt_before,
    }
}

/// One winsorising step at the high or low end; returns the size of the replaced group, or
/// `None` if there is no other value to step to.
fn winsorise_step(values: &mut [Option<f64>], high_end: bool) -> Option<usize> {
    let obs = values.iter().flatten().copied();
    let extreme = if high_end {
        obs.fold(f64::NEG_INFINITY, f64::max)
    } else {
        obs.fold(f64::INFINITY, f64::min)
    };
    let others = values.iter().flatten().copied().filter(|v| *v != extreme);
    let next = if high_end {
        others.fold(None, |acc: Option<f64>, v| {
            Some(acc.map_or(v, |a| a.max(v)))
        })
    } else {
        others.fold(None, |acc: Option<f64>, v| {
            Some(acc.map_or(v, |a| a.min(v)))
        })
    }?;
    let mut count = 0;
    for v in values.iter_mut().flatten() {
        if *v == extreme {
            *v = next;
            count += 1;
        }
    }
    Some(count)
}

/// COINr `log_CT`: `ln(x − min + 0.01·(max − min))`, missing stays missing.
fn log_ct(x: &[Option<f64>]) -> Vec<Option<f64>> {
    let obs = x.iter().flatten().copied();
    let (min, max) = obs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    x.iter()
        .map(|v| v.map(|v| (v - min + 0.01 * (max - min)).ln()))
        .collect()
}

/// The observed values of a column.
fn observed(x: &[Option<f64>]) -> Vec<f64> {
    x.iter().flatten().copied().collect()
}

/// e1071 type-2 skewness of the observed values (the shared definition in `analyse::stats`).
fn skewness(x: &[Option<f64>]) -> Option<f64> {
    stats::skewness_type2(&observed(x))
}

/// e1071 type-2 excess kurtosis of the observed values.
fn kurtosis(x: &[Option<f64>]) -> Option<f64> {
    stats::kurtosis_type2(&observed(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    fn approx(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn statistics_match_scipy_unbiased_estimators() {
        // Oracle: scipy.stats.skew(x, bias=False) and kurtosis(x, bias=False) (= e1071 type 2).
        let x = col(&[
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 30.0, 100.0,
        ]);
        approx(skewness(&x).unwrap(), 3.0632410342394993, 1e-12);
        approx(kurtosis(&x).unwrap(), 9.741390834569144, 1e-11);
        let y = vec![Some(2.0), None, Some(4.0), Some(4.0), Some(5.0), Some(9.0)];
        approx(skewness(&y).unwrap(), 1.2281952102833773, 1e-12);
        approx(kurtosis(&y).unwrap(), 2.399198039652486, 1e-12);
        assert_eq!(skewness(&col(&[1.0, 2.0])), None);
        assert_eq!(kurtosis(&col(&[1.0, 2.0, 3.0])), None);
        assert_eq!(skewness(&col(&[5.0, 5.0, 5.0])), None);
    }

    #[test]
    fn coinr_doc_example_winsorises_one_outlier() {
        // COINr ?Treat example: x = c(1:10, 30, 100), winmax 2. One step (100 → 30) brings the
        // skew to 1.712 < 2, so it stops there (checked with a Python re-implementation + scipy).
        let x = col(&[
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 30.0, 100.0,
        ]);
        let t = Treatment::Winsorise {
            skew: 2.0,
            kurt: 3.5,
            max_points: 2,
            fallback: Fallback::Log,
        };
        let out = treat(&x, &t);
        let mut expect = x.clone();
        expect[11] = Some(30.0);
        assert_eq!(out.values, expect);
        assert_eq!(out.winsorised, vec![11]);
        assert!(!out.log_applied);
        approx(out.skew_before.unwrap(), 3.0632410342394993, 1e-12);
        approx(out.skew_after.unwrap(), 1.7120380600890506, 1e-12);
        approx(out.kurt_after.unwrap(), 1.8157805377242031, 1e-12);
    }

    #[test]
    fn passing_column_is_untouched() {
        let x = col(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        let out = treat(&x, &Treatment::coinr_default());
        assert_eq!(out.values, x);
        assert!(out.winsorised.is_empty() && !out.log_applied);
        assert_eq!(out.skew_before, out.skew_after);
    }

    #[test]
    fn or_rule_and_both_ends() {
        // skew 1.2282, kurt 2.3992: fails |skew| < 1 but passes kurt < 3 → untouched (OR rule).
        let y = col(&[2.0, 4.0, 4.0, 5.0, 9.0]);
        let t = Treatment::Winsorise {
            skew: 1.0,
            kurt: 3.0,
            max_points: 5,
            fallback: Fallback::Log,
        };
        assert_eq!(treat(&y, &t).values, y);
        // Fails both with kurt < 2: step 1 at the top (9 → 5) flips the skew negative, step 2
        // at the bottom (2 → 4); one point at each end counts as 2.
        let strict = |max_points| Treatment::Winsorise {
            skew: 1.0,
            kurt: 2.0,
            max_points,
            fallback: Fallback::None,
        };
        let out = treat(&y, &strict(5));
        assert_eq!(out.values, col(&[4.0, 4.0, 4.0, 5.0, 5.0]));
        assert_eq!(out.winsorised, vec![0, 4]);
        let out1 = treat(&y, &strict(1));
        assert_eq!(out1.values, col(&[2.0, 4.0, 4.0, 5.0, 5.0]));
    }

    #[test]
    fn negative_skew_winsorises_the_low_end_with_missing_values() {
        let x = vec![
            Some(-100.0),
            Some(1.0),
            None,
            Some(2.0),
            Some(3.0),
            Some(4.0),
            Some(5.0),
            Some(6.0),
            Some(7.0),
            Some(8.0),
            Some(9.0),
        ];
        let out = treat(&x, &Treatment::coinr_default());
        let mut expect = x.clone();
        expect[0] = Some(1.0);
        assert_eq!(out.values, expect);
        assert_eq!(out.winsorised, vec![0]);
        approx(out.skew_before.unwrap(), -3.126704006143984, 1e-12);
        approx(out.kurt_before.unwrap(), 9.835311795642372, 1e-11);
    }

    #[test]
    fn log_fallback_applies_to_the_original_values() {
        // 20 zeros, 1, 1000, 1e6: one step (1e6 → 1000) leaves skew 4.8 / kurt 23, so with
        // max_points = 1 the log of the ORIGINAL column is taken.
        let mut raw = vec![0.0; 20];
        raw.extend([1.0, 1000.0, 1e6]);
        let x = col(&raw);
        let t = Treatment::Winsorise {
            skew: 2.0,
            kurt: 3.5,
            max_points: 1,
            fallback: Fallback::Log,
        };
        let out = treat(&x, &t);
        assert!(out.log_applied);
        assert!(out.winsorised.is_empty());
        let a = 0.01 * 1e6;
        for (v, r) in out.values.iter().zip(&raw) {
            approx(v.unwrap(), (r - 0.0 + a).ln(), 1e-12);
        }
        approx(out.skew_after.unwrap(), 4.792516078232981, 1e-10);
        approx(out.kurt_after.unwrap(), 22.977562051483872, 1e-9);
        // Without the fallback the winsorised column is kept.
        let t2 = Treatment::Winsorise {
            skew: 2.0,
            kurt: 3.5,
            max_points: 1,
            fallback: Fallback::None,
        };
        let out2 = treat(&x, &t2);
        assert!(!out2.log_applied);
        assert_eq!(out2.winsorised, vec![22]);
        assert_eq!(out2.values[22], Some(1000.0));
    }

    #[test]
    fn tied_group_counts_against_max_points() {
        // Two tied outliers: the first step changes both, which uses 2 of max_points = 2.
        let x = col(&[
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 500.0, 500.0,
        ]);
        let t = Treatment::Winsorise {
            skew: 0.1,
            kurt: -5.0,
            max_points: 2,
            fallback: Fallback::None,
        };
        let out = treat(&x, &t);
        assert_eq!(out.winsorised, vec![12, 13]);
        assert_eq!(out.values[12], Some(12.0));
        assert_eq!(out.values[11], Some(12.0));
    }

    #[test]
    fn too_few_values_or_constant_are_left_alone() {
        let x = vec![Some(1.0), None, Some(1000.0), Some(2.0)];
        let out = treat(&x, &Treatment::coinr_default());
        assert_eq!(out.values, x);
        assert_eq!(out.kurt_before, None);
        let c = col(&[3.0; 6]);
        assert_eq!(treat(&c, &Treatment::coinr_default()).values, c);
    }

    #[test]
    fn serde_format() {
        #[derive(Deserialize)]
        struct W {
            t: Treatment,
        }
        let w: W = toml::from_str(
            r#"t = { method = "winsorise", skew = 2.0, kurt = 3.5, max_points = 5, fallback = "log" }"#,
        )
        .unwrap();
        assert_eq!(w.t, Treatment::coinr_default());
        let w: W = toml::from_str(r#"t = { method = "winsorise" }"#).unwrap();
        assert_eq!(w.t, Treatment::coinr_default());
        let w: W = toml::from_str(r#"t = { method = "winsorise", fallback = "none" }"#).unwrap();
        assert!(matches!(
            w.t,
            Treatment::Winsorise {
                fallback: Fallback::None,
                ..
            }
        ));
        let w: W = toml::from_str(r#"t = { method = "none" }"#).unwrap();
        assert_eq!(w.t, Treatment::None);
    }
}
