//! Imputation of missing indicator values.
//!
//! Mirrors COINr's `i_mean`, `i_median`, `i_mean_grp` and `i_median_grp` (`R/impute.R`, MIT,
//! © 2022 William Becker). The one rule that must never break (COINr issue #40) is that an
//! observed value is returned bit-for-bit unchanged: only `None` entries are ever filled.
//!
//! Where nothing can be estimated the value stays missing rather than inventing one: a column
//! with no observed value, a group whose members are all missing, and a unit that belongs to no
//! group (its group label is `None`). The aggregation step then re-weights over the children a
//! unit does have.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// How missing values of an indicator are filled (the `missing` table of a framework).
///
/// Serialised with a `method` tag in kebab-case, e.g. `{ method = "group-mean", group = "province" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Imputation {
    /// Leave missing; aggregation re-weights over the available children (COINr's `a_amean`).
    Exclude,
    /// A missing value scores zero (e.g. "no such service found").
    Zero,
    /// Mean of the observed values.
    Mean,
    /// Median of the observed values.
    Median,
    /// Mean of the observed values in the unit's group (a unit attribute column).
    GroupMean {
        /// Unit attribute that defines the groups.
        group: String,
    },
    /// Median of the observed values in the unit's group.
    GroupMedian {
        /// Unit attribute that defines the groups.
        group: String,
    },
}

impl Imputation {
    /// Whether [`impute`] must be given the unit groups (so the pipeline can look them up).
    pub fn needs_group(&self) -> bool {
        self.group().is_some()
    }

    /// The unit attribute this method groups by, if any.
    pub fn group(&self) -> Option<&str> {
        match self {
            Imputation::GroupMean { group } | Imputation::GroupMedian { group } => Some(group),
            _ => None,
        }
    }
}

/// An imputed column and the positions that were filled.
#[derive(Debug, Clone, PartialEq)]
pub struct Imputed {
    /// Observed values unchanged, missing ones filled where possible.
    pub values: Vec<Option<f64>>,
    /// Unit positions that were missing and received a value (ascending).
    pub imputed: Vec<usize>,
}

/// Fill the missing values of one indicator column.
///
/// `groups[u]` is unit `u`'s group label (`None` = no group); it is only read by the group methods.
///
/// # Panics
/// If a group method is called without `groups`, or `groups` has a different length from `x`:
/// both are wiring mistakes in the caller, not data problems (check [`Imputation::needs_group`]).
pub fn impute(x: &[Option<f64>], groups: Option<&[Option<&str>]>, method: &Imputation) -> Imputed {
    let fills: Vec<Option<f64>> = match method {
        Imputation::Exclude => vec![None; x.len()],
        Imputation::Zero => vec![Some(0.0); x.len()],
        Imputation::Mean => vec![mean(&observed(x, |_| true)); x.len()],
        Imputation::Median => vec![median(observed(x, |_| true)); x.len()],
        Imputation::GroupMean { group } | Imputation::GroupMedian { group } => {
            let groups = groups.unwrap_or_else(|| {
                panic!("imputation by group '{group}' was called without the unit groups")
            });
            assert_eq!(
                groups.len(),
                x.len(),
                "imputation by group '{group}': {} group labels for {} units",
                groups.len(),
                x.len()
            );
            let use_mean = matches!(method, Imputation::GroupMean { .. });
            let mut per_group: HashMap<&str, Option<f64>> = HashMap::new();
            for g in groups.iter().flatten() {
                per_group.entry(g).or_insert_with(|| {
                    let vals = observed(x, |u| groups[u] == Some(*g));
                    if use_mean {
                        mean(&vals)
                    } else {
                        median(vals)
                    }
                });
            }
            groups
                .iter()
                .map(|g| g.and_then(|g| per_group[g]))
                .collect()
        }
    };
    let mut values = x.to_vec();
    let mut imputed = Vec::new();
    for (u, v) in values.iter_mut().enumerate() {
        if v.is_none() {
            if let Some(f) = fills[u] {
                *v = Some(f);
                imputed.push(u);
            }
        }
    }
    Imputed { values, imputed }
}

fn observed(x: &[Option<f64>], keep: impl Fn(usize) -> bool) -> Vec<f64> {
    x.iter()
        .enumerate()
        .filter(|(u, _)| keep(*u))
        .filter_map(|(_, v)| *v)
        .collect()
}

/// R's `mean()`: sum/n plus a correcting second pass.
fn mean(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    Some(m + v.iter().map(|x| x - m).sum::<f64>() / n)
}

/// R's `median()`: the middle value, or the mean of the two middle values.
fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_methods() {
        let x = vec![Some(1.0), None, Some(2.0), Some(10.0), None];
        let m = impute(&x, None, &Imputation::Mean);
        assert_eq!(
            m.values,
            vec![
                Some(1.0),
                Some(13.0 / 3.0),
                Some(2.0),
                Some(10.0),
                Some(13.0 / 3.0)
            ]
        );
        assert_eq!(m.imputed, vec![1, 4]);
        let md = impute(&x, None, &Imputation::Median);
        assert_eq!(md.values[1], Some(2.0));
        let even = impute(&[Some(1.0), Some(4.0), None], None, &Imputation::Median);
        assert_eq!(even.values[2], Some(2.5));
        let z = impute(&x, None, &Imputation::Zero);
        assert_eq!(z.values[4], Some(0.0));
        let e = impute(&x, None, &Imputation::Exclude);
        assert_eq!(e.values, x);
        assert!(e.imputed.is_empty());
        let all_missing = impute(&[None, None], None, &Imputation::Mean);
        assert_eq!(all_missing.values, vec![None, None]);
        assert!(all_missing.imputed.is_empty());
    }

    #[test]
    fn group_methods_and_groups_without_data() {
        let x = vec![
            Some(1.0),
            Some(3.0),
            None,
            Some(10.0),
            None,
            None,
            None,
            Some(7.0),
        ];
        let g = [
            Some("a"),
            Some("a"),
            Some("a"),
            Some("b"),
            Some("b"),
            Some("c"),
            None,
            Some("a"),
        ];
        let out = impute(&x, Some(&g), &Imputation::GroupMean { group: "g".into() });
        // a: mean(1, 3, 7) = 11/3; b: 10; c: nothing observed → stays missing; no group → missing.
        assert_eq!(
            out.values,
            vec![
                Some(1.0),
                Some(3.0),
                Some(11.0 / 3.0),
                Some(10.0),
                Some(10.0),
                None,
                None,
                Some(7.0)
            ]
        );
        assert_eq!(out.imputed, vec![2, 4]);
        let med = impute(&x, Some(&g), &Imputation::GroupMedian { group: "g".into() });
        assert_eq!(med.values[2], Some(3.0));
        assert_eq!(med.values[4], Some(10.0));
        assert_eq!(med.values[5], None);
    }

    #[test]
    fn needs_group() {
        assert!(Imputation::GroupMean { group: "p".into() }.needs_group());
        assert!(Imputation::GroupMedian { group: "p".into() }.needs_group());
        assert_eq!(
            Imputation::GroupMedian { group: "p".into() }.group(),
            Some("p")
        );
        for m in [
            Imputation::Exclude,
            Imputation::Zero,
            Imputation::Mean,
            Imputation::Median,
        ] {
            assert!(!m.needs_group());
        }
    }

    #[test]
    #[should_panic(expected = "without the unit groups")]
    fn group_method_without_groups_is_a_wiring_error() {
        impute(&[None], None, &Imputation::GroupMean { group: "p".into() });
    }

    /// SplitMix64: a tiny seeded generator so the property test is reproducible.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn property_observed_values_never_change() {
        let mut rng = Rng(20240611);
        let labels = ["east", "west", "north"];
        for case in 0..2000 {
            let n = 1 + (rng.next() % 40) as usize;
            let p_missing = rng.unit();
            let x: Vec<Option<f64>> = (0..n)
                .map(|_| {
                    let v = (rng.unit() - 0.5) * 10f64.powi((rng.next() % 12) as i32 - 4);
                    (rng.unit() >= p_missing).then_some(v)
                })
                .collect();
            let g: Vec<Option<&str>> = (0..n)
                .map(|_| {
                    let k = (rng.next() % 4) as usize;
                    labels.get(k).copied()
                })
                .collect();
            let (lo, hi) = x
                .iter()
                .flatten()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(*v), b.max(*v))
                });
            for m in [
                Imputation::Exclude,
                Imputation::Zero,
                Imputation::Mean,
                Imputation::Median,
                Imputation::GroupMean { group: "g".into() },
                Imputation::GroupMedian { group: "g".into() },
            ] {
                let out = impute(&x, Some(&g), &m);
                assert_eq!(out.values.len(), n);
                for (u, xu) in x.iter().enumerate() {
                    match *xu {
                        Some(v) => assert_eq!(
                            out.values[u].map(f64::to_bits),
                            Some(v.to_bits()),
                            "case {case} {m:?} changed an observed value"
                        ),
                        None => {
                            assert_eq!(out.imputed.contains(&u), out.values[u].is_some());
                            if let (Some(f), false) = (out.values[u], m == Imputation::Zero) {
                                assert!(f >= lo - 1e-9 * lo.abs() && f <= hi + 1e-9 * hi.abs());
                            }
                        }
                    }
                }
                assert!(out.imputed.windows(2).all(|w| w[0] < w[1]));
                assert!(out.imputed.iter().all(|&u| x[u].is_none()));
            }
        }
    }

    #[test]
    fn serde_format() {
        #[derive(Deserialize)]
        struct W {
            m: Imputation,
        }
        let w: W =
            toml::from_str(r#"m = { method = "group-mean", group = "EurAsia_group" }"#).unwrap();
        assert_eq!(
            w.m,
            Imputation::GroupMean {
                group: "EurAsia_group".into()
            }
        );
        let w: W = toml::from_str(r#"m = { method = "exclude" }"#).unwrap();
        assert_eq!(w.m, Imputation::Exclude);
        assert!(toml::from_str::<W>(r#"m = { method = "group-median" }"#).is_err());
    }
}
