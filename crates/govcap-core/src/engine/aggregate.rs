//! Aggregation: combine the scores of a node's children into the node's score, unit by unit.
//!
//! Mirrors COINr's `a_amean`, `a_gmean`, `a_hmean`, `a_genmean` and `a_copeland`
//! (`R/aggregate.R`, MIT, © 2022 William Becker). For the means, the weights are renormalised
//! over the children a unit actually has (missing children drop out), so a unit with one missing
//! indicator is scored on the rest rather than losing the whole branch; a unit with no child
//! value at all gets no score.

use serde::{Deserialize, Serialize};

pub use super::normalise::EngineError;

/// How children are combined (the `aggregation` table of a framework).
///
/// Serialised with a `method` tag in kebab-case, e.g. `{ method = "generalised", p = 2.0 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Aggregation {
    /// `Σ w·x / Σ w` — fully compensatory weighted mean.
    Arithmetic,
    /// `exp(Σ w·ln x / Σ w)` — partial compensation; needs x > 0.
    Geometric,
    /// `Σ w / Σ (w/x)` — least compensatory mean; needs x ≠ 0.
    Harmonic,
    /// `(Σ w·x^p / Σ w)^(1/p)`, p ≠ 0 — tunes compensation between the harmonic (−1) and arithmetic (1).
    Generalised {
        /// The exponent.
        p: f64,
    },
    /// Copeland outranking: row sums of ±1/0 pairwise wins across units — non-compensatory.
    Copeland,
}

impl Aggregation {
    /// Whether every input must be strictly positive; checked at configuration time against the
    /// children's normalisation range (COINr issue #47: geometric mean after min-max 0..100).
    pub fn requires_positive(&self) -> bool {
        match self {
            Aggregation::Geometric | Aggregation::Harmonic => true,
            Aggregation::Generalised { p } => *p < 0.0,
            Aggregation::Arithmetic | Aggregation::Copeland => false,
        }
    }

    /// Whether every input must be zero or more (true whenever [`Self::requires_positive`] is).
    pub fn requires_non_negative(&self) -> bool {
        self.requires_positive() || matches!(self, Aggregation::Generalised { .. })
    }
}

/// Aggregate children into their parent: `children[c][u]` is child `c`'s value for unit `u`,
/// `weights[c]` its (relative, non-negative) weight.
///
/// Returns one value per unit, `None` where the unit has no child value. Errors name the child
/// and unit position when a value is outside the method's domain.
pub fn aggregate(
    children: &[&[Option<f64>]],
    weights: &[f64],
    method: &Aggregation,
) -> Result<Vec<Option<f64>>, EngineError> {
    let Some(first) = children.first() else {
        return Err(EngineError::InvalidParameter {
            method: "aggregation",
            reason: "a node needs at least one child to aggregate".into(),
        });
    };
    let n_units = first.len();
    for c in children {
        if c.len() != n_units {
            return Err(EngineError::LengthMismatch {
                what: "aggregation: child column",
                expected: n_units,
                found: c.len(),
            });
        }
    }
    if weights.len() != children.len() {
        return Err(EngineError::LengthMismatch {
            what: "aggregation: weights",
            expected: children.len(),
            found: weights.len(),
        });
    }
    if let Some(w) = weights.iter().find(|w| !w.is_finite() || **w < 0.0) {
        return Err(EngineError::InvalidParameter {
            method: "aggregation",
            reason: format!("weights must be finite and not negative, found {w}"),
        });
    }
    for c in children {
        for (position, v) in c.iter().enumerate() {
            if let Some(v) = v {
                if !v.is_finite() {
                    return Err(EngineError::NonFinite {
                        step: "aggregation",
                        position,
                        value: *v,
                    });
                }
            }
        }
    }
    if let Aggregation::Generalised { p } = method {
        if *p == 0.0 || !p.is_finite() {
            return Err(EngineError::InvalidParameter {
                method: "generalised mean",
                reason: format!(
                    "p must be a finite non-zero number, not {p} (use geometric for p = 0)"
                ),
            });
        }
    }
    check_domain(children, method)?;
    if let Aggregation::Copeland = method {
        return Ok(copeland(children, weights, n_units));
    }

    // One buffer for every unit's available (weight, value) pairs: this runs per unit and node.
    let mut avail: Vec<(f64, f64)> = Vec::with_capacity(children.len());
    (0..n_units)
        .map(|u| {
            avail.clear();
            avail.extend(
                children
                    .iter()
                    .zip(weights)
                    .filter_map(|(c, w)| c[u].map(|x| (*w, x))),
            );
            if avail.is_empty() {
                return Ok(None);
            }
            let sw: f64 = avail.iter().map(|(w, _)| w).sum();
            if sw == 0.0 {
                return Err(EngineError::ZeroWeightSum { unit: u });
            }
            let v = match method {
                // Σ w·x / Σ w (COINr a_amean renormalises the weights first; dividing once at the
                // end keeps exact ties tied, e.g. equal component sums under equal weights).
                Aggregation::Arithmetic => avail.iter().map(|(w, x)| w * x).sum::<f64>() / sw,
                Aggregation::Geometric => {
                    (avail.iter().map(|(w, x)| w * x.ln()).sum::<f64>() / sw).exp()
                }
                Aggregation::Harmonic => sw / avail.iter().map(|(w, x)| w / x).sum::<f64>(),
                Aggregation::Generalised { p } => {
                    (avail.iter().map(|(w, x)| w * x.powf(*p)).sum::<f64>() / sw).powf(1.0 / p)
                }
                Aggregation::Copeland => unreachable!("handled above"),
            };
            Ok(Some(v))
        })
        .collect()
}

/// COINr stops the whole aggregation on the first value outside the domain; so do we, naming it.
fn check_domain(children: &[&[Option<f64>]], method: &Aggregation) -> Result<(), EngineError> {
    for (child, c) in children.iter().enumerate() {
        for (unit, v) in c.iter().enumerate() {
            let Some(value) = *v else { continue };
            match method {
                Aggregation::Geometric if value <= 0.0 => {
                    return Err(EngineError::NonPositiveGeometric { child, unit, value })
                }
                Aggregation::Harmonic if value == 0.0 => {
                    return Err(EngineError::ZeroHarmonic { child, unit })
                }
                Aggregation::Generalised { p } if value < 0.0 || (value == 0.0 && *p < 0.0) => {
                    return Err(EngineError::GeneralisedDomain {
                        p: *p,
                        child,
                        unit,
                        value,
                    })
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Outranking scores, tolerance for deciding that a pairwise share is exactly one half.
const TIE_TOL: f64 = 1e-12;

/// COINr `a_copeland`: with weights scaled to sum 1, `O[i][j] = Σ w·[x_i > x_j] + ½ Σ w·[x_i = x_j]`
/// over the children both units have, computed for i < j with `O[j][i] = 1 − O[i][j]`; entries
/// above ½ count +1, below −1, equal 0; the score is the row sum. Units without any child value
/// are left out of the comparison and get `None` (COINr would score them as losing every upper
/// pair and winning every lower one). A share within 1e-12 of ½ counts as a tie, so a tie does
/// not depend on floating-point rounding of the weights.
fn copeland(children: &[&[Option<f64>]], weights: &[f64], n_units: usize) -> Vec<Option<f64>> {
    let total: f64 = weights.iter().sum();
    let w: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let present: Vec<usize> = (0..n_units)
        .filter(|&u| children.iter().any(|c| c[u].is_some()))
        .collect();
    let sign = |o: f64| {
        if (o - 0.5).abs() <= TIE_TOL {
            0.0
        } else if o > 0.5 {
            1.0
        } else {
            -1.0
        }
    };
    let mut score = vec![0.0; n_units];
    for (a, &i) in present.iter().enumerate() {
        for &j in &present[a + 1..] {
            let mut o = 0.0;
            let mut half = 0.0;
            for (c, wk) in children.iter().zip(&w) {
                if let (Some(xi), Some(xj)) = (c[i], c[j]) {
                    if xi > xj {
                        o += wk;
                    } else if xi == xj {
                        half += wk;
                    }
                }
            }
            let o_ij = o + half / 2.0;
            score[i] += sign(o_ij);
            score[j] += sign(1.0 - o_ij);
        }
    }
    let mut out = vec![None; n_units];
    for &u in &present {
        out[u] = Some(score[u]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[Option<f64>], b: &[Option<f64>]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            match (x, y) {
                (Some(x), Some(y)) => assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}"),
                (None, None) => {}
                _ => panic!("{a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn arithmetic_reweights_over_available_children() {
        let a = [Some(10.0), Some(10.0), None];
        let b = [Some(40.0), None, None];
        let c = [Some(70.0), Some(70.0), None];
        let out = aggregate(&[&a, &b, &c], &[1.0, 2.0, 1.0], &Aggregation::Arithmetic).unwrap();
        // unit 0: (10 + 80 + 70)/4 = 40; unit 1: (10 + 70)/2 = 40; unit 2: nothing → None.
        close(&out, &[Some(40.0), Some(40.0), None]);
    }

    #[test]
    fn geometric_harmonic_generalised_by_hand() {
        let a = [Some(1.0), Some(4.0)];
        let b = [Some(4.0), None];
        let w = [1.0, 3.0];
        // geometric: exp((ln 1 + 3 ln 4)/4) = 4^(3/4).
        close(
            &aggregate(&[&a, &b], &w, &Aggregation::Geometric).unwrap(),
            &[Some(4f64.powf(0.75)), Some(4.0)],
        );
        // harmonic: 4 / (1/1 + 3/4) = 16/7.
        close(
            &aggregate(&[&a, &b], &w, &Aggregation::Harmonic).unwrap(),
            &[Some(16.0 / 7.0), Some(4.0)],
        );
        // p = 2: sqrt((1 + 3·16)/4) = sqrt(49/4) = 3.5.
        close(
            &aggregate(&[&a, &b], &w, &Aggregation::Generalised { p: 2.0 }).unwrap(),
            &[Some(3.5), Some(4.0)],
        );
        // p = 1 is the arithmetic mean, p = −1 the harmonic one.
        let ar = aggregate(&[&a, &b], &w, &Aggregation::Arithmetic).unwrap();
        close(
            &aggregate(&[&a, &b], &w, &Aggregation::Generalised { p: 1.0 }).unwrap(),
            &ar,
        );
        close(
            &aggregate(&[&a, &b], &w, &Aggregation::Generalised { p: -1.0 }).unwrap(),
            &[Some(16.0 / 7.0), Some(4.0)],
        );
    }

    #[test]
    fn domain_errors_name_the_situation() {
        let a = [Some(1.0), Some(0.0)];
        let e = aggregate(&[&a], &[1.0], &Aggregation::Geometric).unwrap_err();
        assert_eq!(
            e,
            EngineError::NonPositiveGeometric {
                child: 0,
                unit: 1,
                value: 0.0
            }
        );
        assert!(e.to_string().contains("strictly positive"), "{e}");
        let e = aggregate(&[&a], &[1.0], &Aggregation::Harmonic).unwrap_err();
        assert_eq!(e, EngineError::ZeroHarmonic { child: 0, unit: 1 });
        // Harmonic, like COINr, accepts negatives; only zero is refused.
        assert!(aggregate(&[&[Some(-1.0), Some(2.0)]], &[1.0], &Aggregation::Harmonic).is_ok());
        assert!(aggregate(&[&a], &[1.0], &Aggregation::Generalised { p: 0.0 }).is_err());
        assert!(aggregate(&[&a], &[1.0], &Aggregation::Generalised { p: -2.0 }).is_err());
        assert!(aggregate(&[&a], &[1.0], &Aggregation::Generalised { p: 2.0 }).is_ok());
        assert!(aggregate(&[&a], &[-1.0], &Aggregation::Arithmetic).is_err());
        assert!(aggregate(&[&a], &[1.0, 1.0], &Aggregation::Arithmetic).is_err());
        assert!(aggregate(&[&a, &[Some(1.0)]], &[1.0, 1.0], &Aggregation::Arithmetic).is_err());
        assert!(aggregate(&[], &[], &Aggregation::Arithmetic).is_err());
        let zero_w = aggregate(
            &[&a, &[None, Some(3.0)]],
            &[0.0, 1.0],
            &Aggregation::Arithmetic,
        );
        assert_eq!(zero_w.unwrap_err(), EngineError::ZeroWeightSum { unit: 0 });
    }

    #[test]
    fn copeland_by_hand() {
        // Units A, B, C; three equally weighted children.
        let c1 = [Some(3.0), Some(2.0), Some(1.0)];
        let c2 = [Some(1.0), Some(2.0), Some(3.0)];
        let c3 = [Some(3.0), Some(1.0), Some(2.0)];
        // A vs B: A wins c1, c3 → 2/3 → +1 / −1. A vs C: wins c1, c3 → +1 / −1.
        // B vs C: B wins c1, loses c2, c3 → 1/3 → −1 / +1.
        let out = aggregate(&[&c1, &c2, &c3], &[1.0, 1.0, 1.0], &Aggregation::Copeland).unwrap();
        close(&out, &[Some(2.0), Some(-2.0), Some(0.0)]);
        // Weights change the outcome: c2 with weight 3 makes C beat A (3/5 > 1/2).
        let out = aggregate(&[&c1, &c2, &c3], &[1.0, 3.0, 1.0], &Aggregation::Copeland).unwrap();
        // A vs B: 2/5 → −1/+1; A vs C: 2/5 → −1/+1; B vs C: 1/5 → −1/+1.
        close(&out, &[Some(-2.0), Some(0.0), Some(2.0)]);
    }

    #[test]
    fn copeland_ties_and_missing() {
        // Relative weights 0.1/0.2/0.2 scale to 0.2/0.4/0.4.
        let c1 = [Some(1.0), Some(1.0), Some(0.0), None];
        let c2 = [Some(5.0), Some(4.0), Some(9.0), None];
        let c3 = [Some(2.0), Some(3.0), None, None];
        let out = aggregate(&[&c1, &c2, &c3], &[0.1, 0.2, 0.2], &Aggregation::Copeland).unwrap();
        // A vs B: c1 tie, c2 A, c3 B: O_AB = 0.4 + 0.2/2 = 0.5 → tie → 0 each.
        // A vs C: c1 A (0.2), c2 C, c3 missing → 0.2 → A −1, C +1.
        // B vs C: same → B −1, C +1. D has no value → None.
        close(&out, &[Some(-1.0), Some(-1.0), Some(2.0), None]);
    }

    #[test]
    fn requires_positive() {
        assert!(Aggregation::Geometric.requires_positive());
        assert!(Aggregation::Harmonic.requires_positive());
        assert!(Aggregation::Generalised { p: -1.0 }.requires_positive());
        assert!(!Aggregation::Generalised { p: 2.0 }.requires_positive());
        assert!(Aggregation::Generalised { p: 2.0 }.requires_non_negative());
        assert!(!Aggregation::Arithmetic.requires_positive());
        assert!(!Aggregation::Copeland.requires_non_negative());
    }

    #[test]
    fn serde_format() {
        #[derive(Deserialize, Serialize)]
        struct W {
            a: Aggregation,
        }
        let w: W = toml::from_str(r#"a = { method = "generalised", p = 0.5 }"#).unwrap();
        assert_eq!(w.a, Aggregation::Generalised { p: 0.5 });
        let w: W = toml::from_str(r#"a = { method = "arithmetic" }"#).unwrap();
        assert_eq!(w.a, Aggregation::Arithmetic);
        for a in [
            Aggregation::Geometric,
            Aggregation::Harmonic,
            Aggregation::Copeland,
        ] {
            let s = toml::to_string(&W { a: a.clone() }).unwrap();
            assert_eq!(toml::from_str::<W>(&s).unwrap().a, a);
        }
    }
}
