//! The difference-trend rule (差分趋势); the rule and its reasons are in the module docs of
//! [`super`].

use super::{ClassifyError, DifferenceParams};

/// One admissible cut: between `desc[i]` and `desc[i + 1]` of the descending scores.
struct Candidate {
    i: usize,
    gap: f64,
    ratio: f64,
}

/// The jump ratio of every gap of the descending scores `desc` (the rule's steps 2–4).
pub(super) fn jump_ratios(desc: &[f64], window: usize) -> Vec<f64> {
    let gaps: Vec<f64> = desc.windows(2).map(|w| w[0] - w[1]).collect();
    let half = window / 2;
    let min_positive = gaps
        .iter()
        .copied()
        .filter(|&g| g > 0.0)
        .fold(f64::INFINITY, f64::min);
    let mut buf = Vec::with_capacity(2 * half + 1);
    (0..gaps.len())
        .map(|i| {
            buf.clear();
            buf.extend_from_slice(&gaps[i.saturating_sub(half)..(i + half + 1).min(gaps.len())]);
            buf.sort_unstable_by(f64::total_cmp);
            let m = buf.len();
            let trend = if m % 2 == 1 {
                buf[m / 2]
            } else {
                (buf[m / 2 - 1] + buf[m / 2]) / 2.0
            };
            if trend > 0.0 {
                gaps[i] / trend
            } else {
                gaps[i] / min_positive
            }
        })
        .collect()
}

/// Breaks `[min, b1, …, max]` of validated ascending `s` (`k ≤ distinct values`).
pub(super) fn breaks_sorted(
    s: &[f64],
    k: usize,
    p: &DifferenceParams,
) -> Result<Vec<f64>, ClassifyError> {
    if p.window == 0 {
        return Err(ClassifyError::ZeroWindow);
    }
    if !(0.0..1.0).contains(&p.min_class_share) {
        return Err(ClassifyError::BadClassShare(p.min_class_share));
    }
    let n = s.len();
    let min_size = ((p.min_class_share * n as f64).ceil() as usize).max(1);
    let mut breaks = vec![s[0]; k + 1];
    breaks[k] = s[n - 1];
    if k == 1 {
        return Ok(breaks);
    }
    let desc: Vec<f64> = s.iter().rev().copied().collect();
    let ratios = jump_ratios(&desc, p.window);
    let mut cands: Vec<Candidate> = ratios
        .iter()
        .enumerate()
        .map(|(i, &ratio)| Candidate {
            i,
            gap: desc[i] - desc[i + 1],
            ratio,
        })
        .filter(|c| c.gap > 0.0)
        .collect();
    // Descending ratio, then larger gap, then the cut between higher scores (smaller i).
    cands.sort_by(|a, b| {
        b.ratio
            .total_cmp(&a.ratio)
            .then(b.gap.total_cmp(&a.gap))
            .then(a.i.cmp(&b.i))
    });
    // Accepted cuts as "number of units above the cut" (i + 1), kept sorted.
    let mut cuts: Vec<usize> = Vec::with_capacity(k - 1);
    for c in &cands {
        if cuts.len() == k - 1 {
            break;
        }
        let pos = c.i + 1;
        let at = cuts.partition_point(|&x| x < pos);
        let above = if at == 0 { 0 } else { cuts[at - 1] };
        let below = cuts.get(at).copied().unwrap_or(n);
        if pos - above >= min_size && below - pos >= min_size {
            cuts.insert(at, pos);
        }
    }
    if cuts.len() < k - 1 {
        return Err(ClassifyError::NotEnoughCuts {
            k,
            found: cuts.len(),
            min_size,
        });
    }
    // A cut after `pos` descending units leaves `n − pos` units below: the top of the class
    // below is the ascending value at index n − pos − 1. Higher cuts are higher breaks.
    for (j, &pos) in cuts.iter().rev().enumerate() {
        breaks[j + 1] = s[n - pos - 1];
    }
    Ok(breaks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_is_a_truncated_centred_median() {
        // desc gaps: 1, 1, 4, 1, 1 ; window 3 → half 1.
        let desc = [10.0, 9.0, 8.0, 4.0, 3.0, 2.0];
        let r = jump_ratios(&desc, 3);
        // i=0: median(1,1)=1 → 1; i=2: median(1,4,1)=1 → 4; i=4: median(1,1)=1 → 1.
        assert_eq!(r, vec![1.0, 1.0, 4.0, 1.0, 1.0]);
        // window 4 → half 2; i=0: gaps 1,1,4 → median 1; i=1: 1,1,4,1 → (1+1)/2.
        let r = jump_ratios(&desc, 4);
        assert_eq!(r[2], 4.0);
    }

    #[test]
    fn zero_trend_divides_by_the_smallest_positive_gap() {
        // gaps 0, 0, 2, 0, 0.5: at i=2 the window-3 median of (0, 2, 0) is 0.
        let desc = [9.0, 9.0, 9.0, 7.0, 7.0, 6.5];
        let r = jump_ratios(&desc, 3);
        assert_eq!(r[2], 2.0 / 0.5);
        assert_eq!(r[0], 0.0);
    }
}
