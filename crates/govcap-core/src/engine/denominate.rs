//! Denomination: turn an extensive count into an intensive rate (per capita, per GDP, per area)
//! so that large and small units can be compared.
//!
//! Mirrors COINr's `Denominate()` (`R/denominate.R`, MIT, © 2022 William Becker), which divides by
//! `denominator / ScaleFactor`. A missing denominator gives a missing value; a zero denominator is
//! an error naming the unit position, because COINr's `Inf` would wreck every later step.

pub use super::normalise::EngineError;

/// `x / denom · scale` per unit (computed as COINr does, `x / (denom / scale)`).
///
/// Missing `x` or missing denominator → missing. Zero denominator where `x` is observed → error.
pub fn denominate(
    x: &[Option<f64>],
    denom: &[Option<f64>],
    scale: f64,
) -> Result<Vec<Option<f64>>, EngineError> {
    if denom.len() != x.len() {
        return Err(EngineError::LengthMismatch {
            what: "denomination: denominator column",
            expected: x.len(),
            found: denom.len(),
        });
    }
    if !scale.is_finite() || scale == 0.0 {
        return Err(EngineError::InvalidParameter {
            method: "denomination",
            reason: format!("the scale factor must be a finite non-zero number, not {scale}"),
        });
    }
    x.iter()
        .zip(denom)
        .enumerate()
        .map(|(position, (v, d))| match (v, d) {
            (Some(v), Some(d)) => {
                for value in [*v, *d] {
                    if !value.is_finite() {
                        return Err(EngineError::NonFinite {
                            step: "denomination",
                            position,
                            value,
                        });
                    }
                }
                if *d == 0.0 {
                    return Err(EngineError::ZeroDenominator { position });
                }
                Ok(Some(v / (d / scale)))
            }
            _ => Ok(None),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divides_and_scales() {
        let x = [Some(10.0), Some(3.0), None, Some(5.0)];
        let d = [Some(4.0), None, Some(2.0), Some(0.5)];
        assert_eq!(
            denominate(&x, &d, 1.0).unwrap(),
            vec![Some(2.5), None, None, Some(10.0)]
        );
        // Per 10,000 residents.
        assert_eq!(
            denominate(&[Some(3.0)], &[Some(60000.0)], 10000.0).unwrap(),
            vec![Some(0.5)]
        );
    }

    #[test]
    fn zero_denominator_names_the_position() {
        let e = denominate(&[Some(1.0), Some(2.0)], &[Some(1.0), Some(0.0)], 1.0).unwrap_err();
        assert_eq!(e, EngineError::ZeroDenominator { position: 1 });
        assert!(e.to_string().contains("position 1"), "{e}");
        // A zero denominator for a unit without a value is harmless.
        assert_eq!(denominate(&[None], &[Some(0.0)], 1.0).unwrap(), vec![None]);
    }

    #[test]
    fn rejects_bad_shapes_and_scales() {
        assert!(matches!(
            denominate(&[Some(1.0)], &[], 1.0),
            Err(EngineError::LengthMismatch { .. })
        ));
        assert!(denominate(&[Some(1.0)], &[Some(1.0)], 0.0).is_err());
        assert!(matches!(
            denominate(&[Some(f64::INFINITY)], &[Some(1.0)], 1.0),
            Err(EngineError::NonFinite { position: 0, .. })
        ));
    }
}
