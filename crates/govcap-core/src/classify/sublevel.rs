//! Sub-levels inside classes (A+, A, A-).

use super::{quantile, sorted, Classes, SublevelMethod};

/// For each value whose class is in `with_sublevels`, its sub-level `0..n` inside that class
/// (0 = lowest); `None` for values of other classes, and for every value when `n` is 0.
///
/// * [`SublevelMethod::EqualWidth`] splits `[class min, class max]` into `n` bands of equal
///   width; a value on a band edge belongs to the band above (an edge is a band's lowest score,
///   like a cut line). A class whose values are all equal is sub-level 0.
/// * [`SublevelMethod::Quantile`] splits the class into `n` groups of equal count, moving each
///   cut to the nearest boundary between distinct values (as [`super::Method::Quantile`]); when
///   the class has fewer distinct values than `n`, some sub-levels stay empty.
///
/// Either way a sub-level is a function of the value alone within its class, so equal values
/// always share one.
///
/// # Panics
///
/// If `classes.class_of` does not have one entry per value.
pub fn sublevels(
    values: &[f64],
    classes: &Classes,
    with_sublevels: &[usize],
    n: usize,
    method: SublevelMethod,
) -> Vec<Option<usize>> {
    assert_eq!(
        values.len(),
        classes.class_of.len(),
        "sublevels: the classes were computed for a different number of values"
    );
    let mut out = vec![None; values.len()];
    if n == 0 {
        return out;
    }
    let k = classes.counts.len();
    for class in 0..k {
        if !with_sublevels.contains(&class) {
            continue;
        }
        let members: Vec<usize> = (0..values.len())
            .filter(|&i| classes.class_of[i] == class)
            .collect();
        if members.is_empty() {
            continue;
        }
        let member_values: Vec<f64> = members.iter().map(|&i| values[i]).collect();
        // Lower edges of sub-levels 1..n: a value's sub-level is the number of edges ≤ it.
        let edges: Vec<f64> = match method {
            SublevelMethod::EqualWidth => {
                let (lo, hi) = super::min_max(&member_values);
                let width = (hi - lo) / n as f64;
                if width > 0.0 {
                    (1..n).map(|b| lo + width * b as f64).collect()
                } else {
                    Vec::new()
                }
            }
            SublevelMethod::Quantile => {
                let s = sorted(&member_values);
                quantile::cut_positions(&s, n)
                    .into_iter()
                    .map(|p| s.get(p).copied().unwrap_or(f64::INFINITY))
                    .collect()
            }
        };
        for (&i, &v) in members.iter().zip(&member_values) {
            out[i] = Some(edges.iter().filter(|&&e| v >= e).count());
        }
    }
    out
}
