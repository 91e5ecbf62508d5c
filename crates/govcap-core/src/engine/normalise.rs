//! Normalisation: bring one indicator column onto a common scale, after applying its direction.
//!
//! The formulas follow COINr 1.1.14 (`R/normalise.R`, MIT, © 2022 William Becker) so that results
//! can be checked against COINr's published outputs. COINr multiplies the column by its direction
//! (+1 / −1) before most normalisers; goalposts and distance-to-target instead take the direction as
//! a parameter and work on the raw values with their own "negative" formulas. Where COINr would
//! silently return NaN (max = min, zero spread, target at the worst value) we return an error
//! naming the situation instead, because a NaN score would flow unnoticed into every aggregate.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Every way an engine step can refuse its input.
///
/// One enum for all engine steps so the pipeline can report any failure the same way; the
/// messages are written for the person who configured the framework, not for a programmer.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    /// Direction other than +1 / −1.
    #[error("the direction must be +1 or -1, but it is {0}")]
    InvalidDirection(f64),
    /// A configuration parameter that makes the formula meaningless (e.g. equal goalposts).
    #[error("invalid parameter for {method}: {reason}")]
    InvalidParameter {
        /// Method or step name.
        method: &'static str,
        /// What is wrong, in plain words.
        reason: String,
    },
    /// Observed values that are NaN or infinite.
    #[error("{step}: the value at unit position {position} is not a finite number ({value})")]
    NonFinite {
        /// Step name.
        step: &'static str,
        /// Unit position in the column.
        position: usize,
        /// The offending value.
        value: f64,
    },
    /// The observed values are all equal, so a range-based normaliser would divide by zero.
    #[error(
        "{method} cannot normalise this indicator: all {count} observed values are equal \
         (max = min = {value}), so its range is zero"
    )]
    ConstantColumn {
        /// Method name.
        method: &'static str,
        /// Number of observed values.
        count: usize,
        /// The single observed value.
        value: f64,
    },
    /// Too few observed values for the method (e.g. a z-score of one value).
    #[error("{method} needs at least {needed} observed values, but this indicator has {found}")]
    TooFewValues {
        /// Method name.
        method: &'static str,
        /// Minimum number of observed values.
        needed: usize,
        /// Number found.
        found: usize,
    },
    /// Distance-to-reference without a usable reference value.
    #[error("distance-to-reference needs the reference unit's value of this indicator, but it is missing")]
    MissingReference,
    /// The reference or target does not lie beyond the worst observed value.
    #[error(
        "{method}: the {what} ({value}) must be better than the worst observed value ({worst}), \
         otherwise scores are negative or divide by zero"
    )]
    NotBeyondWorst {
        /// Method name.
        method: &'static str,
        /// "reference value" or "target".
        what: &'static str,
        /// Reference or target, in the raw scale.
        value: f64,
        /// Worst observed value, in the raw scale.
        worst: f64,
    },
    /// A divisor of zero inside a normaliser (e.g. fraction of a zero maximum).
    #[error("{method}: {reason}")]
    DivisionByZero {
        /// Method name.
        method: &'static str,
        /// What is zero.
        reason: String,
    },
    /// Two inputs that must have the same length do not.
    #[error("{what}: expected {expected} entries, found {found}")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// A zero denominator where the indicator has a value.
    #[error("denomination: the denominator is zero at unit position {position}, cannot divide")]
    ZeroDenominator {
        /// Unit position.
        position: usize,
    },
    /// Geometric mean of a value that is zero or negative.
    #[error(
        "geometric aggregation needs strictly positive values, but child {child} has {value} \
         at unit position {unit}; normalise into a positive range (e.g. min-max 1..100)"
    )]
    NonPositiveGeometric {
        /// Child index.
        child: usize,
        /// Unit position.
        unit: usize,
        /// Offending value.
        value: f64,
    },
    /// Harmonic mean of a zero value.
    #[error(
        "harmonic aggregation cannot use a value of zero (child {child}, unit position {unit}); \
         normalise into a positive range (e.g. min-max 1..100)"
    )]
    ZeroHarmonic {
        /// Child index.
        child: usize,
        /// Unit position.
        unit: usize,
    },
    /// Generalised mean of a value outside its domain.
    #[error(
        "generalised-mean aggregation with p = {p} cannot use the value {value} \
         (child {child}, unit position {unit})"
    )]
    GeneralisedDomain {
        /// Exponent.
        p: f64,
        /// Child index.
        child: usize,
        /// Unit position.
        unit: usize,
        /// Offending value.
        value: f64,
    },
    /// The weights of a unit's available children add up to zero.
    #[error(
        "aggregation: the children that unit position {unit} has values for all have weight 0, \
         so no weighted mean exists"
    )]
    ZeroWeightSum {
        /// Unit position.
        unit: usize,
    },
}

/// How an indicator column is brought onto a common scale (the `normalisation` table of a framework).
///
/// Serialised with a `method` tag in kebab-case, e.g. `{ method = "min-max", low = 0.0, high = 100.0 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Normalisation {
    /// `(x − min)/(max − min)·(high − low) + low` on direction-adjusted x (COINr `n_minmax`).
    MinMax {
        /// Score of the worst unit.
        #[serde(default = "default_low")]
        low: f64,
        /// Score of the best unit.
        #[serde(default = "default_high")]
        high: f64,
    },
    /// `(x − mean)/sd·sd' + mean'` with the sample sd on direction-adjusted x (COINr `n_zscore`).
    ZScore {
        /// Target mean.
        #[serde(default)]
        mean: f64,
        /// Target standard deviation (> 0).
        #[serde(default = "default_one")]
        sd: f64,
    },
    /// Fixed goalposts on raw x: `(x − lower)/(upper − lower)`, or `(x − upper)/(lower − upper)` for
    /// direction −1, optionally clipped to [0, 1], times `scale` (COINr `n_goalposts`).
    Goalposts {
        /// Lower goalpost (raw units).
        lower: f64,
        /// Upper goalpost (raw units).
        upper: f64,
        /// Factor applied after the fraction.
        #[serde(default = "default_one")]
        scale: f64,
        /// Clip to the goalposts.
        #[serde(default = "default_true")]
        truncate: bool,
    },
    /// `1 − (x_ref − x)/(x_ref − min)` on direction-adjusted x; the reference is a unit's value
    /// (COINr `n_dist2ref`).
    DistToReference {
        /// Code of the reference unit; the pipeline looks up its value.
        reference: String,
        /// Cap scores above the reference at 1.
        #[serde(default)]
        cap: bool,
    },
    /// Raw x: `(x − min)/(target − min)`, or `(max − x)/(max − target)` for direction −1
    /// (COINr `n_dist2targ`).
    DistToTarget {
        /// Target value (raw units).
        target: f64,
        /// Cap scores that pass the target at 1.
        #[serde(default)]
        cap: bool,
    },
    /// `1 − (max − x)/(max − min)` on direction-adjusted x (COINr `n_dist2max`).
    DistToMax,
    /// Fraction of the best value: `x / max` for direction +1, `min / x` for direction −1.
    FracMax,
    /// Rank, ties take the lowest rank, best = highest (COINr `n_rank`).
    Rank,
    /// `(rank − 1)/(n − 1)` (COINr `n_prank`).
    PercentRank,
    /// `rank − 1` (COINr `n_borda`).
    Borda,
    /// No scaling; only the direction is applied (COINr `"none"`).
    None,
}

fn default_low() -> f64 {
    0.0
}
fn default_high() -> f64 {
    100.0
}
fn default_one() -> f64 {
    1.0
}
fn default_true() -> bool {
    true
}

impl Default for Normalisation {
    /// COINr's default: min-max onto 0..100.
    fn default() -> Self {
        Normalisation::MinMax {
            low: 0.0,
            high: 100.0,
        }
    }
}

/// The interval every normalised value is guaranteed to lie in, whatever the data, if there is one.
///
/// Used at configuration time: geometric/harmonic aggregation must never see values ≤ 0 (COINr
/// issue #47) and points-scale leaves must stay in [0, 1]. `None` means no data-independent bound
/// (z-scores, ranks, untruncated goalposts, …).
pub fn output_range(method: &Normalisation) -> Option<(f64, f64)> {
    match method {
        Normalisation::MinMax { low, high } => Some((low.min(*high), low.max(*high))),
        Normalisation::Goalposts {
            scale,
            truncate: true,
            ..
        } => Some((0.0f64.min(*scale), 0.0f64.max(*scale))),
        Normalisation::DistToReference { cap: true, .. }
        | Normalisation::DistToTarget { cap: true, .. }
        | Normalisation::DistToMax
        | Normalisation::PercentRank => Some((0.0, 1.0)),
        _ => None,
    }
}

/// Normalise one indicator column (`None` = missing; missing stays missing).
///
/// `direction` is +1 when more is better and −1 when less is better; every method puts the best
/// unit at the top of its scale. `reference_value` is the raw value of the reference unit and is
/// only used by [`Normalisation::DistToReference`]. A column with no observed value comes back
/// all-missing.
pub fn normalise(
    x: &[Option<f64>],
    direction: f64,
    method: &Normalisation,
    reference_value: Option<f64>,
) -> Result<Vec<Option<f64>>, EngineError> {
    if direction != 1.0 && direction != -1.0 {
        return Err(EngineError::InvalidDirection(direction));
    }
    check_finite(x, "normalisation")?;
    let observed: Vec<f64> = x.iter().flatten().copied().collect();
    if observed.is_empty() {
        return Ok(vec![None; x.len()]);
    }
    // Direction-adjusted column, as COINr's Normalise.numeric does before calling n_*().
    let xd: Vec<Option<f64>> = x.iter().map(|v| v.map(|v| v * direction)).collect();
    let (dmin, dmax) = min_max(xd.iter().flatten().copied());
    let n = observed.len();
    let map = |col: &[Option<f64>], f: &dyn Fn(f64) -> f64| -> Vec<Option<f64>> {
        col.iter().map(|v| v.map(f)).collect()
    };

    let out = match method {
        Normalisation::MinMax { low, high } => {
            let (low, high) = (*low, *high);
            check_param_finite("min-max", &[("low", low), ("high", high)])?;
            require_range("min-max", &observed, dmin, dmax)?;
            map(&xd, &|v| (v - dmin) / (dmax - dmin) * (high - low) + low)
        }
        Normalisation::ZScore { mean, sd } => {
            let (m, s) = (*mean, *sd);
            check_param_finite("z-score", &[("mean", m), ("sd", s)])?;
            if s <= 0.0 {
                return Err(EngineError::InvalidParameter {
                    method: "z-score",
                    reason: format!("the target standard deviation must be positive, not {s}"),
                });
            }
            if n < 2 {
                return Err(EngineError::TooFewValues {
                    method: "z-score",
                    needed: 2,
                    found: n,
                });
            }
            let obs_d: Vec<f64> = xd.iter().flatten().copied().collect();
            let mu = mean_of(&obs_d);
            let ss: f64 = obs_d.iter().map(|v| (v - mu) * (v - mu)).sum();
            let sample_sd = (ss / (n as f64 - 1.0)).sqrt();
            if sample_sd == 0.0 {
                return Err(EngineError::ConstantColumn {
                    method: "z-score",
                    count: n,
                    value: observed[0],
                });
            }
            map(&xd, &|v| (v - mu) / sample_sd * s + m)
        }
        Normalisation::Goalposts {
            lower,
            upper,
            scale,
            truncate,
        } => {
            let (l, u, a) = (*lower, *upper, *scale);
            check_param_finite("goalposts", &[("lower", l), ("upper", u), ("scale", a)])?;
            if l == u {
                return Err(EngineError::InvalidParameter {
                    method: "goalposts",
                    reason: format!("the lower and upper goalposts are equal ({l})"),
                });
            }
            // Raw x: COINr passes the direction to n_goalposts instead of flipping x.
            let frac = |v: f64| {
                let y = if direction > 0.0 {
                    (v - l) / (u - l)
                } else {
                    (v - u) / (l - u)
                };
                let y = if *truncate { y.clamp(0.0, 1.0) } else { y };
                y * a
            };
            map(x, &frac)
        }
        Normalisation::DistToReference { cap, .. } => {
            let r = reference_value.ok_or(EngineError::MissingReference)?;
            if !r.is_finite() {
                return Err(EngineError::MissingReference);
            }
            let rd = r * direction;
            if rd <= dmin {
                return Err(EngineError::NotBeyondWorst {
                    method: "distance-to-reference",
                    what: "reference value",
                    value: r,
                    worst: dmin * direction,
                });
            }
            let cap = *cap;
            map(&xd, &|v| {
                let y = 1.0 - (rd - v) / (rd - dmin);
                if cap && y > 1.0 {
                    1.0
                } else {
                    y
                }
            })
        }
        Normalisation::DistToTarget { target, cap } => {
            let t = *target;
            check_param_finite("distance-to-target", &[("target", t)])?;
            // Raw x: COINr passes the direction to n_dist2targ.
            let (rmin, rmax) = min_max(observed.iter().copied());
            let cap = *cap;
            let capped = move |y: f64| if cap && y > 1.0 { 1.0 } else { y };
            if direction > 0.0 {
                if t <= rmin {
                    return Err(EngineError::NotBeyondWorst {
                        method: "distance-to-target",
                        what: "target",
                        value: t,
                        worst: rmin,
                    });
                }
                map(x, &|v| capped((v - rmin) / (t - rmin)))
            } else {
                if t >= rmax {
                    return Err(EngineError::NotBeyondWorst {
                        method: "distance-to-target",
                        what: "target",
                        value: t,
                        worst: rmax,
                    });
                }
                map(x, &|v| capped((rmax - v) / (rmax - t)))
            }
        }
        Normalisation::DistToMax => {
            require_range("distance-to-max", &observed, dmin, dmax)?;
            map(&xd, &|v| 1.0 - (dmax - v) / (dmax - dmin))
        }
        Normalisation::FracMax => {
            // COINr computes (dir·x)/max(dir·x); for direction −1 that ranks the worst unit
            // highest, so for −1 we use the mirror ratio best/x = min(x)/x instead.
            if direction > 0.0 {
                if dmax == 0.0 {
                    return Err(EngineError::DivisionByZero {
                        method: "fraction-of-max",
                        reason: "the maximum observed value is 0".into(),
                    });
                }
                map(x, &|v| v / dmax)
            } else {
                let (rmin, _) = min_max(observed.iter().copied());
                if let Some(pos) = x.iter().position(|v| matches!(v, Some(v) if *v <= 0.0)) {
                    return Err(EngineError::InvalidParameter {
                        method: "fraction-of-max",
                        reason: format!(
                            "with direction -1 the score is min/x, which needs positive values, \
                             but unit position {pos} has {}",
                            x[pos].unwrap_or_default()
                        ),
                    });
                }
                map(x, &|v| rmin / v)
            }
        }
        Normalisation::Rank => ranks_min(&xd),
        Normalisation::PercentRank => {
            if n < 2 {
                return Err(EngineError::TooFewValues {
                    method: "percent-rank",
                    needed: 2,
                    found: n,
                });
            }
            let denom = n as f64 - 1.0;
            ranks_min(&xd)
                .into_iter()
                .map(|r| r.map(|r| (r - 1.0) / denom))
                .collect()
        }
        Normalisation::Borda => ranks_min(&xd)
            .into_iter()
            .map(|r| r.map(|r| r - 1.0))
            .collect(),
        Normalisation::None => xd,
    };
    Ok(out)
}

/// R's `rank(x, ties.method = "min", na.last = "keep")`: 1 = lowest, ties share the lowest rank.
fn ranks_min(x: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<(f64, usize)> = x
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (v, i)))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = vec![None; x.len()];
    let mut rank = 1.0;
    for (k, &(v, i)) in order.iter().enumerate() {
        if k > 0 && v != order[k - 1].0 {
            rank = (k + 1) as f64;
        }
        out[i] = Some(rank);
    }
    out
}

fn check_finite(x: &[Option<f64>], step: &'static str) -> Result<(), EngineError> {
    for (position, v) in x.iter().enumerate() {
        if let Some(v) = v {
            if !v.is_finite() {
                return Err(EngineError::NonFinite {
                    step,
                    position,
                    value: *v,
                });
            }
        }
    }
    Ok(())
}

fn check_param_finite(method: &'static str, params: &[(&str, f64)]) -> Result<(), EngineError> {
    for (name, v) in params {
        if !v.is_finite() {
            return Err(EngineError::InvalidParameter {
                method,
                reason: format!("{name} must be a finite number, not {v}"),
            });
        }
    }
    Ok(())
}

fn require_range(
    method: &'static str,
    observed: &[f64],
    min: f64,
    max: f64,
) -> Result<(), EngineError> {
    if max == min {
        Err(EngineError::ConstantColumn {
            method,
            count: observed.len(),
            value: observed[0],
        })
    } else {
        Ok(())
    }
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// Mean with a second correcting pass, as R's `mean()` does.
fn mean_of(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    m + v.iter().map(|x| x - m).sum::<f64>() / n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    fn close(a: &[Option<f64>], b: &[Option<f64>]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            match (x, y) {
                (Some(x), Some(y)) => assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}"),
                (None, None) => {}
                _ => panic!("{a:?} vs {b:?}"),
            }
        }
    }

    const MM: Normalisation = Normalisation::MinMax {
        low: 0.0,
        high: 100.0,
    };

    #[test]
    fn min_max_both_directions_and_missing() {
        let x = vec![Some(2.0), None, Some(4.0), Some(10.0)];
        close(
            &normalise(&x, 1.0, &MM, None).unwrap(),
            &[Some(0.0), None, Some(25.0), Some(100.0)],
        );
        // −1: x·dir = −2, −4, −10 → min −10, max −2: (−2+10)/8 = 1, (−4+10)/8 = 0.75, 0.
        close(
            &normalise(&x, -1.0, &MM, None).unwrap(),
            &[Some(100.0), None, Some(75.0), Some(0.0)],
        );
        let mm1 = Normalisation::MinMax {
            low: 1.0,
            high: 10.0,
        };
        close(
            &normalise(&col(&[0.0, 5.0, 10.0]), -1.0, &mm1, None).unwrap(),
            &col(&[10.0, 5.5, 1.0]),
        );
    }

    #[test]
    fn constant_column_is_an_error_not_nan() {
        let e = normalise(&col(&[3.0, 3.0, 3.0]), 1.0, &MM, None).unwrap_err();
        assert!(matches!(e, EngineError::ConstantColumn { count: 3, .. }));
        assert!(e.to_string().contains("max = min"), "{e}");
        let e = normalise(&col(&[3.0, 3.0]), -1.0, &Normalisation::DistToMax, None).unwrap_err();
        assert!(matches!(e, EngineError::ConstantColumn { .. }));
        let z = Normalisation::ZScore { mean: 0.0, sd: 1.0 };
        assert!(matches!(
            normalise(&col(&[3.0, 3.0]), 1.0, &z, None),
            Err(EngineError::ConstantColumn { .. })
        ));
        assert!(matches!(
            normalise(&col(&[1.0, 2.0]), 0.5, &MM, None),
            Err(EngineError::InvalidDirection(_))
        ));
        assert!(matches!(
            normalise(&[Some(f64::NAN), Some(1.0)], 1.0, &MM, None),
            Err(EngineError::NonFinite { position: 0, .. })
        ));
    }

    #[test]
    fn all_missing_column_stays_missing() {
        assert_eq!(
            normalise(&[None, None], 1.0, &MM, None).unwrap(),
            vec![None, None]
        );
    }

    #[test]
    fn z_score_both_directions() {
        // x = 1,2,3,6: mean 3, sample var = (4+1+0+9)/3 = 14/3.
        let x = col(&[1.0, 2.0, 3.0, 6.0]);
        let sd = (14.0f64 / 3.0).sqrt();
        let z = Normalisation::ZScore {
            mean: 10.0,
            sd: 2.0,
        };
        let expect: Vec<_> = [1.0, 2.0, 3.0, 6.0]
            .iter()
            .map(|v| Some((v - 3.0) / sd * 2.0 + 10.0))
            .collect();
        close(&normalise(&x, 1.0, &z, None).unwrap(), &expect);
        // −1 mirrors around the target mean.
        let mirrored: Vec<_> = expect.iter().map(|v| v.map(|v| 20.0 - v)).collect();
        close(&normalise(&x, -1.0, &z, None).unwrap(), &mirrored);
    }

    #[test]
    fn goalposts_both_directions_match_coinr_examples() {
        let gp = Normalisation::Goalposts {
            lower: 0.0,
            upper: 10.0,
            scale: 1.0,
            truncate: true,
        };
        // COINr docs: n_goalposts(1, c(0,10,1)) = 0.1 ; direction = -1 → 0.9.
        close(
            &normalise(&col(&[1.0]), 1.0, &gp, None).unwrap(),
            &col(&[0.1]),
        );
        close(
            &normalise(&col(&[1.0]), -1.0, &gp, None).unwrap(),
            &col(&[0.9]),
        );
        // Truncation on both sides, scale 100, direction −1: (x − 10)/(0 − 10).
        let gp100 = Normalisation::Goalposts {
            lower: 0.0,
            upper: 10.0,
            scale: 100.0,
            truncate: true,
        };
        close(
            &normalise(&col(&[-5.0, 2.5, 12.0]), -1.0, &gp100, None).unwrap(),
            &col(&[100.0, 75.0, 0.0]),
        );
        let loose = Normalisation::Goalposts {
            lower: 0.0,
            upper: 10.0,
            scale: 1.0,
            truncate: false,
        };
        close(
            &normalise(&col(&[-5.0, 12.0]), -1.0, &loose, None).unwrap(),
            &col(&[1.5, -0.2]),
        );
        close(
            &normalise(&col(&[-5.0, 12.0]), 1.0, &loose, None).unwrap(),
            &col(&[-0.5, 1.2]),
        );
    }

    #[test]
    fn dist_to_reference_both_directions() {
        let m = Normalisation::DistToReference {
            reference: "B".into(),
            cap: false,
        };
        let x = col(&[2.0, 4.0, 6.0, 10.0]);
        // +1, ref 6: 1 − (6 − x)/(6 − 2) = (x − 2)/4.
        close(
            &normalise(&x, 1.0, &m, Some(6.0)).unwrap(),
            &col(&[0.0, 0.5, 1.0, 2.0]),
        );
        let capped = Normalisation::DistToReference {
            reference: "B".into(),
            cap: true,
        };
        close(
            &normalise(&x, 1.0, &capped, Some(6.0)).unwrap(),
            &col(&[0.0, 0.5, 1.0, 1.0]),
        );
        // −1, ref 4: xd = −2,−4,−6,−10, ref −4, min −10: 1 − (−4 − xd)/6.
        close(
            &normalise(&x, -1.0, &m, Some(4.0)).unwrap(),
            &col(&[4.0 / 3.0, 1.0, 2.0 / 3.0, 0.0]),
        );
        assert_eq!(
            normalise(&x, 1.0, &m, None).unwrap_err(),
            EngineError::MissingReference
        );
        assert!(matches!(
            normalise(&x, 1.0, &m, Some(2.0)),
            Err(EngineError::NotBeyondWorst { .. })
        ));
    }

    #[test]
    fn dist_to_target_both_directions() {
        let x = col(&[2.0, 4.0, 6.0, 10.0]);
        let m = Normalisation::DistToTarget {
            target: 8.0,
            cap: false,
        };
        // +1: (x − 2)/(8 − 2).
        close(
            &normalise(&x, 1.0, &m, None).unwrap(),
            &col(&[0.0, 1.0 / 3.0, 2.0 / 3.0, 4.0 / 3.0]),
        );
        let capped = Normalisation::DistToTarget {
            target: 8.0,
            cap: true,
        };
        close(
            &normalise(&x, 1.0, &capped, None).unwrap(),
            &col(&[0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]),
        );
        // −1, target 4: (10 − x)/(10 − 4).
        let low = Normalisation::DistToTarget {
            target: 4.0,
            cap: false,
        };
        close(
            &normalise(&x, -1.0, &low, None).unwrap(),
            &col(&[8.0 / 6.0, 1.0, 4.0 / 6.0, 0.0]),
        );
        let low_cap = Normalisation::DistToTarget {
            target: 4.0,
            cap: true,
        };
        close(
            &normalise(&x, -1.0, &low_cap, None).unwrap(),
            &col(&[1.0, 1.0, 4.0 / 6.0, 0.0]),
        );
        // A target at or below the worst value would give 0/0 or negative scores.
        assert!(matches!(
            normalise(
                &x,
                1.0,
                &Normalisation::DistToTarget {
                    target: 2.0,
                    cap: true
                },
                None
            ),
            Err(EngineError::NotBeyondWorst { .. })
        ));
        assert!(matches!(
            normalise(
                &x,
                -1.0,
                &Normalisation::DistToTarget {
                    target: 12.0,
                    cap: true
                },
                None
            ),
            Err(EngineError::NotBeyondWorst { .. })
        ));
    }

    #[test]
    fn dist_to_max_and_frac_max_both_directions() {
        let x = col(&[2.0, 4.0, 10.0]);
        close(
            &normalise(&x, 1.0, &Normalisation::DistToMax, None).unwrap(),
            &col(&[0.0, 0.25, 1.0]),
        );
        close(
            &normalise(&x, -1.0, &Normalisation::DistToMax, None).unwrap(),
            &col(&[1.0, 0.75, 0.0]),
        );
        close(
            &normalise(&x, 1.0, &Normalisation::FracMax, None).unwrap(),
            &col(&[0.2, 0.4, 1.0]),
        );
        close(
            &normalise(&x, -1.0, &Normalisation::FracMax, None).unwrap(),
            &col(&[1.0, 0.5, 0.2]),
        );
        assert!(normalise(&col(&[0.0, 1.0]), -1.0, &Normalisation::FracMax, None).is_err());
        assert!(normalise(&col(&[0.0, 0.0]), 1.0, &Normalisation::FracMax, None).is_err());
    }

    #[test]
    fn ranks_both_directions_with_ties_and_missing() {
        let x = vec![Some(3.0), Some(1.0), None, Some(3.0), Some(7.0)];
        close(
            &normalise(&x, 1.0, &Normalisation::Rank, None).unwrap(),
            &[Some(2.0), Some(1.0), None, Some(2.0), Some(4.0)],
        );
        // −1: xd = −3, −1, −3, −7 → ranks 2, 4, 2, 1.
        close(
            &normalise(&x, -1.0, &Normalisation::Rank, None).unwrap(),
            &[Some(2.0), Some(4.0), None, Some(2.0), Some(1.0)],
        );
        close(
            &normalise(&x, -1.0, &Normalisation::Borda, None).unwrap(),
            &[Some(1.0), Some(3.0), None, Some(1.0), Some(0.0)],
        );
        close(
            &normalise(&x, -1.0, &Normalisation::PercentRank, None).unwrap(),
            &[Some(1.0 / 3.0), Some(1.0), None, Some(1.0 / 3.0), Some(0.0)],
        );
        close(
            &normalise(&x, 1.0, &Normalisation::PercentRank, None).unwrap(),
            &[Some(1.0 / 3.0), Some(0.0), None, Some(1.0 / 3.0), Some(1.0)],
        );
        assert!(normalise(&col(&[1.0]), 1.0, &Normalisation::PercentRank, None).is_err());
    }

    #[test]
    fn none_applies_only_the_direction() {
        close(
            &normalise(&col(&[1.0, -2.0]), -1.0, &Normalisation::None, None).unwrap(),
            &col(&[-1.0, 2.0]),
        );
    }

    #[test]
    fn outputs_stay_inside_output_range() {
        // Deterministic pseudo-random columns (xorshift), both directions, several methods.
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let methods = [
            Normalisation::MinMax {
                low: 1.0,
                high: 100.0,
            },
            Normalisation::Goalposts {
                lower: 20.0,
                upper: 80.0,
                scale: 100.0,
                truncate: true,
            },
            Normalisation::DistToTarget {
                target: 90.0,
                cap: true,
            },
            Normalisation::DistToReference {
                reference: "r".into(),
                cap: true,
            },
            Normalisation::DistToMax,
            Normalisation::PercentRank,
        ];
        for _ in 0..200 {
            let x: Vec<Option<f64>> = (0..12)
                .map(|_| {
                    let v = next() * 100.0;
                    (next() > 0.2).then_some(v)
                })
                .collect();
            let reference = x
                .iter()
                .flatten()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            for dir in [1.0, -1.0] {
                for m in &methods {
                    let m = match m {
                        // Keep the target beyond the worst value for direction −1 too.
                        Normalisation::DistToTarget { cap, .. } if dir < 0.0 => {
                            Normalisation::DistToTarget {
                                target: -1.0,
                                cap: *cap,
                            }
                        }
                        other => other.clone(),
                    };
                    let r = if dir > 0.0 {
                        reference
                    } else {
                        x.iter().flatten().copied().fold(f64::INFINITY, f64::min)
                    };
                    let Ok(y) = normalise(&x, dir, &m, Some(r)) else {
                        continue; // too few values in this draw
                    };
                    let (lo, hi) = output_range(&m).unwrap();
                    for v in y.iter().flatten() {
                        assert!(*v >= lo - 1e-12 && *v <= hi + 1e-12, "{m:?} {dir} gave {v}");
                    }
                    for (a, b) in x.iter().zip(&y) {
                        assert_eq!(a.is_some(), b.is_some());
                    }
                }
            }
        }
    }

    #[test]
    fn output_range_per_method() {
        assert_eq!(output_range(&MM), Some((0.0, 100.0)));
        assert_eq!(
            output_range(&Normalisation::Goalposts {
                lower: 0.0,
                upper: 1.0,
                scale: 1.0,
                truncate: false
            }),
            None
        );
        assert_eq!(
            output_range(&Normalisation::ZScore { mean: 0.0, sd: 1.0 }),
            None
        );
        assert_eq!(output_range(&Normalisation::Rank), None);
        assert_eq!(
            output_range(&Normalisation::DistToTarget {
                target: 1.0,
                cap: false
            }),
            None
        );
    }

    #[test]
    fn serde_format_is_kebab_tagged_with_defaults() {
        #[derive(Deserialize, Serialize)]
        struct W {
            n: Normalisation,
        }
        let w: W = toml::from_str(r#"n = { method = "min-max" }"#).unwrap();
        assert_eq!(w.n, MM);
        let w: W =
            toml::from_str(r#"n = { method = "goalposts", lower = 1.0, upper = 5.0 }"#).unwrap();
        assert_eq!(
            w.n,
            Normalisation::Goalposts {
                lower: 1.0,
                upper: 5.0,
                scale: 1.0,
                truncate: true
            }
        );
        let w: W = toml::from_str(r#"n = { method = "z-score" }"#).unwrap();
        assert_eq!(w.n, Normalisation::ZScore { mean: 0.0, sd: 1.0 });
        let w: W =
            toml::from_str(r#"n = { method = "dist-to-reference", reference = "AUT" }"#).unwrap();
        assert_eq!(
            w.n,
            Normalisation::DistToReference {
                reference: "AUT".into(),
                cap: false
            }
        );
        let w: W = toml::from_str(r#"n = { method = "percent-rank" }"#).unwrap();
        assert_eq!(w.n, Normalisation::PercentRank);
        // Round trip every variant through TOML.
        for n in [
            MM,
            Normalisation::DistToTarget {
                target: 3.0,
                cap: true,
            },
            Normalisation::DistToMax,
            Normalisation::FracMax,
            Normalisation::Rank,
            Normalisation::Borda,
            Normalisation::None,
        ] {
            let s = toml::to_string(&W { n: n.clone() }).unwrap();
            let back: W = toml::from_str(&s).unwrap();
            assert_eq!(back.n, n, "{s}");
        }
        assert!(toml::from_str::<W>(r#"n = { method = "minmax" }"#).is_err());
    }
}
